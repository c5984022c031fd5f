use std::collections::HashMap;

use nkeys::KeyPair;
use serde_json::{json, Value};

use super::*;

/// A time after every fixture's `iat` and before any test `exp`.
const NOW: u64 = 1_700_000_000;

fn operator_json(op: &KeyPair) -> Value {
    json!({"sub": op.public_key(), "name": "op", "nats": {"type": "operator"}})
}

fn account_json(acc: &KeyPair) -> Value {
    json!({"sub": acc.public_key(), "name": "acc", "nats": {"type": "account"}})
}

fn user_json(user: &KeyPair) -> Value {
    json!({"sub": user.public_key(), "name": "user", "nats": {"type": "user"}})
}

/// The claims part of `token`, as JSON.
fn claims_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&BASE64.decode(part).unwrap()).unwrap()
}

/// A token with `claims` verbatim (nothing filled in) and `header`.
fn raw_token(header: &str, claims: &Value, signer: &KeyPair) -> String {
    sign_parts(
        header.as_bytes(),
        &serde_json::to_vec(claims).unwrap(),
        signer,
    )
    .unwrap()
}

/// `key` with one character changed, so that its checksum fails.
fn corrupt(key: &str) -> String {
    let mut chars: Vec<char> = key.chars().collect();
    chars[10] = if chars[10] == 'B' { 'C' } else { 'B' };
    chars.into_iter().collect()
}

// --- round trips ---

#[test]
fn operator_round_trip() {
    let op = KeyPair::new_operator();
    let signing = KeyPair::new_operator();
    let sys = KeyPair::new_account();
    let token = encode(
        &json!({
            "sub": op.public_key(),
            "name": "ACME",
            "exp": NOW + 100,
            "nats": {
                "type": "operator",
                "signing_keys": [signing.public_key()],
                "system_account": sys.public_key(),
                "account_server_url": "http://localhost:9090/jwt/v1",
                "operator_service_urls": ["nats://localhost:4222"],
                "strict_signing_key_usage": true,
                "assert_server_version": "2.10.0",
                "tags": ["prod"],
            },
        }),
        &op,
    )
    .unwrap();
    let claims = decode_operator(&token, NOW).unwrap();
    assert_eq!(claims.iss, op.public_key());
    assert_eq!(claims.sub, op.public_key());
    assert_eq!(claims.name, "ACME");
    assert_eq!(claims.exp, Some(NOW as i64 + 100));
    assert_eq!(claims.nbf, None);
    assert!(claims.iat > 0);
    assert_eq!(claims.jti.len(), 52, "{}", claims.jti);
    let nats = &claims.nats;
    assert_eq!(nats.signing_keys, [signing.public_key()]);
    assert_eq!(nats.system_account, sys.public_key());
    assert_eq!(nats.account_server_url, "http://localhost:9090/jwt/v1");
    assert_eq!(nats.operator_service_urls, ["nats://localhost:4222"]);
    assert!(nats.strict_signing_key_usage);
    assert_eq!(nats.assert_server_version, "2.10.0");
    assert_eq!(nats.tags, ["prod"]);
}

#[test]
fn account_round_trip() {
    let op = KeyPair::new_operator();
    let acc = KeyPair::new_account();
    let plain = KeyPair::new_account();
    let scoped = KeyPair::new_account();
    let other = KeyPair::new_account();
    let revoked_user = KeyPair::new_user();
    let token = encode(
        &json!({
            "sub": acc.public_key(),
            "name": "A",
            "nats": {
                "type": "account",
                "description": "the A account",
                "tags": ["t1"],
                "limits": {
                    "subs": -1, "data": -1, "payload": 1024, "imports": 3, "exports": -1,
                    "wildcards": true, "conn": 10, "leaf": -1,
                    "mem_storage": 1_000_000, "disk_storage": -1, "streams": 5,
                    // consumer, max_ack_pending... missing: 0
                },
                "signing_keys": [
                    plain.public_key(),
                    {
                        "kind": "user_scope",
                        "key": scoped.public_key(),
                        "role": "dev",
                        "template": {
                            "pub": {"allow": ["dev.>"]},
                            "sub": {"allow": ["_INBOX.>"], "deny": ["dev.secret"]},
                            "data": 2048,
                            "bearer_token": true,
                        },
                        "description": "devs",
                    },
                ],
                "imports": [{
                    "name": "svc", "subject": "other.svc", "account": other.public_key(),
                    "local_subject": "svc", "type": "service", "share": true,
                }, {
                    "subject": "feed.>", "account": other.public_key(), "type": "stream",
                    "token": "eyJ...", "to": "imported",
                }],
                "exports": [{
                    "name": "req", "subject": "req.*", "type": "service", "token_req": true,
                    "revocations": {"*": 5},
                    "response_type": "Stream", "response_threshold": 2_000_000_000_i64,
                    "account_token_position": 2, "advertise": true,
                    "service_latency": {"sampling": "headers", "results": "lat"},
                }, {
                    "subject": "events.>", "type": "stream",
                    "service_latency": {"sampling": 50, "results": "lat2"},
                }],
                "revocations": {revoked_user.public_key(): 1000, "*": 10},
                "default_permissions": {
                    "pub": {"allow": ["a.>"], "deny": ["a.b"]},
                    "sub": {"deny": [">"]},
                    "resp": {"max": 1, "ttl": 1_000_000_000},
                },
                "mappings": {
                    "orders": [
                        {"subject": "orders.v1", "weight": 80},
                        {"subject": "orders.v2", "weight": 20, "cluster": "east"},
                    ],
                },
                "authorization": {"auth_users": ["UAUTH"], "allowed_accounts": ["*"]},
                "trace": {"dest": "trace.here", "sampling": 10},
                "cluster_traffic": "owner",
            },
        }),
        &op,
    )
    .unwrap();
    let claims = decode_account(&token, NOW).unwrap();
    assert_eq!(claims.iss, op.public_key());
    assert_eq!(claims.sub, acc.public_key());
    let a = &claims.nats;
    assert_eq!(a.description, "the A account");
    assert_eq!(a.tags, ["t1"]);

    let l = &a.limits;
    assert_eq!((l.subs, l.data, l.payload), (-1, -1, 1024));
    assert_eq!((l.imports, l.exports, l.conn, l.leaf), (3, -1, 10, -1));
    assert!(l.wildcards);
    assert!(!l.disallow_bearer);
    assert_eq!(l.jetstream.mem_storage, 1_000_000);
    assert_eq!(l.jetstream.disk_storage, -1);
    assert_eq!(l.jetstream.streams, 5);
    assert_eq!(l.jetstream.consumer, 0, "missing limits read as 0");
    assert!(l.tiered_limits.is_empty());

    assert_eq!(a.signing_keys.len(), 2);
    assert_eq!(
        a.signing_key(&plain.public_key()),
        Some(&SigningKey::Plain(plain.public_key()))
    );
    let scope = a
        .signing_key(&scoped.public_key())
        .and_then(SigningKey::scope)
        .unwrap();
    assert_eq!(scope.role, "dev");
    assert_eq!(scope.description, "devs");
    assert_eq!(scope.template.publish.allow, ["dev.>"]);
    assert_eq!(scope.template.subscribe.allow, ["_INBOX.>"]);
    assert_eq!(scope.template.subscribe.deny, ["dev.secret"]);
    assert_eq!(scope.template.data, 2048);
    assert_eq!(
        (scope.template.subs, scope.template.payload),
        (-1, -1),
        "missing template limits are unlimited"
    );
    assert!(scope.template.bearer_token);
    assert!(!a.is_signing_key(&other.public_key()));

    assert_eq!(a.imports.len(), 2);
    let i = &a.imports[0];
    assert_eq!(i.name, "svc");
    assert_eq!(i.subject, "other.svc");
    assert_eq!(i.account, other.public_key());
    assert_eq!(i.local_subject, "svc");
    assert_eq!(i.kind, ExportType::Service);
    assert!(i.share);
    assert_eq!(a.imports[1].kind, ExportType::Stream);
    assert_eq!(a.imports[1].token, "eyJ...");
    assert_eq!(a.imports[1].to, "imported");

    let e = &a.exports[0];
    assert_eq!(e.name, "req");
    assert_eq!(e.subject, "req.*");
    assert_eq!(e.kind, ExportType::Service);
    assert!(e.token_req);
    assert_eq!(e.revocations, HashMap::from([("*".to_string(), 5)]));
    assert_eq!(e.response_type, "Stream");
    assert_eq!(e.response_threshold, 2_000_000_000);
    assert_eq!(e.account_token_position, 2);
    assert!(e.advertise);
    let latency = e.service_latency.as_ref().unwrap();
    assert_eq!((latency.sampling, latency.results.as_str()), (0, "lat"));
    assert_eq!(a.exports[1].service_latency.as_ref().unwrap().sampling, 50);

    assert!(a.is_user_revoked(&revoked_user.public_key(), 1000));
    assert!(!a.is_user_revoked(&revoked_user.public_key(), 1001));
    assert_eq!(a.revocations.get("*"), Some(&10));

    let p = &a.default_permissions;
    assert_eq!(p.publish.allow, ["a.>"]);
    assert_eq!(p.publish.deny, ["a.b"]);
    assert!(p.subscribe.allow.is_empty());
    assert_eq!(p.subscribe.deny, [">"]);
    let resp = p.resp.as_ref().unwrap();
    assert_eq!((resp.max, resp.ttl), (1, 1_000_000_000));

    let m = &a.mappings["orders"];
    assert_eq!(m.len(), 2);
    assert_eq!((m[0].subject.as_str(), m[0].weight), ("orders.v1", 80));
    assert_eq!(m[1].cluster, "east");

    assert_eq!(a.authorization.auth_users, ["UAUTH"]);
    assert_eq!(a.authorization.allowed_accounts, ["*"]);
    let trace = a.trace.as_ref().unwrap();
    assert_eq!((trace.dest.as_str(), trace.sampling), ("trace.here", 10));
    assert_eq!(a.cluster_traffic, "owner");
}

