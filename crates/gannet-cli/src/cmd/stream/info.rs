//! `stream info STREAM` and the stream report `stream add` and `stream purge`
//! print: natscli's columns with the configuration (then its Options and
//! Limits sections), cluster details when the stream is clustered, and the
//! State section.

use clap::Args;

use crate::connect::Connector;
use crate::format::{bytes, number, Columns};
use crate::jsm::model::{StreamConfig, StreamInfo, StreamSource};
use crate::jsm::view::{self, age, api_level_rows, humanize_nanos, local_text, parse_time};
use crate::jsm::Jsm;

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Stream to retrieve information for
    #[arg(value_name = "STREAM")]
    stream: String,
    /// Shows only the stream state
    #[arg(long)]
    state: bool,
}

pub async fn run(args: InfoArgs, connector: &Connector) -> anyhow::Result<()> {
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    let info = jsm
        .stream_info(&args.stream)
        .await
        .map_err(|err| err.context("could not request Stream info"))?;
    print!("{}", render(&info, args.state));
    println!();
    Ok(())
}

/// The report: the whole of it, or the heading and state only.
pub fn render(info: &StreamInfo, state_only: bool) -> String {
    let name = &info.config.name;
    let created = local_text(&info.created);
    let mut columns = if state_only {
        Columns::new(format!("State for Stream {name} created {created}"))
    } else {
        let mut columns = Columns::new(format!("Information for Stream {name} created {created}"));
        config_rows(&mut columns, &info.config);
        columns
    };
    cluster_rows(&mut columns, info);
    state_rows(&mut columns, info);
    columns.render()
}

/// natscli's `showStreamConfig`.
fn config_rows(columns: &mut Columns, config: &StreamConfig) {
    columns.row_if_not_empty("Description", &config.description);
    if !config.subjects.is_empty() {
        columns.row("Subjects", view::list(&config.subjects));
    }
    columns.row("Replicas", number(config.num_replicas));
    if config.sealed {
        columns.row("Sealed", true);
    }
    columns.row("Storage", title_storage(&config.storage));
    if !config.compression.is_empty() && config.compression != "none" {
        columns.row("Compression", &config.compression);
    }
    if !config.persist_mode.is_empty() && config.persist_mode != "default" {
        columns.row("Persistence Mode", title_case(&config.persist_mode));
    }
    if config.first_seq > 0 {
        columns.row("First Sequence", number(config.first_seq));
    }
    if let Some(placement) = &config.placement {
        columns.row_if_not_empty("Placement Cluster", &placement.cluster);
        if !placement.tags.is_empty() {
            columns.row("Placement Tags", view::list(&placement.tags));
        }
    }

    columns.title("Options");
    if let Some(transform) = config
        .subject_transform
        .as_ref()
        .filter(|t| !t.dest.is_empty())
    {
        let source = if transform.src.is_empty() {
            ">"
        } else {
            &transform.src
        };
        columns.row(
            "Subject Transform",
            format!("{source} to {}", transform.dest),
        );
    }
    if let Some(republish) = &config.republish {
        let label = if republish.headers_only {
            "Republishing Headers"
        } else {
            "Republishing"
        };
        columns.row(label, format!("{} to {}", republish.src, republish.dest));
    }
    columns.row("Retention", title_retention(&config.retention));
    columns.row("Acknowledgments", !config.no_ack);
    let discard = if config.discard_new_per_subject {
        "New Per Subject".to_string()
    } else {
        title_case(&config.discard)
    };
    columns.row("Discard Policy", discard);
    columns.row("Duplicate Window", humanize_nanos(config.duplicate_window));
    if config.allow_direct {
        columns.row("Direct Get", true);
    }
    if config.mirror_direct {
        columns.row("Mirror Direct Get", true);
    }
    columns.row("Allows Atomic Batch Publish", config.allow_atomic);
    columns.row("Allows Fast Batch Publish", config.allow_batched);
    columns.row("Allows Counters", config.allow_msg_counter);
    columns.row("Allows Msg Delete", !config.deny_delete);
    columns.row("Allows Per-Message TTL", config.allow_msg_ttl);
    columns.row("Allows Purge", !config.deny_purge);
    columns.row("Allows Schedules", config.allow_msg_schedules);
    if config.allow_msg_ttl && config.subject_delete_marker_ttl > 0 {
        columns.row(
            "Subject Delete Markers TTL",
            humanize_nanos(config.subject_delete_marker_ttl),
        );
    }
    columns.row("Allows Rollups", config.allow_rollup_hdrs);

    columns.title("Limits");
    columns.row("Maximum Messages", unlimited_if(config.max_msgs, -1));
    columns.row(
        "Maximum Per Subject",
        if config.max_msgs_per_subject <= 0 {
            "unlimited".to_string()
        } else {
            number(config.max_msgs_per_subject)
        },
    );
    columns.row(
        "Maximum Bytes",
        unlimited_bytes_if(config.max_bytes, config.max_bytes == -1),
    );
    columns.row(
        "Maximum Age",
        if config.max_age <= 0 {
            "unlimited".to_string()
        } else {
            humanize_nanos(config.max_age)
        },
    );
    columns.row(
        "Maximum Message Size",
        unlimited_bytes_if(config.max_msg_size, config.max_msg_size == -1),
    );
    columns.row("Maximum Consumers", unlimited_if(config.max_consumers, -1));
    let limits = &config.consumer_limits;
    if limits.inactive_threshold > 0 {
        columns.row(
            "Consumer Inactive Threshold",
            humanize_nanos(limits.inactive_threshold),
        );
    }
    if limits.max_ack_pending > 0 {
        columns.row("Consumer Max Ack Pending", number(limits.max_ack_pending));
    }

    let metadata = view::user_metadata(&config.metadata);
    if !metadata.is_empty() {
        columns.title("Metadata");
        for (key, value) in &metadata {
            columns.row(key, value);
        }
    }
    if config.mirror.is_some() || !config.sources.is_empty() {
        columns.title("Replication");
    }
    if let Some(mirror) = &config.mirror {
        columns.row("Mirror", source_text(mirror));
    }
    let mut sources: Vec<&StreamSource> = config.sources.iter().collect();
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    for (i, source) in sources.into_iter().enumerate() {
        let label = if i == 0 { "Sources" } else { "" };
        columns.row(label, source_text(source));
    }
}

