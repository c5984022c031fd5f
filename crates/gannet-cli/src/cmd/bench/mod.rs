//! `bench pub|sub|request|reply`: natscli's core NATS benchmarks, plus
//! Gannet's `bench connect` (connection setup rate, TLS handshakes included).
//! This module owns the command line (natscli's flags), checking it into a
//! [`Plan`], the banner and log lines natscli prints on stderr, and printing
//! the results; `clients` runs the clients, `connect` the connecting loops and
//! `stats` computes and formats what they measured. `bench js ...`, natscli's
//! JetStream benchmarks, live in `js` (command line and setup) and
//! `js_clients` (the clients), and report through the same `stats`.

mod clients;
mod connect;
mod js;
mod js_clients;
mod stats;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use async_nats::{HeaderMap, HeaderName};
use clap::{Args, Subcommand};

use crate::connect::Connector;
use crate::duration::parse_duration;
use crate::format;

pub use stats::Kind;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Publish Core NATS messages
    Pub(PubArgs),
    /// Subscribe to Core NATS messages
    Sub(SubArgs),
    /// Send requests and wait for their replies (needs `bench reply` running)
    Request(RequestArgs),
    /// Answer requests until interrupted
    #[command(alias = "serve")]
    Reply(ReplyArgs),
    /// Micro-service mode, natscli's names for request and reply
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Open and close connections (TLS handshakes included): connections per second
    Connect(connect::ConnectArgs),
    /// JetStream benchmark commands
    #[command(subcommand)]
    Js(js::JsCommand),
}

#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Send a request and wait for its reply
    Request(RequestArgs),
    /// Service requests
    #[command(alias = "reply")]
    Serve(ReplyArgs),
}

/// The flags every benchmark takes.
#[derive(Debug, Args)]
pub struct CommonFlags {
    /// Subject to use for the benchmark
    #[arg(value_name = "SUBJECT")]
    pub subject: String,
    /// Number of concurrent clients
    #[arg(long, default_value_t = 1, value_name = "CLIENTS")]
    pub clients: usize,
    /// Number of messages to publish or subscribe to
    #[arg(long, default_value_t = 100_000, value_name = "MSGS")]
    pub msgs: u64,
    /// Size of the test messages (16, 1KB, 1KiB, 2MB...)
    #[arg(long, default_value = "128B", value_name = "SIZE")]
    pub size: String,
    #[command(flatten)]
    pub report: ReportFlags,
}

/// How every benchmark reports: progress bars, and a CSV file if asked.
#[derive(Debug, Args)]
pub struct ReportFlags {
    /// Save benchmark data to CSV file
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Disable the progress bars
    #[arg(long = "no-progress", overrides_with = "progress")]
    pub no_progress: bool,
    /// Enable the progress bars (the default)
    #[arg(long, overrides_with = "no_progress", hide = true)]
    pub progress: bool,
}

/// Payload, header and rate flags of the senders.
#[derive(Debug, Args)]
pub struct SendFlags {
    /// Sleep for the specified interval between publications
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0s")]
    pub sleep: Duration,
    /// File containing a message payload to send (instead of --size zero bytes)
    #[arg(long, value_name = "FILE")]
    pub payload: Option<PathBuf>,
    /// Adds headers to the message using K:V format
    #[arg(short = 'H', long = "header", value_name = "K:V")]
    pub headers: Vec<String>,
    /// Throttle the aggregate send rate to about THROUGHPUT messages/second across all clients (0 disables)
    #[arg(long, default_value_t = 0, value_name = "THROUGHPUT")]
    pub throughput: u64,
    /// Run for about this long instead of a fixed message count, deriving the count from --throughput
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct PubArgs {
    #[command(flatten)]
    pub common: CommonFlags,
    #[command(flatten)]
    pub send: SendFlags,
    /// Multi-subject mode, each message is published on a subject that includes the publisher's message sequence number as a token
    #[arg(long)]
    pub multisubject: bool,
    /// The maximum number of subjects to use in multi-subject mode (0 means no max)
    #[arg(long, default_value_t = 100_000, value_name = "MAX")]
    pub multisubjectmax: u64,
    /// Randomize which subjects are being used when in multisubject mode
    #[arg(long)]
    pub multisubjectrandomize: bool,
}

#[derive(Debug, Args)]
pub struct SubArgs {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Multi-subject mode: subscribe to SUBJECT.* (for `bench pub --multisubject`)
    #[arg(long)]
    pub multisubject: bool,
}

#[derive(Debug, Args)]
pub struct RequestArgs {
    #[command(flatten)]
    pub common: CommonFlags,
    #[command(flatten)]
    pub send: SendFlags,
}

#[derive(Debug, Args)]
pub struct ReplyArgs {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Sleep for the specified interval before replying to each request
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "0s")]
    pub sleep: Duration,
    /// Subscribe without the queue group, so every replier answers every request
    #[arg(long)]
    pub no_queue: bool,
}

