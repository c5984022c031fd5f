//! JetStream's advisories: the events a stream's account hears on
//! `$JS.EVENT.ADVISORY.>` when streams and consumers are created, updated
//! or deleted, when a message reaches a consumer's `max_deliver`, when a
//! client naks or terminates a message, when a priority group pins or
//! unpins a client, when a consumer is paused or resumes, and for every API
//! call answered (the audit). Subjects, `type` names and fields are
//! nats-server's.
use serde_json::{json, Map, Value};

use super::types::{now_nanos, rfc3339};

const PREFIX: &str = "$JS.EVENT.ADVISORY";

/// An advisory ready to publish in the stream's account.
pub(crate) struct Advisory {
    pub(crate) subject: String,
    pub(crate) body: Vec<u8>,
}

fn advisory(subject: String, kind: &str, mut fields: Value, domain: Option<&str>) -> Advisory {
    let mut body = json!({
        "type": format!("io.nats.jetstream.advisory.v1.{kind}"),
        "id": super::api::random_name() + &super::api::random_name(),
        "timestamp": rfc3339(now_nanos()),
    });
    if let (Value::Object(b), Value::Object(f)) = (&mut body, &mut fields) {
        b.append(f);
    }
    if let Some(d) = domain {
        body["domain"] = json!(d);
    }
    Advisory {
        subject,
        body: serde_json::to_vec(&body).unwrap_or_default(),
    }
}

/// `create`, `modify` or `delete` of a stream.
pub(crate) fn stream_action(stream: &str, action: &str, domain: Option<&str>) -> Advisory {
    let event = match action {
        "create" => "CREATED",
        "delete" => "DELETED",
        _ => "UPDATED",
    };
    advisory(
        format!("{PREFIX}.STREAM.{event}.{stream}"),
        "stream_action",
        json!({"stream": stream, "action": action}),
        domain,
    )
}

/// `create` or `delete` of a consumer.
pub(crate) fn consumer_action(
    stream: &str,
    consumer: &str,
    action: &str,
    domain: Option<&str>,
) -> Advisory {
    let event = if action == "delete" {
        "DELETED"
    } else {
        "CREATED"
    };
    advisory(
        format!("{PREFIX}.CONSUMER.{event}.{stream}.{consumer}"),
        "consumer_action",
        json!({"stream": stream, "consumer": consumer, "action": action}),
        domain,
    )
}

/// A message that reached the consumer's `max_deliver`.
pub(crate) fn max_deliveries(
    stream: &str,
    consumer: &str,
    stream_seq: u64,
    deliveries: u64,
    domain: Option<&str>,
) -> Advisory {
    advisory(
        format!("{PREFIX}.CONSUMER.MAX_DELIVERIES.{stream}.{consumer}"),
        "max_deliver",
        json!({"stream": stream, "consumer": consumer, "stream_seq": stream_seq, "deliveries": deliveries}),
        domain,
    )
}

/// A message a client naked (`-NAK`) or terminated (`+TERM`).
pub(crate) fn delivery(
    kind: Delivery,
    stream: &str,
    consumer: &str,
    seqs: (u64, u64),
    deliveries: u64,
    reason: &str,
    domain: Option<&str>,
) -> Advisory {
    let (event, type_name) = match kind {
        Delivery::Naked => ("MSG_NAKED", "nak"),
        Delivery::Terminated => ("MSG_TERMINATED", "terminated"),
    };
    let mut fields = json!({
        "stream": stream,
        "consumer": consumer,
        "consumer_seq": seqs.1,
        "stream_seq": seqs.0,
        "deliveries": deliveries,
    });
    if kind == Delivery::Terminated && !reason.is_empty() {
        fields["reason"] = json!(reason);
    }
    advisory(
        format!("{PREFIX}.CONSUMER.{event}.{stream}.{consumer}"),
        type_name,
        fields,
        domain,
    )
}

