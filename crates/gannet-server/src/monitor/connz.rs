//! `/connz`: the open (or recently closed) client connections, sorted and paged
//! (nats-server's `Connz`/`ConnInfo` in `monitor.go`). [`connz`] returns a plain
//! struct, so `$SYS.REQ.SERVER.*.CONNZ` can serve the same data later.
use std::cmp::Reverse;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::query::{page, Query};
use super::varz::{timestamp, uptime};
use crate::accounts::GLOBAL_ACCOUNT;
use crate::client::ClientSnapshot;
use crate::server::Server;

/// Connections per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 1024;

/// How `/connz` orders connections (`sort=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Cid,
    Start,
    Subs,
    Pending,
    MsgsTo,
    MsgsFrom,
    BytesTo,
    BytesFrom,
    Last,
    Idle,
    Uptime,
    Stop,
    Reason,
    Rtt,
}

impl SortBy {
    pub(crate) fn parse(s: &str) -> Option<SortBy> {
        Some(match s {
            "" | "cid" => SortBy::Cid,
            "start" => SortBy::Start,
            "subs" => SortBy::Subs,
            "pending" => SortBy::Pending,
            "msgs_to" => SortBy::MsgsTo,
            "msgs_from" => SortBy::MsgsFrom,
            "bytes_to" => SortBy::BytesTo,
            "bytes_from" => SortBy::BytesFrom,
            "last" => SortBy::Last,
            "idle" => SortBy::Idle,
            "uptime" => SortBy::Uptime,
            "stop" => SortBy::Stop,
            "reason" => SortBy::Reason,
            "rtt" => SortBy::Rtt,
            _ => return None,
        })
    }
}

/// Which connections `/connz` lists (`state=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    Open,
    Closed,
    All,
}

/// The request's options, validated.
#[derive(Debug, Clone)]
pub struct ConnzOptions {
    pub sort: SortBy,
    pub auth: bool,
    pub subs: bool,
    pub subs_detail: bool,
    pub offset: i64,
    pub limit: i64,
    pub cid: u64,
    pub state: ConnState,
    pub user: String,
    pub acc: String,
}

impl Default for ConnzOptions {
    fn default() -> Self {
        ConnzOptions {
            sort: SortBy::Cid,
            auth: false,
            subs: false,
            subs_detail: false,
            offset: 0,
            limit: 0,
            cid: 0,
            state: ConnState::Open,
            user: String::new(),
            acc: String::new(),
        }
    }
}

impl ConnzOptions {
    /// Decodes the query as the reference does, in its order, so the first bad
    /// parameter names the same error. Errors are the 400 body.
    pub fn from_query(q: &Query) -> Result<ConnzOptions, String> {
        let sort_raw = q.get("sort");
        let auth = q.bool("auth")?;
        let (subs, subs_detail) = q.subs()?;
        let offset = q.int("offset")?;
        let limit = q.int("limit")?;
        let cid = q.uint64("cid")?;
        let state = match q.get("state") {
            "" | "open" => ConnState::Open,
            "closed" => ConnState::Closed,
            "all" | "any" => ConnState::All,
            other => return Err(format!("Error decoding state for {other}")),
        };
        let sort =
            SortBy::parse(sort_raw).ok_or_else(|| format!("invalid sorting option: {sort_raw}"))?;
        if matches!(sort, SortBy::Stop | SortBy::Reason) && state == ConnState::Open {
            return Err(format!(
                "sort by {sort_raw} only valid on closed connections"
            ));
        }
        Ok(ConnzOptions {
            sort,
            auth,
            subs,
            subs_detail,
            offset,
            limit,
            cid,
            state,
            user: q.get("user").to_string(),
            acc: q.get("acc").to_string(),
        })
    }
}

/// The `/connz` document.
#[derive(Debug, Serialize)]
pub struct Connz {
    pub server_id: String,
    pub now: String,
    pub num_connections: usize,
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub connections: Vec<ConnInfo>,
}

