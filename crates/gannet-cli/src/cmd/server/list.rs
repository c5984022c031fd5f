//! `server list`: natscli's "Server Overview" table built from the STATSZ
//! every server answers to `$SYS.REQ.SERVER.PING`, with totals in the footer
//! and a "Cluster Overview" when servers are clustered.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, ValueEnum};

use crate::connect::Connector;
use crate::format::{bytes, number};
use crate::table::{Align, Table};

use super::json::Json;
use super::model::ServerStatsMsg;
use super::sys::{self, ExpectServers, Wait};
use super::view::{between, compact_names, parse_time};
use crate::format::{go_round, humanize_duration};

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    expect: ExpectServers,
    /// Produce JSON output
    #[arg(short = 'j', long)]
    json: bool,
    /// Sort servers by a specific key
    #[arg(long, value_enum, default_value = "rtt")]
    sort: ListSort,
    /// Reverse sort servers
    #[arg(short = 'R', long)]
    reverse: bool,
    /// Compact server names (drop the domain they share)
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    compact: bool,
    /// Show server names and hosts in full
    #[arg(long, conflicts_with = "compact")]
    no_compact: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListSort {
    Name,
    Cluster,
    #[value(alias = "conn")]
    Conns,
    #[value(alias = "sub")]
    Subs,
    #[value(alias = "route")]
    Routes,
    #[value(alias = "gw")]
    Gws,
    Mem,
    Cpu,
    Slow,
    Uptime,
    Rtt,
}

struct Row {
    stats: ServerStatsMsg,
    rtt: Duration,
}

#[derive(Default)]
struct ClusterTotals {
    nodes: usize,
    gateways_out: usize,
    gateways_in: i64,
    conns: i64,
    route_sizes: Vec<usize>,
}

pub async fn run(args: ListArgs, connector: &Connector) -> anyhow::Result<()> {
    let mut session = connector.connect().await?;
    let expect = args.expect.count();
    let subject = "$SYS.REQ.SERVER.PING";
    let mut rows = Vec::new();
    let mut raw = Vec::new();
    let replies = sys::gather_all(
        &mut session,
        subject,
        Vec::new(),
        Wait::from_count(expect),
        connector.timeout,
    )
    .await?;
    for reply in replies {
        let stats: ServerStatsMsg = sys::decode(subject, &reply.payload)?;
        raw.push(sys::decode::<Json>(subject, &reply.payload)?);
        rows.push(Row {
            stats,
            rtt: reply.elapsed,
        });
    }
    if rows.is_empty() {
        bail!("no results received, ensure the account used has system privileges and appropriate permissions");
    }
    if args.json {
        println!("{}", Json::Array(raw).pretty());
        return Ok(());
    }
    sort_rows(&mut rows, args.sort, args.reverse);
    print!("{}", overview(&rows, args.compact && !args.no_compact));
    let clusters = clusters(&rows);
    if !clusters.is_empty() {
        println!();
        print!("{}", cluster_overview(&clusters));
    }
    Ok(())
}

/// natscli's orders: names and RTT ascending, counts and sizes descending,
/// longest uptime first; `--reverse` flips each.
fn sort_rows(rows: &mut [Row], sort: ListSort, reverse: bool) {
    let by_name = |a: &Row, b: &Row| a.stats.server.name.cmp(&b.stats.server.name);
    rows.sort_by(|a, b| {
        let (sa, sb) = (&a.stats.statsz, &b.stats.statsz);
        let order = match sort {
            ListSort::Name => by_name(a, b),
            ListSort::Conns => sb.connections.cmp(&sa.connections),
            ListSort::Subs => sb.subscriptions.cmp(&sa.subscriptions),
            ListSort::Routes => sb
                .routes
                .len()
                .cmp(&sa.routes.len())
                .then_with(|| by_name(a, b)),
            ListSort::Gws => sb
                .gateways
                .len()
                .cmp(&sa.gateways.len())
                .then_with(|| by_name(a, b)),
            ListSort::Mem => sb.mem.cmp(&sa.mem),
            ListSort::Cpu => sb.cpu.partial_cmp(&sa.cpu).unwrap_or(Ordering::Equal),
            ListSort::Slow => sb.slow_consumers.cmp(&sa.slow_consumers),
            ListSort::Uptime => match (parse_time(&sa.start), parse_time(&sb.start)) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => Ordering::Equal,
            },
            ListSort::Cluster => a
                .stats
                .server
                .cluster
                .cmp(&b.stats.server.cluster)
                .then_with(|| by_name(b, a)),
            ListSort::Rtt => a.rtt.cmp(&b.rtt),
        };
        if reverse {
            order.reverse()
        } else {
            order
        }
    });
}

