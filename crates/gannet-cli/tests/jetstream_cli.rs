//! `gannet stream|consumer|kv|object` against a real server with JetStream
//! (`-js -sd DIR`), Gannet's and, where installed, nats-server 2.15: natscli's
//! reports and tables with the values the server holds, messages fetched and
//! acknowledged, key-value history and watches, a file of a few hundred KiB
//! through the object store byte for byte, and the one-line errors of the
//! JetStream API.

mod common;

use common::*;
use gannet_test::with_reference;

/// Every server the JetStream tests run against, each with JetStream on.
fn jetstream_servers() -> Vec<ServerProcess> {
    with_reference(&server_binary())
        .iter()
        .map(|binary| start_jetstream(binary))
        .collect()
}

/// `gannet ARGS` against `server`, which must succeed; its stdout.
fn ok(server: &ServerProcess, args: &[&str]) -> String {
    let run = gannet_at(&server.url(), args);
    let stdout = run.success();
    assert!(
        run.stderr().is_empty(),
        "{args:?} wrote to stderr:\n{}",
        run.stderr()
    );
    stdout
}

/// `gannet ARGS` against `server`, which must fail; its error line.
fn fails(server: &ServerProcess, args: &[&str]) -> String {
    gannet_at(&server.url(), args).failure()
}

/// Publishes to a stream and waits for its acknowledgement (a request, so
/// the message is stored before the test goes on).
fn store(server: &ServerProcess, subject: &str, body: &str) {
    let reply = ok(server, &["request", subject, body, "--raw"]);
    assert!(reply.contains("\"seq\":"), "not stored: {reply}");
}

/// The labelled value of a columns report: `Messages: 3` → `3`.
fn value<'a>(report: &'a str, label: &str) -> &'a str {
    let wanted = format!("{label}: ");
    report
        .lines()
        .find_map(|line| line.trim_start().strip_prefix(wanted.as_str()))
        .unwrap_or_else(|| panic!("no {label:?} in:\n{report}"))
}

