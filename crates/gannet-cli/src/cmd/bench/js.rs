//! `bench js pub|fetch|consume|ordered`: natscli's JetStream benchmarks. This
//! module owns their command lines (natscli's flags), the checks into a
//! [`JsPlan`], natscli's banner, and the setup before the clients start:
//! creating or updating the stream (`--create`), purging it (`--purge`) and
//! the durable consumer of `fetch` and `consume`. `js_clients` runs the
//! publishing and consuming clients; the results print as the core
//! benchmarks' do.
//!
//! `pub` takes natscli's `pub sync SUBJECT` and `pub async SUBJECT`, and the
//! shorter `pub SUBJECT` (asynchronous, or synchronous with `--sync`).

use std::time::Duration;

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand};

use super::stats::Kind;
use super::{js_clients, log, print_outcome, CommonFlags, Plan, ReportFlags, SendFlags};
use crate::connect::Connector;
use crate::duration::parse_duration;
use crate::format::{self, number};
use crate::jsm::model::{ConsumerConfig, ConsumerInfo, PurgeResponse, StreamConfig, StreamInfo};
use crate::jsm::parse::bytes_limit;
use crate::jsm::view::to_nanos;
use crate::jsm::{check_name, Jsm};

/// natscli's default names.
const DEFAULT_STREAM: &str = "benchstream";
const DEFAULT_CONSUMER: &str = "nats-bench";

#[derive(Debug, Subcommand)]
pub enum JsCommand {
    /// Publish JetStream messages: `pub sync SUBJECT`, `pub async SUBJECT`, or `pub SUBJECT [--sync]`
    Pub(PubArgs),
    /// Consume JetStream messages from a durable consumer using fetch
    Fetch(ConsumerArgs),
    /// Consume JetStream messages from a durable consumer using a callback
    Consume(ConsumerArgs),
    /// Consume JetStream messages from a consumer using an ephemeral ordered consumer
    Ordered(OrderedArgs),
}

/// The flags every JetStream benchmark takes.
#[derive(Debug, Args)]
pub struct JsCommonFlags {
    /// Number of concurrent clients
    #[arg(long, default_value_t = 1, value_name = "CLIENTS")]
    pub clients: usize,
    /// Number of messages to publish or subscribe to
    #[arg(long, default_value_t = 100_000, value_name = "MSGS")]
    pub msgs: u64,
    /// Size of the test messages (16, 1KB, 1KiB, 2MB...)
    #[arg(long, default_value = "128B", value_name = "SIZE")]
    pub size: String,
    /// The name of the stream to create or use
    #[arg(long, default_value = DEFAULT_STREAM, value_name = "STREAM")]
    pub stream: String,
    #[command(flatten)]
    pub report: ReportFlags,
}

#[derive(Debug, Args)]
pub struct PubArgs {
    /// `sync` or `async` (natscli's forms) then the subject, or just the subject
    #[arg(value_name = "SUBJECT", num_args = 1..=2, required = true)]
    words: Vec<String>,
    /// Use synchronous JetStream publish (as `pub sync SUBJECT`)
    #[arg(long)]
    sync: bool,
    /// Sets the number of asynchronous operations per batch
    #[arg(long, value_name = "BATCH")]
    batch: Option<usize>,
    #[command(flatten)]
    common: JsCommonFlags,
    #[command(flatten)]
    send: SendFlags,
    /// Multi-subject mode, each message is published on a subject that includes the publisher's message sequence number as a token
    #[arg(long)]
    multisubject: bool,
    /// The maximum number of subjects to use in multi-subject mode (0 means no max)
    #[arg(long, default_value_t = 100_000, value_name = "MAX")]
    multisubjectmax: u64,
    /// Randomize which subjects are being used when in multisubject mode
    #[arg(long)]
    multisubjectrandomize: bool,
    /// Create or update the stream first
    #[arg(long)]
    create: bool,
    /// JetStream storage (memory/file) for the stream
    #[arg(long, default_value = "file", value_name = "STORAGE", value_parser = ["memory", "file"])]
    storage: String,
    /// Number of replicas for the stream
    #[arg(long, default_value_t = 1, value_name = "REPLICAS")]
    replicas: i64,
    /// The maximum size of the stream in bytes
    #[arg(long, default_value = "1GB", value_name = "BYTES")]
    maxbytes: String,
    /// Sets a message id in the header to use JS Publish de-duplication
    #[arg(long)]
    dedup: bool,
    /// Sets the duration of the stream's deduplication functionality
    #[arg(long, default_value = "2m", value_name = "DURATION", value_parser = parse_duration)]
    dedupwindow: Duration,
    /// Purge the stream before running
    #[arg(long)]
    purge: bool,
}

