//! `consumer add STREAM NAME`: builds a durable consumer's configuration from
//! natscli's flags (`--pull` or `--target SUBJECT`, `--deliver`, `--ack`,
//! `--filter`, ...), creates it and prints its report. gannet never prompts:
//! what natscli would ask for takes the default its prompt offers (a pull
//! consumer delivering all messages with explicit acks, as `--defaults`).

use std::time::Duration;

use anyhow::{anyhow, bail};
use chrono::{SecondsFormat, Utc};
use clap::Args;

use crate::connect::Connector;
use crate::duration::parse_duration;
use crate::jsm::model::{ConsumerConfig, ConsumerInfo};
use crate::jsm::parse::split_subjects;
use crate::jsm::view::to_nanos;
use crate::jsm::{check_name, Jsm};

use super::info;

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Stream name
    #[arg(value_name = "STREAM")]
    stream: Option<String>,
    /// Consumer name
    #[arg(value_name = "CONSUMER")]
    consumer: Option<String>,
    #[command(flatten)]
    config: ConfigFlags,
    /// Accept default values for all prompts (gannet never prompts: unset values always take their defaults)
    #[arg(long)]
    defaults: bool,
}

/// The configuration flags natscli's `consumer add` takes (the most used ones).
#[derive(Debug, Args)]
pub struct ConfigFlags {
    /// Deliver messages in 'pull' mode (the default without --target)
    #[arg(long, conflicts_with = "target")]
    pull: bool,
    /// Push based delivery target subject
    #[arg(long, value_name = "SUBJECT")]
    target: Option<String>,
    /// Delivers push messages only to subscriptions matching this group
    #[arg(long, value_name = "GROUP", requires = "target")]
    deliver_group: Option<String>,
    /// Start policy (all, new, last, subject, 1h, msg sequence)
    #[arg(long, visible_alias = "deliver-policy", value_name = "POLICY")]
    deliver: Option<String>,
    /// Acknowledgment policy (none, all, explicit)
    #[arg(long, value_name = "POLICY", value_parser = ["none", "all", "explicit"])]
    ack: Option<String>,
    /// Filter Stream by subjects (repeat, or separate with commas)
    #[arg(long, value_name = "SUBJECTS")]
    filter: Vec<String>,
    /// Replay Policy (instant, original)
    #[arg(long, value_name = "POLICY", value_parser = ["instant", "original"])]
    replay: Option<String>,
    /// Maximum amount of times a message will be delivered (-1 for unlimited)
    #[arg(long, value_name = "TRIES", allow_negative_numbers = true)]
    max_deliver: Option<i64>,
    /// Maximum pending Acks before consumers are paused
    #[arg(long, value_name = "PENDING")]
    max_pending: Option<i64>,
    /// Acknowledgment waiting time
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    wait: Option<Duration>,
    /// Maximum number of outstanding pulls allowed
    #[arg(long, value_name = "PULLS")]
    max_waiting: Option<i64>,
    /// Enable idle Push consumer heartbeats
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    heartbeat: Option<Duration>,
    /// Enable Push consumer flow control
    #[arg(long)]
    flow_control: bool,
    /// Deliver only headers and no bodies
    #[arg(long)]
    headers_only: bool,
    /// How long to allow the consumer to be idle before removing it
    #[arg(long, value_name = "THRESHOLD", value_parser = parse_duration)]
    inactive_threshold: Option<Duration>,
    /// Sets a contextual description for the consumer
    #[arg(long, value_name = "DESCRIPTION")]
    description: Option<String>,
    /// Sets a custom replica count rather than inherit from the stream
    #[arg(long, value_name = "REPLICAS")]
    replicas: Option<i64>,
    /// Force the consumer state to be stored in memory rather than inherit from the stream
    #[arg(long)]
    memory: bool,
}

pub async fn run(args: AddArgs, connector: &Connector) -> anyhow::Result<()> {
    // Nothing is ever asked, so --defaults changes nothing.
    let _ = args.defaults;
    let Some(stream) = args.stream.as_deref() else {
        bail!("a stream name is required (gannet does not prompt for it)");
    };
    let Some(name) = args.consumer.as_deref() else {
        bail!("a consumer name is required (gannet does not prompt for it)");
    };
    check_name("stream", stream)?;
    let config = build_config(name, &args.config, Utc::now())?;
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    let body = serde_json::json!({ "stream_name": stream, "config": config });
    let created: ConsumerInfo = jsm
        .request(&format!("CONSUMER.CREATE.{stream}.{name}"), Some(&body))
        .await
        .map_err(|err| err.context("Consumer creation failed"))?;
    let info = jsm
        .consumer_info(stream, &created.name)
        .await
        .map_err(|err| err.context(format!("could not load Consumer {stream} > {name}")))?;
    print!("{}", info::render(&info));
    Ok(())
}

