//! `/jsz` and `$SYS.REQ.SERVER.*.JSZ` (nats-server's `JSInfo`): JetStream's
//! usage, configuration and counts on this server and, when asked
//! (`accounts`, `streams`, `consumers`, `config`, `acc`), each account's
//! streams and consumers. With JetStream off it is the reference's
//! document for a disabled server.
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::query::Query;
use super::varz::timestamp;
use crate::server::Server;

/// JetStream API call counters.
#[derive(Debug, Default, Serialize)]
pub struct JsApi {
    pub level: u64,
    pub total: u64,
    pub errors: u64,
}

/// What to include (query parameters or the request's JSON).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct JszOptions {
    #[serde(default)]
    pub accounts: bool,
    #[serde(default)]
    pub streams: bool,
    #[serde(default)]
    pub consumers: bool,
    #[serde(default)]
    pub config: bool,
    /// Only this account.
    #[serde(default, alias = "account")]
    pub acc: String,
}

impl JszOptions {
    pub fn from_query(q: &Query) -> Result<JszOptions, String> {
        let flag = |name: &str| q.bool(name);
        Ok(JszOptions {
            accounts: flag("accounts")?,
            streams: flag("streams")?,
            consumers: flag("consumers")?,
            config: flag("config")?,
            acc: q.get("acc").to_string(),
        })
    }
}

/// The `/jsz` document, fields in the reference's order.
#[derive(Debug, Serialize)]
pub struct Jsz {
    pub memory: u64,
    pub storage: u64,
    pub reserved_memory: u64,
    pub reserved_storage: u64,
    pub accounts: u64,
    pub ha_assets: u64,
    pub api: JsApi,
    pub server_id: String,
    pub now: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    pub config: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<Value>,
    pub streams: u64,
    pub consumers: u64,
    pub messages: u64,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_details: Option<Vec<Value>>,
    pub total: u64,
}

pub fn jsz(server: &Server, opts: &JszOptions) -> Jsz {
    let Some(js) = server.jetstream() else {
        return Jsz {
            memory: 0,
            storage: 0,
            reserved_memory: 0,
            reserved_storage: 0,
            accounts: 0,
            ha_assets: 0,
            api: JsApi::default(),
            server_id: server.id().to_string(),
            now: timestamp(SystemTime::now()),
            disabled: true,
            config: json!({"max_memory": 0, "max_storage": 0}),
            limits: None,
            streams: 0,
            consumers: 0,
            messages: 0,
            bytes: 0,
            account_details: None,
            total: 0,
        };
    };
    let totals = js.totals();
    let details = (opts.accounts || opts.streams || opts.consumers || !opts.acc.is_empty())
        .then(|| account_details(&js, opts));
    Jsz {
        memory: totals.memory,
        storage: totals.store,
        reserved_memory: 0,
        reserved_storage: 0,
        accounts: totals.accounts,
        ha_assets: 0,
        api: JsApi {
            level: u64::from(crate::jetstream::types::API_LEVEL),
            total: js.api_total.load(Ordering::Relaxed),
            errors: js.api_errors.load(Ordering::Relaxed),
        },
        server_id: server.id().to_string(),
        now: timestamp(SystemTime::now()),
        disabled: false,
        config: js.config_json(),
        limits: Some(json!({"default_max_consumers": 1000})),
        streams: totals.streams,
        consumers: totals.consumers,
        messages: totals.messages,
        bytes: totals.bytes,
        total: details.as_ref().map_or(totals.accounts, |d| d.len() as u64),
        account_details: details,
    }
}

/// Each account's usage, streams and (when asked) consumers.
fn account_details(js: &crate::jetstream::JetStream, opts: &JszOptions) -> Vec<Value> {
    let mut out = Vec::new();
    let mut accounts = js.accounts();
    accounts.sort_by(|a, b| a.account.name.cmp(&b.account.name));
    for jsa in accounts {
        if !opts.acc.is_empty() && jsa.account.name != opts.acc {
            continue;
        }
        let (memory, storage) = jsa.usage();
        let mut detail = json!({
            "name": jsa.account.name,
            "id": jsa.account.name,
            "memory": memory,
            "storage": storage,
            "reserved_memory": 0,
            "reserved_storage": 0,
            "accounts": 0,
            "ha_assets": 0,
            "api": {"level": 0, "total": 0, "errors": 0},
        });
        if opts.streams || opts.consumers {
            let streams: Vec<Value> = jsa
                .streams()
                .iter()
                .map(|s| {
                    let mut v = json!({
                        "name": s.name,
                        "created": crate::jetstream::types::rfc3339(s.created),
                        "state": {
                            "messages": s.msgs.load(Ordering::Relaxed),
                            "bytes": s.bytes.load(Ordering::Relaxed),
                            "first_seq": s.first_seq.load(Ordering::Relaxed),
                            "last_seq": s.last_seq.load(Ordering::Relaxed),
                            "consumer_count": s.consumers.load(Ordering::Relaxed),
                        },
                    });
                    if opts.config {
                        v["config"] = serde_json::to_value(s.config()).unwrap_or(Value::Null);
                    }
                    v
                })
                .collect();
            detail["stream_detail"] = Value::Array(streams);
        }
        out.push(detail);
    }
    out
}
