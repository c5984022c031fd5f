//! `server report leafnodes`: LEAFZ from every server
//! (`$SYS.REQ.SERVER.PING.LEAFZ`) as a "Leafnode connections" table, one row
//! per leaf node connection with natscli's columns (the server, the server
//! at the other end, the account the connection is bound to, its address,
//! RTT, traffic, subscriptions, compression, and whether this server is the
//! spoke, the end that dialed).
//!
//! Replies are gathered within `--timeout` like `report routes`' are: up to
//! the `LIMIT` argument when given; with a filter, until replies stop coming;
//! else up to the server count the connected server reports. `--account`
//! asks the servers for that account's leafs only, and leaves out of the
//! table any other leaf a server lists anyway.

use std::cmp::Ordering;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value};

use crate::connect::Connector;
use crate::format::number;
use crate::session::Session;
use crate::table::Table;

use super::model::{LeafInfo, Leafz, Traffic};
use super::report::FilterFlags;
use super::sys::{self, Wait};
use super::view::{counted, first_set, traffic_cells};

const SUBJECT: &str = "$SYS.REQ.SERVER.PING.LEAFZ";

/// natscli cuts account names longer than this (nkeys) to their ends.
const ACCOUNT_WIDTH: usize = 23;

#[derive(Debug, Args)]
pub struct LeafsArgs {
    /// Limit the responses to a certain amount of servers
    #[arg(value_name = "LIMIT")]
    servers: Option<usize>,
    /// Produce the report for a specific account
    #[arg(long)]
    account: Option<String>,
    /// Sort by a specific property (ties by server, then remote)
    #[arg(long, value_enum, default_value = "server")]
    sort: LeafSort,
    #[command(flatten)]
    filter: FilterFlags,
    /// Produce JSON output (the replies as received)
    #[arg(short = 'j', long)]
    json: bool,
}

/// natscli's `report leafnodes --sort` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LeafSort {
    Server,
    Name,
    Account,
    Subs,
    InBytes,
    OutBytes,
    InMsgs,
    OutMsgs,
}

/// One server's LEAFZ reply.
#[derive(Debug, Clone)]
struct Answer {
    name: String,
    leafs: Vec<LeafInfo>,
}

impl Answer {
    fn decode(payload: &[u8]) -> anyhow::Result<Answer> {
        let (server, leafz) = sys::decode_data::<Leafz>(SUBJECT, payload)?;
        Ok(Answer {
            name: first_set(&[&server.name, &server.id, &leafz.server_id]),
            leafs: leafz.leafs,
        })
    }
}

pub(super) async fn run(
    session: &mut Session,
    connector: &Connector,
    args: LeafsArgs,
    reverse: bool,
) -> anyhow::Result<()> {
    let filter = args.filter.filter();
    let wait = match args.servers.filter(|&n| n > 0) {
        Some(count) => Wait::Count(count),
        None if !filter.is_empty() => Wait::Quiet,
        None => Wait::from_count(sys::active_servers(session, connector.timeout).await?),
    };
    let account = args.account.filter(|a| !a.is_empty());
    let mut options = Map::new();
    if let Some(account) = &account {
        options.insert("account".into(), Value::from(account.clone()));
    }

    let gathered = sys::gather_answers(
        session,
        SUBJECT,
        sys::request_body(options, &filter),
        wait,
        connector.timeout,
        Answer::decode,
        |_| false,
    )
    .await?;
    if args.json {
        println!("{}", gathered.json());
        return Ok(());
    }
    let mut answers = gathered.decoded;
    if let Some(account) = &account {
        for answer in &mut answers {
            answer.leafs.retain(|leaf| &leaf.account == account);
        }
    }
    let view = LeafView {
        sort: args.sort,
        reverse,
    };
    print!("{}", view.render(&answers));
    Ok(())
}

/// How the leafnodes table is ordered.
struct LeafView {
    sort: LeafSort,
    reverse: bool,
}

