//! Server events in the system account (nats-server's `events.go`): client
//! CONNECT and DISCONNECT advisories, per-account connection counts (CONNS),
//! failed logins (AUTH.ERR), periodic STATSZ and SHUTDOWN — with the subjects and
//! JSON of the reference. Events are queued for the internal loop, which
//! publishes them into the system account only, so no application account
//! ever sees them, and no client's task does the fan-out.
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::accounts::Account;
use crate::client::{ClientMeta, CloseReason};
use crate::info::COMPAT_VERSION;
use crate::server::Server;

/// First STATSZ after start; the interval then doubles up to [`STATSZ_INTERVAL_MAX`].
pub const STATSZ_FIRST: Duration = Duration::from_millis(250);
/// Steady STATSZ interval.
pub const STATSZ_INTERVAL_MAX: Duration = Duration::from_secs(10);

const CONNECT_TYPE: &str = "io.nats.server.advisory.v1.client_connect";
const DISCONNECT_TYPE: &str = "io.nats.server.advisory.v1.client_disconnect";
const CONNS_TYPE: &str = "io.nats.server.advisory.v1.account_connections";

/// A time as Go's RFC 3339 with nanoseconds writes it: UTC, trailing zeros of
/// the fraction dropped.
pub fn go_time(t: SystemTime) -> String {
    let full = DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Nanos, true);
    // "....ss.nnnnnnnnnZ": trim zeros of the fraction, and the dot if none is left.
    let Some(body) = full.strip_suffix('Z') else {
        return full;
    };
    match body.split_once('.') {
        Some((whole, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                format!("{whole}Z")
            } else {
                format!("{whole}.{frac}Z")
            }
        }
        None => full,
    }
}

/// A 22-character unique event id.
fn event_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rngs::StdRng::from_os_rng();
    (0..22)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[derive(Debug, Serialize)]
struct FeatureFlags {
    js_ack_fc_v2: bool,
    js_api_reply_v2: bool,
    js_raft_delete_range: bool,
    js_snapshot_sources: bool,
}

/// The `server` object in every event and reply.
#[derive(Debug, Serialize)]
pub struct ServerObject {
    name: String,
    host: String,
    id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    cluster: String,
    ver: &'static str,
    feature_flags: FeatureFlags,
    jetstream: bool,
    flags: u32,
    seq: u64,
    time: String,
}

/// The `client` object of CONNECT, DISCONNECT and AUTH.ERR.
#[derive(Debug, Serialize)]
struct ClientObject {
    start: String,
    host: String,
    id: u64,
    acc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    lang: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    ver: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rtt: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<String>,
    /// Operator mode: the user JWT, and the key that signed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    jwt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer_key: Option<String>,
    name_tag: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    kind: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    client_type: &'static str,
}

/// `$SYS.ACCOUNT.<acc>.LEAFNODE.CONNECT` and `.DISCONNECT`.
#[derive(Debug, Serialize)]
struct LeafNodeEvent {
    server: ServerObject,
    acc: String,
}

