//! `server info [ID|NAME]`: one server's VARZ in natscli's labelled-columns
//! layout (process, connection, limits and statistics sections, plus
//! JetStream, cluster and super-cluster ones when the server has them).

use std::time::Duration;

use anyhow::{anyhow, bail};
use clap::Args;
use serde_json::{Map, Value};

use crate::connect::Connector;
use crate::format::{bytes, number, Columns};

use super::model::{ApiResponse, Varz};
use super::sys::{self, ServerFilter, Wait, NO_RESULTS};
use super::view::local_time;
use crate::format::{go_round, humanize_duration};

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Server ID or Name to inspect (any server when left out)
    #[arg(value_name = "SERVER")]
    wanted: Option<String>,
}

impl InfoArgs {
    /// The arguments of `server info <id>`.
    pub fn for_server(id: String) -> InfoArgs {
        InfoArgs { wanted: Some(id) }
    }
}

/// A server id: 56 upper-case characters.
pub fn is_server_id(text: &str) -> bool {
    text.len() == 56
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

pub async fn run(args: InfoArgs, connector: &Connector) -> anyhow::Result<()> {
    let mut session = connector.connect().await?;
    let wanted = args.wanted.unwrap_or_default();
    let (subject, body) = if is_server_id(&wanted) {
        (format!("$SYS.REQ.SERVER.{wanted}.VARZ"), b"{}".to_vec())
    } else {
        let filter = ServerFilter {
            name: Some(wanted.clone()),
            ..ServerFilter::default()
        };
        (
            "$SYS.REQ.SERVER.PING.VARZ".to_string(),
            sys::request_body(Map::<String, Value>::new(), &filter),
        )
    };
    let replies = sys::gather_all(
        &mut session,
        &subject,
        body,
        Wait::Count(1),
        connector.timeout,
    )
    .await
    .map_err(|_| anyhow!("{NO_RESULTS}"))?;
    let Some(reply) = replies.first() else {
        if wanted.is_empty() {
            bail!("{NO_RESULTS}");
        }
        bail!("{NO_RESULTS} (no server named {wanted:?} answered)");
    };
    let response: ApiResponse<Varz> = sys::decode(&subject, &reply.payload)?;
    if let Some(error) = response.error {
        bail!("invalid response received: {error}");
    }
    let varz = response
        .data
        .ok_or_else(|| anyhow!("no data received in response from {}", response.server.name))?;
    print!("{}", render(&varz));
    Ok(())
}

fn render(varz: &Varz) -> String {
    let heading = if varz.id == varz.name {
        format!("Server information for {}", varz.id)
    } else {
        format!("Server information for {} ({})", varz.name, varz.id)
    };
    let mut cols = Columns::new(heading);

    cols.title("Process Details");
    cols.row("Version", &varz.version)
        .row("Git Commit", &varz.git_commit)
        .row("Go Version", &varz.go_version)
        .row("Start Time", local_time(&varz.start))
        .row(
            "Configuration Load Time",
            local_time(&varz.config_load_time),
        );
    cols.row_if_not_empty("Configuration Digest", &varz.config_digest);
    cols.row("Uptime", &varz.uptime);

    cols.title("Connection Details");
    cols.row("Auth Required", varz.auth_required)
        .row("TLS Required", varz.tls_required);
    if varz.ip.is_empty() {
        cols.row("Host", format!("{}:{}", varz.host, varz.port));
    } else {
        cols.row("Host", format!("{}:{} ({})", varz.host, varz.port, varz.ip));
    }
    list_rows(&mut cols, "Client URLs", &varz.client_connect_urls);
    list_rows(&mut cols, "WebSocket URLs", &varz.ws_connect_urls);

    let js = &varz.jetstream;
    if !js.config.store_dir.is_empty() {
        cols.title("JetStream");
        cols.row("Domain", &js.config.domain)
            .row("API Support Level", js.stats.api.level)
            .row("Storage Directory", &js.config.store_dir)
            .row("Active Accounts", number(js.stats.accounts))
            .row("Memory In Use", bytes(js.stats.memory))
            .row("File In Use", bytes(js.stats.storage))
            .row("API Requests", number(js.stats.api.total))
            .row("API Errors", number(js.stats.api.errors))
            .row(
                "Maximum Memory Storage",
                bytes(u64::try_from(js.config.max_memory).unwrap_or(0)),
            )
            .row(
                "Maximum File Storage",
                bytes(u64::try_from(js.config.max_storage).unwrap_or(0)),
            );
        cols.row_if_not_empty("Unique Tag", &js.config.unique_tag);
    }

    cols.title("Limits");
    cols.row("Maximum Connections", number(varz.max_conn))
        .row("Maximum Subscriptions", number(varz.max_subs))
        .row(
            "Maximum Payload",
            bytes(u64::try_from(varz.max_payload).unwrap_or(0)),
        )
        // Go converts the float seconds to whole seconds here.
        .row(
            "TLS Timeout",
            humanize_duration(Duration::from_secs(varz.tls_timeout.max(0.0) as u64)),
        )
        .row(
            "Write Deadline",
            humanize_duration(go_round(
                Duration::from_nanos(u64::try_from(varz.write_deadline).unwrap_or(0)),
                Duration::from_millis(1),
            )),
        );

    cols.title("Statistics");
    cols.row("CPU Cores", format!("{} {:.2}%", varz.cores, varz.cpu));
    if varz.max_procs > 0 {
        cols.row("GOMAXPROCS", varz.max_procs);
    }
    cols.row("Memory", bytes(u64::try_from(varz.mem).unwrap_or(0)));
    if varz.mem_limit > 0 {
        cols.row("GOMEMLIMIT", number(varz.mem_limit));
    }
    cols.row("Connections", number(varz.connections))
        .row("Subscriptions", number(varz.subscriptions))
        .row(
            "Messages",
            format!("{} in {} out", number(varz.in_msgs), number(varz.out_msgs)),
        )
        .row(
            "Bytes",
            format!(
                "{} in {} out",
                bytes(u64::try_from(varz.in_bytes).unwrap_or(0)),
                bytes(u64::try_from(varz.out_bytes).unwrap_or(0))
            ),
        )
        .row("Slow Consumers", number(varz.slow_consumers));

    if !varz.cluster.urls.is_empty() {
        cols.title("Cluster");
        cols.row("Name", &varz.cluster.name);
        if !varz.tags.is_empty() {
            cols.row("Tags", varz.tags.join(", "));
        }
        cols.row(
            "Host",
            format!("{}:{}", varz.cluster.host, varz.cluster.port),
        );
        list_rows(&mut cols, "URLs", &varz.cluster.urls);
    }

    if !varz.gateway.gateways.is_empty() {
        cols.title("Super Cluster");
        cols.row("Name", &varz.gateway.name).row(
            "Host",
            format!("{}:{}", varz.gateway.host, varz.gateway.port),
        );
        let mut names: Vec<String> = varz
            .gateway
            .gateways
            .iter()
            .map(|g| g.name.clone())
            .collect();
        names.sort();
        list_rows(&mut cols, "Clusters", &names);
    }
    cols.render()
}

/// The first value under `label`, the rest under an empty label.
fn list_rows(cols: &mut Columns, label: &str, values: &[String]) {
    for (i, value) in values.iter().enumerate() {
        cols.row(if i == 0 { label } else { "" }, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_ids_are_56_upper_case_characters() {
        assert!(is_server_id(
            "NDTVW4K2Z6QW442ONFZYA42SBFOXGAMVG55EHEERHGI55E7YDCTCR3OA"
        ));
        assert!(!is_server_id("gannet-ref"));
        assert!(!is_server_id(""));
    }

    #[test]
    fn varz_renders_in_sections() {
        let varz: Varz = serde_json::from_str(
            r#"{"server_id":"NID","server_name":"n1","version":"2.15.0","host":"127.0.0.1","port":4222,
                "max_connections":65536,"max_payload":1048576,"tls_timeout":2,"write_deadline":10000000000,
                "cores":2,"cpu":1.5,"mem":15622144,"connections":2,"subscriptions":67,"in_msgs":1234,
                "out_msgs":1,"in_bytes":0,"out_bytes":685,"uptime":"5s","cluster":{},"jetstream":{}}"#,
        )
        .unwrap();
        let text = render(&varz);
        assert!(
            text.starts_with("Server information for n1 (NID)\n\n"),
            "{text}"
        );
        for line in [
            "Process Details:",
            "Connection Details:",
            "Limits:",
            "Statistics:",
            "  Maximum Connections: 65,536",
            "      Maximum Payload: 1.0 MiB",
            "          TLS Timeout: 2.00s",
            "       Write Deadline: 10.00s",
            "            CPU Cores: 2 1.50%",
            "             Messages: 1,234 in 1 out",
            "                Bytes: 0 B in 685 B out",
        ] {
            assert!(
                text.lines().any(|l| l.ends_with(line) || l == line),
                "{line:?} missing in\n{text}"
            );
        }
        assert!(!text.contains("JetStream:"));
    }
}
