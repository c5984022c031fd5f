//! Connecting: servers, credentials, TLS files, environment variables and
//! contexts, and the one-line error for each way connecting fails.

mod common;

use std::io::Read;
use std::net::TcpListener;

use common::*;
use gannet_test::certs::{tls_block, Pki};

fn free_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    format!("nats://127.0.0.1:{port}")
}

#[test]
fn unreachable_server_is_one_clear_error() {
    let url = free_url();
    let line = gannet(&["pub", "x", "y"]).server(&url).run().failure();
    assert!(line.contains(&url), "{line}");
    assert!(line.contains("connection refused"), "{line}");
}

#[test]
fn silent_server_times_out_after_the_timeout_flag() {
    // Accepts the TCP connection but never sends INFO.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("nats://{}", listener.local_addr().unwrap());
    let hold = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut sink = [0u8; 64];
        let _ = socket.read(&mut sink);
    });
    let run = gannet(&["pub", "x", "y", "--timeout", "1s"])
        .server(&url)
        .run();
    let line = run.failure();
    assert!(line.contains("timed out connecting to"), "{line}");
    assert!(line.contains("1s"), "{line}");
    drop(hold);
}

#[test]
fn several_servers_are_tried_in_turn() {
    let server = start_server(None);
    let urls = format!("{},{}", free_url(), server.url());
    gannet(&["pub", "x", "y"]).server(&urls).run().success();
}

const USERS: &str = r#"
authorization {
  users [
    {user: alice, password: wonderland}
  ]
}
"#;

#[test]
fn user_and_password_are_sent_and_a_refusal_names_the_user() {
    let server = start_server(Some(USERS));
    gannet(&[
        "pub",
        "x",
        "y",
        "--user",
        "alice",
        "--password",
        "wonderland",
    ])
    .server(&server.url())
    .run()
    .success();
    let line = gannet(&["pub", "x", "y", "--user", "alice", "--password", "nope"])
        .server(&server.url())
        .run()
        .failure();
    assert!(line.contains("authorization violation"), "{line}");
    assert!(line.contains("\"alice\""), "{line}");
}

#[test]
fn credentials_come_from_nats_environment_variables() {
    let server = start_server(Some(USERS));
    gannet(&["pub", "x", "y"])
        .env("NATS_URL", server.url())
        .env("NATS_USER", "alice")
        .env("NATS_PASSWORD", "wonderland")
        .run()
        .success();
    let line = gannet(&["pub", "x", "y"])
        .env("NATS_URL", server.url())
        .env("NATS_USER", "alice")
        .env("NATS_PASSWORD", "wrong")
        .run()
        .failure();
    assert!(line.contains("authorization violation"), "{line}");
}

#[test]
fn token_by_flag_and_by_lone_user() {
    let server = start_server(Some("authorization { token: s3cr3t }\n"));
    gannet(&["pub", "x", "y", "--token", "s3cr3t"])
        .server(&server.url())
        .run()
        .success();
    // natscli: --user without --password is a token.
    gannet(&["pub", "x", "y", "--user", "s3cr3t"])
        .server(&server.url())
        .run()
        .success();
    let line = gannet(&["pub", "x", "y", "--token", "wrong"])
        .server(&server.url())
        .run()
        .failure();
    assert!(line.contains("authorization violation"), "{line}");
}

#[test]
fn nkey_seed_file_signs_the_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let user = nkeys::KeyPair::new_user();
    let seed_file = dir.path().join("user.nk");
    std::fs::write(&seed_file, format!("{}\n", user.seed().unwrap())).unwrap();
    let config = format!(
        "authorization {{ users [ {{ nkey: {} }} ] }}\n",
        user.public_key()
    );
    let server = start_server(Some(&config));
    gannet(&["pub", "x", "y", "--nkey"])
        .args(&[&seed_file])
        .server(&server.url())
        .run()
        .success();

    let other = nkeys::KeyPair::new_user();
    let other_file = dir.path().join("other.nk");
    std::fs::write(&other_file, other.seed().unwrap()).unwrap();
    let line = gannet(&["pub", "x", "y", "--nkey"])
        .args(&[&other_file])
        .server(&server.url())
        .run()
        .failure();
    assert!(line.contains("authorization violation"), "{line}");

    let bad_file = dir.path().join("bad.nk");
    std::fs::write(&bad_file, "not a seed\n").unwrap();
    let line = gannet(&["pub", "x", "y", "--nkey"])
        .args(&[&bad_file])
        .server(&server.url())
        .run()
        .failure();
    assert!(line.contains(&bad_file.display().to_string()), "{line}");
    assert!(line.contains("no user seed"), "{line}");
}

