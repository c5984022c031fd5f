//! The JetStream API of an enabled account ([`SUBJECTS`]), served on the
//! internal loop: account info, stream create and the checks of a stream
//! configuration, stream names and lists; the calls about one stream or
//! one of its consumers go to that stream's thread, which answers them.
//! Pull requests and direct gets never come here: each pull consumer and
//! each stream with `allow_direct` has subscriptions of its own, so a
//! request to a consumer or stream that is not there finds no responders,
//! as with nats-server.
use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::{json, Value};

use super::advisory::{client_info, Audit, Caller, AUDIT_SUBJECT};
use super::errors::{self, ApiError};
use super::stream::{Call, Cmd};
use super::types::{self, now_nanos, ConsumerConfig, StreamConfig, DEFAULT_DUPLICATE_WINDOW};
use super::{JetStream, JsAccount};
use crate::internal::InternalMsg;
use crate::server::Server;

const PREFIX: &str = "$JS.API.";

/// The API subjects an enabled account subscribes (not pull requests nor
/// direct gets).
pub(crate) const SUBJECTS: &[&str] = &[
    "$JS.API.INFO",
    "$JS.API.STREAM.>",
    "$JS.API.CONSUMER.CREATE.>",
    "$JS.API.CONSUMER.DURABLE.CREATE.>",
    "$JS.API.CONSUMER.INFO.>",
    "$JS.API.CONSUMER.DELETE.>",
    "$JS.API.CONSUMER.NAMES.>",
    "$JS.API.CONSUMER.LIST.>",
    "$JS.API.CONSUMER.PAUSE.>",
    "$JS.API.CONSUMER.UNPIN.>",
    "$JS.API.CONSUMER.RESET.>",
];

