//! The security milestone, black box: TLS (key types, INFO in clear then the
//! handshake, `handshake_first`, timeouts, client verification, CA bundles),
//! authentication (user/password, bcrypt, token, nkey, `no_auth_user`, auth
//! timeout, certificates with `verify_and_map`), permissions (allow/deny,
//! queue entries, wildcard overlap, `allow_responses`) and the security flags.
//!
//! Behaviour is that of nats-server 2.15 (docs/PROTOCOL.md §2, §6, §7,
//! README.md §Security, docs/BOSH.md §4). Every test here is upstream behaviour, so the whole
//! file runs against the reference:
//! `GANNET_TEST_SERVER=/path/to/nats-server cargo test -p gannet-server --test security`.
use std::path::Path;
use std::time::{Duration, Instant};

use async_nats::ConnectOptions;
use base64::Engine;
use futures::StreamExt;
use gannet_test::certs::{
    bosh_subject, tls_block, CertAuthority, CertFiles, CertSpec, KeyKind, Pki,
};
use gannet_test::{install_crypto_provider, tls_config, RawClient, ServerProcess};

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");
const QUIET: &str = r#"{"verbose":false,"pedantic":false}"#;
const AUTH_VIOLATION: &[u8] = b"-ERR 'Authorization Violation'\r\n";

/// A bcrypt (`$2a$`, cost 6) hash of `s3cret-pw`.
const BCRYPT_S3CRET: &str = "$2a$06$H8gex7u4ngt/LVH7aWzhku02c/SHggtkNJOF86EnTo5Mq0LvulCj2";

// ---------------------------------------------------------------- helpers

fn start(config: &str) -> ServerProcess {
    ServerProcess::start_with_config(BIN, Some(config), &[])
}