#[test]
fn unreadable_or_malformed_creds_file_is_named() {
    let server = start_server(None);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.creds");
    let line = gannet(&["pub", "x", "y", "--creds"])
        .args(&[&missing])
        .server(&server.url())
        .run()
        .failure();
    assert!(
        line.contains("missing.creds: cannot read the file"),
        "{line}"
    );

    let junk = dir.path().join("junk.creds");
    std::fs::write(&junk, "hello\n").unwrap();
    let line = gannet(&["pub", "x", "y", "--creds"])
        .args(&[&junk])
        .server(&server.url())
        .run()
        .failure();
    assert!(
        line.contains("junk.creds: not a credentials file"),
        "{line}"
    );
}

/// A server requiring client certificates from `pki`'s CA.
fn tls_server(pki: &Pki, extra: &str) -> ServerProcess {
    let config = tls_block(&pki.server, pki.ca_str(), &format!("verify: true\n{extra}"));
    start_server(Some(&config))
}

#[test]
fn client_certificate_connects_over_tls() {
    let pki = Pki::temp();
    let client = pki.client("client", "CN=operator");
    let server = tls_server(&pki, "");
    gannet(&["pub", "x", "y"])
        .args(&tls_flags(&client, pki.ca_str()))
        .server(&server.url())
        .run()
        .success();
    // The same through NATS_CERT, NATS_KEY and NATS_CA.
    gannet(&["pub", "x", "y"])
        .env("NATS_URL", server.url())
        .env("NATS_CERT", client.cert_str())
        .env("NATS_KEY", client.key_str())
        .env("NATS_CA", pki.ca_str())
        .run()
        .success();
}

#[test]
fn tls_file_problems_name_the_file_and_the_fault() {
    let pki = Pki::temp();
    let client = pki.client("client", "CN=operator");
    let server = tls_server(&pki, "");
    let url = server.url();
    let missing = pki.dir().join("nope.pem");
    let missing = missing.to_str().unwrap();

    let line = gannet(&[
        "pub",
        "x",
        "y",
        "--tlscert",
        missing,
        "--tlskey",
        client.key_str(),
    ])
    .args(&["--tlsca", pki.ca_str()])
    .server(&url)
    .run()
    .failure();
    assert!(
        line.contains(&format!("tlscert {missing}: cannot read the file")),
        "{line}"
    );

    // A key where the certificate belongs.
    let line = gannet(&[
        "pub",
        "x",
        "y",
        "--tlscert",
        client.key_str(),
        "--tlskey",
        client.key_str(),
    ])
    .args(&["--tlsca", pki.ca_str()])
    .server(&url)
    .run()
    .failure();
    assert!(
        line.contains(&format!("tlscert {}: no certificate", client.key_str())),
        "{line}"
    );

    // A certificate where the key belongs.
    let line = gannet(&[
        "pub",
        "x",
        "y",
        "--tlscert",
        client.cert_str(),
        "--tlskey",
        client.cert_str(),
    ])
    .args(&["--tlsca", pki.ca_str()])
    .server(&url)
    .run()
    .failure();
    assert!(
        line.contains(&format!("tlskey {}: no private key", client.cert_str())),
        "{line}"
    );

    let line = gannet(&["pub", "x", "y", "--tlscert", client.cert_str()])
        .args(&["--tlsca", pki.ca_str()])
        .server(&url)
        .run()
        .failure();
    assert!(line.contains("--tlscert needs --tlskey"), "{line}");
}

#[test]
fn untrusted_server_certificate_is_explained() {
    let pki = Pki::temp();
    let client = pki.client("client", "CN=operator");
    let server = tls_server(&pki, "");
    let other = Pki::temp();
    let line = gannet(&["pub", "x", "y"])
        .args(&tls_flags(&client, other.ca_str()))
        .server(&server.url())
        .run()
        .failure();
    assert!(line.contains("TLS connection to"), "{line}");
    assert!(line.contains("not trusted by the CA in"), "{line}");
    assert!(line.contains(other.ca_str()), "{line}");
}

#[test]
fn missing_client_certificate_is_explained() {
    let pki = Pki::temp();
    let server = tls_server(&pki, "");
    let run = gannet(&["pub", "x", "y", "--tlsca", pki.ca_str()])
        .server(&server.url())
        .run();
    let line = run.failure();
    assert!(line.contains("TLS connection to"), "{line}");
    assert!(line.contains("client certificate"), "{line}");
}

#[test]
fn tls_first_handshake() {
    let pki = Pki::temp();
    let client = pki.client("client", "CN=operator");
    let server = tls_server(&pki, "handshake_first: true");
    gannet(&["pub", "x", "y", "--tlsfirst"])
        .args(&tls_flags(&client, pki.ca_str()))
        .server(&server.url())
        .run()
        .success();
    // Without it the client waits for an INFO that never comes in clear.
    gannet(&["pub", "x", "y", "--timeout", "1s"])
        .args(&tls_flags(&client, pki.ca_str()))
        .server(&server.url())
        .run()
        .failure();
}