/// Answers one API request.
pub(crate) fn handle(
    server: &Server,
    js: &Arc<JetStream>,
    jsa: &Arc<JsAccount>,
    msg: &InternalMsg,
) {
    let Some(subject) = msg.subject_str() else {
        return;
    };
    let Some(call) = subject.strip_prefix(PREFIX) else {
        return;
    };
    // Served by the streams' own subscriptions.
    if call.starts_with("CONSUMER.MSG.NEXT.") || call.starts_with("DIRECT.GET.") {
        return;
    }
    let Some(reply) = msg.reply_str().map(str::to_string) else {
        return;
    };
    let tokens: Vec<&str> = call.split('.').collect();
    let count = || {
        js.api_total.fetch_add(1, Ordering::Relaxed);
        jsa.api_total.fetch_add(1, Ordering::Relaxed);
    };
    // Account info reports the calls before it; every other call counts
    // before it is answered.
    if tokens != ["INFO"] {
        count();
    }
    // Taken by whichever answers the call: here, or the stream's thread.
    let audit = Cell::new(audit_of(server, js, jsa, msg, subject).map(Box::new));
    let answer = |kind: &str, result: Result<Value, ApiError>| {
        let body = match result {
            Ok(fields) => types::response(kind, None, fields),
            Err(e) => {
                js.api_errors.fetch_add(1, Ordering::Relaxed);
                jsa.api_errors.fetch_add(1, Ordering::Relaxed);
                types::error_response(kind, &e)
            }
        };
        let audit = audit.take().map(|a| a.answered(&body));
        server.internal().send(&jsa.account, &reply, body);
        if let Some(a) = audit {
            server.internal().send(&jsa.account, &a.subject, a.body);
        }
    };
    let forward = |stream: &super::stream::StreamHandle, call: Call, reply: &str| {
        stream.send(Cmd::Api {
            call,
            reply: reply.to_string(),
            audit: audit.take(),
        });
    };
    let body = &msg.payload;
    match tokens.as_slice() {
        ["INFO"] => {
            let info = account_info(js, jsa);
            count();
            answer("account_info_response", Ok(info))
        }
        ["STREAM", "CREATE", name] => {
            answer("stream_create_response", create_stream(js, jsa, name, body))
        }
        ["STREAM", "UPDATE", name] => {
            let kind = "stream_update_response";
            match parse_stream_config(name, body).and_then(|c| {
                let stream = jsa.stream(name).ok_or(errors::STREAM_NOT_FOUND.err())?;
                check_overlap(jsa, &c, Some(name))?;
                Ok((stream, c))
            }) {
                Ok((stream, config)) => {
                    forward(&stream, Call::Update(Box::new(config)), &reply);
                }
                Err(e) => answer(kind, Err(e)),
            }
        }
        ["STREAM", "NAMES"] => answer("stream_names_response", Ok(stream_names(jsa, body))),
        ["STREAM", "LIST"] => answer("stream_list_response", Ok(stream_list(jsa, body))),
        ["STREAM", op, name] | ["STREAM", "MSG", op, name] => {
            let kind = match *op {
                "INFO" => "stream_info_response",
                "DELETE" => "stream_delete_response",
                "PURGE" => "stream_purge_response",
                "GET" => "stream_msg_get_response",
                "DELETE_MSG" => "stream_msg_delete_response",
                _ => return,
            };
            let op = if tokens.len() == 4 && *op == "DELETE" {
                "DELETE_MSG"
            } else {
                op
            };
            let kind = if op == "DELETE_MSG" {
                "stream_msg_delete_response"
            } else {
                kind
            };
            let Some(stream) = jsa.stream(name) else {
                return answer(kind, Err(errors::STREAM_NOT_FOUND.err()));
            };
            let value = match parse_body(body) {
                Ok(v) => v,
                Err(e) => return answer(kind, Err(e)),
            };
            let call = match op {
                "INFO" => Call::Info(value),
                "DELETE" => {
                    super::lock(&jsa.streams).remove(*name);
                    Call::Delete
                }
                "PURGE" => Call::Purge(value),
                "GET" => Call::MsgGet(value),
                _ => Call::MsgDelete(value),
            };
            forward(&stream, call, &reply);
        }
        ["CONSUMER", "CREATE", stream, rest @ ..]
        | ["CONSUMER", "DURABLE", "CREATE", stream, rest @ ..] => {
            let durable_api = tokens[1] == "DURABLE";
            let kind = "consumer_create_response";
            match consumer_request(jsa, stream, rest, durable_api, body) {
                Ok((handle, config, action)) => forward(
                    &handle,
                    Call::ConsumerCreate {
                        config: Box::new(config),
                        action,
                    },
                    &reply,
                ),
                Err(e) => answer(kind, Err(e)),
            }
        }
        ["CONSUMER", op @ ("INFO" | "DELETE" | "PAUSE"), stream, name] => {
            let kind = match *op {
                "INFO" => "consumer_info_response",
                "DELETE" => "consumer_delete_response",
                _ => "consumer_pause_response",
            };
            let Some(handle) = jsa.stream(stream) else {
                return answer(kind, Err(errors::STREAM_NOT_FOUND.err()));
            };
            let call = match *op {
                "INFO" => Call::ConsumerInfo(name.to_string()),
                "DELETE" => Call::ConsumerDelete(name.to_string()),
                _ => match parse_body(body) {
                    Ok(body) => Call::ConsumerPause {
                        name: name.to_string(),
                        body,
                    },
                    Err(e) => return answer(kind, Err(e)),
                },
            };
            forward(&handle, call, &reply);
        }
        ["CONSUMER", "RESET", stream, name] => {
            let kind = "consumer_reset_response";
            let seq = match parse_body(body) {
                Ok(v) => v.get("seq").and_then(Value::as_u64).unwrap_or(0),
                Err(e) => return answer(kind, Err(e)),
            };
            let Some(handle) = jsa.stream(stream) else {
                return answer(kind, Err(errors::STREAM_NOT_FOUND.err()));
            };
            forward(
                &handle,
                Call::ConsumerReset {
                    name: name.to_string(),
                    seq,
                },
                &reply,
            );
        }
        ["CONSUMER", "UNPIN", stream, name] => {
            let kind = "consumer_unpin_response";
            let group = match parse_body(body) {
                Ok(v) => v.get("group").and_then(Value::as_str).map(str::to_string),
                Err(e) => return answer(kind, Err(e)),
            };
            let Some(group) = group.filter(|g| !g.is_empty()) else {
                return answer(
                    kind,
                    Err(errors::INVALID_JSON.with(&[("err", &"consumer group not specified")])),
                );
            };
            let Some(handle) = jsa.stream(stream) else {
                return answer(kind, Err(errors::STREAM_NOT_FOUND.err()));
            };
            forward(
                &handle,
                Call::ConsumerUnpin {
                    name: name.to_string(),
                    group,
                },
                &reply,
            );
        }
        ["CONSUMER", op @ ("NAMES" | "LIST"), stream] => {
            let kind = if *op == "NAMES" {
                "consumer_names_response"
            } else {
                "consumer_list_response"
            };
            let Some(handle) = jsa.stream(stream) else {
                return answer(kind, Err(errors::STREAM_NOT_FOUND.err()));
            };
            let body = parse_body(body).unwrap_or(Value::Null);
            let call = if *op == "NAMES" {
                Call::ConsumerNames(body)
            } else {
                Call::ConsumerList(body)
            };
            forward(&handle, call, &reply);
        }
        // nats-server does not answer what it does not know.
        _ => {}
    }
}

