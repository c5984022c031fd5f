//! Server services: `$SYS.REQ.SERVER.PING[.<EP>]` and `$SYS.REQ.SERVER.<id>.<EP>`
//! (nats-server's `statszReq`, `idzReq` and the `zReq` monitoring handlers).
//! Each endpoint's body is the HTTP endpoint's struct from `crate::monitor`.
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::{
    encode, encode_as, error_reply, monitor_reply, null_data_error_reply, with_request, Outcome,
};
use crate::events::ServerObject;
use crate::monitor::{self, accountz, cluster, connz, jsz, subsz};
use crate::server::Server;

/// The JSON options of CONNZ (`ConnzOptions` in the reference; note `acc`
/// and `subscriptions`, unlike the HTTP query's `subs`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ConnzRequest {
    sort: String,
    auth: bool,
    subscriptions: bool,
    subscriptions_detail: bool,
    offset: i64,
    limit: i64,
    cid: u64,
    /// 0 open, 1 closed, 2 all.
    state: i64,
    user: String,
    acc: String,
}

impl ConnzRequest {
    /// Validated connz options; `Err` is the reference's message (a 500).
    pub(super) fn to_options(&self) -> Result<connz::ConnzOptions, String> {
        let sort = connz::SortBy::parse(&self.sort)
            .ok_or_else(|| format!("invalid sorting option: {}", self.sort))?;
        let state = match self.state {
            1 => connz::ConnState::Closed,
            2 => connz::ConnState::All,
            _ => connz::ConnState::Open,
        };
        if matches!(sort, connz::SortBy::Stop | connz::SortBy::Reason)
            && state == connz::ConnState::Open
        {
            return Err(format!(
                "sort by {} only valid on closed connections",
                self.sort
            ));
        }
        Ok(connz::ConnzOptions {
            sort,
            auth: self.auth,
            subs: self.subscriptions || self.subscriptions_detail,
            subs_detail: self.subscriptions_detail,
            offset: self.offset,
            limit: self.limit,
            cid: self.cid,
            state,
            user: self.user.clone(),
            acc: self.acc.clone(),
        })
    }
}

/// The JSON options of SUBSZ.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SubszRequest {
    subscriptions: bool,
    offset: i64,
    limit: i64,
    test: String,
    account: String,
}

impl SubszRequest {
    /// Validated subsz options; `Err` is the reference's message (a 500).
    pub(super) fn to_options(&self, account: Option<&str>) -> Result<subsz::SubszOptions, String> {
        let test = match self.test.as_str() {
            "" => None,
            t if gannet_proto::subject::is_valid_publish_subject(t.as_bytes()) => {
                Some(t.to_string())
            }
            t => {
                return Err(format!(
                    "invalid test subject, must be valid publish subject: {t}"
                ))
            }
        };
        let account = account
            .map(str::to_string)
            .or_else(|| (!self.account.is_empty()).then(|| self.account.clone()));
        Ok(subsz::SubszOptions {
            subs: self.subscriptions,
            offset: self.offset,
            limit: self.limit,
            test,
            account,
        })
    }
}

/// The JSON options of ACCOUNTZ.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccountzRequest {
    account: String,
}

/// The IDZ reply (no envelope).
#[derive(Serialize)]
struct Idz<'a> {
    name: &'a str,
    host: &'a str,
    id: &'a str,
}

/// A reply with nothing to say but who answered.
#[derive(Serialize)]
struct ServerOnly {
    server: ServerObject,
}

/// The HEALTHZ reply's data (`status_code` only on `$SYS`).
#[derive(Serialize)]
struct Healthz {
    status: &'static str,
    status_code: u16,
}

/// Answers server endpoint `ep`; an unknown endpoint is [`Outcome::Unknown`].
pub(super) fn server_request(server: &Server, ep: &str, payload: &[u8]) -> Outcome {
    const KNOWN: &[&str] = &[
        "STATSZ", "IDZ", "VARZ", "CONNZ", "SUBSZ", "ROUTEZ", "GATEWAYZ", "LEAFZ", "JSZ",
        "ACCOUNTZ", "HEALTHZ", "RELOAD",
    ];
    if !KNOWN.contains(&ep) {
        return Outcome::Unknown;
    }
    with_request(server, payload, |req| match ep {
        "STATSZ" => encode(server, &server.statsz_message()),
        "IDZ" => {
            let opts = server.options();
            encode(
                server,
                &Idz {
                    name: server.name(),
                    host: &opts.host,
                    id: server.id(),
                },
            )
        }
        "VARZ" => monitor_reply(server, monitor::collect_varz(server)),
        "CONNZ" => match req.options::<ConnzRequest>(server) {
            Ok(r) => match r.to_options() {
                Ok(opts) => monitor_reply(server, connz::connz(server, &opts)),
                Err(e) => null_data_error_reply(server, 500, &e),
            },
            Err(outcome) => outcome,
        },
        "SUBSZ" => match req.options::<SubszRequest>(server) {
            Ok(r) => match r.to_options(None) {
                Ok(opts) => monitor_reply(server, subsz::subsz(server, &opts)),
                Err(e) => null_data_error_reply(server, 500, &e),
            },
            Err(outcome) => outcome,
        },
        "ROUTEZ" => match req.options::<LinkzRequest>(server) {
            Ok(r) => monitor_reply(server, cluster::routez(server, r.subscriptions)),
            Err(outcome) => outcome,
        },
        "GATEWAYZ" => match req.options::<cluster::GatewayzOptions>(server) {
            Ok(opts) => monitor_reply(server, cluster::gatewayz(server, &opts)),
            Err(outcome) => outcome,
        },
        "LEAFZ" => match req.options::<LinkzRequest>(server) {
            Ok(r) => monitor_reply(
                server,
                cluster::leafz(server, r.subscriptions, r.account.as_deref()),
            ),
            Err(outcome) => outcome,
        },
        "JSZ" => match req.options::<jsz::JszOptions>(server) {
            Ok(opts) => monitor_reply(server, jsz::jsz(server, &opts)),
            Err(outcome) => outcome,
        },
        "ACCOUNTZ" => match req.options::<AccountzRequest>(server) {
            Ok(r) => accountz_reply(server, &r.account),
            Err(outcome) => outcome,
        },
        // `{"server":{...}}`, or with the reason the reload failed.
        "RELOAD" => match server.reload_from_source() {
            Ok(()) => encode_as(
                server,
                &ServerOnly {
                    server: server.server_object(),
                },
                Outcome::Data,
            ),
            Err(e) => {
                tracing::error!("Failed to reload server configuration: {e}");
                error_reply(server, 500, &e)
            }
        },
        "HEALTHZ" => monitor_reply(
            server,
            Healthz {
                status: "ok",
                status_code: 200,
            },
        ),
        _ => Outcome::Unknown,
    })
}

/// ACCOUNTZ: every account's name and the system account, or one account's
/// details.
fn accountz_reply(server: &Server, account: &str) -> Outcome {
    match accountz::accountz_for(server, account) {
        Ok(mut out) => {
            out.now = crate::events::go_time(SystemTime::now());
            monitor_reply(server, out)
        }
        Err(e) => null_data_error_reply(server, 500, &e),
    }
}

/// The options of ROUTEZ and LEAFZ requests (nats-server's `RoutezOptions`
/// and `LeafzOptions`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct LinkzRequest {
    /// List each connection's subscriptions.
    subscriptions: bool,
    /// LEAFZ: only the leafs bound to this account.
    account: Option<String>,
}
