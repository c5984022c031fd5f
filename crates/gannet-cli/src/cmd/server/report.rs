//! `server report connections` and `server report accounts`: CONNZ from every
//! server (`$SYS.REQ.SERVER.PING.CONNZ`, then page by page from the servers
//! that have more), as natscli's "Top N Connections" table with its
//! per-server count, or summed up per account. `server report routes` lives
//! in `report_routes`, `server report leafnodes` in `report_leafs`,
//! `server report gateways` in `report_gateways`.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::Write as _;

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value};

use crate::connect::Connector;
use crate::format::{bytes, number};
use crate::session::Session;
use crate::table::{Align, Table};

use super::json::Json;
use super::model::{ConnInfo, Connz, ServerInfo};
use super::report_gateways::{self, GatewaysArgs};
use super::report_leafs::{self, LeafsArgs};
use super::report_routes::{self, RoutesArgs};
use super::sys::{self, ServerFilter, Wait};
use super::view::parse_time;

/// natscli's CONNZ page size for reports.
const PAGE: i64 = 1024;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Reverse the sort order
    #[arg(short = 'R', long, global = true)]
    reverse: bool,
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Report on account activity
    #[command(alias = "acct")]
    Accounts(AccountsArgs),
    /// Report on connections
    #[command(aliases = ["conn", "connz", "conns"])]
    Connections(ConnectionsArgs),
    /// Report on Gateway (Super Cluster) connections
    #[command(aliases = ["super", "gateway"])]
    Gateways(GatewaysArgs),
    /// Report on Leafnode connections
    #[command(aliases = ["leafs", "leaf", "leafz"])]
    Leafnodes(LeafsArgs),
    /// Report on route (cluster) connections, and servers that are not meshed
    #[command(alias = "route")]
    Routes(RoutesArgs),
}

/// The server filters natscli's reports take.
#[derive(Debug, Args)]
pub(super) struct FilterFlags {
    /// Limit the report to a specific NATS server (by name)
    #[arg(long, value_name = "SERVER")]
    host: Option<String>,
    /// Limit the report to a specific Cluster
    #[arg(long)]
    cluster: Option<String>,
    /// Limit the report to nodes matching certain tags
    #[arg(long, value_delimiter = ',')]
    tags: Vec<String>,
}

impl FilterFlags {
    pub(super) fn filter(&self) -> ServerFilter {
        ServerFilter {
            name: self.host.clone(),
            host: None,
            cluster: self.cluster.clone(),
            tags: self.tags.clone(),
        }
    }
}

