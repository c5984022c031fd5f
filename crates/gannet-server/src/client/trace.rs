//! Protocol trace lines (`-V`): each operation a client sent, as the reference
//! prints it (`<<- [SUB foo 1]`).
use gannet_proto::ClientOp;

pub(super) fn trace_op(prefix: &str, op: &ClientOp<'_>) {
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let line = match op {
        ClientOp::Connect { json } => format!("CONNECT {}", redacted(json)),
        ClientOp::Pub {
            subject,
            reply,
            payload,
        } => match reply {
            Some(r) => format!("PUB {} {} {}", s(subject), s(r), payload.len()),
            None => format!("PUB {} {}", s(subject), payload.len()),
        },
        ClientOp::HPub {
            subject,
            reply,
            headers,
            payload,
        } => {
            let total = headers.len() + payload.len();
            match reply {
                Some(r) => format!("HPUB {} {} {} {total}", s(subject), s(r), headers.len()),
                None => format!("HPUB {} {} {total}", s(subject), headers.len()),
            }
        }
        ClientOp::Sub {
            subject,
            queue,
            sid,
        } => match queue {
            Some(q) => format!("SUB {} {} {}", s(subject), s(q), s(sid)),
            None => format!("SUB {} {}", s(subject), s(sid)),
        },
        ClientOp::Unsub { sid, max } => match max {
            Some(m) => format!("UNSUB {} {m}", s(sid)),
            None => format!("UNSUB {}", s(sid)),
        },
        ClientOp::Ping => "PING".into(),
        ClientOp::Pong => "PONG".into(),
        ClientOp::Info => "INFO".into(),
        ClientOp::Ok => "+OK".into(),
        ClientOp::Err => "-ERR".into(),
    };
    tracing::trace!("{prefix} - <<- [{line}]");
}

/// CONNECT JSON with its secrets replaced, as traces must never show them.
fn redacted(json: &[u8]) -> String {
    const SECRETS: [&str; 4] = ["pass", "auth_token", "sig", "jwt"];
    match serde_json::from_slice::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(mut map)) => {
            for key in SECRETS {
                if let Some(v) = map.get_mut(key) {
                    if !v.is_null() {
                        *v = serde_json::Value::String("[REDACTED]".to_string());
                    }
                }
            }
            serde_json::Value::Object(map).to_string()
        }
        _ => "[unparsable]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_secrets_are_redacted() {
        let out = redacted(br#"{"user":"a","pass":"s3cret","auth_token":"t","sig":null}"#);
        assert!(!out.contains("s3cret") && !out.contains("\"t\""), "{out}");
        assert!(
            out.contains("[REDACTED]") && out.contains("\"user\":\"a\""),
            "{out}"
        );
        assert_eq!(redacted(b"{bad"), "[unparsable]");
    }
}
