//! The text `top` shows: nats-top's header (server, load, traffic with
//! rates) and its connection table, the delimited form `--output` can save,
//! and the help screen. Pure functions of the stats, so they are tested here.

use std::fmt::Write as _;

use super::engine::{ConnInfo, Rates, Stats};

/// How the table is shown; the interactive keys toggle these.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    /// Exact byte and message counts instead of K/M/G.
    pub raw: bool,
    /// Per-second rates in the connection table instead of totals.
    pub rates: bool,
    /// The subscriptions column.
    pub subs: bool,
}

/// Bytes the way nats-top prints them: `512`, `1.5K`, `12.0M`, `1.1G`.
pub fn psize(raw: bool, value: i64) -> String {
    let size = value as f64;
    const KIB: f64 = 1024.0;
    if raw || size < KIB {
        format!("{size:.0}")
    } else if size < KIB * KIB {
        format!("{:.1}K", size / KIB)
    } else if size < KIB * KIB * KIB {
        format!("{:.1}M", size / (KIB * KIB))
    } else {
        format!("{:.1}G", size / (KIB * KIB * KIB))
    }
}

/// Counts the way nats-top prints them: `999`, `1.5K`, `2.0M`, `3.1B`, `1.0T`.
pub fn nsize(raw: bool, value: i64) -> String {
    let size = value as f64;
    if raw || size < 1e3 {
        format!("{size:.0}")
    } else if size < 1e6 {
        format!("{:.1}K", size / 1e3)
    } else if size < 1e9 {
        format!("{:.1}M", size / 1e6)
    } else if size < 1e12 {
        format!("{:.1}B", size / 1e9)
    } else {
        format!("{:.1}T", size / 1e12)
    }
}

/// A timestamp as Go prints a `time.Time`: `2026-11-21 05:37:58.656223725 +0000 UTC`.
pub fn go_time(text: &str) -> String {
    let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) else {
        return text.to_string();
    };
    let mut out = time.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = time.timestamp_subsec_nanos();
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        let _ = write!(out, ".{}", fraction.trim_end_matches('0'));
    }
    let offset = time.format("%z").to_string();
    if time.offset().local_minus_utc() == 0 {
        let _ = write!(out, " {offset} UTC");
    } else {
        let _ = write!(out, " {offset} {offset}");
    }
    out
}

/// The header: server, load and traffic. Six lines, then the connections
/// line (an addition to nats-top's header).
pub fn header(stats: &Stats, view: View, error: Option<&str>) -> Vec<String> {
    let varz = &stats.varz;
    let name = if varz.server_name != varz.server_id {
        varz.server_name.as_str()
    } else {
        ""
    };
    let rates: Rates = stats.rates;
    let mut first = format!(
        "NATS server version {} (uptime: {})",
        varz.version, varz.uptime
    );
    if let Some(error) = error.filter(|e| !e.is_empty()) {
        let _ = write!(first, " {error}");
    }
    vec![
        first,
        format!("Server: {name}"),
        format!("  ID:   {}", varz.server_id),
        format!(
            "  Load: CPU:  {:.1}%  Memory: {}  Slow Consumers: {}",
            varz.cpu,
            psize(false, varz.mem),
            varz.slow_consumers
        ),
        format!(
            "  In:   Msgs: {}  Bytes: {}  Msgs/Sec: {:.1}  Bytes/Sec: {}",
            nsize(view.raw, varz.in_msgs),
            psize(view.raw, varz.in_bytes),
            rates.in_msgs,
            psize(view.raw, rates.in_bytes as i64)
        ),
        format!(
            "  Out:  Msgs: {}  Bytes: {}  Msgs/Sec: {:.1}  Bytes/Sec: {}",
            nsize(view.raw, varz.out_msgs),
            psize(view.raw, varz.out_bytes),
            rates.out_msgs,
            psize(view.raw, rates.out_bytes as i64)
        ),
        format!(
            "  Conns: Current: {}  Total: {}  Subscriptions: {}",
            varz.connections, varz.total_connections, varz.subscriptions
        ),
    ]
}

/// Column widths of the connection table.
struct Widths {
    host: usize,
    /// Zero when no connection has a name: the column is left out.
    name: usize,
}

fn host_of(conn: &ConnInfo) -> String {
    format!("{}:{}", conn.ip, conn.port)
}

fn widths(conns: &[ConnInfo]) -> Widths {
    let longest_host = conns.iter().map(|c| host_of(c).len()).max().unwrap_or(0);
    let longest_name = conns
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    Widths {
        host: if longest_host > 15 {
            longest_host + 2
        } else {
            15
        },
        name: if longest_name > 0 {
            (longest_name + 2).max(4)
        } else {
            0
        },
    }
}

/// The fixed columns after HOST, CID and NAME, with their widths.
const COLUMNS: [(&str, usize); 10] = [
    ("SUBS", 6),
    ("PENDING", 10),
    ("MSGS_TO", 10),
    ("MSGS_FROM", 10),
    ("BYTES_TO", 10),
    ("BYTES_FROM", 10),
    ("LANG", 7),
    ("VERSION", 7),
    ("UPTIME", 7),
    ("LAST_ACTIVITY", 40),
];

