//! JetStream's advisories: the events a stream's account hears on
//! `$JS.EVENT.ADVISORY.>` when streams and consumers are created, updated
//! or deleted, when a message reaches a consumer's `max_deliver`, and when a
//! client naks or terminates a message. Subjects, `type` names and fields
//! are nats-server's.
use serde_json::{json, Value};

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