/// Where the advisories of one consumer go, and what they name.
pub(crate) struct ConsumerAdvisories<'a> {
    pub(crate) account: &'a str,
    pub(crate) stream: &'a str,
    pub(crate) consumer: &'a str,
    pub(crate) domain: Option<&'a str>,
}

impl ConsumerAdvisories<'_> {
    /// A priority group pinned a new client (`pinned_id`).
    pub(crate) fn pinned(&self, group: &str, pinned_id: &str) -> Advisory {
        self.group_event(
            "PINNED",
            "consumer_group_pinned",
            group,
            ("pinned_id", pinned_id),
        )
    }

    /// A priority group lost its pinned client: `reason` is `timeout` (it
    /// stopped pulling) or `admin` (`$JS.API.CONSUMER.UNPIN`).
    pub(crate) fn unpinned(&self, group: &str, reason: &str) -> Advisory {
        self.group_event(
            "UNPINNED",
            "consumer_group_unpinned",
            group,
            ("reason", reason),
        )
    }

    fn group_event(&self, event: &str, kind: &str, group: &str, last: (&str, &str)) -> Advisory {
        let mut fields = Map::new();
        fields.insert("account".into(), json!(self.account));
        fields.insert("stream".into(), json!(self.stream));
        fields.insert("consumer".into(), json!(self.consumer));
        if let Some(d) = self.domain {
            fields.insert("domain".into(), json!(d));
        }
        fields.insert("group".into(), json!(group));
        fields.insert(last.0.into(), json!(last.1));
        advisory(
            format!(
                "{PREFIX}.CONSUMER.{event}.{}.{}",
                self.stream, self.consumer
            ),
            kind,
            Value::Object(fields),
            None,
        )
    }

    /// The consumer was paused until `until` (ns since the epoch), resumed
    /// (0: no pause time), or its pause ran out (`paused` false, `until`
    /// the time it ran out at).
    pub(crate) fn pause(&self, paused: bool, until: i64) -> Advisory {
        // Go's zero time when there is none, as nats-server writes it.
        let until = rfc3339(until);
        advisory(
            format!("{PREFIX}.CONSUMER.PAUSE.{}.{}", self.stream, self.consumer),
            "consumer_pause",
            json!({"stream": self.stream, "consumer": self.consumer, "paused": paused, "pause_until": until}),
            self.domain,
        )
    }
}

/// The audit of one API call: everything but the answer, made when the call
/// comes in and only when the account listens on `$JS.EVENT.ADVISORY.API`.
pub(crate) struct Audit {
    fields: Map<String, Value>,
    domain: Option<String>,
}

/// The subject of API audits.
pub(crate) const AUDIT_SUBJECT: &str = "$JS.EVENT.ADVISORY.API";

impl Audit {
    /// `client` is the caller as nats-server describes it (see
    /// [`client_info`]); `request` the body of the call.
    pub(crate) fn new(
        server: &str,
        client: Option<Value>,
        subject: &str,
        request: &[u8],
        domain: Option<String>,
    ) -> Audit {
        let mut fields = Map::new();
        fields.insert("server".into(), json!(server));
        fields.insert("client".into(), client.unwrap_or(Value::Null));
        fields.insert("subject".into(), json!(subject));
        if !request.is_empty() {
            fields.insert("request".into(), json!(String::from_utf8_lossy(request)));
        }
        Audit { fields, domain }
    }

    /// The advisory, once the call was answered with `response`.
    pub(crate) fn answered(mut self, response: &[u8]) -> Advisory {
        self.fields
            .insert("response".into(), json!(String::from_utf8_lossy(response)));
        advisory(
            AUDIT_SUBJECT.to_string(),
            "api_audit",
            Value::Object(self.fields),
            self.domain.as_deref(),
        )
    }
}

/// What an audit tells of the client that called, in nats-server's field
/// order (its `ClientInfo` less the JWT).
pub(crate) struct Caller<'a> {
    pub(crate) meta: &'a crate::client::ClientMeta,
    pub(crate) cid: u64,
    pub(crate) account: &'a str,
    pub(crate) rtt_ns: u64,
    pub(crate) server: &'a str,
    pub(crate) cluster: Option<&'a str>,
}