fn table_line(widths: &Widths, host: &str, cid: &str, name: &str, cells: &[String]) -> String {
    let mut line = format!("  {host:<w$}  {cid:<6} ", w = widths.host);
    if widths.name > 0 {
        let _ = write!(line, "{name:<w$} ", w = widths.name);
    }
    let padded: Vec<String> = cells
        .iter()
        .zip(COLUMNS.iter())
        .map(|(cell, (_, width))| format!("{cell:<width$}"))
        .collect();
    line.push_str(&padded.join("  "));
    if let Some(extra) = cells.get(COLUMNS.len()) {
        line.push_str(extra);
    }
    line.trim_end().to_string()
}

/// The connections table: the polled count, the column titles and a row per
/// connection.
pub fn table(stats: &Stats, view: View) -> Vec<String> {
    let conns = stats.conns();
    let widths = widths(conns);
    let mut lines = Vec::with_capacity(conns.len() + 2);
    let mode = if view.rates {
        " (rates per second)"
    } else {
        ""
    };
    lines.push(format!(
        "Connections Polled: {}{mode}",
        stats.connz.num_connections
    ));
    let mut titles: Vec<String> = COLUMNS.iter().map(|(t, _)| t.to_string()).collect();
    if view.subs {
        titles.push(format!("{:>13}", "SUBSCRIPTIONS"));
    }
    lines.push(table_line(&widths, "HOST", "CID", "NAME", &titles));
    for conn in conns {
        let (to_msgs, from_msgs, to_bytes, from_bytes) = if view.rates {
            let rates = stats.conn_rates.get(&conn.cid).copied().unwrap_or_default();
            (
                rates.out_msgs as i64,
                rates.in_msgs as i64,
                rates.out_bytes as i64,
                rates.in_bytes as i64,
            )
        } else {
            (conn.out_msgs, conn.in_msgs, conn.out_bytes, conn.in_bytes)
        };
        let mut cells = vec![
            conn.subscriptions.to_string(),
            nsize(view.raw, conn.pending_bytes),
            nsize(view.raw, to_msgs),
            nsize(view.raw, from_msgs),
            psize(view.raw, to_bytes),
            psize(view.raw, from_bytes),
            conn.lang.clone(),
            conn.version.clone(),
            conn.uptime.clone(),
            go_time(&conn.last_activity),
        ];
        if view.subs {
            cells.push(conn.subscriptions_list.as_deref().unwrap_or(&[]).join(", "));
        }
        lines.push(table_line(
            &widths,
            &host_of(conn),
            &conn.cid.to_string(),
            &conn.name,
            &cells,
        ));
    }
    lines
}

/// A whole frame: header, a blank line (where prompts show), the table.
pub fn frame(stats: &Stats, view: View, error: Option<&str>, prompt: &str) -> Vec<String> {
    let mut lines = header(stats, view, error);
    lines.push(prompt.to_string());
    lines.extend(table(stats, view));
    lines
}

