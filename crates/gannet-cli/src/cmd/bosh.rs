//! `sub --bosh`: BOSH's NATS traffic (docs/BOSH.md §5) decoded into
//! one `key=value` line per message: director requests to agents, the agents'
//! replies, heartbeats, alerts and shutdowns to the health monitor, and the
//! director's alerts. [`describe`] returns `None` for anything it cannot
//! decode, and `sub` then prints the message the ordinary way.

use serde_json::{Map, Value};

use super::output::go_quote;

/// Longest JSON value (arguments, reply values) shown before it is cut.
const MAX_JSON: usize = 200;

/// One line describing a BOSH message on `subject`, or `None`.
pub fn describe(subject: &str, payload: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(payload).ok()?;
    let tokens: Vec<&str> = subject.split('.').collect();
    match tokens.as_slice() {
        ["agent", agent] => request(agent, body.as_object()?),
        ["director", director, agent, request_id] => {
            reply(director, agent, request_id, body.as_object()?)
        }
        ["hm", "agent", "heartbeat", agent] => heartbeat(agent, body.as_object()?),
        ["hm", "agent", "alert", agent] => alert("alert", Some(agent), body.as_object()?),
        ["hm", "agent", "shutdown", agent] => Some(format!("shutdown agent={}", word(agent))),
        ["hm", "director", "alert"] => alert("director_alert", None, body.as_object()?),
        [target, "agent", topic, agent] => Some(format!(
            "agent_event agent={} topic={} to={} body={}",
            word(agent),
            word(topic),
            word(target),
            json(&body)
        )),
        _ => None,
    }
}

/// Director → agent: `{"protocol":3,"method":..,"arguments":[..],"reply_to":..}`.
fn request(agent: &str, body: &Map<String, Value>) -> Option<String> {
    let method = body.get("method")?.as_str()?;
    let mut line = format!("request agent={} method={}", word(agent), word(method));
    if let Some(arguments) = body.get("arguments") {
        line.push_str(&format!(" arguments={}", json(arguments)));
    }
    if let Some(reply_to) = body.get("reply_to").and_then(Value::as_str) {
        line.push_str(&format!(" reply_to={}", word(reply_to)));
    }
    Some(line)
}

/// Agent → director: `{"value":..}` or `{"exception":{"message":..}}`.
fn reply(
    director: &str,
    agent: &str,
    request_id: &str,
    body: &Map<String, Value>,
) -> Option<String> {
    let outcome = if let Some(value) = body.get("value") {
        format!("value={}", json(value))
    } else {
        let exception = body.get("exception")?;
        let message = exception.get("message").and_then(Value::as_str);
        match message {
            Some(message) => format!("exception={}", go_quote(message)),
            None => format!("exception={}", json(exception)),
        }
    };
    Some(format!(
        "reply agent={} director={} request={} {outcome}",
        word(agent),
        word(director),
        word(request_id)
    ))
}

/// Agent → health monitor, every 30 s: the job's state and the VM's vitals.
fn heartbeat(agent: &str, body: &Map<String, Value>) -> Option<String> {
    let mut line = format!("heartbeat agent={}", word(agent));
    if let Some(deployment) = body.get("deployment") {
        line.push_str(&format!(" deployment={}", scalar(deployment)));
    }
    for key in ["job", "index", "job_state"] {
        if let Some(value) = body.get(key) {
            line.push_str(&format!(" {key}={}", scalar(value)));
        }
    }
    if let Some(vitals) = body.get("vitals").and_then(Value::as_object) {
        line.push_str(&vitals_text(vitals));
    }
    Some(line)
}

/// ` cpu=user:1.2%,sys:0.5%,wait:0.1% mem=45%(1024kB) disk=system:40%,... load=a,b,c`.
fn vitals_text(vitals: &Map<String, Value>) -> String {
    let mut text = String::new();
    if let Some(cpu) = vitals.get("cpu").and_then(Value::as_object) {
        let parts = percents(cpu, &["user", "sys", "wait"], |key, pct| {
            format!("{key}:{pct}%")
        });
        push_field(&mut text, "cpu", &parts);
    }
    if let Some(mem) = vitals.get("mem").and_then(Value::as_object) {
        push_field(&mut text, "mem", &usage(mem));
    }
    if let Some(swap) = vitals.get("swap").and_then(Value::as_object) {
        push_field(&mut text, "swap", &usage(swap));
    }
    if let Some(disk) = vitals.get("disk").and_then(Value::as_object) {
        let parts = ["system", "ephemeral", "persistent"]
            .iter()
            .filter_map(|name| {
                let percent = disk.get(*name)?.get("percent")?;
                Some(format!("{name}:{}%", scalar(percent)))
            })
            .collect::<Vec<_>>()
            .join(",");
        push_field(&mut text, "disk", &parts);
    }
    if let Some(load) = vitals.get("load").and_then(Value::as_array) {
        let parts = load.iter().map(scalar).collect::<Vec<_>>().join(",");
        push_field(&mut text, "load", &parts);
    }
    text
}

