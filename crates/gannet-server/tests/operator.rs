//! Operator mode: an operator, its accounts and their users made in the
//! test (keys with `nkeys`, JWTs signed here), a server trusting the
//! operator with the memory resolver, and clients logging in with
//! credentials files. Each case runs against Gannet and, when this machine
//! has it, nats-server 2.15, which must agree.
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use gannet_test::{free_port, RawClient, ServerProcess};
use nkeys::KeyPair;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_gannet-server");

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn binaries() -> Vec<String> {
    gannet_test::with_reference(BIN)
}

/// Signs `claims` (with `iss` set to `signer`'s public key) as a JWT.
fn sign(mut claims: serde_json::Value, signer: &KeyPair) -> String {
    claims["iss"] = json!(signer.public_key());
    if claims.get("iat").is_none() {
        claims["iat"] = json!(now());
    }
    if claims.get("jti").is_none() {
        claims["jti"] = json!(format!("J{}", rand_suffix()));
    }
    gannet_auth::jwt::encode(&claims, signer).expect("encode JWT")
}

fn rand_suffix() -> String {
    KeyPair::new_user().public_key()[1..13].to_string()
}

fn unlimited() -> serde_json::Value {
    json!({"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
           "wildcards": true, "conn": -1, "leaf": -1})
}

/// An operator with a system account SYS and an application account APP.
struct Trust {
    operator: KeyPair,
    sys: KeyPair,
    app: KeyPair,
    dir: tempfile::TempDir,
}

impl Trust {
    fn new() -> Trust {
        Trust {
            operator: KeyPair::new_operator(),
            sys: KeyPair::new_account(),
            app: KeyPair::new_account(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn operator_jwt(&self) -> String {
        sign(
            json!({"sub": self.operator.public_key(), "name": "OP",
                   "nats": {"type": "operator", "version": 2,
                            "system_account": self.sys.public_key()}}),
            &self.operator,
        )
    }

    /// The JWT of `account`, with `extra` merged into its `nats` claims.
    fn account_jwt(&self, account: &KeyPair, name: &str, extra: serde_json::Value) -> String {
        let mut nats = json!({"type": "account", "version": 2, "limits": unlimited()});
        if let Some(map) = extra.as_object() {
            for (k, v) in map {
                nats[k] = v.clone();
            }
        }
        sign(
            json!({"sub": account.public_key(), "name": name, "nats": nats}),
            &self.operator,
        )
    }

    /// A user of the account `issuer` signs for, with `extra` in its `nats` claims.
    fn user_jwt(&self, user: &KeyPair, issuer: &KeyPair, extra: serde_json::Value) -> String {
        let mut nats = json!({"type": "user", "version": 2, "pub": {}, "sub": {},
                              "subs": -1, "data": -1, "payload": -1});
        if let Some(map) = extra.as_object() {
            for (k, v) in map {
                nats[k] = v.clone();
            }
        }
        sign(
            json!({"sub": user.public_key(), "name": "u", "nats": nats}),
            issuer,
        )
    }

    /// A system account user logged in to `server`.
    async fn system_user(&self, server: &ServerProcess) -> async_nats::Client {
        let admin = KeyPair::new_user();
        let creds = self.creds(
            "admin",
            &self.user_jwt(&admin, &self.sys, json!({})),
            &admin,
        );
        login(server, &creds).await.expect("system user login")
    }

    /// A credentials file for `jwt` and `user`'s seed.
    fn creds(&self, name: &str, jwt: &str, user: &KeyPair) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.creds"));
        let text = format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
             ************************* IMPORTANT *************************\n\n\
             -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
            user.seed().unwrap()
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The server config: this operator, the memory resolver with SYS and
    /// APP (its JWT `app_jwt`) preloaded.
    fn config(&self, app_jwt: &str) -> String {
        self.config_with(&[(self.app.public_key(), app_jwt.to_string())])
    }

    /// The server config with SYS and `accounts` (public key, JWT) preloaded.
    fn config_with(&self, accounts: &[(String, String)]) -> String {
        let op = self.dir.path().join("op.jwt");
        std::fs::write(&op, self.operator_jwt()).unwrap();
        let mut preload = format!(
            "  {}: \"{}\"\n",
            self.sys.public_key(),
            self.account_jwt(&self.sys, "SYS", json!({}))
        );
        for (key, jwt) in accounts {
            preload.push_str(&format!("  {key}: \"{jwt}\"\n"));
        }
        format!(
            "http: \"127.0.0.1:-1\"\noperator: \"{}\"\nsystem_account: {}\nresolver: MEMORY\nresolver_preload: {{\n{preload}}}\n",
            op.display(),
            self.sys.public_key(),
        )
    }
}

async fn login(server: &ServerProcess, creds: &Path) -> Result<async_nats::Client, String> {
    let opts = async_nats::ConnectOptions::with_credentials_file(creds)
        .await
        .map_err(|e| e.to_string())?;
    tokio::time::timeout(
        Duration::from_secs(5),
        opts.retry_on_initial_connect()
            .max_reconnects(0)
            .connect(server.url()),
    )
    .await
    .map_err(|_| "timeout".to_string())?
    .map_err(|e| e.to_string())
}

/// Logs in with a raw CONNECT carrying `jwt` and the signature of the nonce
/// by `user` (or none): what the server answers first.
fn raw_login(server: &ServerProcess, jwt: Option<&str>, user: Option<&KeyPair>) -> String {
    use base64::Engine;
    let mut raw = RawClient::connect(&server.addr());
    let info = raw.info_json();
    let nonce = info["nonce"].as_str().unwrap_or("").to_string();
    let mut connect = json!({"verbose": false, "pedantic": false, "protocol": 1, "headers": true});
    if let Some(jwt) = jwt {
        connect["jwt"] = json!(jwt);
    }
    if let Some(user) = user {
        let sig = user.sign(nonce.as_bytes()).unwrap();
        connect["sig"] = json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig));
    }
    raw.send(format!("CONNECT {connect}\r\nPING\r\n").as_bytes());
    raw.read_line().trim_end().to_string()
}

const VIOLATION: &str = "-ERR 'Authorization Violation'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_with_credentials_log_in_and_the_refused_cases_match_the_reference() {
    for binary in binaries() {
        let t = Trust::new();
        let app_jwt = t.account_jwt(&t.app, "APP", json!({}));
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();
        let info = RawClient::connect(&server.addr()).info_json();
        assert_eq!(info["auth_required"], true, "{binary}");
        assert!(
            info["nonce"].as_str().is_some_and(|n| !n.is_empty()),
            "{binary}"
        );

        // A user of APP logs in with a creds file, publishes and subscribes.
        let alice = KeyPair::new_user();
        let alice_jwt = t.user_jwt(&alice, &t.app, json!({}));
        let client = login(&server, &t.creds("alice", &alice_jwt, &alice))
            .await
            .unwrap_or_else(|e| panic!("{binary}: alice refused: {e}"));
        let mut sub = client.subscribe("greet").await.unwrap();
        client.publish("greet", "hi".into()).await.unwrap();
        let m = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.payload, "hi".as_bytes());
        assert_eq!(
            raw_login(&server, Some(&alice_jwt), Some(&alice)),
            "PONG",
            "{binary}"
        );

