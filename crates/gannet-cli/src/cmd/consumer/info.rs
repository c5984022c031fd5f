//! `consumer info STREAM NAME` and the report `consumer add` prints:
//! natscli's Configuration section (pull or push, policies, limits), cluster
//! details when clustered, and the State section (delivered, acknowledged,
//! pending, waiting pulls or push interest).

use clap::Args;

use crate::cmd::stream::title_case;
use crate::connect::Connector;
use crate::format::{bytes, number, Columns};
use crate::jsm::model::{ConsumerConfig, ConsumerInfo, SequenceInfo};
use crate::jsm::view::{self, age, api_level_rows, humanize_nanos, local_text};
use crate::jsm::Jsm;

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Stream name
    #[arg(value_name = "STREAM")]
    stream: String,
    /// Consumer name
    #[arg(value_name = "CONSUMER")]
    consumer: String,
}

pub async fn run(args: InfoArgs, connector: &Connector) -> anyhow::Result<()> {
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    let info = jsm
        .consumer_info(&args.stream, &args.consumer)
        .await
        .map_err(|err| {
            err.context(format!(
                "could not load Consumer {} > {}",
                args.stream, args.consumer
            ))
        })?;
    print!("{}", render(&info));
    Ok(())
}

/// natscli's `showInfo`.
pub fn render(info: &ConsumerInfo) -> String {
    let created = local_text(&info.created);
    let mut columns = Columns::new(format!(
        "Information for Consumer {} > {} created {created}",
        info.stream_name, info.name
    ));
    config_rows(&mut columns, &info.config);
    cluster_rows(&mut columns, info);
    state_rows(&mut columns, info);
    columns.render()
}

fn config_rows(columns: &mut Columns, config: &ConsumerConfig) {
    columns.title("Configuration");
    columns.row_if_not_empty("Name", &config.name);
    if !config.durable_name.is_empty() && config.durable_name != config.name {
        columns.row("Durable Name", &config.durable_name);
    }
    columns.row_if_not_empty("Description", &config.description);
    if config.deliver_subject.is_empty() {
        columns.row("Pull Mode", true);
    } else {
        columns.row("Delivery Subject", &config.deliver_subject);
    }
    if !config.filter_subject.is_empty() {
        columns.row("Filter Subject", &config.filter_subject);
    } else if !config.filter_subjects.is_empty() {
        columns.row("Filter Subjects", view::list(&config.filter_subjects));
    }
    let policy = match config.deliver_policy.as_str() {
        "all" => Some("All".to_string()),
        "last" => Some("Last".to_string()),
        "new" => Some("New".to_string()),
        "last_per_subject" => Some("Last Per Subject".to_string()),
        "by_start_time" => Some(format!(
            "Since {}",
            view::go_time_string(config.opt_start_time.as_deref().unwrap_or_default())
        )),
        "by_start_sequence" => Some(format!("From Sequence {}", config.opt_start_seq)),
        _ => None,
    };
    if let Some(policy) = policy {
        columns.row("Deliver Policy", policy);
    }
    if !config.deliver_group.is_empty() && !config.deliver_subject.is_empty() {
        columns.row("Deliver Queue Group", &config.deliver_group);
    }
    columns.row("Ack Policy", title_case(&config.ack_policy));
    if config.ack_policy != "none" {
        columns.row("Ack Wait", humanize_nanos(config.ack_wait));
    }
    columns.row("Replay Policy", title_case(&config.replay_policy));
    if config.max_deliver != -1 {
        columns.row("Maximum Deliveries", number(config.max_deliver));
    }
    columns.row_if_not_empty("Sampling Rate", &config.sample_freq);
    if config.rate_limit_bps > 0 {
        columns.row(
            "Rate Limit",
            format!("{} / second", bytes(config.rate_limit_bps / 8)),
        );
    }
    if config.max_ack_pending > 0 {
        columns.row("Max Ack Pending", number(config.max_ack_pending));
    }
    if config.max_waiting > 0 {
        columns.row("Max Waiting Pulls", number(config.max_waiting));
    }
    if config.idle_heartbeat > 0 {
        columns.row("Idle Heartbeat", humanize_nanos(config.idle_heartbeat));
    }
    if !config.deliver_subject.is_empty() {
        columns.row("Flow Control", config.flow_control);
    }
    if config.headers_only {
        columns.row("Headers Only", true);
    }
    if config.inactive_threshold > 0 && config.deliver_subject.is_empty() {
        columns.row(
            "Inactive Threshold",
            humanize_nanos(config.inactive_threshold),
        );
    }
    if config.max_expires > 0 {
        columns.row("Max Pull Expire", humanize_nanos(config.max_expires));
    }
    if config.max_batch > 0 {
        columns.row("Max Pull Batch", number(config.max_batch));
    }
    if config.max_bytes > 0 {
        columns.row("Max Pull MaxBytes", number(config.max_bytes));
    }
    if !config.backoff.is_empty() {
        columns.row("Backoff", backoff_text(&config.backoff));
    }
    if config.num_replicas > 0 {
        columns.row("Replicas", number(config.num_replicas));
    }
    if config.mem_storage {
        columns.row("Memory Storage", true);
    }
    let metadata = view::user_metadata(&config.metadata);
    if !metadata.is_empty() {
        columns.title("Metadata");
        for (key, value) in &metadata {
            columns.row(key, value);
        }
    }
}