#[test]
fn connection_name_shows_in_connz() {
    let server = start_server_with(None, &["-m", "-1"]);
    let mut sub = gannet(&["sub", "named.>", "--connection-name", "ops-watch"])
        .server(&server.url())
        .spawn();
    sub.expect_stderr("Subscribing on");
    let (_, body) = server.http_get("/connz");
    assert!(body.contains("\"name\": \"ops-watch\""), "{body}");
}

#[test]
fn inbox_prefix_is_used_for_reply_subjects() {
    let server = start_server(None);
    let url = server.url();
    let mut watch = gannet(&["sub", "svc"]).server(&url).spawn();
    watch.expect_stderr("Subscribing on");
    let _responder = {
        let mut reply = gannet(&["reply", "svc", "pong"]).server(&url).spawn();
        reply.expect_stderr("Listening on");
        reply
    };
    gannet(&["request", "svc", "ping", "--inbox-prefix", "_OPS"])
        .server(&url)
        .run()
        .success();
    let line = watch.expect_line("Received on \"svc\"");
    assert!(line.contains("with reply \"_OPS."), "{line}");
}

// ---- contexts

#[test]
fn saved_and_selected_context_is_used_by_default() {
    let server = start_server(Some(USERS));
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_path_buf();
    let run = |args: &[&str]| {
        gannet(args)
            .env("HOME", &home_path)
            .env("XDG_CONFIG_HOME", home_path.join(".config"))
            .run()
    };
    let out = run(&[
        "context",
        "save",
        "lab",
        "--server",
        &server.url(),
        "--user",
        "alice",
        "--password",
        "wonderland",
        "--description",
        "the lab server",
        "--select",
    ])
    .success();
    assert!(
        out.starts_with("NATS Configuration Context \"lab\"\n\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!("Server URLs: {}", server.url())),
        "{out}"
    );
    assert!(out.contains("Password: **********"), "{out}");

    // The file is where natscli keeps it, in its format.
    let file = home_path.join(".config/nats/context/lab.json");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["url"], server.url());
    assert_eq!(saved["user"], "alice");
    assert_eq!(
        std::fs::read_to_string(home_path.join(".config/nats/context.txt")).unwrap(),
        "lab"
    );

    // No connection flags: the selected context connects.
    run(&["pub", "x", "y"]).success();

    let list = run(&["context", "ls"]).success();
    assert!(list.contains("Known Contexts"), "{list}");
    assert!(list.contains("│ lab* │ the lab server │"), "{list}");

    // Flags override the context.
    let line = run(&["pub", "x", "y", "--password", "bad"]).failure();
    assert!(line.contains("authorization violation"), "{line}");
    // --no-context ignores it (and the default server is not running here).
    let line = run(&["pub", "x", "y", "--no-context", "--server", &free_url()]).failure();
    assert!(line.contains("connection refused"), "{line}");

    let info = run(&["context", "info", "--json"]).success();
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["description"], "the lab server");

    run(&["context", "unselect"]).success();
    let line = run(&["pub", "x", "y", "--server", &free_url()]).failure();
    assert!(line.contains("connection refused"), "{line}");
    // --context picks a saved one without selecting it.
    run(&["pub", "x", "y", "--context", "lab"]).success();

    let removed = run(&["context", "rm", "lab", "-f"]).success();
    assert!(removed.contains("Removed context \"lab\""), "{removed}");
    assert!(!file.exists());
    let line = run(&["pub", "x", "y", "--context", "lab"]).failure();
    assert!(line.contains("unknown context \"lab\""), "{line}");
    assert_eq!(run(&["context", "ls"]).success(), "No known contexts\n");
}