/// The snapshot `--output` saves with `--delimiter`: every value separated by
/// the delimiter, one connection a line.
pub fn delimited(stats: &Stats, view: View, delimiter: &str) -> String {
    let varz = &stats.varz;
    let rates = stats.rates;
    let join = |cells: &[String]| cells.join(delimiter);
    let mut out = String::new();
    let lines: [Vec<String>; 5] = [
        vec![
            "NATS server version".into(),
            varz.version.clone(),
            format!("(uptime: {})", varz.uptime),
        ],
        vec![
            "Server:".into(),
            varz.server_name.clone(),
            varz.server_id.clone(),
        ],
        vec![
            "Load:".into(),
            "CPU:".into(),
            format!("{:.1}%", varz.cpu),
            "Memory:".into(),
            psize(false, varz.mem),
            "Slow Consumers:".into(),
            varz.slow_consumers.to_string(),
        ],
        vec![
            "In:".into(),
            "Msgs:".into(),
            nsize(view.raw, varz.in_msgs),
            "Bytes:".into(),
            psize(view.raw, varz.in_bytes),
            "Msgs/Sec:".into(),
            format!("{:.1}", rates.in_msgs),
            "Bytes/Sec:".into(),
            psize(view.raw, rates.in_bytes as i64),
        ],
        vec![
            "Out:".into(),
            "Msgs:".into(),
            nsize(view.raw, varz.out_msgs),
            "Bytes:".into(),
            psize(view.raw, varz.out_bytes),
            "Msgs/Sec:".into(),
            format!("{:.1}", rates.out_msgs),
            "Bytes/Sec:".into(),
            psize(view.raw, rates.out_bytes as i64),
        ],
    ];
    for line in &lines {
        let _ = writeln!(out, "{}", join(line));
    }
    let _ = writeln!(
        out,
        "\nConnections Polled:{delimiter}{}",
        stats.connz.num_connections
    );
    let mut titles: Vec<String> = ["HOST", "CID", "NAME"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    titles.extend(COLUMNS.iter().map(|(t, _)| t.to_string()));
    if view.subs {
        titles.push("SUBSCRIPTIONS".into());
    }
    let _ = writeln!(out, "{}", join(&titles));
    for conn in stats.conns() {
        let mut cells = vec![
            host_of(conn),
            conn.cid.to_string(),
            conn.name.clone(),
            conn.subscriptions.to_string(),
            nsize(view.raw, conn.pending_bytes),
            nsize(view.raw, conn.out_msgs),
            nsize(view.raw, conn.in_msgs),
            psize(view.raw, conn.out_bytes),
            psize(view.raw, conn.in_bytes),
            conn.lang.clone(),
            conn.version.clone(),
            conn.uptime.clone(),
            go_time(&conn.last_activity),
        ];
        if view.subs {
            // Spaces, not commas: the delimiter is often a comma.
            cells.push(conn.subscriptions_list.as_deref().unwrap_or(&[]).join("  "));
        }
        let _ = writeln!(out, "{}", join(&cells));
    }
    out
}

/// The help screen (`?` or `h`).
pub fn help() -> Vec<String> {
    [
        "",
        "Key              What it does",
        "",
        "o<option>        Sort the connections by <option> (then Enter), one of:",
        "                 cid, start, subs, pending, msgs_to, msgs_from, bytes_to,",
        "                 bytes_from, last, idle, uptime, rtt (--sort on the command line).",
        "",
        "n<limit>         Ask the server for at most <limit> connections (then Enter);",
        "                 -n on the command line. With a sort this shows the top ones,",
        "                 e.g. the connection with the most subscriptions: -n 1 --sort subs",
        "",
        "s                Show or hide each connection's subscriptions.",
        "",
        "b                Show exact byte and message counts, or abbreviated ones.",
        "",
        "space            Show per-second rates in the table, or totals.",
        "",
        "q, Ctrl-C        Quit.",
        "",
        "Press any key to go back.",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::top::engine::{Connz, Varz};

    #[test]
    fn sizes_abbreviate_like_nats_top() {
        assert_eq!(psize(false, 512), "512");
        assert_eq!(psize(false, 1536), "1.5K");
        assert_eq!(psize(false, 14_573_568), "13.9M");
        assert_eq!(psize(true, 14_573_568), "14573568");
        assert_eq!(nsize(false, 999), "999");
        assert_eq!(nsize(false, 1500), "1.5K");
        assert_eq!(nsize(false, 2_000_000_000), "2.0B");
    }

    #[test]
    fn times_print_like_go() {
        assert_eq!(
            go_time("2026-11-21T05:37:58.656223725Z"),
            "2026-11-21 05:37:58.656223725 +0000 UTC"
        );
        assert_eq!(
            go_time("2026-11-21T05:37:58Z"),
            "2026-11-21 05:37:58 +0000 UTC"
        );
        assert_eq!(go_time("not a time"), "not a time");
    }

    fn stats() -> Stats {
        Stats {
            varz: Varz {
                server_id: "NID".into(),
                server_name: "gannet-ref".into(),
                version: "2.15.0".into(),
                uptime: "1m2s".into(),
                in_msgs: 1500,
                ..Varz::default()
            },
            connz: Connz {
                num_connections: 1,
                connections: Some(vec![ConnInfo {
                    cid: 7,
                    ip: "127.0.0.1".into(),
                    port: 54040,
                    name: "sys-admin".into(),
                    lang: "rust".into(),
                    version: "0.51".into(),
                    in_msgs: 3,
                    out_msgs: 2,
                    subscriptions: 1,
                    ..ConnInfo::default()
                }]),
                ..Connz::default()
            },
            ..Stats::default()
        }
    }

    #[test]
    fn the_frame_has_the_header_and_a_row_per_connection() {
        let lines = frame(&stats(), View::default(), None, "");
        assert_eq!(lines[0], "NATS server version 2.15.0 (uptime: 1m2s)");
        assert_eq!(lines[1], "Server: gannet-ref");
        assert_eq!(
            lines[4],
            "  In:   Msgs: 1.5K  Bytes: 0  Msgs/Sec: 0.0  Bytes/Sec: 0"
        );
        assert_eq!(lines[8], "Connections Polled: 1");
        assert!(lines[9].starts_with("  HOST             CID    NAME        SUBS    PENDING"));
        assert!(lines[10].starts_with("  127.0.0.1:54040  7      sys-admin   1       0"));
        assert!(lines[10].contains("rust"));
    }

    #[test]
    fn delimited_output_separates_every_value() {
        let text = delimited(&stats(), View::default(), ",");
        assert!(text.contains("\nHOST,CID,NAME,SUBS,PENDING,MSGS_TO"));
        assert!(text.contains("\n127.0.0.1:54040,7,sys-admin,1,0,2,3,"));
    }
}
