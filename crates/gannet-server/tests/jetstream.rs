//! JetStream on one server, driven by the async-nats client's own JetStream
//! API: streams (create, info, publish acknowledgements, duplicates,
//! expected-sequence headers, purge, message get and delete, direct get),
//! pull and push consumers (fetch, acknowledgements, redelivery, pending
//! counts), key-value buckets, the API's error answers, and file streams
//! surviving a restart. Each case runs against Gannet and, when this
//! machine has it, nats-server 2.15, which must agree.
use std::time::Duration;

use async_nats::jetstream::{self, consumer, kv, stream};
use futures::StreamExt;
use gannet_test::ServerProcess;

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

fn binaries() -> Vec<String> {
    gannet_test::with_reference(BIN)
}

/// A server with JetStream, its store in the server's own folder.
fn start(binary: &str) -> ServerProcess {
    let store = tempfile::tempdir().unwrap();
    let dir = store.path().to_str().unwrap().to_string();
    ServerProcess::builder(binary)
        .dir(store)
        .args(&["-js", "-sd", &format!("{dir}/store")])
        .start()
}

async fn connect(server: &ServerProcess) -> (async_nats::Client, jetstream::Context) {
    let client = async_nats::connect(server.url()).await.unwrap();
    let js = jetstream::new(client.clone());
    (client, js)
}

/// Runs `case` on every server binary.
macro_rules! each_server {
    ($case:expr) => {
        for binary in binaries() {
            let server = start(&binary);
            let (client, js) = connect(&server).await;
            tokio::time::timeout(Duration::from_secs(30), $case(&client, &js))
                .await
                .unwrap_or_else(|_| panic!("{binary}: timed out"));
            drop(server);
        }
    };
}