#[derive(Debug, Args)]
pub struct ConsumerArgs {
    /// The stream to consume from (the same as --stream)
    #[arg(value_name = "STREAM")]
    stream_name: Option<String>,
    #[command(flatten)]
    common: JsCommonFlags,
    /// Sleep for the specified interval after receiving each message
    #[arg(long, default_value = "0s", value_name = "DURATION", value_parser = parse_duration)]
    sleep: Duration,
    /// Specify the durable consumer name to use
    #[arg(long, default_value = DEFAULT_CONSUMER, value_name = "CONSUMER")]
    consumer: String,
    /// Sets the max number of messages that can be buffered in the client
    #[arg(long, default_value_t = 500, value_name = "BATCH")]
    batch: usize,
    /// Acknowledgement mode for the consumer
    #[arg(long, default_value = "explicit", value_name = "MODE", value_parser = ["explicit", "none", "all"])]
    acks: String,
    /// Synchronously acknowledge messages, waiting for a reply from the server
    #[arg(long)]
    doubleack: bool,
    /// Filter Stream by subjects
    #[arg(long, value_name = "SUBJECTS")]
    filter: Vec<String>,
    /// Purge the stream before running
    #[arg(long)]
    purge: bool,
}

#[derive(Debug, Args)]
pub struct OrderedArgs {
    /// The stream to consume from (the same as --stream)
    #[arg(value_name = "STREAM")]
    stream_name: Option<String>,
    #[command(flatten)]
    common: JsCommonFlags,
    /// Sleep for the specified interval after receiving each message
    #[arg(long, default_value = "0s", value_name = "DURATION", value_parser = parse_duration)]
    sleep: Duration,
    /// Sets the max number of messages that can be buffered in the client
    #[arg(long, default_value_t = 500, value_name = "BATCH")]
    batch: usize,
    /// Filter Stream by subjects
    #[arg(long, value_name = "SUBJECTS")]
    filter: Vec<String>,
    /// Purge the stream before running
    #[arg(long)]
    purge: bool,
}

/// What a JetStream benchmark needs beyond the core [`Plan`].
#[derive(Debug, Clone)]
pub struct JsPlan {
    pub stream: String,
    pub batch: usize,
    pub purge: bool,
    pub create: bool,
    pub storage: String,
    pub replicas: i64,
    pub max_bytes: i64,
    pub dedup: bool,
    pub dedup_window: Duration,
    pub consumer: String,
    pub acks: String,
    pub double_ack: bool,
    pub filter: Vec<String>,
}

impl JsPlan {
    fn new(stream: String) -> JsPlan {
        JsPlan {
            stream,
            batch: 0,
            purge: false,
            create: false,
            storage: "file".to_string(),
            replicas: 1,
            max_bytes: 0,
            dedup: false,
            dedup_window: Duration::from_secs(120),
            consumer: DEFAULT_CONSUMER.to_string(),
            acks: "explicit".to_string(),
            double_ack: false,
            filter: Vec::new(),
        }
    }

    /// Whether received messages are acknowledged.
    pub fn acks_messages(&self, kind: Kind) -> bool {
        kind != Kind::JsOrdered && self.acks != "none"
    }
}

/// The core plan from the JetStream flags, `subject` standing in for the
/// core benchmarks' subject argument.
fn core_plan(kind: Kind, subject: String, common: &JsCommonFlags) -> anyhow::Result<Plan> {
    Plan::new(
        kind,
        CommonFlags {
            subject,
            clients: common.clients,
            msgs: common.msgs,
            size: common.size.clone(),
            report: ReportFlags {
                csv: common.report.csv.clone(),
                no_progress: common.report.no_progress,
                progress: common.report.progress,
            },
        },
    )
}

impl PubArgs {
    /// natscli's `pub sync|async SUBJECT`, or `pub SUBJECT [--sync]`.
    fn mode(&self) -> anyhow::Result<(bool, String)> {
        let (sync, subject) = match self.words.as_slice() {
            [subject] => (self.sync, subject.clone()),
            [mode, subject] => {
                let sync = match mode.as_str() {
                    "sync" => true,
                    "async" => false,
                    "atomic" | "batch" | "fast" => {
                        bail!("{mode} batch publishing is not supported by gannet bench (use sync or async)")
                    }
                    other => bail!("unknown publish mode {other:?}: use `pub sync SUBJECT` or `pub async SUBJECT`"),
                };
                if self.sync && !sync {
                    bail!("--sync contradicts `pub async`");
                }
                (sync, subject.clone())
            }
            _ => bail!("a subject is required"),
        };
        if sync && self.batch.is_some() {
            bail!("--batch is for asynchronous publishing, not synchronous");
        }
        Ok((sync, subject))
    }
}