#[test]
fn self_signed_account_is_accepted() {
    let acc = KeyPair::new_account();
    let token = encode(&account_json(&acc), &acc).unwrap();
    let claims = decode_account(&token, NOW).unwrap();
    assert_eq!(claims.iss, claims.sub);
    assert_eq!(claims.nats, Account::default());
}

#[test]
fn tiered_limits_replace_untiered_jetstream_limits() {
    let op = KeyPair::new_operator();
    let acc = KeyPair::new_account();
    let token = encode(
        &json!({
            "sub": acc.public_key(),
            "nats": {
                "type": "account",
                "limits": {
                    "conn": -1,
                    "disk_storage": 100,
                    "tiered_limits": {"R1": {"disk_storage": 5, "streams": -1}},
                },
            },
        }),
        &op,
    )
    .unwrap();
    let limits = decode_account(&token, NOW).unwrap().nats.limits;
    assert_eq!(limits.conn, -1);
    assert_eq!(limits.jetstream, JetStreamLimits::default());
    assert_eq!(limits.tiered_limits["R1"].disk_storage, 5);
    assert_eq!(limits.tiered_limits["R1"].streams, -1);
}

#[test]
fn user_round_trip() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let token = encode(
        &json!({
            "sub": user.public_key(),
            "name": "alice",
            "exp": NOW + 10,
            "nbf": NOW - 10,
            "nats": {
                "type": "user",
                "pub": {"allow": ["foo.>", "bar"], "deny": ["foo.secret"]},
                "sub": {"allow": ["_INBOX.>", "q.* workers"]},
                "resp": {"max": 2, "ttl": 5_000_000_000_i64},
                "src": "192.168.1.0/24, 10.0.0.0/8,,192.168.1.0/24",
                "times": [{"start": "08:00:00", "end": "17:30:00"}],
                "times_location": "Europe/Paris",
                "subs": 100, "data": -1, "payload": 4096,
                "bearer_token": true,
                "allowed_connection_types": ["STANDARD", "WEBSOCKET"],
                "tags": ["a", "b"],
            },
        }),
        &acc,
    )
    .unwrap();
    let claims = decode_user(&token, NOW).unwrap();
    assert_eq!(claims.iss, acc.public_key());
    assert_eq!(claims.sub, user.public_key());
    assert_eq!(claims.name, "alice");
    assert_eq!(claims.account(), acc.public_key());
    let u = &claims.nats.permissions;
    assert_eq!(u.publish.allow, ["foo.>", "bar"]);
    assert_eq!(u.publish.deny, ["foo.secret"]);
    assert_eq!(u.subscribe.allow, ["_INBOX.>", "q.* workers"]);
    assert!(u.subscribe.deny.is_empty());
    assert_eq!(
        u.resp,
        Some(ResponsePermission {
            max: 2,
            ttl: 5_000_000_000
        })
    );
    assert_eq!(u.src, ["192.168.1.0/24", "10.0.0.0/8"]);
    assert_eq!(
        u.times,
        [TimeRange {
            start: "08:00:00".into(),
            end: "17:30:00".into()
        }]
    );
    assert_eq!(u.times_location, "Europe/Paris");
    assert_eq!((u.subs, u.data, u.payload), (100, -1, 4096));
    assert!(u.bearer_token);
    assert_eq!(u.allowed_connection_types, ["STANDARD", "WEBSOCKET"]);
    assert_eq!(claims.nats.tags, ["a", "b"]);
    assert!(claims.nats.issuer_account.is_empty());
}

