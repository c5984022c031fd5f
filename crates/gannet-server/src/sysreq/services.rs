//! Which subjects the system services listen on (nats-server's
//! `initEventTracking` and the system imports of `addSystemAccountExports`):
//! the same subjects as the reference, so that a server with a system account
//! reports the reference's interest and subscription counts.
//!
//! The system's internal client subscribes the request subjects (`serve`
//! answers them) and the event subjects other servers of a cluster send; the
//! latter have no work to do on a lone server and listen for the routes to
//! come. Every other account's internal client subscribes the four services
//! each account imports from the system account.
use std::sync::Arc;

use sha2::Digest;

use super::account_req::IMPORTS;
use crate::accounts::Account;
use crate::internal::{self, Handler, InternalMsg};
use crate::server::Server;

/// Endpoints of `$SYS.REQ.SERVER.PING.<EP>`; `$SYS.REQ.SERVER.<id>.<EP>`
/// also takes [`SERVER_ONLY`].
const PING_ENDPOINTS: &[&str] = &[
    "IDZ",
    "STATSZ",
    "VARZ",
    "SUBSZ",
    "CONNZ",
    "ROUTEZ",
    "GATEWAYZ",
    "LEAFZ",
    "ACCOUNTZ",
    "JSZ",
    "HEALTHZ",
    "EXPVARZ",
    "IPQUEUESZ",
    "PROFILEZ",
    "RAFTZ",
];

/// Endpoints addressed to one server only.
const SERVER_ONLY: &[&str] = &["KICK", "LDM", "RELOAD"];

/// Endpoints of `$SYS.REQ.ACCOUNT.<acc>.<EP>`.
const ACCOUNT_ENDPOINTS: &[&str] = &[
    "JSZ",
    "INFO",
    "STATZ",
    "CONNS",
    "SUBSZ",
    "CONNZ",
    "LEAFZ",
    "CLAIMS.UPDATE",
];

/// Other request subjects of the system account.
const OTHER_REQUESTS: &[&str] = &[
    "$SYS.REQ.SERVER.PING",
    "$SYS.REQ.ACCOUNT.PING.STATZ",
    "$SYS.REQ.ACCOUNT.NSUBS",
    "$SYS.REQ.USER.*.INFO",
];

/// Event subjects listened to for the other servers of a cluster.
const CLUSTER_EVENTS: &[&str] = &[
    "$SYS.ACCOUNT.*.CLAIMS.UPDATE",
    "$SYS.ACCOUNT.*.LEAFNODE.CONNECT",
    "$SYS.DEBUG.SUBSCRIBERS",
    "$SYS.SERVER.ACCOUNT.*.CONNS",
    "$SYS.SERVER.*.STATSZ",
    "$SYS.SERVER.*.SHUTDOWN",
    "$SYS.SERVER.*.LAMEDUCK",
];

/// An eight-character tag of the server's name, as the reference makes the
/// server's own reply and latency subjects unique.
fn short_hash(name: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    sha2::Sha256::digest(name.as_bytes())
        .iter()
        .take(8)
        .map(|b| ALPHABET[usize::from(b & 63)] as char)
        .collect()
}

/// The subjects the system's internal client subscribes, in the system account.
pub(crate) fn system_subjects(server_id: &str, server_name: &str) -> Vec<String> {
    let hash = short_hash(server_name);
    let mut subjects = Vec::new();
    for ep in PING_ENDPOINTS.iter().chain(SERVER_ONLY) {
        subjects.push(format!("$SYS.REQ.SERVER.{server_id}.{ep}"));
    }
    for ep in PING_ENDPOINTS {
        subjects.push(format!("$SYS.REQ.SERVER.PING.{ep}"));
    }
    for ep in ACCOUNT_ENDPOINTS {
        subjects.push(format!("$SYS.REQ.ACCOUNT.*.{ep}"));
    }
    subjects.extend(OTHER_REQUESTS.iter().map(|s| (*s).to_string()));
    subjects.extend(CLUSTER_EVENTS.iter().map(|s| (*s).to_string()));
    subjects.push(format!("$SYS._INBOX_.{server_id}"));
    subjects.push(format!("$SYS._INBOX.{hash}.*"));
    subjects.push(format!("$SYS.LATENCY.M2.{hash}"));
    subjects
}