impl LeafView {
    fn order(&self, a: &(&Answer, &LeafInfo), b: &(&Answer, &LeafInfo)) -> Ordering {
        let (sa, la) = a;
        let (sb, lb) = b;
        let (ta, tb) = (&la.traffic, &lb.traffic);
        let key = match self.sort {
            LeafSort::Server => Ordering::Equal,
            LeafSort::Name => la.name.cmp(&lb.name),
            LeafSort::Account => la.account.cmp(&lb.account),
            LeafSort::Subs => ta.num_subs.cmp(&tb.num_subs),
            LeafSort::InBytes => ta.in_bytes.cmp(&tb.in_bytes),
            LeafSort::OutBytes => ta.out_bytes.cmp(&tb.out_bytes),
            LeafSort::InMsgs => ta.in_msgs.cmp(&tb.in_msgs),
            LeafSort::OutMsgs => ta.out_msgs.cmp(&tb.out_msgs),
        };
        let order = key
            .then_with(|| sa.name.cmp(&sb.name))
            .then_with(|| la.name.cmp(&lb.name))
            .then_with(|| la.id.cmp(&lb.id));
        if self.reverse {
            order.reverse()
        } else {
            order
        }
    }

    fn render(&self, answers: &[Answer]) -> String {
        let mut leafs: Vec<(&Answer, &LeafInfo)> = answers
            .iter()
            .flat_map(|answer| answer.leafs.iter().map(move |leaf| (answer, leaf)))
            .collect();
        leafs.sort_by(|a, b| self.order(a, b));

        let mut table = Table::new(format!(
            "Leafnode connections ({}, {})",
            counted(answers.len(), "server"),
            counted(leafs.len(), "leafnode")
        ));
        table.headers([
            "Server",
            "Name",
            "Account",
            "Address",
            "RTT",
            "Msgs In",
            "Msgs Out",
            "Bytes In",
            "Bytes Out",
            "Subs",
            "Compressed",
            "Spoke",
        ]);
        let mut traffic = Traffic::default();
        for (answer, leaf) in &leafs {
            traffic += leaf.traffic;
            let [in_msgs, out_msgs, in_bytes, out_bytes] = traffic_cells(&leaf.traffic);
            table.row([
                answer.name.clone(),
                leaf.name.clone(),
                short_account(&leaf.account),
                format!("{}:{}", leaf.ip, leaf.port),
                leaf.rtt.clone(),
                in_msgs,
                out_msgs,
                in_bytes,
                out_bytes,
                number(leaf.traffic.num_subs),
                leaf.compression.clone(),
                if leaf.is_spoke { "yes" } else { "no" }.to_string(),
            ]);
        }
        if leafs.len() > 1 {
            let [in_msgs, out_msgs, in_bytes, out_bytes] = traffic_cells(&traffic);
            table.footer([
                String::new(),
                format!("Totals for {}", counted(leafs.len(), "leafnode")),
                String::new(),
                String::new(),
                String::new(),
                in_msgs,
                out_msgs,
                in_bytes,
                out_bytes,
                number(traffic.num_subs),
                String::new(),
                String::new(),
            ]);
        }
        table.render()
    }
}