fn percents(
    object: &Map<String, Value>,
    keys: &[&str],
    show: impl Fn(&str, String) -> String,
) -> String {
    keys.iter()
        .filter_map(|key| object.get(*key).map(|value| show(key, scalar(value))))
        .collect::<Vec<_>>()
        .join(",")
}

/// `{"percent":"45","kb":"1024"}` → `45%(1024kB)`.
fn usage(object: &Map<String, Value>) -> String {
    let percent = object.get("percent").map(scalar);
    let kb = object.get("kb").map(scalar);
    match (percent, kb) {
        (Some(percent), Some(kb)) => format!("{percent}%({kb}kB)"),
        (Some(percent), None) => format!("{percent}%"),
        (None, Some(kb)) => format!("{kb}kB"),
        (None, None) => String::new(),
    }
}

fn push_field(text: &mut String, key: &str, value: &str) {
    if !value.is_empty() {
        text.push_str(&format!(" {key}={value}"));
    }
}

/// An agent's or the director's alert:
/// `{"id":..,"severity":2,"title":..,"summary":..,"created_at":<unix s>}`.
fn alert(kind: &str, agent: Option<&str>, body: &Map<String, Value>) -> Option<String> {
    let title = body.get("title")?;
    let mut line = kind.to_string();
    if let Some(agent) = agent {
        line.push_str(&format!(" agent={}", word(agent)));
    }
    if let Some(deployment) = body.get("deployment") {
        line.push_str(&format!(" deployment={}", scalar(deployment)));
    }
    if let Some(severity) = body.get("severity") {
        line.push_str(&format!(" severity={}", severity_text(severity)));
    }
    line.push_str(&format!(" title={}", quoted(title)));
    if let Some(summary) = body.get("summary") {
        line.push_str(&format!(" summary={}", quoted(summary)));
    }
    if let Some(created) = body.get("created_at") {
        line.push_str(&format!(" created_at={}", unix_time(created)));
    }
    Some(line)
}

/// BOSH's severities: `2(critical)`.
fn severity_text(severity: &Value) -> String {
    let name = match severity.as_i64() {
        Some(1) => "alert",
        Some(2) => "critical",
        Some(3) => "error",
        Some(4) => "warning",
        Some(-1) => "ignored",
        _ => return scalar(severity),
    };
    format!("{}({name})", scalar(severity))
}

/// Unix seconds as RFC 3339 UTC, anything else as it is.
fn unix_time(value: &Value) -> String {
    value
        .as_i64()
        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| scalar(value))
}

/// A scalar as a bare word (strings unquoted when they are one word, `-` for
/// null), anything else as JSON.
fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "-".to_string(),
        Value::String(text) => word(text),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        _ => json(value),
    }
}

/// Free text, always quoted.
fn quoted(value: &Value) -> String {
    match value {
        Value::String(text) => go_quote(text),
        other => scalar(other),
    }
}

/// `text` bare when it is one plain word, else quoted.
fn word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '"' && c != '=');
    if plain {
        text.to_string()
    } else {
        go_quote(text)
    }
}

