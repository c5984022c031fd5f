//! `server check connection`: natscli's monitoring check of a connection —
//! time to connect, round-trip time and a full publish/receive through the
//! server against warning and critical thresholds — rendered as a Nagios line
//! (default), text tables, JSON or Prometheus metrics, with the Nagios exit
//! code (0 OK, 1 WARNING, 2 CRITICAL; Prometheus always 0).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use clap::{Args, Subcommand, ValueEnum};
use futures::StreamExt;
use rand::Rng as _;

use crate::connect::{redact_servers, Connector};
use crate::duration::parse_duration;
use crate::format::go_duration;
use crate::table::Table;

use super::json::Json;
use super::view::commaf_with_digits;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Render the check in a specific format
    #[arg(long, value_enum, default_value = "nagios", global = true)]
    format: CheckFormat,
    /// The prometheus namespace to use in output
    #[arg(long, default_value = "nats_server_check", global = true)]
    namespace: String,
    /// Save output to a file rather than STDOUT
    #[arg(long, value_name = "FILE", global = true)]
    outfile: Option<PathBuf>,
    #[command(subcommand)]
    command: CheckCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    Nagios,
    Json,
    Prometheus,
    Text,
}

#[derive(Debug, Subcommand)]
enum CheckCommand {
    /// Checks basic server connection
    #[command(alias = "conn")]
    Connection(ConnectionArgs),
}

#[derive(Debug, Args)]
struct ConnectionArgs {
    /// Warning threshold to allow for establishing connections
    #[arg(long, alias = "connect-warning", default_value = "500ms", value_parser = parse_duration, value_name = "DURATION")]
    connect_warn: Duration,
    /// Critical threshold to allow for establishing connections
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
    connect_critical: Duration,
    /// Warning threshold to allow for server RTT
    #[arg(long, alias = "rtt-warning", default_value = "500ms", value_parser = parse_duration, value_name = "DURATION")]
    rtt_warn: Duration,
    /// Critical threshold to allow for server RTT
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
    rtt_critical: Duration,
    /// Warning threshold to allow for full round trip test
    #[arg(long, alias = "req-warning", default_value = "500ms", value_parser = parse_duration, value_name = "DURATION")]
    req_warn: Duration,
    /// Critical threshold to allow for full round trip test
    #[arg(long, default_value = "1s", value_parser = parse_duration, value_name = "DURATION")]
    req_critical: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Warning,
    Critical,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
        }
    }

    fn nagios_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::Warning => 1,
            Status::Critical => 2,
        }
    }
}

/// One measured value with its thresholds.
#[derive(Debug, Clone)]
struct PerfItem {
    name: &'static str,
    value: f64,
    warn: f64,
    crit: f64,
    unit: &'static str,
    help: &'static str,
}

impl PerfItem {
    /// Nagios perfdata: `name=value[unit][;warn[;crit]]`.
    fn nagios(&self) -> String {
        let value = |v: f64| {
            if self.unit == "s" {
                format!("{v:.4}")
            } else {
                format!("{v:.0}")
            }
        };
        let name = if self.name.contains([' ', '\t']) {
            format!("'{}'", self.name)
        } else {
            self.name.to_string()
        };
        let mut out = format!("{name}={}{}", value(self.value), self.unit);
        if self.warn != 0.0 || self.crit != 0.0 {
            if self.warn != 0.0 {
                out.push_str(&format!(";{}", value(self.warn)));
            } else {
                out.push(';');
            }
            if self.crit != 0.0 {
                out.push_str(&format!(";{}", value(self.crit)));
            }
        }
        out
    }
}

/// A check's outcome: messages by level and the measurements.
#[derive(Debug)]
struct CheckResult {
    name: &'static str,
    suite: &'static str,
    oks: Vec<String>,
    warnings: Vec<String>,
    criticals: Vec<String>,
    perf: Vec<PerfItem>,
}

impl CheckResult {
    fn new(name: &'static str, suite: &'static str) -> Self {
        CheckResult {
            name,
            suite,
            oks: Vec::new(),
            warnings: Vec::new(),
            criticals: Vec::new(),
            perf: Vec::new(),
        }
    }

    fn status(&self) -> Status {
        if !self.criticals.is_empty() {
            Status::Critical
        } else if !self.warnings.is_empty() {
            Status::Warning
        } else {
            Status::Ok
        }
    }