#[derive(Debug, Serialize, Default, Clone, Copy)]
pub struct DataStats {
    pub msgs: u64,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct AccountDataStats {
    msgs: u64,
    bytes: u64,
    gateways: DataStats,
    routes: DataStats,
    leafs: DataStats,
}

impl From<DataStats> for AccountDataStats {
    fn from(d: DataStats) -> Self {
        AccountDataStats {
            msgs: d.msgs,
            bytes: d.bytes,
            gateways: DataStats::default(),
            routes: DataStats::default(),
            leafs: DataStats::default(),
        }
    }
}

#[derive(Debug, Serialize)]
struct ConnectEvent {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    timestamp: String,
    server: ServerObject,
    client: ClientObject,
}

#[derive(Debug, Serialize)]
struct DisconnectEvent {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    timestamp: String,
    server: ServerObject,
    client: ClientObject,
    sent: DataStats,
    received: DataStats,
    reason: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ConnsEvent {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    timestamp: String,
    server: ServerObject,
    acc: String,
    name: String,
    conns: usize,
    leafnodes: usize,
    total_conns: usize,
    num_subscriptions: usize,
    sent: AccountDataStats,
    received: AccountDataStats,
    slow_consumers: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct StatszBody {
    start: String,
    mem: u64,
    cores: usize,
    cpu: f64,
    connections: usize,
    total_connections: u64,
    active_accounts: usize,
    subscriptions: usize,
    sent: DataStats,
    sent_to_clients: DataStats,
    received: DataStats,
    received_from_clients: DataStats,
    slow_consumers: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    routes: Vec<RouteStat>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    gateways: Vec<GatewayStat>,
    active_servers: usize,
    gomaxprocs: usize,
}

/// One other cluster of STATSZ: the outbound connection to it, and the
/// inbound ones from its servers.
#[derive(Debug, Serialize)]
struct GatewayStat {
    gwid: u64,
    name: String,
    sent: DataStats,
    received: DataStats,
    inbound_connections: usize,
}

/// One route of STATSZ.
#[derive(Debug, Serialize)]
struct RouteStat {
    rid: u64,
    name: String,
    sent: DataStats,
    received: DataStats,
    pending: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct StatszEvent {
    server: ServerObject,
    statsz: StatszBody,
}

/// What an event needs to know about one client.
#[derive(Debug, Clone)]
pub struct ClientFacts {
    pub cid: u64,
    pub meta: ClientMeta,
    pub account: String,
    /// Round trip, nanoseconds (0 = not measured).
    pub rtt_ns: u64,
    /// What the client sent (the server received).
    pub sent: DataStats,
    /// What the client was sent.
    pub received: DataStats,
    /// A leaf node connection, not a client.
    pub leaf: bool,
}

impl ClientFacts {
    fn object(&self, stop: Option<SystemTime>, user: Option<String>) -> ClientObject {
        ClientObject {
            start: go_time(self.meta.start),
            host: self.meta.addr.ip().to_string(),
            id: self.cid,
            acc: self.account.clone(),
            user,
            name: self.meta.name.clone(),
            lang: self.meta.lang.clone(),
            ver: self.meta.version.clone(),
            rtt: stop.map(|_| self.rtt_ns),
            stop: stop.map(go_time),
            jwt: self.meta.jwt.as_ref().map(|j| j.0.clone()),
            issuer_key: self.meta.jwt.as_ref().map(|j| j.1.issuer.clone()),
            name_tag: match &self.meta.jwt {
                Some(j) => j.1.account_name.clone(),
                None => self.account.clone(),
            },
            tags: self
                .meta
                .jwt
                .as_ref()
                .map_or_else(Vec::new, |j| j.1.tags.clone()),
            kind: if self.leaf { "Leafnode" } else { "Client" },
            client_type: if self.leaf { "" } else { "nats" },
        }
    }
}

impl Server {
    /// The `server` object, with the next sequence number.
    pub fn server_object(&self) -> ServerObject {
        ServerObject {
            name: self.name().to_string(),
            host: self.options().host.clone(),
            id: self.id().to_string(),
            cluster: self.cluster_name(),
            ver: COMPAT_VERSION,
            feature_flags: FeatureFlags {
                js_ack_fc_v2: false,
                js_api_reply_v2: false,
                js_raft_delete_range: true,
                js_snapshot_sources: false,
            },
            jetstream: false,
            flags: 0,
            seq: self.next_event_seq(),
            time: go_time(SystemTime::now()),
        }
    }

    fn publish_event<T: Serialize>(&self, subject: &str, body: &T) {
        let Some(system) = self.system_account() else {
            return;
        };
        match serde_json::to_vec(body) {
            Ok(json) => self.internal().send(&system, subject, json),
            Err(e) => tracing::error!("Could not encode the event for {subject}: {e}"),
        }
    }

    /// CONNS on both subjects, for a change in `account`'s connections.
    pub(crate) fn account_conns_event(&self, account: &Account) {
        if self.system_account().is_none() {
            return;
        }
        let event = self.conns_message(account);
        let acc = &account.name;
        self.publish_event(&format!("$SYS.SERVER.ACCOUNT.{acc}.CONNS"), &event);
        self.publish_event(&format!("$SYS.ACCOUNT.{acc}.SERVER.CONNS"), &event);
    }

    /// The CONNS advisory for `account` (also `$SYS.REQ.ACCOUNT.<acc>.CONNS`).
    pub(crate) fn conns_message(&self, account: &Account) -> ConnsEvent {
        let conns = account.num_clients();
        ConnsEvent {
            kind: CONNS_TYPE,
            id: event_id(),
            timestamp: go_time(SystemTime::now()),
            server: self.server_object(),
            acc: account.name.clone(),
            name: account.name.clone(),
            conns,
            leafnodes: account.num_leafs(),
            total_conns: conns + account.num_leafs(),
            num_subscriptions: account.sublist.count(),
            sent: account.sent().into(),
            received: account.received().into(),
            slow_consumers: account.slow_consumers(),
        }
    }

    /// A client authenticated into its account: CONNS then CONNECT.
    pub(crate) fn client_connect_event(&self, account: &Account, facts: &ClientFacts) {
        if self.system_account().is_none() {
            return;
        }
        self.account_conns_event(account);
        let event = ConnectEvent {
            kind: CONNECT_TYPE,
            id: event_id(),
            timestamp: go_time(SystemTime::now()),
            server: self.server_object(),
            client: facts.object(None, facts.meta.user.clone()),
        };
        self.publish_event(&format!("$SYS.ACCOUNT.{}.CONNECT", account.name), &event);
    }

    /// A client closed: CONNS (when it had joined `account`) then DISCONNECT.
    pub(crate) fn client_disconnect_event(
        &self,
        account: Option<&Account>,
        facts: &ClientFacts,
        reason: CloseReason,
        user: Option<String>,
    ) {
        if self.system_account().is_none() {
            return;
        }
        if let Some(account) = account {
            self.account_conns_event(account);
        }
        let now = SystemTime::now();
        let event = DisconnectEvent {
            kind: DISCONNECT_TYPE,
            id: event_id(),
            timestamp: go_time(now),
            server: self.server_object(),
            client: facts.object(Some(now), user),
            sent: facts.sent,
            received: facts.received,
            reason: reason.to_string(),
        };
        self.publish_event(
            &format!("$SYS.ACCOUNT.{}.DISCONNECT", facts.account),
            &event,
        );
    }

    /// A leaf node connected into `account` (on the hub): CONNS, CONNECT
    /// (as a `Leafnode` client), and `$SYS.ACCOUNT.<acc>.LEAFNODE.CONNECT`.
    pub(crate) fn leaf_connect_event(&self, account: &Account, facts: &ClientFacts) {
        if self.system_account().is_none() {
            return;
        }
        self.client_connect_event(account, facts);
        let event = LeafNodeEvent {
            server: self.server_object(),
            acc: account.name.clone(),
        };
        self.publish_event(
            &format!("$SYS.ACCOUNT.{}.LEAFNODE.CONNECT", account.name),
            &event,
        );
    }

    /// A leaf node left `account` (on the hub): CONNS, DISCONNECT, and
    /// `$SYS.ACCOUNT.<acc>.LEAFNODE.DISCONNECT` (which the reference's
    /// documentation describes and 2.15 never sends).
    pub(crate) fn leaf_disconnect_event(
        &self,
        account: &Account,
        facts: &ClientFacts,
        reason: CloseReason,
    ) {
        if self.system_account().is_none() {
            return;
        }
        self.client_disconnect_event(Some(account), facts, reason, facts.meta.user.clone());
        let event = LeafNodeEvent {
            server: self.server_object(),
            acc: account.name.clone(),
        };
        self.publish_event(
            &format!("$SYS.ACCOUNT.{}.LEAFNODE.DISCONNECT", account.name),
            &event,
        );
    }

    /// A login failed: AUTH.ERR with the user the client tried.
    pub(crate) fn auth_error_event(&self, facts: &ClientFacts, user: Option<String>) {
        if self.system_account().is_none() {
            return;
        }
        let now = SystemTime::now();
        let event = DisconnectEvent {
            kind: DISCONNECT_TYPE,
            id: event_id(),
            timestamp: go_time(now),
            server: self.server_object(),
            client: facts.object(Some(now), user),
            sent: facts.sent,
            received: facts.received,
            reason: CloseReason::AuthenticationViolation.to_string(),
        };
        self.publish_event(
            &format!("$SYS.SERVER.{}.CLIENT.AUTH.ERR", self.id()),
            &event,
        );
    }

    /// SHUTDOWN: the server object alone.
    pub(crate) fn shutdown_event(&self) {
        let body = self.server_object();
        self.publish_event(&format!("$SYS.SERVER.{}.SHUTDOWN", self.id()), &body);
    }

    /// STATSZ. The server listens for other servers' STATSZ itself, so it
    /// always goes out, as the reference's does.
    pub(crate) fn statsz_event(&self) {
        if self.system_account().is_none() {
            return;
        }
        let subject = format!("$SYS.SERVER.{}.STATSZ", self.id());
        let event = self.statsz_message();
        self.publish_event(&subject, &event);
    }

    /// The STATSZ message (also the `$SYS.REQ.SERVER.PING` reply).
    pub(crate) fn statsz_message(&self) -> StatszEvent {
        let varz = crate::monitor::collect_varz(self);
        let sent = DataStats {
            msgs: varz.out_msgs,
            bytes: varz.out_bytes,
        };
        let received = DataStats {
            msgs: varz.in_msgs,
            bytes: varz.in_bytes,
        };
        let sent_to_clients = DataStats {
            msgs: varz.out_client_msgs,
            bytes: varz.out_client_bytes,
        };
        let received_from_clients = DataStats {
            msgs: varz.in_client_msgs,
            bytes: varz.in_client_bytes,
        };
        let routes: Vec<RouteStat> = self
            .cluster()
            .map(|c| c.snapshots(false))
            .unwrap_or_default()
            .into_iter()
            .map(|r| RouteStat {
                rid: r.rid,
                name: r.peer.name,
                sent: DataStats {
                    msgs: r.out_msgs,
                    bytes: r.out_bytes,
                },
                received: DataStats {
                    msgs: r.in_msgs,
                    bytes: r.in_bytes,
                },
                pending: r.pending_bytes,
            })
            .collect();
        let gateways = self.gateways().map_or_else(Vec::new, |g| gateway_stats(g));
        StatszEvent {
            server: self.server_object(),
            statsz: StatszBody {
                start: go_time(self.start_time()),
                mem: varz.mem,
                cores: varz.cores,
                cpu: varz.cpu,
                connections: varz.connections,
                total_connections: varz.total_connections,
                active_accounts: self.active_accounts(),
                subscriptions: varz.subscriptions,
                sent,
                sent_to_clients,
                received,
                received_from_clients,
                slow_consumers: varz.slow_consumers,
                active_servers: 1 + self
                    .cluster()
                    .map_or(0, |c| c.num_peers())
                    .max(self.known_remote_servers()),
                routes,
                gateways,
                gomaxprocs: varz.cores,
            },
        }
    }
}

/// STATSZ's `gateways`: per other cluster, what went out on the outbound
/// connection and what came in on the inbound ones.
fn gateway_stats(gateways: &crate::gateway::Gateways) -> Vec<GatewayStat> {
    use std::sync::atomic::Ordering;
    let inbound = gateways.inbound();
    gateways
        .outbound()
        .iter()
        .map(|gw| {
            let name = gw.remote_name();
            let (msgs, bytes) = {
                let p = gw.outbound.lock();
                (p.out_msgs, p.out_bytes)
            };
            let from: Vec<_> = inbound.iter().filter(|i| i.remote_name() == name).collect();
            GatewayStat {
                gwid: gw.gid,
                sent: DataStats { msgs, bytes },
                received: DataStats {
                    msgs: from.iter().map(|i| i.in_msgs.load(Ordering::Relaxed)).sum(),
                    bytes: from
                        .iter()
                        .map(|i| i.in_bytes.load(Ordering::Relaxed))
                        .sum(),
                },
                inbound_connections: from.len(),
                name,
            }
        })
        .collect()
}

/// Sends STATSZ with the reference's cadence until the server shuts down.
pub(crate) async fn statsz_loop(server: Arc<Server>) {
    let mut wait = STATSZ_FIRST;
    loop {
        tokio::time::sleep(wait).await;
        server.statsz_event();
        wait = (wait * 2).min(STATSZ_INTERVAL_MAX);
    }
}

/// How often CONNS repeats for an account that has connections.
pub const CONNS_INTERVAL: Duration = Duration::from_secs(30);

/// Repeats CONNS for every account with connections, as the reference does.
pub(crate) async fn conns_loop(server: Arc<Server>) {
    loop {
        tokio::time::sleep(CONNS_INTERVAL).await;
        for account in server.accounts() {
            if account.num_clients() > 0 {
                server.account_conns_event(&account);
            }
        }
    }
}

/// The number of the next internal message.
pub(crate) fn next_seq(counter: &std::sync::atomic::AtomicU64) -> u64 {
    counter.fetch_add(1, Ordering::Relaxed) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_time_drops_trailing_zeros() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_725_990_400);
        assert_eq!(go_time(t), "2023-11-14T22:13:20.7259904Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(go_time(t), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn event_ids_are_22_characters() {
        let a = event_id();
        assert_eq!(a.len(), 22);
        assert_ne!(a, event_id());
    }
}