#[derive(Debug, Args)]
struct AccountsArgs {
    /// Account to produce a report for
    account: Option<String>,
    /// Limit the responses to a certain amount of servers
    #[arg(value_name = "LIMIT")]
    servers: Option<usize>,
    /// Sort by a specific property
    #[arg(long, value_enum, default_value = "subs")]
    sort: AccountSort,
    /// Limit results to the top results
    #[arg(long, default_value_t = 1000)]
    top: usize,
    #[command(flatten)]
    filter: FilterFlags,
    /// Produce JSON output
    #[arg(short = 'j', long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ConnectionsArgs {
    /// Limit the responses to a certain amount of servers
    #[arg(value_name = "LIMIT")]
    servers: Option<usize>,
    /// Limit report to a specific account
    #[arg(long)]
    account: Option<String>,
    /// Sort by a specific property
    #[arg(long, value_enum, default_value = "subs")]
    sort: ConnSort,
    /// Limit results to the top results
    #[arg(long, default_value_t = 1000)]
    top: usize,
    /// Limits responses only to those connections with matching subscription interest
    #[arg(long)]
    subject: Option<String>,
    /// Limits responses only to those connections for a specific authentication username
    #[arg(long)]
    username: Option<String>,
    /// Limits responses only to those connections that are in a specific state
    #[arg(long, value_enum, default_value = "open")]
    state: ConnState,
    /// Filter results based on a closed reason (a regular expression on the lower-cased reason)
    #[arg(long, value_name = "REASON")]
    closed_reason: Option<String>,
    #[command(flatten)]
    filter: FilterFlags,
    /// Produce JSON output
    #[arg(short = 'j', long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ConnSort {
    InBytes,
    OutBytes,
    InMsgs,
    OutMsgs,
    Uptime,
    Cid,
    Subs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AccountSort {
    InBytes,
    OutBytes,
    InMsgs,
    OutMsgs,
    Conns,
    Subs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ConnState {
    Open,
    Closed,
    All,
}

impl ConnState {
    /// CONNZ's `state` option.
    fn code(self) -> i64 {
        match self {
            ConnState::Open => 0,
            ConnState::Closed => 1,
            ConnState::All => 2,
        }
    }
}

/// One connection with the server it is on.
#[derive(Clone)]
struct Conn {
    info: ConnInfo,
    raw: Json,
    server: ServerInfo,
    server_raw: Json,
}

impl Conn {
    /// natscli's JSON for a connection: its CONNZ entry plus `server`.
    fn json(&self) -> Json {
        let mut raw = self.raw.clone();
        raw.insert("server", self.server_raw.clone());
        raw
    }
}

/// What the CONNZ request asks for.
struct ConnzQuery {
    account: Option<String>,
    user: Option<String>,
    subject: Option<String>,
    state: ConnState,
    closed_reason: Option<regex::Regex>,
    servers: Option<usize>,
    filter: ServerFilter,
    json: bool,
}

pub async fn run(args: ReportArgs, connector: &Connector) -> anyhow::Result<()> {
    let mut session = connector.connect().await?;
    match args.command {
        ReportCommand::Connections(conns) => {
            let closed_reason = conns
                .closed_reason
                .as_deref()
                .map(|pattern| {
                    regex::Regex::new(pattern).map_err(|err| {
                        anyhow!("invalid --closed-reason expression {pattern:?}: {err}")
                    })
                })
                .transpose()?;
            let query = ConnzQuery {
                account: conns.account.clone(),
                user: conns.username.clone(),
                subject: conns.subject.clone(),
                state: conns.state,
                closed_reason,
                servers: conns.servers,
                filter: conns.filter.filter(),
                json: conns.json,
            };
            let list = gather_connections(&mut session, connector, &query).await?;
            if conns.json {
                let items = list.iter().map(Conn::json).collect();
                println!("{}", Json::Array(items).pretty());
                return Ok(());
            }
            let view = ConnView {
                sort: conns.sort,
                top: conns.top,
                reverse: args.reverse,
                show_reason: conns.state != ConnState::Open,
            };
            print!("{}", view.render(list));
            Ok(())
        }
        ReportCommand::Accounts(accounts) => {
            let query = ConnzQuery {
                account: accounts.account.clone(),
                user: None,
                subject: None,
                state: ConnState::Open,
                closed_reason: None,
                servers: accounts.servers,
                filter: accounts.filter.filter(),
                json: accounts.json,
            };
            let list = gather_connections(&mut session, connector, &query).await?;
            report_accounts(list, &accounts, args.reverse)
        }
        ReportCommand::Gateways(gateways) => {
            report_gateways::run(&mut session, connector, gateways, args.reverse).await
        }
        ReportCommand::Leafnodes(leafs) => {
            report_leafs::run(&mut session, connector, leafs, args.reverse).await
        }
        ReportCommand::Routes(routes) => {
            report_routes::run(&mut session, connector, routes, args.reverse).await
        }
    }
}

/// Every matching connection of every server, following CONNZ's pages.
async fn gather_connections(
    session: &mut Session,
    connector: &Connector,
    query: &ConnzQuery,
) -> anyhow::Result<Vec<Conn>> {
    let wait_for = match query.servers {
        Some(count) if count > 0 => count,
        _ => sys::active_servers(session, connector.timeout).await?,
    };
    let mut options = Map::new();
    options.insert("subscriptions".into(), Value::Bool(true));
    options.insert("auth".into(), Value::Bool(true));
    options.insert("state".into(), Value::from(query.state.code()));
    options.insert("limit".into(), Value::from(PAGE));
    options.insert("offset".into(), Value::from(0));
    for (key, value) in [
        ("user", &query.user),
        ("acc", &query.account),
        ("filter_subject", &query.subject),
    ] {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            options.insert(key.into(), Value::from(value.clone()));
        }
    }

    let mut conns = Vec::new();
    let mut answered = 0usize;
    // Servers (by id) with more pages, and the offset of their next page.
    let mut more: BTreeMap<String, i64> = BTreeMap::new();
    let subject = "$SYS.REQ.SERVER.PING.CONNZ";
    let body = sys::request_body(options.clone(), &query.filter);
    let replies = sys::gather_all(
        session,
        subject,
        body,
        Wait::from_count(wait_for),
        connector.timeout,
    )
    .await?;
    for reply in replies {
        answered += 1;
        if let Some(next) = take_page(subject, &reply.payload, query, &mut conns)? {
            more.insert(next.0, next.1);
        }
    }
    if answered == 0 {
        bail!("did not get results from any servers");
    }

    let paged = !more.is_empty();
    if paged && !query.json {
        print!("Gathering paged connection information");
        let _ = std::io::stdout().flush();
    }
    while let Some((id, offset)) = more.pop_first() {
        if !query.json {
            print!(".");
            let _ = std::io::stdout().flush();
        }
        let mut page = options.clone();
        page.insert("offset".into(), Value::from(offset));
        let subject = format!("$SYS.REQ.SERVER.{id}.CONNZ");
        let body = sys::request_body(page, &ServerFilter::default());
        let replies =
            sys::gather_all(session, &subject, body, Wait::Count(1), connector.timeout).await?;
        for reply in replies {
            if let Some(next) = take_page(&subject, &reply.payload, query, &mut conns)? {
                more.insert(next.0, next.1);
            }
        }
    }
    if paged && !query.json {
        println!();
    }
    Ok(conns)
}

/// Adds one CONNZ reply's connections; returns the server id and next offset
/// when the server has more.
fn take_page(
    subject: &str,
    payload: &[u8],
    query: &ConnzQuery,
    conns: &mut Vec<Conn>,
) -> anyhow::Result<Option<(String, i64)>> {
    let (server, connz) = sys::decode_data::<Connz>(subject, payload)?;
    let raw = sys::decode::<Json>(subject, payload)?;
    let server_raw = raw.get("server").cloned().unwrap_or_default();
    let raw_conns = match raw.get("data").and_then(|d| d.get("connections")) {
        Some(Json::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    for (i, info) in connz.conns.iter().enumerate() {
        if let Some(reason) = &query.closed_reason {
            if !reason.is_match(&info.reason.to_lowercase()) {
                continue;
            }
        }
        conns.push(Conn {
            info: info.clone(),
            raw: raw_conns.get(i).cloned().unwrap_or_default(),
            server: server.clone(),
            server_raw: server_raw.clone(),
        });
    }
    let next = connz.offset + connz.conns.len() as i64;
    let has_more = !connz.conns.is_empty() && next < connz.total;
    Ok((has_more && !server.id.is_empty()).then_some((server.id, next)))
}

/// How the connections table is cut and ordered.
struct ConnView {
    sort: ConnSort,
    top: usize,
    reverse: bool,
    show_reason: bool,
}

impl ConnView {
    fn sort_name(&self) -> &'static str {
        match self.sort {
            ConnSort::InBytes => "in-bytes",
            ConnSort::OutBytes => "out-bytes",
            ConnSort::InMsgs => "in-msgs",
            ConnSort::OutMsgs => "out-msgs",
            ConnSort::Uptime => "uptime",
            ConnSort::Cid => "cid",
            ConnSort::Subs => "subs",
        }
    }

    /// Ascending by the key (natscli's order; the largest last), descending
    /// with `--reverse`.
    fn order(&self, a: &ConnInfo, b: &ConnInfo) -> Ordering {
        let order = match self.sort {
            ConnSort::InBytes => a.in_bytes.cmp(&b.in_bytes),
            ConnSort::OutBytes => a.out_bytes.cmp(&b.out_bytes),
            ConnSort::InMsgs => a.in_msgs.cmp(&b.in_msgs),
            ConnSort::OutMsgs => a.out_msgs.cmp(&b.out_msgs),
            // Shortest uptime (latest start) first.
            ConnSort::Uptime => match (parse_time(&a.start), parse_time(&b.start)) {
                (Some(x), Some(y)) => y.cmp(&x),
                _ => Ordering::Equal,
            },
            ConnSort::Cid => a.cid.cmp(&b.cid),
            ConnSort::Subs => a.num_subs.cmp(&b.num_subs),
        };
        if self.reverse {
            order.reverse()
        } else {
            order
        }
    }

    fn render(&self, mut conns: Vec<Conn>) -> String {
        conns.sort_by(|a, b| self.order(&a.info, &b.info));
        let total = conns.len();
        let shown = if self.top > 0 && self.top <= total {
            self.top
        } else {
            total
        };
        // The top N by the key: the end of an ascending list, the start of a
        // reversed one.
        let first_shown = if self.reverse { 0 } else { total - shown };

        let mut table = Table::new(format!(
            "Top {shown} Connections out of {} by {}",
            number(total as i64),
            self.sort_name()
        ));
        let mut headers = vec![
            "CID",
            "Name",
            "Server",
            "Cluster",
            "IP",
            "Account",
            "Uptime",
            "In Msgs",
            "Out Msgs",
            "In Bytes",
            "Out Bytes",
            "Subs",
        ];
        if self.show_reason {
            headers.push("Reason");
        }
        table.headers(headers);

        let (mut in_msgs, mut out_msgs, mut in_bytes, mut out_bytes, mut subs) =
            (0i64, 0i64, 0i64, 0i64, 0u64);
        // Servers in order of first appearance, with their cluster and count.
        let mut servers: Vec<(String, String, usize)> = Vec::new();
        for (i, conn) in conns.iter().enumerate() {
            let info = &conn.info;
            in_msgs += info.in_msgs;
            out_msgs += info.out_msgs;
            in_bytes += info.in_bytes;
            out_bytes += info.out_bytes;
            subs += info.num_subs;
            match servers
                .iter_mut()
                .find(|(name, _, _)| *name == conn.server.name)
            {
                Some(entry) => entry.2 += 1,
                None => servers.push((conn.server.name.clone(), conn.server.cluster.clone(), 1)),
            }
            if i < first_shown || i >= first_shown + shown {
                continue;
            }
            let mut row = vec![
                cid_cell(info),
                name_cell(info),
                conn.server.name.clone(),
                conn.server.cluster.clone(),
                format!("{}:{}", info.ip, info.port),
                account_cell(&info.account),
                info.uptime.clone(),
                number(info.in_msgs),
                number(info.out_msgs),
                bytes(u64::try_from(info.in_bytes).unwrap_or(0)),
                bytes(u64::try_from(info.out_bytes).unwrap_or(0)),
                number(info.num_subs),
            ];
            if self.show_reason {
                row.push(info.reason.clone());
            }
            table.row(row);
        }
        if total > 1 {
            let mut footer = vec![
                String::new(),
                format!("Totals for {} connections", number(total as i64)),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                number(in_msgs),
                number(out_msgs),
                bytes(u64::try_from(in_bytes).unwrap_or(0)),
                bytes(u64::try_from(out_bytes).unwrap_or(0)),
                number(subs),
            ];
            if self.show_reason {
                footer.push(String::new());
            }
            table.footer(footer);
        }
        let mut out = table.render();

        if !servers.is_empty() {
            servers.sort_by_key(|(_, _, count)| *count);
            let mut per_server = Table::new("Connections per server");
            per_server
                .headers(["Server", "Cluster", "Connections"])
                .align(&[Align::Left, Align::Left, Align::Right]);
            for (name, cluster, count) in servers {
                per_server.row([name, cluster, count.to_string()]);
            }
            out.push('\n');
            out.push_str(&per_server.render());
        }
        out
    }
}

/// The cid, prefixed with the kind's initial for other than clients (`L12`).
fn cid_cell(info: &ConnInfo) -> String {
    match info.kind.chars().next() {
        Some(initial) if info.kind != "Client" => format!("{initial}{}", info.cid),
        _ => info.cid.to_string(),
    }
}

/// The connection name (or MQTT client id), cut at 40 characters.
fn name_cell(info: &ConnInfo) -> String {
    let name = if info.name.is_empty() {
        &info.mqtt_client
    } else {
        &info.name
    };
    if name.chars().count() > 40 {
        format!("{} ..", name.chars().take(40).collect::<String>())
    } else {
        name.clone()
    }
}

/// Account names longer than 46 characters (nkeys) cut to 12.
fn account_cell(account: &str) -> String {
    if account.chars().count() > 46 {
        format!("{} ..", account.chars().take(12).collect::<String>())
    } else {
        account.to_string()
    }
}

/// One account's totals over every server.
#[derive(Default)]
struct AccountTotals {
    name: String,
    conns: Vec<Conn>,
    in_msgs: i64,
    out_msgs: i64,
    in_bytes: i64,
    out_bytes: i64,
    subs: u64,
    servers: Vec<(String, Json)>,
}

impl AccountTotals {
    fn json(&self) -> Json {
        let int = |v: i64| Json::Signed(v);
        Json::Object(vec![
            ("account".into(), Json::String(self.name.clone())),
            (
                "connections".into(),
                Json::Unsigned(self.conns.len() as u64),
            ),
            (
                "connection_info".into(),
                Json::Array(self.conns.iter().map(Conn::json).collect()),
            ),
            ("in_msgs".into(), int(self.in_msgs)),
            ("out_msgs".into(), int(self.out_msgs)),
            ("in_bytes".into(), int(self.in_bytes)),
            ("out_bytes".into(), int(self.out_bytes)),
            ("subscriptions".into(), Json::Unsigned(self.subs)),
            (
                "server".into(),
                Json::Array(self.servers.iter().map(|(_, raw)| raw.clone()).collect()),
            ),
        ])
    }
}

fn account_totals(conns: Vec<Conn>) -> BTreeMap<String, AccountTotals> {
    let mut accounts: BTreeMap<String, AccountTotals> = BTreeMap::new();
    for conn in conns {
        let account = accounts
            .entry(conn.info.account.clone())
            .or_insert_with(|| AccountTotals {
                name: conn.info.account.clone(),
                ..AccountTotals::default()
            });
        account.in_msgs += conn.info.in_msgs;
        account.out_msgs += conn.info.out_msgs;
        account.in_bytes += conn.info.in_bytes;
        account.out_bytes += conn.info.out_bytes;
        account.subs += conn.info.num_subs;
        if !account.servers.iter().any(|(id, _)| *id == conn.server.id) {
            account
                .servers
                .push((conn.server.id.clone(), conn.server_raw.clone()));
        }
        account.conns.push(conn);
    }
    accounts
}

fn report_accounts(conns: Vec<Conn>, args: &AccountsArgs, reverse: bool) -> anyhow::Result<()> {
    let mut accounts = account_totals(conns);
    if let Some(wanted) = &args.account {
        let Some(account) = accounts.remove(wanted) else {
            bail!("did not receive any results for account {wanted}");
        };
        if args.json {
            println!("{}", account.json().pretty());
            return Ok(());
        }
        if !account.conns.is_empty() {
            let view = ConnView {
                sort: ConnSort::Subs,
                top: args.top,
                reverse,
                show_reason: false,
            };
            print!("{}", view.render(account.conns));
        }
        return Ok(());
    }

    let mut list: Vec<AccountTotals> = accounts.into_values().collect();
    list.sort_by(|a, b| {
        let order = match args.sort {
            AccountSort::InBytes => a.in_bytes.cmp(&b.in_bytes),
            AccountSort::OutBytes => a.out_bytes.cmp(&b.out_bytes),
            AccountSort::InMsgs => a.in_msgs.cmp(&b.in_msgs),
            AccountSort::OutMsgs => a.out_msgs.cmp(&b.out_msgs),
            AccountSort::Conns => a.conns.len().cmp(&b.conns.len()),
            AccountSort::Subs => a.subs.cmp(&b.subs),
        };
        if reverse {
            order.reverse()
        } else {
            order
        }
    });
    if args.top > 0 && args.top < list.len() {
        if reverse {
            list.truncate(args.top);
        } else {
            list.drain(..list.len() - args.top);
        }
    }
    if args.json {
        println!(
            "{}",
            Json::Array(list.iter().map(AccountTotals::json).collect()).pretty()
        );
        return Ok(());
    }
    let mut table = Table::new(format!("{} Accounts Overview", list.len()));
    table.headers([
        "Account",
        "Connections",
        "In Msgs",
        "Out Msgs",
        "In Bytes",
        "Out Bytes",
        "Subs",
    ]);
    for account in &list {
        table.row([
            account.name.clone(),
            number(account.conns.len() as i64),
            number(account.in_msgs),
            number(account.out_msgs),
            bytes(u64::try_from(account.in_bytes).unwrap_or(0)),
            bytes(u64::try_from(account.out_bytes).unwrap_or(0)),
            number(account.subs),
        ]);
    }
    print!("{}", table.render());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(cid: u64, account: &str, in_msgs: i64, subs: u64) -> Conn {
        let info: ConnInfo = serde_json::from_str(&format!(
            r#"{{"cid":{cid},"kind":"Client","ip":"127.0.0.1","port":5000,"uptime":"1s","in_msgs":{in_msgs},
                "subscriptions":{subs},"name":"c{cid}","account":"{account}"}}"#
        ))
        .unwrap();
        Conn {
            info,
            raw: Json::Object(vec![("cid".into(), Json::Unsigned(cid))]),
            server: ServerInfo {
                name: "n1".into(),
                id: "NID".into(),
                ..ServerInfo::default()
            },
            server_raw: Json::Object(vec![("name".into(), Json::String("n1".into()))]),
        }
    }

