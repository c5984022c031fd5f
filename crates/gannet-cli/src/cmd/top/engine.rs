//! What `top` asks the server and what it keeps: VARZ and CONNZ through the
//! system account (`$SYS.REQ.SERVER.PING.*` until the server is known, then
//! `$SYS.REQ.SERVER.<id>.*`), parsed leniently, and the per-second rates
//! worked out between two polls.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use async_nats::Client;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::format;

/// The CONNZ sort keys natscli accepts.
pub const SORT_OPTIONS: [&str; 14] = [
    "cid",
    "start",
    "subs",
    "pending",
    "msgs_to",
    "msgs_from",
    "bytes_to",
    "bytes_from",
    "last",
    "idle",
    "uptime",
    "stop",
    "reason",
    "rtt",
];

/// Which server to watch.
#[derive(Debug, Clone)]
enum Target {
    /// Whichever answers first (then pinned to its ID).
    Any,
    /// The server with this exact name (then pinned to its ID).
    Name(String),
    /// The server with this ID.
    Id(String),
}

/// A server ID: 56 characters of upper-case base32 starting with N.
fn looks_like_server_id(text: &str) -> bool {
    text.len() == 56
        && text.starts_with('N')
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
}

/// What the CONNZ request asks for; the interactive keys change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub conns: usize,
    pub sort: String,
    pub subs: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Varz {
    pub server_id: String,
    pub server_name: String,
    pub version: String,
    pub now: String,
    pub uptime: String,
    pub mem: i64,
    pub cpu: f64,
    pub connections: u64,
    pub total_connections: u64,
    pub subscriptions: u64,
    pub in_msgs: i64,
    pub out_msgs: i64,
    pub in_bytes: i64,
    pub out_bytes: i64,
    pub slow_consumers: i64,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Connz {
    pub server_id: String,
    pub now: String,
    pub num_connections: u64,
    pub total: u64,
    pub connections: Option<Vec<ConnInfo>>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ConnInfo {
    pub cid: u64,
    pub ip: String,
    pub port: u16,
    pub last_activity: String,
    pub uptime: String,
    pub idle: String,
    pub pending_bytes: i64,
    pub in_msgs: i64,
    pub out_msgs: i64,
    pub in_bytes: i64,
    pub out_bytes: i64,
    pub subscriptions: u64,
    pub subscriptions_list: Option<Vec<String>>,
    pub name: String,
    pub lang: String,
    pub version: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiError {
    code: i64,
    description: String,
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    error: Option<ApiError>,
}

/// Messages and bytes per second, in and out.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Rates {
    pub in_msgs: f64,
    pub out_msgs: f64,
    pub in_bytes: f64,
    pub out_bytes: f64,
}

impl Rates {
    fn between(seconds: f64, counts: [i64; 4], before: [i64; 4]) -> Rates {
        if seconds <= 0.0 {
            return Rates::default();
        }
        let rate = |i: usize| (counts[i] - before[i]) as f64 / seconds;
        Rates {
            in_msgs: rate(0),
            out_msgs: rate(1),
            in_bytes: rate(2),
            out_bytes: rate(3),
        }
    }
}

/// One poll: the server's numbers and the rates since the poll before.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub varz: Varz,
    pub connz: Connz,
    pub rates: Rates,
    pub conn_rates: HashMap<u64, Rates>,
}

impl Stats {
    pub fn conns(&self) -> &[ConnInfo] {
        self.connz.connections.as_deref().unwrap_or(&[])
    }
}

/// The last poll kept to work out rates.
struct Previous {
    varz_now: Option<chrono::DateTime<chrono::FixedOffset>>,
    connz_now: Option<chrono::DateTime<chrono::FixedOffset>>,
    taken: Instant,
    totals: [i64; 4],
    conns: HashMap<u64, [i64; 4]>,
}

pub struct Engine {
    client: Client,
    timeout: Duration,
    target: Target,
    previous: Option<Previous>,
}

impl Engine {
    pub fn new(client: Client, timeout: Duration, server: Option<String>) -> Engine {
        let target = match server {
            None => Target::Any,
            Some(id) if looks_like_server_id(&id) => Target::Id(id),
            Some(name) => Target::Name(name),
        };
        Engine {
            client,
            timeout,
            target,
            previous: None,
        }
    }

    /// The first VARZ: checks the account may ask, finds the server and pins
    /// later polls to its ID.
    pub async fn resolve(&mut self) -> anyhow::Result<Varz> {
        let varz: Varz = self.request("VARZ", Map::new()).await?;
        if !varz.server_id.is_empty() {
            self.target = Target::Id(varz.server_id.clone());
        }
        Ok(varz)
    }

    /// Polls VARZ then CONNZ and works out the rates since the last poll.
    pub async fn fetch(&mut self, query: &Query) -> anyhow::Result<Stats> {
        let varz: Varz = self.request("VARZ", Map::new()).await?;
        let mut options = Map::new();
        options.insert("limit".into(), json!(query.conns));
        options.insert("sort".into(), json!(query.sort));
        options.insert("subscriptions".into(), json!(query.subs));
        let connz: Connz = self.request("CONNZ", options).await?;
        let taken = Instant::now();
        let varz_now = parse_time(&varz.now);
        let connz_now = parse_time(&connz.now);
        let totals = [varz.in_msgs, varz.out_msgs, varz.in_bytes, varz.out_bytes];
        let conns: HashMap<u64, [i64; 4]> = connz
            .connections
            .iter()
            .flatten()
            .map(|c| (c.cid, [c.in_msgs, c.out_msgs, c.in_bytes, c.out_bytes]))
            .collect();
        let mut stats = Stats {
            varz,
            connz,
            ..Stats::default()
        };
        if let Some(previous) = &self.previous {
            let local = taken.duration_since(previous.taken).as_secs_f64();
            let seconds =
                |now: Option<chrono::DateTime<chrono::FixedOffset>>,
                 before: Option<chrono::DateTime<chrono::FixedOffset>>| {
                    match (now, before) {
                        (Some(now), Some(before)) if now > before => {
                            (now - before).num_microseconds().unwrap_or(0) as f64 / 1e6
                        }
                        _ => local,
                    }
                };
            stats.rates = Rates::between(
                seconds(varz_now, previous.varz_now),
                totals,
                previous.totals,
            );
            let conn_seconds = seconds(connz_now, previous.connz_now);
            for (cid, counts) in &conns {
                let rates = match previous.conns.get(cid) {
                    Some(before) => Rates::between(conn_seconds, *counts, *before),
                    None => Rates::default(),
                };
                stats.conn_rates.insert(*cid, rates);
            }
        }
        self.previous = Some(Previous {
            varz_now,
            connz_now,
            taken,
            totals,
            conns,
        });
        Ok(stats)
    }

    async fn request<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        mut options: Map<String, Value>,
    ) -> anyhow::Result<T> {
        let subject = match &self.target {
            Target::Id(id) => format!("$SYS.REQ.SERVER.{id}.{endpoint}"),
            Target::Any | Target::Name(_) => format!("$SYS.REQ.SERVER.PING.{endpoint}"),
        };
        if let Target::Name(name) = &self.target {
            options.insert("server_name".into(), json!(name));
            options.insert("exact_match".into(), json!(true));
        }
        let payload = if options.is_empty() {
            Bytes::new()
        } else {
            Bytes::from(serde_json::to_vec(&Value::Object(options))?)
        };
        let reply = match tokio::time::timeout(
            self.timeout,
            self.client.request(subject, payload),
        )
        .await
        {
            Ok(Ok(reply)) => reply,
            Ok(Err(err)) if err.kind() == async_nats::RequestErrorKind::NoResponders => bail!(
                "no results received, ensure the account used has system privileges and appropriate permissions"
            ),
            Ok(Err(err)) if err.kind() != async_nats::RequestErrorKind::TimedOut => {
                bail!("{endpoint} request failed: {err}")
            }
            _ => bail!("{}", self.silence(endpoint)),
        };
        let envelope: Envelope<T> = serde_json::from_slice(&reply.payload)
            .with_context(|| format!("the server's {endpoint} reply is not what was expected"))?;
        if let Some(error) = envelope.error {
            bail!(
                "the server refused the {endpoint} request: {} (code {})",
                error.description,
                error.code
            );
        }
        envelope
            .data
            .ok_or_else(|| anyhow!("the server's {endpoint} reply has no data"))
    }

    /// Why no reply came, in the user's terms.
    fn silence(&self, endpoint: &str) -> String {
        let within = format::go_duration(self.timeout);
        match &self.target {
            Target::Name(name) => format!("no server named {name:?} answered within {within}"),
            Target::Id(id) => {
                format!("server {id} did not answer the {endpoint} request within {within}")
            }
            Target::Any => format!("no server answered the {endpoint} request within {within}"),
        }
    }
}

fn parse_time(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ids_are_told_from_names() {
        assert!(looks_like_server_id(
            "NDTVW4K2Z6QW442ONFZYA42SBFOXGAMVG55EHEERHGI55E7YDCTCR3OA"
        ));
        assert!(!looks_like_server_id("gannet-ref"));
    }

    #[test]
    fn rates_are_per_second() {
        let rates = Rates::between(2.0, [100, 50, 1000, 500], [0, 0, 0, 0]);
        assert_eq!(rates.in_msgs, 50.0);
        assert_eq!(rates.out_bytes, 250.0);
        assert_eq!(
            Rates::between(0.0, [1, 1, 1, 1], [0, 0, 0, 0]),
            Rates::default()
        );
    }

    #[test]
    fn connz_parses_with_missing_fields_and_null_lists() {
        let connz: Connz =
            serde_json::from_str(r#"{"num_connections":0,"connections":null}"#).unwrap();
        assert!(connz.connections.is_none());
        let conn: ConnInfo = serde_json::from_str(r#"{"cid":7,"name":"x"}"#).unwrap();
        assert_eq!(conn.cid, 7);
    }
}