        // Refused: no credentials; a JWT without the nonce signature; a
        // seed that is not the JWT's; a tampered JWT; an account the
        // resolver does not know; a user signed by the operator itself; an
        // expired user.
        assert_eq!(raw_login(&server, None, None), VIOLATION, "{binary}: none");
        assert_eq!(
            raw_login(&server, Some(&alice_jwt), None),
            VIOLATION,
            "{binary}: no sig"
        );
        let mallory = KeyPair::new_user();
        assert_eq!(
            raw_login(&server, Some(&alice_jwt), Some(&mallory)),
            VIOLATION,
            "{binary}: wrong seed"
        );
        let mut parts: Vec<String> = alice_jwt.split('.').map(str::to_string).collect();
        let forged_claims = t.user_jwt(&mallory, &t.app, json!({}));
        parts[1] = forged_claims.split('.').nth(1).unwrap().to_string();
        let tampered = parts.join(".");
        assert_eq!(
            raw_login(&server, Some(&tampered), Some(&mallory)),
            VIOLATION,
            "{binary}: tampered"
        );
        let stranger_account = KeyPair::new_account();
        let orphan = KeyPair::new_user();
        let orphan_jwt = t.user_jwt(&orphan, &stranger_account, json!({}));
        assert_eq!(
            raw_login(&server, Some(&orphan_jwt), Some(&orphan)),
            VIOLATION,
            "{binary}: unknown account"
        );
        let direct = KeyPair::new_user();
        let direct_jwt = t.user_jwt(&direct, &t.operator, json!({}));
        assert_eq!(
            raw_login(&server, Some(&direct_jwt), Some(&direct)),
            VIOLATION,
            "{binary}: signed by the operator"
        );
        let late = KeyPair::new_user();
        let mut late_claims = json!({"sub": late.public_key(), "name": "late", "exp": now() - 60,
            "nats": {"type": "user", "version": 2, "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1}});
        late_claims["iat"] = json!(now() - 120);
        let late_jwt = sign(late_claims, &t.app);
        assert_eq!(
            raw_login(&server, Some(&late_jwt), Some(&late)),
            VIOLATION,
            "{binary}: expired"
        );
        // A bearer token needs no signature.
        let bearer = KeyPair::new_user();
        let bearer_jwt = t.user_jwt(&bearer, &t.app, json!({"bearer_token": true}));
        assert_eq!(
            raw_login(&server, Some(&bearer_jwt), None),
            "PONG",
            "{binary}: bearer"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_keys_permissions_and_revocations_apply() {
    for binary in binaries() {
        let t = Trust::new();
        let signer = KeyPair::new_account();
        let revoked = KeyPair::new_user();
        let app_jwt = t.account_jwt(
            &t.app,
            "APP",
            json!({"signing_keys": [signer.public_key()],
                   "revocations": {revoked.public_key(): now() + 3600}}),
        );
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();

        // A user signed by the account's signing key names its account.
        let scoped = KeyPair::new_user();
        let good = t.user_jwt(
            &scoped,
            &signer,
            json!({"issuer_account": t.app.public_key()}),
        );
        assert_eq!(
            raw_login(&server, Some(&good), Some(&scoped)),
            "PONG",
            "{binary}: signing key"
        );
        let without = t.user_jwt(&scoped, &signer, json!({}));
        assert_eq!(
            raw_login(&server, Some(&without), Some(&scoped)),
            VIOLATION,
            "{binary}: signing key without issuer_account"
        );
        // A key the account does not list.
        let rogue = KeyPair::new_account();
        let forged = t.user_jwt(
            &scoped,
            &rogue,
            json!({"issuer_account": t.app.public_key()}),
        );
        assert_eq!(
            raw_login(&server, Some(&forged), Some(&scoped)),
            VIOLATION,
            "{binary}: unknown signing key"
        );
        // A revoked user.
        let revoked_jwt = t.user_jwt(&revoked, &t.app, json!({}));
        assert_eq!(
            raw_login(&server, Some(&revoked_jwt), Some(&revoked)),
            VIOLATION,
            "{binary}: revoked"
        );

        // Permissions from the user JWT.
        let limited = KeyPair::new_user();
        let limited_jwt = t.user_jwt(
            &limited,
            &t.app,
            json!({"pub": {"allow": ["ok.>"]}, "sub": {"deny": ["secret"]}}),
        );
        let mut raw = raw_session(&server, &limited_jwt, &limited);
        raw.expect(b"PONG\r\n");
        raw.send(b"PUB nope 1\r\nx\r\nPING\r\n");
        raw.expect(b"-ERR 'Permissions Violation for Publish to \"nope\"'\r\nPONG\r\n");
        raw.send(b"SUB secret 1\r\nPING\r\n");
        raw.expect(b"-ERR 'Permissions Violation for Subscription to \"secret\"'\r\nPONG\r\n");
        raw.send(b"SUB ok.x 2\r\nPUB ok.x 1\r\ny\r\nPING\r\n");
        raw.expect(b"MSG ok.x 2 1\r\ny\r\nPONG\r\n");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_connection_limits_and_missing_limits_match_the_reference() {
    let mut outcomes = Vec::new();
    for binary in binaries() {
        // limits.conn: 1 — the second connection is refused.
        let t = Trust::new();
        let mut limits = unlimited();
        limits["conn"] = json!(1);
        let app_jwt = t.account_jwt(&t.app, "APP", json!({ "limits": limits }));
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();
        let u = KeyPair::new_user();
        let u_jwt = t.user_jwt(&u, &t.app, json!({}));
        let mut first = raw_session(&server, &u_jwt, &u);
        first.expect(b"PONG\r\n");
        let second = raw_login(&server, Some(&u_jwt), Some(&u));
        assert_eq!(
            second, "-ERR 'maximum account active connections exceeded'",
            "{binary}"
        );
        drop(first);
        drop(server);

        // An account JWT without any limits.
        let t = Trust::new();
        let bare = sign(
            json!({"sub": t.app.public_key(), "name": "APP", "nats": {"type": "account", "version": 2}}),
            &t.operator,
        );
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&bare))
            .start();
        let v = KeyPair::new_user();
        let v_jwt = t.user_jwt(&v, &t.app, json!({}));
        outcomes.push(raw_login(&server, Some(&v_jwt), Some(&v)));
    }
    // As in nats-server, a limit the JWT leaves out is zero, not unlimited:
    // an account without `limits` takes no connection (nats-server reports
    // the zero connection or the zero subscription limit, whichever it
    // checks first).
    for outcome in &outcomes {
        assert!(
            outcome == "-ERR 'maximum account active connections exceeded'"
                || outcome == "-ERR 'maximum subscriptions exceeded'",
            "{outcome}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_updates_apply_at_once() {
    for binary in binaries() {
        let t = Trust::new();
        let mut limits = unlimited();
        limits["conn"] = json!(1);
        let app_jwt = t.account_jwt(&t.app, "APP", json!({ "limits": limits }));
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();
        let sys = t.system_user(&server).await;

        // One connection of APP is the limit.
        let (u1, u2) = (KeyPair::new_user(), KeyPair::new_user());
        let (u1_jwt, u2_jwt) = (
            t.user_jwt(&u1, &t.app, json!({})),
            t.user_jwt(&u2, &t.app, json!({})),
        );
        let mut live = raw_session(&server, &u1_jwt, &u1);
        live.expect(b"PONG\r\n");
        assert_eq!(
            raw_login(&server, Some(&u2_jwt), Some(&u2)),
            "-ERR 'maximum account active connections exceeded'",
            "{binary}"
        );

        // An update signed by another operator is refused.
        let rogue = KeyPair::new_operator();
        let forged = sign(
            json!({"sub": t.app.public_key(), "name": "APP",
                   "nats": {"type": "account", "version": 2, "limits": unlimited()}}),
            &rogue,
        );
        let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", t.app.public_key());
        let answer = sys
            .request(subject.clone(), forged.into())
            .await
            .unwrap_or_else(|e| panic!("{binary}: {e}"));
        let doc: serde_json::Value = serde_json::from_slice(&answer.payload).unwrap();
        assert_eq!(doc["error"]["code"], 500, "{binary}: {doc}");
        assert_eq!(
            doc["error"]["description"], "jwt update resulted in error - account validation failed",
            "{binary}"
        );

        // No limit any more, and u1 revoked: its live connection ends, u2
        // gets in, u1 no longer does.
        std::thread::sleep(Duration::from_millis(1100));
        let updated = t.account_jwt(
            &t.app,
            "APP",
            json!({"revocations": {u1.public_key(): now()}}),
        );
        let answer = sys.request(subject, updated.into()).await.unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&answer.payload).unwrap();
        assert_eq!(doc["data"]["message"], "jwt updated", "{binary}: {doc}");
        assert_eq!(doc["data"]["code"], 200, "{binary}");
        assert_eq!(
            doc["data"]["account"],
            t.app.public_key().as_str(),
            "{binary}"
        );
        let (_, closed) = live.read_to_close(Duration::from_secs(5));
        assert!(closed, "{binary}: the revoked user's connection ends");
        assert_eq!(
            raw_login(&server, Some(&u2_jwt), Some(&u2)),
            "PONG",
            "{binary}"
        );
        assert_eq!(
            raw_login(&server, Some(&u1_jwt), Some(&u1)),
            VIOLATION,
            "{binary}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_resolver_keeps_pushed_accounts_across_a_restart() {
    for binary in binaries() {
        let t = Trust::new();
        let jwt_dir = t.dir.path().join("jwt");
        let op = t.dir.path().join("op.jwt");
        std::fs::write(&op, t.operator_jwt()).unwrap();
        let config = format!(
            "http: \"127.0.0.1:-1\"\noperator: \"{}\"\nsystem_account: {}\nresolver: {{ type: full, dir: \"{}\" }}\nresolver_preload: {{\n  {}: \"{}\"\n}}\n",
            op.display(),
            t.sys.public_key(),
            jwt_dir.display(),
            t.sys.public_key(),
            t.account_jwt(&t.sys, "SYS", json!({})),
        );
        let mut server = ServerProcess::builder(&binary).config(&config).start();
        let admin = KeyPair::new_user();
        let admin_creds = t.creds("admin", &t.user_jwt(&admin, &t.sys, json!({})), &admin);
        let sys = login(&server, &admin_creds).await.unwrap();

        // A new account, pushed: its users get in.
        let app_jwt = t.account_jwt(&t.app, "APP", json!({}));
        let answer = sys
            .request("$SYS.REQ.CLAIMS.UPDATE", app_jwt.clone().into())
            .await
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&answer.payload).unwrap();
        assert_eq!(doc["data"]["message"], "jwt updated", "{binary}: {doc}");
        let u = KeyPair::new_user();
        let u_jwt = t.user_jwt(&u, &t.app, json!({}));
        assert_eq!(
            raw_login(&server, Some(&u_jwt), Some(&u)),
            "PONG",
            "{binary}"
        );
        let found = sys
            .request(
                format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.LOOKUP", t.app.public_key()),
                "".into(),
            )
            .await
            .unwrap();
        assert_eq!(found.payload, app_jwt.as_bytes(), "{binary}");
        let listed = sys
            .request("$SYS.REQ.CLAIMS.LIST", "".into())
            .await
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&listed.payload).unwrap();
        let keys: Vec<&str> = doc["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|k| k.as_str())
            .collect();
        assert!(
            keys.contains(&t.app.public_key().as_str()),
            "{binary}: {doc}"
        );
        assert!(
            jwt_dir
                .join(format!("{}.jwt", t.app.public_key()))
                .is_file(),
            "{binary}: stored as <key>.jwt"
        );
        drop(sys);

        // After a restart the account is still there.
        let port: u16 = server.addr().rsplit(':').next().unwrap().parse().unwrap();
        assert!(server.terminate(Duration::from_secs(5)));
        let server = ServerProcess::builder(&binary)
            .config(&config)
            .port(port)
            .start();
        assert_eq!(
            raw_login(&server, Some(&u_jwt), Some(&u)),
            "PONG",
            "{binary}: after restart"
        );
    }
}

/// A leaf (`leaf_binary`) logging in to an operator-mode hub (`hub_binary`)
/// with a credentials file: the link binds it to the user's account, and
/// messages cross both ways; a user of an unknown account gets no link.
async fn check_leaf_credentials(hub_binary: &str, leaf_binary: &str) {
    let t = Trust::new();
    let port = free_port();
    let app_jwt = t.account_jwt(&t.app, "APP", json!({}));
    let hub_conf = format!(
        "{}leafnodes {{ listen: \"127.0.0.1:{port}\" }}\n",
        t.config(&app_jwt)
    );
    let hub = ServerProcess::builder(hub_binary).config(&hub_conf).start();
    let leaf_user = KeyPair::new_user();
    let leaf_creds = t.creds(
        "leaf",
        &t.user_jwt(&leaf_user, &t.app, json!({})),
        &leaf_user,
    );
    let leaf_conf = |creds: &Path| {
        format!(
            "server_name: LEAF\nhttp: \"127.0.0.1:-1\"\n\
             accounts {{ LAPP {{ users = [ {{ user: lapp, password: lapp }} ] }} }}\n\
             no_auth_user: lapp\n\
             leafnodes {{ remotes: [ {{ url: \"nats-leaf://127.0.0.1:{port}\", credentials: \"{}\", account: LAPP }} ] }}\n",
            creds.display()
        )
    };
    let leaf = ServerProcess::builder(leaf_binary)
        .config(&leaf_conf(&leaf_creds))
        .start();
    let alice = KeyPair::new_user();
    let on_hub = login(
        &hub,
        &t.creds("alice", &t.user_jwt(&alice, &t.app, json!({})), &alice),
    )
    .await
    .unwrap();
    let on_leaf = async_nats::connect(leaf.url()).await.unwrap();
    let mut at_hub = on_hub.subscribe("from.leaf").await.unwrap();
    on_hub.flush().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        on_leaf.publish("from.leaf", "x".into()).await.unwrap();
        on_leaf.flush().await.unwrap();
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(100), at_hub.next()).await {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{hub_binary} <- {leaf_binary}: the leaf never got in\n{}",
            hub.log()
        );
    }
    let mut at_leaf = on_leaf.subscribe("to.leaf").await.unwrap();
    on_leaf.flush().await.unwrap();
    loop {
        on_hub.publish("to.leaf", "y".into()).await.unwrap();
        on_hub.flush().await.unwrap();
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(100), at_leaf.next()).await
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "hub to leaf");
    }
    let leafz: serde_json::Value = serde_json::from_str(&hub.http_get("/leafz").1).unwrap();
    assert_eq!(
        leafz["leafs"][0]["account"],
        t.app.public_key().as_str(),
        "{leafz:#}"
    );

    // The leaf's user revoked by a claim update: the link ends and stays down.
    let sys = t.system_user(&hub).await;
    std::thread::sleep(Duration::from_millis(1100));
    let revoked = t.account_jwt(
        &t.app,
        "APP",
        json!({"revocations": {leaf_user.public_key(): now()}}),
    );
    let answer = sys
        .request(
            format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", t.app.public_key()),
            revoked.into(),
        )
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&answer.payload).contains("jwt updated"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let leafz: serde_json::Value = serde_json::from_str(&hub.http_get("/leafz").1).unwrap();
        if leafz["leafnodes"] == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{hub_binary}: the revoked leaf stays linked: {leafz:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let leafz: serde_json::Value = serde_json::from_str(&hub.http_get("/leafz").1).unwrap();
    assert_eq!(
        leafz["leafnodes"], 0,
        "{hub_binary}: the revoked leaf came back"
    );

    // A user of an account the hub does not know: no link.
    let stranger = KeyPair::new_user();
    let stranger_creds = t.creds(
        "stranger",
        &t.user_jwt(&stranger, &KeyPair::new_account(), json!({})),
        &stranger,
    );
    let refused = ServerProcess::builder(leaf_binary)
        .config(&leaf_conf(&stranger_creds))
        .start();
    std::thread::sleep(Duration::from_millis(1500));
    let leafz: serde_json::Value = serde_json::from_str(&refused.http_get("/leafz").1).unwrap();
    assert_eq!(leafz["leafnodes"], 0, "{leafz:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leafs_log_in_to_an_operator_mode_hub_with_credentials() {
    check_leaf_credentials(BIN, BIN).await;
    if let Some(reference) = gannet_test::reference_server_binary() {
        check_leaf_credentials(BIN, &reference).await;
        check_leaf_credentials(&reference, BIN).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_whose_jwt_expires_is_cut_then() {
    for binary in binaries() {
        let t = Trust::new();
        let app_jwt = t.account_jwt(&t.app, "APP", json!({}));
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();
        let sys = t.system_user(&server).await;
        let mut gone = sys
            .subscribe(format!("$SYS.ACCOUNT.{}.DISCONNECT", t.app.public_key()))
            .await
            .unwrap();
        sys.flush().await.unwrap();
        let brief = KeyPair::new_user();
        let brief_jwt = sign(
            json!({"sub": brief.public_key(), "name": "brief", "exp": now() + 2,
                   "nats": {"type": "user", "version": 2, "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1}}),
            &t.app,
        );
        let mut raw = raw_session(&server, &brief_jwt, &brief);
        raw.expect(b"PONG\r\n");
        expect_cut(&mut raw, 6, "-ERR 'User Authentication Expired'", &binary);
        let event = tokio::time::timeout(Duration::from_secs(5), gone.next())
            .await
            .expect("DISCONNECT event")
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&event.payload).unwrap();
        assert_eq!(doc["reason"], "Authentication Expired", "{binary}: {doc}");
    }
}

/// Waits (at most `secs` seconds) for the server to close `raw`, having
/// sent `err` first; `context` names the case in failures.
fn expect_cut(raw: &mut RawClient, secs: u64, err: &str, context: &str) {
    let (rest, closed) = raw.read_to_close(Duration::from_secs(secs));
    let rest = String::from_utf8_lossy(&rest);
    assert!(closed, "{context}: the connection stays: {rest:?}");
    assert!(rest.contains(err), "{context}: {rest:?}");
}

/// Logs `user` (its JWT `jwt`) in over a raw connection, past the PONG.
fn raw_session(server: &ServerProcess, jwt: &str, user: &KeyPair) -> RawClient {
    use base64::Engine;
    let mut raw = RawClient::connect(&server.addr());
    let nonce = raw.info_json()["nonce"].as_str().unwrap().to_string();
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(user.sign(nonce.as_bytes()).unwrap());
    raw.send(
        format!(
            "CONNECT {}\r\nPING\r\n",
            json!({"verbose": false, "jwt": jwt, "sig": sig})
        )
        .as_bytes(),
    );
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_account_limits_apply() {
    for binary in binaries() {
        let t = Trust::new();
        let mut limits = unlimited();
        limits["subs"] = json!(3);
        let app_jwt = t.account_jwt(&t.app, "APP", json!({ "limits": limits }));
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();

        // The user's own limits: 1 subscription, 5-byte payloads.
        let small = KeyPair::new_user();
        let small_jwt = t.user_jwt(&small, &t.app, json!({"subs": 1, "payload": 5}));
        let mut raw = raw_session(&server, &small_jwt, &small);
        raw.expect(b"PONG\r\n");
        raw.send(b"SUB a 1\r\nSUB b 2\r\nPING\r\n");
        raw.expect(b"-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");
        raw.send(b"PUB a 5\r\nhello\r\nPING\r\n");
        raw.expect(b"MSG a 1 5\r\nhello\r\nPONG\r\n");
        raw.send(b"PUB a 6\r\nhello!\r\n");
        expect_cut(&mut raw, 3, "-ERR 'Maximum Payload Violation'", &binary);

        // The account's limit, for a user without one of its own.
        let big = KeyPair::new_user();
        let big_jwt = t.user_jwt(&big, &t.app, json!({}));
        let mut raw = raw_session(&server, &big_jwt, &big);
        raw.expect(b"PONG\r\n");
        raw.send(b"SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nSUB d 4\r\nPING\r\n");
        raw.expect(b"-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n");

        // A user JWT that leaves `subs` out allows none: it is cut.
        let none = KeyPair::new_user();
        let none_jwt = sign(
            json!({"sub": none.public_key(), "name": "none",
                   "nats": {"type": "user", "version": 2, "payload": -1, "data": -1}}),
            &t.app,
        );
        let mut raw = raw_session(&server, &none_jwt, &none);
        expect_cut(
            &mut raw,
            3,
            "-ERR 'maximum subscriptions exceeded'",
            &binary,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_exports_and_imports_connect_accounts() {
    for binary in binaries() {
        let t = Trust::new();
        let exp = KeyPair::new_account();
        let other = KeyPair::new_account();
        let exp_jwt = t.account_jwt(
            &exp,
            "EXP",
            json!({"exports": [
                {"name": "events", "subject": "events.>", "type": "stream"},
                {"name": "echo", "subject": "svc.echo", "type": "service"},
                {"name": "secret", "subject": "svc.secret", "type": "service", "token_req": true}
            ]}),
        );
        let activation = sign(
            json!({"sub": t.app.public_key(), "name": "secret for APP",
                   "nats": {"type": "activation", "version": 2, "subject": "svc.secret", "kind": "service"}}),
            &exp,
        );
        let app_jwt = t.account_jwt(
            &t.app,
            "APP",
            json!({"imports": [
                {"name": "events", "subject": "events.>", "account": exp.public_key(), "type": "stream"},
                {"name": "echo", "subject": "svc.echo", "account": exp.public_key(), "type": "service", "local_subject": "echo"},
                {"name": "secret", "subject": "svc.secret", "account": exp.public_key(), "type": "service", "token": activation}
            ]}),
        );
        let other_jwt = t.account_jwt(
            &other,
            "OTHER",
            json!({"imports": [
                {"name": "secret", "subject": "svc.secret", "account": exp.public_key(), "type": "service"}
            ]}),
        );
        let config = t.config_with(&[
            (t.app.public_key(), app_jwt),
            (exp.public_key(), exp_jwt),
            (other.public_key(), other_jwt),
        ]);
        let server = ServerProcess::builder(&binary).config(&config).start();

        let user_of = |account: &KeyPair, name: &str| {
            let u = KeyPair::new_user();
            let jwt = t.user_jwt(&u, account, json!({}));
            t.creds(name, &jwt, &u)
        };
        let on_exp = login(&server, &user_of(&exp, "e")).await.unwrap();
        let on_app = login(&server, &user_of(&t.app, "a")).await.unwrap();
        let on_other = login(&server, &user_of(&other, "o")).await.unwrap();

        // The stream crosses into APP (published until it does: nats-server
        // wires an import when it loads the account, which it may do late).
        let mut events = on_app.subscribe("events.>").await.unwrap();
        on_app.flush().await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let m = loop {
            on_exp.publish("events.x", "e1".into()).await.unwrap();
            on_exp.flush().await.unwrap();
            if let Ok(Some(m)) =
                tokio::time::timeout(Duration::from_millis(200), events.next()).await
            {
                break m;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{binary}: stream import"
            );
        };
        assert_eq!(m.payload, "e1".as_bytes(), "{binary}");

        // Services: the public one under its local name, the private one
        // with the activation token.
        for subject in ["svc.echo", "svc.secret"] {
            let mut svc = on_exp.subscribe(subject.to_string()).await.unwrap();
            let answering = on_exp.clone();
            tokio::spawn(async move {
                while let Some(req) = svc.next().await {
                    if let Some(reply) = req.reply {
                        answering.publish(reply, req.payload).await.unwrap();
                        answering.flush().await.unwrap();
                    }
                }
            });
        }
        on_exp.flush().await.unwrap();
        for (subject, body) in [("echo", "hi"), ("svc.secret", "s")] {
            let deadline = std::time::Instant::now() + Duration::from_secs(15);
            let answer = loop {
                match tokio::time::timeout(
                    Duration::from_secs(2),
                    on_app.request(subject.to_string(), body.into()),
                )
                .await
                {
                    Ok(Ok(answer)) => break answer,
                    other => assert!(
                        std::time::Instant::now() < deadline,
                        "{binary}: {subject}: {other:?}"
                    ),
                }
            };
            assert_eq!(answer.payload, body.as_bytes(), "{binary}");
        }
        // Without a token, OTHER's import is not installed.
        let refused = tokio::time::timeout(
            Duration::from_secs(2),
            on_other.request("svc.secret", "x".into()),
        )
        .await;
        assert!(
            !matches!(refused, Ok(Ok(_))),
            "{binary}: an import without its token was answered"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_events_describe_jwt_users() {
    for binary in binaries() {
        let t = Trust::new();
        let app_jwt = t.account_jwt(&t.app, "APP", json!({}));
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();
        let sys = t.system_user(&server).await;
        let mut connects = sys
            .subscribe(format!("$SYS.ACCOUNT.{}.CONNECT", t.app.public_key()))
            .await
            .unwrap();
        sys.flush().await.unwrap();
        let user = KeyPair::new_user();
        let jwt = t.user_jwt(&user, &t.app, json!({"tags": ["blue"]}));
        let _client = login(&server, &t.creds("tagged", &jwt, &user))
            .await
            .unwrap();
        let event = tokio::time::timeout(Duration::from_secs(5), connects.next())
            .await
            .expect("CONNECT event")
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&event.payload).unwrap();
        let client = &doc["client"];
        assert_eq!(
            client["acc"],
            t.app.public_key().as_str(),
            "{binary}: {doc:#}"
        );
        assert_eq!(client["user"], user.public_key().as_str(), "{binary}");
        assert_eq!(client["jwt"], jwt.as_str(), "{binary}");
        assert_eq!(
            client["issuer_key"],
            t.app.public_key().as_str(),
            "{binary}"
        );
        assert_eq!(client["name_tag"], "APP", "{binary}");
        assert_eq!(client["tags"], json!(["blue"]), "{binary}");
    }
}

/// Two servers of a cluster with the full resolver, each in its own
/// directory: an account pushed to `first` while `second` was away reaches
/// `second` when it joins (the pack exchange), and its users get in there.
/// The config of server `name` of a two-server cluster with full resolvers
/// (JWTs in `dir` under the test's directory, synced every `interval`),
/// routing from `listen` to `peer`.
fn resolver_cluster_config(
    t: &Trust,
    name: &str,
    dir: &str,
    interval: &str,
    listen: u16,
    peer: u16,
) -> String {
    let op = t.dir.path().join("op.jwt");
    std::fs::write(&op, t.operator_jwt()).unwrap();
    format!(
        "server_name: {name}\nhttp: \"127.0.0.1:-1\"\noperator: \"{}\"\nsystem_account: {}\n\
         resolver: {{ type: full, dir: \"{}\", interval: \"{interval}\" }}\n\
         resolver_preload: {{\n  {}: \"{}\"\n}}\n\
         cluster {{ name: C, listen: \"127.0.0.1:{listen}\", routes: [\"nats-route://127.0.0.1:{peer}\"] }}\n",
        op.display(),
        t.sys.public_key(),
        t.dir.path().join(dir).display(),
        t.sys.public_key(),
        t.account_jwt(&t.sys, "SYS", json!({})),
    )
}

/// Starts the first server of such a cluster (`one`, routing from `listen`
/// to `peer`) and pushes APP to it while it is alone.
async fn first_server_with_app(
    t: &Trust,
    binary: &str,
    interval: &str,
    listen: u16,
    peer: u16,
) -> ServerProcess {
    let first = ServerProcess::builder(binary)
        .config(&resolver_cluster_config(
            t, "S1", "one", interval, listen, peer,
        ))
        .start();
    let sys = t.system_user(&first).await;
    let answer = sys
        .request(
            "$SYS.REQ.CLAIMS.UPDATE",
            t.account_jwt(&t.app, "APP", json!({})).into(),
        )
        .await
        .unwrap();
    assert!(
        String::from_utf8_lossy(&answer.payload).contains("jwt updated"),
        "{binary}"
    );
    first
}

/// Waits until `server` has a route, and a moment more for the system
/// account's interest to cross it.
fn wait_for_route(server: &ServerProcess) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let routez: serde_json::Value =
            serde_json::from_str(&server.http_get("/routez").1).unwrap();
        if routez["num_routes"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no route");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
}

/// Two servers with full resolvers; an account pushed to the first while
/// alone reaches the second: through the periodic sync (`interval` 1 s),
/// or, when that is an hour away, through the lookup the second makes when
/// a user of the account logs in there (the first login then succeeds).
async fn full_resolvers_catch_up(first_bin: &str, second_bin: &str, by_lookup: bool) {
    let t = Trust::new();
    let (r1, r2) = (free_port(), free_port());
    let interval = if by_lookup { "1h" } else { "1s" };
    let _first = first_server_with_app(&t, first_bin, interval, r1, r2).await;
    let second = ServerProcess::builder(second_bin)
        .config(&resolver_cluster_config(&t, "S2", "two", interval, r2, r1))
        .start();
    let u = KeyPair::new_user();
    let u_jwt = t.user_jwt(&u, &t.app, json!({}));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    if by_lookup {
        wait_for_route(&second);
        assert_eq!(
            raw_login(&second, Some(&u_jwt), Some(&u)),
            "PONG",
            "{first_bin} -> {second_bin}: the second server did not look the account up\n{}",
            second.log()
        );
        return;
    }
    loop {
        if raw_login(&second, Some(&u_jwt), Some(&u)) == "PONG" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{first_bin} -> {second_bin}: the account never reached the second server\n{}",
            second.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_resolvers_keep_a_cluster_in_step() {
    full_resolvers_catch_up(BIN, BIN, false).await;
    if let Some(reference) = gannet_test::reference_server_binary() {
        full_resolvers_catch_up(BIN, &reference, false).await;
        full_resolvers_catch_up(&reference, BIN, false).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_into_an_unknown_account_looks_it_up_in_the_cluster() {
    full_resolvers_catch_up(BIN, BIN, true).await;
    if let Some(reference) = gannet_test::reference_server_binary() {
        full_resolvers_catch_up(BIN, &reference, true).await;
        full_resolvers_catch_up(&reference, BIN, true).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_info_names_the_jwt_user_and_account() {
    for binary in binaries() {
        let t = Trust::new();
        let app_jwt = t.account_jwt(&t.app, "APP", json!({}));
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();
        let user = KeyPair::new_user();
        let jwt = t.user_jwt(&user, &t.app, json!({"sub": {"deny": ["secret.>"]}}));
        let client = login(&server, &t.creds("named", &jwt, &user))
            .await
            .unwrap();
        let answer = client
            .request("$SYS.REQ.USER.INFO", "".into())
            .await
            .unwrap_or_else(|e| panic!("{binary}: {e}"));
        let doc: serde_json::Value = serde_json::from_slice(&answer.payload).unwrap();
        let data = doc["data"].clone();
        assert_eq!(data["user"], user.public_key().as_str(), "{binary}: {doc}");
        assert_eq!(data["account"], t.app.public_key().as_str(), "{binary}");
        assert_eq!(data["account_name"], "APP", "{binary}: {doc}");
        assert_eq!(data["user_name"], "u", "{binary}: {doc}");
        assert_eq!(
            data["permissions"],
            json!({"publish": {}, "subscribe": {"deny": ["secret.>"]}}),
            "{binary}: {doc}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_accounts_survive_a_reload() {
    let t = Trust::new();
    // No `system_account` line: the operator JWT names it.
    let config = t
        .config_with(&[])
        .replace(&format!("system_account: {}\n", t.sys.public_key()), "");
    let server = ServerProcess::builder(BIN).config(&config).start();
    let admin = KeyPair::new_user();
    let admin_creds = t.creds("admin", &t.user_jwt(&admin, &t.sys, json!({})), &admin);
    let sys = login(&server, &admin_creds).await.unwrap();
    let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", t.app.public_key());
    let answer = sys
        .request(subject, t.account_jwt(&t.app, "APP", json!({})).into())
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&answer.payload).contains("jwt updated"));
    let u = KeyPair::new_user();
    let u_jwt = t.user_jwt(&u, &t.app, json!({}));
    assert_eq!(raw_login(&server, Some(&u_jwt), Some(&u)), "PONG");

    std::fs::write(server.config_path(), &config).unwrap();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let log = server.wait_log("Reloaded server configuration");
    assert!(!log.contains("system account"), "no restart needed: {log}");
    assert_eq!(
        raw_login(&server, Some(&u_jwt), Some(&u)),
        "PONG",
        "after the reload"
    );
    // The system account is still the operator's.
    let again = login(&server, &admin_creds).await.unwrap();
    let info = again
        .request("$SYS.REQ.SERVER.PING", "".into())
        .await
        .expect("a system account request after the reload");
    assert!(!info.payload.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_and_account_token_positions_follow_the_account() {
    for binary in binaries() {
        let t = Trust::new();
        let exp = KeyPair::new_account();
        let mut limits = unlimited();
        limits["disallow_bearer"] = json!(true);
        let app_jwt = t.account_jwt(
            &t.app,
            "APP",
            json!({"limits": limits, "imports": [
                {"name": "mine", "subject": format!("orders.{}.>", t.app.public_key()),
                 "account": exp.public_key(), "type": "stream"},
                {"name": "theirs", "subject": format!("orders.{}.>", exp.public_key()),
                 "account": exp.public_key(), "type": "stream"}
            ]}),
        );
        let exp_jwt = t.account_jwt(
            &exp,
            "EXP",
            json!({"exports": [{"name": "orders", "subject": "orders.*.>", "type": "stream",
                                "account_token_position": 2}]}),
        );
        let server = ServerProcess::builder(&binary)
            .config(&t.config_with(&[(t.app.public_key(), app_jwt), (exp.public_key(), exp_jwt)]))
            .start();
        // A bearer token in an account that disallows them.
        let bearer = KeyPair::new_user();
        let bearer_jwt = t.user_jwt(&bearer, &t.app, json!({"bearer_token": true}));
        assert_eq!(
            raw_login(&server, Some(&bearer_jwt), None),
            VIOLATION,
            "{binary}"
        );

        // Only the import naming APP itself at token 2 is installed.
        let user_of = |account: &KeyPair, name: &str| {
            let u = KeyPair::new_user();
            let jwt = t.user_jwt(&u, account, json!({}));
            t.creds(name, &jwt, &u)
        };
        let on_app = login(&server, &user_of(&t.app, "a")).await.unwrap();
        let on_exp = login(&server, &user_of(&exp, "e")).await.unwrap();
        let mut mine = on_app
            .subscribe(format!("orders.{}.>", t.app.public_key()))
            .await
            .unwrap();
        let mut theirs = on_app
            .subscribe(format!("orders.{}.>", exp.public_key()))
            .await
            .unwrap();
        on_app.flush().await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            on_exp
                .publish(format!("orders.{}.new", t.app.public_key()), "1".into())
                .await
                .unwrap();
            on_exp.flush().await.unwrap();
            if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), mine.next()).await
            {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{binary}: own slice");
        }
        on_exp
            .publish(format!("orders.{}.new", exp.public_key()), "2".into())
            .await
            .unwrap();
        on_exp.flush().await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(500), theirs.next())
                .await
                .is_err(),
            "{binary}: another account's slice was imported"
        );
    }
}

/// Runs `binary` on `config` and returns (whether it exited in error, its output).
fn refused_start(binary: &str, config: &str, dir: &Path) -> (bool, String) {
    let path = dir.join("refused.conf");
    std::fs::write(&path, config).unwrap();
    let mut child = std::process::Command::new(binary)
        .arg("-c")
        .arg(&path)
        .args(["-a", "127.0.0.1", "-p", "-1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return (!status.success(), text);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return (false, "still running".to_string());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn operator_mode_refuses_configured_users_and_a_missing_resolver() {
    for binary in binaries() {
        let t = Trust::new();
        let base = t.config(&t.account_jwt(&t.app, "APP", json!({})));
        let with_users =
            format!("{base}authorization {{ users = [ {{ user: x, password: y }} ] }}\n");
        let (failed, text) = refused_start(&binary, &with_users, t.dir.path());
        assert!(failed, "{binary}: {text}");
        assert!(
            text.contains("operators do not allow users to be configured directly"),
            "{binary}: {text}"
        );
        let no_resolver = format!(
            "operator: \"{}\"\nsystem_account: {}\n",
            t.dir.path().join("op.jwt").display(),
            t.sys.public_key()
        );
        // Both refuse to start; nats-server 2.15 fails later than its own
        // check, trying to fetch the system account from an empty URL.
        let (failed, text) = refused_start(&binary, &no_resolver, t.dir.path());
        assert!(failed, "{binary}: {text}");
        if binary == BIN {
            assert!(
                text.contains("operators require an account resolver to be configured"),
                "{binary}: {text}"
            );
        }
    }
}

/// `H:MM:SS` of the UTC time `offset` seconds from now (wrapping at
/// midnight, which makes a window over midnight).
fn utc_clock(offset: i64) -> String {
    let secs = (i64::try_from(now()).unwrap() + offset).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_times_admit_users_only_inside_their_windows() {
    for binary in binaries() {
        let t = Trust::new();
        let app_jwt = t.account_jwt(&t.app, "APP", json!({}));
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();
        let with_times = |start: String, end: String, location: &str| {
            let user = KeyPair::new_user();
            let jwt = t.user_jwt(
                &user,
                &t.app,
                json!({"times": [{"start": start, "end": end}], "times_location": location}),
            );
            (user, jwt)
        };
        // Inside the window.
        let (u, jwt) = with_times(utc_clock(-3600), utc_clock(3600), "UTC");
        assert_eq!(raw_login(&server, Some(&jwt), Some(&u)), "PONG", "{binary}");
        // Outside it.
        let (u, jwt) = with_times(utc_clock(3600), utc_clock(7200), "UTC");
        assert_eq!(
            raw_login(&server, Some(&jwt), Some(&u)),
            VIOLATION,
            "{binary}: outside"
        );
        // A zone that does not exist.
        let (u, jwt) = with_times(utc_clock(-3600), utc_clock(3600), "Mars/Olympus_Mons");
        assert_eq!(
            raw_login(&server, Some(&jwt), Some(&u)),
            VIOLATION,
            "{binary}: unknown zone"
        );
        // The connection ends when its window closes.
        let (u, jwt) = with_times(utc_clock(-3600), utc_clock(3), "UTC");
        let mut raw = raw_session(&server, &jwt, &u);
        raw.expect(b"PONG\r\n");
        expect_cut(&mut raw, 8, "-ERR 'User Authentication Expired'", &binary);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_whose_jwt_expires_loses_its_clients() {
    for binary in binaries() {
        let t = Trust::new();
        let app_jwt = sign(
            json!({"sub": t.app.public_key(), "name": "APP", "exp": now() + 3,
                   "nats": {"type": "account", "version": 2, "limits": unlimited()}}),
            &t.operator,
        );
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();
        let u = KeyPair::new_user();
        let jwt = t.user_jwt(&u, &t.app, json!({}));
        let mut raw = raw_session(&server, &jwt, &u);
        raw.expect(b"PONG\r\n");
        expect_cut(
            &mut raw,
            8,
            "-ERR 'Account Authentication Expired'",
            &binary,
        );
        assert_eq!(
            raw_login(&server, Some(&jwt), Some(&u)),
            VIOLATION,
            "{binary}: no login into an expired account"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_jwts_over_their_import_and_export_limits_are_refused() {
    for binary in binaries() {
        let t = Trust::new();
        let app_jwt = t.account_jwt(&t.app, "APP", json!({}));
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();
        let sys = t.system_user(&server).await;
        // nats-server skips updates of accounts no client has used yet.
        let u = KeyPair::new_user();
        let u_jwt = t.user_jwt(&u, &t.app, json!({}));
        assert_eq!(
            raw_login(&server, Some(&u_jwt), Some(&u)),
            "PONG",
            "{binary}"
        );
        let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", t.app.public_key());
        let other = KeyPair::new_account().public_key();
        let push = |jwt: String| {
            let sys = sys.clone();
            let subject = subject.clone();
            async move {
                let answer = sys.request(subject, jwt.into()).await.unwrap();
                serde_json::from_slice::<serde_json::Value>(&answer.payload).unwrap()
            }
        };
        let mut limits = unlimited();
        limits["imports"] = json!(1);
        let imports = json!([{"subject": "a", "account": other, "type": "stream"},
                             {"subject": "b", "account": other, "type": "stream"}]);
        std::thread::sleep(Duration::from_millis(1100));
        let doc =
            push(t.account_jwt(&t.app, "APP", json!({"limits": limits, "imports": imports}))).await;
        assert_eq!(doc["error"]["code"], 500, "{binary}: {doc}");
        let mut limits = unlimited();
        limits["exports"] = json!(5);
        limits["wildcards"] = json!(false);
        let doc = push(t.account_jwt(
            &t.app,
            "APP",
            json!({"limits": limits, "exports": [{"subject": "svc.*", "type": "service"}]}),
        ))
        .await;
        assert_eq!(
            doc["error"]["code"], 500,
            "{binary}: wildcard export: {doc}"
        );
        // Within the limits the update is taken.
        limits["wildcards"] = json!(true);
        let doc = push(t.account_jwt(
            &t.app,
            "APP",
            json!({"limits": limits, "exports": [{"subject": "svc.*", "type": "service"}]}),
        ))
        .await;
        assert_eq!(doc["data"]["code"], 200, "{binary}: {doc}");
    }
}

/// A hub in operator mode whose account APP allows one leaf node
/// connection, and two leaf servers logging in as APP users: one link.
async fn check_leaf_limit(hub_binary: &str, leaf_binary: &str) {
    let t = Trust::new();
    let port = free_port();
    let mut limits = unlimited();
    limits["leaf"] = json!(1);
    let app_jwt = t.account_jwt(&t.app, "APP", json!({ "limits": limits }));
    let hub_conf = format!(
        "{}leafnodes {{ listen: \"127.0.0.1:{port}\" }}\n",
        t.config(&app_jwt)
    );
    let hub = ServerProcess::builder(hub_binary).config(&hub_conf).start();
    let leaf = |name: &str| {
        let user = KeyPair::new_user();
        let creds = t.creds(name, &t.user_jwt(&user, &t.app, json!({})), &user);
        let conf = format!(
            "server_name: {name}\nhttp: \"127.0.0.1:-1\"\n\
             leafnodes {{ remotes: [ {{ url: \"nats-leaf://127.0.0.1:{port}\", credentials: \"{}\" }} ] }}\n",
            creds.display()
        );
        ServerProcess::builder(leaf_binary).config(&conf).start()
    };
    let _first = leaf("L1");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let leafz: serde_json::Value = serde_json::from_str(&hub.http_get("/leafz").1).unwrap();
        if leafz["leafnodes"] == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{hub_binary} <- {leaf_binary}: the first leaf never got in"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let second = leaf("L2");
    std::thread::sleep(Duration::from_millis(2500));
    let leafz: serde_json::Value = serde_json::from_str(&hub.http_get("/leafz").1).unwrap();
    assert_eq!(
        leafz["leafnodes"], 1,
        "{hub_binary} <- {leaf_binary}: {leafz:#}"
    );
    let theirs: serde_json::Value = serde_json::from_str(&second.http_get("/leafz").1).unwrap();
    assert_eq!(theirs["leafnodes"], 0, "{hub_binary} <- {leaf_binary}");
    assert!(
        second
            .log()
            .contains("maximum account active connections exceeded"),
        "{hub_binary} <- {leaf_binary}: {}",
        second.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_takes_no_more_leaf_nodes_than_its_jwt_allows() {
    check_leaf_limit(BIN, BIN).await;
    if let Some(reference) = gannet_test::reference_server_binary() {
        check_leaf_limit(&reference, BIN).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_delete_accounts_from_the_full_resolver() {
    for binary in binaries() {
        let t = Trust::new();
        let jwt_dir = t.dir.path().join("jwt");
        let op = t.dir.path().join("op.jwt");
        let signer = KeyPair::new_operator();
        let operator_jwt = sign(
            json!({"sub": t.operator.public_key(), "name": "OP",
                   "nats": {"type": "operator", "version": 2,
                            "system_account": t.sys.public_key(),
                            "signing_keys": [signer.public_key()]}}),
            &t.operator,
        );
        std::fs::write(&op, operator_jwt).unwrap();
        let config = |allow_delete: bool| {
            format!(
                "http: \"127.0.0.1:-1\"\noperator: \"{}\"\nsystem_account: {}\n\
                 resolver: {{ type: full, dir: \"{}\", allow_delete: {allow_delete} }}\n\
                 resolver_preload: {{\n  {}: \"{}\"\n}}\n",
                op.display(),
                t.sys.public_key(),
                jwt_dir.display(),
                t.sys.public_key(),
                t.account_jwt(&t.sys, "SYS", json!({})),
            )
        };
        let server = ServerProcess::builder(&binary)
            .config(&config(true))
            .start();
        let admin = KeyPair::new_user();
        let admin_creds = t.creds("admin", &t.user_jwt(&admin, &t.sys, json!({})), &admin);
        let sys = login(&server, &admin_creds).await.unwrap();
        let request = |subject: &'static str, body: String| {
            let sys = sys.clone();
            async move {
                let answer = sys.request(subject, body.into()).await.unwrap();
                serde_json::from_slice::<serde_json::Value>(&answer.payload).unwrap()
            }
        };
        let doc = request(
            "$SYS.REQ.CLAIMS.UPDATE",
            t.account_jwt(&t.app, "APP", json!({})),
        )
        .await;
        assert_eq!(doc["data"]["code"], 200, "{binary}: {doc}");
        let u = KeyPair::new_user();
        let u_jwt = t.user_jwt(&u, &t.app, json!({}));
        let mut live = raw_session(&server, &u_jwt, &u);
        live.expect(b"PONG\r\n");

        let delete_request = |issuer: &KeyPair, about: &KeyPair, accounts: serde_json::Value| {
            sign(
                json!({"sub": about.public_key(), "nats": {"accounts": accounts}}),
                issuer,
            )
        };
        let app = json!([t.app.public_key()]);
        // Refused: not about its issuer; an untrusted key; the system
        // account; a malformed list.
        let rogue = KeyPair::new_operator();
        for (body, why) in [
            (
                delete_request(&signer, &t.operator, app.clone()),
                "not self signed",
            ),
            (delete_request(&rogue, &rogue, app.clone()), "not trusted"),
            (
                delete_request(&signer, &signer, json!([t.sys.public_key()])),
                "not allowed to delete system account",
            ),
            (
                delete_request(&signer, &signer, json!(["nope"])),
                "malformed request",
            ),
        ] {
            let doc = request("$SYS.REQ.CLAIMS.DELETE", body).await;
            assert_eq!(doc["error"]["code"], 500, "{binary}: {doc}");
            let description = doc["error"]["description"].as_str().unwrap_or_default();
            assert!(
                description.starts_with("delete accounts request by ")
                    && description.ends_with(why),
                "{binary}: {why}: {doc}"
            );
        }
        // By an operator signing key, about itself: APP goes.
        let doc = request(
            "$SYS.REQ.CLAIMS.DELETE",
            delete_request(&signer, &signer, app.clone()),
        )
        .await;
        assert_eq!(
            doc["data"]["message"], "deleted 1 accounts",
            "{binary}: {doc}"
        );
        assert_eq!(doc["data"]["code"], 200, "{binary}: {doc}");
        expect_cut(
            &mut live,
            5,
            "-ERR 'Account Authentication Expired'",
            &binary,
        );
        let file = jwt_dir.join(format!("{}.jwt", t.app.public_key()));
        assert!(!file.exists(), "{binary}");
        assert!(
            jwt_dir
                .join(format!("{}.jwt.deleted", t.app.public_key()))
                .is_file(),
            "{binary}: renamed .deleted"
        );
        let listed = request("$SYS.REQ.CLAIMS.LIST", String::new()).await;
        assert!(
            !listed.to_string().contains(&t.app.public_key()),
            "{binary}: {listed}"
        );
        drop(sys);
        drop(server);

        // Without allow_delete nothing is deleted.
        let server = ServerProcess::builder(&binary)
            .config(&config(false))
            .start();
        let sys = login(&server, &admin_creds).await.unwrap();
        let answer = sys
            .request(
                "$SYS.REQ.CLAIMS.DELETE",
                delete_request(&signer, &signer, app.clone()).into(),
            )
            .await
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&answer.payload).unwrap();
        assert!(
            doc["error"]["description"]
                .as_str()
                .is_some_and(|d| d.ends_with("delete must be enabled in server config")),
            "{binary}: {doc}"
        );
    }
}

/// The subject of the next message `all` gets.
async fn next_subject(all: &mut async_nats::Subscriber) -> String {
    tokio::time::timeout(Duration::from_secs(5), all.next())
        .await
        .expect("a message")
        .unwrap()
        .subject
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_jwt_mappings_apply_and_change_with_claim_updates() {
    for binary in binaries() {
        let t = Trust::new();
        let mappings = json!({"src.*": [{"subject": "dst.$1"}],
                              "split": [{"subject": "split.a", "weight": 50},
                                        {"subject": "split.b", "weight": 50}]});
        let app_jwt = t.account_jwt(&t.app, "APP", json!({ "mappings": mappings }));
        let server = ServerProcess::builder(&binary)
            .config(&t.config(&app_jwt))
            .start();
        let u = KeyPair::new_user();
        let client = login(
            &server,
            &t.creds("u", &t.user_jwt(&u, &t.app, json!({})), &u),
        )
        .await
        .unwrap();
        let mut all = client.subscribe(">").await.unwrap();
        client.flush().await.unwrap();
        client.publish("src.x", "1".into()).await.unwrap();
        assert_eq!(next_subject(&mut all).await, "dst.x", "{binary}");
        let mut seen = std::collections::HashSet::new();
        for _ in 0..40 {
            client.publish("split", "1".into()).await.unwrap();
            seen.insert(next_subject(&mut all).await);
        }
        assert_eq!(
            seen,
            ["split.a", "split.b"].map(String::from).into(),
            "{binary}"
        );

        // A claim update replaces the mappings at once.
        let sys = t.system_user(&server).await;
        std::thread::sleep(Duration::from_millis(1100));
        let updated = t.account_jwt(
            &t.app,
            "APP",
            json!({"mappings": {"src.*": [{"subject": "other.$1", "weight": 100}]}}),
        );
        let answer = sys
            .request(
                format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", t.app.public_key()),
                updated.into(),
            )
            .await
            .unwrap();
        assert!(
            String::from_utf8_lossy(&answer.payload).contains("jwt updated"),
            "{binary}"
        );
        client.publish("src.y", "1".into()).await.unwrap();
        assert_eq!(next_subject(&mut all).await, "other.y", "{binary}");
        client.publish("split", "1".into()).await.unwrap();
        assert_eq!(next_subject(&mut all).await, "split", "{binary}");
    }
}

/// Two servers in a cluster, both in operator mode with APP allowed two
/// connections: one client on each, then a third is refused on either
/// server (each counts the other's from its CONNS events); a claim update
/// lowering the limit to none cuts the first server's client.
async fn check_cluster_wide_connection_limit(first_bin: &str, second_bin: &str) {
    let t = Trust::new();
    let mut limits = unlimited();
    limits["conn"] = json!(2);
    let app_jwt = t.account_jwt(&t.app, "APP", json!({ "limits": limits }));
    let (r1, r2) = (free_port(), free_port());
    let config = |name: &str, listen: u16, peer: u16| {
        format!(
            "server_name: {name}\n{}cluster {{ name: C, listen: \"127.0.0.1:{listen}\", routes: [\"nats-route://127.0.0.1:{peer}\"] }}\n",
            t.config(&app_jwt)
        )
    };
    let first = ServerProcess::builder(first_bin)
        .config(&config("S1", r1, r2))
        .start();
    let second = ServerProcess::builder(second_bin)
        .config(&config("S2", r2, r1))
        .start();
    wait_for_route(&first);
    let user = || {
        let u = KeyPair::new_user();
        let jwt = t.user_jwt(&u, &t.app, json!({}));
        (u, jwt)
    };
    let (u1, j1) = user();
    let mut on_first = raw_session(&first, &j1, &u1);
    on_first.expect(b"PONG\r\n");
    let (u2, j2) = user();
    let mut on_second = raw_session(&second, &j2, &u2);
    on_second.expect(b"PONG\r\n");
    std::thread::sleep(Duration::from_millis(1000));
    let (u3, j3) = user();
    for server in [&first, &second] {
        assert_eq!(
            raw_login(server, Some(&j3), Some(&u3)),
            "-ERR 'maximum account active connections exceeded'",
            "{first_bin} + {second_bin}: a third connection on {}",
            server.binary()
        );
    }

    // Lowered to none: the first server cuts its client.
    let sys = t.system_user(&first).await;
    std::thread::sleep(Duration::from_millis(1100));
    let mut limits = unlimited();
    limits["conn"] = json!(0);
    let lowered = t.account_jwt(&t.app, "APP", json!({ "limits": limits }));
    sys.request(
        format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", t.app.public_key()),
        lowered.into(),
    )
    .await
    .unwrap();
    expect_cut(
        &mut on_first,
        5,
        "maximum account active connections exceeded",
        &format!("{first_bin} + {second_bin}"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_connection_limits_count_the_whole_cluster() {
    check_cluster_wide_connection_limit(BIN, BIN).await;
    if let Some(reference) = gannet_test::reference_server_binary() {
        check_cluster_wide_connection_limit(BIN, &reference).await;
        check_cluster_wide_connection_limit(&reference, BIN).await;
    }
}

/// A hub (`second_bin`) that has not heard of APP, in a cluster with a
/// server (`first_bin`) that has: a leaf logging in to it as an APP user
/// gets its link, the hub having asked the cluster for the account.
async fn check_leaf_login_looks_up_the_account(first_bin: &str, second_bin: &str) {
    let t = Trust::new();
    let (r1, r2, leaf_port) = (free_port(), free_port(), free_port());
    let _first = first_server_with_app(&t, first_bin, "1h", r1, r2).await;
    let hub_conf = format!(
        "{}leafnodes {{ listen: \"127.0.0.1:{leaf_port}\" }}\n",
        resolver_cluster_config(&t, "S2", "two", "1h", r2, r1)
    );
    let hub = ServerProcess::builder(second_bin).config(&hub_conf).start();
    wait_for_route(&hub);
    let user = KeyPair::new_user();
    let creds = t.creds("leaf", &t.user_jwt(&user, &t.app, json!({})), &user);
    let _leaf = ServerProcess::builder(BIN)
        .config(&format!(
            "server_name: LEAF\nhttp: \"127.0.0.1:-1\"\n\
             leafnodes {{ remotes: [ {{ url: \"nats-leaf://127.0.0.1:{leaf_port}\", credentials: \"{}\" }} ] }}\n",
            creds.display()
        ))
        .start();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let leafz: serde_json::Value = serde_json::from_str(&hub.http_get("/leafz").1).unwrap();
        if leafz["leafnodes"] == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{first_bin} + {second_bin}: the leaf never got in\n{}",
            hub.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaf_login_into_an_unknown_account_looks_it_up_in_the_cluster() {
    check_leaf_login_looks_up_the_account(BIN, BIN).await;
    if let Some(reference) = gannet_test::reference_server_binary() {
        check_leaf_login_looks_up_the_account(&reference, BIN).await;
    }
}

/// A server with a directory resolver (`resolver` is the block's inside,
/// `dir` added), SYS preloaded, and a system user logged in.
async fn dir_resolver_server(
    t: &Trust,
    binary: &str,
    resolver: &str,
) -> (ServerProcess, async_nats::Client, PathBuf) {
    let jwt_dir = t.dir.path().join("jwt");
    let op = t.dir.path().join("op.jwt");
    std::fs::write(&op, t.operator_jwt()).unwrap();
    let config = format!(
        "http: \"127.0.0.1:-1\"\noperator: \"{}\"\nsystem_account: {}\n\
         resolver: {{ {resolver}, dir: \"{}\" }}\n\
         resolver_preload: {{\n  {}: \"{}\"\n}}\n",
        op.display(),
        t.sys.public_key(),
        jwt_dir.display(),
        t.sys.public_key(),
        t.account_jwt(&t.sys, "SYS", json!({})),
    );
    let server = ServerProcess::builder(binary).config(&config).start();
    let sys = t.system_user(&server).await;
    (server, sys, jwt_dir)
}

/// The answer to an account JWT pushed on `$SYS.REQ.ACCOUNT.<key>.CLAIMS.UPDATE`.
async fn push(sys: &async_nats::Client, account: &KeyPair, jwt: String) -> serde_json::Value {
    let answer = sys
        .request(
            format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", account.public_key()),
            jwt.into(),
        )
        .await
        .unwrap();
    serde_json::from_slice(&answer.payload).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_resolver_at_its_limit_takes_no_new_accounts() {
    for binary in binaries() {
        let t = Trust::new();
        let (_server, sys, jwt_dir) =
            dir_resolver_server(&t, &binary, "type: full, limit: 2").await;
        // The preloaded system account is kept in the directory.
        assert!(
            jwt_dir
                .join(format!("{}.jwt", t.sys.public_key()))
                .is_file(),
            "{binary}"
        );
        let doc = push(&sys, &t.app, t.account_jwt(&t.app, "APP", json!({}))).await;
        assert_eq!(doc["data"]["message"], "jwt updated", "{binary}: {doc}");
        let other = KeyPair::new_account();
        let doc = push(&sys, &other, t.account_jwt(&other, "OTHER", json!({}))).await;
        assert_eq!(
            doc["error"]["description"], "jwt update resulted in error - jwt store is full",
            "{binary}: {doc}"
        );
        // A known account is still updated.
        std::thread::sleep(Duration::from_millis(1100));
        let doc = push(&sys, &t.app, t.account_jwt(&t.app, "APP", json!({}))).await;
        assert_eq!(doc["data"]["message"], "jwt updated", "{binary}: {doc}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_resolver_updates_only_the_accounts_it_holds() {
    for binary in binaries() {
        let t = Trust::new();
        let (server, sys, _) = dir_resolver_server(&t, &binary, "type: cache").await;
        let doc = push(&sys, &t.app, t.account_jwt(&t.app, "APP", json!({}))).await;
        assert_eq!(
            doc["data"]["message"], "jwt update cache skipped",
            "{binary}: {doc}"
        );
        let u = KeyPair::new_user();
        let u_jwt = t.user_jwt(&u, &t.app, json!({}));
        assert_eq!(
            raw_login(&server, Some(&u_jwt), Some(&u)),
            VIOLATION,
            "{binary}: not cached"
        );
        // The system account is held: its updates are taken.
        std::thread::sleep(Duration::from_millis(1100));
        let doc = push(&sys, &t.sys, t.account_jwt(&t.sys, "SYS", json!({}))).await;
        assert_eq!(
            doc["data"]["message"], "jwt updated cache",
            "{binary}: {doc}"
        );
    }
}

/// The account JWT files in `dir`.
fn jwt_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "jwt"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_resolver_keeps_its_files_within_limit_and_ttl() {
    for binary in binaries() {
        // limit 1 with two preloaded accounts: one file stays.
        let t = Trust::new();
        let jwt_dir = t.dir.path().join("jwt");
        let op = t.dir.path().join("op.jwt");
        std::fs::write(&op, t.operator_jwt()).unwrap();
        let config = |resolver: &str| {
            format!(
                "operator: \"{}\"\nsystem_account: {}\nresolver: {{ type: cache, dir: \"{}\", {resolver} }}\n\
                 resolver_preload: {{\n  {}: \"{}\"\n  {}: \"{}\"\n}}\n",
                op.display(),
                t.sys.public_key(),
                jwt_dir.display(),
                t.sys.public_key(),
                t.account_jwt(&t.sys, "SYS", json!({})),
                t.app.public_key(),
                t.account_jwt(&t.app, "APP", json!({})),
            )
        };
        let server = ServerProcess::builder(&binary)
            .config(&config("limit: 1"))
            .start();
        assert_eq!(jwt_files(&jwt_dir), 1, "{binary}: limit 1");
        drop(server);
        std::fs::remove_dir_all(&jwt_dir).unwrap();

        // ttl 1s: the files go.
        let _server = ServerProcess::builder(&binary)
            .config(&config("ttl: \"1s\""))
            .start();
        assert_eq!(jwt_files(&jwt_dir), 2, "{binary}: stored");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while jwt_files(&jwt_dir) > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "{binary}: files older than the ttl stay"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[tokio::test]
async fn account_jwts_give_jetstream_and_its_limits() {
    for binary in binaries() {
        let t = Trust::new();
        // APP: JetStream, at most one stream. OTHER: no JetStream.
        let mut limits = unlimited();
        limits["mem_storage"] = json!(-1);
        limits["disk_storage"] = json!(10 * 1024 * 1024);
        limits["streams"] = json!(1);
        limits["consumer"] = json!(-1);
        let app_jwt = t.account_jwt(&t.app, "APP", json!({ "limits": limits }));
        let other = KeyPair::new_account();
        let other_jwt = t.account_jwt(&other, "OTHER", json!({}));
        let store = t.dir.path().join("js");
        let config = format!(
            "{}jetstream {{ store_dir: \"{}\" }}\n",
            t.config_with(&[
                (t.app.public_key(), app_jwt),
                (other.public_key(), other_jwt)
            ]),
            store.display()
        );
        let server = ServerProcess::builder(&binary).config(&config).start();
        let user = KeyPair::new_user();
        let creds = t.creds("app", &t.user_jwt(&user, &t.app, json!({})), &user);
        let client = login(&server, &creds).await.unwrap();
        let ask = |subject: &'static str, body: &'static str| {
            let client = client.clone();
            async move {
                let r = client.request(subject, body.into()).await.unwrap();
                serde_json::from_slice::<serde_json::Value>(&r.payload).unwrap()
            }
        };
        let info = ask("$JS.API.INFO", "").await;
        assert_eq!(info["limits"]["max_streams"], 1, "{binary}: {info}");
        assert_eq!(
            info["limits"]["max_storage"],
            10 * 1024 * 1024,
            "{binary}: {info}"
        );
        let r = ask(
            "$JS.API.STREAM.CREATE.ONE",
            r#"{"name":"ONE","subjects":["one"]}"#,
        )
        .await;
        assert!(r["error"].is_null(), "{binary}: {r}");
        let r = ask(
            "$JS.API.STREAM.CREATE.TWO",
            r#"{"name":"TWO","subjects":["two"]}"#,
        )
        .await;
        assert_eq!(r["error"]["err_code"], 10027, "{binary}: {r}");

        let user = KeyPair::new_user();
        let creds = t.creds("other", &t.user_jwt(&user, &other, json!({})), &user);
        let client = login(&server, &creds).await.unwrap();
        let r = client.request("$JS.API.INFO", "".into()).await.unwrap();
        let r: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
        assert_eq!(r["error"]["err_code"], 10039, "{binary}: {r}");

        // A claim update that gives OTHER storage gives it JetStream.
        let sys = t.system_user(&server).await;
        let mut limits = unlimited();
        limits["mem_storage"] = json!(-1);
        limits["disk_storage"] = json!(-1);
        limits["streams"] = json!(5);
        let updated = t.account_jwt(&other, "OTHER", json!({ "limits": limits }));
        let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", other.public_key());
        sys.request(subject, updated.into()).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let r = client.request("$JS.API.INFO", "".into()).await.unwrap();
            let r: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
            if r["error"].is_null() {
                assert_eq!(r["limits"]["max_streams"], 5, "{binary}: {r}");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{binary}: {r}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // A claim update that raises APP's stream limit applies to its
        // JetStream, already on: a second stream can be made.
        let mut limits = unlimited();
        limits["mem_storage"] = json!(-1);
        limits["disk_storage"] = json!(10 * 1024 * 1024);
        limits["streams"] = json!(2);
        limits["consumer"] = json!(-1);
        let updated = t.account_jwt(&t.app, "APP", json!({ "limits": limits }));
        let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", t.app.public_key());
        sys.request(subject, updated.into()).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while ask("$JS.API.INFO", "").await["limits"]["max_streams"] != 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "{binary}: limits unchanged"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let r = ask(
            "$JS.API.STREAM.CREATE.TWO",
            r#"{"name":"TWO","subjects":["two"]}"#,
        )
        .await;
        assert!(r["error"].is_null(), "{binary}: {r}");
    }
}

#[test]
fn a_default_sentinel_must_be_a_bearer_user_of_an_operator() {
    for binary in binaries() {
        let t = Trust::new();
        let base = t.config(&t.account_jwt(&t.app, "APP", json!({})));
        let user = KeyPair::new_user();
        let bearer = t.user_jwt(&user, &t.app, json!({"bearer_token": true}));
        let signed = t.user_jwt(&user, &t.app, json!({}));
        for (config, refusal) in [
            (
                "default_sentinel: \"abc\"\n".to_string(),
                Some("default sentinel requires operators and accounts"),
            ),
            (
                format!("{base}default_sentinel: \"abc\"\n"),
                Some("default sentinel JWT not valid"),
            ),
            (
                format!("{base}default_sentinel: \"{signed}\"\n"),
                Some("default sentinel must be a bearer token"),
            ),
            (format!("{base}default_sentinel: \"{bearer}\"\n"), None),
        ] {
            let (failed, text) = refused_start(&binary, &config, t.dir.path());
            match refusal {
                Some(reason) => {
                    assert!(failed, "{binary}: {config}: {text}");
                    assert!(text.contains(reason), "{binary}: {reason}: {text}");
                }
                None => assert!(
                    !failed && text == "still running",
                    "{binary}: a bearer sentinel: {text}"
                ),
            }
        }
    }
}