/// The cells of the table row whose first cell is `first`.
fn row(table: &str, first: &str) -> Vec<String> {
    table
        .lines()
        .filter(|line| line.starts_with('│'))
        .map(|line| {
            line.trim_matches('│')
                .split('│')
                .map(|cell| cell.trim().to_string())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first().is_some_and(|cell| cell == first))
        .unwrap_or_else(|| panic!("no row {first:?} in:\n{table}"))
}

#[test]
fn streams_are_added_inspected_listed_read_purged_and_removed() {
    for server in jetstream_servers() {
        let added = ok(
            &server,
            &[
                "stream",
                "add",
                "ORDERS",
                "--subjects",
                "orders.>",
                "--storage",
                "memory",
                "--max-msgs",
                "100",
                "--max-age",
                "1h",
                "--description",
                "all orders",
            ],
        );
        assert!(
            added
                .starts_with("Stream ORDERS was created\n\nInformation for Stream ORDERS created "),
            "{added}"
        );
        assert_eq!(value(&added, "Subjects"), "orders.>");
        assert_eq!(value(&added, "Description"), "all orders");
        assert_eq!(value(&added, "Storage"), "Memory");
        assert_eq!(value(&added, "Retention"), "Limits");
        assert_eq!(value(&added, "Discard Policy"), "Old");
        assert_eq!(value(&added, "Duplicate Window"), "2m0s");
        assert_eq!(value(&added, "Maximum Messages"), "100");
        assert_eq!(value(&added, "Maximum Bytes"), "unlimited");
        assert_eq!(value(&added, "Maximum Age"), "1h0m0s");
        assert_eq!(value(&added, "Messages"), "0");
        for title in ["Options:", "Limits:", "State:"] {
            assert!(added.contains(&format!("\n\n{title}\n\n")), "{added}");
        }

        store(&server, "orders.new", "one");
        store(&server, "orders.new", "two");
        store(&server, "orders.old", "three");
        let info = ok(&server, &["stream", "info", "ORDERS"]);
        assert!(info.starts_with("Information for Stream ORDERS created "));
        assert_eq!(value(&info, "Messages"), "3");
        assert!(
            value(&info, "First Sequence").starts_with("1 @ 20"),
            "{info}"
        );
        assert!(
            value(&info, "Last Sequence").starts_with("3 @ 20"),
            "{info}"
        );
        assert_eq!(value(&info, "Number of Subjects"), "2");
        assert!(
            info.ends_with("\n\n"),
            "natscli ends info with a blank line"
        );

        let table = ok(&server, &["stream", "ls"]);
        assert!(table.contains("│ Name "), "{table}");
        let cells = row(&table, "ORDERS");
        assert_eq!(cells[1], "all orders");
        assert_eq!(cells[3], "3");
        assert!(cells[4].ends_with(" B"), "{cells:?}");
        assert_eq!(ok(&server, &["stream", "ls", "--names"]), "ORDERS\n");

        let got = ok(&server, &["stream", "get", "ORDERS", "2"]);
        let (first, body) = got.split_once("\n\n").unwrap();
        assert!(first.starts_with("Item: ORDERS#2 received 20"), "{got}");
        assert!(first.contains(" +0000 UTC ("), "{got}");
        assert!(first.ends_with(" on Subject orders.new"), "{got}");
        assert_eq!(body, "two\n\n\n");
        let last = ok(
            &server,
            &["stream", "get", "ORDERS", "--last-for", "orders.old"],
        );
        assert!(last.starts_with("Item: ORDERS#3 "), "{last}");

        ok(&server, &["stream", "rmm", "ORDERS", "2", "-f"]);
        let info = ok(&server, &["stream", "info", "ORDERS"]);
        assert_eq!(value(&info, "Messages"), "2");
        assert_eq!(value(&info, "Deleted Messages"), "1");
        assert_eq!(
            fails(&server, &["stream", "get", "ORDERS", "2"]),
            "gannet: error: could not retrieve ORDERS#2: no message found (10037)"
        );

        assert!(fails(&server, &["stream", "purge", "ORDERS"]).contains("--force"));
        let purged = ok(
            &server,
            &["stream", "purge", "ORDERS", "-f", "--subject", "orders.new"],
        );
        assert!(
            purged.starts_with("Purged 1 messages from ORDERS\n\nState for Stream ORDERS created "),
            "{purged}"
        );
        assert_eq!(value(&purged, "Messages"), "1");
        assert!(!purged.contains("Options:"), "{purged}");

        assert!(fails(&server, &["stream", "rm", "ORDERS"]).contains("--force"));
        assert_eq!(ok(&server, &["stream", "rm", "ORDERS", "-f"]), "");
        assert_eq!(
            fails(&server, &["stream", "info", "ORDERS"]),
            "gannet: error: could not request Stream info: stream not found (10059)"
        );
        assert_eq!(ok(&server, &["stream", "ls"]), "No Streams defined\n");
    }
}

#[test]
fn stream_add_needs_a_name_and_subjects_and_checks_values() {
    // Refused before connecting: no server needed.
    let line = gannet(&["stream", "add", "S"]).run().failure();
    assert!(line.contains("at least one subject is required"), "{line}");
    let line = gannet(&["stream", "add", "--subjects", "a"])
        .run()
        .failure();
    assert!(line.contains("a stream name is required"), "{line}");
    let line = gannet(&[
        "stream",
        "add",
        "S",
        "--subjects",
        "a",
        "--max-bytes",
        "lots",
    ])
    .run()
    .failure();
    assert!(line.contains("invalid bytes specification lots"), "{line}");
    let line = gannet(&["stream", "add", "a.b", "--subjects", "a"])
        .run()
        .failure();
    assert!(line.contains("invalid stream name"), "{line}");
}

#[test]
fn pull_consumers_deliver_acknowledge_and_report() {
    for server in jetstream_servers() {
        ok(&server, &["stream", "add", "S", "--subjects", "s.>"]);
        store(&server, "s.a", "one");
        store(&server, "s.b", "two");

        let added = ok(
            &server,
            &[
                "consumer",
                "add",
                "S",
                "C",
                "--pull",
                "--filter",
                "s.>",
                "--max-deliver",
                "5",
            ],
        );
        assert!(
            added.starts_with("Information for Consumer S > C created "),
            "{added}"
        );
        assert_eq!(value(&added, "Name"), "C");
        assert_eq!(value(&added, "Pull Mode"), "true");
        assert_eq!(value(&added, "Filter Subject"), "s.>");
        assert_eq!(value(&added, "Deliver Policy"), "All");
        assert_eq!(value(&added, "Ack Policy"), "Explicit");
        assert_eq!(value(&added, "Ack Wait"), "30.00s");
        assert_eq!(value(&added, "Maximum Deliveries"), "5");
        assert_eq!(value(&added, "Unprocessed Messages"), "2");

        let next = ok(&server, &["consumer", "next", "S", "C", "--count", "2"]);
        let lines: Vec<&str> = next.lines().collect();
        assert!(
            shape_matches(
                lines[0],
                "[{n}:{n}:{n}] subj: s.a / tries: 1 / cons seq: 1 / str seq: 1 / pending: 1"
            ),
            "{next}"
        );
        assert_eq!(&lines[1..6], ["", "one", "", "Acknowledged message", ""]);
        assert!(lines[6].ends_with("subj: s.b / tries: 1 / cons seq: 2 / str seq: 2 / pending: 0"));
        assert_eq!(lines[8], "two");

        let info = ok(&server, &["consumer", "info", "S", "C"]);
        assert!(
            value(&info, "Last Delivered Message")
                .starts_with("Consumer sequence: 2 Stream sequence: 2 Last delivery: "),
            "{info}"
        );
        assert!(
            value(&info, "Acknowledgment Floor")
                .starts_with("Consumer sequence: 2 Stream sequence: 2"),
            "{info}"
        );
        assert_eq!(value(&info, "Outstanding Acks"), "0 out of maximum 1,000");
        assert_eq!(value(&info, "Unprocessed Messages"), "0");

        store(&server, "s.c", "three");
        let next = ok(&server, &["consumer", "next", "S", "C", "--no-ack"]);
        assert!(
            next.contains("subj: s.c / tries: 1 / cons seq: 3 / str seq: 3"),
            "{next}"
        );
        assert!(!next.contains("Acknowledged"), "{next}");
        let info = ok(&server, &["consumer", "info", "S", "C"]);
        assert_eq!(value(&info, "Outstanding Acks"), "1 out of maximum 1,000");

        // --raw: the body only (and the message acknowledged silently).
        store(&server, "s.d", "four");
        assert_eq!(
            ok(&server, &["consumer", "next", "S", "C", "--raw"]),
            "four\n"
        );

        let table = ok(&server, &["consumer", "ls", "S"]);
        let cells = row(&table, "C");
        assert_eq!(cells[3], "1", "ack pending: {table}");
        assert_eq!(ok(&server, &["consumer", "ls", "S", "--names"]), "C\n");

        let line = fails(
            &server,
            &["consumer", "next", "S", "C", "--timeout", "300ms"],
        );
        assert_eq!(line, "gannet: error: no message received: nats: timeout");

        assert!(fails(&server, &["consumer", "rm", "S", "C"]).contains("--force"));
        assert_eq!(ok(&server, &["consumer", "rm", "S", "C", "-f"]), "");
        assert_eq!(
            fails(&server, &["consumer", "info", "S", "C"]),
            "gannet: error: could not load Consumer S > C: consumer not found (10014)"
        );
        assert_eq!(
            ok(&server, &["consumer", "ls", "S"]),
            "No Consumers defined\n"
        );
    }
}

#[test]
fn push_consumers_are_not_pulled() {
    for server in jetstream_servers() {
        ok(&server, &["stream", "add", "P", "--subjects", "p.>"]);
        let added = ok(
            &server,
            &["consumer", "add", "P", "PUSH", "--target", "out.p"],
        );
        assert_eq!(value(&added, "Delivery Subject"), "out.p");
        assert_eq!(value(&added, "Ack Policy"), "None");
        assert_eq!(value(&added, "Active Interest"), "No interest");
        let line = fails(
            &server,
            &["consumer", "next", "P", "PUSH", "--timeout", "1s"],
        );
        assert_eq!(
            line,
            "gannet: error: consumer \"PUSH\" is not a Pull consumer"
        );
        let line = fails(
            &server,
            &["consumer", "next", "P", "NONE", "--timeout", "1s"],
        );
        assert_eq!(
            line,
            "gannet: error: could not load consumer \"NONE\": consumer not found (10014)"
        );
    }
}

#[test]
fn key_value_buckets_keep_history_and_list_keys() {
    for server in jetstream_servers() {
        let added = ok(&server, &["kv", "add", "CFG", "--history", "5"]);
        assert!(
            added.starts_with("Information for Key-Value Store Bucket CFG created "),
            "{added}"
        );
        assert_eq!(value(&added, "Bucket Name"), "CFG");
        assert_eq!(value(&added, "History Kept"), "5");
        assert_eq!(value(&added, "Values Stored"), "0");
        assert_eq!(value(&added, "Backing Store Kind"), "JetStream");
        assert_eq!(value(&added, "JetStream Stream"), "KV_CFG");

        assert_eq!(ok(&server, &["kv", "put", "CFG", "db.url", "one"]), "one\n");
        assert_eq!(ok(&server, &["kv", "put", "CFG", "db.url", "two"]), "two\n");
        ok(&server, &["kv", "put", "CFG", "name", "gannet"]);

        let got = ok(&server, &["kv", "get", "CFG", "db.url"]);
        let lines: Vec<&str> = got.lines().collect();
        assert!(
            shape_matches(
                lines[0],
                "CFG > db.url revision: 2 created @ {n}-{n}-{n} {n}:{n}:{n}"
            ),
            "{got}"
        );
        assert_eq!(&lines[1..], ["", "two", ""]);
        assert_eq!(ok(&server, &["kv", "get", "CFG", "db.url", "--raw"]), "two");
        assert_eq!(
            ok(
                &server,
                &["kv", "get", "CFG", "db.url", "--revision", "1", "--raw"]
            ),
            "one"
        );

        let history = ok(&server, &["kv", "history", "CFG", "db.url"]);
        assert!(history.contains("History for CFG > db.url"), "{history}");
        let first = row(&history, "db.url");
        assert_eq!(
            (
                first[1].as_str(),
                first[2].as_str(),
                first[4].as_str(),
                first[5].as_str()
            ),
            ("1", "PUT", "3", "one")
        );

        let mut keys: Vec<String> = ok(&server, &["kv", "ls", "CFG"])
            .lines()
            .map(str::to_string)
            .collect();
        keys.sort();
        assert_eq!(keys, ["db.url", "name"]);
        assert_eq!(ok(&server, &["kv", "ls", "--names"]), "CFG\n");
        let buckets = ok(&server, &["kv", "ls"]);
        assert_eq!(row(&buckets, "CFG")[4], "3", "values: {buckets}");
        // A bucket's stream shows with -a only.
        assert_eq!(
            ok(&server, &["stream", "ls"]),
            "No Streams defined, pass -a to include system streams\n"
        );
        assert_eq!(ok(&server, &["stream", "ls", "-a", "--names"]), "KV_CFG\n");

        assert!(fails(&server, &["kv", "del", "CFG", "db.url"]).contains("--force"));
        ok(&server, &["kv", "del", "CFG", "db.url", "-f"]);
        assert_eq!(
            fails(&server, &["kv", "get", "CFG", "db.url"]),
            "gannet: error: key not found"
        );
        let history = ok(&server, &["kv", "history", "CFG", "db.url"]);
        assert!(history.contains("│ DELETE │"), "{history}");
        ok(&server, &["kv", "purge", "CFG", "name", "-f"]);
        assert_eq!(
            ok(&server, &["kv", "ls", "CFG"]),
            "No keys found in bucket\n"
        );

        let info = ok(&server, &["kv", "info", "CFG"]);
        assert_eq!(value(&info, "History Kept"), "5");

        assert_eq!(ok(&server, &["kv", "rm", "CFG", "-f"]), "");
        assert_eq!(
            fails(&server, &["kv", "info", "CFG"]),
            "gannet: error: bucket not found"
        );
        assert_eq!(
            fails(&server, &["kv", "get", "CFG", "x"]),
            "gannet: error: bucket not found"
        );
        assert_eq!(ok(&server, &["kv", "ls"]), "No Key-Value buckets found\n");
    }
}

#[test]
fn kv_watch_prints_each_change() {
    for server in jetstream_servers() {
        ok(&server, &["kv", "add", "W"]);
        ok(&server, &["kv", "put", "W", "k", "v1"]);
        let mut watch = gannet(&["kv", "watch", "W"]).server(&server.url()).spawn();
        let line = watch.expect_line("PUT W > k: v1");
        assert!(
            shape_matches(&line, "[{n}-{n}-{n} {n}:{n}:{n}] PUT W > k: v1"),
            "{line}"
        );
        ok(&server, &["kv", "put", "W", "k", "v2"]);
        watch.expect_line("PUT W > k: v2");
        ok(&server, &["kv", "del", "W", "k", "-f"]);
        let line = watch.expect_line("DELETE W > k");
        assert!(line.ends_with("] DELETE W > k"), "{line}");
    }
}

/// A few hundred KiB that are not all alike.
fn blob(size: usize) -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
fn objects_go_in_and_come_out_byte_for_byte() {
    let data = blob(300 * 1024);
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source.bin");
    std::fs::write(&source, &data).unwrap();
    let source = source.to_string_lossy().into_owned();
    for server in jetstream_servers() {
        let out = tempfile::tempdir().unwrap();
        let added = ok(&server, &["object", "add", "FILES"]);
        assert!(
            added.starts_with("Information for Object Store Bucket FILES created "),
            "{added}"
        );
        assert_eq!(value(&added, "Sealed"), "false");
        assert_eq!(value(&added, "JetStream Stream"), "OBJ_FILES");

        let put = ok(
            &server,
            &["object", "put", "FILES", &source, "--name", "blob.bin"],
        );
        assert!(
            put.starts_with("\nObject information for FILES > blob.bin\n\n"),
            "{put}"
        );
        assert_eq!(value(&put, "Size"), "300 KiB");
        assert_eq!(value(&put, "Chunks"), "3");
        let digest = value(&put, "Digest").to_string();
        let hex = digest.strip_prefix("SHA-256 ").unwrap_or_default();
        assert_eq!(hex.len(), 64, "{digest}");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{digest}");
        // The same object again needs --force.
        let refused = gannet_at(
            &server.url(),
            &["object", "put", "FILES", &source, "--name", "blob.bin"],
        );
        assert!(refused.failure().contains("--force"));

        let run = gannet(&["object", "get", "FILES", "blob.bin"])
            .server(&server.url())
            .current_dir(out.path())
            .run();
        let wrote = run.success();
        let target = out.path().join("blob.bin");
        assert!(
            wrote.starts_with(&format!("Wrote: 300 KiB to {} in ", target.display())),
            "{wrote}"
        );
        assert!(std::fs::read(&target).unwrap() == data, "bytes differ");
        let again = gannet(&["object", "get", "FILES", "blob.bin"])
            .server(&server.url())
            .current_dir(out.path())
            .run();
        assert!(again.failure().contains("--force"));
        let other = out.path().join("other.bin");
        ok(
            &server,
            &[
                "object",
                "get",
                "FILES",
                "blob.bin",
                "-O",
                other.to_str().unwrap(),
            ],
        );
        assert!(std::fs::read(&other).unwrap() == data, "bytes differ");

        let listing = ok(&server, &["object", "ls", "FILES"]);
        assert!(listing.contains("Bucket Contents"), "{listing}");
        assert_eq!(row(&listing, "blob.bin")[1], "300 KiB");
        assert_eq!(ok(&server, &["object", "ls", "--names"]), "FILES\n");
        let info = ok(&server, &["object", "info", "FILES", "blob.bin"]);
        assert_eq!(value(&info, "Digest"), digest);

        let removed = ok(&server, &["object", "rm", "FILES", "blob.bin", "-f"]);
        assert!(
            removed
                .starts_with("Removed FILES > blob.bin\nInformation for Object Store Bucket FILES"),
            "{removed}"
        );
        assert_eq!(
            ok(&server, &["object", "ls", "FILES"]),
            "No entries found\n"
        );
        assert_eq!(ok(&server, &["object", "rm", "FILES", "-f"]), "");
        assert_eq!(
            ok(&server, &["object", "ls"]),
            "No Object Store buckets found\n"
        );
    }
}

#[test]
fn without_jetstream_the_error_says_so() {
    for binary in with_reference(&server_binary()) {
        let server = start_binary(&binary, None);
        let line = fails(&server, &["stream", "ls"]);
        assert!(line.contains("JetStream not enabled"), "{line}");
    }
}
