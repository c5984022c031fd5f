//! `gannet server ...`: ping, list, info, report, request and check, run as
//! the system user against Gannet (and the reference nats-server where the
//! view does not depend on Gannet-only numbers), checking natscli's layouts
//! and the values the server reports.

mod common;

use common::*;
use gannet_test::reference::SEED_CONFIG;
use serde_json::Value;

const ADMIN: [&str; 4] = ["--user", "admin", "--password", "changeit"];

fn admin(server: &ServerProcess, args: &[&str]) -> Finished {
    gannet(args).server(&server.url()).args(&ADMIN).run()
}

/// The cells of a table row (`│ a │ b │` → `["a", "b"]`).
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('│').trim_end_matches('│');
    inner.split('│').map(|c| c.trim().to_string()).collect()
}

/// The table row whose first cell is `first`.
fn row_starting(text: &str, first: &str) -> Vec<String> {
    text.lines()
        .map(cells)
        .find(|c| c.first().map(String::as_str) == Some(first))
        .unwrap_or_else(|| panic!("no row starting {first:?} in\n{text}"))
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

#[test]
fn ping_prints_each_server_and_the_statistics() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let out = admin(&server, &["server", "ping"]).success();
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("gannet-ref "), "{binary}: {out}");
        // natscli pads the name to 60 columns before the RTT.
        assert_eq!(lines[0].find("rtt="), Some(61), "{binary}: {out}");
        assert_eq!(lines[1], "");
        assert_eq!(lines[2], "---- ping statistics ----");
        let stats: Vec<&str> = lines[3].split_whitespace().collect();
        assert_eq!(&stats[..3], ["1", "replies", "max:"], "{binary}: {out}");
        for value in [stats[3], stats[5], stats[7]] {
            value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("{binary}: {out}"));
        }
        assert_eq!(lines.len(), 4, "{binary}: {out}");

        let out = admin(
            &server,
            &["server", "ping", "--id", "-n", "2", "--timeout", "1s"],
        )
        .success();
        let first = out.lines().next().unwrap();
        let id = first.split(' ').next().unwrap();
        assert!(id.len() == 56 && id.starts_with('N'), "{binary}: {out}");
        assert!(first.contains(" gannet-ref "), "{binary}: {out}");
        assert!(out.ends_with("\nMissing 1 server(s)\n"), "{binary}: {out}");
    }
}

#[test]
fn system_views_refuse_a_normal_account() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let user = |args: &[&str]| {
            gannet(args)
                .server(&server.url())
                .args(&["--user", "a", "--password", "a", "--timeout", "2s"])
                .run()
        };
        let line = user(&["server", "ping"]).failure();
        assert!(
            line.contains("503 status from $SYS.REQ.SERVER.PING, ensure a system account is used"),
            "{binary}: {line}"
        );
        let line = user(&["server", "list"]).failure();
        assert!(
            line.contains("ensure the account used has system privileges"),
            "{binary}: {line}"
        );
        let line = user(&["server", "info"]).failure();
        assert!(line.contains("no results received"), "{binary}: {line}");
        let line = user(&["server", "request", "varz"]).failure();
        assert!(
            line.contains("ensure the account used has system privileges"),
            "{binary}: {line}"
        );
    }
}

#[test]
fn list_shows_the_server_overview() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let _worker = RawNatsClient::connect(&server.addr(), "a", "a", "worker").unwrap();
        let out = admin(&server, &["server", "list"]).success();
        assert!(
            out.lines().nth(1).unwrap().contains("Server Overview"),
            "{binary}:\n{out}"
        );
        assert_eq!(
            row_starting(&out, "Name"),
            [
                "Name", "Cluster", "Host", "Version", "JS", "Conns", "Subs", "Routes", "GWs",
                "Mem", "CPU %", "Cores", "Slow", "Uptime", "RTT"
            ]
        );
        let row = row_starting(&out, "gannet-ref");
        assert_eq!(row[2], "127.0.0.1", "{binary}:\n{out}");
        assert_eq!(row[4], "no", "{binary}:\n{out}");
        // The worker and this command.
        assert_eq!(row[5], "2", "{binary}:\n{out}");
        row[6].replace(',', "").parse::<u64>().unwrap();
        assert_eq!((row[7].as_str(), row[8].as_str()), ("0", "0"));
        assert!(
            row[9].ends_with("iB") || row[9].ends_with(" B"),
            "{binary}:\n{out}"
        );
        row[10].parse::<u64>().unwrap();
        assert!(row[11].parse::<u64>().unwrap() >= 1);
        assert!(row[13].ends_with('s'), "{binary}:\n{out}");
        assert!(row[14].ends_with('s'), "{binary}:\n{out}");
        // Footer: no cluster, one server, totals.
        let footer = cells(out.lines().rev().nth(1).unwrap());
        assert_eq!(
            &footer[..6],
            ["", "0", "1", "", "0", "2"],
            "{binary}:\n{out}"
        );

        let out = admin(&server, &["server", "list", "--json"]).success();
        let list: Value = serde_json::from_str(&out).unwrap();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["server"]["name"], "gannet-ref");
        assert_eq!(list[0]["statsz"]["connections"], 2);

        let sorted = admin(&server, &["server", "ls", "--sort", "name", "-R", "1"]).success();
        assert!(sorted.contains("│ gannet-ref "), "{binary}:\n{sorted}");
    }
}