/// Compact JSON, cut after [`MAX_JSON`] characters.
fn json(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_JSON {
        return text;
    }
    let cut: String = text.chars().take(MAX_JSON).collect();
    format!("{cut}...({} bytes)", text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e";

    fn line(subject: &str, payload: &str) -> Option<String> {
        describe(subject, payload.as_bytes())
    }

    #[test]
    fn director_requests() {
        let payload = format!(
            r#"{{"protocol":3,"method":"get_state","arguments":["full"],"reply_to":"director.3c5b.{A}.r1"}}"#
        );
        assert_eq!(
            line(&format!("agent.{A}"), &payload).unwrap(),
            format!(
                r#"request agent={A} method=get_state arguments=["full"] reply_to=director.3c5b.{A}.r1"#
            )
        );
    }

    #[test]
    fn agent_replies() {
        let subject = format!("director.3c5b.{A}.6a1f-req");
        assert_eq!(
            line(&subject, r#"{"value":"pong"}"#).unwrap(),
            format!(r#"reply agent={A} director=3c5b request=6a1f-req value="pong""#)
        );
        assert_eq!(
            line(
                &subject,
                r#"{"exception":{"message":"disk full: no space"}}"#
            )
            .unwrap(),
            format!(
                r#"reply agent={A} director=3c5b request=6a1f-req exception="disk full: no space""#
            )
        );
        assert_eq!(line(&subject, r#"{"other":1}"#), None);
    }

    #[test]
    fn heartbeats_with_vitals() {
        let payload = r#"{"deployment":"cf","job":"router","index":0,"job_state":"running",
            "vitals":{"cpu":{"sys":"0.5","user":"1.2","wait":"0.1"},
                      "disk":{"system":{"inode_percent":"3","percent":"40"},"ephemeral":{"percent":"10"}},
                      "load":["0.10","0.20","0.30"],"mem":{"kb":"1024","percent":"45"},
                      "swap":{"kb":"0","percent":"0"},"uptime":{"secs":100}},
            "node_id":"n","number_of_processes":12}"#;
        assert_eq!(
            line(&format!("hm.agent.heartbeat.{A}"), payload).unwrap(),
            format!(
                "heartbeat agent={A} deployment=cf job=router index=0 job_state=running \
                 cpu=user:1.2%,sys:0.5%,wait:0.1% mem=45%(1024kB) swap=0%(0kB) \
                 disk=system:40%,ephemeral:10% load=0.10,0.20,0.30"
            )
        );
    }

    #[test]
    fn heartbeats_of_unassigned_vms() {
        let payload = r#"{"deployment":"","job":null,"index":null,"job_state":"running"}"#;
        assert_eq!(
            line(&format!("hm.agent.heartbeat.{A}"), payload).unwrap(),
            format!(r#"heartbeat agent={A} deployment="" job=- index=- job_state=running"#)
        );
    }

    #[test]
    fn alerts() {
        let payload = r#"{"id":"x","severity":2,"title":"Disk full","summary":"system disk at 99%","created_at":1700000000}"#;
        assert_eq!(
            line(&format!("hm.agent.alert.{A}"), payload).unwrap(),
            format!(
                r#"alert agent={A} severity=2(critical) title="Disk full" summary="system disk at 99%" created_at=2023-11-14T22:13:20Z"#
            )
        );
        let payload = r#"{"id":"y","severity":4,"source":"director","title":"t","summary":"s","created_at":1700000000,"deployment":"cf"}"#;
        assert_eq!(
            line("hm.director.alert", payload).unwrap(),
            r#"director_alert deployment=cf severity=4(warning) title="t" summary="s" created_at=2023-11-14T22:13:20Z"#
        );
    }

    #[test]
    fn shutdowns_and_other_agent_messages() {
        assert_eq!(
            line(&format!("hm.agent.shutdown.{A}"), "null").unwrap(),
            format!("shutdown agent={A}")
        );
        assert_eq!(
            line(&format!("hm.agent.update.{A}"), r#"{"a":1}"#).unwrap(),
            format!(r#"agent_event agent={A} topic=update to=hm body={{"a":1}}"#)
        );
    }

    #[test]
    fn anything_else_is_left_to_the_ordinary_output() {
        assert_eq!(line("agent.x", "not json"), None);
        assert_eq!(line("agent.x", r#"{"no_method":1}"#), None);
        assert_eq!(line("agent.x", "[1]"), None);
        assert_eq!(line("foo.bar", "{}"), None);
        assert_eq!(line("hm.agent.heartbeat.x", "3"), None);
    }

    #[test]
    fn long_values_are_cut() {
        let long = "x".repeat(500);
        let payload = format!(r#"{{"value":"{long}"}}"#);
        let text = line("director.d.a.r", &payload).unwrap();
        assert!(text.ends_with("...(502 bytes)"), "{text}");
        assert!(text.len() < 300);
    }
}