fn overview(rows: &[Row], compact: bool) -> String {
    let names: Vec<String> = rows.iter().map(|r| r.stats.server.name.clone()).collect();
    let hosts: Vec<String> = rows.iter().map(|r| r.stats.server.host.clone()).collect();
    let (names, hosts) = if compact {
        (compact_names(&names), compact_names(&hosts))
    } else {
        (names, hosts)
    };

    let mut table = Table::new("Server Overview");
    table.headers([
        "Name", "Cluster", "Host", "Version", "JS", "Conns", "Subs", "Routes", "GWs", "Mem",
        "CPU %", "Cores", "Slow", "Uptime", "RTT",
    ]);
    let mut align = vec![Align::Left; 15];
    for column in [7, 8, 11] {
        align[column] = Align::Right;
    }
    table.align(&align);

    let first = &rows[0].stats;
    let mut versions_differ = false;
    let mut gateways_differ = false;
    let (mut connections, mut subs, mut memory, mut slow, mut js) = (0i64, 0i64, 0i64, 0i64, 0);
    for (i, row) in rows.iter().enumerate() {
        let server = &row.stats.server;
        let stats = &row.stats.statsz;
        connections += stats.connections;
        subs += stats.subscriptions;
        memory += stats.mem;
        slow += stats.slow_consumers;
        let js_cell = if server.jetstream {
            js += 1;
            if server.domain.is_empty() {
                "yes".to_string()
            } else {
                server.domain.clone()
            }
        } else {
            "no".to_string()
        };
        versions_differ |= server.version != first.server.version;
        gateways_differ |= stats.gateways.len() != first.statsz.gateways.len();
        table.row([
            names[i].clone(),
            server.cluster.clone(),
            hosts[i].clone(),
            server.version.clone(),
            js_cell,
            number(stats.connections),
            number(stats.subscriptions),
            stats.routes.len().to_string(),
            stats.gateways.len().to_string(),
            bytes(u64::try_from(stats.mem).unwrap_or(0)),
            format!("{:.0}", stats.cpu),
            stats.cores.to_string(),
            slow_cell(&row.stats),
            humanize_duration(between(&stats.start, &server.time)),
            humanize_duration(go_round(row.rtt, Duration::from_millis(1))),
        ]);
    }
    let clusters = clusters(rows);
    let routes_differ = clusters.values().any(|c| {
        c.route_sizes
            .iter()
            .any(|s| Some(s) != c.route_sizes.first())
    });
    let mark = |differ: bool| if differ { "X" } else { "" }.to_string();
    table.footer([
        String::new(),
        clusters.len().to_string(),
        rows.len().to_string(),
        mark(versions_differ),
        js.to_string(),
        number(connections),
        number(subs),
        mark(routes_differ),
        mark(gateways_differ),
        bytes(u64::try_from(memory).unwrap_or(0)),
        String::new(),
        String::new(),
        number(slow),
        String::new(),
        String::new(),
    ]);
    table.render()
}

/// Slow consumers, split by kind when other than clients were slow.
fn slow_cell(stats: &ServerStatsMsg) -> String {
    let total = number(stats.statsz.slow_consumers);
    let Some(kinds) = stats.statsz.slow_consumer_stats else {
        return total;
    };
    let mut parts = Vec::new();
    for (label, count) in [
        ("c", kinds.clients),
        ("r", kinds.routes),
        ("g", kinds.gateways),
        ("l", kinds.leafs),
    ] {
        if count > 0 {
            parts.push(format!("{label}: {}", number(count)));
        }
    }
    if parts.is_empty() || (parts.len() == 1 && kinds.clients > 0) {
        total
    } else {
        format!("{total} ({})", parts.join(" "))
    }
}