/// natscli's account cell: a name longer than [`ACCOUNT_WIDTH`] (an nkey) as
/// its first and last ten characters.
fn short_account(account: &str) -> String {
    let chars: Vec<char> = account.chars().collect();
    if chars.len() <= ACCOUNT_WIDTH {
        return account.to_string();
    }
    let head: String = chars[..10].iter().collect();
    let tail: String = chars[chars.len() - 10..].iter().collect();
    format!("{head}...{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A LEAFZ reply of server `name` with leafs `(remote, account, spoke,
    /// in_msgs)`.
    fn reply(name: &str, leafs: &[(&str, &str, bool, i64)]) -> String {
        let leafs: Vec<String> = leafs
            .iter()
            .enumerate()
            .map(|(i, (remote, account, spoke, in_msgs))| {
                format!(
                    r#"{{"id":{},"name":"{remote}","is_spoke":{spoke},"account":"{account}",
                        "ip":"127.0.0.1","port":{},"rtt":"1ms","in_msgs":{in_msgs},"out_msgs":3,
                        "in_bytes":2048,"out_bytes":10,"subscriptions":4,"compression":"off"}}"#,
                    i + 1,
                    7000 + i
                )
            })
            .collect();
        format!(
            r#"{{"server":{{"name":"{name}","id":"ID{name}","cluster":""}},
                "data":{{"server_id":"ID{name}","now":"2025-01-01T00:00:00Z","leafnodes":{},"leafs":[{}]}}}}"#,
            leafs.len(),
            leafs.join(",")
        )
    }

    fn answers() -> Vec<Answer> {
        [
            reply("HUB2", &[("EDGE", "APP", false, 5)]),
            reply(
                "HUB1",
                &[("LEAF", "APP", false, 1), ("EDGE", "OPS", false, 9)],
            ),
            reply("EDGE", &[("HUB1", "LOCAL", true, 7)]),
        ]
        .iter()
        .map(|text| Answer::decode(text.as_bytes()).unwrap())
        .collect()
    }

    /// `(server, remote)` of each leaf row.
    fn pairs(text: &str) -> Vec<(String, String)> {
        text.lines()
            .map(|l| l.split('│').map(str::trim).collect::<Vec<_>>())
            .filter(|c| c.len() > 5 && c[4].starts_with("127.0.0.1:"))
            .map(|c| (c[1].to_string(), c[2].to_string()))
            .collect()
    }

    fn pair(server: &str, remote: &str) -> (String, String) {
        (server.to_string(), remote.to_string())
    }

    #[test]
    fn rows_by_server_then_remote() {
        let view = LeafView {
            sort: LeafSort::Server,
            reverse: false,
        };
        let text = view.render(&answers());
        assert!(
            text.contains("Leafnode connections (3 servers, 4 leafnodes)"),
            "{text}"
        );
        assert_eq!(
            pairs(&text),
            [
                pair("EDGE", "HUB1"),
                pair("HUB1", "EDGE"),
                pair("HUB1", "LEAF"),
                pair("HUB2", "EDGE")
            ],
            "{text}"
        );
        let edge = text.lines().find(|l| l.starts_with("│ EDGE ")).unwrap();
        assert!(
            edge.contains("│ LOCAL   │ 127.0.0.1:7000 │ 1ms │"),
            "{text}"
        );
        assert!(edge.ends_with("│ 4    │ off        │ yes   │"), "{text}");
        assert!(text.contains("Totals for 4 leafnodes"), "{text}");
        assert!(text.contains("│ 22      │"), "{text}");

        let by_in_msgs = LeafView {
            sort: LeafSort::InMsgs,
            reverse: true,
        };
        let cells = pairs(&by_in_msgs.render(&answers()));
        assert_eq!(cells[0], pair("HUB1", "EDGE"));
        assert_eq!(cells[3], pair("HUB1", "LEAF"));
    }

    #[test]
    fn no_leafnodes() {
        let answer = Answer::decode(reply("S", &[]).as_bytes()).unwrap();
        let view = LeafView {
            sort: LeafSort::Server,
            reverse: false,
        };
        let text = view.render(&[answer]);
        assert!(
            text.contains("Leafnode connections (1 server, 0 leafnodes)"),
            "{text}"
        );
        assert!(pairs(&text).is_empty(), "{text}");
        assert!(!text.contains("Totals"), "{text}");
    }

    #[test]
    fn long_accounts_are_cut_like_natscli() {
        assert_eq!(short_account("APP"), "APP");
        let nkey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRST";
        assert_eq!(short_account(nkey), "ABCDEFGHIJ...KLMNOPQRST");
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