#[test]
fn user_signed_by_a_signing_key_names_its_account() {
    let acc = KeyPair::new_account();
    let signing = KeyPair::new_account();
    let user = KeyPair::new_user();
    let mut claims = user_json(&user);
    claims["nats"]["issuer_account"] = json!(acc.public_key());
    claims["nats"]["src"] = json!(["10.0.0.0/8", "::1/128"]);
    let token = encode(&claims, &signing).unwrap();
    let decoded = decode_user(&token, NOW).unwrap();
    assert_eq!(decoded.iss, signing.public_key());
    assert_eq!(decoded.account(), acc.public_key());
    assert_eq!(decoded.nats.permissions.src, ["10.0.0.0/8", "::1/128"]);
    assert!(!decoded.nats.permissions.is_empty());
}

#[test]
fn minimal_user_has_zero_values() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let decoded = decode_user(&encode(&user_json(&user), &acc).unwrap(), NOW).unwrap();
    assert_eq!(decoded.nats, User::default());
    assert!(decoded.nats.permissions.is_empty());
    assert_eq!(decoded.nats.permissions.subs, 0);
    assert_eq!(decoded.nats.permissions.resp, None);
}

#[test]
fn nulls_read_as_defaults() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let token = encode(
        &json!({
            "sub": user.public_key(), "name": null, "exp": null, "aud": null,
            "nats": {
                "type": "user", "pub": {"allow": null}, "sub": null, "src": null,
                "subs": null, "tags": null, "resp": null,
            },
        }),
        &acc,
    )
    .unwrap();
    let decoded = decode_user(&token, NOW).unwrap();
    assert_eq!(decoded.exp, None);
    assert_eq!(decoded.nats, User::default());
}

#[test]
fn activation_round_trip() {
    let exporter = KeyPair::new_account();
    let signing = KeyPair::new_account();
    let importer = KeyPair::new_account();
    let token = encode(
        &json!({
            "sub": importer.public_key(),
            "name": "grant",
            "nats": {
                "type": "activation",
                "subject": "req.importer",
                "kind": "service",
                "issuer_account": exporter.public_key(),
            },
        }),
        &signing,
    )
    .unwrap();
    let claims = decode_activation(&token, NOW).unwrap();
    assert_eq!(claims.sub, importer.public_key());
    assert_eq!(claims.iss, signing.public_key());
    assert_eq!(claims.account(), exporter.public_key());
    assert_eq!(claims.nats.subject, "req.importer");
    assert_eq!(claims.nats.kind, ExportType::Service);

    let direct = encode(
        &json!({
            "sub": importer.public_key(),
            "nats": {"type": "activation", "subject": "feed", "kind": "stream"},
        }),
        &exporter,
    )
    .unwrap();
    let claims = decode_activation(&direct, NOW).unwrap();
    assert_eq!(claims.account(), exporter.public_key());
    assert_eq!(claims.nats.kind, ExportType::Stream);
}

#[test]
fn generic_decode_matches_the_named_functions() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let token = encode(&user_json(&user), &acc).unwrap();
    assert_eq!(
        decode::<User>(&token, NOW).unwrap(),
        decode_user(&token, NOW).unwrap()
    );
}

// --- refusals ---

#[test]
fn tampered_tokens_fail_the_signature() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let token = encode(&user_json(&user), &acc).unwrap();
    let parts: Vec<&str> = token.split('.').collect();

    // Claims changed, signature kept.
    let mut claims = claims_of(&token);
    claims["nats"]["pub"] = json!({"allow": [">"]});
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        BASE64.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    assert_eq!(decode_user(&forged, NOW), Err(JwtError::BadSignature));

    // Signature changed.
    let mut signature = BASE64.decode(parts[2]).unwrap();
    signature[10] ^= 1;
    let forged = format!("{}.{}.{}", parts[0], parts[1], BASE64.encode(&signature));
    assert_eq!(decode_user(&forged, NOW), Err(JwtError::BadSignature));

    // Signature cut short, or empty.
    let forged = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..40]);
    assert_eq!(decode_user(&forged, NOW), Err(JwtError::BadSignature));
    let forged = format!("{}.{}.", parts[0], parts[1]);
    assert_eq!(decode_user(&forged, NOW), Err(JwtError::BadSignature));

    // Header changed (to another accepted one): the header is signed too.
    let header = BASE64.encode(r#"{"typ":"JWT","alg":"ed25519"}"#);
    let forged = format!("{header}.{}.{}", parts[1], parts[2]);
    assert_eq!(decode_user(&forged, NOW), Err(JwtError::BadSignature));

    // Signed by another account key than the one in `iss`.
    let other = KeyPair::new_account();
    let mut claims = user_json(&user);
    claims["iss"] = json!(acc.public_key());
    let forged = encode(&claims, &other).unwrap();
    assert_eq!(decode_user(&forged, NOW), Err(JwtError::BadSignature));
}

#[test]
fn issuers_of_the_wrong_kind_are_refused() {
    let op = KeyPair::new_operator();
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();

    // A user signed by an operator: the signature is fine, the issuer not.
    let token = encode(&user_json(&user), &op).unwrap();
    assert!(matches!(
        decode_user(&token, NOW),
        Err(JwtError::IssuerKind { claim: "user", .. })
    ));
    // A user signing itself.
    let token = encode(&user_json(&user), &user).unwrap();
    assert!(matches!(
        decode_user(&token, NOW),
        Err(JwtError::IssuerKind { claim: "user", .. })
    ));
    // An account signed by a user.
    let token = encode(&account_json(&acc), &user).unwrap();
    assert!(matches!(
        decode_account(&token, NOW),
        Err(JwtError::IssuerKind {
            claim: "account",
            ..
        })
    ));
    // An operator signed by an account.
    let token = encode(&operator_json(&op), &acc).unwrap();
    let err = decode_operator(&token, NOW).unwrap_err();
    assert!(matches!(err, JwtError::IssuerKind { .. }));
    assert!(err.to_string().contains("an operator (O...)"), "{err}");
    // Server and curve keys issue nothing here.
    let server = KeyPair::new_server();
    let token = encode(&user_json(&user), &server).unwrap();
    assert!(matches!(
        decode_user(&token, NOW),
        Err(JwtError::IssuerKind { .. })
    ));

    // `iss` that is no key at all, or a seed.
    for iss in [
        json!("nobody"),
        json!(""),
        json!(acc.seed().unwrap()),
        json!(corrupt(&acc.public_key())),
    ] {
        let mut claims = user_json(&user);
        claims["iss"] = iss.clone();
        let token = encode(&claims, &acc).unwrap();
        assert!(
            matches!(decode_user(&token, NOW), Err(JwtError::InvalidIssuer(_))),
            "{iss}"
        );
    }
    // The error quotes no seed in full.
    let mut claims = user_json(&user);
    let seed = acc.seed().unwrap();
    claims["iss"] = json!(seed);
    let err = decode_user(&encode(&claims, &acc).unwrap(), NOW).unwrap_err();
    assert!(err.to_string().len() < 200);
}

