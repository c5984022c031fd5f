//! `trace`: follows one message through the servers, as natscli's `nats
//! trace` shows it. The message goes out with `Nats-Trace-Dest` naming a
//! fresh inbox (and `Nats-Trace-Only: true` unless `--deliver`); every
//! server it crosses publishes there what it did with it. The events are
//! put back into a tree by their hop ids (an egress to a route, gateway or
//! leaf names the `Nats-Trace-Hop` the next server's event carries) and
//! printed hop by hop, then the egresses counted by kind.
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{bail, Context};
use async_nats::HeaderMap;
use chrono::{DateTime, FixedOffset};
use clap::Args;
use futures::StreamExt;
use serde::Deserialize;

use super::output::go_quote;
use crate::connect::Connector;
use crate::format::{go_duration, Columns};

/// How long propagating the inbox's interest through a super-cluster may take.
const PROPAGATION: Duration = Duration::from_millis(250);

/// The kinds of connection events name (nats-server's numbers).
const CLIENT: u8 = 0;
const ROUTER: u8 = 1;
const GATEWAY: u8 = 2;
const LEAF: u8 = 4;
const JETSTREAM: u8 = 5;

/// What an egress error says when the next server could not trace.
const NO_SUPPORT_PREFIX: &str = "Message delivered but remote does not support";

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The subject to publish to
    #[arg(value_name = "SUBJECT")]
    pub subject: String,
    /// The message body to send
    #[arg(value_name = "PAYLOAD")]
    pub payload: Option<String>,
    /// Deliver the message to the final destination
    #[arg(long)]
    pub deliver: bool,
    /// Show event timestamps
    #[arg(short = 'T', long = "timestamp")]
    pub timestamp: bool,
    /// Adds headers to the trace message using K:V format
    #[arg(short = 'H', long = "header", value_name = "K:V")]
    pub headers: Vec<String>,
}

