//! `/accountz` and `/accstatz` (nats-server's `Accountz` and `AccountStatz`).
//! The same data answers `$SYS.REQ.SERVER.*.ACCOUNTZ`.
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use serde::Serialize;

use super::query::Query;
use super::subsz::SublistStats;
use super::varz::timestamp;
use crate::accounts::{Account, GLOBAL_ACCOUNT};
use crate::server::Server;

/// The `/accountz` document: the account names, or one account's details.
#[derive(Debug, Serialize)]
pub struct Accountz {
    pub server_id: String,
    pub now: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub system_account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_detail: Option<AccountInfo>,
}

/// One account (`acc=`).
#[derive(Debug, Serialize)]
pub struct AccountInfo {
    pub account_name: String,
    pub update_time: String,
    pub expired: bool,
    pub complete: bool,
    pub jetstream_enabled: bool,
    pub leafnode_connections: usize,
    pub client_connections: usize,
    pub subscriptions: u64,
    /// The services the account imports (`$SYS.REQ.ACCOUNT.<acc>.INFO` lists
    /// the system services every account gets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imports: Option<Vec<Import>>,
    pub name_tag: String,
    pub sublist_stats: SublistStats,
}

/// One import of an account (`ExtImport`).
#[derive(Debug, Serialize)]
pub struct Import {
    pub subject: String,
    pub account: String,
    pub to: String,
    pub local_subject: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub invalid: bool,
    pub share: bool,
    pub tracking: bool,
}

/// `acc=<name>` asks for one account; an unknown one is a 400 with this body.
pub fn accountz(server: &Server, q: &Query) -> Result<Accountz, String> {
    accountz_for(server, q.get("acc"))
}

/// Every account's name and the system account, or the details of account
/// `acc` (HTTP `/accountz` and `$SYS.REQ.SERVER.*.ACCOUNTZ` alike).
pub fn accountz_for(server: &Server, acc: &str) -> Result<Accountz, String> {
    let mut out = Accountz {
        server_id: server.id().to_string(),
        now: timestamp(SystemTime::now()),
        system_account: server
            .system_account()
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        accounts: None,
        account_detail: None,
    };
    if acc.is_empty() {
        let mut names: Vec<String> = server.accounts().iter().map(|a| a.name.clone()).collect();
        names.sort();
        out.accounts = Some(names);
        return Ok(out);
    }
    let account = server
        .find_account(acc)
        .ok_or_else(|| format!("Account {acc} does not exist"))?;
    out.account_detail = Some(crate::sysreq::account_info(server, &account));
    Ok(out)
}

/// Messages and bytes, by where they went (`DataStats`).
#[derive(Debug, Default, Serialize)]
pub struct DataStats {
    pub msgs: u64,
    pub bytes: u64,
    pub gateways: MsgBytes,
    pub routes: MsgBytes,
    pub leafs: MsgBytes,
}

/// A `{msgs, bytes}` pair.
#[derive(Debug, Default, Serialize)]
pub struct MsgBytes {
    pub msgs: u64,
    pub bytes: u64,
}

/// One account's traffic (`AccountStat`).
#[derive(Debug, Serialize)]
pub struct AccountStat {
    pub acc: String,
    pub name: String,
    pub conns: usize,
    pub leafnodes: usize,
    pub total_conns: usize,
    pub num_subscriptions: u64,
    pub sent: DataStats,
    pub received: DataStats,
    pub slow_consumers: u64,
}

/// The `/accstatz` document.
#[derive(Debug, Serialize)]
pub struct Accstatz {
    pub server_id: String,
    pub now: String,
    pub account_statz: Vec<AccountStat>,
}

/// Accounts with connections, or all of them with `unused=1`.
pub fn accstatz(server: &Server, q: &Query) -> Result<Accstatz, String> {
    let unused = q.bool("unused")?;
    let conns = server.num_clients();
    let stats = server.stats();
    let mut account_statz = Vec::new();
    if unused || conns > 0 {
        account_statz.push(AccountStat {
            acc: GLOBAL_ACCOUNT.to_string(),
            name: GLOBAL_ACCOUNT.to_string(),
            conns,
            leafnodes: 0,
            total_conns: conns,
            num_subscriptions: server.global_account().sublist.count() as u64,
            sent: DataStats {
                msgs: stats.out_msgs.load(Ordering::Relaxed),
                bytes: stats.out_bytes.load(Ordering::Relaxed),
                ..DataStats::default()
            },
            received: DataStats {
                msgs: stats.in_msgs.load(Ordering::Relaxed),
                bytes: stats.in_bytes.load(Ordering::Relaxed),
                ..DataStats::default()
            },
            slow_consumers: stats.slow_consumers.load(Ordering::Relaxed),
        });
    }
    Ok(Accstatz {
        server_id: server.id().to_string(),
        now: timestamp(SystemTime::now()),
        account_statz,
    })
}

/// One account's [`AccountStat`], from its own counters.
pub fn account_stat(account: &Account) -> AccountStat {
    let conns = account.num_clients();
    let sent = account.sent();
    let received = account.received();
    AccountStat {
        acc: account.name.clone(),
        name: account.name.clone(),
        conns,
        leafnodes: 0,
        total_conns: conns,
        num_subscriptions: account.sublist.count() as u64,
        sent: DataStats {
            msgs: sent.msgs,
            bytes: sent.bytes,
            ..DataStats::default()
        },
        received: DataStats {
            msgs: received.msgs,
            bytes: received.bytes,
            ..DataStats::default()
        },
        slow_consumers: account.slow_consumers(),
    }
}