#[test]
fn subjects_of_the_wrong_kind_are_refused() {
    let acc = KeyPair::new_account();
    let op = KeyPair::new_operator();
    let user = KeyPair::new_user();
    let mut claims = user_json(&user);
    claims["sub"] = json!(acc.public_key());
    assert!(matches!(
        decode_user(&encode(&claims, &acc).unwrap(), NOW),
        Err(JwtError::InvalidSubject { claim: "user", .. })
    ));
    claims["sub"] = json!("");
    assert!(matches!(
        decode_user(&encode(&claims, &acc).unwrap(), NOW),
        Err(JwtError::InvalidSubject { .. })
    ));
    let mut claims = account_json(&acc);
    claims["sub"] = json!(user.public_key());
    assert!(matches!(
        decode_account(&encode(&claims, &op).unwrap(), NOW),
        Err(JwtError::InvalidSubject { .. })
    ));
    let mut claims = operator_json(&op);
    claims["sub"] = json!(acc.public_key());
    assert!(matches!(
        decode_operator(&encode(&claims, &op).unwrap(), NOW),
        Err(JwtError::InvalidSubject { .. })
    ));
}

#[test]
fn claim_types_must_match() {
    let op = KeyPair::new_operator();
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let account_token = encode(&account_json(&acc), &op).unwrap();
    assert_eq!(
        decode_user(&account_token, NOW),
        Err(JwtError::WrongType {
            expected: "user",
            found: "account".into()
        })
    );
    let user_token = encode(&user_json(&user), &acc).unwrap();
    assert!(matches!(
        decode_account(&user_token, NOW),
        Err(JwtError::WrongType { .. })
    ));
    assert!(matches!(
        decode_activation(&user_token, NOW),
        Err(JwtError::WrongType { .. })
    ));
    assert!(matches!(
        decode_operator(&user_token, NOW),
        Err(JwtError::WrongType { .. })
    ));
    let generic = encode(&json!({"sub": user.public_key(), "nats": {}}), &acc).unwrap();
    assert!(matches!(
        decode_user(&generic, NOW),
        Err(JwtError::WrongType { found, .. }) if found.is_empty()
    ));
    let no_nats = encode(&json!({"sub": user.public_key()}), &acc).unwrap();
    assert!(matches!(
        decode_user(&no_nats, NOW),
        Err(JwtError::WrongType { .. })
    ));
}

#[test]
fn only_version_2_is_read() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let mut claims = user_json(&user);
    claims["iss"] = json!(acc.public_key());
    claims["iat"] = json!(1);
    claims["jti"] = json!("X");
    // Missing version.
    let token = raw_token(HEADER, &claims, &acc);
    assert_eq!(
        decode_user(&token, NOW),
        Err(JwtError::UnsupportedVersion(0))
    );
    for version in [1, 3, -1] {
        claims["nats"]["version"] = json!(version);
        let token = raw_token(HEADER, &claims, &acc);
        assert_eq!(
            decode_user(&token, NOW),
            Err(JwtError::UnsupportedVersion(version))
        );
    }
    claims["nats"]["version"] = json!("2");
    let token = raw_token(HEADER, &claims, &acc);
    assert!(matches!(
        decode_user(&token, NOW),
        Err(JwtError::Json { .. })
    ));
    // Version 1 layout: the type at the top level.
    let v1 = json!({"iss": acc.public_key(), "sub": user.public_key(), "type": "user", "nats": {}});
    let token = raw_token(HEADER, &v1, &acc);
    assert_eq!(
        decode_user(&token, NOW),
        Err(JwtError::UnsupportedVersion(1))
    );
}

#[test]
fn expiry_and_not_before() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let mut claims = user_json(&user);
    claims["exp"] = json!(1000);
    let token = encode(&claims, &acc).unwrap();
    assert!(decode_user(&token, 999).is_ok());
    assert!(decode_user(&token, 1000).is_ok(), "valid during exp itself");
    assert_eq!(
        decode_user(&token, 1001),
        Err(JwtError::Expired {
            exp: 1000,
            now: 1001
        })
    );
    assert_eq!(
        decode_user(&token, u64::MAX),
        Err(JwtError::Expired {
            exp: 1000,
            now: u64::MAX
        })
    );
    // Decoding without the clock, then checking.
    let jwt = decode_ignoring_time::<User>(&token).unwrap();
    assert!(jwt.check_time(1000).is_ok());
    assert!(matches!(
        jwt.check_time(5000),
        Err(JwtError::Expired { .. })
    ));

    let mut claims = user_json(&user);
    claims["nbf"] = json!(1000);
    let token = encode(&claims, &acc).unwrap();
    assert_eq!(
        decode_user(&token, 999),
        Err(JwtError::NotYetValid {
            nbf: 1000,
            now: 999
        })
    );
    assert!(decode_user(&token, 1000).is_ok());
    assert!(decode_user(&token, u64::MAX).is_ok());

    // Zero and negative mean unset.
    for unset in [0, -5] {
        let mut claims = user_json(&user);
        claims["exp"] = json!(unset);
        claims["nbf"] = json!(unset);
        let token = encode(&claims, &acc).unwrap();
        assert!(decode_user(&token, u64::MAX).is_ok());
        assert!(decode_user(&token, 0).is_ok());
    }

    let err = JwtError::Expired { exp: 1, now: 2 };
    assert_eq!(err.to_string(), "JWT expired at 1 (now 2)");
}

#[test]
fn headers() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let claims = claims_of(&encode(&user_json(&user), &acc).unwrap());
    for header in [
        r#"{"typ":"JWT","alg":"ed25519-nkey"}"#,
        r#"{"typ":"jwt","alg":"ed25519"}"#,
        r#"{"alg":"ED25519-NKEY","typ":"Jwt","kid":"x"}"#,
    ] {
        let token = raw_token(header, &claims, &acc);
        assert!(decode_user(&token, NOW).is_ok(), "{header}");
    }
    for header in [
        r#"{"typ":"JWT","alg":"HS256"}"#,
        r#"{"typ":"JWT","alg":"ed25519-nkeyx"}"#,
        r#"{"typ":"JWT","alg":"none"}"#,
        r#"{"typ":"JWS","alg":"ed25519-nkey"}"#,
        r#"{"alg":"ed25519-nkey"}"#,
        r#"{"typ":"JWT"}"#,
        r#"{"typ":null,"alg":null}"#,
        r#"{}"#,
    ] {
        let token = raw_token(header, &claims, &acc);
        assert!(
            matches!(decode_user(&token, NOW), Err(JwtError::Header { .. })),
            "{header}"
        );
    }
    for header in [r#"[]"#, r#"{"typ":1,"alg":"ed25519"}"#, "", "{"] {
        let token = raw_token(header, &claims, &acc);
        assert!(
            matches!(
                decode_user(&token, NOW),
                Err(JwtError::Json {
                    part: JwtPart::Header,
                    ..
                })
            ),
            "{header}"
        );
    }
}

