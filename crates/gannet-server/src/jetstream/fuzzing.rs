//! What the `jetstream` fuzz target drives (built with the `fuzzing` feature
//! only): the parsers and checks JetStream runs on what clients send, with
//! no server around them. Each must answer any input with a value or an
//! error, never a panic.
use super::consumer::{self, Caps};
use super::types::ConsumerConfig;
use super::{api, headers, stream};

/// Runs every parser on `data`: as a stream configuration (created, then
/// updated to itself), a consumer configuration with its checks under tight
/// and loose caps, a pull request, an acknowledgement with its NAK delay, a
/// TTL value and a header block.
pub fn requests(data: &[u8]) {
    if let Ok(config) = api::parse_stream_config("S", data) {
        let _ = api::check_update(&config, &config);
    }
    if let Ok(config) = serde_json::from_slice::<ConsumerConfig>(data) {
        for caps in [
            Caps {
                work_queue: true,
                stream_max_ack_pending: 1,
                stream_inactive_threshold: 1,
                server_max_ack_pending: 1,
                server_max_request_batch: 1,
                account_max_ack_pending: 1,
            },
            Caps {
                work_queue: false,
                stream_max_ack_pending: 0,
                stream_inactive_threshold: 0,
                server_max_ack_pending: 0,
                server_max_request_batch: 0,
                account_max_ack_pending: 0,
            },
        ] {
            let mut checked = config.clone();
            if consumer::check_config(&mut checked, caps).is_ok() {
                let _ = consumer::check_update(&config, &checked);
            }
        }
    }
    let _ = consumer::parse_next_request(data);
    let (_, rest) = consumer::split_ack(data);
    let _ = consumer::nak_delay(rest);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = stream::parse_ttl(text);
    }
    for name in [
        "Nats-TTL",
        "Nats-Expected-Last-Sequence",
        "Nats-Msg-Id",
        "Nats-Rollup",
    ] {
        let _ = headers::get(data, name);
    }
}