/// The audit of a call, when the account listens for audits.
fn audit_of(
    server: &Server,
    js: &JetStream,
    jsa: &JsAccount,
    msg: &InternalMsg,
    subject: &str,
) -> Option<Audit> {
    if !super::has_interest(&jsa.account, AUDIT_SUBJECT.as_bytes()) {
        return None;
    }
    let client = msg.origin.as_ref().and_then(|origin| {
        let client = origin.client.as_ref()?;
        let meta = client.meta();
        let cluster = server.cluster_name();
        let caller = Caller {
            meta: &meta,
            cid: client.cid,
            account: &origin.account.name,
            rtt_ns: client.activity.rtt_ns.load(Ordering::Relaxed),
            server: server.name(),
            cluster: (!cluster.is_empty()).then_some(cluster.as_str()),
        };
        Some(client_info(&caller))
    });
    Some(Audit::new(
        server.name(),
        client,
        subject,
        &msg.payload,
        js.domain.clone(),
    ))
}

/// Reads a request document; `null` fields count as absent, as Go reads
/// them into their zero values.
fn from_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let invalid = |e: serde_json::Error| errors::INVALID_JSON.with(&[("err", &e)]);
    let mut value: Value = serde_json::from_slice(body).map_err(invalid)?;
    types::drop_nulls(&mut value);
    serde_json::from_value(value).map_err(invalid)
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| errors::INVALID_JSON.with(&[("err", &e)]))
}

fn account_info(js: &JetStream, jsa: &JsAccount) -> Value {
    let (memory, storage) = jsa.usage();
    let streams = jsa.streams();
    let consumers: u64 = streams
        .iter()
        .map(|s| s.consumers.load(Ordering::Relaxed))
        .sum();
    let mut info = json!({
        "memory": memory,
        "storage": storage,
        "reserved_memory": 0,
        "reserved_storage": 0,
        "streams": streams.len(),
        "consumers": consumers,
        "limits": jsa.limits(),
        "api": {
            "level": types::API_LEVEL,
            "total": jsa.api_total.load(Ordering::Relaxed),
            "errors": jsa.api_errors.load(Ordering::Relaxed),
        },
    });
    if let Some(domain) = &js.domain {
        info["domain"] = json!(domain);
    }
    info
}

/// The subject filter and offset of a names or list request.
fn list_request(body: &[u8]) -> (Option<String>, usize) {
    let v = parse_body(body).unwrap_or(Value::Null);
    let subject = v
        .get("subject")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let offset = v
        .get("offset")
        .and_then(Value::as_u64)
        .map_or(0, |o| usize::try_from(o).unwrap_or(0));
    (subject, offset)
}