/// Everything a run needs, checked.
#[derive(Debug, Clone)]
pub struct Plan {
    pub kind: Kind,
    pub subject: String,
    pub clients: usize,
    pub msgs: u64,
    /// Payload size in bytes (the payload file's length when one is given).
    pub size: usize,
    pub payload_file: Option<PathBuf>,
    pub headers: Option<HeaderMap>,
    pub sleep: Duration,
    pub throughput: u64,
    pub duration: Option<Duration>,
    pub multisubject: bool,
    pub multisubject_max: u64,
    pub multisubject_random: bool,
    pub progress: bool,
    pub csv: Option<PathBuf>,
    pub queue: bool,
}

impl Plan {
    fn new(kind: Kind, common: CommonFlags) -> anyhow::Result<Plan> {
        let size = parse_size(&common.size).filter(|&s| s > 0).ok_or_else(|| {
            anyhow!(
                "can not parse or invalid the value specified for the message size: {}",
                common.size
            )
        })?;
        let size = usize::try_from(size).map_err(|_| {
            anyhow!(
                "the message size {} is too large for this platform",
                common.size
            )
        })?;
        if common.clients == 0 {
            bail!("number of clients should be greater than 0");
        }
        if common.subject.trim().is_empty() {
            bail!("the subject may not be empty");
        }
        Ok(Plan {
            kind,
            subject: common.subject,
            clients: common.clients,
            msgs: common.msgs,
            size,
            payload_file: None,
            headers: None,
            sleep: Duration::ZERO,
            throughput: 0,
            duration: None,
            multisubject: false,
            multisubject_max: 0,
            multisubject_random: false,
            progress: !common.report.no_progress,
            csv: common.report.csv,
            queue: true,
        })
    }

    fn with_send(mut self, send: SendFlags) -> anyhow::Result<Plan> {
        self.sleep = send.sleep;
        self.throughput = send.throughput;
        self.headers = parse_headers(&send.headers)?;
        if let Some(file) = send.payload {
            let meta = std::fs::metadata(&file)
                .with_context(|| format!("payload {}: cannot read the file", file.display()))?;
            self.size = usize::try_from(meta.len())
                .map_err(|_| anyhow!("payload {}: the file is too large", file.display()))?;
            self.payload_file = Some(file);
        }
        if let Some(duration) = send.duration.filter(|d| !d.is_zero()) {
            if self.throughput == 0 {
                bail!("--duration requires --throughput to be set");
            }
            let msgs = (self.throughput as f64 * duration.as_secs_f64()).round() as u64;
            if msgs == 0 {
                bail!(
                    "the combination of --throughput={} and --duration={} results in zero messages",
                    self.throughput,
                    format::go_duration(duration)
                );
            }
            self.msgs = msgs;
            self.duration = Some(duration);
        }
        Ok(self)
    }

    /// natscli gives each sender an equal share, the first ones one more.
    fn check_msgs(&mut self) -> anyhow::Result<()> {
        if self.msgs == 0 {
            bail!("number of messages should be greater than 0");
        }
        let sends = matches!(
            self.kind,
            Kind::Pub | Kind::Request | Kind::JsPubSync | Kind::JsPubAsync
        );
        if sends && self.clients as u64 > self.msgs {
            self.clients = self.msgs as usize;
        }
        Ok(())
    }

