//! `stream add NAME --subjects ...`: builds a stream configuration from
//! natscli's flags and creates the stream, then prints its report. gannet never
//! prompts: what natscli would ask for takes the default its prompt offers
//! (the values `--defaults` picks), so only the name and the subjects must be
//! given.

use std::time::Duration;

use anyhow::bail;
use clap::Args;

use crate::connect::Connector;
use crate::format::number;
use crate::jsm::model::{StreamConfig, StreamInfo};
use crate::jsm::parse::{bytes_limit, duration_or_unlimited, split_subjects};
use crate::jsm::view::to_nanos;
use crate::jsm::{check_name, Jsm};

use super::info;

/// natscli's default duplicate window.
const DEFAULT_DUPE_WINDOW: Duration = Duration::from_secs(120);

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Stream name
    #[arg(value_name = "STREAM")]
    stream: Option<String>,
    #[command(flatten)]
    config: ConfigFlags,
    /// Accept default values for all prompts (gannet never prompts: unset values always take their defaults)
    #[arg(long)]
    defaults: bool,
}

/// The configuration flags natscli's `stream add` takes (the most used ones).
#[derive(Debug, Args)]
pub struct ConfigFlags {
    /// Subjects that are consumed by the stream (repeat, or separate with commas)
    #[arg(long = "subjects", value_name = "SUBJECTS")]
    subjects: Vec<String>,
    /// Sets a contextual description for the stream
    #[arg(long, value_name = "DESCRIPTION")]
    description: Option<String>,
    /// Storage backend to use (file, memory)
    #[arg(long, value_name = "STORAGE", value_parser = ["file", "f", "memory", "m"])]
    storage: Option<String>,
    /// When clustered, how many replicas of the data to create
    #[arg(long, value_name = "REPLICAS", allow_negative_numbers = true)]
    replicas: Option<i64>,
    /// Defines a retention policy (limits, interest, work)
    #[arg(long, value_name = "POLICY", value_parser = ["limits", "interest", "workq", "work"])]
    retention: Option<String>,
    /// Defines the discard policy (new, old)
    #[arg(long, value_name = "POLICY", value_parser = ["new", "old"])]
    discard: Option<String>,
    /// Maximum amount of messages to keep (-1 for unlimited)
    #[arg(long, value_name = "MSGS", allow_negative_numbers = true)]
    max_msgs: Option<i64>,
    /// Maximum amount of messages to keep per subject (-1 for unlimited)
    #[arg(long, value_name = "MSGS", allow_negative_numbers = true)]
    max_msgs_per_subject: Option<i64>,
    /// Maximum bytes to keep (1GB, 512MiB...; -1 for unlimited)
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    max_bytes: Option<String>,
    /// Maximum age of messages to keep (1h, 30m...; -1 for unlimited)
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    max_age: Option<String>,
    /// Maximum size any 1 message may be (-1 for unlimited)
    #[arg(long, value_name = "BYTES", allow_hyphen_values = true)]
    max_msg_size: Option<String>,
    /// Maximum number of consumers to allow
    #[arg(long, value_name = "CONSUMERS", default_value_t = -1, allow_negative_numbers = true)]
    max_consumers: i64,
    /// Duration of the duplicate message tracking window
    #[arg(long, value_name = "DURATION")]
    dupe_window: Option<String>,
    /// Allows roll-ups to be done by publishing messages with special headers
    #[arg(long)]
    allow_rollup: bool,
    /// Deny messages from being deleted via the API
    #[arg(long)]
    deny_delete: bool,
    /// Deny entire stream or subject purges via the API
    #[arg(long)]
    deny_purge: bool,
    /// Allows fast, direct, access to stream data via the direct get API (the default)
    #[arg(long, overrides_with = "no_allow_direct")]
    allow_direct: bool,
    /// Disables the direct get API
    #[arg(long, overrides_with = "allow_direct")]
    no_allow_direct: bool,
    /// Acknowledge publishes (the default)
    #[arg(long, overrides_with = "no_ack")]
    ack: bool,
    /// Do not acknowledge publishes
    #[arg(long, overrides_with = "ack")]
    no_ack: bool,
}

pub async fn run(args: AddArgs, connector: &Connector) -> anyhow::Result<()> {
    // Nothing is ever asked, so --defaults changes nothing.
    let _ = args.defaults;
    let Some(name) = args.stream.as_deref() else {
        bail!("a stream name is required (gannet does not prompt for it)");
    };
    check_name("stream", name)?;
    let config = build_config(name, &args.config)?;
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    let _: StreamInfo = jsm
        .request(&format!("STREAM.CREATE.{name}"), Some(&config))
        .await
        .map_err(|err| err.context("could not create Stream"))?;
    println!("Stream {name} was created\n");
    let info = jsm
        .stream_info(name)
        .await
        .map_err(|err| err.context("could not request Stream info"))?;
    print!("{}", info::render(&info, false));
    Ok(())
}