fn streams_matching(
    jsa: &JsAccount,
    subject: Option<&str>,
) -> Vec<Arc<super::stream::StreamHandle>> {
    jsa.streams()
        .into_iter()
        .filter(|s| {
            subject.is_none_or(|f| {
                super::capture::stored_subjects(&s.config())
                    .iter()
                    .any(|own| super::consumer::subjects_overlap(own, f))
            })
        })
        .collect()
}

fn stream_names(jsa: &JsAccount, body: &[u8]) -> Value {
    let (subject, offset) = list_request(body);
    let streams = streams_matching(jsa, subject.as_deref());
    let names: Vec<String> = streams
        .iter()
        .skip(offset)
        .take(1024)
        .map(|s| s.name.clone())
        .collect();
    json!({"total": streams.len(), "offset": offset, "limit": 1024, "streams": names})
}

fn stream_list(jsa: &JsAccount, body: &[u8]) -> Value {
    let (subject, offset) = list_request(body);
    let streams = streams_matching(jsa, subject.as_deref());
    let infos: Vec<Value> = streams
        .iter()
        .skip(offset)
        .take(256)
        .map(|s| summary_info(s))
        .collect();
    json!({"total": streams.len(), "offset": offset, "limit": 256, "streams": infos, "missing": null})
}

/// A stream's info from its handle's counters (lists do not ask each
/// stream's thread).
fn summary_info(s: &super::stream::StreamHandle) -> Value {
    let mut config = s.config();
    types::with_version_metadata(&mut config.metadata);
    let msgs = s.msgs.load(Ordering::Relaxed);
    let last_seq = s.last_seq.load(Ordering::Relaxed);
    let first_seq = if last_seq == 0 {
        0
    } else {
        s.first_seq.load(Ordering::Relaxed)
    };
    let mut state = json!({
        "messages": msgs,
        "bytes": s.bytes.load(Ordering::Relaxed),
        "first_seq": first_seq,
        "first_ts": types::rfc3339(s.first_ts.load(Ordering::Relaxed)),
        "last_seq": last_seq,
        "last_ts": types::rfc3339(s.last_ts.load(Ordering::Relaxed)),
    });
    for (key, n) in [
        ("num_deleted", s.num_deleted.load(Ordering::Relaxed)),
        ("num_subjects", s.num_subjects.load(Ordering::Relaxed)),
    ] {
        if n > 0 {
            state[key] = json!(n);
        }
    }
    state["consumer_count"] = json!(s.consumers.load(Ordering::Relaxed));
    json!({
        "config": config,
        "created": types::rfc3339(s.created),
        "state": state,
        "ts": types::rfc3339(now_nanos()),
    })
}

/// Reads a stream configuration from a create or update request, checks
/// it and fills nats-server's defaults.
pub(crate) fn parse_stream_config(name: &str, body: &[u8]) -> Result<StreamConfig, ApiError> {
    let mut config: StreamConfig = from_json(body)?;
    if config.name.is_empty() {
        config.name = name.to_string();
    }
    if config.name != name {
        return Err(errors::STREAM_MISMATCH.err());
    }
    check_stream_config(&mut config)?;
    Ok(config)
}

/// Whether `name` may name a stream or consumer.
pub(crate) fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['.', '*', '>', ' ', '\t', '\r', '\n'])
        && name.chars().all(|c| !c.is_control())
}

fn invalid(text: &str) -> ApiError {
    errors::STREAM_INVALID_CONFIG_F.with(&[("err", &text)])
}

