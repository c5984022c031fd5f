//! The system account's request/reply services (nats-server's `events.go`
//! `initEventTracking` handlers and `zReq`): `$SYS.REQ.SERVER.PING[.<EP>]`,
//! `$SYS.REQ.SERVER.<id>.<EP>`, `$SYS.REQ.ACCOUNT.<acc>.<EP>` and
//! `$SYS.REQ.USER.INFO`, with the access rules, options, filters and reply
//! envelopes of the reference (docs/SYSTEM-ACCOUNT.md).
//!
//! The services are internal subscriptions ([`subscribe_services`]) on the
//! subjects the reference subscribes, so interest and subscription counts are
//! the reference's: in the system account, and the four services every other
//! account imports. The internal loop runs [`serve`] for each request, off
//! the requester's task; the reply goes into the requester's account through
//! the server's send queue. The bodies come from the same `monitor` functions
//! that serve HTTP. A monitoring reply ([`Outcome::Data`]) is compressed
//! when the request's `Accept-Encoding` asks ([`crate::encoding`]). Nothing a
//! client sends can panic here: bad options are answered with the error
//! envelope.
mod account_req;
pub(crate) mod claims;
pub(crate) use account_req::account_info;
mod server_req;
mod services;
pub(crate) use services::{subscribe_account_imports, subscribe_services};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use gannet_auth::Permissions;

use crate::accounts::Account;
use crate::encoding::{Encoding, ACCEPT_ENCODING};
use crate::events::ServerObject;
use crate::internal::InternalMsg;
use crate::server::Server;

/// The prefix of every service subject.
pub const REQ_PREFIX: &str = "$SYS.REQ.";

/// Who sent a request: services answer for this identity, never the server's.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    pub account: &'a std::sync::Arc<Account>,
    pub user: Option<&'a str>,
    pub perms: Option<&'a Permissions>,
    /// The requesting client, when a client asked.
    pub client: Option<&'a std::sync::Arc<crate::client::ClientShared>>,
}

/// What a service made of a request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// No service owns the subject (for this requester): the caller may send 503.
    Unknown,
    /// A service owns it but chose not to answer (filtered out, unused account).
    Silent,
    /// The reply body.
    Reply(Vec<u8>),
    /// A monitoring reply's body (nats-server's `zReq` answers): sent
    /// compressed when the request's `Accept-Encoding` asks.
    Data(Vec<u8>),
}

/// Runs the service a request reached: the identity is the publisher's (its
/// user and permissions), in the account of the subscription that matched.
/// A request to a subject the server subscribes but does not serve gets an
/// error reply rather than silence.
/// `$SYS.ACCOUNT.<key>.CLAIMS.UPDATE`, the event form of a claim update:
/// applied, and answered only when it has a reply subject.
pub(crate) fn claims_event(server: &Server, msg: &InternalMsg) {
    let Some(subject) = msg.subject_str() else {
        return;
    };
    let tokens: Vec<&str> = subject.split('.').collect();
    let ["$SYS", "ACCOUNT", key, "CLAIMS", "UPDATE"] = tokens.as_slice() else {
        return;
    };
    let outcome = claims::update(server, key, &msg.payload);
    if let (Outcome::Reply(body), Some(reply), Some(account)) =
        (outcome, msg.reply_str(), msg.sub.account())
    {
        server.internal().send(&account, reply, body);
    }
}

pub(crate) fn serve(server: &Server, msg: &InternalMsg) {
    let (Some(subject), Some(reply), Some(account)) =
        (msg.subject_str(), msg.reply_str(), msg.sub.account())
    else {
        return;
    };
    let origin = msg.origin.as_ref();
    let requester = Requester {
        account: &account,
        user: origin.and_then(|o| o.user.as_deref()),
        perms: origin.and_then(|o| o.perms.as_deref()),
        client: origin.and_then(|o| o.client.as_ref()),
    };
    let encoding = Encoding::asked(
        msg.headers
            .as_deref()
            .and_then(|h| crate::jetstream::headers::get(h, ACCEPT_ENCODING)),
    );
    if !handle(server, &requester, subject, reply, &msg.payload, encoding) {
        let ep = subject.rsplit('.').next().unwrap_or(subject);
        let text = format!("{ep} is not supported by this server");
        if let Outcome::Reply(body) = error_reply(server, 501, &text) {
            server.internal().send(&account, reply, body);
        }
    }
}

