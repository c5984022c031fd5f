//! `gannet events`: the system account's advisories as natscli prints them —
//! connects, disconnects and authentication errors, one readable line each by
//! default, natscli's extended form (`--long`), `--short` and `--json` —
//! against Gannet and the reference nats-server.

mod common;

use std::collections::BTreeSet;

use common::*;
use gannet_test::reference::SEED_CONFIG;
use serde_json::Value;

const ADMIN: [&str; 4] = ["--user", "admin", "--password", "changeit"];

const LAST_ADVISORY: &str =
    "Listening for Authentication Errors events on $SYS.SERVER.*.CLIENT.AUTH.ERR";

/// `gannet events ARGS` as the system user, once it printed `listening`.
fn watch(server: &ServerProcess, args: &[&str], listening: Option<&str>) -> Running {
    let mut all = vec!["events"];
    all.extend_from_slice(args);
    let mut running = gannet(&all).server(&server.url()).args(&ADMIN).spawn();
    if let Some(line) = listening {
        running.expect_line(line);
    }
    running
}

#[test]
fn extended_form_shows_connects_and_disconnects() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let mut events = gannet(&["events", "--long"])
            .server(&server.url())
            .args(&ADMIN)
            .spawn();
        assert_eq!(
            events.next_line(),
            "Listening for Client Connection events on $SYS.ACCOUNT.*.CONNECT"
        );
        assert_eq!(
            events.next_line(),
            "Listening for Client Disconnection events on $SYS.ACCOUNT.*.DISCONNECT"
        );
        assert_eq!(
            events.next_line(),
            "Listening for Authentication Errors events on $SYS.SERVER.*.CLIENT.AUTH.ERR"
        );

        let client = RawNatsClient::connect(&server.addr(), "a", "a", "good-client").unwrap();
        // The first block about good-client: the watcher's own connection can be
        // announced after it subscribed (the reference sends events from a queue).
        let block = loop {
            // Blocks are separated by blank lines (the reference's events can
            // come close together: take the next title, whatever blank lines
            // come first).
            let title = loop {
                let line = events.next_line();
                if !line.is_empty() {
                    break line;
                }
            };
            assert!(
                title.starts_with('[') && title.ends_with("] Client Connection"),
                "{binary}: {title}"
            );
            let mut block = Vec::new();
            loop {
                let line = events.next_line();
                if line.contains("Client Type:") {
                    break;
                }
                block.push(line);
            }
            if block
                .iter()
                .any(|l| l == "               Name: good-client")
            {
                break block;
            }
        };
        assert_eq!(block[0], "");
        assert_eq!(block[1], "   Server: gannet-ref");
        for expected in [
            "               User: a",
            "               Name: good-client",
            "            Account: USERS",
            "    Library Version: 0.0.1  Language: test-raw",
            "               Host: 127.0.0.1",
            "        Client Kind: Client",
        ] {
            assert!(
                block.iter().any(|l| l == expected),
                "{binary}: {expected:?} in {block:#?}"
            );
        }

        drop(client);
        events.expect_line("] Client Disconnection");
        assert_eq!(events.next_line(), "");
        assert_eq!(events.next_line(), "    Reason: Client Closed");
        assert_eq!(events.next_line(), "    Server: gannet-ref");
        events.expect_line("               Name: good-client");
        events.expect_line("   Stats:");
        let rtt = events.next_line();
        assert!(
            rtt.starts_with("                  RTT: "),
            "{binary}: {rtt}"
        );
        assert_eq!(
            events.next_line(),
            "      Client Received: 0 messages (0 B)",
            "{binary}"
        );
        assert_eq!(
            events.next_line(),
            "     Client Published: 0 messages (0 B)",
            "{binary}"
        );
    }
}

#[test]
fn default_form_is_one_readable_line_per_event() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let mut events = watch(&server, &[], Some(LAST_ADVISORY));

        let client = RawNatsClient::connect(&server.addr(), "a", "a", "good-client").unwrap();
        // Not the watcher's own connect, which can come after it subscribed.
        let connect = events.expect_line(" name=\"good-client\"");
        assert!(
            connect.contains(" connect    gannet-ref account=USERS user=a cid="),
            "{binary}: {connect}"
        );
        assert!(
            connect.contains(" name=\"good-client\" host=127.0.0.1 lang=test-raw/0.0.1"),
            "{binary}: {connect}"
        );
        drop(client);
        let disconnect = events.expect_line(" disconnect ");
        assert!(
            disconnect.contains(" disconnect gannet-ref account=USERS user=a cid="),
            "{binary}: {disconnect}"
        );
        assert!(
            disconnect.contains(" reason=\"Client Closed\" sent=0 msgs/0 B received=0 msgs/0 B"),
            "{binary}: {disconnect}"
        );

        // A refused password: the identity it tried, and why.
        assert!(RawNatsClient::connect(&server.addr(), "a", "wrong", "bad-client").is_err());
        let refused = events.expect_line(" auth-error ");
        assert!(
            refused.contains(" auth-error gannet-ref account=$G user=a cid="),
            "{binary}: {refused}"
        );
        assert!(
            refused.contains(" name=\"bad-client\"")
                && refused.ends_with(" reason=\"Authentication Failure\""),
            "{binary}: {refused}"
        );
    }
}