/// natscli's `prepareConfig` without prompts: unset values take the defaults
/// its prompts (and `--defaults`) use.
pub fn build_config(name: &str, flags: &ConfigFlags) -> anyhow::Result<StreamConfig> {
    let subjects = split_subjects(&flags.subjects);
    if subjects.is_empty() {
        bail!("at least one subject is required (--subjects; gannet does not prompt for them)");
    }
    let storage = match flags.storage.as_deref().unwrap_or("file") {
        "memory" | "m" => "memory",
        _ => "file",
    };
    let replicas = match flags.replicas {
        None | Some(0) => 1,
        Some(replicas) if replicas < 0 => bail!("replicas should be >= 1"),
        Some(replicas) => replicas,
    };
    let retention = match flags.retention.as_deref().unwrap_or("limits") {
        "interest" => "interest",
        "workq" | "work" => "workqueue",
        _ => "limits",
    };
    let unlimited_if_not_positive = |value: Option<i64>| match value {
        Some(value) if value > 0 => value,
        _ => -1,
    };
    let max_bytes = match flags.max_bytes.as_deref() {
        Some(text) => bytes_limit(text)?.unwrap_or(-1),
        None => -1,
    };
    let max_age = match flags.max_age.as_deref() {
        Some(text) => duration_or_unlimited(text)
            .map_err(|err| err.context("invalid maximum age limit format"))?,
        None => Duration::ZERO,
    };
    let max_msg_size = match flags.max_msg_size.as_deref() {
        Some(text) => bytes_limit(text)?.unwrap_or(-1),
        None => -1,
    };
    let max_msg_size = if max_msg_size == 0 { -1 } else { max_msg_size };
    if max_msg_size > i64::from(i32::MAX) {
        bail!(
            "max value size {} is too big maximum is {}",
            number(max_msg_size),
            number(i32::MAX)
        );
    }
    let dupe_window = match flags.dupe_window.as_deref() {
        Some(text) => crate::duration::parse_duration(text)
            .map_err(|err| anyhow::anyhow!("invalid duplicate window format: {err}"))?,
        None if !max_age.is_zero() && max_age < DEFAULT_DUPE_WINDOW => max_age,
        None => DEFAULT_DUPE_WINDOW,
    };
    Ok(StreamConfig {
        name: name.to_string(),
        description: flags.description.clone().unwrap_or_default(),
        subjects,
        retention: retention.to_string(),
        max_consumers: flags.max_consumers,
        max_msgs: unlimited_if_not_positive(flags.max_msgs),
        max_bytes: if max_bytes <= 0 { -1 } else { max_bytes },
        max_age: to_nanos(max_age),
        max_msgs_per_subject: unlimited_if_not_positive(flags.max_msgs_per_subject),
        max_msg_size,
        discard: flags.discard.clone().unwrap_or_else(|| "old".to_string()),
        storage: storage.to_string(),
        num_replicas: replicas,
        no_ack: flags.no_ack && !flags.ack,
        duplicate_window: to_nanos(dupe_window),
        compression: "none".to_string(),
        allow_direct: flags.allow_direct || !flags.no_allow_direct,
        deny_delete: flags.deny_delete,
        deny_purge: flags.deny_purge,
        allow_rollup_hdrs: flags.allow_rollup,
        ..StreamConfig::default()
    })
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

    fn parse(args: &[&str]) -> anyhow::Result<StreamConfig> {
        let mut all = vec!["add"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all)?;
        build_config(cli.add.stream.as_deref().unwrap_or("S"), &cli.add.config)
    }

    #[test]
    fn defaults_are_those_of_natscli_prompts() {
        let config = parse(&["S", "--subjects", "a.>"]).unwrap();
        assert_eq!(config.storage, "file");
        assert_eq!(config.retention, "limits");
        assert_eq!(config.discard, "old");
        assert_eq!(config.num_replicas, 1);
        assert_eq!(
            (config.max_msgs, config.max_bytes, config.max_msg_size),
            (-1, -1, -1)
        );
        assert_eq!(config.max_msgs_per_subject, -1);
        assert_eq!(config.max_age, 0);
        assert_eq!(config.duplicate_window, 120_000_000_000);
        assert!(config.allow_direct);
        assert!(!config.no_ack);
    }

    #[test]
    fn flags_set_the_configuration() {
        let config = parse(&[
            "S",
            "--subjects",
            "a.>,b",
            "--storage",
            "memory",
            "--retention",
            "work",
            "--max-msgs",
            "10",
            "--max-bytes",
            "1MB",
            "--max-age",
            "30s",
            "--discard",
            "new",
            "--allow-rollup",
            "--no-allow-direct",
            "--max-msgs-per-subject",
            "2",
        ])
        .unwrap();
        assert_eq!(config.subjects, vec!["a.>", "b"]);
        assert_eq!(config.storage, "memory");
        assert_eq!(config.retention, "workqueue");
        assert_eq!(config.max_msgs, 10);
        assert_eq!(config.max_bytes, 1 << 20);
        assert_eq!(config.max_age, 30_000_000_000);
        // The window follows a shorter maximum age.
        assert_eq!(config.duplicate_window, 30_000_000_000);
        assert_eq!(config.discard, "new");
        assert!(config.allow_rollup_hdrs);
        assert!(!config.allow_direct);
        assert_eq!(config.max_msgs_per_subject, 2);
    }

    #[test]
    fn subjects_are_required_and_values_checked() {
        assert!(parse(&["S"]).is_err());
        assert!(parse(&["S", "--subjects", "a", "--replicas", "-1"]).is_err());
        assert!(parse(&["S", "--subjects", "a", "--max-bytes", "lots"]).is_err());
        assert!(parse(&["S", "--subjects", "a", "--storage", "disk"]).is_err());
        assert_eq!(
            parse(&["S", "--subjects", "a", "--max-bytes", "-1"])
                .unwrap()
                .max_bytes,
            -1
        );
    }
}