/// natscli's `renderSource`, for the parts the configuration has.
fn source_text(source: &StreamSource) -> String {
    let mut parts = vec![source.name.clone()];
    if source.opt_start_seq > 0 {
        parts.push(format!("Start Seq: {}", number(source.opt_start_seq)));
    }
    if let Some(time) = &source.opt_start_time {
        parts.push(format!("Start Time: {}", view::go_time_string(time)));
    }
    view::list(&parts)
}

/// The Cluster Information section, for clustered streams only (a named
/// cluster).
fn cluster_rows(columns: &mut Columns, info: &StreamInfo) {
    let Some(cluster) = info.cluster.as_ref().filter(|c| !c.name.is_empty()) else {
        return;
    };
    columns.title("Cluster Information");
    columns.row("Name", &cluster.name);
    columns.row_if_not_empty("Cluster Group", &cluster.raft_group);
    match &cluster.leader_since {
        Some(since) => columns.row(
            "Leader",
            format!("{} ({})", cluster.leader, age(&info.ts, since)),
        ),
        None => columns.row("Leader", &cluster.leader),
    };
    for replica in &cluster.replicas {
        let mut state = vec![replica.name.clone()];
        state.push(
            if replica.current {
                "current"
            } else {
                "outdated"
            }
            .to_string(),
        );
        if replica.offline {
            state.push("OFFLINE".to_string());
        }
        if replica.active > 0 && replica.active < i64::MAX {
            state.push(format!("seen {} ago", humanize_nanos(replica.active)));
        } else {
            state.push("not seen".to_string());
        }
        match replica.lag {
            0 => {}
            1 => state.push("1 operation behind".to_string()),
            lag => state.push(format!("{} operations behind", number(lag))),
        }
        columns.row("Replica", view::list(&state));
    }
}

/// The State section.
fn state_rows(columns: &mut Columns, info: &StreamInfo) {
    let state = &info.state;
    columns.title("State");
    api_level_rows(columns, &info.config.metadata);
    columns.row("Messages", number(state.messages));
    columns.row("Bytes", bytes(state.bytes));
    if let Some(lost) = state.lost.as_ref().filter(|l| !l.msgs.is_empty()) {
        columns.row(
            "Lost Messages",
            format!("{} ({})", number(lost.msgs.len() as u64), bytes(lost.bytes)),
        );
    }
    columns.row(
        "First Sequence",
        sequence_at(state.first_seq, &state.first_ts),
    );
    columns.row("Last Sequence", sequence_at(state.last_seq, &state.last_ts));
    if !state.deleted.is_empty() {
        columns.row("Deleted Messages", number(state.deleted.len() as u64));
    } else if state.num_deleted > 0 {
        columns.row("Deleted Messages", number(state.num_deleted));
    }
    columns.row("Active Consumers", number(state.consumer_count));
    if state.num_subjects > 0 {
        columns.row("Number of Subjects", number(state.num_subjects));
    }
}