/// One server's event.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TraceEvent {
    server: ServerInfo,
    request: Request,
    events: Vec<Event>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ServerInfo {
    name: String,
    cluster: String,
    ver: String,
    time: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Request {
    header: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum Event {
    #[serde(rename = "in")]
    Ingress(Ingress),
    #[serde(rename = "sm")]
    SubjectMapping(Mapping),
    #[serde(rename = "se")]
    StreamExport(StreamExport),
    #[serde(rename = "si")]
    ServiceImport(ServiceImport),
    #[serde(rename = "js")]
    JetStream(JetStream),
    #[serde(rename = "eg")]
    Egress(Egress),
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Ingress {
    ts: String,
    kind: u8,
    cid: u64,
    name: String,
    error: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Mapping {
    ts: String,
    to: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StreamExport {
    ts: String,
    acc: String,
    to: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ServiceImport {
    ts: String,
    acc: String,
    from: String,
    to: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JetStream {
    ts: String,
    stream: String,
    subject: String,
    nointerest: bool,
    error: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Egress {
    ts: String,
    kind: u8,
    cid: u64,
    name: String,
    hop: String,
    acc: String,
    sub: String,
    queue: String,
    error: String,
}

impl TraceEvent {
    fn hop(&self) -> Option<&str> {
        self.request
            .header
            .get("Nats-Trace-Hop")
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    fn ingress(&self) -> Option<&Ingress> {
        self.events.iter().find_map(|e| match e {
            Event::Ingress(i) => Some(i),
            _ => None,
        })
    }

    fn egresses(&self) -> impl Iterator<Item = &Egress> {
        self.events.iter().filter_map(|e| match e {
            Event::Egress(e) => Some(e),
            _ => None,
        })
    }

    /// The hop ids of the events this one's egresses lead to.
    fn expected_hops(&self) -> impl Iterator<Item = &str> {
        self.egresses()
            .filter(|e| {
                matches!(e.kind, ROUTER | GATEWAY | LEAF)
                    && !e.hop.is_empty()
                    && !e.error.starts_with(NO_SUPPORT_PREFIX)
            })
            .map(|e| e.hop.as_str())
    }
}

pub async fn run(args: TraceArgs, connector: &Connector) -> anyhow::Result<()> {
    let mut headers = HeaderMap::new();
    for pair in &args.headers {
        let Some((key, value)) = pair.split_once(':') else {
            bail!("invalid header {pair:?}: headers are given as K:V");
        };
        headers.insert(key.trim(), value.trim());
    }
    let session = connector.connect().await?;
    let client = &session.client;
    let inbox = client.new_inbox();
    let mut events = client
        .subscribe(inbox.clone())
        .await
        .context("could not subscribe to the trace inbox")?;
    client.flush().await.context("could not flush")?;
    tokio::time::sleep(PROPAGATION).await;
    headers.insert("Nats-Trace-Dest", inbox.as_str());
    if !args.deliver {
        headers.insert("Nats-Trace-Only", "true");
    }
    let payload = args.payload.clone().unwrap_or_default();
    client
        .publish_with_headers(args.subject.clone(), headers, payload.into())
        .await
        .context("could not publish the traced message")?;
    client.flush().await.context("could not flush")?;
    let deliver = if args.deliver {
        "with delivery to the final destination"
    } else {
        ""
    };
    println!(
        "Tracing message route to subject {} {deliver}\n",
        args.subject
    );

    // Gather events until every hop has answered, or the timeout.
    let mut origin: Option<TraceEvent> = None;
    let mut by_hop: HashMap<String, TraceEvent> = HashMap::new();
    let deadline = tokio::time::Instant::now() + connector.timeout;
    loop {
        if origin.as_ref().is_some_and(|o| complete(o, &by_hop)) {
            break;
        }
        let Ok(Some(msg)) = tokio::time::timeout_at(deadline, events.next()).await else {
            break;
        };
        let event: TraceEvent = match serde_json::from_slice(&msg.payload) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("gannet: ignoring a trace event that does not parse: {e}");
                continue;
            }
        };
        match event.hop().map(str::to_string) {
            Some(hop) => {
                by_hop.insert(hop, event);
            }
            None => origin = Some(event),
        }
    }
    let Some(origin) = origin else {
        bail!(
            "no trace event arrived in {}",
            go_duration(connector.timeout)
        );
    };
    let start = origin
        .ingress()
        .map(|i| i.ts.as_str())
        .unwrap_or(origin.server.time.as_str());
    let start = parse_time(start);
    let mut printer = Printer {
        timestamps: args.timestamp,
        start,
        counts: BTreeMap::new(),
        by_hop: &by_hop,
    };
    printer.event(&origin, 0);
    println!();
    println!(
        "Legend: Client: {} Router: {} Gateway: {} Leafnode: {} JetStream: {} Error: --X",
        arrow(CLIENT),
        arrow(ROUTER),
        arrow(GATEWAY),
        arrow(LEAF),
        arrow(JETSTREAM)
    );
    println!();
    if !printer.counts.is_empty() {
        let mut columns = Columns::new("Egress Count:");
        for (kind, count) in &printer.counts {
            columns.row(kind, count);
        }
        print!("{}", columns.render());
    }
    if let Some(n) = printer.counts.get(kind_name(JETSTREAM)).filter(|n| **n > 1) {
        println!("WARNING: The message was received by {n} streams");
    }
    Ok(())
}

/// Whether every hop reachable from `origin` has sent its event.
fn complete(origin: &TraceEvent, by_hop: &HashMap<String, TraceEvent>) -> bool {
    let mut pending: Vec<&TraceEvent> = vec![origin];
    while let Some(event) = pending.pop() {
        for hop in event.expected_hops() {
            match by_hop.get(hop) {
                Some(next) => pending.push(next),
                None => return false,
            }
        }
    }
    true
}

fn parse_time(ts: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(ts).ok()
}

/// natscli's arrow for a kind of connection.
fn arrow(kind: u8) -> &'static str {
    match kind {
        CLIENT => "--C",
        JETSTREAM => "--J",
        ROUTER => "-->",
        GATEWAY => "==>",
        LEAF => "~~>",
        _ => "",
    }
}

fn kind_name(kind: u8) -> &'static str {
    match kind {
        CLIENT => "Client",
        ROUTER => "Router",
        GATEWAY => "Gateway",
        3 => "System",
        LEAF => "Leafnode",
        JETSTREAM => "JetStream",
        6 => "Account",
        _ => "Unknown Kind",
    }
}

/// A connection as the server's logs name it: `cid:5`, `rid:3`, ...
fn cid_name(kind: u8, cid: u64) -> String {
    match kind {
        CLIENT => format!("cid:{cid}"),
        ROUTER => format!("rid:{cid}"),
        GATEWAY => format!("gid:{cid}"),
        LEAF => format!("lid:{cid}"),
        _ => format!("id:{cid}"),
    }
}

/// `key:"value"` pairs.
fn pair(key: &str, value: &str) -> String {
    format!("{key}:{}", go_quote(value))
}

struct Printer<'a> {
    timestamps: bool,
    start: Option<DateTime<FixedOffset>>,
    /// Egresses by kind name.
    counts: BTreeMap<&'static str, u64>,
    by_hop: &'a HashMap<String, TraceEvent>,
}

impl Printer<'_> {
    /// Prints one server's event and, indented, those of the servers it
    /// passed the message to.
    fn event(&mut self, event: &TraceEvent, indent: usize) {
        let prefix = " ".repeat(indent * 4);
        let mut lines: Vec<String> = Vec::new();
        let ingress = event.ingress();
        if let Some(i) = ingress {
            let mut parts = vec![connection(i.kind, &i.name, i.cid)];
            if !event.server.cluster.is_empty() && matches!(i.kind, GATEWAY | CLIENT) {
                parts.push(pair("cluster", &event.server.cluster));
            }
            parts.push(pair("server", &event.server.name));
            parts.push(pair("version", &event.server.ver));
            lines.push(self.stamp(&parts.join(" "), &i.ts));
            if !i.error.is_empty() {
                lines.push(self.stamp(&format!("--X Error: {}", i.error), &i.ts));
            }
        }
        for e in &event.events {
            if let Event::SubjectMapping(m) = e {
                lines.push(self.stamp(&format!("    Mapping subject:{}", go_quote(&m.to)), &m.ts));
            }
        }
        for e in &event.events {
            if let Event::ServiceImport(s) = e {
                lines.push(self.stamp(
                    &format!(
                        "    Service Import from:{} to:{} account:{}",
                        go_quote(&s.from),
                        go_quote(&s.to),
                        go_quote(&s.acc)
                    ),
                    &s.ts,
                ));
            }
        }
        for e in &event.events {
            if let Event::StreamExport(s) = e {
                lines.push(self.stamp(
                    &format!(
                        "    Stream Export subject:{} account:{}",
                        go_quote(&s.to),
                        go_quote(&s.acc)
                    ),
                    &s.ts,
                ));
            }
        }
        if let Some(js) = event.events.iter().find_map(|e| match e {
            Event::JetStream(j) => Some(j),
            _ => None,
        }) {
            let action = if js.nointerest {
                "no interest"
            } else {
                "stored"
            };
            lines.push(self.stamp(
                &format!(
                    "{} JetStream action:{} stream:{} subject:{}",
                    arrow(JETSTREAM),
                    go_quote(action),
                    go_quote(&js.stream),
                    go_quote(&js.subject)
                ),
                &js.ts,
            ));
            if !js.error.is_empty() {
                lines.push(self.stamp(&format!("--X Error: {}", js.error), &js.ts));
            }
            *self.counts.entry(kind_name(JETSTREAM)).or_default() += 1;
        }
        let egresses: Vec<&Egress> = event.egresses().collect();
        if egresses.is_empty() && ingress.is_some_and(|i| i.kind == CLIENT && i.error.is_empty()) {
            lines.push("--X No active interest".to_string());
        }
        for line in &lines {
            println!("{prefix}{line}");
        }
        for e in egresses {
            let mut parts = vec![
                arrow(e.kind).to_string(),
                connection(e.kind, &e.name, e.cid),
            ];
            if !e.acc.is_empty() {
                parts.push(pair("account", &e.acc));
            }
            if !e.sub.is_empty() {
                parts.push(pair("subject", &e.sub));
            }
            if !e.queue.is_empty() {
                parts.push(pair("queue", &e.queue));
            }
            println!("{prefix}{}", self.stamp(&parts.join(" "), &e.ts));
            if !e.error.is_empty() {
                println!(
                    "{prefix}{}",
                    self.stamp(&format!("  --X Error: {}", e.error), &e.ts)
                );
            }
            *self.counts.entry(kind_name(e.kind)).or_default() += 1;
            if matches!(e.kind, ROUTER | GATEWAY | LEAF) && !e.hop.is_empty() {
                match self.by_hop.get(&e.hop) {
                    Some(next) => self.event(next, indent + 1),
                    None if !e.error.starts_with(NO_SUPPORT_PREFIX) => {
                        println!("{prefix}    !!! This trace event was missing");
                    }
                    None => {}
                }
            }
        }
    }

    /// `line`, after `[<time since the first event>]` with `--timestamp`.
    fn stamp(&self, line: &str, ts: &str) -> String {
        if !self.timestamps {
            return line.to_string();
        }
        let since = match (self.start, parse_time(ts)) {
            (Some(start), Some(at)) => match (at - start).to_std() {
                Ok(d) => go_duration(Duration::from_micros(d.as_micros() as u64)),
                Err(_) => "Skew".to_string(),
            },
            _ => "0s".to_string(),
        };
        format!("[{since}] {line}")
    }
}

/// `Kind "name" cid:N`, the name left out when empty.
fn connection(kind: u8, name: &str, cid: u64) -> String {
    if name.is_empty() {
        format!("{} {}", kind_name(kind), cid_name(kind, cid))
    } else {
        format!(
            "{} {} {}",
            kind_name(kind),
            go_quote(name),
            cid_name(kind, cid)
        )
    }
}