#[test]
fn garbage_is_refused_without_panicking() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let good = encode(&user_json(&user), &acc).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let (h, c, s) = (parts[0], parts[1], parts[2]);

    assert_eq!(decode_user("", NOW), Err(JwtError::Parts(1)));
    assert_eq!(decode_user("abc", NOW), Err(JwtError::Parts(1)));
    assert_eq!(decode_user("a.b", NOW), Err(JwtError::Parts(2)));
    assert_eq!(
        decode_user(&format!("{good}.x"), NOW),
        Err(JwtError::Parts(4))
    );
    assert_eq!(
        decode_user("..", NOW),
        Err(JwtError::Json {
            part: JwtPart::Header,
            reason: "not a JSON object".into()
        })
    );
    assert_eq!(
        decode_user(&format!("!!.{c}.{s}"), NOW),
        Err(JwtError::Base64(JwtPart::Header))
    );
    assert_eq!(
        decode_user(&format!("{h}=.{c}.{s}"), NOW),
        Err(JwtError::Base64(JwtPart::Header)),
        "padding is refused"
    );
    assert_eq!(
        decode_user(&format!("{h}.{c}é.{s}"), NOW),
        Err(JwtError::Base64(JwtPart::Claims))
    );
    assert_eq!(
        decode_user(&format!("{h}.{c}.{s}+"), NOW),
        Err(JwtError::Base64(JwtPart::Signature))
    );
    for claims in [
        "not json",
        "[]",
        "null",
        "42",
        r#"{"nats": 5}"#,
        r#"{"nats": {"type": 5}}"#,
        r#"{"nats": {"type": "user", "version": 2}} trailing"#,
    ] {
        let token = format!("{h}.{}.{s}", BASE64.encode(claims));
        assert!(
            matches!(
                decode_user(&token, NOW),
                Err(JwtError::Json {
                    part: JwtPart::Claims,
                    ..
                })
            ),
            "{claims}"
        );
    }
    // Right type and version, wrong field types.
    for nats in [
        json!({"type": "user", "version": 2, "subs": "many"}),
        json!({"type": "user", "version": 2, "pub": ["a"]}),
        json!({"type": "user", "version": 2, "src": 5}),
        json!({"type": "user", "version": 2, "src": [5]}),
        json!({"type": "user", "version": 2, "resp": {"ttl": 1.5}}),
        json!({"type": "user", "version": 2, "subs": 1e30}),
    ] {
        let claims = json!({"iss": acc.public_key(), "sub": user.public_key(), "nats": nats});
        let token = raw_token(HEADER, &claims, &acc);
        assert!(
            matches!(decode_user(&token, NOW), Err(JwtError::Json { .. })),
            "{claims}"
        );
    }
    // Deep nesting stops at the parser's recursion limit.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let token = format!("{h}.{}.{s}", BASE64.encode(deep));
    assert!(matches!(
        decode_user(&token, NOW),
        Err(JwtError::Json { .. })
    ));
    let deep = format!(
        r#"{{"nats":{{"type":"user","version":2,"tags":{}1{}}}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let token = format!("{h}.{}.{s}", BASE64.encode(deep));
    assert!(matches!(
        decode_user(&token, NOW),
        Err(JwtError::Json { .. })
    ));
    // Too large.
    let huge = "a".repeat(MAX_TOKEN_SIZE + 1);
    assert_eq!(
        decode_user(&huge, NOW),
        Err(JwtError::TooLarge {
            len: MAX_TOKEN_SIZE + 1,
            max: MAX_TOKEN_SIZE
        })
    );
    // Long client text is cut in errors.
    let claims = json!({"nats": {"type": "x".repeat(10_000), "version": 2}});
    let token = raw_token(HEADER, &claims, &acc);
    let err = decode_user(&token, NOW).unwrap_err();
    assert!(err.to_string().len() < 200, "{err}");
}

#[test]
fn mutated_tokens_never_panic() {
    let acc = KeyPair::new_account();
    let op = KeyPair::new_operator();
    let user = KeyPair::new_user();
    let mut claims = user_json(&user);
    claims["nats"]["src"] = json!("10.0.0.0/8");
    claims["exp"] = json!(NOW + 5);
    let tokens = [
        encode(&claims, &acc).unwrap(),
        encode(&account_json(&acc), &op).unwrap(),
    ];
    let replacements = [b'.', b'A', b'_', 0xC3];
    let check = |token: &[u8]| {
        let text = String::from_utf8_lossy(token);
        let _ = decode_operator(&text, NOW);
        let _ = decode_account(&text, NOW);
        let _ = decode_user(&text, NOW);
        let _ = decode_activation(&text, NOW);
    };
    for token in &tokens {
        let bytes = token.as_bytes();
        for i in 0..bytes.len() {
            for &r in &replacements {
                let mut mutated = bytes.to_vec();
                mutated[i] = r;
                check(&mutated);
            }
            check(&bytes[..i]);
            check(&bytes[i..]);
        }
    }
}

#[test]
fn bad_signing_keys_and_export_types() {
    let op = KeyPair::new_operator();
    let acc = KeyPair::new_account();
    let decode_nats = |nats: Value| {
        let mut claims = account_json(&acc);
        for (k, v) in nats.as_object().unwrap() {
            claims["nats"][k] = v.clone();
        }
        decode_account(&encode(&claims, &op).unwrap(), NOW)
    };
    // Unknown or missing scope kinds are errors.
    for keys in [
        json!([{"kind": "admin_scope", "key": "A"}]),
        json!([{"key": "A"}]),
        json!([{"kind": 5}]),
        json!("A"),
        json!([{"kind": "user_scope", "template": {"subs": "x"}}]),
    ] {
        assert!(
            matches!(
                decode_nats(json!({"signing_keys": keys})),
                Err(JwtError::Json { .. })
            ),
            "{keys}"
        );
    }
    // Other items are skipped; the last entry for a key wins.
    let k = KeyPair::new_account().public_key();
    let decoded = decode_nats(json!({"signing_keys": [
        5, null, true, [k],
        {"kind": "user_scope", "key": k, "template": null},
        k,
    ]}))
    .unwrap();
    assert_eq!(decoded.nats.signing_keys.len(), 2);
    assert_eq!(
        decoded.nats.signing_key(&k),
        Some(&SigningKey::Plain(k.clone()))
    );
    let SigningKey::Scoped(scope) = &decoded.nats.signing_keys[0] else {
        panic!("scoped first");
    };
    assert_eq!(
        (
            scope.template.subs,
            scope.template.data,
            scope.template.payload
        ),
        (-1, -1, -1)
    );
    let decoded = decode_nats(json!({"signing_keys": null})).unwrap();
    assert!(decoded.nats.signing_keys.is_empty());

    for kind in [json!("Stream"), json!(""), json!("both"), json!(1)] {
        let exports = json!([{"subject": "x", "type": kind}]);
        assert!(
            matches!(
                decode_nats(json!({"exports": exports})),
                Err(JwtError::Json { .. })
            ),
            "{kind}"
        );
    }
    let decoded =
        decode_nats(json!({"exports": [{"subject": "x"}], "limits": {"exports": -1}})).unwrap();
    assert_eq!(decoded.nats.exports[0].kind, ExportType::Unknown);
    let exports = json!([{"subject": "x", "service_latency": {"sampling": "sometimes"}}]);
    assert!(decode_nats(json!({ "exports": exports })).is_err());
    let mappings = json!({"a": [{"subject": "b", "weight": 300}]});
    assert!(decode_nats(json!({ "mappings": mappings })).is_err());
}