/// natscli's `prepareConfig` without prompts.
pub fn build_config(
    name: &str,
    flags: &ConfigFlags,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<ConsumerConfig> {
    if name.contains(['.', '*', '>']) {
        bail!("durable name can not contain '.', '*', '>'");
    }
    check_name("consumer", name)?;
    let target = flags.target.clone().unwrap_or_default();
    let push = !target.is_empty();
    let mut config = ConsumerConfig {
        durable_name: name.to_string(),
        description: flags.description.clone().unwrap_or_default(),
        deliver_subject: target,
        deliver_group: flags.deliver_group.clone().unwrap_or_default(),
        replay_policy: flags
            .replay
            .clone()
            .unwrap_or_else(|| "instant".to_string()),
        ..ConsumerConfig::default()
    };
    start_policy(&mut config, flags.deliver.as_deref().unwrap_or("all"), now)?;
    let ack = flags
        .ack
        .clone()
        .unwrap_or_else(|| if push { "none" } else { "explicit" }.to_string());
    config.ack_policy = ack;
    if config.ack_policy == "none" {
        config.max_deliver = -1;
    } else {
        config.max_deliver = match flags.max_deliver {
            Some(0) | None => -1,
            Some(tries) => tries,
        };
    }
    if let Some(wait) = flags.wait.filter(|w| !w.is_zero()) {
        config.ack_wait = to_nanos(wait);
    }
    let filters = split_subjects(&flags.filter);
    match filters.len() {
        0 => {}
        1 => config.filter_subject = filters[0].clone(),
        _ => config.filter_subjects = filters,
    }
    if config.filter_subject.is_empty()
        && config.filter_subjects.is_empty()
        && config.deliver_policy == "last_per_subject"
    {
        config.filter_subject = ">".to_string();
    }
    config.max_ack_pending = flags.max_pending.filter(|p| *p > 0).unwrap_or(0);
    if let Some(heartbeat) = flags.heartbeat.filter(|h| !h.is_zero()) {
        if !push {
            bail!("pull subscribers does not support idle heartbeats");
        }
        config.idle_heartbeat = to_nanos(heartbeat);
    }
    if flags.flow_control && !push {
        bail!("flow control is only possible on Push consumers (--target)");
    }
    config.flow_control = flags.flow_control;
    config.headers_only = flags.headers_only;
    if let Some(threshold) = flags.inactive_threshold {
        config.inactive_threshold = to_nanos(threshold);
    }
    if !push {
        config.max_waiting = flags.max_waiting.unwrap_or(0);
    } else if flags.max_waiting.is_some() {
        bail!("--max-waiting is only possible on Pull consumers");
    }
    config.num_replicas = flags.replicas.unwrap_or(0);
    config.mem_storage = flags.memory;
    Ok(config)
}

/// natscli's `setStartPolicy`: `all`, `last`, `new`/`next`,
/// `subject`/`last_per_subject`, a sequence number, or a duration back from
/// now.
fn start_policy(
    config: &mut ConsumerConfig,
    policy: &str,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    config.deliver_policy = match policy {
        "all" => "all".to_string(),
        "last" => "last".to_string(),
        "new" | "next" => "new".to_string(),
        "subject" | "last_per_subject" => "last_per_subject".to_string(),
        digits if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) => {
            config.opt_start_seq = digits
                .parse()
                .map_err(|_| anyhow!("invalid start sequence {digits}"))?;
            "by_start_sequence".to_string()
        }
        other => {
            let back = parse_duration(other)
                .map_err(|err| anyhow!("could not parse starting delta: {err}"))?;
            let back = chrono::Duration::from_std(back)
                .map_err(|_| anyhow!("could not parse starting delta: {other} is too long"))?;
            config.opt_start_time = Some((now - back).to_rfc3339_opts(SecondsFormat::Nanos, true));
            "by_start_time".to_string()
        }
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        add: AddArgs,
    }

    fn parse(args: &[&str]) -> anyhow::Result<ConsumerConfig> {
        let mut all = vec!["add", "S", "C"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all)?;
        build_config("C", &cli.add.config, Utc::now())
    }

    #[test]
    fn the_default_is_an_explicitly_acked_pull_consumer() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.durable_name, "C");
        assert_eq!(config.deliver_policy, "all");
        assert_eq!(config.ack_policy, "explicit");
        assert_eq!(config.replay_policy, "instant");
        assert_eq!(config.max_deliver, -1);
        assert!(config.deliver_subject.is_empty());
    }

    #[test]
    fn push_consumers_default_to_no_acks() {
        let config = parse(&["--target", "out.x", "--heartbeat", "5s"]).unwrap();
        assert_eq!(config.deliver_subject, "out.x");
        assert_eq!(config.ack_policy, "none");
        assert_eq!(config.idle_heartbeat, 5_000_000_000);
        assert!(parse(&["--pull", "--target", "x"]).is_err());
        assert!(parse(&["--heartbeat", "5s"]).is_err());
    }

    #[test]
    fn start_policies_and_filters() {
        let config = parse(&["--deliver", "last", "--filter", "a.*", "--ack", "all"]).unwrap();
        assert_eq!(config.deliver_policy, "last");
        assert_eq!(config.filter_subject, "a.*");
        assert_eq!(config.ack_policy, "all");
        let config = parse(&["--deliver-policy", "42", "--filter", "a,b"]).unwrap();
        assert_eq!(config.deliver_policy, "by_start_sequence");
        assert_eq!(config.opt_start_seq, 42);
        assert_eq!(config.filter_subjects, vec!["a", "b"]);
        let config = parse(&["--deliver", "subject"]).unwrap();
        assert_eq!(config.filter_subject, ">");
        let config = parse(&["--deliver", "1h", "--max-deliver", "3", "--wait", "10s"]).unwrap();
        assert_eq!(config.deliver_policy, "by_start_time");
        assert!(config.opt_start_time.is_some());
        assert_eq!(config.max_deliver, 3);
        assert_eq!(config.ack_wait, 10_000_000_000);
        assert!(parse(&["--deliver", "whenever"]).is_err());
        assert!(parse(&["--ack", "sometimes"]).is_err());
    }
}
