//! `/subsz` (alias `/subscriptionsz`): the subject index's statistics and,
//! with `subs=1`, its subscriptions, optionally only those a `test` subject
//! would reach (nats-server's `Subsz` in `monitor.go`).
//!
//! The index keeps only its entry count and cache size; the reference's insert,
//! remove, match and fan-out counters are reported as 0 until the sublist counts
//! them (doing so per match would add a shared atomic to the publish path).
use std::time::SystemTime;

use gannet_proto::subject::pattern_matches;
use serde::Serialize;

use super::connz::SubDetail;
use super::query::{page, Query};
use super::varz::timestamp;
use crate::accounts::Account;
use crate::server::Server;

/// Subscriptions per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 1024;

/// The request's options, validated.
#[derive(Debug, Clone, Default)]
pub struct SubszOptions {
    pub subs: bool,
    pub offset: i64,
    pub limit: i64,
    /// Only subscriptions matching this literal subject.
    pub test: Option<String>,
    /// Only this account's index and subscriptions (`$SYS` requests' `account`).
    pub account: Option<String>,
}

impl SubszOptions {
    /// Decodes the query; errors are the 400 body.
    pub fn from_query(q: &Query) -> Result<SubszOptions, String> {
        let (subs, _) = q.subs()?;
        let offset = q.int("offset")?;
        let limit = q.int("limit")?;
        let test = match q.get("test") {
            "" => None,
            t if gannet_proto::subject::is_valid_publish_subject(t.as_bytes()) => {
                Some(t.to_string())
            }
            t => {
                return Err(format!(
                    "invalid test subject, must be valid publish subject: {t}"
                ))
            }
        };
        Ok(SubszOptions {
            subs,
            offset,
            limit,
            test,
            account: None,
        })
    }
}

/// The subject index's counters (`SublistStats`).
#[derive(Debug, Clone, Serialize)]
pub struct SublistStats {
    pub num_subscriptions: u64,
    pub num_cache: u64,
    pub num_inserts: u64,
    pub num_removes: u64,
    pub num_matches: u64,
    #[serde(serialize_with = "go_float")]
    pub cache_hit_rate: f64,
    pub max_fanout: u64,
    #[serde(serialize_with = "go_float")]
    pub avg_fanout: f64,
}

/// Writes a whole float as Go does (`0`, not `0.0`).
fn go_float<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

/// The `/subsz` document.
#[derive(Debug, Serialize)]
pub struct Subsz {
    pub server_id: String,
    pub now: String,
    #[serde(flatten)]
    pub stats: SublistStats,
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriptions_list: Option<Vec<SubDetail>>,
}

/// The statistics of every account's index added up, as the reference
/// reports the whole server (system subscriptions included).
pub fn sublist_stats(server: &Server) -> SublistStats {
    let mut total = SublistStats {
        num_subscriptions: 0,
        num_cache: 0,
        num_inserts: 0,
        num_removes: 0,
        num_matches: 0,
        cache_hit_rate: 0.0,
        max_fanout: 0,
        avg_fanout: 0.0,
    };
    let mut hits = 0.0;
    for account in server.accounts() {
        let s = account_sublist_stats(&account);
        total.num_subscriptions += s.num_subscriptions;
        total.num_cache += s.num_cache;
        total.num_inserts += s.num_inserts;
        total.num_removes += s.num_removes;
        total.num_matches += s.num_matches;
        hits += s.cache_hit_rate * s.num_matches as f64;
    }
    if total.num_matches > 0 {
        total.cache_hit_rate = hits / total.num_matches as f64;
    }
    total
}

/// The statistics of one account's index.
pub fn account_sublist_stats(account: &Account) -> SublistStats {
    let sl = &account.sublist;
    let st = sl.stats();
    SublistStats {
        num_subscriptions: sl.count() as u64,
        num_cache: sl.cache_len() as u64,
        num_inserts: st.inserts,
        num_removes: st.removes,
        num_matches: st.matches,
        cache_hit_rate: st.cache_hit_rate,
        max_fanout: 0,
        avg_fanout: 0.0,
    }
}

/// Builds `/subsz` for `opts`.
pub fn subsz(server: &Server, opts: &SubszOptions) -> Subsz {
    let now = SystemTime::now();
    let stats = match &opts.account {
        Some(name) => server
            .find_account(name)
            .map_or_else(|| sublist_stats(server), |a| account_sublist_stats(&a)),
        None => sublist_stats(server),
    };
    let mut list = Vec::new();
    if opts.subs {
        let mut clients = server.clients();
        clients.sort_by_key(|c| c.cid);
        for client in clients {
            let snap = client.snapshot();
            let account = snap.meta.account.clone();
            if opts.account.as_ref().is_some_and(|a| *a != account) {
                continue;
            }
            for s in snap.subs {
                if opts
                    .test
                    .as_deref()
                    .is_some_and(|t| !pattern_matches(s.subject.as_bytes(), t.as_bytes()))
                {
                    continue;
                }
                list.push(SubDetail {
                    account: Some(account.clone()),
                    account_tag: Some(account.clone()),
                    subject: s.subject,
                    qgroup: s.queue,
                    sid: s.sid,
                    msgs: s.msgs,
                    max: s.max,
                    cid: snap.cid,
                });
            }
        }
        for sub in server.internal_subscriptions() {
            let Some(account) = sub.account().map(|a| a.name.clone()) else {
                continue;
            };
            let subject = String::from_utf8_lossy(sub.subject()).into_owned();
            if opts.account.as_ref().is_some_and(|a| *a != account)
                || opts
                    .test
                    .as_deref()
                    .is_some_and(|t| !pattern_matches(subject.as_bytes(), t.as_bytes()))
            {
                continue;
            }
            list.push(SubDetail {
                account: Some(account.clone()),
                account_tag: Some(account),
                subject,
                qgroup: None,
                sid: String::from_utf8_lossy(sub.sid()).into_owned(),
                msgs: sub.delivered(),
                max: 0,
                cid: sub.cid(),
            });
        }
    }
    let total = list.len();
    let (offset, limit, page) = page(list, opts.offset, opts.limit, DEFAULT_LIMIT);
    Subsz {
        server_id: server.id().to_string(),
        now: timestamp(now),
        stats,
        total,
        offset,
        limit,
        subscriptions_list: (!page.is_empty()).then_some(page),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_subject_must_be_literal() {
        let e = SubszOptions::from_query(&Query::parse(Some("test=foo.*"))).unwrap_err();
        assert_eq!(
            e,
            "invalid test subject, must be valid publish subject: foo.*"
        );
    }
}