    fn cids(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix("│ "))
            .filter_map(|l| l.split(' ').next())
            .filter(|c| c.parse::<u64>().is_ok())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn top_keeps_the_largest() {
        let conns = vec![conn(1, "A", 5, 1), conn(2, "A", 50, 2), conn(3, "B", 10, 3)];
        let view = ConnView {
            sort: ConnSort::InMsgs,
            top: 2,
            reverse: false,
            show_reason: false,
        };
        let text = view.render(conns.clone());
        assert!(
            text.contains("Top 2 Connections out of 3 by in-msgs"),
            "{text}"
        );
        assert_eq!(cids(&text), ["3", "2"], "{text}");
        assert!(text.contains("Totals for 3 connections"), "{text}");
        assert!(text.contains("Connections per server"), "{text}");
        let reversed = ConnView {
            reverse: true,
            ..view
        };
        assert_eq!(cids(&reversed.render(conns)), ["2", "3"]);
    }

    #[test]
    fn pages_continue_where_the_server_left_off() {
        let query = ConnzQuery {
            account: None,
            user: None,
            subject: None,
            state: ConnState::Open,
            closed_reason: None,
            servers: None,
            filter: ServerFilter::default(),
            json: true,
        };
        let page = |offset: i64, total: i64| {
            format!(
                r#"{{"server":{{"name":"n1","id":"NID"}},"data":{{"num_connections":2,"total":{total},"offset":{offset},"limit":2,
                    "connections":[{{"cid":1,"name":"a"}},{{"cid":2,"name":"b"}}]}}}}"#
            )
        };
        let mut conns = Vec::new();
        let next = take_page("s", page(0, 5).as_bytes(), &query, &mut conns).unwrap();
        assert_eq!(next, Some(("NID".to_string(), 2)));
        let next = take_page("s", page(2, 4).as_bytes(), &query, &mut conns).unwrap();
        assert_eq!(next, None);
        assert_eq!(conns.len(), 4);
        assert_eq!(conns[1].raw.get("name"), Some(&Json::String("b".into())));
        assert_eq!(
            conns[0].server_raw.get("id"),
            Some(&Json::String("NID".into()))
        );
        let failed = take_page(
            "s",
            br#"{"server":{},"error":{"code":500,"description":"boom"}}"#,
            &query,
            &mut conns,
        );
        assert!(failed.unwrap_err().to_string().contains("boom"));
    }

    #[test]
    fn accounts_are_summed() {
        let accounts = account_totals(vec![
            conn(1, "A", 5, 1),
            conn(2, "A", 50, 2),
            conn(3, "B", 10, 3),
        ]);
        let a = &accounts["A"];
        assert_eq!((a.conns.len(), a.in_msgs, a.subs), (2, 55, 3));
        assert_eq!(a.servers.len(), 1);
        let json = a.json().compact();
        assert!(json.starts_with(r#"{"account":"A","connections":2,"connection_info":[{"cid":1,"server":{"name":"n1"}}"#), "{json}");
    }
}