fn clusters(rows: &[Row]) -> BTreeMap<String, ClusterTotals> {
    let mut clusters: BTreeMap<String, ClusterTotals> = BTreeMap::new();
    for row in rows {
        let server = &row.stats.server;
        if server.cluster.is_empty() {
            continue;
        }
        let stats = &row.stats.statsz;
        let cluster = clusters.entry(server.cluster.clone()).or_default();
        cluster.nodes += 1;
        cluster.conns += stats.connections;
        cluster.gateways_out += stats.gateways.len();
        cluster.gateways_in += stats.gateways.iter().map(|g| g.num_inbound).sum::<i64>();
        cluster.route_sizes.push(stats.routes.len());
    }
    clusters
}

fn cluster_overview(clusters: &BTreeMap<String, ClusterTotals>) -> String {
    let mut table = Table::new("Cluster Overview");
    table
        .headers([
            "Cluster",
            "Node Count",
            "Outgoing Gateways",
            "Incoming Gateways",
            "Connections",
        ])
        .align(&[
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ]);
    let mut list: Vec<(&String, &ClusterTotals)> = clusters.iter().collect();
    list.sort_by_key(|(_, c)| c.conns);
    let (mut nodes, mut out, mut inbound, mut conns) = (0usize, 0usize, 0i64, 0i64);
    for (name, cluster) in list {
        nodes += cluster.nodes;
        out += cluster.gateways_out;
        inbound += cluster.gateways_in;
        conns += cluster.conns;
        table.row([
            name.clone(),
            cluster.nodes.to_string(),
            cluster.gateways_out.to_string(),
            cluster.gateways_in.to_string(),
            cluster.conns.to_string(),
        ]);
    }
    table.footer([
        String::new(),
        nodes.to_string(),
        out.to_string(),
        inbound.to_string(),
        conns.to_string(),
    ]);
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, conns: i64, rtt_ms: u64) -> Row {
        let stats: ServerStatsMsg = serde_json::from_str(&format!(
            r#"{{"server":{{"name":"{name}","host":"127.0.0.1","ver":"2.15.0","time":"2026-01-01T00:01:05Z"}},
               "statsz":{{"start":"2026-01-01T00:00:00Z","mem":1048576,"cores":2,"cpu":1.4,"connections":{conns},"subscriptions":10}}}}"#
        ))
        .unwrap();
        Row {
            stats,
            rtt: Duration::from_millis(rtt_ms),
        }
    }

    #[test]
    fn default_orders_follow_natscli() {
        let mut rows = vec![row("b", 1, 5), row("a", 3, 9), row("c", 2, 1)];
        sort_rows(&mut rows, ListSort::Rtt, false);
        let names: Vec<_> = rows.iter().map(|r| r.stats.server.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "a"]);
        sort_rows(&mut rows, ListSort::Conns, false);
        let names: Vec<_> = rows.iter().map(|r| r.stats.server.name.as_str()).collect();
        assert_eq!(names, ["a", "c", "b"]);
        sort_rows(&mut rows, ListSort::Name, true);
        let names: Vec<_> = rows.iter().map(|r| r.stats.server.name.as_str()).collect();
        assert_eq!(names, ["c", "b", "a"]);
    }

    #[test]
    fn overview_rows_and_totals() {
        let rows = vec![row("n1", 3, 2), row("n2", 4, 3)];
        let text = overview(&rows, true);
        assert!(text.contains("Server Overview"), "{text}");
        let n1 = text.lines().find(|l| l.contains(" n1 ")).unwrap();
        let cells: Vec<&str> = n1.split('│').map(str::trim).collect();
        assert_eq!(
            &cells[1..16],
            &[
                "n1",
                "",
                "127.0.0.1",
                "2.15.0",
                "no",
                "3",
                "10",
                "0",
                "0",
                "1.0 MiB",
                "1",
                "2",
                "0",
                "1m5s",
                "2ms"
            ]
        );
        let footer = text.lines().rev().nth(1).unwrap();
        let cells: Vec<&str> = footer.split('│').map(str::trim).collect();
        assert_eq!(&cells[1..8], &["", "0", "2", "", "0", "7", "20"]);
    }
}
