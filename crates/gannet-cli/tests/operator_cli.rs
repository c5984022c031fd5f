//! `gannet --creds` against a server in operator mode (Gannet's, and
//! nats-server's when installed): publishing and subscribing as a JWT user,
//! a refused user's error, a claim update pushed with `gannet request`
//! as a system account user, and `gannet server request claims`.
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

/// An operator, its system account and an application account, with the
/// operator's JWT.
fn trust() -> (KeyPair, KeyPair, KeyPair, String) {
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
    (operator, sys, app, op_jwt)
}

#[test]
fn creds_files_log_in_and_push_claim_updates() {
    for binary in all_server_binaries() {
        let dir = tempfile::tempdir().unwrap();
        let (operator, sys, app, op_jwt) = trust();
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

#[test]
fn server_request_claims_lists_looks_up_pushes_and_deletes_accounts() {
    for binary in all_server_binaries() {
        let dir = tempfile::tempdir().unwrap();
        let (operator, sys, app, op_jwt) = trust();
        let config = format!(
            "operator: \"{op_jwt}\"\nresolver: {{ type: full, dir: \"{}\", allow_delete: true }}\n\
             resolver_preload: {{\n  {}: \"{}\"\n}}\n",
            dir.path().join("jwt").display(),
            sys.public_key(),
            account_jwt(&operator, &sys, "SYS"),
        );
        let server = start_binary(&binary, Some(&config));
        let admin = creds(dir.path(), "admin", &sys);
        let claims = |args: &[&str]| {
            let mut argv = vec!["server", "request", "claims"];
            argv.extend_from_slice(args);
            argv.extend_from_slice(&["--creds", admin.to_str().unwrap()]);
            gannet(&argv).server(&server.url()).run().success()
        };

        // Push from a file.
        let app_jwt = account_jwt(&operator, &app, "APP");
        let file = dir.path().join("app.jwt");
        std::fs::write(&file, &app_jwt).unwrap();
        let pushed = claims(&["update", &format!("@{}", file.display())]);
        assert!(pushed.contains("jwt updated"), "{binary}: {pushed}");
        let listed = claims(&["list"]);
        assert!(listed.contains(&app.public_key()), "{binary}: {listed}");
        let found = claims(&["lookup", &app.public_key()]);
        assert_eq!(found.trim(), app_jwt, "{binary}");

        // Delete, with a request the operator signed about itself.
        let request = sign(
            json!({"sub": operator.public_key(), "nats": {"accounts": [app.public_key()]}}),
            &operator,
        );
        let deleted = claims(&["delete", &request]);
        assert!(
            deleted.contains("deleted 1 accounts"),
            "{binary}: {deleted}"
        );
        let listed = claims(&["list"]);
        assert!(!listed.contains(&app.public_key()), "{binary}: {listed}");
    }
}
