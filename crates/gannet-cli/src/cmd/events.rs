//! `events`: subscribes to the system account's advisories — client connects
//! and disconnects, authentication errors, and on request JetStream
//! advisories and metrics, server statistics or any other subjects — and
//! prints each event on one readable line (the default: who, where, why),
//! in natscli's compact `--short` line, in natscli's extended multi-line form
//! (`--long`), or as the JSON the server sent (`--json`).

use std::fmt::Write as _;

use anyhow::{anyhow, bail, Context as _};
use clap::Args;
use futures::StreamExt;

use crate::cmd::server::model::{Advisory, ClientInfo, ServerStatsMsg};
use crate::cmd::server::view::parse_time;
use crate::connect::Connector;
use crate::format::{bytes, go_duration, number};
use crate::session::Notice;

const CONNECT: &str = "io.nats.server.advisory.v1.client_connect";
const DISCONNECT: &str = "io.nats.server.advisory.v1.client_disconnect";
const ACCOUNT_CONNS: &str = "io.nats.server.advisory.v1.account_connections";

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Show all events
    #[arg(short = 'a', long)]
    all: bool,
    /// Produce JSON output (the events as the server sent them)
    #[arg(short = 'j', long)]
    json: bool,
    /// natscli's short event format, one compact line per event
    #[arg(long, conflicts_with = "long")]
    short: bool,
    /// natscli's extended event format, one block of lines per event
    #[arg(long, alias = "extended")]
    long: bool,
    /// Filter across the entire event using regular expressions
    #[arg(long, default_value = ".", value_name = "REGEX")]
    filter: String,
    /// Shows JetStream metric events
    #[arg(long)]
    js_metric: bool,
    /// Shows JetStream advisory events
    #[arg(long)]
    js_advisory: bool,
    /// Shows NATS Server advisories (connections, disconnections, authentication errors)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    srv_advisory: bool,
    /// Do not show NATS Server advisories
    #[arg(long, conflicts_with = "srv_advisory")]
    no_srv_advisory: bool,
    /// Shows the servers' periodic statistics (STATSZ)
    #[arg(long)]
    statsz: bool,
    /// Show Advisories and Metrics received on specific subjects
    #[arg(long, value_name = "SUBJECTS", value_delimiter = ',')]
    subjects: Vec<String>,
}

/// How events print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// One line per event with every field an operator looks for.
    Line,
    /// natscli's `--short`.
    Short,
    /// natscli's default multi-line blocks.
    Extended,
}

pub async fn run(args: EventsArgs, connector: &Connector) -> anyhow::Result<()> {
    let server_advisories = args.srv_advisory && !args.no_srv_advisory;
    let selected =
        args.all || args.js_advisory || args.js_metric || args.statsz || !args.subjects.is_empty();
    if !selected && !server_advisories {
        bail!("no events were chosen");
    }
    let filter = regex::Regex::new(&args.filter.to_uppercase())
        .map_err(|err| anyhow!("invalid body regular expression {:?}: {err}", args.filter))?;

    let mut wanted: Vec<(String, String)> = Vec::new();
    if args.js_advisory || args.all {
        wanted.push(("Advisories".into(), "$JS.EVENT.ADVISORY.>".into()));
    }
    if args.js_metric || args.all {
        wanted.push(("Metrics".into(), "$JS.EVENT.METRIC.>".into()));
    }
    if server_advisories || args.all {
        wanted.push((
            "Client Connection events".into(),
            "$SYS.ACCOUNT.*.CONNECT".into(),
        ));
        wanted.push((
            "Client Disconnection events".into(),
            "$SYS.ACCOUNT.*.DISCONNECT".into(),
        ));
        wanted.push((
            "Authentication Errors events".into(),
            "$SYS.SERVER.*.CLIENT.AUTH.ERR".into(),
        ));
    }
    if args.statsz {
        wanted.push((
            "Server Statistics events".into(),
            "$SYS.SERVER.*.STATSZ".into(),
        ));
    }
    for subject in &args.subjects {
        wanted.push(("advisories".into(), subject.clone()));
    }

    let mut session = connector.connect().await?;
    let mut subscriptions = Vec::new();
    for (_, subject) in &wanted {
        let subscription = session
            .client
            .subscribe(subject.clone())
            .await
            .with_context(|| format!("cannot subscribe to {subject}"))?;
        subscriptions.push(subscription);
    }
    // Every subscription is in place (or refused) before saying so.
    session.round_trip(connector.timeout).await?;
    if !args.json {
        let lines: Vec<String> = wanted
            .iter()
            .map(|(what, subject)| format!("Listening for {what} on {subject}"))
            .collect();
        if !emit(&lines.join("\n"))? {
            return Ok(());
        }
    }
    let form = if args.short {
        Form::Short
    } else if args.long {
        Form::Extended
    } else {
        Form::Line
    };

    let mut events = futures::stream::select_all(subscriptions);
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    loop {
        tokio::select! {
            message = events.next() => {
                let Some(message) = message else { return Ok(()) };
                if !filter.is_match(&String::from_utf8_lossy(&message.payload).to_uppercase()) {
                    continue;
                }
                let body = String::from_utf8_lossy(&message.payload);
                let text = if args.json {
                    body.into_owned()
                } else {
                    match render(message.subject.as_str(), &message.payload, form) {
                        Ok(text) => text,
                        Err(err) => format!("Event error: {err}\n\n{}", left_pad(&body, 10)),
                    }
                };
                if !emit(&text)? {
                    return Ok(());
                }
            }
            notice = session.next_notice() => match notice {
                Some(Notice::ServerError(text)) => bail!("{text}"),
                Some(_) => {}
                None => return Ok(()),
            },
            _ = &mut interrupt => return Ok(()),
        }
    }
}