    /// Adds the measurement and the message for its level: critical at or
    /// above `crit`, warning at or above `warn` (a zero threshold is off).
    fn measure(&mut self, item: PerfItem, over: impl Fn(f64) -> String, ok: String) {
        let value = item.value;
        if item.crit != 0.0 && value >= item.crit {
            self.criticals.push(over(item.crit));
        } else if item.warn != 0.0 && value >= item.warn {
            self.warnings.push(over(item.warn));
        } else {
            self.oks.push(ok);
        }
        self.perf.push(item);
    }

    fn render(&self, format: CheckFormat, namespace: &str) -> String {
        match format {
            CheckFormat::Nagios => self.nagios(),
            CheckFormat::Json => self.json(),
            CheckFormat::Text => self.text(),
            CheckFormat::Prometheus => self.prometheus(namespace),
        }
    }

    fn nagios(&self) -> String {
        let mut parts = vec![self.name.to_string()];
        parts.extend(self.criticals.iter().map(|c| format!("Crit:{c}")));
        parts.extend(self.warnings.iter().map(|w| format!("Warn:{w}")));
        parts.extend(self.oks.iter().map(|o| format!("OK:{o}")));
        let status = self.status().as_str();
        if self.perf.is_empty() {
            format!("{status} {}", parts.join(" "))
        } else {
            let perf: Vec<String> = self.perf.iter().map(PerfItem::nagios).collect();
            format!("{status} {} | {}", parts.join(" "), perf.join(" "))
        }
    }

    fn json(&self) -> String {
        let strings =
            |list: &[String]| Json::Array(list.iter().cloned().map(Json::String).collect());
        let mut entries = vec![
            (
                "status".to_string(),
                Json::String(self.status().as_str().into()),
            ),
            ("check_suite".to_string(), Json::String(self.suite.into())),
            ("check_name".to_string(), Json::String(self.name.into())),
        ];
        for (key, list) in [
            ("warning", &self.warnings),
            ("critical", &self.criticals),
            ("ok", &self.oks),
        ] {
            if !list.is_empty() {
                entries.push((key.to_string(), strings(list)));
            }
        }
        let perf = self
            .perf
            .iter()
            .map(|item| {
                let mut fields = vec![
                    ("name".to_string(), Json::String(item.name.into())),
                    ("value".to_string(), Json::Float(item.value)),
                    ("warning".to_string(), Json::Float(item.warn)),
                    ("critical".to_string(), Json::Float(item.crit)),
                ];
                if !item.unit.is_empty() {
                    fields.push(("unit".to_string(), Json::String(item.unit.into())));
                }
                Json::Object(fields)
            })
            .collect();
        entries.push(("perf_data".to_string(), Json::Array(perf)));
        Json::Object(entries).pretty()
    }

    fn text(&self) -> String {
        let mut out = format!("{}: {}\n\n", self.name, self.status().as_str());
        let mut details = Table::new("");
        details.headers(["Status", "Message"]);
        for (label, list) in [
            ("OK", &self.oks),
            ("Warning", &self.warnings),
            ("Critical", &self.criticals),
        ] {
            for message in list {
                details.row([label, message.as_str()]);
            }
        }
        if !details.is_empty() {
            out.push_str("Status Detail\n\n");
            out.push_str(&details.render_boxed());
        }
        if !self.perf.is_empty() {
            let mut metrics = Table::new("");
            metrics.headers([
                "Metric",
                "Value",
                "Unit",
                "Critical Threshold",
                "Warning Threshold",
                "Description",
            ]);
            for item in &self.perf {
                metrics.row([
                    item.name.to_string(),
                    commaf_with_digits(item.value, 3),
                    item.unit.to_string(),
                    commaf_with_digits(item.crit, 3),
                    commaf_with_digits(item.warn, 3),
                    item.help.to_string(),
                ]);
            }
            out.push_str("\nCheck Metrics\n\n");
            out.push_str(&metrics.render_boxed());
        }
        out
    }