pub async fn run(command: JsCommand, connector: &Connector) -> anyhow::Result<()> {
    match command {
        JsCommand::Pub(args) => run_pub(args, connector).await,
        JsCommand::Fetch(args) => run_consumer(Kind::JsFetch, args, connector).await,
        JsCommand::Consume(args) => run_consumer(Kind::JsConsume, args, connector).await,
        JsCommand::Ordered(args) => run_ordered(args, connector).await,
    }
}

async fn run_pub(args: PubArgs, connector: &Connector) -> anyhow::Result<()> {
    let (sync, subject) = args.mode()?;
    let kind = if sync {
        Kind::JsPubSync
    } else {
        Kind::JsPubAsync
    };
    let mut plan = core_plan(kind, subject, &args.common)?.with_send(args.send)?;
    plan.multisubject = args.multisubject;
    plan.multisubject_max = args.multisubjectmax;
    plan.multisubject_random = args.multisubjectrandomize;
    plan.check_msgs()?;
    check_name("stream", &args.common.stream)?;
    let mut js = JsPlan::new(args.common.stream.clone());
    js.batch = if sync { 0 } else { args.batch.unwrap_or(500) };
    if !sync && js.batch == 0 {
        bail!("--batch must be at least 1");
    }
    js.purge = args.purge;
    js.create = args.create;
    js.storage = args.storage;
    js.replicas = args.replicas;
    js.dedup = args.dedup;
    js.dedup_window = args.dedupwindow;
    js.max_bytes = bytes_limit(&args.maxbytes)
        .ok()
        .flatten()
        .filter(|size| *size > 0)
        .ok_or_else(|| {
            anyhow!(
                "can not parse or invalid the value specified for the max stream/bucket size: {}",
                args.maxbytes
            )
        })?;
    log(&banner(&plan, &js));

    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    if js.create {
        create_stream(&jsm, &plan, &js).await?;
    }
    jsm.stream_info(&js.stream)
        .await
        .map_err(|err| anyhow!("could not access stream {}: {err:#}", js.stream))?;
    log(&format!("Using stream: {}", js.stream));
    if js.purge {
        log("Purging the stream");
        purge(&jsm, &js.stream).await?;
    }
    let outcome = js_clients::run_publishers(&plan, &js, connector).await?;
    print_outcome(&outcome, plan.csv.as_deref())
}

/// natscli's stream for the benchmark: the subject (or its multi-subject
/// wildcard), limits retention, discarding new messages when full. An
/// existing stream is updated to it.
async fn create_stream(jsm: &Jsm, plan: &Plan, js: &JsPlan) -> anyhow::Result<()> {
    let config = StreamConfig {
        name: js.stream.clone(),
        subjects: vec![plan.subscribe_subject()],
        retention: "limits".to_string(),
        max_consumers: -1,
        max_msgs: -1,
        max_bytes: js.max_bytes,
        max_msgs_per_subject: -1,
        max_msg_size: -1,
        discard: "new".to_string(),
        storage: js.storage.clone(),
        num_replicas: js.replicas,
        duplicate_window: to_nanos(js.dedup_window),
        allow_direct: true,
        ..StreamConfig::default()
    };
    let explain = |err: anyhow::Error| {
        anyhow!(
            "could not create the stream. If you want to delete and re-define the stream use `gannet stream rm {} -f`: {err:#}",
            js.stream
        )
    };
    let created: anyhow::Result<StreamInfo> = jsm
        .request(&format!("STREAM.CREATE.{}", js.stream), Some(&config))
        .await;
    match created {
        Ok(_) => Ok(()),
        // The name is taken by a stream with another configuration: update it.
        Err(err)
            if err
                .downcast_ref::<crate::jsm::ApiError>()
                .is_some_and(|e| e.err_code == 10058) =>
        {
            let _: StreamInfo = jsm
                .request(&format!("STREAM.UPDATE.{}", js.stream), Some(&config))
                .await
                .map_err(explain)?;
            Ok(())
        }
        Err(err) => Err(explain(err)),
    }
}