#[test]
fn account_limits_bound_its_own_imports_and_exports() {
    let op = KeyPair::new_operator();
    let acc = KeyPair::new_account();
    let other = KeyPair::new_account().public_key();
    let decode_nats = |nats: Value| {
        let mut claims = account_json(&acc);
        for (k, v) in nats.as_object().unwrap() {
            claims["nats"][k] = v.clone();
        }
        decode_account(&encode(&claims, &op).unwrap(), NOW)
    };
    let imports = json!([{"subject": "a", "account": other, "type": "stream"},
                         {"subject": "b", "account": other, "type": "stream"}]);
    let exports = json!([{"subject": "x.*", "type": "service"}]);
    let invalid = |nats: Value, why: &str| match decode_nats(nats) {
        Err(JwtError::Invalid(reason)) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected {why:?}, got {other:?}"),
    };
    // A missing limit is 0, as in nats-server's JWT library.
    invalid(json!({"imports": imports}), "more imports");
    invalid(
        json!({"imports": imports, "limits": {"imports": 1}}),
        "more imports",
    );
    assert!(decode_nats(json!({"imports": imports, "limits": {"imports": 2}})).is_ok());
    assert!(decode_nats(json!({"imports": imports, "limits": {"imports": -1}})).is_ok());
    invalid(
        json!({"exports": exports, "limits": {"imports": -1}}),
        "more exports",
    );
    invalid(
        json!({"exports": exports, "limits": {"exports": 1}}),
        "wildcard exports",
    );
    let limits = json!({"exports": 1, "wildcards": true});
    assert!(decode_nats(json!({"exports": exports, "limits": limits})).is_ok());
    // Unlimited exports may use wildcards whatever `wildcards` says.
    assert!(decode_nats(json!({"exports": exports, "limits": {"exports": -1}})).is_ok());
}

// --- revocations ---

#[test]
fn revocation_checks() {
    let user = KeyPair::new_user().public_key();
    let other = KeyPair::new_user().public_key();
    let mut revocations = HashMap::new();
    assert!(!is_revoked(&revocations, &user, 0));
    revocations.insert(user.clone(), 100);
    assert!(is_revoked(&revocations, &user, 99));
    assert!(is_revoked(&revocations, &user, 100), "issued at the time");
    assert!(!is_revoked(&revocations, &user, 101), "reissued later");
    assert!(!is_revoked(&revocations, &other, 0));
    revocations.insert("*".into(), 50);
    assert!(is_revoked(&revocations, &other, 50));
    assert!(!is_revoked(&revocations, &other, 51));
    assert!(
        is_revoked(&revocations, &user, 100),
        "own entry still counts"
    );
}

// --- encode ---

#[test]
fn encode_fills_what_nsc_sets() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let token = encode(&user_json(&user), &acc).unwrap();
    assert!(token.starts_with(&BASE64.encode(HEADER)));
    let claims = claims_of(&token);
    assert_eq!(claims["iss"], json!(acc.public_key()));
    assert!(claims["iat"].as_u64().unwrap() > NOW);
    assert_eq!(claims["nats"]["version"], json!(2));
    let jti = claims["jti"].as_str().unwrap();
    assert!(jti
        .bytes()
        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
    // What is given is kept.
    let mut given = user_json(&user);
    given["iat"] = json!(5);
    given["jti"] = json!("MINE");
    given["iss"] = json!("someone");
    let claims = claims_of(&encode(&given, &acc).unwrap());
    assert_eq!(
        (&claims["iat"], &claims["jti"], &claims["iss"]),
        (&json!(5), &json!("MINE"), &json!("someone"))
    );
    // Errors.
    assert!(matches!(
        encode(&json!([1]), &acc),
        Err(JwtError::Encode(_))
    ));
    let public_only = KeyPair::from_public_key(&acc.public_key()).unwrap();
    assert!(matches!(
        encode(&user_json(&user), &public_only),
        Err(JwtError::Encode(_))
    ));
}

#[test]
fn base32_matches_rfc_4648() {
    assert_eq!(base32(b""), "");
    assert_eq!(base32(b"f"), "MY");
    assert_eq!(base32(b"fo"), "MZXQ");
    assert_eq!(base32(b"foo"), "MZXW6");
    assert_eq!(base32(b"foob"), "MZXW6YQ");
    assert_eq!(base32(b"fooba"), "MZXW6YTB");
    assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    assert_eq!(base32(&[0xFF; 32]).len(), 52);
}

// --- creds files ---

/// `server/configs/one.creds` of nats-server: a user of account `one`,
/// written by nsc.
const ONE_CREDS: &str = "-----BEGIN NATS USER JWT-----
eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiJHRUNQVEpISE1TM01DTUtMVFBHWUdBTzQ1R1E2TjZRUFlXUTRHUExBRUIzM1ZDUkpOUlZRIiwiaWF0IjoxNjE2MjQ3MjMyLCJpc3MiOiJBQlZSWktKNlo3TklNUElZSlJDSEVZRlJVTzdFTk42TldPS1FERkxGREZWUFNNMzZVUFgyVUNQUCIsIm5hbWUiOiJvbmUiLCJzdWIiOiJVRENJQkdHR0hDSkJRUE9PNFNDSkpCSFpEUjM3TlFHR0NJV01ORzJEREFLSjZXTUtCTUFLWElNTyIsIm5hdHMiOnsicHViIjp7fSwic3ViIjp7fSwic3VicyI6LTEsImRhdGEiOi0xLCJwYXlsb2FkIjotMSwidHlwZSI6InVzZXIiLCJ2ZXJzaW9uIjoyfX0.VLhSDtGZEF_jdvgmhgkdISXAt5wFMMZxxwm5w8UrsnlM1hkUvtxBlTe4IP0xJIf4xf8JOR2Bmf73xUGJKUZECQ
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
SUAPCDMU5TSHHLWUUZSOUABJXP2GXRCZVEOVWPSVM5XRSXYGQMRRFDYNMY
------END USER NKEY SEED------

*************************************************************
";