/// nats-server's `checkStreamCfg`, for what Gannet supports.
fn check_stream_config(config: &mut StreamConfig) -> Result<(), ApiError> {
    if config.name.contains(['/', '\\']) {
        return Err(errors::STREAM_NAME_CONTAINS_PATH_SEPARATORS.err());
    }
    if !is_valid_name(&config.name) {
        return Err(invalid("invalid stream name"));
    }
    if config.name.len() > 255 {
        return Err(invalid("stream name is too long, maximum allowed is 255"));
    }
    if !matches!(
        config.retention.as_str(),
        "limits" | "interest" | "workqueue"
    ) {
        return Err(invalid("invalid retention policy"));
    }
    if !matches!(config.storage.as_str(), "file" | "memory") {
        return Err(invalid("invalid storage type"));
    }
    if !matches!(config.discard.as_str(), "old" | "new") {
        return Err(invalid("invalid discard policy"));
    }
    if !matches!(config.compression.as_str(), "none" | "s2" | "") {
        return Err(invalid("invalid compression"));
    }
    if config.compression.is_empty() {
        config.compression = "none".to_string();
    }
    if config.deny_purge && config.allow_rollup_hdrs {
        return Err(invalid("roll-ups require the purge permission"));
    }
    if config.num_replicas < 0 {
        return Err(errors::REPLICAS_COUNT_CANNOT_BE_NEGATIVE.err());
    }
    if config.num_replicas == 0 {
        config.num_replicas = 1;
    }
    if config.num_replicas > 1 {
        return Err(errors::STREAM_REPLICAS_NOT_SUPPORTED.err());
    }
    for n in [
        &mut config.max_msgs,
        &mut config.max_bytes,
        &mut config.max_msgs_per_subject,
        &mut config.max_consumers,
        &mut config.max_msg_size,
    ] {
        if *n == 0 {
            *n = -1;
        }
    }
    if config.max_age < 0 {
        return Err(invalid("max age needs to be >= 0"));
    }
    if config.duplicate_window < 0 {
        return Err(invalid("duplicates window can not be negative"));
    }
    if config.duplicate_window == 0 {
        config.duplicate_window = if config.max_age > 0 && config.max_age < DEFAULT_DUPLICATE_WINDOW
        {
            config.max_age
        } else {
            DEFAULT_DUPLICATE_WINDOW
        };
    }
    if config.max_age > 0 && config.duplicate_window > config.max_age {
        return Err(invalid("duplicates window can not be larger then max age"));
    }
    if config.discard_new_per_subject
        && (config.discard != "new" || config.max_msgs_per_subject <= 0)
    {
        return Err(invalid(
            "discard new per subject requires discard new policy to be set and max msgs per subject > 0",
        ));
    }
    if config.subject_delete_marker_ttl > 0 && !config.allow_msg_ttl {
        return Err(invalid(
            "subject marker delete cannot be set if message TTLs are disabled",
        ));
    }
    if config.mirror.is_some() {
        if config.first_seq.is_some_and(|s| s > 0) {
            return Err(errors::MIRROR_WITH_FIRST_SEQ.err());
        }
        if !config.subjects.is_empty() {
            return Err(errors::MIRROR_WITH_SUBJECTS.err());
        }
        if config.sources.as_ref().is_some_and(|s| !s.is_empty()) {
            return Err(errors::MIRROR_WITH_SOURCES.err());
        }
    }
    for origin in config.mirror.iter().chain(config.sources.iter().flatten()) {
        let name = origin.get("name").and_then(Value::as_str).unwrap_or("");
        if !is_valid_name(name) {
            return Err(if config.mirror.is_some() {
                errors::MIRROR_INVALID_STREAM_NAME.err()
            } else {
                errors::SOURCE_INVALID_STREAM_NAME.err()
            });
        }
    }
    let copies = config.mirror.is_some() || config.sources.as_ref().is_some_and(|s| !s.is_empty());
    if config.subjects.is_empty() && !copies {
        config.subjects = vec![config.name.clone()];
    }
    for (i, s) in config.subjects.iter().enumerate() {
        if !gannet_proto::subject::is_valid_subscribe_subject(s.as_bytes()) {
            return Err(invalid("invalid subject"));
        }
        let api_overlap = s == ">" || s.starts_with("$JS.API") || s.starts_with("$SYS.");
        if api_overlap && !(config.no_ack && s != ">") {
            return Err(invalid(
                "subjects that overlap with jetstream api require no-ack to be true",
            ));
        }
        for other in &config.subjects[i + 1..] {
            if super::consumer::subjects_overlap(s, other) {
                return Err(invalid("duplicate subjects detected"));
            }
        }
    }
    if let Some(t) = &config.subject_transform {
        if gannet_proto::transform::SubjectTransform::new(&t.src, &t.dest).is_err() {
            return Err(errors::STREAM_TRANSFORM_INVALID_DESTINATION.err());
        }
    }
    if let Some(r) = &config.republish {
        if gannet_proto::transform::SubjectTransform::new(&r.src, &r.dest).is_err() {
            return Err(invalid(&format!(
                "stream configuration for republish with transform from '{}' to '{}' not valid",
                r.src, r.dest
            )));
        }
    }
    config.metadata.retain(|k, _| !k.starts_with("_nats."));
    config
        .metadata
        .insert("_nats.req.level".to_string(), "0".to_string());
    Ok(())
}