#[test]
fn info_lays_out_varz_in_sections() {
    let server = start_server(Some(SEED_CONFIG));
    let id = {
        let out = admin(&server, &["server", "request", "idz"]).success();
        json_lines(&out)[0]["id"].as_str().unwrap().to_string()
    };
    for wanted in ["", "gannet-ref", id.as_str()] {
        let args: Vec<&str> = ["server", "info"]
            .into_iter()
            .chain((!wanted.is_empty()).then_some(wanted))
            .collect();
        let out = admin(&server, &args).success();
        assert!(
            out.starts_with(&format!("Server information for gannet-ref ({id})\n\n")),
            "{out}"
        );
        for section in [
            "Process Details:",
            "Connection Details:",
            "Limits:",
            "Statistics:",
        ] {
            assert!(
                out.lines().any(|l| l == section),
                "{section} missing:\n{out}"
            );
        }
        let value = |label: &str| {
            out.lines()
                .find_map(|l| l.trim_start().strip_prefix(&format!("{label}: ")))
                .unwrap_or_else(|| panic!("no {label} in\n{out}"))
                .to_string()
        };
        assert_eq!(value("Version"), "2.15.0");
        assert_eq!(value("Auth Required"), "true");
        assert_eq!(value("Host"), format!("127.0.0.1:{}", server.port));
        assert_eq!(value("Maximum Payload"), "1.0 MiB");
        assert_eq!(value("Connections"), "1");
        assert!(value("Messages").ends_with(" out"), "{out}");
        // Labels are right-aligned on their colons.
        let colon = out
            .lines()
            .find(|l| l.contains("Version: "))
            .unwrap()
            .find(':');
        assert_eq!(
            out.lines()
                .find(|l| l.contains("Uptime: "))
                .unwrap()
                .find(':'),
            colon
        );
    }
    let line = gannet(&["server", "info", "nope"])
        .server(&server.url())
        .args(&ADMIN)
        .args(&["--timeout", "500ms"])
        .run()
        .failure();
    assert!(line.contains("no server named \"nope\" answered"), "{line}");
}

#[test]
fn request_prints_one_json_line_per_server() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let out = admin(&server, &["server", "request", "varz"]).success();
        let replies = json_lines(&out);
        assert_eq!(replies.len(), 1, "{binary}: {out}");
        assert_eq!(replies[0]["server"]["name"], "gannet-ref");
        assert_eq!(replies[0]["data"]["server_name"], "gannet-ref");
        assert_eq!(replies[0]["data"]["port"], server.port);
        // Key order is the server's.
        assert!(
            out.starts_with("{\"server\":{\"name\":\"gannet-ref\""),
            "{binary}: {out}"
        );

        let id = replies[0]["server"]["id"].as_str().unwrap().to_string();
        let out = admin(&server, &["server", "request", "variables", &id]).success();
        assert_eq!(json_lines(&out)[0]["data"]["server_id"], id.as_str());
    }
}

