//! Tests for the `authorization { }` block, through the whole loader so
//! positions and cross-key behaviour are covered too.
use std::path::Path;
use std::time::Duration;

use crate::options::{
    load_str, Authorization, CertificateClient, ConfigErrors, Loaded, NkeyUser, Permissions,
    SubjectPermission, User,
};

const NKEY: &str = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

fn load(text: &str) -> Result<Loaded, ConfigErrors> {
    load_str(text, Path::new("t.conf"))
}

fn auth(text: &str) -> Authorization {
    match load(text) {
        Ok(l) => l.options.authorization.unwrap_or_else(|| panic!("no auth")),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

fn errors(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => panic!("{text:?} loaded: {:?}", l.options),
        Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
    }
}

fn warnings(text: &str) -> Vec<String> {
    match load(text) {
        Ok(l) => l.warnings.iter().map(ToString::to_string).collect(),
        Err(e) => panic!("{text:?} failed:\n{e}"),
    }
}

fn allow(items: &[&str]) -> Option<SubjectPermission> {
    Some(SubjectPermission {
        allow: Some(items.iter().map(|s| s.to_string()).collect()),
        deny: None,
    })
}

#[test]
fn single_user_and_aliases() {
    let a = auth("authorization { user: derek, password: s3cr3t }");
    assert_eq!(a.user.as_deref(), Some("derek"));
    assert_eq!(a.password.as_deref(), Some("s3cr3t"));
    let a = auth("authorization { USERNAME: derek, pass: \"$2a$11$abc\" }");
    assert_eq!(a.user.as_deref(), Some("derek"));
    assert_eq!(a.password.as_deref(), Some("$2a$11$abc"));
    let a = auth("authorization { token: t0k }");
    assert_eq!(a.token.as_deref(), Some("t0k"));
    assert_eq!(auth("authorization {}"), Authorization::default());
}

#[test]
fn users_with_passwords_nkeys_and_permissions() {
    let a = auth(&format!(
        "authorization {{ users: [\n\
           {{ user: a, password: pa, permissions: {{ publish: \"x\" }} }}\n\
           {{ username: b }}\n\
           {{ nkey: {NKEY}, permission: {{ subscribe: [\"y\"] }} }}\n\
         ] }}"
    ));
    assert_eq!(
        a.users,
        [
            User {
                username: "a".into(),
                password: Some("pa".into()),
                permissions: Some(Permissions {
                    publish: allow(&["x"]),
                    ..Permissions::default()
                }),
            },
            User {
                username: "b".into(),
                password: None,
                permissions: None,
            },
        ]
    );
    assert_eq!(
        a.nkeys,
        [NkeyUser {
            nkey: NKEY.into(),
            permissions: Some(Permissions {
                subscribe: allow(&["y"]),
                ..Permissions::default()
            }),
        }]
    );
    // `authorization` is an alias of a user's `permissions` too.
    let a = auth("authorization { users: [ {user: a, authorization: {publish: z}} ] }");
    assert_eq!(
        a.users[0]
            .permissions
            .as_ref()
            .and_then(|p| p.publish.clone()),
        allow(&["z"])
    );
}

#[test]
fn user_entry_errors() {
    for (text, want) in [
        (
            "authorization { users: [ {password: a} ] }",
            "t.conf:1:26: User entry requires a user",
        ),
        (
            "authorization { users: [ {user: a, bogus: 1} ] }",
            "t.conf:1:36: unknown field \"bogus\"",
        ),
        (
            "authorization { users: {a: 1} }",
            "t.conf:1:17: Expected users field to be an array, got map[a:1]",
        ),
        (
            "authorization { users: [ 5, ] }",
            "t.conf:1:26: Expected user entry to be a map/struct, got 5",
        ),
        (
            "authorization { users: [ {nkey: ADXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4} ] }",
            "t.conf:1:27: Not a valid public nkey for a user",
        ),
        (
            "authorization { users: [ {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF5} ] }",
            "t.conf:1:27: Not a valid public nkey for a user",
        ),
        (
            "authorization { users: [ {user: x, password: y}, {user: x, password: z} ] }",
            "t.conf:1:50: Duplicate user \"x\" detected",
        ),
        // No second "requires a user" for an entry with errors of its own.
        (
            "authorization { users: [ {user: 5} ] }",
            "t.conf:1:27: invalid type for field \"user\": interface conversion: \
             interface {} is int64, not string",
        ),
    ] {
        assert_eq!(errors(text), [want], "{text}");
    }
    assert_eq!(
        errors(&format!(
            "authorization {{ users: [ {{nkey: {NKEY}, user: a}} ] }}"
        )),
        ["t.conf:1:27: Nkey users do not take usernames or passwords"]
    );
    assert_eq!(
        errors(&format!(
            "authorization {{ users: [ {{nkey: {NKEY}}}, {{nkey: {NKEY}}} ] }}"
        )),
        [format!("t.conf:1:93: Duplicate nkey \"{NKEY}\" detected")]
    );
}

#[test]
fn conflicts_use_the_reference_texts_at_the_block() {
    for (text, want) in [
        (
            "authorization { user: a, password: b, users: [] }",
            "Can not have a single user/pass and a users array",
        ),
        (
            "authorization { user: a, token: b }",
            "Cannot have a user/pass and token",
        ),
        (
            "authorization { password: a, token: b }",
            "Cannot have a user/pass and token",
        ),
        (
            "authorization { token: b, users: [ {user: x, password: y} ] }",
            "Can not have a token and a users array",
        ),
        // Only the first conflict is reported, as nats-server does.
        (
            "authorization { user: a, users: [ {user: x} ], token: t }",
            "Cannot have a user/pass and token",
        ),
    ] {
        assert_eq!(
            errors(&format!("port: 1\n{text}")),
            [format!("t.conf:2:1: {want}")]
        );
    }
    // A password alone next to users is accepted, as in nats-server.
    auth("authorization { password: a, users: [ {user: x} ] }");
}

#[test]
fn unknown_keys_and_variables() {
    assert_eq!(
        errors("authorization {\n  bogus: 1\n}"),
        ["t.conf:2:3: unknown field \"bogus\""]
    );
    let a = auth(
        "authorization {\n  PERM = { publish: [\"a\"] }\n  users = [ {user: u, permissions: $PERM} ]\n}",
    );
    assert_eq!(
        a.users[0]
            .permissions
            .as_ref()
            .and_then(|p| p.publish.clone()),
        allow(&["a"])
    );
    assert_eq!(
        errors("authorization: 5"),
        [
            "t.conf:1:1: invalid type for field \"authorization\": interface conversion: \
          interface {} is int64, not map[string]interface {}"
        ]
    );
}

#[test]
fn features_not_built_yet_warn() {
    assert_eq!(
        warnings(
            "authorization {\n  auth_callout: { issuer: x }\n  proxy_required: true\n  \
             users: [ {user: a, allowed_connection_types: [STANDARD]} ]\n}"
        ),
        [
            "t.conf:2:3: authorization.auth_callout is not supported yet",
            "t.conf:3:3: authorization.proxy_required is not supported yet",
            "t.conf:4:22: users.allowed_connection_types is not supported yet",
        ]
    );
}

#[test]
fn timeout_seconds_or_duration() {
    assert_eq!(
        auth("authorization { timeout: 30 }").timeout,
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        auth("authorization { timeout: 0.5 }").timeout,
        Some(Duration::from_millis(500))
    );
    assert_eq!(
        auth("authorization { timeout: \"2s\" }").timeout,
        Some(Duration::from_secs(2))
    );
    assert_eq!(auth("authorization { timeout: 0 }").timeout, None);
    assert_eq!(
        errors("authorization { timeout: \"abc\" }"),
        ["t.conf:1:17: error parsing authorization config, 'timeout' time: invalid duration \"abc\""]
    );
    assert_eq!(
        errors("authorization { timeout: true }"),
        ["t.conf:1:17: error parsing authorization config, 'timeout' wrong type"]
    );
    assert_eq!(
        errors("authorization { timeout: -1 }"),
        ["t.conf:1:17: error parsing authorization config, 'timeout' can not be negative"]
    );
}

#[test]
fn high_timeout_warns_like_the_reference() {
    assert_eq!(
        warnings("authorization { timeout: 61 }"),
        [
            "t.conf:1:17: invalid use of field \"timeout\": timeout of 61 (61.000000 seconds) is \
          high, consider keeping it under 60 seconds. possibly caused by unquoted duration; \
          use '1m' instead of 1m, for example"
        ]
    );
    // An unquoted 1m is one million seconds.
    let w = warnings("authorization { timeout: 1m }");
    assert!(
        w[0].contains("timeout of 1000000 (1000000.000000 seconds)"),
        "{w:?}"
    );
    assert!(warnings("authorization { timeout: 60 }").is_empty());
}

#[test]
fn default_permissions_fill_users_without_their_own() {
    for key in ["default_permissions", "default_permission", "permissions"] {
        let a = auth(&format!(
            "authorization {{\n  users: [ {{user: a}}, {{user: b, permissions: {{publish: b}}}}, \
             {{nkey: {NKEY}}} ]\n  {key}: {{ publish: d }}\n}}"
        ));
        let d = Permissions {
            publish: allow(&["d"]),
            ..Permissions::default()
        };
        assert_eq!(a.default_permissions.as_ref(), Some(&d));
        assert_eq!(a.users[0].permissions.as_ref(), Some(&d), "{key}");
        assert_eq!(
            a.users[1]
                .permissions
                .as_ref()
                .and_then(|p| p.publish.clone()),
            allow(&["b"])
        );
        assert_eq!(a.nkeys[0].permissions.as_ref(), Some(&d));
    }
}

#[test]
fn permission_errors_carry_positions() {
    assert_eq!(
        errors("authorization {\n  users: [ {user: a, permissions: {publish: [\"a b\"]}} ]\n}"),
        ["t.conf:2:46: subject \"a b\" is not a valid subject"]
    );
    assert_eq!(
        errors("authorization {\n  default_permissions: { bogus: 1 }\n}"),
        ["t.conf:2:26: Unknown field \"bogus\" parsing permissions"]
    );
}

#[test]
fn empty_allow_lists_of_ordinary_users_warn() {
    assert_eq!(
        warnings(&format!(
            "authorization {{\n  users: [\n    {{user: hm, permissions: {{publish: [], subscribe: [a]}}}}\n    \
             {{nkey: {NKEY}, permissions: {{subscribe: {{allow: []}}}}}}\n  ]\n  \
             default_permissions: {{ publish: [] }}\n}}"
        )),
        [
            "t.conf:3:30: user \"hm\": empty publish allow list means no restriction (not deny-all)",
            format!(
                "t.conf:4:96: nkey \"{NKEY}\": empty subscribe allow list means no restriction \
                 (not deny-all)"
            )
            .as_str(),
            "t.conf:6:26: default_permissions: empty publish allow list means no restriction \
             (not deny-all)",
        ]
    );
}

#[test]
fn certificate_clients_parse() {
    let a = auth(
        "authorization {\n\
           P = { publish: [\"agent.*\"], subscribe: [\"director.>\"] }\n\
           certificate_clients: [\n\
             {client_name: director.bosh-internal, permissions: $P},\n\
             {client_name: hm.bosh-internal, permissions: { publish: [] }},\n\
             {client_name: other},\n\
           ]\n\
           default_permissions: { subscribe: \"d\" }\n\
         }\n\
         tls { cert_file: c, key_file: k, verify: true, enable_cert_authorization: true }",
    );
    assert_eq!(
        a.certificate_clients,
        [
            CertificateClient {
                client_name: "director.bosh-internal".into(),
                permissions: Some(Permissions {
                    publish: allow(&["agent.*"]),
                    subscribe: allow(&["director.>"]),
                    allow_responses: None,
                }),
            },
            CertificateClient {
                client_name: "hm.bosh-internal".into(),
                permissions: Some(Permissions {
                    publish: Some(SubjectPermission {
                        allow: Some(vec![]),
                        deny: None
                    }),
                    ..Permissions::default()
                }),
            },
            CertificateClient {
                client_name: "other".into(),
                permissions: Some(Permissions {
                    subscribe: allow(&["d"]),
                    ..Permissions::default()
                }),
            },
        ]
    );
}

#[test]
fn certificate_client_errors() {
    let tls = "\ntls { cert_file: c, key_file: k, verify: true, enable_cert_authorization: true }";
    for (text, want) in [
        (
            "authorization { certificate_clients: 5 }",
            "t.conf:1:17: Expected certificate_clients field to be an array, got 5",
        ),
        (
            "authorization { certificate_clients: [ x ] }",
            "t.conf:1:40: Expected certificate client entry to be a map/struct, got x",
        ),
        (
            "authorization { certificate_clients: [ {permissions: {}} ] }",
            "t.conf:1:40: Certificate client entry requires a client_name",
        ),
        (
            "authorization { certificate_clients: [ {client_name: a, user: b} ] }",
            "t.conf:1:57: unknown field \"user\"",
        ),
        (
            "authorization { certificate_clients: [ {client_name: a}, {client_name: a} ] }",
            "t.conf:1:58: Duplicate certificate client \"a\" detected",
        ),
        (
            "authorization { certificate_clients: [ {client_name: a, permissions: {publish: [\"a..\"]}} ] }",
            "t.conf:1:81: subject \"a..\" is not a valid subject",
        ),
    ] {
        assert_eq!(errors(&format!("{text}{tls}")), [want], "{text}");
    }
}

#[test]
fn certificate_clients_do_not_warn_about_empty_lists() {
    let w = warnings(
        "authorization { certificate_clients: [ {client_name: hm, permissions: {publish: []}} ] }\n\
         tls { cert_file: c, key_file: k, verify: true, enable_cert_authorization: true }",
    );
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn later_authorization_replaces_the_earlier_one_wholesale() {
    let a = auth(
        "authorization { user: a, password: b, timeout: 5 }\n\
         authorization { users: [ {user: c} ] }",
    );
    assert_eq!((a.user, a.timeout), (None, None));
    assert_eq!(a.users.len(), 1);
}