#[tokio::test]
async fn streams_store_and_acknowledge_publishes() {
    async fn case(_: &async_nats::Client, js: &jetstream::Context) {
        let mut s = js
            .create_stream(stream::Config {
                name: "ORDERS".into(),
                subjects: vec!["orders.>".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        let ack = js
            .publish("orders.new", "one".into())
            .await
            .unwrap()
            .await
            .unwrap();
        assert_eq!(
            (ack.stream.as_str(), ack.sequence, ack.duplicate),
            ("ORDERS", 1, false)
        );
        let ack = js
            .publish("orders.new", "two".into())
            .await
            .unwrap()
            .await
            .unwrap();
        assert_eq!(ack.sequence, 2);

        // A repeated Nats-Msg-Id within the window is a duplicate.
        let mut h = async_nats::HeaderMap::new();
        h.insert("Nats-Msg-Id", "m1");
        let first = js
            .publish_with_headers("orders.paid", h.clone(), "x".into())
            .await
            .unwrap()
            .await
            .unwrap();
        let again = js
            .publish_with_headers("orders.paid", h, "x".into())
            .await
            .unwrap()
            .await
            .unwrap();
        assert_eq!(first.sequence, 3);
        assert!(again.duplicate);
        assert_eq!(again.sequence, 3);

        // Expected last sequence.
        let mut h = async_nats::HeaderMap::new();
        h.insert("Nats-Expected-Last-Sequence", "1");
        let err = js
            .publish_with_headers("orders.new", h, "late".into())
            .await
            .unwrap()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("wrong last sequence: 3"), "{err}");

        let info = s.info().await.unwrap();
        assert_eq!(info.state.messages, 3);
        assert_eq!(
            (info.state.first_sequence, info.state.last_sequence),
            (1, 3)
        );
        assert_eq!(info.config.num_replicas, 1);
        assert_eq!(info.config.max_messages, -1);

        let msg = s.get_raw_message(2).await.unwrap();
        assert_eq!(
            (msg.subject.as_str(), msg.payload.as_ref()),
            ("orders.new", b"two".as_ref())
        );
        assert!(s.delete_message(2).await.unwrap());
        assert!(s.get_raw_message(2).await.is_err());
        let purged = s.purge().filter("orders.paid").await.unwrap();
        assert_eq!(purged.purged, 1);
        let info = s.info().await.unwrap();
        assert_eq!(info.state.messages, 1);
        let names: Vec<String> = js.stream_names().map(|n| n.unwrap()).collect().await;
        assert_eq!(names, vec!["ORDERS".to_string()]);
        js.delete_stream("ORDERS").await.unwrap();
        assert!(js.get_stream("ORDERS").await.is_err());
    }
    each_server!(case);
}

#[tokio::test]
async fn api_errors_carry_the_reference_codes() {
    async fn case(client: &async_nats::Client, js: &jetstream::Context) {
        let ask = |subject: &'static str, body: &'static str| async move {
            let reply = client.request(subject, body.into()).await.unwrap();
            serde_json::from_slice::<serde_json::Value>(&reply.payload).unwrap()
        };
        let r = ask("$JS.API.STREAM.INFO.NOPE", "").await;
        assert_eq!(r["error"]["err_code"], 10059, "{r}");
        assert_eq!(r["error"]["description"], "stream not found");
        let r = ask(
            "$JS.API.STREAM.CREATE.R3",
            r#"{"name":"R3","num_replicas":3}"#,
        )
        .await;
        assert_eq!(r["error"]["err_code"], 10074, "{r}");
        let r = ask("$JS.API.STREAM.CREATE.A", r#"{"name":"B"}"#).await;
        assert_eq!(r["error"]["err_code"], 10056, "{r}");
        js.create_stream(stream::Config {
            name: "A".into(),
            subjects: vec!["a.*".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        let r = ask(
            "$JS.API.STREAM.CREATE.C",
            r#"{"name":"C","subjects":["a.b"]}"#,
        )
        .await;
        assert_eq!(r["error"]["err_code"], 10065, "{r}");
        let r = ask(
            "$JS.API.CONSUMER.CREATE.A",
            r#"{"stream_name":"A","config":{"durable_name":"D"}}"#,
        )
        .await;
        assert_eq!(r["error"]["err_code"], 10020, "{r}");
        let r = ask("$JS.API.CONSUMER.INFO.A.NOPE", "").await;
        assert_eq!(r["error"]["err_code"], 10014, "{r}");
        let r = ask(
            "$JS.API.STREAM.CREATE.R",
            r#"{"name":"R","subjects":["r"],"allow_rollup_hdrs":true,"deny_purge":true}"#,
        )
        .await;
        assert_eq!(r["error"]["err_code"], 10052, "{r}");
        assert_eq!(
            r["error"]["description"],
            "roll-ups require the purge permission"
        );
        // What an update of a consumer may not change.
        let create =
            r#"{"stream_name":"A","config":{"durable_name":"AK","ack_policy":"explicit"}}"#;
        let r = ask("$JS.API.CONSUMER.CREATE.A.AK", create).await;
        assert!(r["error"].is_null(), "{r}");
        let r = ask(
            "$JS.API.CONSUMER.CREATE.A.AK",
            r#"{"stream_name":"A","config":{"durable_name":"AK","ack_policy":"none"}}"#,
        )
        .await;
        assert_eq!(r["error"]["err_code"], 10012, "{r}");
        assert_eq!(r["error"]["description"], "ack policy can not be updated");
        // A stream that never held a message starts at 0; lists carry the state.
        let r = ask("$JS.API.STREAM.INFO.A", "").await;
        assert_eq!(r["state"]["first_seq"], 0, "{r}");
        assert!(r["cluster"]["leader"].is_string(), "{r}");
        let r = ask("$JS.API.STREAM.LIST", "").await;
        assert_eq!(r["streams"][0]["state"]["first_seq"], 0, "{r}");
        let r = ask("$JS.API.INFO", "").await;
        assert_eq!(r["type"], "io.nats.jetstream.api.v1.account_info_response");
        assert_eq!(r["streams"], 1, "{r}");
        assert_eq!(r["limits"]["max_streams"], -1);
    }
    each_server!(case);
}

#[tokio::test]
async fn pull_consumers_fetch_acknowledge_and_redeliver() {
    async fn case(_: &async_nats::Client, js: &jetstream::Context) {
        let s = js
            .create_stream(stream::Config {
                name: "JOBS".into(),
                subjects: vec!["jobs.*".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        for i in 0..5 {
            js.publish(format!("jobs.{}", i % 2), format!("job {i}").into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
        let mut c: consumer::PullConsumer = s
            .create_consumer(consumer::pull::Config {
                durable_name: Some("worker".into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(1),
                filter_subject: "jobs.0".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(c.info().await.unwrap().num_pending, 3);
        let mut batch = c.fetch().max_messages(2).messages().await.unwrap();
        let m1 = batch.next().await.unwrap().unwrap();
        let m2 = batch.next().await.unwrap().unwrap();
        assert!(batch.next().await.is_none());
        assert_eq!(m1.payload.as_ref(), b"job 0");
        assert_eq!(m2.payload.as_ref(), b"job 2");
        assert_eq!(m1.subject.as_str(), "jobs.0");
        m1.ack().await.unwrap();
        m2.ack_with(jetstream::AckKind::Nak(None)).await.unwrap();
        m1.double_ack().await.ok();
        let info = c.info().await.unwrap().clone();
        assert_eq!(info.delivered.consumer_sequence, 2);
        // The floor stops just below the oldest pending message (stream
        // sequence 3, the nak'd one), filtered out sequences included.
        assert_eq!(info.ack_floor.stream_sequence, 2);
        assert_eq!(info.num_pending, 1);

        // The nak'd message comes back first, marked as a redelivery.
        let mut batch = c.fetch().max_messages(2).messages().await.unwrap();
        let again = batch.next().await.unwrap().unwrap();
        assert_eq!(again.payload.as_ref(), b"job 2");
        assert_eq!(again.info().unwrap().delivered, 2);
        let third = batch.next().await.unwrap().unwrap();
        assert_eq!(third.payload.as_ref(), b"job 4");
        third.ack().await.unwrap();
        // Not acknowledged: sent again after the ack wait.
        let mut batch = c
            .fetch()
            .max_messages(1)
            .expires(Duration::from_secs(3))
            .messages()
            .await
            .unwrap();
        let late = batch.next().await.unwrap().unwrap();
        assert_eq!(late.payload.as_ref(), b"job 2");
        late.double_ack().await.unwrap();
        let info = c.info().await.unwrap().clone();
        assert_eq!(info.num_ack_pending, 0);
        assert_eq!(info.num_pending, 0);
        assert_eq!(info.ack_floor.stream_sequence, 5);

        // Nothing left: a no-wait fetch ends at once, empty.
        let mut batch = c.fetch().max_messages(5).messages().await.unwrap();
        assert!(batch.next().await.is_none());
    }
    each_server!(case);
}

#[tokio::test]
async fn push_consumers_deliver_to_their_subject() {
    async fn case(client: &async_nats::Client, js: &jetstream::Context) {
        let s = js
            .create_stream(stream::Config {
                name: "EVENTS".into(),
                subjects: vec!["events.>".into()],
                storage: stream::StorageType::Memory,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut inbox = client.subscribe("deliver.here").await.unwrap();
        client.flush().await.unwrap();
        s.create_consumer(consumer::push::Config {
            durable_name: Some("audit".into()),
            deliver_subject: "deliver.here".into(),
            ack_policy: consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
        for i in 0..3 {
            js.publish(format!("events.{i}"), format!("e{i}").into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
        // A pull request to a push consumer is told so.
        let status = client
            .request("$JS.API.CONSUMER.MSG.NEXT.EVENTS.audit", "1".into())
            .await
            .unwrap();
        assert_eq!(status.status.map(|s| s.as_u16()), Some(409));
        assert_eq!(
            status.description.as_deref(),
            Some("Consumer is push based")
        );
        for i in 0..3 {
            let m = tokio::time::timeout(Duration::from_secs(5), inbox.next())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(m.subject.as_str(), format!("events.{i}"));
            assert_eq!(m.payload.as_ref(), format!("e{i}").as_bytes());
            assert!(m.reply.unwrap().starts_with("$JS.ACK.EVENTS.audit."));
        }
    }
    each_server!(case);
}

#[tokio::test]
async fn key_value_buckets_work_as_clients_build_them() {
    async fn case(_: &async_nats::Client, js: &jetstream::Context) {
        let kv = js
            .create_key_value(kv::Config {
                bucket: "config".into(),
                history: 5,
                ..Default::default()
            })
            .await
            .unwrap();
        let r1 = kv.put("db.host", "a".into()).await.unwrap();
        let r2 = kv.put("db.host", "b".into()).await.unwrap();
        assert_eq!((r1, r2), (1, 2));
        assert_eq!(kv.get("db.host").await.unwrap().unwrap().as_ref(), b"b");
        let entry = kv.entry("db.host").await.unwrap().unwrap();
        assert_eq!(entry.revision, 2);
        // Update with the wrong revision fails; with the right one works.
        assert!(kv.update("db.host", "c".into(), 1).await.is_err());
        assert_eq!(kv.update("db.host", "c".into(), 2).await.unwrap(), 3);
        // Create fails on a key that exists.
        assert!(kv.create("db.host", "d".into()).await.is_err());
        assert_eq!(kv.create("db.port", "5432".into()).await.unwrap(), 4);
        let mut keys: Vec<String> = kv.keys().await.unwrap().map(|k| k.unwrap()).collect().await;
        keys.sort();
        assert_eq!(keys, vec!["db.host", "db.port"]);
        let history: Vec<_> = kv.history("db.host").await.unwrap().collect().await;
        assert_eq!(history.len(), 3);
        kv.delete("db.port").await.unwrap();
        assert!(kv.get("db.port").await.unwrap().is_none());

        let mut watch = kv.watch("db.>").await.unwrap();
        kv.put("db.user", "app".into()).await.unwrap();
        let seen = tokio::time::timeout(Duration::from_secs(5), watch.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(
            (seen.key.as_str(), seen.value.as_ref()),
            ("db.user", b"app".as_ref())
        );
    }
    each_server!(case);
}

#[tokio::test]
async fn file_streams_and_consumers_survive_a_restart() {
    for binary in binaries() {
        let root = tempfile::tempdir().unwrap();
        let store = root.path().join("store");
        let store_arg = store.to_str().unwrap().to_string();
        let port = gannet_test::free_port();
        let run = || {
            ServerProcess::builder(&binary)
                .port(port)
                .args(&["-js", "-sd", &store_arg])
                .start()
        };
        let mut server = run();
        {
            let (_, js) = connect(&server).await;
            let s = js
                .create_stream(stream::Config {
                    name: "KEEP".into(),
                    subjects: vec!["keep.*".into()],
                    ..Default::default()
                })
                .await
                .unwrap();
            for i in 0..10 {
                js.publish(format!("keep.{i}"), format!("{i}").into())
                    .await
                    .unwrap()
                    .await
                    .unwrap();
            }
            let c: consumer::PullConsumer = s
                .create_consumer(consumer::pull::Config {
                    durable_name: Some("reader".into()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ..Default::default()
                })
                .await
                .unwrap();
            let mut batch = c.fetch().max_messages(4).messages().await.unwrap();
            while let Some(m) = batch.next().await {
                m.unwrap().double_ack().await.unwrap();
            }
        }
        assert!(
            server.terminate(Duration::from_secs(10)),
            "{binary}: no clean stop"
        );
        let server = run();
        let (_, js) = connect(&server).await;
        let mut s = js.get_stream("KEEP").await.unwrap();
        let info = s.info().await.unwrap();
        assert_eq!(info.state.messages, 10, "{binary}");
        assert_eq!(info.state.last_sequence, 10);
        let mut c: consumer::PullConsumer = s.get_consumer("reader").await.unwrap();
        let info = c.info().await.unwrap();
        assert_eq!(info.ack_floor.stream_sequence, 4, "{binary}");
        assert_eq!(info.num_pending, 6, "{binary}");
        let mut batch = c.fetch().max_messages(1).messages().await.unwrap();
        let next = batch.next().await.unwrap().unwrap();
        assert_eq!(next.payload.as_ref(), b"4");
        drop(server);
    }
}

/// Waits (at most 10 s) until `stream` holds `count` messages.
async fn wait_for_messages(js: &jetstream::Context, stream: &str, count: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut s = js.get_stream(stream).await.unwrap();
        let held = s.info().await.unwrap().state.messages;
        if held >= count {
            assert_eq!(held, count, "{stream}");
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{stream}: {held} of {count} messages"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn mirrors_and_sources_copy_their_origins() {
    async fn case(_: &async_nats::Client, js: &jetstream::Context) {
        for (name, subject) in [("ONE", "one.*"), ("TWO", "two.*")] {
            js.create_stream(stream::Config {
                name: name.into(),
                subjects: vec![subject.into()],
                ..Default::default()
            })
            .await
            .unwrap();
        }
        for subject in ["one.a", "one.b", "one.c", "two.a"] {
            js.publish(subject, subject.into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
        // A mirror from sequence 2 keeps the origin's sequences.
        js.create_stream(stream::Config {
            name: "MIRROR".into(),
            mirror: Some(stream::Source {
                name: "ONE".into(),
                start_sequence: Some(2),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap();
        // A stream sourcing both, renaming what comes from TWO.
        js.create_stream(stream::Config {
            name: "ALL".into(),
            sources: Some(vec![
                stream::Source {
                    name: "ONE".into(),
                    filter_subject: Some("one.b".into()),
                    ..Default::default()
                },
                stream::Source {
                    name: "TWO".into(),
                    subject_transforms: vec![stream::SubjectTransform {
                        source: "two.*".into(),
                        destination: "copied.$1".into(),
                    }],
                    ..Default::default()
                },
            ]),
            ..Default::default()
        })
        .await
        .unwrap();
        wait_for_messages(js, "MIRROR", 2).await;
        let mirror = js.get_stream("MIRROR").await.unwrap();
        let m = mirror.get_raw_message(3).await.unwrap();
        assert_eq!(
            (m.subject.as_str(), m.payload.as_ref()),
            ("one.c", b"one.c".as_ref())
        );
        assert!(mirror.get_raw_message(1).await.is_err());
        wait_for_messages(js, "ALL", 2).await;
        let all = js.get_stream("ALL").await.unwrap();
        let copied = all
            .get_last_raw_message_by_subject("copied.a")
            .await
            .unwrap();
        assert_eq!(copied.payload.as_ref(), b"two.a");
        // New messages keep flowing.
        js.publish("one.b", "later".into())
            .await
            .unwrap()
            .await
            .unwrap();
        wait_for_messages(js, "ALL", 3).await;
        wait_for_messages(js, "MIRROR", 3).await;
    }
    each_server!(case);
}

#[tokio::test]
async fn a_pinned_client_gets_everything_until_unpinned() {
    async fn case(client: &async_nats::Client, js: &jetstream::Context) {
        let s = js
            .create_stream(stream::Config {
                name: "PIN".into(),
                subjects: vec!["pin".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        for _ in 0..3 {
            js.publish("pin", "x".into()).await.unwrap().await.unwrap();
        }
        let mut c: consumer::PullConsumer = s
            .create_consumer(consumer::pull::Config {
                durable_name: Some("C".into()),
                ack_policy: consumer::AckPolicy::None,
                priority_policy: consumer::PriorityPolicy::PinnedClient,
                priority_groups: vec!["A".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        // A pull request's first answer. (A message arrives under its own
        // subject, so it is read from a subscription, not as a reply.)
        let next = |body: String| async move {
            let inbox = client.new_inbox();
            let mut answers = client.subscribe(inbox.clone()).await.unwrap();
            client
                .publish_with_reply("$JS.API.CONSUMER.MSG.NEXT.PIN.C", inbox, body.into())
                .await
                .unwrap();
            tokio::time::timeout(Duration::from_secs(5), answers.next())
                .await
                .unwrap()
                .unwrap()
        };
        let first = next(r#"{"batch":1,"group":"A","expires":1000000000}"#.into()).await;
        let pin = first
            .headers
            .as_ref()
            .unwrap()
            .get("Nats-Pin-Id")
            .unwrap()
            .to_string();
        assert_eq!(pin.len(), 22);
        let info = c.info().await.unwrap();
        assert_eq!(
            info.priority_groups[0].pinned_client_id.as_deref(),
            Some(pin.as_str())
        );
        // The pinned client pulls on.
        let again = next(format!(
            r#"{{"batch":1,"group":"A","id":"{pin}","expires":1000000000}}"#
        ))
        .await;
        assert_eq!(
            again
                .headers
                .as_ref()
                .unwrap()
                .get("Nats-Pin-Id")
                .unwrap()
                .as_str(),
            pin
        );
        // Another pin id is turned away.
        let wrong =
            next(r#"{"batch":1,"group":"A","id":"nope","expires":1000000000}"#.into()).await;
        assert_eq!(wrong.status.map(|s| s.as_u16()), Some(423));
        // A group the consumer does not have is a bad request.
        let bad = next(r#"{"batch":1,"group":"B","expires":1000000000}"#.into()).await;
        assert_eq!(bad.status.map(|s| s.as_u16()), Some(400));
        s.unpin_consumer("C", "A").await.unwrap();
        let info = c.info().await.unwrap();
        assert_eq!(info.priority_groups[0].pinned_client_id, None);
        let after = next(r#"{"batch":1,"group":"A","expires":1000000000}"#.into()).await;
        let new_pin = after
            .headers
            .as_ref()
            .unwrap()
            .get("Nats-Pin-Id")
            .unwrap()
            .to_string();
        assert_ne!(new_pin, pin);
    }
    each_server!(case);
}

#[tokio::test]
async fn message_ttls_expire_and_leave_markers() {
    async fn case(_: &async_nats::Client, js: &jetstream::Context) {
        let mut s = js
            .create_stream(stream::Config {
                name: "TTL".into(),
                subjects: vec!["ttl.>".into()],
                allow_message_ttl: true,
                subject_delete_marker_ttl: Some(Duration::from_secs(1)),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut h = async_nats::HeaderMap::new();
        h.insert("Nats-TTL", "1s");
        js.publish_with_headers("ttl.short", h, "gone soon".into())
            .await
            .unwrap()
            .await
            .unwrap();
        js.publish("ttl.kept", "stays".into())
            .await
            .unwrap()
            .await
            .unwrap();
        // A TTL on a stream without allow_msg_ttl is refused.
        js.create_stream(stream::Config {
            name: "NOTTL".into(),
            subjects: vec!["nottl".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        let mut h = async_nats::HeaderMap::new();
        h.insert("Nats-TTL", "1s");
        let err = js
            .publish_with_headers("nottl", h, "x".into())
            .await
            .unwrap()
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("per-message TTL is disabled"),
            "{err}"
        );

        // After a second the message is replaced by a marker, which goes in turn.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let marker = loop {
            let last = s
                .get_last_raw_message_by_subject("ttl.short")
                .await
                .unwrap();
            if last.payload.is_empty() {
                break last;
            }
            assert!(tokio::time::Instant::now() < deadline, "no marker");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let reason = marker
            .headers
            .get("Nats-Marker-Reason")
            .map(|v| v.to_string());
        assert_eq!(reason.as_deref(), Some("MaxAge"));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while s.get_last_raw_message_by_subject("ttl.short").await.is_ok() {
            assert!(tokio::time::Instant::now() < deadline, "marker kept");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(s.info().await.unwrap().state.messages, 1);
    }
    each_server!(case);
}

#[tokio::test]
async fn server_limits_cap_what_consumers_ask_for() {
    for binary in binaries() {
        let conf = "jetstream { limits { max_request_batch: 10, max_ack_pending: 50 } }";
        let store = tempfile::tempdir().unwrap();
        let dir = store.path().join("store");
        let server = ServerProcess::builder(&binary)
            .config(conf)
            .args(&["-js", "-sd", dir.to_str().unwrap()])
            .start();
        let (client, js) = connect(&server).await;
        js.create_stream(stream::Config {
            name: "CAP".into(),
            subjects: vec!["cap".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        let ask = |body: &'static str| {
            let client = client.clone();
            async move {
                let r = client
                    .request("$JS.API.CONSUMER.CREATE.CAP.C", body.into())
                    .await
                    .unwrap();
                serde_json::from_slice::<serde_json::Value>(&r.payload).unwrap()
            }
        };
        let r = ask(r#"{"stream_name":"CAP","config":{"name":"C","ack_policy":"explicit"}}"#).await;
        assert_eq!(r["config"]["max_batch"], 10, "{binary}: {r}");
        assert_eq!(r["config"]["max_ack_pending"], 50, "{binary}: {r}");
        let r = ask(
            r#"{"stream_name":"CAP","config":{"name":"C","ack_policy":"explicit","max_batch":11}}"#,
        )
        .await;
        assert_eq!(r["error"]["err_code"], 10125, "{binary}: {r}");
        // A pull over the consumer's batch is refused with a status.
        let status = client
            .request("$JS.API.CONSUMER.MSG.NEXT.CAP.C", r#"{"batch":20}"#.into())
            .await
            .unwrap();
        assert_eq!(status.status.map(|s| s.as_u16()), Some(409));
        assert_eq!(
            status.description.as_deref(),
            Some("Exceeded MaxRequestBatch of 10")
        );
    }
}

#[tokio::test]
async fn consumers_reset_to_a_sequence() {
    async fn case(client: &async_nats::Client, js: &jetstream::Context) {
        let s = js
            .create_stream(stream::Config {
                name: "RESET".into(),
                subjects: vec!["reset.*".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        for i in 0..5 {
            js.publish(format!("reset.{i}"), "x".into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
        s.create_consumer(consumer::pull::Config {
            durable_name: Some("c".into()),
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .unwrap();
        let reset = |body: &'static str| async move {
            let r = client
                .request("$JS.API.CONSUMER.RESET.RESET.c", body.into())
                .await
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&r.payload).unwrap()
        };
        let r = reset(r#"{"seq":3}"#).await;
        assert_eq!(r["reset_seq"], 3, "{r}");
        assert_eq!(r["num_pending"], 3, "{r}");
        assert_eq!(r["ack_floor"]["stream_seq"], 2, "{r}");
        let r = reset("").await;
        assert_eq!(r["reset_seq"], 3, "{r}");
        let r = reset(r#"{"seq":3}"#).await;
        assert_eq!(
            r["type"],
            "io.nats.jetstream.api.v1.consumer_reset_response"
        );
        s.create_consumer(consumer::pull::Config {
            durable_name: Some("late".into()),
            deliver_policy: consumer::DeliverPolicy::ByStartSequence { start_sequence: 3 },
            ..Default::default()
        })
        .await
        .unwrap();
        let r = client
            .request("$JS.API.CONSUMER.RESET.RESET.late", r#"{"seq":1}"#.into())
            .await
            .unwrap();
        let r: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
        assert_eq!(r["error"]["err_code"], 10204, "{r}");
    }
    each_server!(case);
}

#[tokio::test]
async fn key_value_watchers_know_when_they_are_current() {
    async fn case(_: &async_nats::Client, js: &jetstream::Context) {
        let kv = js
            .create_key_value(kv::Config {
                bucket: "watched".into(),
                history: 15,
                ..Default::default()
            })
            .await
            .unwrap();
        for i in 0..10 {
            kv.put(format!("key.{i}"), i.to_string().into())
                .await
                .unwrap();
        }
        let mut watcher = kv.watch_with_history("key.>").await.unwrap();
        // New values arrive while the history is read.
        let writer = kv.clone();
        let puts = tokio::spawn(async move {
            for i in 10..15 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                writer
                    .put(format!("key.{i}"), i.to_string().into())
                    .await
                    .unwrap();
            }
        });
        for i in 0..15 {
            let entry = watcher.next().await.unwrap().unwrap();
            assert_eq!(entry.key, format!("key.{i}"));
            if i < 10 {
                assert_eq!(entry.delta, 9 - i as u64, "{entry:?}");
            }
            assert_eq!(entry.seen_current, i >= 9, "{entry:?}");
        }
        puts.await.unwrap();
    }
    each_server!(case);
}

#[tokio::test]
async fn advisories_announce_streams_consumers_and_given_up_messages() {
    async fn case(client: &async_nats::Client, js: &jetstream::Context) {
        let mut events = client.subscribe("$JS.EVENT.ADVISORY.>").await.unwrap();
        client.flush().await.unwrap();
        let s = js
            .create_stream(stream::Config {
                name: "ADV".into(),
                subjects: vec!["adv".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        let c: consumer::PullConsumer = s
            .create_consumer(consumer::pull::Config {
                durable_name: Some("once".into()),
                ack_policy: consumer::AckPolicy::Explicit,
                max_deliver: 1,
                ack_wait: Duration::from_millis(300),
                ..Default::default()
            })
            .await
            .unwrap();
        js.publish("adv", "x".into()).await.unwrap().await.unwrap();
        // A waiting pull, not a no-wait fetch: under load nats-server may
        // answer a fetch right after the publish with "no messages".
        let pull = || {
            c.batch()
                .max_messages(1)
                .expires(Duration::from_secs(5))
                .messages()
        };
        let mut batch = pull().await.unwrap();
        let m = batch.next().await.unwrap().unwrap();
        m.ack_with(jetstream::AckKind::Term).await.unwrap();
        // Unacknowledged past its only delivery: given up.
        js.publish("adv", "y".into()).await.unwrap().await.unwrap();
        let mut batch = pull().await.unwrap();
        let _unacked = batch.next().await.unwrap().unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        s.delete_consumer("once").await.unwrap();
        js.delete_stream("ADV").await.unwrap();
        let seen = advisories_until(&mut events, |seen| {
            seen.iter()
                .any(|(s, _)| s == "$JS.EVENT.ADVISORY.STREAM.DELETED.ADV")
        })
        .await;
        for (_, body) in &seen {
            assert!(body["type"]
                .as_str()
                .unwrap()
                .starts_with("io.nats.jetstream.advisory.v1."));
        }
        let seen: Vec<&String> = seen.iter().map(|(s, _)| s).collect();
        for want in [
            "$JS.EVENT.ADVISORY.STREAM.CREATED.ADV",
            "$JS.EVENT.ADVISORY.CONSUMER.CREATED.ADV.once",
            "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.ADV.once",
            "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ADV.once",
            "$JS.EVENT.ADVISORY.CONSUMER.DELETED.ADV.once",
            "$JS.EVENT.ADVISORY.STREAM.DELETED.ADV",
        ] {
            assert!(
                seen.iter().any(|s| s.as_str() == want),
                "{want} not in {seen:?}"
            );
        }
    }
    each_server!(case);
}

#[tokio::test]
async fn replay_original_keeps_the_stored_spacing() {
    async fn case(client: &async_nats::Client, js: &jetstream::Context) {
        let s = js
            .create_stream(stream::Config {
                name: "REPLAY".into(),
                subjects: vec!["replay".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        js.publish("replay", "1".into())
            .await
            .unwrap()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        js.publish("replay", "2".into())
            .await
            .unwrap()
            .await
            .unwrap();
        let mut inbox = client.subscribe("replay.out").await.unwrap();
        client.flush().await.unwrap();
        s.create_consumer(consumer::push::Config {
            deliver_subject: "replay.out".into(),
            replay_policy: consumer::ReplayPolicy::Original,
            ..Default::default()
        })
        .await
        .unwrap();
        let first = inbox.next().await.unwrap();
        let at = tokio::time::Instant::now();
        let second = inbox.next().await.unwrap();
        let gap = at.elapsed();
        assert_eq!(
            (first.payload.as_ref(), second.payload.as_ref()),
            (b"1".as_ref(), b"2".as_ref())
        );
        assert!(gap >= Duration::from_millis(450), "{gap:?}");
        assert!(gap < Duration::from_secs(3), "{gap:?}");
    }
    each_server!(case);
}

#[tokio::test]
async fn push_flow_control_stalls_until_the_client_answers() {
    async fn case(client: &async_nats::Client, js: &jetstream::Context) {
        let s = js
            .create_stream(stream::Config {
                name: "FLOW".into(),
                subjects: vec!["flow".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        let payload = bytes::Bytes::from(vec![b'x'; 8 * 1024]);
        for _ in 0..600 {
            js.publish("flow", payload.clone()).await.unwrap();
        }
        js.publish("flow", payload.clone())
            .await
            .unwrap()
            .await
            .unwrap();
        // An ordered consumer (the client answers flow control) reads all.
        let mut ordered = s
            .create_consumer(consumer::push::OrderedConfig {
                deliver_subject: client.new_inbox(),
                ..Default::default()
            })
            .await
            .unwrap()
            .messages()
            .await
            .unwrap();
        for _ in 0..601 {
            tokio::time::timeout(Duration::from_secs(10), ordered.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        }
        // A subscriber that does not answer stops getting messages, and the
        // heartbeats name the request it owes.
        let mut raw = client.subscribe("flow.out").await.unwrap();
        client.flush().await.unwrap();
        s.create_consumer(consumer::push::Config {
            deliver_subject: "flow.out".into(),
            flow_control: true,
            idle_heartbeat: Duration::from_millis(200),
            ..Default::default()
        })
        .await
        .unwrap();
        let mut data = 0;
        let mut request = None;
        let mut stalled = None;
        while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(3), raw.next()).await {
            match m.status.map(|s| s.as_u16()) {
                None => data += 1,
                Some(100) if m.reply.is_some() => request = m.reply.clone(),
                Some(100) => {
                    if let Some(h) = m
                        .headers
                        .as_ref()
                        .and_then(|h| h.get("Nats-Consumer-Stalled"))
                    {
                        stalled = Some(h.to_string());
                        break;
                    }
                }
                _ => {}
            }
        }
        let request = request.expect("a flow control request");
        assert!(data < 601, "delivery did not stop: {data}");
        assert_eq!(stalled.as_deref(), Some(request.as_str()));
        client.publish(request, "".into()).await.unwrap();
        while data < 601 {
            let m = tokio::time::timeout(Duration::from_secs(5), raw.next())
                .await
                .expect("delivery resumes after the answer")
                .unwrap();
            if m.status.is_none() {
                data += 1;
            } else if let Some(reply) = m.reply {
                client.publish(reply, "".into()).await.unwrap();
            }
        }
    }
    let server = start(BIN);
    let (client, js) = connect(&server).await;
    tokio::time::timeout(Duration::from_secs(60), case(&client, &js))
        .await
        .unwrap();
}

#[tokio::test]
async fn jsz_reports_usage_accounts_and_streams() {
    for binary in binaries() {
        let store = tempfile::tempdir().unwrap();
        let dir = store.path().join("store");
        let server = ServerProcess::builder(&binary)
            .config("http: \"127.0.0.1:-1\"\n")
            .args(&["-js", "-sd", dir.to_str().unwrap()])
            .start();
        let (_, js) = connect(&server).await;
        js.create_stream(stream::Config {
            name: "Z".into(),
            subjects: vec!["z".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        for _ in 0..3 {
            js.publish("z", "data".into()).await.unwrap().await.unwrap();
        }
        let (status, body) = server.http_get("/jsz?accounts=true&streams=true");
        assert_eq!(status, 200, "{binary}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (v["streams"].as_u64(), v["messages"].as_u64()),
            (Some(1), Some(3)),
            "{binary}: {v}"
        );
        assert!(v["storage"].as_u64().unwrap() > 0, "{binary}: {v}");
        assert!(
            v.get("disabled").is_none() || v["disabled"] == false,
            "{binary}: {v}"
        );
        let account = &v["account_details"][0];
        assert_eq!(account["name"], "$G", "{binary}: {v}");
        assert_eq!(account["stream_detail"][0]["name"], "Z", "{binary}: {v}");
        assert_eq!(
            account["stream_detail"][0]["state"]["messages"], 3,
            "{binary}: {v}"
        );
    }
}

/// Advisories heard on `events`, as (subject, body), until `done` says
/// they are all there (or 10 s passed).
async fn advisories_until(
    events: &mut async_nats::Subscriber,
    done: impl Fn(&[(String, serde_json::Value)]) -> bool,
) -> Vec<(String, serde_json::Value)> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done(&seen) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Ok(Some(e)) = tokio::time::timeout(left, events.next()).await else {
            break;
        };
        let body = serde_json::from_slice(&e.payload).unwrap();
        seen.push((e.subject.to_string(), body));
    }
    seen
}

#[tokio::test]
async fn pins_and_api_calls_are_announced() {
    async fn case(client: &async_nats::Client, js: &jetstream::Context) {
        let mut events = client.subscribe("$JS.EVENT.ADVISORY.>").await.unwrap();
        client.flush().await.unwrap();
        let s = js
            .create_stream(stream::Config {
                name: "ANN".into(),
                subjects: vec!["ann".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(js.get_stream("NOPE").await.is_err());
        for _ in 0..2 {
            js.publish("ann", "x".into()).await.unwrap().await.unwrap();
        }
        let _: consumer::PullConsumer = s
            .create_consumer(consumer::pull::Config {
                durable_name: Some("C".into()),
                ack_policy: consumer::AckPolicy::None,
                priority_policy: consumer::PriorityPolicy::PinnedClient,
                priority_groups: vec!["A".into()],
                priority_timeout: Duration::from_millis(500),
                ..Default::default()
            })
            .await
            .unwrap();
        let inbox = client.new_inbox();
        let mut answers = client.subscribe(inbox.clone()).await.unwrap();
        client
            .publish_with_reply(
                "$JS.API.CONSUMER.MSG.NEXT.ANN.C",
                inbox,
                r#"{"batch":1,"group":"A","expires":200000000}"#.into(),
            )
            .await
            .unwrap();
        let first = tokio::time::timeout(Duration::from_secs(5), answers.next())
            .await
            .unwrap()
            .unwrap();
        let pin = first
            .headers
            .unwrap()
            .get("Nats-Pin-Id")
            .unwrap()
            .to_string();
        // The pin lapses (no pull within the priority timeout), then the
        // group is unpinned by hand.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        s.unpin_consumer("C", "A").await.unwrap();
        // nats-server may send the call's audit before or after the advisory
        // the call made.
        let seen = advisories_until(&mut events, |seen| {
            seen.iter()
                .any(|(_, b)| b["subject"] == "$JS.API.CONSUMER.UNPIN.ANN.C")
                && seen.iter().any(|(_, b)| b["reason"] == "admin")
        })
        .await;
        let on = |subject: &str| -> Vec<&serde_json::Value> {
            seen.iter()
                .filter(|(s, _)| s == subject)
                .map(|(_, b)| b)
                .collect()
        };
        let pinned = on("$JS.EVENT.ADVISORY.CONSUMER.PINNED.ANN.C");
        assert_eq!(pinned.len(), 1, "{seen:?}");
        assert_eq!(
            pinned[0]["type"],
            "io.nats.jetstream.advisory.v1.consumer_group_pinned"
        );
        assert_eq!(
            (pinned[0]["account"].as_str(), pinned[0]["group"].as_str()),
            (Some("$G"), Some("A"))
        );
        assert_eq!(pinned[0]["pinned_id"].as_str(), Some(pin.as_str()));
        let unpinned: Vec<&str> = on("$JS.EVENT.ADVISORY.CONSUMER.UNPINNED.ANN.C")
            .iter()
            .map(|b| b["reason"].as_str().unwrap())
            .collect();
        assert_eq!(unpinned, ["timeout", "admin"], "{seen:?}");
        // Every API call is audited, its request and answer given whole.
        let audits = on("$JS.EVENT.ADVISORY.API");
        let audit_of = |subject: &str| {
            audits
                .iter()
                .find(|a| a["subject"] == subject)
                .unwrap_or_else(|| panic!("no audit of {subject} in {audits:?}"))
        };
        let create = audit_of("$JS.API.STREAM.CREATE.ANN");
        assert_eq!(create["type"], "io.nats.jetstream.advisory.v1.api_audit");
        assert_eq!(create["client"]["acc"], "$G");
        assert_eq!(create["client"]["kind"], "Client");
        assert_eq!(create["client"]["lang"], "rust");
        assert_eq!(create["client"]["server"], create["server"]);
        let request: serde_json::Value =
            serde_json::from_str(create["request"].as_str().unwrap()).unwrap();
        assert_eq!(request["name"], "ANN");
        let response: serde_json::Value =
            serde_json::from_str(create["response"].as_str().unwrap()).unwrap();
        assert_eq!(response["config"]["name"], "ANN");
        let missing = audit_of("$JS.API.STREAM.INFO.NOPE");
        let response: serde_json::Value =
            serde_json::from_str(missing["response"].as_str().unwrap()).unwrap();
        assert_eq!(response["error"]["err_code"], 10059);
        audit_of("$JS.API.CONSUMER.UNPIN.ANN.C");
        // Pull requests are not API calls.
        assert!(audits
            .iter()
            .all(|a| !a["subject"].as_str().unwrap().contains("MSG.NEXT")));
    }
    each_server!(case);
}

/// CPU time (user and system) the process used so far, from `/proc`
/// (which counts in hundredths of a second).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

#[tokio::test]
async fn a_pause_that_runs_out_is_announced_and_then_costs_nothing() {
    use gannet_server::jetstream::types::{now_nanos, rfc3339};
    for binary in binaries() {
        let server = start(&binary);
        let (client, js) = connect(&server).await;
        let mut events = client.subscribe("$JS.EVENT.ADVISORY.>").await.unwrap();
        client.flush().await.unwrap();
        let s = js
            .create_stream(stream::Config {
                name: "PAUSE".into(),
                subjects: vec!["pause".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        let _: consumer::PullConsumer = s
            .create_consumer(consumer::pull::Config {
                durable_name: Some("C".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let until = rfc3339(now_nanos() + 300_000_000);
        let answer = client
            .request(
                "$JS.API.CONSUMER.PAUSE.PAUSE.C",
                format!(r#"{{"pause_until":"{until}"}}"#).into(),
            )
            .await
            .unwrap();
        let answer: serde_json::Value = serde_json::from_slice(&answer.payload).unwrap();
        assert_eq!(answer["paused"], true, "{binary}: {answer}");
        let subject = "$JS.EVENT.ADVISORY.CONSUMER.PAUSE.PAUSE.C";
        let seen = advisories_until(&mut events, |seen| {
            seen.iter().filter(|(s, _)| s == subject).count() == 2
        })
        .await;
        let pauses: Vec<&serde_json::Value> = seen
            .iter()
            .filter(|(s, _)| s == subject)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(pauses.len(), 2, "{binary}: {seen:?}");
        assert_eq!(pauses[0]["paused"], true, "{binary}");
        assert_eq!(pauses[1]["paused"], false, "{binary}: {pauses:?}");
        for p in pauses {
            assert_eq!(p["type"], "io.nats.jetstream.advisory.v1.consumer_pause");
            assert_eq!(p["pause_until"].as_str(), Some(until.as_str()), "{binary}");
        }
        // Nothing is left to wait for: the server idles.
        let before = cpu_seconds(server.pid());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let used = cpu_seconds(server.pid()) - before;
        assert!(used < 0.3, "{binary}: {used} s of CPU in an idle second");
    }
}

#[tokio::test]
async fn stream_lists_count_every_acknowledged_message() {
    async fn case(client: &async_nats::Client, js: &jetstream::Context) {
        js.create_stream(stream::Config {
            name: "CNT".into(),
            subjects: vec!["cnt".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        // A list asked for right after an acknowledgement counts the message.
        for n in 1..=200u64 {
            js.publish("cnt", "x".into()).await.unwrap().await.unwrap();
            let list = client
                .request("$JS.API.STREAM.LIST", "{}".into())
                .await
                .unwrap();
            let list: serde_json::Value = serde_json::from_slice(&list.payload).unwrap();
            assert_eq!(list["streams"][0]["state"]["messages"], n, "{list}");
        }
    }
    each_server!(case);
}

#[tokio::test]
async fn direct_gets_come_in_batches() {
    async fn case(client: &async_nats::Client, js: &jetstream::Context) {
        js.create_stream(stream::Config {
            name: "DG".into(),
            subjects: vec!["dg.>".into()],
            allow_direct: true,
            ..Default::default()
        })
        .await
        .unwrap();
        for subject in ["dg.a", "dg.b", "dg.a", "dg.b", "dg.a"] {
            js.publish(subject, "x".into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
        // Every answer up to and including the end of the batch (or a 404):
        // (sequence or status, Nats-Num-Pending, Nats-Last-Sequence).
        let batch = |body: &'static str| async move {
            let inbox = client.new_inbox();
            let mut answers = client.subscribe(inbox.clone()).await.unwrap();
            client
                .publish_with_reply("$JS.API.DIRECT.GET.DG", inbox, body.into())
                .await
                .unwrap();
            let mut got = Vec::new();
            loop {
                let m = tokio::time::timeout(Duration::from_secs(5), answers.next())
                    .await
                    .unwrap()
                    .unwrap();
                let h = m.headers.clone().unwrap_or_default();
                let get = |name: &str| h.get(name).map(|v| v.to_string()).unwrap_or_default();
                let status = m.status.map(|s| s.as_u16());
                let what = match status {
                    Some(code) => code.to_string(),
                    None => get("Nats-Sequence"),
                };
                got.push((what, get("Nats-Num-Pending"), get("Nats-Last-Sequence")));
                if status.is_some() {
                    return got;
                }
            }
        };
        let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        assert_eq!(
            batch(r#"{"seq":1,"batch":3}"#).await,
            [
                s("1", "4", "0"),
                s("2", "3", "1"),
                s("3", "2", "2"),
                s("204", "2", "3")
            ]
        );
        assert_eq!(
            batch(r#"{"next_by_subj":"dg.b","batch":10}"#).await,
            [s("2", "1", "0"), s("4", "0", "2"), s("204", "0", "4")]
        );
        assert_eq!(
            batch(r#"{"seq":2,"batch":5,"max_bytes":1}"#).await,
            [s("2", "3", "0"), s("204", "3", "2")]
        );
        assert_eq!(batch(r#"{"seq":9,"batch":2}"#).await, [s("404", "", "")]);
    }
    each_server!(case);
}