/// Answers `subject` if it is a service this requester may use. Returns true
/// when a service owns the subject (answered or deliberately silent).
fn handle(
    server: &Server,
    requester: &Requester<'_>,
    subject: &str,
    reply: &str,
    payload: &[u8],
    encoding: Encoding,
) -> bool {
    let Some(rest) = subject.strip_prefix(REQ_PREFIX) else {
        return false;
    };
    // A published subject is literal: `*` and `>` name no account or server.
    if rest
        .split('.')
        .any(|t| t.is_empty() || t == "*" || t == ">")
    {
        return false;
    }
    let is_system = server
        .system_account()
        .is_some_and(|s| std::sync::Arc::ptr_eq(&s, requester.account));
    let outcome = if is_system {
        system_request(server, requester, rest, payload)
    } else {
        imported_request(server, requester, rest, payload)
    };
    match outcome {
        Outcome::Unknown => false,
        Outcome::Silent => true,
        Outcome::Reply(body) => {
            server.internal().send(requester.account, reply, body);
            true
        }
        Outcome::Data(body) => {
            server
                .internal()
                .send_encoded(requester.account, reply, body, encoding);
            true
        }
    }
}

/// The four services every other account imports, scoped to that account.
fn imported_request(
    server: &Server,
    requester: &Requester<'_>,
    rest: &str,
    payload: &[u8],
) -> Outcome {
    let own = requester.account.name.as_str();
    match rest {
        "SERVER.PING.CONNZ" | "ACCOUNT.PING.CONNZ" => {
            account_req::account_request(server, own, "CONNZ", payload)
        }
        "ACCOUNT.PING.STATZ" => account_req::account_request(server, own, "STATZ", payload),
        "USER.INFO" => account_req::user_info(server, requester),
        _ => Outcome::Unknown,
    }
}

/// Every service, as the system account sees them.
fn system_request(
    server: &Server,
    requester: &Requester<'_>,
    rest: &str,
    payload: &[u8],
) -> Outcome {
    let tokens: Vec<&str> = rest.split('.').collect();
    match tokens.as_slice() {
        ["USER", "INFO"] => account_req::user_info(server, requester),
        ["SERVER", "PING"] => server_req::server_request(server, "STATSZ", payload),
        ["SERVER", "PING", ep] => server_req::server_request(server, ep, payload),
        ["SERVER", id, ep] if *id == server.id() => server_req::server_request(server, ep, payload),
        ["ACCOUNT", "PING", "STATZ"] => account_req::all_accounts_statz(server, payload),
        ["ACCOUNT", "PING", "CONNZ"] => {
            account_req::account_request(server, &requester.account.name, "CONNZ", payload)
        }
        ["ACCOUNT", acc, "CLAIMS", "UPDATE"] => claims::update(server, acc, payload),
        ["ACCOUNT", acc, "CLAIMS", "LOOKUP"] => claims::lookup(server, acc),
        ["CLAIMS", "UPDATE"] => claims::update_any(server, payload),
        ["CLAIMS", "LIST"] => claims::list(server),
        ["CLAIMS", "DELETE"] => claims::delete(server, payload),
        ["ACCOUNT", acc, ep] => account_req::account_request(server, acc, ep, payload),
        _ => Outcome::Unknown,
    }
}

/// The server filters every service accepts (`EventFilterOptions`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Filter {
    server_name: String,
    cluster: String,
    host: String,
    tags: Vec<String>,
    domain: String,
    exact_match: bool,
}

impl Filter {
    /// Whether this server is one the request asks for.
    fn matches(&self, server: &Server) -> bool {
        let like = |have: &str, want: &str| {
            want.is_empty()
                || if self.exact_match {
                    have == want
                } else {
                    have.contains(want)
                }
        };
        // Gannet has no server tags or JetStream domain yet: a request
        // naming either is for other servers.
        let cluster = server.cluster_name();
        like(server.name(), &self.server_name)
            && like(&server.options().host, &self.host)
            && like(&cluster, &self.cluster)
            && self.tags.is_empty()
            && self.domain.is_empty()
    }
}