    /// The Prometheus text format, metric families sorted by name.
    fn prometheus(&self, namespace: &str) -> String {
        let item = escape_label(&self.name.replace('"', "."));
        let fq = |name: &str| {
            [namespace, self.suite, name]
                .iter()
                .filter(|part| !part.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("_")
        };
        let mut families: Vec<(String, String, String)> = self
            .perf
            .iter()
            .map(|p| {
                let name = fq(p.name);
                let help = if p.help.is_empty() {
                    format!("Data about the NATS CLI check {}", self.suite)
                } else {
                    p.help.to_string()
                };
                let sample = format!("{name}{{item=\"{item}\"}} {}", go_float(p.value));
                (name, help, sample)
            })
            .collect();
        let status = self.status();
        let name = fq("status_code");
        families.push((
            name.clone(),
            format!("Nagios compatible status code for {}", self.suite),
            format!(
                "{name}{{item=\"{item}\",status=\"{}\"}} {}",
                status.as_str(),
                status.nagios_code()
            ),
        ));
        families.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = String::new();
        for (name, help, sample) in families {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{sample}\n"
            ));
        }
        out
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A float as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it.
fn go_float(value: f64) -> String {
    if value == 0.0 {
        return "0".to_string();
    }
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".to_string()
        } else if value > 0.0 {
            "+Inf".to_string()
        } else {
            "-Inf".to_string()
        };
    }
    let scientific = format!("{value:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return format!("{value}");
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..21).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    } else {
        format!("{value}")
    }
}

pub async fn run(args: CheckArgs, connector: &Connector) -> anyhow::Result<()> {
    let CheckCommand::Connection(thresholds) = &args.command;
    let mut result = CheckResult::new("Connection", "connections");
    check_connection(&mut result, connector, thresholds).await;
    let text = result.render(args.format, &args.namespace);
    let code = match args.format {
        CheckFormat::Prometheus => 0,
        _ => result.status().nagios_code(),
    };
    match &args.outfile {
        Some(path) => write_atomically(path, &format!("{text}\n"))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{text}").context("cannot write to stdout")?;
            stdout.flush().context("cannot write to stdout")?;
        }
    }
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// Writes beside the target then renames, so readers never see half a file.
fn write_atomically(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "check".to_string());
    let temp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    std::fs::write(&temp, text).with_context(|| format!("cannot write {}", temp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o600));
    }
    std::fs::rename(&temp, path).map_err(|err| {
        let _ = std::fs::remove_file(&temp);
        anyhow::anyhow!("cannot write {}: {err}", path.display())
    })
}

/// The URL connected to, as natscli names it (with any password masked).
fn connected_url(connector: &Connector, client: &async_nats::Client) -> String {
    let servers = connector.server_list();
    match servers.as_slice() {
        [one] if one.contains("://") => redact_servers(one),
        [one] => format!("nats://{}", redact_servers(one)),
        _ => {
            let info = client.server_info();
            format!("nats://{}:{}", info.host, info.port)
        }
    }
}

async fn check_connection(result: &mut CheckResult, connector: &Connector, t: &ConnectionArgs) {
    let secs = |d: Duration| d.as_secs_f64();
    let started = Instant::now();
    let session = match connector.connect().await {
        Ok(session) => session,
        Err(err) => {
            result.criticals.push(format!("connection failed: {err:#}"));
            return;
        }
    };
    let connect_time = started.elapsed();
    let url = connected_url(connector, &session.client);
    result.measure(
        PerfItem {
            name: "connect_time",
            value: secs(connect_time),
            warn: secs(t.connect_warn),
            crit: secs(t.connect_critical),
            unit: "s",
            help: "Time taken to connect to NATS",
        },
        |limit| {
            format!(
                "connected to {url}, connect time exceeded {}",
                go_float(limit)
            )
        },
        format!("connected to {url} in {}", go_duration(connect_time)),
    );

    let client = &session.client;
    let rtt = match round_trip(client, Bytes::new(), connector.timeout).await {
        Ok((rtt, _)) => rtt,
        Err(err) => {
            result.criticals.push(format!("rtt failed: {err:#}"));
            return;
        }
    };
    result.measure(
        PerfItem {
            name: "rtt",
            value: secs(rtt),
            warn: secs(t.rtt_warn),
            crit: secs(t.rtt_critical),
            unit: "s",
            help: "The round-trip-time of the connection",
        },
        |limit| format!("rtt time exceeded {}", go_float(limit)),
        format!("rtt time {}", go_duration(rtt)),
    );

    let payload = Bytes::from(random_text(100));
    let (request_time, received) =
        match round_trip(client, payload.clone(), connector.timeout).await {
            Ok(done) => done,
            Err(err) => {
                result.criticals.push(format!("{err:#}"));
                return;
            }
        };
    if received != payload {
        result
            .criticals
            .push("did not receive expected message".to_string());
    }
    let taken = secs(request_time);
    result.measure(
        PerfItem {
            name: "request_time",
            value: taken,
            warn: secs(t.req_warn),
            crit: secs(t.req_critical),
            unit: "s",
            help: "Time taken for a full Request-Reply operation",
        },
        |_| format!("round trip request took {taken:.6}"),
        format!("round trip took {taken:.6}s"),
    );
}

