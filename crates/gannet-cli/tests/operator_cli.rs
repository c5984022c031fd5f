//! `gannet --creds` against a server in operator mode (Gannet's, and
//! nats-server's when installed): publishing and subscribing as a JWT user,
//! a refused user's error, and a claim update pushed with `gannet request`
//! as a system account user.
mod common;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use common::*;
use nkeys::KeyPair;
use serde_json::json;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A NATS JWT of `claims`, issued and signed by `signer`.
fn sign(mut claims: serde_json::Value, signer: &KeyPair) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    claims["iss"] = json!(signer.public_key());
    claims["iat"] = json!(now());
    claims["jti"] = json!(KeyPair::new_user().public_key()[1..20].to_string());
    let head = format!(
        "{}.{}",
        b64(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#),
        b64(claims.to_string().as_bytes())
    );
    let sig = signer.sign(head.as_bytes()).unwrap();
    format!("{head}.{}", b64(&sig))
}

fn account_jwt(operator: &KeyPair, account: &KeyPair, name: &str) -> String {
    sign(
        json!({"sub": account.public_key(), "name": name, "nats": {"type": "account", "version": 2,
            "limits": {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
                       "wildcards": true, "conn": -1, "leaf": -1}}}),
        operator,
    )
}

fn creds(dir: &Path, name: &str, account: &KeyPair) -> PathBuf {
    let user = KeyPair::new_user();
    let jwt = sign(
        json!({"sub": user.public_key(), "name": name,
               "nats": {"type": "user", "version": 2, "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1}}),
        account,
    );
    let path = dir.join(format!("{name}.creds"));
    std::fs::write(
        &path,
        format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
            user.seed().unwrap()
        ),
    )
    .unwrap();
    path
}

#[test]
fn creds_files_log_in_and_push_claim_updates() {
    for binary in all_server_binaries() {
        let dir = tempfile::tempdir().unwrap();
        let (operator, sys, app) = (
            KeyPair::new_operator(),
            KeyPair::new_account(),
            KeyPair::new_account(),
        );
        let op_jwt = sign(
            json!({"sub": operator.public_key(), "name": "OP",
                   "nats": {"type": "operator", "version": 2, "system_account": sys.public_key()}}),
            &operator,
        );
        let config = format!(
            "operator: \"{op_jwt}\"\nresolver: MEMORY\nresolver_preload: {{\n  {}: \"{}\"\n  {}: \"{}\"\n}}\n",
            sys.public_key(),
            account_jwt(&operator, &sys, "SYS"),
            app.public_key(),
            account_jwt(&operator, &app, "APP"),
        );
        let server = start_binary(&binary, Some(&config));
        let alice = creds(dir.path(), "alice", &app);
        let alice = alice.to_str().unwrap();

        let mut sub = gannet(&["sub", "greet", "--count", "1", "--creds", alice])
            .server(&server.url())
            .spawn();
        sub.expect_stderr("Subscribing on greet");
        gannet(&["pub", "greet", "hello", "--creds", alice])
            .server(&server.url())
            .run()
            .success();
        sub.expect_line("hello");

        // A user of an account the server does not know.
        let stranger = creds(dir.path(), "stranger", &KeyPair::new_account());
        let refused = gannet(&["pub", "greet", "x", "--creds", stranger.to_str().unwrap()])
            .server(&server.url())
            .run()
            .failure();
        assert!(
            refused.to_lowercase().contains("authorization violation"),
            "{binary}: {refused}"
        );

        // A claim update, as a system account user.
        let admin = creds(dir.path(), "admin", &sys);
        let subject = format!("$SYS.REQ.ACCOUNT.{}.CLAIMS.UPDATE", app.public_key());
        let answer = gannet(&[
            "request",
            &subject,
            &account_jwt(&operator, &app, "APP"),
            "--creds",
            admin.to_str().unwrap(),
        ])
        .server(&server.url())
        .run()
        .success();
        assert!(answer.contains("jwt updated"), "{binary}: {answer}");
    }
}