/// natscli's `renderBackoff`: Go durations, the middle left out of long lists.
fn backoff_text(backoff: &[i64]) -> String {
    let go = |nanos: &i64| crate::format::go_duration(view::nanos(*nanos));
    if backoff.len() > 15 {
        let mut parts: Vec<String> = backoff[..5].iter().map(go).collect();
        parts.push("...".to_string());
        parts.extend(backoff[backoff.len() - 5..].iter().map(go));
        format!("{} ({} total)", view::list(&parts), backoff.len())
    } else {
        let parts: Vec<String> = backoff.iter().map(go).collect();
        view::list(&parts)
    }
}

fn cluster_rows(columns: &mut Columns, info: &ConsumerInfo) {
    let Some(cluster) = info.cluster.as_ref().filter(|c| !c.name.is_empty()) else {
        return;
    };
    columns.title("Cluster Information");
    columns.row("Name", &cluster.name);
    columns.row_if_not_empty("Raft Group", &cluster.raft_group);
    match &cluster.leader_since {
        Some(since) => columns.row(
            "Leader",
            format!("{} ({})", cluster.leader, age(&info.ts, since)),
        ),
        None => columns.row("Leader", &cluster.leader),
    };
    for replica in &cluster.replicas {
        let since = if replica.active == 0 || replica.active == i64::MAX {
            "not seen".to_string()
        } else {
            format!("seen {} ago", humanize_nanos(replica.active))
        };
        let state = if replica.current {
            "current"
        } else {
            "outdated"
        };
        columns.row("Replica", format!("{}, {state}, {since}", replica.name));
    }
}

/// `Consumer sequence: 1 Stream sequence: 5`, with when it last moved.
fn sequences(info: &ConsumerInfo, sequence: &SequenceInfo, last_label: &str) -> String {
    let mut text = format!(
        "Consumer sequence: {} Stream sequence: {}",
        number(sequence.consumer_seq),
        number(sequence.stream_seq)
    );
    if let Some(last) = &sequence.last_active {
        text.push_str(&format!(" {last_label}: {} ago", age(&info.ts, last)));
    }
    text
}

fn state_rows(columns: &mut Columns, info: &ConsumerInfo) {
    let config = &info.config;
    columns.title("State");
    api_level_rows(columns, &config.metadata);
    columns.row(
        "Last Delivered Message",
        sequences(info, &info.delivered, "Last delivery"),
    );
    if config.ack_policy != "none" {
        columns.row(
            "Acknowledgment Floor",
            sequences(info, &info.ack_floor, "Last Ack"),
        );
        if config.max_ack_pending > 0 {
            columns.row(
                "Outstanding Acks",
                format!(
                    "{} out of maximum {}",
                    number(info.num_ack_pending),
                    number(config.max_ack_pending)
                ),
            );
        } else {
            columns.row("Outstanding Acks", number(info.num_ack_pending));
        }
        columns.row("Redelivered Messages", number(info.num_redelivered));
    }
    columns.row("Unprocessed Messages", number(info.num_pending));
    if config.deliver_subject.is_empty() {
        if config.max_waiting > 0 {
            columns.row(
                "Waiting Pulls",
                format!(
                    "{} of maximum {}",
                    number(info.num_waiting),
                    number(config.max_waiting)
                ),
            );
        } else {
            columns.row(
                "Waiting Pulls",
                format!("{} of unlimited", number(info.num_waiting)),
            );
        }
    } else if info.push_bound {
        if config.deliver_group.is_empty() {
            columns.row("Active Interest", "Active");
        } else {
            columns.row(
                "Active Interest",
                format!("Active using Queue Group {}", config.deliver_group),
            );
        }
    } else {
        columns.row("Active Interest", "No interest");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_consumer_report_reads_like_natscli() {
        let info: ConsumerInfo = serde_json::from_str(
            r#"{"stream_name":"ORDERS","name":"C1","created":"2026-12-07T06:23:18Z",
            "config":{"durable_name":"C1","name":"C1","deliver_policy":"all","ack_policy":"explicit",
            "ack_wait":30000000000,"max_deliver":-1,"replay_policy":"instant","max_waiting":512,
            "max_ack_pending":1000,"num_replicas":0,
            "metadata":{"_nats.level":"5","_nats.req.level":"0","_nats.ver":"2.15.0"}},
            "delivered":{"consumer_seq":1,"stream_seq":1,"last_active":"2026-12-07T06:23:20Z"},
            "ack_floor":{"consumer_seq":0,"stream_seq":0},"num_ack_pending":1,
            "num_redelivered":0,"num_waiting":0,"num_pending":1,"ts":"2026-12-07T06:23:21Z"}"#,
        )
        .unwrap();
        let text = render(&info);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("Information for Consumer ORDERS > C1 created 20"));
        assert_eq!(lines[2], "Configuration:");
        assert_eq!(lines[4], "                    Name: C1");
        assert_eq!(lines[5], "               Pull Mode: true");
        assert_eq!(lines[6], "          Deliver Policy: All");
        assert_eq!(lines[7], "              Ack Policy: Explicit");
        assert_eq!(lines[8], "                Ack Wait: 30.00s");
        assert_eq!(lines[9], "           Replay Policy: Instant");
        assert_eq!(lines[10], "         Max Ack Pending: 1,000");
        assert_eq!(lines[11], "       Max Waiting Pulls: 512");
        assert!(text.contains(
            "\n  Last Delivered Message: Consumer sequence: 1 Stream sequence: 1 Last delivery: 1.00s ago\n"
        ));
        assert!(
            text.contains("\n    Acknowledgment Floor: Consumer sequence: 0 Stream sequence: 0\n")
        );
        assert!(text.contains("\n        Outstanding Acks: 1 out of maximum 1,000\n"));
        assert!(text.contains("\n           Waiting Pulls: 0 of maximum 512\n"));
    }
}