/// Publishes `payload` to a fresh inbox this connection listens on and times
/// its return through the server.
async fn round_trip(
    client: &async_nats::Client,
    payload: Bytes,
    timeout: Duration,
) -> anyhow::Result<(Duration, Bytes)> {
    let inbox = client.new_inbox();
    let mut sub = client
        .subscribe(inbox.clone())
        .await
        .with_context(|| format!("could not subscribe to {inbox}"))?;
    client
        .flush()
        .await
        .with_context(|| format!("could not subscribe to {inbox}"))?;
    let started = Instant::now();
    client
        .publish(inbox.clone(), payload)
        .await
        .with_context(|| format!("could not publish to {inbox}"))?;
    client
        .flush()
        .await
        .with_context(|| format!("could not publish to {inbox}"))?;
    let message = tokio::time::timeout(timeout, sub.next())
        .await
        .map_err(|_| anyhow::anyhow!("did not receive from {inbox}: timeout"))?
        .ok_or_else(|| anyhow::anyhow!("did not receive from {inbox}: subscription closed"))?;
    let elapsed = started.elapsed();
    let _ = sub.unsubscribe().await;
    Ok((elapsed, message.payload))
}

fn random_text(length: usize) -> String {
    const ALPHABET: &[u8] =
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@#_-%^&()";
    let mut rng = rand::rng();
    (0..length)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CheckResult {
        let mut result = CheckResult::new("Connection", "connections");
        result.measure(
            PerfItem {
                name: "connect_time",
                value: 0.0012,
                warn: 0.5,
                crit: 1.0,
                unit: "s",
                help: "Time taken to connect to NATS",
            },
            |limit| format!("connect time exceeded {limit}"),
            "connected".to_string(),
        );
        result
    }

    #[test]
    fn nagios_line_with_perfdata() {
        assert_eq!(
            sample().nagios(),
            "OK Connection OK:connected | connect_time=0.0012s;0.5000;1.0000"
        );
        let mut slow = sample();
        slow.measure(
            PerfItem {
                name: "rtt",
                value: 0.7,
                warn: 0.5,
                crit: 1.0,
                unit: "s",
                help: "",
            },
            |limit| format!("rtt time exceeded {limit}"),
            "fine".to_string(),
        );
        assert_eq!(slow.status(), Status::Warning);
        assert!(slow
            .nagios()
            .starts_with("WARNING Connection Warn:rtt time exceeded 0.5 OK:connected |"));
    }

    #[test]
    fn json_keeps_natscli_keys() {
        let json = sample().json();
        assert!(json.starts_with("{\n  \"status\": \"OK\",\n  \"check_suite\": \"connections\",\n  \"check_name\": \"Connection\",\n  \"ok\": ["), "{json}");
        assert!(json.contains("\"critical\": 1,"), "{json}");
    }

    #[test]
    fn prometheus_families_are_sorted() {
        let text = sample().prometheus("nats_server_check");
        assert_eq!(
            text,
            "# HELP nats_server_check_connections_connect_time Time taken to connect to NATS\n\
             # TYPE nats_server_check_connections_connect_time gauge\n\
             nats_server_check_connections_connect_time{item=\"Connection\"} 0.0012\n\
             # HELP nats_server_check_connections_status_code Nagios compatible status code for connections\n\
             # TYPE nats_server_check_connections_status_code gauge\n\
             nats_server_check_connections_status_code{item=\"Connection\",status=\"OK\"} 0\n"
        );
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(go_float(0.0012), "0.0012");
        assert_eq!(go_float(1.5e-5), "1.5e-05");
        assert_eq!(go_float(2.0), "2");
    }
}