/// The operator JWT of nats-server's `server/configs/js-op.conf`, made by
/// nsc: operator `js-test`.
const JS_OP_OPERATOR: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiIyUkc0WjJKVzYzSUtBS1czSFg0SkpMQVhRN1ZSM0NKVlRQU1FHUVRCU0ZFQjVKTkNISUpRIiwiaWF0IjoxNjE2MTg2MjAxLCJpc3MiOiJPRDRNNklBQUtRU000RFFTTFdaSVZCQUNZVFlTMlM2WFFTN1U2N1hYWVhKNDRJTE5FMzVZUEdKSyIsIm5hbWUiOiJqcy10ZXN0Iiwic3ViIjoiT0Q0TTZJQUFLUVNNNERRU0xXWklWQkFDWVRZUzJTNlhRUzdVNjdYWFlYSjQ0SUxORTM1WVBHSksiLCJuYXRzIjp7InR5cGUiOiJvcGVyYXRvciIsInZlcnNpb24iOjJ9fQ.VkjSK2BlMmtYfVJSkC9aZEFvjg4BXzbd0oXkQa3Rlkhh8EuSRU7-Tp1zUm1SveBb6dZXsE51vhIQFQY66fO0Bw";

/// Account `one` of the same file, signed by that operator; the issuer of
/// [`ONE_CREDS`].
const JS_OP_ACCOUNT_ONE: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiJRSVFDRFpRRkRIUU9WQlc3Q0tDNFQzVzJJV0dZV1ZISjZTVTRSTlYzUFo3NUhTUFVQS1ZBIiwiaWF0IjoxNjE2MTg3MjUwLCJpc3MiOiJPRDRNNklBQUtRU000RFFTTFdaSVZCQUNZVFlTMlM2WFFTN1U2N1hYWVhKNDRJTE5FMzVZUEdKSyIsIm5hbWUiOiJvbmUiLCJzdWIiOiJBQlZSWktKNlo3TklNUElZSlJDSEVZRlJVTzdFTk42TldPS1FERkxGREZWUFNNMzZVUFgyVUNQUCIsIm5hdHMiOnsibGltaXRzIjp7InN1YnMiOi0xLCJkYXRhIjotMSwicGF5bG9hZCI6LTEsImltcG9ydHMiOi0xLCJleHBvcnRzIjotMSwid2lsZGNhcmRzIjp0cnVlLCJjb25uIjotMSwibGVhZiI6LTEsIm1lbV9zdG9yYWdlIjoxMDczNzQxODI0LCJkaXNrX3N0b3JhZ2UiOjEwNzM3NDE4MjQwLCJzdHJlYW1zIjoxMDB9LCJkZWZhdWx0X3Blcm1pc3Npb25zIjp7InB1YiI6e30sInN1YiI6e319LCJ0eXBlIjoiYWNjb3VudCIsInZlcnNpb24iOjJ9fQ.yYdE3AjpWMBt_rZVLSNmuxR28FP5-6fO_x6FMQl7xe7hmeEc--bbCBcw4ujEjtVkE62I21asKtu06vmW1fEsAg";

/// An account JWT from nats-io/jwt's `v2/account_claims_test.go`
/// (`TestJetstreamLimitsDeEnCode`), JetStream enabled by `disk_storage`.
const JWT_LIB_ACCOUNT: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiJPVFFXVEQyVkFMWkRQQTZYU1hLS09GRVFZR1VaVFBDNEtKV1BYMlAyWU1XMjVTMzRTVjNRIiwiaWF0IjoxNjQ0Mjc5MzM0LCJpc3MiOiJPQk5UUVJFSEVJUFJFVE1BVlBWUVVDSUdFUktHWkIzRVJBVjVTNUdNM0lPRVFOSFJFQkpPVUFSRiIsIm5hbWUiOiJ0ZXN0Iiwic3ViIjoiQUM2SFFJMlVBTVVQREVQN1dTWVFZV1JDTEVZQkxZVlNQTDZBSExDVVBKVEdVMzJUNEtRQktZU0ciLCJuYXRzIjp7ImxpbWl0cyI6eyJzdWJzIjotMSwiZGF0YSI6LTEsInBheWxvYWQiOi0xLCJpbXBvcnRzIjotMSwiZXhwb3J0cyI6LTEsIndpbGRjYXJkcyI6dHJ1ZSwiY29ubiI6LTEsImxlYWYiOi0xLCJkaXNrX3N0b3JhZ2UiOjEwMDAwMDB9LCJkZWZhdWx0X3Blcm1pc3Npb25zIjp7InB1YiI6e30sInN1YiI6e319LCJ0eXBlIjoiYWNjb3VudCIsInZlcnNpb24iOjJ9fQ.Xt5azhxOkC7nywz9Q8xVtzX8lZIqdOhpfGyQI30aNdd-nbVGX2O13OOfouIaTLyajZiS4bcJFXa29q6QCFRUDA";

/// A version 1 operator JWT (`alg` `ed25519`, top-level `type`), from
/// nats-server's `test/configs/nkeys/op.jwt`.
const V1_OPERATOR: &str = "eyJ0eXAiOiJqd3QiLCJhbGciOiJlZDI1NTE5In0.eyJhdWQiOiJURVNUUyIsImV4cCI6MTg1OTEyMTI3NSwianRpIjoiWE5MWjZYWVBIVE1ESlFSTlFPSFVPSlFHV0NVN01JNVc1SlhDWk5YQllVS0VRVzY3STI1USIsImlhdCI6MTU0Mzc2MTI3NSwiaXNzIjoiT0NBVDMzTVRWVTJWVU9JTUdOR1VOWEo2NkFIMlJMU0RBRjNNVUJDWUFZNVFNSUw2NU5RTTZYUUciLCJuYW1lIjoiU3luYWRpYSBDb21tdW5pY2F0aW9ucyBJbmMuIiwibmJmIjoxNTQzNzYxMjc1LCJzdWIiOiJPQ0FUMzNNVFZVMlZVT0lNR05HVU5YSjY2QUgyUkxTREFGM01VQkNZQVk1UU1JTDY1TlFNNlhRRyIsInR5cGUiOiJvcGVyYXRvciIsIm5hdHMiOnsic2lnbmluZ19rZXlzIjpbIk9EU0tSN01ZRlFaNU1NQUo2RlBNRUVUQ1RFM1JJSE9GTFRZUEpSTUFWVk40T0xWMllZQU1IQ0FDIiwiT0RTS0FDU1JCV1A1MzdEWkRSVko2NTdKT0lHT1BPUTZLRzdUNEhONk9LNEY2SUVDR1hEQUhOUDIiLCJPRFNLSTM2TFpCNDRPWTVJVkNSNlA1MkZaSlpZTVlXWlZXTlVEVExFWjVUSzJQTjNPRU1SVEFCUiJdfX0.hyfz6E39BMUh0GLzovFfk3wT4OfualftjdJ_eYkLfPvu5tZubYQ_Pn9oFYGCV_6yKy3KMGhWGUCyCdHaPhalBw";