/// A request's decoded options: the JSON body (empty = defaults).
struct Request {
    body: Value,
}

impl Request {
    /// Decodes the body; `Err` is the 400 reply.
    fn parse(server: &Server, payload: &[u8]) -> Result<Request, Outcome> {
        if payload.iter().all(u8::is_ascii_whitespace) {
            return Ok(Request {
                body: Value::Object(serde_json::Map::new()),
            });
        }
        serde_json::from_slice(payload)
            .map(|body| Request { body })
            .map_err(|e| error_reply(server, 400, &e.to_string()))
    }

    /// The options as `T` (unknown keys ignored); `Err` is the 400 reply.
    fn options<T: DeserializeOwned>(&self, server: &Server) -> Result<T, Outcome> {
        T::deserialize(&self.body).map_err(|e| error_reply(server, 400, &e.to_string()))
    }

    /// Decodes the body and its filter: `Err` is the reply to send instead
    /// (400, or silence when this server is filtered out).
    fn filtered(server: &Server, payload: &[u8]) -> Result<Request, Outcome> {
        let req = Request::parse(server, payload)?;
        let filter: Filter = req.options(server)?;
        if filter.matches(server) {
            Ok(req)
        } else {
            Err(Outcome::Silent)
        }
    }
}

#[derive(Serialize)]
struct DataReply<T> {
    server: ServerObject,
    data: T,
}

#[derive(Serialize)]
struct ApiError<'a> {
    code: u16,
    description: &'a str,
}

#[derive(Serialize)]
struct ErrorReply<'a> {
    server: ServerObject,
    error: ApiError<'a>,
}

#[derive(Serialize)]
struct NullDataErrorReply<'a> {
    server: ServerObject,
    data: Option<()>,
    error: ApiError<'a>,
}

/// Encodes a reply body; an encoding failure (never expected) answers 500.
fn encode<T: Serialize>(server: &Server, body: &T) -> Outcome {
    encode_as(server, body, Outcome::Reply)
}

/// [`encode`], the body made into an outcome by `reply` (a monitoring
/// service's [`Outcome::Data`]); the error reply stays an error reply.
fn encode_as<T: Serialize>(server: &Server, body: &T, reply: fn(Vec<u8>) -> Outcome) -> Outcome {
    match serde_json::to_vec(body) {
        Ok(json) => reply(json),
        Err(e) => {
            tracing::error!("Could not encode a $SYS reply: {e}");
            error_reply(server, 500, &e.to_string())
        }
    }
}

/// `{"server":{...},"data":<data>}`.
fn data_reply<T: Serialize>(server: &Server, data: T) -> Outcome {
    encode(
        server,
        &DataReply {
            server: server.server_object(),
            data,
        },
    )
}

/// [`data_reply`] of a monitoring service: compressed as asked.
fn monitor_reply<T: Serialize>(server: &Server, data: T) -> Outcome {
    encode_as(
        server,
        &DataReply {
            server: server.server_object(),
            data,
        },
        Outcome::Data,
    )
}

/// `{"server":{...},"error":{"code","description"}}`.
pub(super) fn error_reply(server: &Server, code: u16, description: &str) -> Outcome {
    let body = ErrorReply {
        server: server.server_object(),
        error: ApiError { code, description },
    };
    serde_json::to_vec(&body).map_or(Outcome::Silent, Outcome::Reply)
}

/// `{"server":{...},"data":null,"error":{...}}` (account INFO, JSZ).
fn null_data_error_reply(server: &Server, code: u16, description: &str) -> Outcome {
    let body = NullDataErrorReply {
        server: server.server_object(),
        data: None,
        error: ApiError { code, description },
    };
    serde_json::to_vec(&body).map_or(Outcome::Silent, Outcome::Reply)
}

/// Runs `f` with the filtered, decoded request, or gives the early outcome.
fn with_request(server: &Server, payload: &[u8], f: impl FnOnce(Request) -> Outcome) -> Outcome {
    match Request::filtered(server, payload) {
        Ok(req) => f(req),
        Err(outcome) => outcome,
    }
}