/// What an update may not change (nats-server's `checkStreamCfg` for
/// updates).
pub(crate) fn check_update(old: &StreamConfig, new: &StreamConfig) -> Result<(), ApiError> {
    let fail = |text: &str| errors::STREAM_INVALID_CONFIG_F.with(&[("err", &text)]);
    if old.storage != new.storage {
        return Err(fail(
            "stream configuration update can not change storage type",
        ));
    }
    if old.retention != new.retention {
        return Err(fail(
            "stream configuration update can not change retention policy",
        ));
    }
    if old.sealed && !new.sealed {
        return Err(fail(
            "stream configuration update can not unseal a sealed stream",
        ));
    }
    if old.deny_delete && !new.deny_delete {
        return Err(fail(
            "stream configuration update can not cancel deny message deletes",
        ));
    }
    if old.deny_purge && !new.deny_purge {
        return Err(fail(
            "stream configuration update can not cancel deny purge",
        ));
    }
    Ok(())
}

/// Whether `config`'s subjects overlap another stream's (`except` is the
/// stream being updated).
fn check_overlap(
    jsa: &JsAccount,
    config: &StreamConfig,
    except: Option<&str>,
) -> Result<(), ApiError> {
    for other in jsa.streams() {
        if Some(other.name.as_str()) == except || other.name == config.name {
            continue;
        }
        let theirs = super::capture::stored_subjects(&other.config());
        for mine in &config.subjects {
            if theirs
                .iter()
                .any(|t| super::consumer::subjects_overlap(mine, t))
            {
                return Err(errors::STREAM_SUBJECT_OVERLAP.err());
            }
        }
    }
    Ok(())
}

fn create_stream(
    js: &Arc<JetStream>,
    jsa: &Arc<JsAccount>,
    name: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let config = parse_stream_config(name, body)?;
    if let Some(existing) = jsa.stream(name) {
        let mut mine = existing.config();
        mine.metadata.retain(|k, _| !k.starts_with("_nats."));
        let mut theirs = config.clone();
        theirs.metadata.retain(|k, _| !k.starts_with("_nats."));
        mine.metadata.insert("_nats.req.level".into(), "0".into());
        theirs.metadata.insert("_nats.req.level".into(), "0".into());
        if mine == theirs {
            return Ok(summary_info(&existing));
        }
        return Err(errors::STREAM_NAME_EXIST.err());
    }
    check_overlap(jsa, &config, None)?;
    let limits = jsa.limits();
    if limits.max_streams > 0 && jsa.streams().len() as i64 >= limits.max_streams {
        return Err(errors::MAXIMUM_STREAMS_LIMIT.err());
    }
    if limits.max_bytes_required && config.max_bytes <= 0 {
        return Err(errors::STREAM_MAX_BYTES_REQUIRED.err());
    }
    let (memory, storage) = jsa.usage();
    if config.storage == "memory" {
        let asked = config.max_bytes.max(0) as u64;
        if (limits.max_memory >= 0 && memory + asked > limits.max_memory as u64)
            || (js.max_memory() > 0 && memory + asked > js.max_memory() as u64)
        {
            return Err(errors::MEMORY_RESOURCES_EXCEEDED.err());
        }
    } else {
        let asked = config.max_bytes.max(0) as u64;
        if (limits.max_storage >= 0 && storage + asked > limits.max_storage as u64)
            || (js.max_store() > 0 && storage + asked > js.max_store() as u64)
        {
            return Err(errors::STORAGE_RESOURCES_EXCEEDED.err());
        }
    }
    let created = now_nanos();
    let handle = js
        .open_stream(jsa, config, created, false)
        .map_err(|e| errors::STREAM_CREATE.with(&[("err", &e)]))?;
    let created = super::advisory::stream_action(&handle.name, "create", js.domain.as_deref());
    if let Some(server) = js.server.upgrade() {
        server
            .internal()
            .send(&jsa.account, &created.subject, created.body);
    }
    let mut info = summary_info(&handle);
    info["did_create"] = json!(true);
    Ok(info)
}