async fn purge(jsm: &Jsm, stream: &str) -> anyhow::Result<()> {
    let _: PurgeResponse = jsm
        .ask(&format!("STREAM.PURGE.{stream}"))
        .await
        .map_err(|err| anyhow!("purging stream '{stream}': {err:#}"))?;
    Ok(())
}

/// The stream named by the argument or `--stream`.
fn stream_name(argument: Option<String>, flag: &str) -> anyhow::Result<String> {
    let stream = match argument {
        Some(stream) if flag != DEFAULT_STREAM && flag != stream => {
            bail!("the stream is named twice: {stream} and --stream {flag}")
        }
        Some(stream) => stream,
        None => flag.to_string(),
    };
    check_name("stream", &stream)?;
    Ok(stream)
}

async fn run_consumer(kind: Kind, args: ConsumerArgs, connector: &Connector) -> anyhow::Result<()> {
    let stream = stream_name(args.stream_name, &args.common.stream)?;
    let mut plan = core_plan(kind, stream.clone(), &args.common)?;
    plan.sleep = args.sleep;
    plan.check_msgs()?;
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    check_name("consumer", &args.consumer)?;
    let mut js = JsPlan::new(stream);
    js.batch = args.batch;
    js.consumer = args.consumer;
    js.acks = args.acks;
    js.double_ack = args.doubleack;
    js.filter = args.filter;
    js.purge = args.purge;
    log(&banner(&plan, &js));
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    if js.purge {
        purge(&jsm, &js.stream).await?;
    }
    if js.consumer == DEFAULT_CONSUMER {
        create_consumer(&jsm, &plan, &js).await?;
    }
    let outcome = js_clients::run_consumers(&plan, &js, connector).await?;
    print_outcome(&outcome, plan.csv.as_deref())
}

/// natscli's durable consumer for `fetch` and `consume`: all messages,
/// instant replay, room for a batch per client, gone after 10s unused.
async fn create_consumer(jsm: &Jsm, plan: &Plan, js: &JsPlan) -> anyhow::Result<()> {
    let config = ConsumerConfig {
        durable_name: js.consumer.clone(),
        deliver_policy: "all".to_string(),
        ack_policy: js.acks.clone(),
        replay_policy: "instant".to_string(),
        max_ack_pending: i64::try_from(js.batch * plan.clients).unwrap_or(i64::MAX),
        inactive_threshold: to_nanos(Duration::from_secs(10)),
        filter_subjects: js.filter.clone(),
        ..ConsumerConfig::default()
    };
    let body = serde_json::json!({ "stream_name": js.stream, "config": config });
    let _: ConsumerInfo = jsm
        .request(
            &format!("CONSUMER.CREATE.{}.{}", js.stream, js.consumer),
            Some(&body),
        )
        .await
        .map_err(|err| anyhow!("creating the durable consumer '{}': {err:#}", js.consumer))?;
    Ok(())
}

async fn run_ordered(args: OrderedArgs, connector: &Connector) -> anyhow::Result<()> {
    let stream = stream_name(args.stream_name, &args.common.stream)?;
    let mut plan = core_plan(Kind::JsOrdered, stream.clone(), &args.common)?;
    plan.sleep = args.sleep;
    plan.check_msgs()?;
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let mut js = JsPlan::new(stream);
    js.batch = args.batch;
    js.filter = args.filter;
    js.purge = args.purge;
    log(&banner(&plan, &js));
    if js.purge {
        let session = connector.connect().await?;
        let jsm = Jsm::new(&session.client, connector.timeout);
        purge(&jsm, &js.stream).await?;
    }
    let outcome = js_clients::run_consumers(&plan, &js, connector).await?;
    print_outcome(&outcome, plan.csv.as_deref())
}