/// CONNECT with `fields` added to the quiet defaults.
fn connect_json(fields: &str) -> String {
    if fields.is_empty() {
        QUIET.to_string()
    } else {
        format!(r#"{{"verbose":false,"pedantic":false,{fields}}}"#)
    }
}

/// A raw client that authenticates with `fields` and has had its PONG.
fn raw_auth(s: &ServerProcess, fields: &str) -> RawClient {
    let mut c = RawClient::connect_with(&s.addr(), &connect_json(fields));
    c.expect_before_pong(b"");
    c
}

/// Connects, sends CONNECT with `fields` and PING, and expects
/// `-ERR 'Authorization Violation'` and the end of the connection.
fn expect_auth_violation(s: &ServerProcess, fields: &str) {
    let mut c = RawClient::connect_with(&s.addr(), &connect_json(fields));
    c.send(b"PING\r\n");
    c.expect_closed_after(AUTH_VIOLATION);
}

/// A raw TLS client (INFO in clear, then the handshake) that sent CONNECT
/// `fields` and got its PONG.
fn raw_tls(s: &ServerProcess, ca: &Path, cert: Option<&CertFiles>, fields: &str) -> RawClient {
    RawClient::connect_tls_as(&s.addr(), tls_config(ca, cert), &connect_json(fields))
}

fn expect_tls_refused(s: &ServerProcess, ca: &Path, cert: Option<&CertFiles>) {
    RawClient::expect_tls_refused(&s.addr(), tls_config(ca, cert));
}

/// Asserts a TLS client with `cert` is let in over TLS and then told
/// `-ERR 'Authorization Violation'` on CONNECT, and closed.
fn expect_cert_auth_violation(s: &ServerProcess, ca: &Path, cert: &CertFiles, fields: &str) {
    let mut c = RawClient::connect_tls(&s.addr(), tls_config(ca, Some(cert)));
    c.send(format!("CONNECT {}\r\nPING\r\n", connect_json(fields)).as_bytes());
    c.expect_closed_after(AUTH_VIOLATION);
}

/// Publishes on `publisher` and expects `subscriber` (sid 1 on `subject`) to get it.
fn expect_delivered(publisher: &mut RawClient, subscriber: &mut RawClient, subject: &str) {
    publisher.send(format!("PUB {subject} 2\r\nhi\r\n").as_bytes());
    publisher.expect_before_pong(b"");
    subscriber.expect(format!("MSG {subject} 1 2\r\nhi\r\n").as_bytes());
}

async fn tls_options(pki: &Pki, cert: Option<&CertFiles>) -> ConnectOptions {
    install_crypto_provider();
    let mut opts = ConnectOptions::new()
        .require_tls(true)
        .add_root_certificates(pki.ca_file.clone())
        .connection_timeout(Duration::from_secs(5));
    if let Some(c) = cert {
        opts = opts.add_client_certificate(c.cert.clone(), c.key.clone());
    }
    opts
}

async fn connect(opts: ConnectOptions, url: &str) -> Result<async_nats::Client, String> {
    match tokio::time::timeout(Duration::from_secs(10), opts.connect(url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("connect timed out".into()),
    }
}

/// Subscribes, publishes and expects the message back on one async-nats client.
async fn round_trip(c: &async_nats::Client, subject: &str) {
    let mut sub = c.subscribe(subject.to_string()).await.unwrap();
    c.flush().await.unwrap();
    c.publish(subject.to_string(), "over tls".into())
        .await
        .unwrap();
    let m = tokio::time::timeout(Duration::from_secs(3), sub.next())
        .await
        .expect("message in time")
        .expect("subscription open");
    assert_eq!(&m.payload[..], b"over tls");
}

// ---------------------------------------------------------------- TLS

async fn handshake_with_server_key(kind: KeyKind) {
    let pki = Pki::temp();
    let cert = pki.server_cert("srv", kind);
    let s = start(&tls_block(&cert, pki.ca_str(), ""));
    let c = connect(tls_options(&pki, None).await, &s.url())
        .await
        .unwrap_or_else(|e| panic!("{kind:?} server certificate: {e}"));
    round_trip(&c, "tls.rsa").await;
}

#[tokio::test]
async fn tls_handshake_with_rsa_server_cert() {
    handshake_with_server_key(KeyKind::Rsa).await;
}

#[tokio::test]
async fn tls_handshake_with_ecdsa_server_cert() {
    handshake_with_server_key(KeyKind::Ecdsa).await;
}

#[tokio::test]
async fn tls_handshake_with_ed25519_server_cert() {
    handshake_with_server_key(KeyKind::Ed25519).await;
}

#[test]
fn tls_info_is_sent_in_clear_then_the_handshake() {
    let pki = Pki::temp();
    let s = start(&tls_block(&pki.server, pki.ca_str(), ""));
    let mut c = RawClient::connect(&s.addr());
    let info = c.info_json();
    assert_eq!(info["tls_required"], true, "{}", c.info);
    assert!(info.get("tls_verify").is_none(), "{}", c.info);
    assert!(info.get("auth_required").is_none(), "{}", c.info);
    c.start_tls(tls_config(&pki.ca_file, None))
        .expect("handshake");
    c.send(format!("CONNECT {QUIET}\r\nSUB tls.a 1\r\nPUB tls.a 2\r\nhi\r\n").as_bytes());
    c.expect_before_pong(b"MSG tls.a 1 2\r\nhi\r\n");
}

#[test]
fn plain_client_on_tls_server_is_closed_without_err() {
    let pki = Pki::temp();
    let s = start(&tls_block(&pki.server, pki.ca_str(), ""));
    let mut c = RawClient::connect(&s.addr());
    assert!(c.info.contains(r#""tls_required":true"#), "{}", c.info);
    c.try_send(format!("CONNECT {QUIET}\r\nPING\r\n").as_bytes());
    let (got, closed) = c.read_to_close(Duration::from_secs(5));
    let text = String::from_utf8_lossy(&got);
    assert!(closed, "a plaintext client stays connected");
    assert!(!text.contains("PONG"), "plaintext was served: {text:?}");
    assert!(!text.contains("-ERR"), "no -ERR in clear: {text:?}");
}

#[test]
fn tls_timeout_closes_a_client_that_never_handshakes() {
    let pki = Pki::temp();
    let s = start(&tls_block(&pki.server, pki.ca_str(), "timeout: 1"));
    let t0 = Instant::now();
    let mut c = RawClient::connect(&s.addr());
    let (got, closed) = c.read_to_close(Duration::from_secs(5));
    let took = t0.elapsed();
    assert!(closed, "still open after 5 s");
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(3),
        "closed after {took:?}, want about 1 s"
    );
    let text = String::from_utf8_lossy(&got);
    assert!(!text.contains("PONG") && !text.contains("INFO"), "{text:?}");
}

#[tokio::test]
async fn handshake_first_sends_info_inside_tls() {
    let pki = Pki::temp();
    let s = start(&tls_block(
        &pki.server,
        pki.ca_str(),
        "handshake_first: true",
    ));
    // A plain client hears nothing: no INFO in clear.
    let mut plain = RawClient::tcp(&s.addr());
    let heard = plain.read_for(Duration::from_millis(500));
    assert!(
        !String::from_utf8_lossy(&heard).contains("INFO"),
        "INFO in clear: {:?}",
        String::from_utf8_lossy(&heard)
    );
    // Raw: handshake, then INFO.
    let mut c = RawClient::connect_tls_first(&s.addr(), tls_config(&pki.ca_file, None));
    assert_eq!(c.info_json()["tls_required"], true, "{}", c.info);
    c.send(format!("CONNECT {QUIET}\r\n").as_bytes());
    c.expect_before_pong(b"");
    // async-nats with tls_first.
    let nc = connect(tls_options(&pki, None).await.tls_first(), &s.tls_url())
        .await
        .expect("tls_first client");
    round_trip(&nc, "first").await;
}

#[tokio::test]
async fn tls_verify_requires_a_client_certificate_from_the_ca() {
    let pki = Pki::temp();
    let good = pki.client("good", &bosh_subject("default.director.bosh-internal"));
    let stranger = pki.foreign("stranger", &bosh_subject("default.director.bosh-internal"));
    let old = pki.issue(
        "old",
        CertSpec::client(&bosh_subject("default.director.bosh-internal")).expired(),
    );
    let s = start(&tls_block(&pki.server, pki.ca_str(), "verify: true"));
    let c = RawClient::connect(&s.addr());
    assert_eq!(c.info_json()["tls_verify"], true, "{}", c.info);
    drop(c);
    raw_tls(&s, &pki.ca_file, Some(&good), "");
    let nc = connect(tls_options(&pki, Some(&good)).await, &s.url())
        .await
        .expect("client with a good certificate");
    round_trip(&nc, "verified").await;
    expect_tls_refused(&s, &pki.ca_file, None);
    expect_tls_refused(&s, &pki.ca_file, Some(&stranger));
    expect_tls_refused(&s, &pki.ca_file, Some(&old));
    assert!(connect(tls_options(&pki, None).await, &s.url())
        .await
        .is_err());
}

#[test]
fn ca_bundle_with_several_roots_trusts_each() {
    let pki = Pki::temp();
    let second = CertAuthority::with_key("Second CA", KeyKind::Rsa);
    let third = CertAuthority::new("Third CA");
    let bundle = pki.bundle("bundle.pem", &[pki.ca(), &second, &third]);
    let from_first = pki.client("c1", "CN=one");
    let from_second = second.client_cert("CN=two").write(pki.dir(), "c2");
    let from_third = third
        .issue(&CertSpec::client("CN=three").key(KeyKind::Ed25519))
        .write(pki.dir(), "c3");
    let from_elsewhere = pki.foreign("c4", "CN=four");
    let s = start(&tls_block(
        &pki.server,
        bundle.to_str().unwrap(),
        "verify: true",
    ));
    for cert in [&from_first, &from_second, &from_third] {
        raw_tls(&s, &pki.ca_file, Some(cert), "");
    }
    expect_tls_refused(&s, &pki.ca_file, Some(&from_elsewhere));
}

// ---------------------------------------------------------------- authentication

#[tokio::test]
async fn user_and_password() {
    let s = start("authorization { user: admin, password: \"p@ss w0rd\" }\n");
    let c = RawClient::connect(&s.addr());
    assert_eq!(c.info_json()["auth_required"], true, "{}", c.info);
    assert!(c.info_json().get("nonce").is_none(), "{}", c.info);
    drop(c);
    raw_auth(&s, r#""user":"admin","pass":"p@ss w0rd""#);
    expect_auth_violation(&s, r#""user":"admin","pass":"wrong""#);
    expect_auth_violation(&s, r#""user":"nobody","pass":"p@ss w0rd""#);
    expect_auth_violation(&s, "");
    let nc = connect(
        ConnectOptions::new().user_and_password("admin".into(), "p@ss w0rd".into()),
        &s.url(),
    )
    .await
    .expect("async-nats with user/password");
    round_trip(&nc, "auth.ok").await;
    assert!(connect(
        ConnectOptions::new().user_and_password("admin".into(), "nope".into()),
        &s.url()
    )
    .await
    .is_err());
}

#[test]
fn bcrypt_password_in_users_list() {
    let conf = format!(
        "authorization {{\n  users: [\n    {{user: hashed, password: \"{BCRYPT_S3CRET}\"}}\n    {{user: plain, password: other}}\n  ]\n}}\n"
    );
    let s = start(&conf);
    raw_auth(&s, r#""user":"hashed","pass":"s3cret-pw""#);
    raw_auth(&s, r#""user":"plain","pass":"other""#);
    expect_auth_violation(&s, r#""user":"hashed","pass":"s3cret-pw!""#);
    // The hash itself is not a password.
    expect_auth_violation(&s, &format!(r#""user":"hashed","pass":"{BCRYPT_S3CRET}""#));
}

#[tokio::test]
async fn token() {
    let s = start("authorization { token: \"t0k-en\" }\n");
    let c = RawClient::connect(&s.addr());
    assert_eq!(c.info_json()["auth_required"], true, "{}", c.info);
    drop(c);
    raw_auth(&s, r#""auth_token":"t0k-en""#);
    expect_auth_violation(&s, r#""auth_token":"t0k-en2""#);
    expect_auth_violation(&s, r#""user":"t0k-en","pass":"t0k-en""#);
    let nc = connect(ConnectOptions::new().token("t0k-en".into()), &s.url())
        .await
        .expect("async-nats with a token");
    round_trip(&nc, "token.ok").await;
}

#[tokio::test]
async fn nkey_good_and_bad_signature() {
    let user = nkeys::KeyPair::new_user();
    let other = nkeys::KeyPair::new_user();
    let conf = format!(
        "authorization {{\n  users: [\n    {{nkey: {}}}\n  ]\n}}\n",
        user.public_key()
    );
    let s = start(&conf);
    let nc = connect(ConnectOptions::with_nkey(user.seed().unwrap()), &s.url())
        .await
        .expect("async-nats with an nkey");
    round_trip(&nc, "nkey.ok").await;

    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let attempt = |signer: &nkeys::KeyPair, sign_nonce: bool| -> RawClient {
        let mut c = RawClient::connect(&s.addr());
        let info = c.info_json();
        let nonce = info["nonce"]
            .as_str()
            .expect("INFO has a nonce")
            .to_string();
        assert_eq!(info["auth_required"], true, "{}", c.info);
        let signed = if sign_nonce {
            nonce.clone()
        } else {
            format!("{nonce}x")
        };
        let sig = b64.encode(signer.sign(signed.as_bytes()).unwrap());
        let fields = format!(r#""nkey":"{}","sig":"{sig}""#, user.public_key());
        c.send(format!("CONNECT {}\r\nPING\r\n", connect_json(&fields)).as_bytes());
        c
    };
    attempt(&user, true).expect(b"PONG\r\n");
    attempt(&other, true).expect_closed_after(AUTH_VIOLATION);
    attempt(&user, false).expect_closed_after(AUTH_VIOLATION);
    // A key that is not configured, correctly signed.
    let mut c = RawClient::connect(&s.addr());
    let nonce = c.info_json()["nonce"].as_str().unwrap().to_string();
    let sig = b64.encode(other.sign(nonce.as_bytes()).unwrap());
    let fields = format!(r#""nkey":"{}","sig":"{sig}""#, other.public_key());
    c.send(format!("CONNECT {}\r\nPING\r\n", connect_json(&fields)).as_bytes());
    c.expect_closed_after(AUTH_VIOLATION);
}

#[test]
fn no_auth_user_lets_anonymous_clients_in_with_its_permissions() {
    let conf = r#"
authorization {
  users: [
    {user: admin, password: a}
    {user: guest, password: g, permissions: {publish: "guest.>", subscribe: "guest.>"}}
  ]
}
no_auth_user: guest
"#;
    let s = start(conf);
    let mut anon = RawClient::connect(&s.addr());
    assert!(
        anon.info_json().get("auth_required").is_none(),
        "INFO omits auth_required with no_auth_user: {}",
        anon.info
    );
    anon.send(format!("CONNECT {QUIET}\r\n").as_bytes());
    anon.send(b"SUB guest.news 1\r\nPUB guest.news 2\r\nhi\r\n");
    anon.expect_before_pong(b"MSG guest.news 1 2\r\nhi\r\n");
    anon.send(b"PUB admin.x 2\r\nhi\r\n");
    anon.expect_before_pong(b"-ERR 'Permissions Violation for Publish to \"admin.x\"'\r\n");
    anon.send(b"SUB admin.> 2\r\n");
    anon.expect_before_pong(b"-ERR 'Permissions Violation for Subscription to \"admin.>\"'\r\n");
    // Named users still authenticate as themselves.
    let mut admin = raw_auth(&s, r#""user":"admin","pass":"a""#);
    admin.send(b"SUB admin.x 1\r\n");
    admin.expect_before_pong(b"");
    let mut admin2 = raw_auth(&s, r#""user":"admin","pass":"a""#);
    expect_delivered(&mut admin2, &mut admin, "admin.x");
    expect_auth_violation(&s, r#""user":"admin","pass":"wrong""#);
}

#[test]
fn auth_timeout_sends_error_and_closes() {
    let s = start("authorization { user: a, password: b, timeout: 1 }\n");
    let t0 = Instant::now();
    let mut c = RawClient::connect(&s.addr());
    let (got, closed) = c.read_to_close(Duration::from_secs(5));
    let took = t0.elapsed();
    assert_eq!(
        String::from_utf8_lossy(&got),
        "-ERR 'Authentication Timeout'\r\n"
    );
    assert!(closed);
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_millis(2500),
        "closed after {took:?}, want about 1 s"
    );
}

#[test]
fn op_before_connect_on_an_auth_server_is_a_violation() {
    let s = start("authorization { user: a, password: b }\n");
    for op in [&b"PING\r\n"[..], b"SUB x 1\r\n", b"PUB x 2\r\nhi\r\n"] {
        let mut c = RawClient::connect(&s.addr());
        c.send(op);
        c.expect_closed_after(AUTH_VIOLATION);
    }
}

// ---------------------------------------------------------------- verify_and_map

/// A verify_and_map server with `users` (the inside of `users: [ ... ]`).
fn map_server(pki: &Pki, users: &str) -> ServerProcess {
    let conf = format!(
        "authorization {{\n  users: [\n{users}\n  ]\n}}\n{}",
        tls_block(&pki.server, pki.ca_str(), "verify_and_map: true")
    );
    start(&conf)
}

/// A user entry allowed to publish only to `<tag>.>`.
fn tagged_user(name: &str, tag: &str) -> String {
    format!("    {{user: \"{name}\", permissions: {{publish: \"{tag}.>\"}}}}\n")
}

/// Connects with `cert`, then checks the connection has the permissions of the
/// user tagged `tag` (publish `<tag>.x` passes, `other.x` is refused).
fn expect_mapped_to(s: &ServerProcess, pki: &Pki, cert: &CertFiles, tag: &str) {
    let mut c = raw_tls(s, &pki.ca_file, Some(cert), "");
    c.send(format!("PUB {tag}.x 2\r\nhi\r\n").as_bytes());
    c.expect_before_pong(b"");
    c.send(b"PUB other.x 2\r\nhi\r\n");
    c.expect_before_pong(b"-ERR 'Permissions Violation for Publish to \"other.x\"'\r\n");
}

#[test]
fn verify_and_map_by_subject_dn_in_any_rdn_order() {
    let pki = Pki::temp();
    let same_order = pki.client("a1", &bosh_subject("a1.agent.bosh-internal"));
    let rfc2253 = pki.client("b2", &bosh_subject("b2.agent.bosh-internal"));
    let shuffled = pki.client("c3", &bosh_subject("c3.agent.bosh-internal"));
    let users = [
        tagged_user("C=USA, O=Cloud Foundry, CN=a1.agent.bosh-internal", "a1"),
        // RFC 2253 writes the RDNs last to first, without spaces.
        tagged_user("CN=b2.agent.bosh-internal,O=Cloud Foundry,C=USA", "b2"),
        tagged_user("O=Cloud Foundry, CN=c3.agent.bosh-internal, C=USA", "c3"),
    ]
    .concat();
    let s = map_server(&pki, &users);
    let c = RawClient::connect(&s.addr());
    let info = c.info_json();
    assert_eq!(info["auth_required"], true, "{}", c.info);
    assert_eq!(info["tls_required"], true, "{}", c.info);
    assert_eq!(info["tls_verify"], true, "{}", c.info);
    drop(c);
    expect_mapped_to(&s, &pki, &same_order, "a1");
    expect_mapped_to(&s, &pki, &rfc2253, "b2");
    expect_mapped_to(&s, &pki, &shuffled, "c3");
}

#[test]
fn verify_and_map_cn_longer_than_64_characters() {
    let pki = Pki::temp();
    let cn = "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e.bootstrap.agent.bosh-internal";
    assert!(cn.len() > 64);
    let cert = pki.client("boot", &bosh_subject(cn));
    let s = map_server(&pki, &tagged_user(&bosh_subject(cn), "boot"));
    expect_mapped_to(&s, &pki, &cert, "boot");
}

#[test]
fn verify_and_map_by_email_dns_and_uri_san() {
    let pki = Pki::temp();
    let by_email = pki.issue(
        "email",
        CertSpec::client("C=USA, O=Ops, CN=ops-laptop").email("ops@example.com"),
    );
    let by_dns = pki.issue(
        "dns",
        CertSpec::client("C=USA, O=Ops, CN=svc").dns("svc.example.internal"),
    );
    let by_uri = pki.issue(
        "uri",
        CertSpec::client("C=USA, O=Ops, CN=spiffe").uri("spiffe://example.org/agent/7"),
    );
    let users = [
        tagged_user("ops@example.com", "email"),
        tagged_user("svc.example.internal", "dns"),
        tagged_user("spiffe://example.org/agent/7", "uri"),
    ]
    .concat();
    let s = map_server(&pki, &users);
    expect_mapped_to(&s, &pki, &by_email, "email");
    expect_mapped_to(&s, &pki, &by_dns, "dns");
    expect_mapped_to(&s, &pki, &by_uri, "uri");
}

#[test]
fn verify_and_map_refuses_unmapped_missing_and_foreign_certs() {
    let pki = Pki::temp();
    let known = pki.client("known", &bosh_subject("default.director.bosh-internal"));
    let unknown = pki.client("unknown", &bosh_subject("stranger.agent.bosh-internal"));
    let foreign = pki.foreign("foreign", &bosh_subject("default.director.bosh-internal"));
    let expired = pki.issue(
        "expired",
        CertSpec::client(&bosh_subject("default.director.bosh-internal")).expired(),
    );
    let s = map_server(
        &pki,
        &tagged_user(&bosh_subject("default.director.bosh-internal"), "d"),
    );
    expect_mapped_to(&s, &pki, &known, "d");
    // Valid chain, unknown subject: TLS succeeds, CONNECT is refused.
    expect_cert_auth_violation(&s, &pki.ca_file, &unknown, "");
    // No certificate, another CA, expired: refused by TLS itself.
    expect_tls_refused(&s, &pki.ca_file, None);
    expect_tls_refused(&s, &pki.ca_file, Some(&foreign));
    expect_tls_refused(&s, &pki.ca_file, Some(&expired));
}

#[test]
fn verify_and_map_with_user_in_connect_is_a_violation() {
    let pki = Pki::temp();
    let director = pki.client("director", &bosh_subject("default.director.bosh-internal"));
    let s = map_server(
        &pki,
        &[
            tagged_user(&bosh_subject("default.director.bosh-internal"), "d"),
            "    {user: admin, password: changeit}\n".to_string(),
        ]
        .concat(),
    );
    expect_cert_auth_violation(
        &s,
        &pki.ca_file,
        &director,
        r#""user":"admin","pass":"changeit""#,
    );
    expect_mapped_to(&s, &pki, &director, "d");
}

// ---------------------------------------------------------------- permissions

/// A server with an unrestricted user `root` and the user `u` with `perms`.
fn perm_server(perms: &str) -> ServerProcess {
    start(&format!(
        "authorization {{\n  users: [\n    {{user: root, password: r}}\n    {{user: u, password: p, permissions: {perms}}}\n  ]\n}}\n"
    ))
}

fn root(s: &ServerProcess) -> RawClient {
    raw_auth(s, r#""user":"root","pass":"r""#)
}

fn limited(s: &ServerProcess) -> RawClient {
    raw_auth(s, r#""user":"u","pass":"p""#)
}

#[test]
fn publish_violation_drops_the_message_and_keeps_the_connection() {
    let s = perm_server(r#"{publish: ["allowed.>", "one"], subscribe: ["in.*"]}"#);
    let mut watcher = root(&s);
    watcher.send(b"SUB > 1\r\n");
    watcher.expect_before_pong(b"");
    let mut u = limited(&s);
    u.send(b"PUB denied.x 2\r\nno\r\n");
    u.expect_before_pong(b"-ERR 'Permissions Violation for Publish to \"denied.x\"'\r\n");
    u.send(b"PUB allowed.a.b 2\r\nok\r\nPUB one 2\r\nok\r\n");
    u.expect_before_pong(b"");
    watcher.expect(b"MSG allowed.a.b 1 2\r\nok\r\nMSG one 1 2\r\nok\r\n");
    watcher.expect_before_pong(b"");
    // A subscription inside the allow list works; outside it is refused.
    u.send(b"SUB in.box 7\r\n");
    u.expect_before_pong(b"");
    u.send(b"SUB out.box 8\r\n");
    u.expect_before_pong(b"-ERR 'Permissions Violation for Subscription to \"out.box\"'\r\n");
    watcher.send(b"PUB in.box 2\r\nhi\r\nPUB out.box 2\r\nhi\r\n");
    watcher.expect_before_pong(b"MSG in.box 1 2\r\nhi\r\nMSG out.box 1 2\r\nhi\r\n");
    u.expect_before_pong(b"MSG in.box 7 2\r\nhi\r\n");
}

#[test]
fn deny_wins_over_allow_in_map_form() {
    let s = perm_server(
        r#"{publish: {allow: ["a.>"], deny: ["a.secret", "a.hidden.>"]}, subscribe: {allow: ["b.>"], deny: ["b.private"]}}"#,
    );
    let mut watcher = root(&s);
    watcher.send(b"SUB a.> 1\r\n");
    watcher.expect_before_pong(b"");
    let mut u = limited(&s);
    u.send(b"PUB a.secret 2\r\nno\r\n");
    u.expect_before_pong(b"-ERR 'Permissions Violation for Publish to \"a.secret\"'\r\n");
    u.send(b"PUB a.hidden.deep 2\r\nno\r\n");
    u.expect_before_pong(b"-ERR 'Permissions Violation for Publish to \"a.hidden.deep\"'\r\n");
    u.send(b"PUB a.open 2\r\nok\r\n");
    u.expect_before_pong(b"");
    watcher.expect_before_pong(b"MSG a.open 1 2\r\nok\r\n");
    u.send(b"SUB b.private 1\r\n");
    u.expect_before_pong(b"-ERR 'Permissions Violation for Subscription to \"b.private\"'\r\n");
    u.send(b"SUB b.public 2\r\n");
    u.expect_before_pong(b"");
}

#[test]
fn deny_only_lists_leave_everything_else_open() {
    let s = perm_server(r#"{publish: {deny: ["ops.>"]}, subscribe: {deny: ["ops.>"]}}"#);
    let mut u = limited(&s);
    u.send(b"SUB app.x 1\r\nPUB app.x 2\r\nhi\r\n");
    u.expect_before_pong(b"MSG app.x 1 2\r\nhi\r\n");
    u.send(b"PUB ops.restart 2\r\nhi\r\n");
    u.expect_before_pong(b"-ERR 'Permissions Violation for Publish to \"ops.restart\"'\r\n");
    u.send(b"SUB ops.log 2\r\n");
    u.expect_before_pong(b"-ERR 'Permissions Violation for Subscription to \"ops.log\"'\r\n");
}

#[test]
fn queue_qualified_subscribe_entries() {
    let s = perm_server(r#"{subscribe: ["foo q1", "bar.*"]}"#);
    let mut u = limited(&s);
    u.send(b"SUB foo q1 1\r\n");
    u.expect_before_pong(b"");
    u.send(b"SUB foo 2\r\n");
    u.expect_before_pong(b"-ERR 'Permissions Violation for Subscription to \"foo\"'\r\n");
    u.send(b"SUB foo q2 3\r\n");
    u.expect_before_pong(
        b"-ERR 'Permissions Violation for Subscription to \"foo\" using queue \"q2\"'\r\n",
    );
    u.send(b"SUB bar.x any 4\r\nSUB bar.y 5\r\n");
    u.expect_before_pong(b"");
    let mut r = root(&s);
    r.send(b"PUB foo 2\r\nhi\r\nPUB bar.x 2\r\nhi\r\n");
    r.expect_before_pong(b"");
    u.expect_before_pong(b"MSG foo 1 2\r\nhi\r\nMSG bar.x 4 2\r\nhi\r\n");
}

#[test]
fn wildcard_sub_over_a_denied_subject_is_accepted_but_filtered() {
    let s = perm_server(r#"{subscribe: {deny: ["a.b", "y.>"]}}"#);
    let mut u = limited(&s);
    u.send(b"SUB a.> 1\r\nSUB > 2\r\n");
    u.expect_before_pong(b"");
    let mut r = root(&s);
    r.send(b"PUB a.b 2\r\nno\r\nPUB y.z 2\r\nno\r\nPUB a.c 2\r\nok\r\n");
    r.expect_before_pong(b"");
    let got = u.read_for(Duration::from_millis(500));
    let text = String::from_utf8_lossy(&got);
    assert!(!text.contains("a.b") && !text.contains("y.z"), "{text:?}");
    assert!(
        text.contains("MSG a.c 1 2\r\nok\r\n") && text.contains("MSG a.c 2 2\r\nok\r\n"),
        "{text:?}"
    );
}

#[test]
fn subscribe_wider_than_the_allow_list_is_refused() {
    let s = perm_server(r#"{subscribe: ["a.>"]}"#);
    let mut u = limited(&s);
    u.send(b"SUB > 1\r\n");
    u.expect_before_pong(b"-ERR 'Permissions Violation for Subscription to \">\"'\r\n");
    u.send(b"SUB a.* 2\r\nSUB a.b.> 3\r\n");
    u.expect_before_pong(b"");
}

/// A requester (root, SUB `<inbox>` sid 1) asks `subject`; `responder` (SUB
/// `svc.>` sid 1) sees the request with its reply subject.
fn request(requester: &mut RawClient, responder: &mut RawClient, subject: &str, inbox: &str) {
    requester.send(format!("SUB {inbox} 1\r\nPUB {subject} {inbox} 3\r\nreq\r\n").as_bytes());
    requester.expect_before_pong(b"");
    responder.expect(format!("MSG {subject} 1 {inbox} 3\r\nreq\r\n").as_bytes());
}

#[test]
fn allow_responses_true_allows_one_reply_per_request() {
    let s = perm_server(r#"{publish: ["nowhere"], subscribe: ["svc.>"], allow_responses: true}"#);
    let mut req = root(&s);
    let mut svc = limited(&s);
    svc.send(b"SUB svc.> 1\r\n");
    svc.expect_before_pong(b"");
    request(&mut req, &mut svc, "svc.ping", "_INBOX.r1");
    svc.send(b"PUB _INBOX.r1 3\r\nrep\r\n");
    svc.expect_before_pong(b"");
    req.expect(b"MSG _INBOX.r1 1 3\r\nrep\r\n");
    // Only one reply: the second is refused and not delivered.
    svc.send(b"PUB _INBOX.r1 3\r\nrep\r\n");
    svc.expect_before_pong(b"-ERR 'Permissions Violation for Publish to \"_INBOX.r1\"'\r\n");
    // A subject it was not asked on stays refused.
    svc.send(b"PUB _INBOX.other 3\r\nrep\r\n");
    svc.expect_before_pong(b"-ERR 'Permissions Violation for Publish to \"_INBOX.other\"'\r\n");
    req.expect_before_pong(b"");
}

#[test]
fn allow_responses_with_max_and_expiry() {
    let s = perm_server(
        r#"{publish: ["nowhere"], subscribe: ["svc.>"], allow_responses: {max: 2, expires: "1s"}}"#,
    );
    let mut req = root(&s);
    let mut svc = limited(&s);
    svc.send(b"SUB svc.> 1\r\n");
    svc.expect_before_pong(b"");
    request(&mut req, &mut svc, "svc.stream", "_INBOX.m");
    svc.send(b"PUB _INBOX.m 1\r\n1\r\nPUB _INBOX.m 1\r\n2\r\n");
    svc.expect_before_pong(b"");
    svc.send(b"PUB _INBOX.m 1\r\n3\r\n");
    svc.expect_before_pong(b"-ERR 'Permissions Violation for Publish to \"_INBOX.m\"'\r\n");
    req.expect_before_pong(b"MSG _INBOX.m 1 1\r\n1\r\nMSG _INBOX.m 1 1\r\n2\r\n");

    let mut req2 = root(&s);
    request(&mut req2, &mut svc, "svc.slow", "_INBOX.late");
    std::thread::sleep(Duration::from_millis(1300));
    svc.send(b"PUB _INBOX.late 1\r\nx\r\n");
    svc.expect_before_pong(b"-ERR 'Permissions Violation for Publish to \"_INBOX.late\"'\r\n");
    req2.expect_before_pong(b"");
}

// ---------------------------------------------------------------- flags

#[test]
fn user_and_pass_flags() {
    let s = ServerProcess::start(BIN, &["--user", "flag-user", "--pass", "flag-pass"]);
    let c = RawClient::connect(&s.addr());
    assert_eq!(c.info_json()["auth_required"], true, "{}", c.info);
    drop(c);
    raw_auth(&s, r#""user":"flag-user","pass":"flag-pass""#);
    expect_auth_violation(&s, r#""user":"flag-user","pass":"nope""#);
    expect_auth_violation(&s, "");
}

#[test]
fn auth_flag_sets_a_token() {
    let s = ServerProcess::start(BIN, &["--auth", "flag-token"]);
    raw_auth(&s, r#""auth_token":"flag-token""#);
    expect_auth_violation(&s, r#""auth_token":"other""#);
}

#[tokio::test]
async fn tls_flags() {
    let pki = Pki::temp();
    let s = ServerProcess::start(
        BIN,
        &[
            "--tls",
            "--tlscert",
            pki.server.cert_str(),
            "--tlskey",
            pki.server.key_str(),
        ],
    );
    let c = RawClient::connect(&s.addr());
    assert_eq!(c.info_json()["tls_required"], true, "{}", c.info);
    drop(c);
    let nc = connect(tls_options(&pki, None).await, &s.url())
        .await
        .expect("TLS from flags");
    round_trip(&nc, "flags.tls").await;

    let client = pki.client("flagged", "CN=flagged");
    let v = ServerProcess::start(
        BIN,
        &[
            "--tlsverify",
            "--tlscert",
            pki.server.cert_str(),
            "--tlskey",
            pki.server.key_str(),
            "--tlscacert",
            pki.ca_str(),
        ],
    );
    let c = RawClient::connect(&v.addr());
    assert_eq!(c.info_json()["tls_verify"], true, "{}", c.info);
    drop(c);
    raw_tls(&v, &pki.ca_file, Some(&client), "");
    expect_tls_refused(&v, &pki.ca_file, None);
}

// ------------------------------------------- TLS and plain text on one port

#[test]
fn allow_non_tls_serves_plain_and_tls_clients_on_one_port() {
    let pki = Pki::temp();
    let conf = format!(
        "{}allow_non_tls: true\n",
        tls_block(&pki.server, pki.ca_str(), "")
    );
    let s = start(&conf);
    let mut plain = RawClient::connect(&s.addr());
    let info = plain.info_json();
    assert_eq!(info["tls_available"], true, "{}", plain.info);
    assert!(info.get("tls_required").is_none(), "{}", plain.info);
    plain.send(format!("CONNECT {QUIET}\r\nSUB mixed 1\r\n").as_bytes());
    plain.expect_before_pong(b"");
    let mut secure = raw_tls(&s, &pki.ca_file, None, "");
    expect_delivered(&mut secure, &mut plain, "mixed");
}

/// The BOSH fork's `allow_legacy_clients` (no reference binary can run it):
/// certificate clients over TLS, and plain-text clients with the single user.
#[test]
fn bosh_legacy_clients_use_the_single_user_in_plain_text() {
    let pki = Pki::temp();
    let agent = pki.client("agent", &bosh_subject("a1.agent.bosh-internal"));
    let conf = format!(
        "{}authorization {{\n  user: legacy\n  password: old-pw\n  certificate_clients: [\n    {{ client_name: agent.bosh-internal, permissions: {{ publish: [\"hm.agent.heartbeat._CLIENT_ID\"], subscribe: [\"agent._CLIENT_ID\"] }} }}\n  ]\n}}\nping_interval: \"2m\"\n",
        tls_block(
            &pki.server,
            pki.ca_str(),
            "verify: true\n  enable_cert_authorization: true\n  allow_legacy_clients: true"
        )
    );
    let s = start(&conf);
    let mut legacy = raw_auth(&s, r#""user":"legacy","pass":"old-pw""#);
    legacy.send(b"SUB hm.agent.heartbeat.* 1\r\n");
    legacy.expect_before_pong(b"");
    expect_auth_violation(&s, r#""user":"legacy","pass":"wrong""#);
    let mut a1 = raw_tls(&s, &pki.ca_file, Some(&agent), "");
    expect_delivered(&mut a1, &mut legacy, "hm.agent.heartbeat.a1");
    a1.send(b"PUB hm.agent.heartbeat.a2 0\r\n\r\n");
    a1.expect_before_pong(
        b"-ERR 'Permissions Violation for Publish to \"hm.agent.heartbeat.a2\"'\r\n",
    );
}

#[test]
fn pinned_certs_admit_only_the_named_public_keys() {
    use rustls_pki_types::pem::PemObject;
    use sha2::{Digest, Sha256};
    let pki = Pki::temp();
    let pinned = pki.client("pinned", &bosh_subject("pinned.client"));
    // Client certificates default to one shared RSA test key: the other one
    // needs a key of its own.
    let other = pki.issue(
        "other",
        CertSpec::client(&bosh_subject("other.client")).key(KeyKind::Ecdsa),
    );
    let der = rustls_pki_types::CertificateDer::from_pem_file(&pinned.cert).unwrap();
    let spki = gannet_auth::public_key_info(&der).unwrap();
    let hex: String = Sha256::digest(&spki)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let extra = format!("verify: true\n  pinned_certs: [\"{}\"]", hex.to_uppercase());
    let s = start(&tls_block(&pki.server, pki.ca_str(), &extra));
    let mut c = raw_tls(&s, &pki.ca_file, Some(&pinned), "");
    c.expect_before_pong(b"");
    let mut refused = RawClient::connect_tls(&s.addr(), tls_config(&pki.ca_file, Some(&other)));
    refused.try_send(format!("CONNECT {QUIET}\r\nPING\r\n").as_bytes());
    let (got, closed) = refused.read_to_close(Duration::from_secs(5));
    assert!(closed, "an unpinned certificate stays connected");
    assert!(!String::from_utf8_lossy(&got).contains("PONG"));
}