/// Checks a consumer create request: names in the subject and the body,
/// the filter in the subject. Returns the stream, the configuration and the
/// action (`create`, `update` or empty for either).
fn consumer_request(
    jsa: &JsAccount,
    stream: &str,
    rest: &[&str],
    durable_api: bool,
    body: &[u8],
) -> Result<(Arc<super::stream::StreamHandle>, ConsumerConfig, String), ApiError> {
    #[derive(serde::Deserialize)]
    struct Request {
        #[serde(default)]
        stream_name: String,
        config: ConsumerConfig,
        #[serde(default)]
        action: String,
    }
    let req: Request = from_json(body)?;
    if !req.stream_name.is_empty() && req.stream_name != stream {
        return Err(errors::STREAM_MISMATCH.err());
    }
    let handle = jsa.stream(stream).ok_or(errors::STREAM_NOT_FOUND.err())?;
    let mut config = req.config;
    let name_in_subject = rest.first().copied();
    match (name_in_subject, &config.durable_name, &config.name) {
        (None, Some(_), _) if !durable_api => {
            return Err(errors::CONSUMER_EPHEMERAL_WITH_DURABLE_NAME.err())
        }
        (Some(n), Some(d), _) if n != d => {
            return Err(errors::CONSUMER_DURABLE_NAME_NOT_MATCH_SUBJECT.err())
        }
        (Some(n), None, Some(c)) if n != c => {
            return Err(errors::CONSUMER_CREATE_DURABLE_AND_NAME_MISMATCH.err())
        }
        _ => {}
    }
    if durable_api && config.durable_name.is_none() {
        return Err(errors::CONSUMER_DURABLE_NAME_NOT_SET.err());
    }
    if let (Some(d), Some(n)) = (&config.durable_name, &config.name) {
        if d != n {
            return Err(errors::CONSUMER_CREATE_DURABLE_AND_NAME_MISMATCH.err());
        }
    }
    if let Some(n) = name_in_subject {
        if config.durable_name.is_none() && config.name.is_none() {
            config.name = Some(n.to_string());
        }
    }
    for n in [&config.durable_name, &config.name].into_iter().flatten() {
        if n.contains(['/', '\\']) {
            return Err(errors::CONSUMER_NAME_CONTAINS_PATH_SEPARATORS.err());
        }
        if !is_valid_name(n) {
            return Err(errors::CONSUMER_BAD_DURABLE_NAME.err());
        }
    }
    if rest.len() > 1 {
        let filter = rest[1..].join(".");
        if config.filter_subjects.len() > 1 {
            return Err(errors::CONSUMER_MULTIPLE_FILTERS_NOT_ALLOWED.err());
        }
        let given = if config.filter_subject.is_empty() {
            config.filter_subjects.first().cloned().unwrap_or_default()
        } else {
            config.filter_subject.clone()
        };
        if !given.is_empty() && given != filter {
            return Err(errors::CONSUMER_CREATE_FILTER_SUBJECT_MISMATCH.err());
        }
    }
    Ok((handle, config, req.action))
}

/// A random consumer name, as nats-server makes them (eight characters).
pub(crate) fn random_name() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..8)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
