//! `server report gateways`: GATEWAYZ from every server
//! (`$SYS.REQ.SERVER.PING.GATEWAYZ`, with account detail) as natscli's
//! "Super Cluster Report". Each server has a row of its own (its name, its
//! cluster, the port it takes gateway connections on), followed by a row per
//! gateway connection: the inbound ones first, then the outbound, the
//! direction named on the first of each. A connection row names the remote
//! gateway and the address at the other end, the connection id (`gid:N`),
//! uptime, RTT, the bytes it carried (received on an inbound connection,
//! sent on an outbound one) and how many accounts have interest state on it.
//! The footer counts the servers, clusters, connections and bytes.
//!
//! Replies are gathered within `--timeout` like `report routes`' are: up to
//! the `LIMIT` argument when given; with a server filter, until replies stop
//! coming; else up to the server count the connected server reports and,
//! beyond it, until every server a gateway connection leads to has answered.
//! `--filter-name` asks the servers for the connections to that gateway only.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::time::Duration;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value};

use crate::connect::Connector;
use crate::duration::parse_duration;
use crate::format::{humanize_duration, number};
use crate::session::Session;
use crate::table::Table;

use super::model::{Gatewayz, RemoteGatewayz};
use super::report::FilterFlags;
use super::sys::{self, Mesh, Wait};
use super::view::{first_set, size};

const SUBJECT: &str = "$SYS.REQ.SERVER.PING.GATEWAYZ";

#[derive(Debug, Args)]
pub struct GatewaysArgs {
    /// Limit the responses to a certain amount of servers
    #[arg(value_name = "LIMIT")]
    servers: Option<usize>,
    /// Limits responses to a certain name (of a remote gateway)
    #[arg(long, value_name = "NAME")]
    filter_name: Option<String>,
    /// Sorts by a specific property
    #[arg(long, value_enum, default_value = "cluster")]
    sort: GatewaySort,
    #[command(flatten)]
    filter: FilterFlags,
    /// Produce JSON output (the replies as received)
    #[arg(short = 'j', long)]
    json: bool,
}

/// natscli's `report gateways --sort` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GatewaySort {
    /// By server name, then cluster
    Server,
    /// By cluster, then server name
    Cluster,
}

/// One gateway connection and the remote gateway it is with.
#[derive(Debug, Clone)]
struct Link {
    gateway: String,
    info: RemoteGatewayz,
}

/// One server's GATEWAYZ reply, its connections in a stable order (natscli
/// lists them in Go's map order, which changes from run to run).
#[derive(Debug, Clone)]
struct Answer {
    name: String,
    id: String,
    cluster: String,
    port: i64,
    inbound: Vec<Link>,
    outbound: Vec<Link>,
}

impl Answer {
    fn decode(payload: &[u8]) -> anyhow::Result<Answer> {
        let (server, gatewayz) = sys::decode_data::<Gatewayz>(SUBJECT, payload)?;
        let Gatewayz {
            server_id,
            port,
            inbound_gateways,
            outbound_gateways,
            ..
        } = gatewayz;
        let id = first_set(&[&server.id, &server_id]);
        let mut inbound: Vec<Link> = inbound_gateways
            .into_iter()
            .flat_map(|(gateway, conns)| {
                conns.into_iter().map(move |info| Link {
                    gateway: gateway.clone(),
                    info,
                })
            })
            .collect();
        inbound.sort_by(|a, b| {
            a.gateway
                .cmp(&b.gateway)
                .then_with(|| a.info.connection.cid.cmp(&b.info.connection.cid))
        });
        let outbound = outbound_gateways
            .into_iter()
            .map(|(gateway, info)| Link { gateway, info })
            .collect();
        Ok(Answer {
            name: first_set(&[&server.name, &id]),
            id,
            cluster: server.cluster,
            port,
            inbound,
            outbound,
        })
    }

    /// The ids of the servers its gateway connections lead to.
    fn peers(&self) -> impl Iterator<Item = &str> {
        self.inbound
            .iter()
            .chain(&self.outbound)
            .map(|link| link.info.connection.name.as_str())
    }
}