pub(crate) fn client_info(c: &Caller<'_>) -> Value {
    let mut info = Map::new();
    info.insert("start".into(), json!(crate::events::go_time(c.meta.start)));
    info.insert("host".into(), json!(c.meta.addr.ip().to_string()));
    info.insert("id".into(), json!(c.cid));
    info.insert("acc".into(), json!(c.account));
    let texts = [
        ("user", c.meta.user.as_deref().unwrap_or("")),
        ("name", c.meta.name.as_str()),
        ("lang", c.meta.lang.as_str()),
        ("ver", c.meta.version.as_str()),
    ];
    for (key, value) in texts {
        if !value.is_empty() {
            info.insert(key.into(), json!(value));
        }
    }
    if c.rtt_ns > 0 {
        info.insert("rtt".into(), json!(c.rtt_ns));
    }
    info.insert("server".into(), json!(c.server));
    if let Some(cluster) = c.cluster {
        info.insert("cluster".into(), json!(cluster));
    }
    if let Some(jwt) = &c.meta.jwt {
        info.insert("issuer_key".into(), json!(jwt.1.issuer));
        if !jwt.1.account_name.is_empty() {
            info.insert("name_tag".into(), json!(jwt.1.account_name));
        }
        if !jwt.1.tags.is_empty() {
            info.insert("tags".into(), json!(jwt.1.tags));
        }
    }
    info.insert("kind".into(), json!("Client"));
    info.insert("client_type".into(), json!("nats"));
    Value::Object(info)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    Naked,
    Terminated,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_advisories_name_the_stream_and_action() {
        let a = stream_action("ORDERS", "create", None);
        assert_eq!(a.subject, "$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS");
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(v["type"], "io.nats.jetstream.advisory.v1.stream_action");
        assert_eq!(
            (v["stream"].as_str(), v["action"].as_str()),
            (Some("ORDERS"), Some("create"))
        );
        assert_eq!(v["id"].as_str().map(str::len), Some(16));
    }

    #[test]
    fn group_advisories_place_the_domain_as_nats_server_does() {
        let about = ConsumerAdvisories {
            account: "A",
            stream: "S",
            consumer: "C",
            domain: Some("hub"),
        };
        let a = about.pinned("g", "PIN");
        assert_eq!(a.subject, "$JS.EVENT.ADVISORY.CONSUMER.PINNED.S.C");
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "type",
                "id",
                "timestamp",
                "account",
                "stream",
                "consumer",
                "domain",
                "group",
                "pinned_id"
            ]
        );
        let v: Value = serde_json::from_slice(&about.unpinned("g", "admin").body).unwrap();
        assert_eq!(
            (v["reason"].as_str(), v["domain"].as_str()),
            (Some("admin"), Some("hub"))
        );
        // A resume without a time carries Go's zero time.
        let v: Value = serde_json::from_slice(&about.pause(false, 0).body).unwrap();
        assert_eq!(v["pause_until"], "0001-01-01T00:00:00Z");
        assert_eq!(v["paused"], false);
    }

    #[test]
    fn audits_leave_out_an_empty_request() {
        let a = Audit::new("srv", None, "$JS.API.INFO", b"", None).answered(b"{}");
        assert_eq!(a.subject, AUDIT_SUBJECT);
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        assert!(v.get("request").is_none());
        assert_eq!(
            (v["server"].as_str(), v["response"].as_str()),
            (Some("srv"), Some("{}"))
        );
    }

    #[test]
    fn terminated_messages_carry_the_reason() {
        let a = delivery(
            Delivery::Terminated,
            "S",
            "C",
            (5, 2),
            1,
            "bad",
            Some("hub"),
        );
        assert_eq!(a.subject, "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.S.C");
        let v: Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(
            (v["stream_seq"].as_u64(), v["consumer_seq"].as_u64()),
            (Some(5), Some(2))
        );
        assert_eq!(v["reason"], "bad");
        assert_eq!(v["domain"], "hub");
    }
}