#[test]
fn go_generated_chain_verifies() {
    let operator = decode_operator(JS_OP_OPERATOR, NOW).unwrap();
    assert_eq!(
        operator.sub,
        "OD4M6IAAKQSM4DQSLWZIVBACYTYS2S6XQS7U67XXYXJ44ILNE35YPGJK"
    );
    assert_eq!(operator.iss, operator.sub);
    assert_eq!(operator.name, "js-test");
    assert_eq!(operator.iat, 1_616_186_201);
    assert_eq!(
        operator.jti,
        "2RG4Z2JW63IKAKW3HX4JJLAXQ7VR3CJVTPSQGQTBSFEB5JNCHIJQ"
    );
    assert_eq!(operator.exp, None);

    let account = decode_account(JS_OP_ACCOUNT_ONE, NOW).unwrap();
    assert_eq!(account.iss, operator.sub);
    assert_eq!(
        account.sub,
        "ABVRZKJ6Z7NIMPIYJRCHEYFRUO7ENN6NWOKQDFLFDFVPSM36UPX2UCPP"
    );
    assert_eq!(account.name, "one");
    let limits = &account.nats.limits;
    assert_eq!((limits.subs, limits.conn, limits.leaf), (-1, -1, -1));
    assert!(limits.wildcards);
    assert_eq!(limits.jetstream.mem_storage, 1_073_741_824);
    assert_eq!(limits.jetstream.disk_storage, 10_737_418_240);
    assert_eq!(limits.jetstream.streams, 100);
    assert_eq!(limits.jetstream.consumer, 0);

    let (jwt, seed) = parse_creds(ONE_CREDS).unwrap();
    let user = decode_user(&jwt, NOW).unwrap();
    assert_eq!(user.iss, account.sub);
    assert_eq!(user.account(), account.sub);
    assert_eq!(user.name, "one");
    assert_eq!(
        user.sub,
        KeyPair::from_seed(&seed).unwrap().public_key(),
        "the seed is the user's"
    );
    let u = &user.nats.permissions;
    assert_eq!((u.subs, u.data, u.payload), (-1, -1, -1));
    assert!(u.publish.is_empty() && u.subscribe.is_empty());
    assert!(!u.bearer_token);

    // The Go-made tokens fail like ours when touched.
    let mut forged = JS_OP_ACCOUNT_ONE.to_string();
    forged.pop();
    forged.push('A');
    assert_eq!(decode_account(&forged, NOW), Err(JwtError::BadSignature));
    assert!(matches!(
        decode_user(JS_OP_ACCOUNT_ONE, NOW),
        Err(JwtError::WrongType { .. })
    ));
}

#[test]
fn go_library_account_fixture_verifies() {
    let account = decode_account(JWT_LIB_ACCOUNT, NOW).unwrap();
    assert_eq!(
        account.iss,
        "OBNTQREHEIPRETMAVPVQUCIGERKGZB3ERAV5S5GM3IOEQNHREBJOUARF"
    );
    assert_eq!(account.name, "test");
    assert_eq!(account.nats.limits.jetstream.disk_storage, 1_000_000);
    assert_eq!(account.nats.limits.jetstream.mem_storage, 0);
    assert_eq!(account.nats.limits.imports, -1);
    assert_eq!(account.nats.default_permissions, Permissions::default());
}

#[test]
fn version_1_fixture_is_refused() {
    assert_eq!(
        decode_operator(V1_OPERATOR, NOW),
        Err(JwtError::UnsupportedVersion(1))
    );
}

#[test]
fn creds_round_trip() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let token = encode(&user_json(&user), &acc).unwrap();
    let seed = user.seed().unwrap();
    let text = user_creds(&token, &seed);
    assert_eq!(parse_creds(&text), Ok((token.clone(), seed.clone())));
    // Windows line endings, indentation, trailing blanks.
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(parse_creds(&crlf), Ok((token.clone(), seed.clone())));
    let indented = text.replace('\n', "  \n    ");
    assert_eq!(parse_creds(&indented), Ok((token.clone(), seed.clone())));
    // Any dash count and delimiter text.
    let terse = format!("---\n{token}\n---\n---x---\n\n{seed}\n\n---------\n");
    assert_eq!(parse_creds(&terse), Ok((token.clone(), seed.clone())));
    // A missing final delimiter.
    let unclosed = format!("---\n{token}\n---\n---\n{seed}\n");
    assert_eq!(parse_creds(&unclosed), Ok((token.clone(), seed.clone())));
    // No seed block: the first SU line.
    let bare = format!("-----BEGIN NATS USER JWT-----\n{token}\n------END------\n{seed}\n");
    assert_eq!(parse_creds(&bare), Ok((token.clone(), seed.clone())));
    // The real file again, with CRLF.
    let (jwt, _) = parse_creds(&ONE_CREDS.replace('\n', "\r\n")).unwrap();
    assert!(decode_user(&jwt, NOW).is_ok());
}

#[test]
fn bad_creds_files() {
    let user = KeyPair::new_user();
    let seed = user.seed().unwrap();
    let acc_seed = KeyPair::new_account().seed().unwrap();
    let cases = [
        (String::new(), "no user JWT block"),
        ("just text".to_string(), "no user JWT block"),
        ("-----\n-----\n".to_string(), "no user JWT block"),
        ("-----\n".to_string(), "no user JWT block"),
        ("---\nJWT\n---\n".to_string(), "no user nkey seed"),
        (
            format!("---\nJWT\n---\n---\n{acc_seed}\n---\n"),
            "the seed is not a user nkey seed",
        ),
        (
            "---\nJWT\n---\n---\n---\n".to_string(),
            "the seed is not a user nkey seed",
        ),
        (
            format!("---\nJWT\n---\n---\nSU{}\n---\n", "A".repeat(56)),
            "the user nkey seed is invalid",
        ),
        (
            "---\nJWT\n---\nSUNOTASEED\n".to_string(),
            "the user nkey seed is invalid",
        ),
    ];
    for (text, reason) in cases {
        let err = parse_creds(&text).unwrap_err();
        assert_eq!(err, JwtError::Creds(reason), "{text:?}");
        assert!(!err.to_string().contains(&seed[2..]));
    }
}

#[test]
fn peek_reads_claims_without_trusting_them() {
    let acc = KeyPair::new_account();
    let user = KeyPair::new_user();
    let token = encode(&user_json(&user), &acc).unwrap();
    // A signature character changed in the middle (the last one may carry
    // only padding bits).
    let at = token.len() - 10;
    let swap = if &token[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{swap}{}", &token[..at], &token[at + 1..]);
    let peeked = peek::<User>(&forged).unwrap();
    assert_eq!(peeked.iss, acc.public_key());
    assert_eq!(peeked.sub, user.public_key());
    assert_eq!(decode_user(&forged, NOW), Err(JwtError::BadSignature));
    // The shape and the claim type are still checked.
    assert!(matches!(peek::<User>("a.b"), Err(JwtError::Parts(2))));
    assert!(matches!(
        peek::<Account>(&token),
        Err(JwtError::WrongType { .. })
    ));
}