/// Runs a request service, or nothing for an event.
fn handler() -> Handler {
    Arc::new(|server: &Server, msg: &InternalMsg| {
        if msg.subject == crate::resolver::PACK_SUBJECT.as_bytes() {
            if let Some(reply) = msg.reply_str() {
                crate::resolver::answer_pack(server, reply, &msg.payload);
            }
        } else if msg.subject.ends_with(b".PACK") && msg.subject.starts_with(b"$SYS._INBOX_.") {
            crate::resolver::merge_pack(server, &msg.payload);
        } else if msg.subject.starts_with(super::REQ_PREFIX.as_bytes()) {
            super::serve(server, msg);
        } else if msg.subject.ends_with(b".CLAIMS.UPDATE") {
            super::claims_event(server, msg);
        } else if msg.subject.starts_with(b"$SYS.SERVER.ACCOUNT.")
            && msg.subject.ends_with(b".CONNS")
        {
            // Another server's connections in an account: the JWT limits
            // count them.
            server.remote_conns_update(&msg.payload);
        } else if let Some(rest) = msg.subject.strip_prefix(b"$SYS.SERVER.") {
            // Another server's heartbeat or farewell: what `active_servers` counts.
            let rest = String::from_utf8_lossy(rest);
            if let Some(id) = rest.strip_suffix(".STATSZ") {
                server.note_remote_server(id);
            } else if let Some(id) = rest.strip_suffix(".SHUTDOWN") {
                server.forget_remote_server(id);
                server.forget_remote_conns(id);
            }
        }
    })
}

/// Subscribes the system services in `system`, as internal client `cid`.
pub(crate) fn subscribe_services(server: &Server, system: &Arc<Account>, cid: u64) {
    let handler = handler();
    let mut subjects = system_subjects(server.id(), server.name());
    if crate::resolver::dir(server).is_some() {
        subjects.extend(crate::resolver::SUBJECTS.iter().map(|s| (*s).to_string()));
        subjects.push(crate::resolver::PACK_SUBJECT.to_string());
        subjects.push(crate::resolver::pack_inbox(server));
    }
    for (sid, subject) in subjects.iter().enumerate() {
        if let Some(sub) =
            internal::subscribe(system, cid, subject, sid as u64 + 1, handler.clone())
        {
            server.register_internal(sub);
        }
    }
}

/// Subscribes the system services `account` imports, as its internal client
/// `cid`: the four shared services in an application account, `USER.INFO`
/// alone in the system account (it has the rest already).
pub(crate) fn subscribe_account_imports(
    server: &Server,
    account: &Arc<Account>,
    cid: u64,
    is_system: bool,
) {
    let handler = handler();
    let subjects = IMPORTS
        .iter()
        .map(|(local, _, _)| *local)
        .filter(|local| !is_system || *local == "$SYS.REQ.USER.INFO");
    for (sid, subject) in subjects.enumerate() {
        if let Some(sub) =
            internal::subscribe(account, cid, subject, sid as u64 + 1, handler.clone())
        {
            server.register_internal(sub);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_client_subscribes_what_the_reference_does() {
        let subjects = system_subjects("NID", "name");
        assert_eq!(subjects.len(), 55);
        let unique: std::collections::HashSet<_> = subjects.iter().collect();
        assert_eq!(unique.len(), subjects.len());
        for s in [
            "$SYS.REQ.SERVER.NID.KICK",
            "$SYS.REQ.SERVER.PING.CONNZ",
            "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE",
            "$SYS.SERVER.*.STATSZ",
            "$SYS._INBOX_.NID",
        ] {
            assert!(subjects.iter().any(|x| x == s), "{s} missing");
        }
        assert!(!subjects.iter().any(|x| x == "$SYS.REQ.SERVER.PING.KICK"));
    }
}