pub(super) async fn run(
    session: &mut Session,
    connector: &Connector,
    args: GatewaysArgs,
    reverse: bool,
) -> anyhow::Result<()> {
    let filter = args.filter.filter();
    let (wait, mut mesh) = match args.servers.filter(|&n| n > 0) {
        Some(count) => (Wait::Count(count), None),
        None if !filter.is_empty() => (Wait::Quiet, None),
        None => {
            let mesh = Mesh::new(sys::active_servers(session, connector.timeout).await?);
            let wait = if mesh.expected > 0 {
                Wait::Timeout
            } else {
                Wait::Quiet
            };
            (wait, Some(mesh))
        }
    };
    let mut options = Map::new();
    if let Some(name) = args.filter_name.filter(|n| !n.is_empty()) {
        options.insert("name".into(), Value::from(name));
    }
    options.insert("accounts".into(), Value::Bool(true));

    let gathered = sys::gather_answers(
        session,
        SUBJECT,
        sys::request_body(options, &filter),
        wait,
        connector.timeout,
        Answer::decode,
        |answer| {
            mesh.as_mut()
                .is_some_and(|mesh| mesh.add(&answer.id, answer.peers()))
        },
    )
    .await?;
    if args.json {
        println!("{}", gathered.json());
        return Ok(());
    }
    let view = GatewayView {
        sort: args.sort,
        reverse,
    };
    print!("{}", view.render(&gathered.decoded));
    Ok(())
}

/// How the report is ordered.
struct GatewayView {
    sort: GatewaySort,
    reverse: bool,
}

impl GatewayView {
    fn order(&self, a: &Answer, b: &Answer) -> Ordering {
        let order = match self.sort {
            GatewaySort::Cluster => a.cluster.cmp(&b.cluster).then_with(|| a.name.cmp(&b.name)),
            GatewaySort::Server => a.name.cmp(&b.name).then_with(|| a.cluster.cmp(&b.cluster)),
        }
        .then_with(|| a.id.cmp(&b.id));
        if self.reverse {
            order.reverse()
        } else {
            order
        }
    }

    fn render(&self, answers: &[Answer]) -> String {
        let mut servers: Vec<&Answer> = answers.iter().collect();
        servers.sort_by(|a, b| self.order(a, b));

        let mut table = Table::new("Super Cluster Report");
        table.headers([
            "Server",
            "Name",
            "Port",
            "Kind",
            "Connection",
            "ID",
            "Uptime",
            "RTT",
            "Bytes",
            "Accounts",
        ]);
        let mut clusters = BTreeSet::new();
        let (mut links, mut carried) = (0usize, 0i64);
        let mut last_server: Option<&str> = None;
        for server in &servers {
            clusters.insert(server.cluster.as_str());
            // natscli blanks a server's name when it repeats the one above.
            let name = if last_server == Some(server.name.as_str()) {
                String::new()
            } else {
                server.name.clone()
            };
            last_server = Some(&server.name);
            table.row([
                name,
                server.cluster.clone(),
                server.port.to_string(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);

            let inbound = server.inbound.iter().map(|link| ("Inbound", link));
            let outbound = server.outbound.iter().map(|link| ("Outbound", link));
            let mut last_kind = "";
            for (kind, link) in inbound.chain(outbound) {
                let conn = &link.info.connection;
                let bytes = if kind == "Inbound" {
                    conn.in_bytes
                } else {
                    conn.out_bytes
                };
                links += 1;
                carried += bytes;
                table.row([
                    String::new(),
                    String::new(),
                    String::new(),
                    if kind == last_kind { "" } else { kind }.to_string(),
                    format!("{} {}:{}", link.gateway, conn.ip, conn.port),
                    format!("gid:{}", conn.cid),
                    humanized(&conn.uptime),
                    humanized(&conn.rtt),
                    size(bytes),
                    number(link.info.accounts.len() as i64),
                ]);
                last_kind = kind;
            }
        }
        table.footer([
            number(servers.len() as i64),
            number(clusters.len() as i64),
            String::new(),
            String::new(),
            number(links as i64),
            String::new(),
            String::new(),
            String::new(),
            size(carried),
            String::new(),
        ]);
        table.render()
    }
}

/// A duration the server sent as text, humanized the way natscli shows
/// durations; the text as sent when Go could not read it either (an uptime
/// of days, `1d2h3m4s`).
fn humanized(text: &str) -> String {
    go_duration(text).map_or_else(|| text.to_string(), humanize_duration)
}

/// `text` as Go's `time.ParseDuration` reads it: units up to hours, and a
/// bare number only when it is 0.
fn go_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.contains(['d', 'y']) || (text.parse::<f64>().is_ok() && text != "0") {
        return None;
    }
    parse_duration(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection of a GATEWAYZ reply: to server `remote`, id `cid`, port
    /// `port`, `bytes` each way, `accounts` accounts listed.
    fn conn(remote: &str, cid: u64, port: u16, bytes: i64, accounts: usize) -> String {
        let accounts: Vec<String> = (0..accounts)
            .map(|i| format!(r#"{{"name":"ACC{i}","interest_mode":"Interest-Only"}}"#))
            .collect();
        format!(
            r#"{{"configured":false,"connection":{{"cid":{cid},"kind":"Gateway","ip":"127.0.0.1",
                "port":{port},"rtt":"455µs","uptime":"1m5s","in_bytes":{bytes},"out_bytes":{bytes},
                "name":"ID{remote}"}},"accounts":[{}]}}"#,
            accounts.join(",")
        )
    }