/// One connection, fields in the reference's order; empty ones are left out as
/// its `omitempty` does.
#[derive(Debug, Serialize)]
pub struct ConnInfo {
    pub cid: u64,
    pub kind: &'static str,
    #[serde(rename = "type")]
    pub client_type: &'static str,
    pub ip: String,
    pub port: u16,
    pub start: String,
    pub last_activity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub rtt: String,
    pub uptime: String,
    pub idle: String,
    pub pending_bytes: usize,
    pub in_msgs: u64,
    pub out_msgs: u64,
    pub in_bytes: u64,
    pub out_bytes: u64,
    pub subscriptions: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub lang: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub authorized_user: String,
    /// With `auth`, the client's account (left out for `$G`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions_list: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions_list_detail: Option<Vec<SubDetail>>,
    /// With `auth`, the account's name tag (left out for `$G`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name_tag: String,
}

/// A subscription in `/connz?subs=detail` and `/subsz?subs=1`.
#[derive(Debug, Clone, Serialize)]
pub struct SubDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_tag: Option<String>,
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qgroup: Option<String>,
    pub sid: String,
    pub msgs: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub max: u64,
    pub cid: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A span as Go's `time.Duration.String` prints it: `0s`, `253µs`,
/// `10.174201ms`, `1.5s`, `1m0s`, `1h2m3.000000004s`.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    fn frac(whole: u128, rest: u128, digits: usize) -> String {
        let mut f = format!("{rest:0digits$}");
        while f.ends_with('0') {
            f.pop();
        }
        if f.is_empty() {
            whole.to_string()
        } else {
            format!("{whole}.{f}")
        }
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", frac(ns / 1_000, ns % 1_000, 3));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", frac(ns / 1_000_000, ns % 1_000_000, 6));
    }
    let secs = ns / 1_000_000_000;
    let sub = ns % 1_000_000_000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let s = format!("{}s", frac(s, sub, 9));
    if h > 0 {
        format!("{h}h{m}m{s}")
    } else if m > 0 {
        format!("{m}m{s}")
    } else {
        s
    }
}

fn span(from: SystemTime, to: SystemTime) -> Duration {
    to.duration_since(from).unwrap_or_default()
}

/// Builds `/connz` for `opts`.
pub fn connz(server: &Server, opts: &ConnzOptions) -> Connz {
    let now = SystemTime::now();
    let mut conns: Vec<ClientSnapshot> = Vec::new();
    if opts.state != ConnState::Closed {
        conns.extend(server.clients().iter().map(|c| c.snapshot()));
    }
    if opts.state != ConnState::Open {
        conns.extend(server.closed_clients());
    }
    // Clients that have not finished CONNECT are listed too, as in the reference.
    conns.retain(|c| {
        (opts.cid == 0 || c.cid == opts.cid)
            && (opts.user.is_empty() || c.meta.user.as_deref() == Some(opts.user.as_str()))
            && (opts.acc.is_empty() || c.meta.account == opts.acc)
    });
    let end = |c: &ClientSnapshot| c.stop.unwrap_or(now);
    match opts.sort {
        SortBy::Cid => conns.sort_by_key(|c| c.cid),
        SortBy::Start => conns.sort_by_key(|c| (c.meta.start, c.cid)),
        SortBy::Subs => conns.sort_by_key(|c| Reverse(c.subs.len())),
        SortBy::Pending => conns.sort_by_key(|c| Reverse(c.pending_bytes)),
        SortBy::MsgsTo => conns.sort_by_key(|c| Reverse(c.out_msgs)),
        SortBy::MsgsFrom => conns.sort_by_key(|c| Reverse(c.in_msgs)),
        SortBy::BytesTo => conns.sort_by_key(|c| Reverse(c.out_bytes)),
        SortBy::BytesFrom => conns.sort_by_key(|c| Reverse(c.in_bytes)),
        SortBy::Last => conns.sort_by_key(|c| Reverse(c.last_activity)),
        SortBy::Idle => conns.sort_by_key(|c| Reverse(span(c.last_activity, end(c)))),
        SortBy::Uptime => conns.sort_by_key(|c| Reverse(span(c.meta.start, end(c)))),
        SortBy::Stop => conns.sort_by_key(|c| Reverse(c.stop)),
        SortBy::Reason => conns.sort_by_key(|c| c.reason.map(|r| r.to_string())),
        SortBy::Rtt => conns.sort_by_key(|c| Reverse(c.rtt_ns)),
    }
    let total = conns.len();
    let (offset, limit, page) = page(conns, opts.offset, opts.limit, DEFAULT_LIMIT);
    let connections: Vec<ConnInfo> = page.into_iter().map(|c| conn_info(c, opts, now)).collect();
    Connz {
        server_id: server.id().to_string(),
        now: timestamp(now),
        num_connections: connections.len(),
        total,
        offset,
        limit,
        connections,
    }
}