    /// The subject subscribers listen on.
    pub fn subscribe_subject(&self) -> String {
        if self.multisubject {
            format!("{}.*", self.subject)
        } else {
            self.subject.clone()
        }
    }

    /// The banner natscli logs first: the settings, sorted by name.
    fn banner(&self) -> String {
        let mut settings: Vec<(&str, String)> = vec![
            ("msgs", format::number(self.msgs)),
            ("msg-size", format::bytes(self.size as u64)),
            ("clients", format::number(self.clients as u64)),
        ];
        match self.kind {
            Kind::Pub => {
                settings.push(("subject", self.subscribe_subject()));
                settings.push(("multi-subject", self.multisubject.to_string()));
                settings.push(("multi-subject-max", format::number(self.multisubject_max)));
                settings.push((
                    "multi-subject-randomize",
                    self.multisubject_random.to_string(),
                ));
                settings.push(("sleep", format::humanize_duration(self.sleep)));
            }
            Kind::Sub => {
                settings.push(("subject", self.subscribe_subject()));
                settings.push(("multi-subject", self.multisubject.to_string()));
            }
            Kind::Request | Kind::Reply => {
                settings.push(("subject", self.subject.clone()));
                settings.push(("sleep", format::humanize_duration(self.sleep)));
            }
            Kind::Connect
            | Kind::JsPubSync
            | Kind::JsPubAsync
            | Kind::JsOrdered
            | Kind::JsConsume
            | Kind::JsFetch => {}
        }
        if self.throughput > 0 && matches!(self.kind, Kind::Pub | Kind::Request) {
            settings.push(("throughput", format::number(self.throughput)));
            if let Some(duration) = self.duration {
                settings.push(("duration", format::humanize_duration(duration)));
            }
        }
        settings.sort_by(|a, b| a.0.cmp(b.0));
        let joined: Vec<String> = settings
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        format!(
            "Starting {} benchmark [{}]",
            self.kind.label(),
            joined.join(", ")
        )
    }
}

pub async fn run(command: BenchCommand, connector: &Connector) -> anyhow::Result<()> {
    let plan = match command {
        BenchCommand::Pub(args) => {
            let mut plan = Plan::new(Kind::Pub, args.common)?.with_send(args.send)?;
            plan.multisubject = args.multisubject;
            plan.multisubject_max = args.multisubjectmax;
            plan.multisubject_random = args.multisubjectrandomize;
            plan
        }
        BenchCommand::Sub(args) => {
            let mut plan = Plan::new(Kind::Sub, args.common)?;
            plan.multisubject = args.multisubject;
            plan
        }
        BenchCommand::Request(args) | BenchCommand::Service(ServiceCommand::Request(args)) => {
            Plan::new(Kind::Request, args.common)?.with_send(args.send)?
        }
        BenchCommand::Reply(args) | BenchCommand::Service(ServiceCommand::Serve(args)) => {
            let mut plan = Plan::new(Kind::Reply, args.common)?;
            plan.sleep = args.sleep;
            plan.queue = !args.no_queue;
            plan
        }
        BenchCommand::Js(command) => return js::run(command, connector).await,
        BenchCommand::Connect(args) => {
            let plan = connect::ConnectPlan::new(args)?;
            log(&plan.banner());
            let outcome = connect::run(&plan, connector).await?;
            return print_outcome(&outcome, plan.csv.as_deref());
        }
    };
    run_plan(plan, connector).await
}

async fn run_plan(mut plan: Plan, connector: &Connector) -> anyhow::Result<()> {
    plan.check_msgs()?;
    log(&plan.banner());
    let outcome = match plan.kind {
        Kind::Pub => clients::run_pub(&plan, connector).await?,
        Kind::Sub => clients::run_sub(&plan, connector).await?,
        Kind::Request => clients::run_request(&plan, connector).await?,
        Kind::Reply => return clients::run_reply(&plan, connector).await,
        Kind::Connect => bail!("bench connect has a plan of its own"),
        Kind::JsPubSync | Kind::JsPubAsync | Kind::JsOrdered | Kind::JsConsume | Kind::JsFetch => {
            bail!("bench js has plans of its own")
        }
    };
    print_outcome(&outcome, plan.csv.as_deref())
}