#[test]
fn short_form_has_one_line_per_event_including_auth_errors() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let mut events = watch(&server, &["--short"], Some(LAST_ADVISORY));

        let client = RawNatsClient::connect(&server.addr(), "a", "a", "good-client").unwrap();
        // Not the watcher's own connect (user admin), which can come after it subscribed.
        let connect = events.expect_line("[Connection] user: a ");
        let cid: u64 = connect
            .split("cid: ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|cid| cid.parse().ok())
            .unwrap_or_else(|| panic!("{binary}: {connect}"));
        assert!(
            connect.ends_with(&format!(
                " [Connection] user: a cid: {cid} in account USERS"
            )),
            "{binary}: {connect}"
        );
        // natscli's compact time: HH:MM:SS.
        assert_eq!(
            connect.find(" [Connection]"),
            Some(8),
            "{binary}: {connect}"
        );
        drop(client);
        let disconnect = events.expect_line("[Disconnection]");
        assert!(
            disconnect.ends_with(&format!(
                "[Disconnection] user: a cid: {cid} in account USERS: Client Closed"
            )),
            "{binary}: {disconnect}"
        );

        let refused = RawNatsClient::connect(&server.addr(), "a", "wrong", "bad-client");
        assert!(refused.is_err());
        // AUTH.ERR and the $G disconnect, in either order.
        let mut seen = BTreeSet::new();
        while seen.len() < 2 {
            let line = events.next_line();
            if line.contains("[Authentication Error] user: a cid: ")
                && line.ends_with(" in account $G: Authentication Failure")
            {
                seen.insert("auth error");
            } else if line.contains("[Disconnection] user: a cid: ")
                && line.ends_with(" in account $G: Authentication Failure")
            {
                seen.insert("disconnect");
            } else {
                panic!("{binary}: unexpected {line:?}");
            }
        }
    }
}

#[test]
fn json_prints_the_events_as_sent() {
    for binary in all_server_binaries() {
        let server = start_monitored(&binary, Some(SEED_CONFIG));
        // Only events whose body mentions "wanted" pass the filter.
        let mut events = watch(&server, &["--json", "--filter", "wanted"], None);
        // --json prints no "Listening" lines: wait for the subscriptions.
        wait_for_subscriptions(&server, "$SYS.SERVER.*.CLIENT.AUTH.ERR", 1);
        let _other = RawNatsClient::connect(&server.addr(), "a", "a", "other-client").unwrap();
        let _wanted = RawNatsClient::connect(&server.addr(), "a", "a", "wanted-client").unwrap();
        let line = events.next_line();
        let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(
            event["type"], "io.nats.server.advisory.v1.client_connect",
            "{binary}"
        );
        assert_eq!(event["client"]["name"], "wanted-client", "{binary}");
        assert_eq!(event["client"]["acc"], "USERS");
        assert_eq!(event["server"]["name"], "gannet-ref");
    }
}

#[test]
fn statsz_events_on_request() {
    let server = start_server(Some(SEED_CONFIG));
    let mut events = watch(
        &server,
        &["--short", "--statsz", "--no-srv-advisory"],
        Some("Listening for Server Statistics events on $SYS.SERVER.*.STATSZ"),
    );
    let line = events.expect_line_within(
        "[Server Stats] gannet-ref Connections: ",
        std::time::Duration::from_secs(15),
    );
    assert!(
        line.contains(" Subscriptions: ") && line.contains(" Memory: ") && line.contains(" CPU: "),
        "{line}"
    );
}

#[test]
fn choosing_no_events_is_an_error() {
    let server = start_server(Some(SEED_CONFIG));
    let line = gannet(&["events", "--srv-advisory=false"])
        .server(&server.url())
        .args(&ADMIN)
        .run()
        .failure();
    assert!(line.ends_with("no events were chosen"), "{line}");
    let line = gannet(&["events", "--filter", "("])
        .server(&server.url())
        .args(&ADMIN)
        .run()
        .failure();
    assert!(line.contains("invalid body regular expression"), "{line}");
}