#[test]
fn request_endpoints_take_natscli_options() {
    let server = start_server(Some(SEED_CONFIG));
    let mut worker = RawNatsClient::connect(&server.addr(), "a", "a", "worker").unwrap();
    worker.send("SUB orders.> 1\r\n").unwrap();
    let request = |args: &[&str]| {
        let mut all = vec!["server", "request"];
        all.extend_from_slice(args);
        let out = admin(&server, &all).success();
        let replies = json_lines(&out);
        assert_eq!(replies.len(), 1, "{args:?}: {out}");
        replies.into_iter().next().unwrap()
    };

    let connz = request(&["connz", "--filter-account", "USERS", "--subscriptions"]);
    let conns = connz["data"]["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "{connz}");
    assert_eq!(conns[0]["name"], "worker");
    assert_eq!(conns[0]["account"], "USERS");
    assert_eq!(conns[0]["authorized_user"], "a");
    let detail = conns[0]["subscriptions_list_detail"].as_array().unwrap();
    assert_eq!(detail[0]["subject"], "orders.>");

    let connz = request(&["connections", "--limit", "1", "--sort", "cid"]);
    assert_eq!(connz["data"]["limit"], 1);
    assert_eq!(connz["data"]["connections"].as_array().unwrap().len(), 1);

    let subsz = request(&["subsz", "--detail", "--filter-account", "USERS"]);
    let subs = subsz["data"]["subscriptions_list"].as_array().unwrap();
    assert!(subs.iter().any(|s| s["subject"] == "orders.>"), "{subsz}");

    let accountz = request(&["accounts"]);
    let accounts = accountz["data"]["accounts"].as_array().unwrap();
    assert!(accounts.iter().any(|a| a == "USERS"), "{accountz}");
    let accountz = request(&["accountz", "--account", "USERS"]);
    assert_eq!(
        accountz["data"]["account_detail"]["account_name"], "USERS",
        "{accountz}"
    );

    assert_eq!(request(&["jetstream-health"])["data"]["status"], "ok");
    assert_eq!(request(&["routez"])["data"]["num_routes"], 0);
    assert!(request(&["leafz"])["data"]["leafnodes"].is_number());
    assert!(request(&["gatewayz"])["data"]["server_id"].is_string());
    assert!(request(&["jsz"])["data"].is_object());
    assert_eq!(request(&["statsz"])["statsz"]["active_servers"], 1);
    assert_eq!(request(&["idz"])["name"], "gannet-ref");
    assert_eq!(
        request(&["varz", "--name", "gannet-ref"])["data"]["server_name"],
        "gannet-ref"
    );

    // Only servers with connections of the account, with --filter-empty.
    let out = admin(
        &server,
        &[
            "server",
            "request",
            "connz",
            "--filter-account",
            "NOBODY",
            "--filter-empty",
        ],
    )
    .success();
    assert_eq!(out, "");

    let line = admin(&server, &["server", "request", "varz", "not-an-id"]).failure();
    assert!(
        line.contains("neither a number of responses to wait for nor a server ID"),
        "{line}"
    );
}

#[test]
fn report_connections_shows_the_top_connections() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let mut busy = RawNatsClient::connect(&server.addr(), "a", "a", "busy-worker").unwrap();
        busy.send("SUB a 1\r\nSUB b 2\r\nPUB x 5\r\nhello\r\nPUB x 5\r\nhello\r\n")
            .unwrap();
        let _idle = RawNatsClient::connect(&server.addr(), "a", "a", "idle-worker").unwrap();

        let out = admin(&server, &["server", "report", "connections"]).success();
        assert!(
            out.contains("Top 3 Connections out of 3 by subs"),
            "{binary}:\n{out}"
        );
        assert_eq!(
            row_starting(&out, "CID"),
            [
                "CID",
                "Name",
                "Server",
                "Cluster",
                "IP",
                "Account",
                "Uptime",
                "In Msgs",
                "Out Msgs",
                "In Bytes",
                "Out Bytes",
                "Subs"
            ]
        );
        let busy_row = out
            .lines()
            .map(cells)
            .find(|c| c.get(1).map(String::as_str) == Some("busy-worker"))
            .unwrap_or_else(|| panic!("{binary}:\n{out}"));
        assert_eq!(busy_row[2], "gannet-ref");
        assert!(busy_row[4].starts_with("127.0.0.1:"), "{binary}:\n{out}");
        assert_eq!(busy_row[5], "USERS");
        assert_eq!(busy_row[7], "2", "{binary}:\n{out}");
        assert_eq!(busy_row[9], "10 B", "{binary}:\n{out}");
        assert_eq!(busy_row[11], "2", "{binary}:\n{out}");
        // Ascending by subscriptions: the busy worker comes last.
        let names: Vec<String> = out
            .lines()
            .map(cells)
            .filter(|c| c.len() == 12 && c[0].parse::<u64>().is_ok())
            .map(|c| c[1].clone())
            .collect();
        assert_eq!(
            names.last().map(String::as_str),
            Some("busy-worker"),
            "{binary}:\n{out}"
        );
        assert!(out.contains("Totals for 3 connections"), "{binary}:\n{out}");
        assert!(out.contains("Connections per server"), "{binary}:\n{out}");
        assert_eq!(row_starting(&out, "gannet-ref"), ["gannet-ref", "", "3"]);

        let out = admin(
            &server,
            &[
                "server",
                "report",
                "conns",
                "--account",
                "USERS",
                "--top",
                "1",
                "--sort",
                "in-msgs",
            ],
        )
        .success();
        assert!(
            out.contains("Top 1 Connections out of 2 by in-msgs"),
            "{binary}:\n{out}"
        );
        assert!(out.contains("│ busy-worker "), "{binary}:\n{out}");
        assert!(!out.contains("idle-worker"), "{binary}:\n{out}");

        let out = admin(
            &server,
            &[
                "server",
                "report",
                "connections",
                "--json",
                "--account",
                "USERS",
            ],
        )
        .success();
        let list: Value = serde_json::from_str(&out).unwrap();
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 2, "{binary}:\n{out}");
        assert!(list
            .iter()
            .all(|c| c["server"]["name"] == "gannet-ref" && c["account"] == "USERS"));
    }
}

