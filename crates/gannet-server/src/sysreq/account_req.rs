//! Account services — `$SYS.REQ.ACCOUNT.<acc>.<EP>` and `$SYS.REQ.ACCOUNT.PING.STATZ`
//! — and `$SYS.REQ.USER.INFO` (nats-server's `accountConnzReq`, `accInfoReq`,
//! `statzReq`, `userInfoReq`): the monitoring data restricted to one account, and
//! the requesting user's own identity and permissions.
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::server_req::{ConnzRequest, SubszRequest};
use super::{
    data_reply, encode, monitor_reply, null_data_error_reply, with_request, Outcome, Requester,
};
use crate::accounts::Account;
use crate::events::go_time;
use crate::monitor::accountz::{self, AccountInfo, AccountStat, Import};
use crate::monitor::{cluster, connz, subsz};
use crate::server::Server;

/// The services every account imports from the system account: (the subject
/// the account uses, the system subject it maps to with `<acc>` in it, share).
pub(super) const IMPORTS: &[(&str, &str, bool)] = &[
    (
        "$SYS.REQ.ACCOUNT.PING.CONNZ",
        "$SYS.REQ.ACCOUNT.<acc>.CONNZ",
        false,
    ),
    (
        "$SYS.REQ.SERVER.PING.CONNZ",
        "$SYS.REQ.ACCOUNT.<acc>.CONNZ",
        false,
    ),
    (
        "$SYS.REQ.ACCOUNT.PING.STATZ",
        "$SYS.REQ.ACCOUNT.<acc>.STATZ",
        false,
    ),
    ("$SYS.REQ.USER.INFO", "$SYS.REQ.USER.<acc>.INFO", true),
];

/// The JSON options of STATZ (`AccountStatzOptions`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StatzRequest {
    accounts: Vec<String>,
    include_unused: bool,
}

/// The STATZ reply's data.
#[derive(Serialize)]
struct AccountStatz {
    server_id: String,
    now: String,
    account_statz: Vec<AccountStat>,
}

/// Answers account endpoint `ep` for account `name`.
pub(super) fn account_request(server: &Server, name: &str, ep: &str, payload: &[u8]) -> Outcome {
    match ep {
        "CONNZ" => with_request(server, payload, |req| {
            match req.options::<ConnzRequest>(server) {
                Ok(r) => match r.to_options() {
                    Ok(mut opts) => {
                        opts.acc = name.to_string();
                        monitor_reply(server, connz::connz(server, &opts))
                    }
                    Err(e) => null_data_error_reply(server, 500, &e),
                },
                Err(outcome) => outcome,
            }
        }),
        "LEAFZ" => with_request(server, payload, |_| {
            monitor_reply(server, cluster::leafz(server, false, Some(name)))
        }),
        "SUBSZ" => with_request(server, payload, |req| {
            match req.options::<SubszRequest>(server) {
                Ok(r) => match r.to_options(Some(name)) {
                    Ok(mut opts) => {
                        opts.subs = true;
                        monitor_reply(server, subsz::subsz(server, &opts))
                    }
                    Err(e) => null_data_error_reply(server, 500, &e),
                },
                Err(outcome) => outcome,
            }
        }),
        "JSZ" => with_request(server, payload, |_| {
            let enabled = server
                .jetstream()
                .is_some_and(|js| js.accounts().iter().any(|a| a.account.name == name));
            if !enabled {
                return null_data_error_reply(server, 500, "jetstream not enabled");
            }
            let opts = crate::monitor::jsz::JszOptions {
                accounts: true,
                streams: true,
                consumers: true,
                acc: name.to_string(),
                ..Default::default()
            };
            monitor_reply(server, crate::monitor::jsz::jsz(server, &opts))
        }),
        "INFO" => with_request(server, payload, |_| match server.find_account(name) {
            Some(acc) => monitor_reply(server, account_info(server, &acc)),
            None => null_data_error_reply(server, 500, &format!("Account {name} does not exist")),
        }),
        "STATZ" => with_request(server, payload, |req| {
            match req.options::<StatzRequest>(server) {
                Ok(r) => statz_reply(
                    server,
                    server.find_account(name).into_iter().collect(),
                    r.include_unused,
                ),
                Err(outcome) => outcome,
            }
        }),
        "CONNS" => match server.find_account(name) {
            Some(acc) => encode(server, &server.conns_message(&acc)),
            None => Outcome::Silent,
        },
        _ => Outcome::Unknown,
    }
}