/// `12 @ 2026-12-07 06:22:59`, or the bare number before any message.
fn sequence_at(sequence: u64, time: &str) -> String {
    match parse_time(time) {
        Some(time) => format!("{} @ {}", number(sequence), view::local(time)),
        None => number(sequence),
    }
}

fn unlimited_if(value: i64, unlimited: i64) -> String {
    if value == unlimited {
        "unlimited".to_string()
    } else {
        number(value)
    }
}

fn unlimited_bytes_if(value: i64, unlimited: bool) -> String {
    if unlimited {
        "unlimited".to_string()
    } else {
        bytes(u64::try_from(value).unwrap_or(0))
    }
}

/// `file` → `File`, `memory` → `Memory` (jsm's names).
pub fn title_storage(storage: &str) -> String {
    title_case(storage)
}

/// `limits` → `Limits`, `workqueue` → `WorkQueue` (jsm's names).
pub fn title_retention(retention: &str) -> String {
    match retention {
        "workqueue" => "WorkQueue".to_string(),
        other => title_case(other),
    }
}

/// The first letter upper-cased.
pub fn title_case(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StreamInfo {
        serde_json::from_str(
            r#"{"config":{"name":"ORDERS","subjects":["orders.>","x"],"retention":"limits",
            "max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,
            "max_msg_size":-1,"discard":"old","storage":"file","num_replicas":1,
            "duplicate_window":120000000000,"compression":"none","allow_direct":true,
            "metadata":{"_nats.level":"5","_nats.req.level":"0","_nats.ver":"2.15.0"}},
            "created":"2026-12-07T06:22:56.212067269Z",
            "state":{"messages":2,"bytes":90,"first_seq":1,"first_ts":"2026-12-07T06:22:59Z",
            "last_seq":2,"last_ts":"2026-12-07T06:23:00Z","num_subjects":2,"consumer_count":0},
            "cluster":{"leader":"N1"},"ts":"2026-12-07T06:23:01Z"}"#,
        )
        .unwrap()
    }

    #[test]
    fn the_report_has_natscli_sections_and_rows() {
        let text = render(&sample(), false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("Information for Stream ORDERS created 20"));
        assert_eq!(lines[1], "");
        assert_eq!(lines[2], "                     Subjects: orders.>, x");
        assert_eq!(lines[3], "                     Replicas: 1");
        assert_eq!(lines[4], "                      Storage: File");
        assert_eq!(lines[5], "");
        assert_eq!(lines[6], "Options:");
        assert!(text.contains("\n                    Retention: Limits\n"));
        assert!(text.contains("\n             Duplicate Window: 2m0s\n"));
        assert!(text.contains("\n                   Direct Get: true\n"));
        assert!(text.contains("\n  Allows Atomic Batch Publish: false\n"));
        assert!(text.contains("\nLimits:\n\n             Maximum Messages: unlimited\n"));
        assert!(text.contains("\n                Maximum Bytes: unlimited\n"));
        assert!(text.contains("\nState:\n\n                 Host Version: 2.15.0\n"));
        assert!(text.contains("\n           Required API Level: 0 hosted at level 5\n"));
        assert!(text.contains("\n                     Messages: 2\n"));
        assert!(text.contains("\n                        Bytes: 90 B\n"));
        assert!(text.contains("\n               First Sequence: 1 @ "));
        assert!(text.contains("\n           Number of Subjects: 2\n"));
        // No cluster name: no cluster section.
        assert!(!text.contains("Cluster Information"));
    }

    #[test]
    fn the_state_report_leaves_the_configuration_out() {
        let mut info = sample();
        info.state = Default::default();
        let text = render(&info, true);
        assert!(text.starts_with("State for Stream ORDERS created "));
        assert!(!text.contains("Options:"));
        assert!(text.contains("First Sequence: 0\n"));
    }
}