/// Prints `text` and a newline at once; `false` when stdout is gone (the
/// reader of a pipe quit), which ends the command quietly.
fn emit(text: &str) -> anyhow::Result<bool> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(err) => Err(anyhow!("cannot write to stdout: {err}")),
    }
}

/// Every line of `text` indented by `indent` spaces.
fn left_pad(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    text.split('\n')
        .map(|line| format!("{pad}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `15:04:05` of a Go timestamp, in the zone it was written in (UTC).
fn short_time(timestamp: &str) -> String {
    parse_time(timestamp)
        .map(|time| time.format("%H:%M:%S").to_string())
        .unwrap_or_else(|| "00:00:00".to_string())
}

/// One event as natscli renders it (or, for STATSZ and advisories natscli
/// has no template for, in the same style).
fn render(subject: &str, payload: &[u8], form: Form) -> anyhow::Result<String> {
    let event: Advisory =
        serde_json::from_slice(payload).map_err(|err| anyhow!("parsing failed: {err}"))?;
    match event.kind.as_str() {
        CONNECT => Ok(client_event(&event, form, Kind::Connect)),
        DISCONNECT if subject.ends_with(".CLIENT.AUTH.ERR") => {
            Ok(client_event(&event, form, Kind::AuthError))
        }
        DISCONNECT => Ok(client_event(&event, form, Kind::Disconnect)),
        ACCOUNT_CONNS => Ok(account_event(&event, form)),
        "" => {
            let stats: ServerStatsMsg =
                serde_json::from_slice(payload).map_err(|err| anyhow!("parsing failed: {err}"))?;
            let is_statsz = serde_json::from_slice::<serde_json::Value>(payload)
                .map(|v| v.get("statsz").is_some())
                .unwrap_or(false);
            if is_statsz {
                Ok(statsz_event(&stats, form))
            } else {
                Err(anyhow!("unknown event schema on subject {subject}"))
            }
        }
        other => Ok(other_event(other, &event, payload, form)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Connect,
    Disconnect,
    AuthError,
}

fn client_event(event: &Advisory, form: Form, kind: Kind) -> String {
    let client = &event.client;
    let time = short_time(&event.timestamp);
    if form == Form::Line {
        return client_line(event, &time, kind);
    }
    if form == Form::Short {
        let label = match kind {
            Kind::Connect => "Connection",
            Kind::Disconnect => "Disconnection",
            Kind::AuthError => "Authentication Error",
        };
        let user = if client.user.is_empty() {
            String::new()
        } else {
            format!("user: {}", client.user)
        };
        let mut line = format!(
            "{time} [{label}] {user} cid: {} in account {}",
            client.id, client.account
        );
        if kind != Kind::Connect {
            let _ = write!(line, ": {}", event.reason);
        }
        return line;
    }

    let title = match kind {
        Kind::Connect => "Client Connection",
        Kind::Disconnect => "Client Disconnection",
        Kind::AuthError => "Client Authentication Error",
    };
    let mut out = format!("\n[{time}] [{}] {title}\n", event.id);
    if kind == Kind::Connect {
        let _ = write!(out, "\n   Server: {}", event.server.name);
        if !event.server.cluster.is_empty() {
            let _ = write!(out, "\n  Cluster: {}", event.server.cluster);
        }
    } else {
        if !event.reason.is_empty() {
            let _ = write!(out, "\n    Reason: {}", event.reason);
        }
        let _ = write!(out, "\n    Server: {}", event.server.name);
        if !event.server.cluster.is_empty() {
            let _ = write!(out, "\n   Cluster: {}", event.server.cluster);
        }
    }
    out.push_str("\n\n   Client:");
    client_lines(&mut out, client, kind == Kind::Connect);
    if kind == Kind::Connect {
        out.push('\n');
    } else {
        let _ = write!(
            out,
            "\n\n   Stats:\n                  RTT: {}\n      Client Received: {} messages ({})\n     Client Published: {} messages ({})",
            go_duration(std::time::Duration::from_nanos(u64::try_from(client.rtt).unwrap_or(0))),
            event.received.msgs,
            bytes(u64::try_from(event.received.bytes).unwrap_or(0)),
            event.sent.msgs,
            bytes(u64::try_from(event.sent.bytes).unwrap_or(0)),
        );
    }
    out
}

/// The default one-line form of a connect, disconnect or authentication error:
/// `TIME EVENT SERVER account=.. user=.. cid=.. name=".." host=.. [reason=".."]`,
/// then the traffic of a closed connection.
fn client_line(event: &Advisory, time: &str, kind: Kind) -> String {
    let client = &event.client;
    let label = match kind {
        Kind::Connect => "connect",
        Kind::Disconnect => "disconnect",
        Kind::AuthError => "auth-error",
    };
    let mut line = format!("{time} {label:<10} {}", event.server.name);
    let _ = write!(line, " account={}", client.account);
    match kind {
        // The identity the server refused: what the client presented.
        Kind::AuthError if client.user.is_empty() => line.push_str(" user=(none)"),
        _ if client.user.is_empty() => {}
        _ => {
            let _ = write!(line, " user={}", client.user);
        }
    }
    let _ = write!(line, " cid={}", client.id);
    if !client.name.is_empty() {
        let _ = write!(line, " name={:?}", client.name);
    }
    if !client.host.is_empty() {
        let _ = write!(line, " host={}", client.host);
    }
    if !client.lang.is_empty() {
        let _ = write!(line, " lang={}/{}", client.lang, client.version);
    }
    if kind != Kind::Connect {
        let _ = write!(line, " reason={:?}", event.reason);
        if kind == Kind::Disconnect {
            let _ = write!(
                line,
                " sent={} msgs/{} received={} msgs/{}",
                number(event.sent.msgs),
                bytes(u64::try_from(event.sent.bytes).unwrap_or(0)),
                number(event.received.msgs),
                bytes(u64::try_from(event.received.bytes).unwrap_or(0)),
            );
        }
    }
    line
}

/// The client block shared by connect and disconnect.
fn client_lines(out: &mut String, client: &ClientInfo, always_tags: bool) {
    let _ = write!(out, "\n                 ID: {}", client.id);
    if !client.user.is_empty() {
        let _ = write!(out, "\n               User: {}", client.user);
    }
    if !client.name.is_empty() {
        let _ = write!(out, "\n               Name: {}", client.name);
    }
    let _ = write!(out, "\n            Account: {}", client.account);
    let lang = if client.lang.is_empty() {
        "Unknown"
    } else {
        &client.lang
    };
    let _ = write!(
        out,
        "\n    Library Version: {}  Language: {lang}",
        client.version
    );
    if !client.host.is_empty() {
        let _ = write!(out, "\n               Host: {}", client.host);
    }
    if !client.jwt.is_empty() {
        let _ = write!(out, "\n         Issuer Key: {}", client.issuer_key);
        let _ = write!(out, "\n           Name Tag: {}", client.name_tag);
        if always_tags || !client.tags.is_empty() {
            let _ = write!(out, "\n               Tags: {}", client.tags.join(","));
        }
    }
    if !client.kind.is_empty() {
        let _ = write!(out, "\n        Client Kind: {}", client.kind);
    }
    if !client.client_type.is_empty() {
        let _ = write!(out, "\n        Client Type: {}", client.client_type);
    }
}

fn account_event(event: &Advisory, form: Form) -> String {
    let time = short_time(&event.timestamp);
    let sent_bytes = bytes(u64::try_from(event.sent.bytes).unwrap_or(0));
    let received_bytes = bytes(u64::try_from(event.received.bytes).unwrap_or(0));
    if form != Form::Extended {
        return format!(
            "{time} [Account] {} Server: {} Connections: {} Leaf Nodes: {} Slow: {} Sent: {} / {sent_bytes} Received: {} / {received_bytes}",
            event.account,
            event.server.name,
            event.conns,
            event.leafnodes,
            number(event.slow_consumers),
            number(event.sent.msgs),
            number(event.received.msgs),
        );
    }
    let mut out = format!(
        "\n[{time}] [{}] Account Status\n\n      Account: {}\n       Server: {}",
        event.id, event.account, event.server.name
    );
    if !event.server.cluster.is_empty() {
        let _ = write!(out, "\n      Cluster: {}", event.server.cluster);
    }
    let _ = write!(
        out,
        "\n  Connections: {}\n   Leaf Nodes: {}\n\n   Stats:\n            Received: {} messages ({received_bytes})\n           Published: {} messages ({sent_bytes})\n      Slow Consumers: {}",
        event.conns,
        event.leafnodes,
        number(event.received.msgs),
        number(event.sent.msgs),
        number(event.slow_consumers),
    );
    out
}

/// STATSZ (natscli has no template for it): the server's load in one view.
fn statsz_event(stats: &ServerStatsMsg, form: Form) -> String {
    let server = &stats.server;
    let s = &stats.statsz;
    let time = short_time(&server.time);
    let mem = bytes(u64::try_from(s.mem).unwrap_or(0));
    if form != Form::Extended {
        return format!(
            "{time} [Server Stats] {} Connections: {} Subscriptions: {} Memory: {mem} CPU: {:.0}% Slow: {} Sent: {} / {} Received: {} / {}",
            server.name,
            number(s.connections),
            number(s.subscriptions),
            s.cpu,
            number(s.slow_consumers),
            number(s.sent.msgs),
            bytes(u64::try_from(s.sent.bytes).unwrap_or(0)),
            number(s.received.msgs),
            bytes(u64::try_from(s.received.bytes).unwrap_or(0)),
        );
    }
    let mut out = format!(
        "\n[{time}] [{}] Server Statistics\n\n         Server: {}",
        server.id, server.name
    );
    if !server.cluster.is_empty() {
        let _ = write!(out, "\n        Cluster: {}", server.cluster);
    }
    let _ = write!(
        out,
        "\n        Version: {}\n    Connections: {}\n  Subscriptions: {}\n         Memory: {mem}\n            CPU: {:.0}% of {} cores\n Slow Consumers: {}\n\n   Stats:\n           Sent: {} messages ({})\n       Received: {} messages ({})",
        server.version,
        number(s.connections),
        number(s.subscriptions),
        s.cpu,
        s.cores,
        number(s.slow_consumers),
        number(s.sent.msgs),
        bytes(u64::try_from(s.sent.bytes).unwrap_or(0)),
        number(s.received.msgs),
        bytes(u64::try_from(s.received.bytes).unwrap_or(0)),
    );
    out
}

/// An advisory of a type without a template here (JetStream's, say): its
/// type, then its JSON.
fn other_event(kind: &str, event: &Advisory, payload: &[u8], form: Form) -> String {
    let time = short_time(&event.timestamp);
    if form != Form::Extended {
        return format!("{time} [{kind}] {}", event.id);
    }
    let body = serde_json::from_slice::<crate::cmd::server::json::Json>(payload)
        .map(|json| json.pretty())
        .unwrap_or_else(|_| String::from_utf8_lossy(payload).into_owned());
    format!(
        "\n[{time}] [{}] {kind}\n\n{}\n",
        event.id,
        left_pad(&body, 4)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH_ERR: &str = r#"{"type":"io.nats.server.advisory.v1.client_disconnect","id":"jf52","timestamp":"2026-11-21T05:37:48.669515582Z",
        "server":{"name":"gannet-ref","id":"NAHO"},"client":{"host":"127.0.0.1","id":9,"acc":"$G","user":"a","name":"bad-client",
        "lang":"python-raw","ver":"0.0.1","rtt":322000,"kind":"Client","client_type":"nats"},
        "sent":{"msgs":0,"bytes":0},"received":{"msgs":0,"bytes":0},"reason":"Authentication Failure"}"#;

    #[test]
    fn connect_renders_like_natscli() {
        let payload = r#"{"type":"io.nats.server.advisory.v1.client_connect","id":"jf52","timestamp":"2026-11-21T05:37:47.316133234Z",
            "server":{"name":"gannet-ref"},"client":{"host":"127.0.0.1","id":8,"acc":"USERS","user":"a","name":"bosh-agent-1",
            "lang":"python-raw","ver":"0.0.1","kind":"Client","client_type":"nats"}}"#;
        let text = render(
            "$SYS.ACCOUNT.USERS.CONNECT",
            payload.as_bytes(),
            Form::Extended,
        )
        .unwrap();
        assert_eq!(
            text,
            "\n[05:37:47] [jf52] Client Connection\n\n   Server: gannet-ref\n\n   Client:\n                 ID: 8\n               User: a\n               Name: bosh-agent-1\n            Account: USERS\n    Library Version: 0.0.1  Language: python-raw\n               Host: 127.0.0.1\n        Client Kind: Client\n        Client Type: nats\n"
        );
        let short = render(
            "$SYS.ACCOUNT.USERS.CONNECT",
            payload.as_bytes(),
            Form::Short,
        )
        .unwrap();
        assert_eq!(
            short,
            "05:37:47 [Connection] user: a cid: 8 in account USERS"
        );
    }

    #[test]
    fn disconnect_and_auth_error() {
        let text = render(
            "$SYS.ACCOUNT.$G.DISCONNECT",
            AUTH_ERR.as_bytes(),
            Form::Extended,
        )
        .unwrap();
        assert!(text.starts_with("\n[05:37:48] [jf52] Client Disconnection\n\n    Reason: Authentication Failure\n    Server: gannet-ref\n\n   Client:\n"), "{text}");
        assert!(text.ends_with("\n   Stats:\n                  RTT: 322µs\n      Client Received: 0 messages (0 B)\n     Client Published: 0 messages (0 B)"), "{text}");
        let short = render(
            "$SYS.SERVER.NAHO.CLIENT.AUTH.ERR",
            AUTH_ERR.as_bytes(),
            Form::Short,
        )
        .unwrap();
        assert_eq!(
            short,
            "05:37:48 [Authentication Error] user: a cid: 9 in account $G: Authentication Failure"
        );
    }

    #[test]
    fn default_line_names_the_refused_identity_and_the_reason() {
        let line = render(
            "$SYS.SERVER.NAHO.CLIENT.AUTH.ERR",
            AUTH_ERR.as_bytes(),
            Form::Line,
        )
        .unwrap();
        assert_eq!(
            line,
            "05:37:48 auth-error gannet-ref account=$G user=a cid=9 name=\"bad-client\" host=127.0.0.1 lang=python-raw/0.0.1 reason=\"Authentication Failure\""
        );
        let anonymous = AUTH_ERR.replace("\"user\":\"a\",", "");
        let line = render(
            "$SYS.SERVER.NAHO.CLIENT.AUTH.ERR",
            anonymous.as_bytes(),
            Form::Line,
        )
        .unwrap();
        assert!(line.contains(" user=(none) cid=9 "), "{line}");
        let line = render(
            "$SYS.ACCOUNT.$G.DISCONNECT",
            AUTH_ERR.as_bytes(),
            Form::Line,
        )
        .unwrap();
        assert!(
            line.ends_with(
                " reason=\"Authentication Failure\" sent=0 msgs/0 B received=0 msgs/0 B"
            ),
            "{line}"
        );
    }

    #[test]
    fn unknown_schemas_are_errors_and_statsz_renders() {
        assert!(render(
            "$SYS.SERVER.X.SHUTDOWN",
            br#"{"name":"n1"}"#,
            Form::Extended
        )
        .unwrap_err()
        .to_string()
        .contains("unknown event schema"));
        let statsz = br#"{"server":{"name":"n1","time":"2026-01-01T10:00:00Z"},"statsz":{"connections":3,"subscriptions":70,"mem":1048576,"cpu":2.4}}"#;
        let short = render("$SYS.SERVER.X.STATSZ", statsz, Form::Short).unwrap();
        assert!(short.starts_with("10:00:00 [Server Stats] n1 Connections: 3 Subscriptions: 70 Memory: 1.0 MiB CPU: 2%"), "{short}");
    }
}