/// `$SYS.REQ.ACCOUNT.PING.STATZ` from the system account: every account (or
/// those named in `accounts`).
pub(super) fn all_accounts_statz(server: &Server, payload: &[u8]) -> Outcome {
    with_request(server, payload, |req| {
        match req.options::<StatzRequest>(server) {
            Ok(r) => {
                let mut accounts = server.accounts();
                if !r.accounts.is_empty() {
                    accounts.retain(|a| r.accounts.contains(&a.name));
                }
                accounts.sort_by(|a, b| a.name.cmp(&b.name));
                statz_reply(server, accounts, r.include_unused)
            }
            Err(outcome) => outcome,
        }
    })
}

/// The STATZ reply for `accounts`; accounts without connections are left out
/// unless `include_unused`, and nothing is sent when none is left.
fn statz_reply(
    server: &Server,
    accounts: Vec<std::sync::Arc<Account>>,
    include_unused: bool,
) -> Outcome {
    let account_statz: Vec<AccountStat> = accounts
        .iter()
        .filter(|a| include_unused || a.num_clients() > 0)
        .map(|a| accountz::account_stat(a))
        .collect();
    if account_statz.is_empty() && !include_unused {
        return Outcome::Silent;
    }
    monitor_reply(
        server,
        AccountStatz {
            server_id: server.id().to_string(),
            now: go_time(SystemTime::now()),
            account_statz,
        },
    )
}

/// One account's details (INFO, and ACCOUNTZ with `account`).
pub(crate) fn account_info(server: &Server, account: &Account) -> AccountInfo {
    let stats = subsz::account_sublist_stats(account);
    let is_system = server
        .system_account()
        .is_some_and(|s| std::ptr::eq(s.as_ref(), account));
    let imports = (!is_system).then(|| {
        let system = server
            .system_account()
            .map(|a| a.name.clone())
            .unwrap_or_default();
        IMPORTS
            .iter()
            .map(|(local, remote, share)| Import {
                subject: remote.replace("<acc>", &account.name),
                account: system.clone(),
                to: (*local).to_string(),
                local_subject: (*local).to_string(),
                kind: "service",
                invalid: false,
                share: *share,
                tracking: false,
            })
            .collect()
    });
    AccountInfo {
        account_name: account.name.clone(),
        update_time: go_time(server.start_time()),
        expired: false,
        complete: true,
        jetstream_enabled: false,
        leafnode_connections: 0,
        client_connections: account.num_clients(),
        subscriptions: stats.num_subscriptions,
        imports,
        name_tag: account.name.clone(),
        sublist_stats: stats,
    }
}

/// A publish or subscribe permission as USER.INFO reports it.
#[derive(Serialize, Default)]
struct SubjectPerm {
    #[serde(skip_serializing_if = "Option::is_none")]
    allow: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deny: Option<Vec<String>>,
}

/// `responses`: how many replies, for how long (nanoseconds).
#[derive(Serialize)]
struct ResponsePerm {
    max: i64,
    ttl: u64,
}

#[derive(Serialize)]
struct UserPermissions {
    #[serde(skip_serializing_if = "Option::is_none")]
    publish: Option<SubjectPerm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subscribe: Option<SubjectPerm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    responses: Option<ResponsePerm>,
}

/// The USER.INFO reply's data.
#[derive(Serialize)]
struct UserInfo<'a> {
    user: &'a str,
    account: &'a str,
    account_name: &'a str,
    /// A JWT user's name (operator mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<UserPermissions>,
}

/// `$SYS.REQ.USER.INFO`: who the requester is and what it may do.
pub(super) fn user_info(server: &Server, requester: &Requester<'_>) -> Outcome {
    let subject_perm = |p: &Option<gannet_config::options::SubjectPermission>| {
        p.as_ref()
            .filter(|p| p.allow.is_some() || p.deny.is_some())
            .map(|p| SubjectPerm {
                allow: p.allow.clone(),
                deny: p.deny.clone(),
            })
    };
    // A JWT user's permissions always name both sides, as nats-server's do.
    let jwt = requester
        .client
        .and_then(|c| c.meta().jwt.as_ref().map(|j| j.1.clone()));
    let both = |p: Option<SubjectPerm>| {
        if jwt.is_some() {
            Some(p.unwrap_or_default())
        } else {
            p
        }
    };
    let permissions = requester.perms.map(|perms| {
        let source = perms.source();
        UserPermissions {
            publish: both(subject_perm(&source.publish)),
            subscribe: both(subject_perm(&source.subscribe)),
            responses: source.allow_responses.map(|r| ResponsePerm {
                max: i64::try_from(r.max).unwrap_or(-1),
                ttl: u64::try_from(r.expires.as_nanos()).unwrap_or(u64::MAX),
            }),
        }
    });
    let account = requester.account.name.as_str();
    data_reply(
        server,
        UserInfo {
            user: requester.user.unwrap_or(""),
            account,
            account_name: jwt.as_ref().map_or(account, |j| j.account_name.as_str()),
            user_name: jwt.as_ref().map(|j| j.name.clone()),
            permissions,
        },
    )
}