/// natscli's banner: the settings of the benchmark, sorted by name.
pub fn banner(plan: &Plan, js: &JsPlan) -> String {
    let mut settings: Vec<(&str, String)> = Vec::new();
    let filter = || js.filter.join(",");
    match plan.kind {
        Kind::JsPubSync | Kind::JsPubAsync => {
            settings.push(("subject", plan.subscribe_subject()));
            settings.push(("multi-subject", plan.multisubject.to_string()));
            settings.push(("multi-subject-max", number(plan.multisubject_max)));
            settings.push((
                "multi-subject-randomize",
                plan.multisubject_random.to_string(),
            ));
            settings.push(("batch", number(js.batch as u64)));
        }
        Kind::JsConsume | Kind::JsFetch => {
            settings.push(("consumer", js.consumer.clone()));
            settings.push(("acks", js.acks.clone()));
            settings.push(("double-acked", js.double_ack.to_string()));
            settings.push(("batch", number(js.batch as u64)));
            if !js.filter.is_empty() {
                settings.push(("filter", filter()));
            }
        }
        Kind::JsOrdered if !js.filter.is_empty() => settings.push(("filter", filter())),
        _ => {}
    }
    settings.push(("stream", js.stream.clone()));
    settings.push(("sleep", format::humanize_duration(plan.sleep)));
    settings.push(("purge", js.purge.to_string()));
    if js.create {
        settings.push(("storage", js.storage.clone()));
        settings.push(("max-bytes", number(js.max_bytes)));
        settings.push(("replicas", number(js.replicas)));
        settings.push(("deduplication", js.dedup.to_string()));
        settings.push(("dedup-window", format::humanize_duration(js.dedup_window)));
    }
    settings.push(("msgs", number(plan.msgs)));
    settings.push(("msg-size", format::bytes(plan.size as u64)));
    settings.push(("clients", number(plan.clients as u64)));
    if plan.throughput > 0 && matches!(plan.kind, Kind::JsPubSync | Kind::JsPubAsync) {
        settings.push(("throughput", number(plan.throughput)));
        if let Some(duration) = plan.duration {
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
        plan.kind.label(),
        joined.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        js: JsCommand,
    }

    fn parse(args: &[&str]) -> anyhow::Result<JsCommand> {
        let mut all = vec!["js"];
        all.extend_from_slice(args);
        Ok(Cli::try_parse_from(all)?.js)
    }

    fn pub_mode(args: &[&str]) -> anyhow::Result<(bool, String)> {
        match parse(args)? {
            JsCommand::Pub(args) => args.mode(),
            _ => bail!("not pub"),
        }
    }

    #[test]
    fn pub_takes_natscli_forms_and_the_short_one() {
        assert_eq!(
            pub_mode(&["pub", "sync", "js.x"]).unwrap(),
            (true, "js.x".into())
        );
        assert_eq!(
            pub_mode(&["pub", "async", "js.x"]).unwrap(),
            (false, "js.x".into())
        );
        assert_eq!(pub_mode(&["pub", "js.x"]).unwrap(), (false, "js.x".into()));
        assert_eq!(
            pub_mode(&["pub", "js.x", "--sync"]).unwrap(),
            (true, "js.x".into())
        );
        assert!(pub_mode(&["pub", "sync", "js.x", "--batch", "10"]).is_err());
        assert!(pub_mode(&["pub", "fast", "js.x"]).is_err());
        assert!(pub_mode(&["pub", "later", "js.x"]).is_err());
        assert!(pub_mode(&["pub", "async", "js.x", "--sync"]).is_err());
        assert!(parse(&["pub", "js.x", "--persistasync"]).is_err());
    }

    #[test]
    fn the_banner_lists_settings_by_name() {
        let JsCommand::Pub(args) = parse(&["pub", "async", "js.x", "--create"]).unwrap() else {
            panic!("pub expected");
        };
        let plan = core_plan(Kind::JsPubAsync, "js.x".into(), &args.common).unwrap();
        let mut js = JsPlan::new("benchstream".into());
        js.batch = 500;
        js.create = true;
        js.max_bytes = 1 << 30;
        assert_eq!(
            banner(&plan, &js),
            "Starting JetStream asynchronous publisher benchmark [batch=500, clients=1, \
             dedup-window=2m0s, deduplication=false, max-bytes=1,073,741,824, msg-size=128 B, \
             msgs=100,000, multi-subject=false, multi-subject-max=0, \
             multi-subject-randomize=false, purge=false, replicas=1, sleep=0s, \
             storage=file, stream=benchstream, subject=js.x]"
        );
        let plan = core_plan(Kind::JsFetch, "benchstream".into(), &args.common).unwrap();
        let js = JsPlan::new("benchstream".into());
        assert_eq!(
            banner(&plan, &js),
            "Starting JetStream durable consumer (fetch) benchmark [acks=explicit, batch=0, \
             clients=1, consumer=nats-bench, double-acked=false, msg-size=128 B, msgs=100,000, \
             purge=false, sleep=0s, stream=benchstream]"
        );
    }

    #[test]
    fn the_stream_is_named_once() {
        assert_eq!(stream_name(None, "benchstream").unwrap(), "benchstream");
        assert_eq!(stream_name(Some("S".into()), "benchstream").unwrap(), "S");
        assert_eq!(stream_name(Some("S".into()), "S").unwrap(), "S");
        assert!(stream_name(Some("S".into()), "T").is_err());
    }
}