#[test]
fn report_accounts_sums_each_account() {
    let server = start_server(Some(SEED_CONFIG));
    let mut one = RawNatsClient::connect(&server.addr(), "a", "a", "one").unwrap();
    one.send("SUB a 1\r\nPUB x 3\r\nabc\r\n").unwrap();
    let mut two = RawNatsClient::connect(&server.addr(), "a", "a", "two").unwrap();
    two.send("SUB b 1\r\nSUB c 2\r\n").unwrap();

    let out = admin(&server, &["server", "report", "accounts"]).success();
    assert!(out.contains("2 Accounts Overview"), "{out}");
    assert_eq!(
        row_starting(&out, "Account"),
        [
            "Account",
            "Connections",
            "In Msgs",
            "Out Msgs",
            "In Bytes",
            "Out Bytes",
            "Subs"
        ]
    );
    let users = row_starting(&out, "USERS");
    assert_eq!(users[1], "2", "{out}");
    assert_eq!(users[2], "1", "{out}");
    assert_eq!(users[4], "3 B", "{out}");
    assert_eq!(users[6], "3", "{out}");
    assert_eq!(row_starting(&out, "SYS")[1], "1", "{out}");

    // One account: its connections.
    let out = admin(&server, &["server", "report", "accounts", "USERS"]).success();
    assert!(out.contains("Top 2 Connections out of 2 by subs"), "{out}");

    let out = admin(
        &server,
        &[
            "server", "report", "accounts", "--json", "--sort", "conns", "--top", "1",
        ],
    )
    .success();
    let list: Value = serde_json::from_str(&out).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{out}");
    assert_eq!(list[0]["account"], "USERS");
    assert_eq!(list[0]["connections"], 2);
    assert_eq!(list[0]["subscriptions"], 3);
    assert_eq!(list[0]["server"][0]["name"], "gannet-ref");

    let line = admin(&server, &["server", "report", "accounts", "NOBODY"]).failure();
    assert!(
        line.contains("did not receive any results for account NOBODY"),
        "{line}"
    );
}