#[test]
fn a_natscli_context_file_is_read() {
    let server = start_server(Some("authorization { token: s3cr3t }\n"));
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join(".config/nats/context");
    std::fs::create_dir_all(&dir).unwrap();
    // As natscli writes it, with fields gannet does not use.
    let json = format!(
        r#"{{
  "description": "from natscli",
  "url": "{}",
  "socks_proxy": "",
  "token": "s3cr3t",
  "user": "",
  "password": "",
  "creds": "",
  "nkey": "",
  "cert": "",
  "key": "",
  "ca": "",
  "nsc": "",
  "jetstream_domain": "",
  "jetstream_api_prefix": "",
  "jetstream_event_prefix": "",
  "inbox_prefix": "",
  "user_jwt": "",
  "color_scheme": "",
  "tls_first": false
}}"#,
        server.url()
    );
    std::fs::write(dir.join("legacy.json"), json).unwrap();
    std::fs::write(home.path().join(".config/nats/context.txt"), "legacy").unwrap();
    gannet(&["pub", "x", "y"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .run()
        .success();
    // NATS_CONTEXT names one too.
    std::fs::remove_file(home.path().join(".config/nats/context.txt")).unwrap();
    gannet(&["pub", "x", "y"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("NATS_CONTEXT", "legacy")
        .run()
        .success();
}

// ---- credentials in the server URL

/// `url` (`nats://host:port`) with `userinfo@` written in.
fn with_userinfo(url: &str, userinfo: &str) -> String {
    url.replacen("nats://", &format!("nats://{userinfo}@"), 1)
}

#[test]
fn user_and_password_in_the_url_publish_to_a_subscriber() {
    let server = start_server(Some(USERS));
    let url = with_userinfo(&server.url(), "alice:wonderland");
    let mut sub = gannet(&["sub", "greet"]).server(&url).spawn();
    sub.expect_stderr("Subscribing on");
    gannet(&["pub", "greet", "hello from the url"])
        .server(&url)
        .run()
        .success();
    sub.expect_line(r#"[#1] Received on "greet""#);
    sub.expect_line("hello from the url");
    // NATS_URL carries them the same way.
    gannet(&["pub", "greet", "y"])
        .env("NATS_URL", &url)
        .run()
        .success();
}

#[test]
fn token_in_the_url_is_sent_as_the_token() {
    let server = start_server(Some("authorization { token: s3cr3t }\n"));
    gannet(&["pub", "x", "y"])
        .server(&with_userinfo(&server.url(), "s3cr3t"))
        .run()
        .success();
    let line = gannet(&["pub", "x", "y"])
        .server(&with_userinfo(&server.url(), "wr0ng"))
        .run()
        .failure();
    assert!(line.contains("authorization violation"), "{line}");
    assert!(line.contains("(token from the server URL)"), "{line}");
    assert!(line.contains("xxxxx@127.0.0.1"), "{line}");
    assert!(!line.contains("wr0ng"), "{line}");
}

#[test]
fn wrong_password_in_the_url_is_refused_without_showing_it() {
    let server = start_server(Some(USERS));
    let line = gannet(&["pub", "x", "y"])
        .server(&with_userinfo(&server.url(), "alice:n0pe"))
        .run()
        .failure();
    assert!(line.contains("authorization violation"), "{line}");
    assert!(
        line.contains(r#"for user "alice" (from the server URL)"#),
        "{line}"
    );
    assert!(!line.contains("no credentials were given"), "{line}");
    assert!(line.contains("alice:xxxxx@127.0.0.1"), "{line}");
    assert!(!line.contains("n0pe"), "{line}");
}

#[test]
fn url_credentials_win_over_the_flags_as_in_nats_go() {
    let server = start_server(Some(USERS));
    gannet(&["pub", "x", "y", "--user", "alice", "--password", "n0pe"])
        .server(&with_userinfo(&server.url(), "alice:wonderland"))
        .run()
        .success();
    let line = gannet(&[
        "pub",
        "x",
        "y",
        "--user",
        "alice",
        "--password",
        "wonderland",
    ])
    .server(&with_userinfo(&server.url(), "alice:n0pe"))
    .run()
    .failure();
    assert!(line.contains("authorization violation"), "{line}");
}

#[test]
fn url_credentials_are_percent_decoded() {
    let server = start_server(Some(
        "authorization { users [ {user: \"bob smith\", password: \"p@ss:w/rd%\"} ] }\n",
    ));
    gannet(&["pub", "x", "y"])
        .server(&with_userinfo(
            &server.url(),
            "bob%20smith:p%40ss%3Aw%2Frd%25",
        ))
        .run()
        .success();
    let line = gannet(&["pub", "x", "y"])
        .server(&with_userinfo(&server.url(), "bob:p%4"))
        .run()
        .failure();
    assert!(line.contains("invalid server URL"), "{line}");
    assert!(!line.contains("p%4"), "{line}");
}

#[test]
fn server_list_honours_url_credentials_across_a_list_of_urls() {
    let server = start_server(Some(gannet_test::reference::SEED_CONFIG));
    let urls = format!(
        "{},{}",
        with_userinfo(&free_url(), "admin:changeit"),
        with_userinfo(&server.url(), "admin:changeit")
    );
    let out = gannet(&["server", "list"]).server(&urls).run().success();
    assert!(out.contains("Server Overview"), "{out}");
    assert!(out.contains("│ gannet-ref "), "{out}");

    // One connection sends one set of credentials, so a list must agree.
    let urls = format!(
        "{},{}",
        with_userinfo(&free_url(), "admin:changeit"),
        with_userinfo(&server.url(), "a:a")
    );
    let line = gannet(&["server", "list"]).server(&urls).run().failure();
    assert!(line.contains("carry different credentials"), "{line}");
    assert!(!line.contains("changeit"), "{line}");
}