    /// The GATEWAYZ reply of server `name` of cluster `cluster`.
    fn reply(name: &str, cluster: &str, inbound: &str, outbound: &str) -> Answer {
        let text = format!(
            r#"{{"server":{{"name":"{name}","id":"ID{name}","cluster":"{cluster}"}},
                "data":{{"server_id":"ID{name}","name":"{cluster}","port":7222,
                "inbound_gateways":{{{inbound}}},"outbound_gateways":{{{outbound}}}}}}}"#
        );
        Answer::decode(text.as_bytes()).unwrap()
    }

    /// A super cluster of three: A and B in C1, X in C2.
    fn answers() -> Vec<Answer> {
        vec![
            reply(
                "X",
                "C2",
                &format!(
                    r#""C1":[{},{}]"#,
                    conn("B", 9, 40001, 4096, 2),
                    conn("A", 8, 40000, 1024, 2)
                ),
                &format!(r#""C1":{}"#, conn("A", 7, 7222, 100, 2)),
            ),
            reply(
                "B",
                "C1",
                "",
                &format!(r#""C2":{}"#, conn("X", 3, 7223, 2048, 1)),
            ),
            reply(
                "A",
                "C1",
                &format!(r#""C2":[{}]"#, conn("X", 5, 50000, 10, 2)),
                &format!(r#""C2":{}"#, conn("X", 4, 7223, 1000, 2)),
            ),
        ]
    }

    fn cells(line: &str) -> Vec<String> {
        let inner = line.trim().trim_start_matches('│').trim_end_matches('│');
        inner.split('│').map(|c| c.trim().to_string()).collect()
    }

    /// The table's rows between the header and the footer.
    fn rows(text: &str) -> Vec<Vec<String>> {
        let lines: Vec<&str> = text.lines().collect();
        let rules: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with('├'))
            .collect();
        lines[rules[1] + 1..rules[2]]
            .iter()
            .map(|l| cells(l))
            .collect()
    }

    fn footer(text: &str) -> Vec<String> {
        let lines: Vec<&str> = text.lines().collect();
        cells(lines[lines.len() - 2])
    }

    #[test]
    fn servers_then_their_connections() {
        let view = GatewayView {
            sort: GatewaySort::Cluster,
            reverse: false,
        };
        let text = view.render(&answers());
        assert!(text
            .lines()
            .nth(1)
            .unwrap()
            .contains("Super Cluster Report"));
        let rows = rows(&text);
        let firsts: Vec<String> = rows
            .iter()
            .map(|r| format!("{}|{}|{}|{}", r[0], r[1], r[3], r[4]))
            .collect();
        assert_eq!(
            firsts,
            [
                "A|C1||",
                "||Inbound|C2 127.0.0.1:50000",
                "||Outbound|C2 127.0.0.1:7223",
                "B|C1||",
                "||Outbound|C2 127.0.0.1:7223",
                "X|C2||",
                "||Inbound|C1 127.0.0.1:40000",
                "|||C1 127.0.0.1:40001",
                "||Outbound|C1 127.0.0.1:7222",
            ],
            "{text}"
        );
        assert_eq!(rows[0][2], "7222", "{text}");
        assert_eq!(
            rows[1][5..],
            ["gid:5", "1m5s", "455µs", "10 B", "2"],
            "{text}"
        );
        // Outbound connections count the bytes sent, inbound the received.
        assert_eq!(rows[4][8], "2.0 KiB", "{text}");
        assert_eq!(rows[4][9], "1", "{text}");
        assert_eq!(
            footer(&text),
            ["3", "2", "", "", "6", "", "", "", "8.1 KiB", ""],
            "{text}"
        );
    }

    #[test]
    fn sorted_by_server_and_reversed() {
        let mut answers = answers();
        answers[1].cluster = "C0".to_string();
        let by_cluster = GatewayView {
            sort: GatewaySort::Cluster,
            reverse: false,
        };
        let names = |text: &str| -> Vec<String> {
            rows(text)
                .into_iter()
                .filter(|r| !r[1].is_empty())
                .map(|r| r[0].clone())
                .collect()
        };
        assert_eq!(names(&by_cluster.render(&answers)), ["B", "A", "X"]);
        let by_server = GatewayView {
            sort: GatewaySort::Server,
            reverse: false,
        };
        assert_eq!(names(&by_server.render(&answers)), ["A", "B", "X"]);
        let reversed = GatewayView {
            sort: GatewaySort::Server,
            reverse: true,
        };
        assert_eq!(names(&reversed.render(&answers)), ["X", "B", "A"]);
    }

    #[test]
    fn a_server_without_gateways() {
        let view = GatewayView {
            sort: GatewaySort::Cluster,
            reverse: false,
        };
        let text = view.render(&[reply("S", "", "", "")]);
        let rows = rows(&text);
        assert_eq!(rows.len(), 1, "{text}");
        assert_eq!(rows[0][..3], ["S", "", "7222"], "{text}");
        assert_eq!(footer(&text)[..5], ["1", "1", "", "", "0"], "{text}");
    }

    #[test]
    fn gathering_follows_the_gateways() {
        let [x, b, a] = <[Answer; 3]>::try_from(answers()).unwrap();
        // The connected server knows of itself only: X's connections lead
        // to A and B.
        let mut mesh = Mesh::new(1);
        assert!(!mesh.add(&x.id, x.peers()));
        assert!(!mesh.add(&a.id, a.peers()));
        assert!(mesh.add(&b.id, b.peers()));
    }

    #[test]
    fn durations_as_natscli_shows_them() {
        assert_eq!(humanized("2s"), "2.00s");
        assert_eq!(humanized("1m5s"), "1m5s");
        assert_eq!(humanized("455µs"), "455µs");
        assert_eq!(humanized("1.234567ms"), "1ms");
        assert_eq!(humanized("1d2h3m4s"), "1d2h3m4s");
        assert_eq!(humanized("12"), "12");
        assert_eq!(humanized(""), "");
    }

    #[test]
    fn error_replies_fail() {
        let err =
            Answer::decode(br#"{"server":{"name":"A"},"error":{"code":500,"description":"boom"}}"#)
                .unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
        assert!(Answer::decode(br#"{"server":{"name":"A"}}"#).is_err());
    }
}