fn conn_info(c: ClientSnapshot, opts: &ConnzOptions, now: SystemTime) -> ConnInfo {
    let end = c.stop.unwrap_or(now);
    let cid = c.cid;
    let account = if opts.auth && c.meta.account != GLOBAL_ACCOUNT {
        c.meta.account.clone()
    } else {
        String::new()
    };
    let subscriptions = c.subs.len();
    let (list, detail) = if opts.subs_detail {
        let detail = c
            .subs
            .into_iter()
            .map(|s| SubDetail {
                account: None,
                account_tag: None,
                subject: s.subject,
                qgroup: s.queue,
                sid: s.sid,
                msgs: s.msgs,
                max: s.max,
                cid,
            })
            .collect::<Vec<_>>();
        (None, (!detail.is_empty()).then_some(detail))
    } else if opts.subs {
        let list = c.subs.into_iter().map(|s| s.subject).collect::<Vec<_>>();
        ((!list.is_empty()).then_some(list), None)
    } else {
        (None, None)
    };
    ConnInfo {
        cid,
        kind: "Client",
        client_type: "nats",
        ip: c.meta.addr.ip().to_string(),
        port: c.meta.addr.port(),
        start: timestamp(c.meta.start),
        last_activity: timestamp(c.last_activity),
        stop: c.stop.map(timestamp),
        reason: c.reason.map(|r| r.to_string()),
        rtt: go_duration(Duration::from_nanos(c.rtt_ns)),
        uptime: uptime(span(c.meta.start, end).as_secs()),
        idle: uptime(span(c.last_activity, end).as_secs()),
        pending_bytes: c.pending_bytes,
        in_msgs: c.in_msgs,
        out_msgs: c.out_msgs,
        in_bytes: c.in_bytes,
        out_bytes: c.out_bytes,
        subscriptions,
        name: c.meta.name,
        lang: c.meta.lang,
        version: c.meta.version,
        authorized_user: if opts.auth {
            c.meta.user.unwrap_or_default()
        } else {
            String::new()
        },
        account: account.clone(),
        subscriptions_list: list,
        subscriptions_list_detail: detail,
        name_tag: account,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_go() {
        let d = |ns| go_duration(Duration::from_nanos(ns));
        assert_eq!(d(0), "0s");
        assert_eq!(d(999), "999ns");
        assert_eq!(d(253_000), "253µs");
        assert_eq!(d(1_500), "1.5µs");
        assert_eq!(d(10_174_201), "10.174201ms");
        assert_eq!(d(1_500_000_000), "1.5s");
        assert_eq!(d(60_000_000_000), "1m0s");
        assert_eq!(d(3_723_000_000_004), "1h2m3.000000004s");
    }

    #[test]
    fn bad_options_give_the_reference_messages() {
        let err = |q: &str| ConnzOptions::from_query(&Query::parse(Some(q))).unwrap_err();
        assert_eq!(err("sort=bogus"), "invalid sorting option: bogus");
        assert_eq!(err("state=x"), "Error decoding state for x");
        assert_eq!(
            err("sort=stop"),
            "sort by stop only valid on closed connections"
        );
        assert!(ConnzOptions::from_query(&Query::parse(Some("sort=stop&state=closed"))).is_ok());
    }
}