/// The summary on stdout (after natscli's blank line), then the CSV file.
fn print_outcome(outcome: &clients::Outcome, csv: Option<&Path>) -> anyhow::Result<()> {
    if outcome.troubled {
        log("WARNING: at least one of the clients disconnected or experienced an error during the benchmark. These results are not optimal!");
    }
    println!();
    println!("{}", outcome.bench.report());
    if let Some(path) = csv {
        write_private(path, outcome.bench.csv().as_bytes())
            .with_context(|| format!("writing file {}", path.display()))?;
        println!("Saved metric data in csv file {}", path.display());
    }
    Ok(())
}

/// Writes a file readable by its owner only, as natscli does.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(data)
}

/// A line on stderr with the date and time in front, as Go's `log` prints.
pub fn log(message: &str) {
    let now = chrono::Local::now().format("%Y/%m/%d %H:%M:%S");
    eprintln!("{now} {message}");
}

/// natscli's sizes: a plain number of bytes, or a number with a binary unit
/// (B, K, KB, KiB, M, MB, MiB, G, GB, GiB, T, TB, TiB; any case).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.starts_with('-') {
        return None;
    }
    if let Ok(bytes) = text.parse::<u64>() {
        return Some(bytes);
    }
    let digits = text.find(|c: char| !c.is_ascii_digit())?;
    if digits == 0 {
        return None;
    }
    let number: u64 = text[..digits].parse().ok()?;
    let shift = match text[digits..].to_ascii_uppercase().as_str() {
        "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return None,
    };
    number.checked_mul(1u64 << shift)
}

/// `-H K:V` flags into headers.
pub(crate) fn parse_headers(flags: &[String]) -> anyhow::Result<Option<HeaderMap>> {
    if flags.is_empty() {
        return Ok(None);
    }
    let mut headers = HeaderMap::new();
    for flag in flags {
        let (key, value) = flag
            .split_once(':')
            .ok_or_else(|| anyhow!("invalid header {flag:?}"))?;
        let name: HeaderName = key
            .trim()
            .parse()
            .map_err(|_| anyhow!("invalid header {flag:?}: bad header name"))?;
        let value = value.trim();
        if value.contains(['\r', '\n']) {
            bail!("invalid header {flag:?}: the value may not contain line breaks");
        }
        headers.append(name, value);
    }
    Ok(Some(headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_like_natscli() {
        assert_eq!(parse_size("16"), Some(16));
        assert_eq!(parse_size("128B"), Some(128));
        assert_eq!(parse_size("1KB"), Some(1024));
        assert_eq!(parse_size("1KiB"), Some(1024));
        assert_eq!(parse_size("1k"), Some(1024));
        assert_eq!(parse_size("2MB"), Some(2 << 20));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("12XB"), None);
        assert_eq!(parse_size("KB"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn the_banner_lists_settings_by_name() {
        let common = CommonFlags {
            subject: "foo".into(),
            clients: 1,
            msgs: 100_000,
            size: "128B".into(),
            report: ReportFlags {
                csv: None,
                no_progress: false,
                progress: false,
            },
        };
        let mut plan = Plan::new(Kind::Pub, common).unwrap();
        plan.multisubject_max = 100_000;
        assert_eq!(
            plan.banner(),
            "Starting Core NATS publisher benchmark [clients=1, msg-size=128 B, msgs=100,000, \
             multi-subject=false, multi-subject-max=100,000, multi-subject-randomize=false, \
             sleep=0s, subject=foo]"
        );
    }

    #[test]
    fn headers_need_a_colon() {
        assert!(parse_headers(&["a:b".into()]).unwrap().is_some());
        assert!(parse_headers(&["ab".into()]).is_err());
    }
}