#[test]
fn check_connection_reports_like_nagios() {
    let server = start_server(Some(SEED_CONFIG));
    let check = |args: &[&str]| {
        let mut all = vec!["server", "check"];
        all.extend_from_slice(args);
        gannet(&all)
            .server(&server.url())
            .args(&["--user", "a", "--password", "a"])
            .run()
    };

    let run = check(&["connection"]);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let out = run.stdout();
    let url = server.url();
    assert!(
        out.starts_with(&format!("OK Connection OK:connected to {url} in ")),
        "{out}"
    );
    assert!(out.contains(" OK:rtt time "), "{out}");
    assert!(out.contains(" OK:round trip took 0."), "{out}");
    let perf = out.trim_end().split(" | ").nth(1).unwrap();
    let names: Vec<&str> = perf
        .split(' ')
        .map(|p| p.split('=').next().unwrap())
        .collect();
    assert_eq!(names, ["connect_time", "rtt", "request_time"], "{out}");
    assert!(
        perf.split(' ').all(|p| p.ends_with("s;0.5000;1.0000")),
        "{out}"
    );

    let run = check(&["connection", "--rtt-warn", "1ns"]);
    assert_eq!(run.code(), Some(1));
    assert!(
        run.stdout()
            .starts_with("WARNING Connection Warn:rtt time exceeded 1e-09 OK:connected"),
        "{}",
        run.stdout()
    );

    let run = check(&["conn", "--req-critical", "1ns", "--format", "json"]);
    assert_eq!(run.code(), Some(2));
    let json: Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(json["status"], "CRITICAL");
    assert_eq!(json["check_suite"], "connections");
    assert_eq!(json["check_name"], "Connection");
    assert!(json["critical"][0]
        .as_str()
        .unwrap()
        .starts_with("round trip request took 0."));
    assert_eq!(json["perf_data"].as_array().unwrap().len(), 3);
    assert_eq!(json["perf_data"][2]["name"], "request_time");

    let run = check(&["connection", "--format", "text"]);
    assert_eq!(run.code(), Some(0));
    let out = run.stdout();
    assert!(
        out.starts_with("Connection: OK\n\nStatus Detail\n\n╭"),
        "{out}"
    );
    assert!(out.contains("\nCheck Metrics\n\n"), "{out}");
    assert_eq!(
        row_starting(&out, "Metric"),
        [
            "Metric",
            "Value",
            "Unit",
            "Critical Threshold",
            "Warning Threshold",
            "Description"
        ]
    );
    assert_eq!(row_starting(&out, "rtt")[3], "1");

    let run = check(&[
        "connection",
        "--format",
        "prometheus",
        "--connect-critical",
        "1ns",
    ]);
    assert_eq!(run.code(), Some(0), "prometheus output always exits 0");
    assert!(run.stdout().contains(
        "nats_server_check_connections_status_code{item=\"Connection\",status=\"CRITICAL\"} 2"
    ));

    // Nothing listening: CRITICAL with the reason, exit 2.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let run = gannet(&["server", "check", "connection"])
        .server(&format!("nats://127.0.0.1:{port}"))
        .run();
    assert_eq!(run.code(), Some(2));
    assert!(
        run.stdout()
            .starts_with("CRITICAL Connection Crit:connection failed: "),
        "{}",
        run.stdout()
    );
}

#[test]
fn config_reload_reloads_one_server_and_reports_a_refusal() {
    for binary in all_server_binaries() {
        let server = start_binary(&binary, Some(SEED_CONFIG));
        let id = {
            let out = admin(&server, &["server", "request", "idz"]).success();
            json_lines(&out)[0]["id"].as_str().unwrap().to_string()
        };
        // natscli would ask; gannet wants --force.
        let refused = admin(&server, &["server", "config", "reload", &id]).failure();
        assert!(refused.contains("--force"), "{refused}");
        // A new password for user a, then the reload.
        std::fs::write(
            server.config_path(),
            SEED_CONFIG.replace("{user: a, password: a}", "{user: a, password: b}"),
        )
        .unwrap();
        let out = admin(&server, &["server", "config", "reload", &id, "-f"]).success();
        assert!(
            out.starts_with(&format!("Server information for gannet-ref ({id})")),
            "{binary}: {out}"
        );
        let sub = |pass: &str| {
            gannet(&["pub", "x", "y"])
                .server(&server.url())
                .args(&["--user", "a", "--password", pass])
                .run()
        };
        sub("b").success();
        sub("a").failure();
        // A change that needs a restart: the server's reason, and a failure.
        std::fs::write(
            server.config_path(),
            SEED_CONFIG.replace("server_name: gannet-ref", "server_name: other"),
        )
        .unwrap();
        let refused = admin(&server, &["server", "config", "reload", &id, "-f"]).failure();
        assert!(
            refused
                .contains("config reload not supported for ServerName: old=gannet-ref, new=other"),
            "{binary}: {refused}"
        );
    }
}
