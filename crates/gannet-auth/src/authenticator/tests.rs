//! Authenticator behaviour, method by method, with certificates, bcrypt
//! hashes and nkeys made here.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use gannet_config::options::{
    AccountConfig, Authorization, CertificateClient, NkeyUser, Permissions as ConfigPermissions,
    SubjectPermission, TlsOptions, User,
};
use gannet_config::Options;
use nkeys::KeyPair;
use rcgen::DnType;
use rustls_pki_types::CertificateDer;

use super::*;
use crate::test_certs::{bosh_clients, bosh_subject, sp, CertSpec, TestCa};

const BCRYPT_COST: u32 = 4;
const AGENT_A: &str = "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e";
const AGENT_B: &str = "7d1c9b2e-2222-4c3d-8e4f-6a6b6c6d6e6f";
const NONCE: &[u8] = b"Y2hhbGxlbmdlLW5vbmNl";

fn with_auth(a: Authorization) -> Options {
    Options {
        authorization: Some(a),
        ..Default::default()
    }
}

fn user(name: &str, password: Option<&str>, permissions: Option<ConfigPermissions>) -> User {
    User {
        username: name.to_string(),
        password: password.map(str::to_string),
        permissions,
    }
}

fn publish_only(allow: &[&str]) -> ConfigPermissions {
    ConfigPermissions {
        publish: sp(allow),
        subscribe: None,
        allow_responses: None,
    }
}

fn login<'a>(user: &'a str, pass: &'a str) -> Credentials<'a> {
    Credentials {
        user: Some(user),
        pass: Some(pass),
        ..Default::default()
    }
}

fn auth(opts: &Options) -> Authenticator {
    Authenticator::new(opts).unwrap()
}

fn can_publish(id: &Identity, subject: &str) -> bool {
    id.permissions
        .as_ref()
        .is_none_or(|p| p.can_publish(subject.as_bytes()))
}

fn can_subscribe(id: &Identity, subject: &str) -> bool {
    id.permissions
        .as_ref()
        .is_none_or(|p| p.can_subscribe(subject.as_bytes(), None))
}

// ---- nothing configured -------------------------------------------------

#[test]
fn without_configuration_everyone_is_let_in() {
    for opts in [
        Options::default(),
        with_auth(Authorization::default()),
        Options {
            tls: Some(TlsOptions {
                verify: true,
                ..TlsOptions::new("c.pem", "k.pem")
            }),
            ..Default::default()
        },
    ] {
        let a = auth(&opts);
        assert!(!a.auth_required());
        assert!(!a.info_auth_required());
        assert!(!a.needs_nonce());
        assert!(!a.maps_certificates());
        let id = a.authenticate(&login("x", "y")).unwrap();
        assert!(id.user.is_none());
        assert!(id.permissions.is_none());
        assert!(a.authenticate(&Credentials::default()).is_ok());
    }
}

// ---- single user, token -------------------------------------------------

#[test]
fn single_user_with_plain_password() {
    let a = auth(&with_auth(Authorization {
        user: Some("admin".into()),
        password: Some("s3cret".into()),
        ..Default::default()
    }));
    assert!(a.auth_required());
    assert!(a.info_auth_required());
    assert!(a.has_plaintext_passwords());
    let id = a.authenticate(&login("admin", "s3cret")).unwrap();
    assert_eq!(id.user.as_deref(), Some("admin"));
    assert!(id.permissions.is_none());
    assert!(a.authenticate(&login("admin", "wrong")).is_err());
    assert!(a.authenticate(&login("other", "s3cret")).is_err());
    assert!(a.authenticate(&Credentials::default()).is_err());
    let err = a
        .authenticate(&Credentials {
            user: Some("admin"),
            ..Default::default()
        })
        .unwrap_err();
    assert!(!err.reason.contains("s3cret"), "{err}");
}

#[test]
fn single_user_with_bcrypt_password() {
    let hash = bcrypt::hash("s3cret", BCRYPT_COST).unwrap();
    let a = auth(&with_auth(Authorization {
        user: Some("admin".into()),
        password: Some(hash.clone()),
        ..Default::default()
    }));
    assert!(!a.has_plaintext_passwords());
    assert!(a.authenticate(&login("admin", "s3cret")).is_ok());
    assert!(a.authenticate(&login("admin", "S3cret")).is_err());
    assert!(a.authenticate(&login("admin", &hash)).is_err());
}

#[test]
fn token_plain_and_bcrypt() {
    let hash = bcrypt::hash("tok", BCRYPT_COST).unwrap();
    for configured in ["tok".to_string(), hash] {
        let a = auth(&with_auth(Authorization {
            token: Some(configured),
            ..Default::default()
        }));
        assert!(a.info_auth_required());
        let good = Credentials {
            token: Some("tok"),
            ..Default::default()
        };
        let id = a.authenticate(&good).unwrap();
        assert!(id.user.is_none());
        let bad = Credentials {
            token: Some("tok2"),
            ..Default::default()
        };
        assert!(a.authenticate(&bad).is_err());
        assert!(a.authenticate(&Credentials::default()).is_err());
        assert!(a.authenticate(&login("tok", "tok")).is_err());
    }
}

// ---- users list ----------------------------------------------------------

#[test]
fn users_list_with_permissions_and_defaults() {
    let hash = bcrypt::hash("bpw", BCRYPT_COST).unwrap();
    let a = auth(&with_auth(Authorization {
        users: vec![
            user("alice", Some("apw"), Some(publish_only(&["alice.>"]))),
            user("bob", Some(&hash), None),
            user("nopass", None, Some(publish_only(&["np"]))),
        ],
        default_permissions: Some(publish_only(&["default.>"])),
        ..Default::default()
    }));
    let alice = a.authenticate(&login("alice", "apw")).unwrap();
    assert_eq!(alice.user.as_deref(), Some("alice"));
    assert!(can_publish(&alice, "alice.x"));
    assert!(!can_publish(&alice, "default.x"));
    let bob = a.authenticate(&login("bob", "bpw")).unwrap();
    assert!(can_publish(&bob, "default.x"), "default_permissions");
    assert!(!can_publish(&bob, "alice.x"));
    assert!(a.authenticate(&login("bob", "apw")).is_err());
    assert!(a.authenticate(&login("carol", "apw")).is_err());
    // A user configured without a password logs in without one.
    let np = a
        .authenticate(&Credentials {
            user: Some("nopass"),
            ..Default::default()
        })
        .unwrap();
    assert!(can_publish(&np, "np"));
    assert!(a.authenticate(&login("nopass", "x")).is_err());
    assert!(a.authenticate(&Credentials::default()).is_err());
}

#[test]
fn users_share_compiled_permissions() {
    let a = auth(&with_auth(Authorization {
        users: vec![user("u", Some("p"), Some(publish_only(&["a"])))],
        ..Default::default()
    }));
    let one = a.authenticate(&login("u", "p")).unwrap();
    let two = a.authenticate(&login("u", "p")).unwrap();
    assert!(Arc::ptr_eq(
        one.permissions.as_ref().unwrap(),
        two.permissions.as_ref().unwrap()
    ));
}

#[test]
fn later_duplicate_user_wins() {
    let a = auth(&with_auth(Authorization {
        users: vec![user("u", Some("old"), None), user("u", Some("new"), None)],
        ..Default::default()
    }));
    assert!(a.authenticate(&login("u", "new")).is_ok());
    assert!(a.authenticate(&login("u", "old")).is_err());
}

// ---- nkeys ---------------------------------------------------------------

fn nkey_auth(kp: &KeyPair, permissions: Option<ConfigPermissions>) -> Authenticator {
    auth(&with_auth(Authorization {
        nkeys: vec![NkeyUser {
            nkey: kp.public_key(),
            permissions,
        }],
        default_permissions: Some(publish_only(&["default"])),
        ..Default::default()
    }))
}

#[test]
fn nkey_user_with_good_signature() {
    let kp = KeyPair::new_user();
    let a = nkey_auth(&kp, None);
    assert!(a.needs_nonce());
    assert!(a.info_auth_required());
    let public = kp.public_key();
    for sig in [
        URL_SAFE_NO_PAD.encode(kp.sign(NONCE).unwrap()),
        STANDARD.encode(kp.sign(NONCE).unwrap()),
    ] {
        let id = a
            .authenticate(&Credentials {
                nkey: Some(&public),
                sig: Some(&sig),
                nonce: Some(NONCE),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(id.user.as_deref(), Some(public.as_str()));
        assert!(can_publish(&id, "default"));
        assert!(!can_publish(&id, "other"));
    }
}

#[test]
fn nkey_user_refusals() {
    let kp = KeyPair::new_user();
    let a = nkey_auth(&kp, Some(publish_only(&["mine"])));
    let public = kp.public_key();
    let sig = URL_SAFE_NO_PAD.encode(kp.sign(NONCE).unwrap());
    let creds = Credentials {
        nkey: Some(&public),
        sig: Some(&sig),
        nonce: Some(NONCE),
        ..Default::default()
    };
    assert!(can_publish(&a.authenticate(&creds).unwrap(), "mine"));
    // Signature of another nonce.
    let other = URL_SAFE_NO_PAD.encode(kp.sign(b"other").unwrap());
    let err = a
        .authenticate(&Credentials {
            sig: Some(&other),
            ..creds
        })
        .unwrap_err();
    assert!(err.reason.contains("signature"), "{err}");
    // Signature by another key.
    let stranger = KeyPair::new_user();
    let forged = URL_SAFE_NO_PAD.encode(stranger.sign(NONCE).unwrap());
    assert!(a
        .authenticate(&Credentials {
            sig: Some(&forged),
            ..creds
        })
        .is_err());
    // The stranger's own key is not listed.
    let stranger_public = stranger.public_key();
    assert!(a
        .authenticate(&Credentials {
            nkey: Some(&stranger_public),
            sig: Some(&forged),
            ..creds
        })
        .is_err());
    // No signature, no nonce.
    assert!(a.authenticate(&Credentials { sig: None, ..creds }).is_err());
    assert!(a
        .authenticate(&Credentials {
            nonce: None,
            ..creds
        })
        .is_err());
    // No nkey at all.
    assert!(a.authenticate(&Credentials::default()).is_err());
}

// ---- no_auth_user ----------------------------------------------------------

#[test]
fn no_auth_user_takes_clients_without_credentials() {
    let mut opts = with_auth(Authorization {
        users: vec![
            user("anon", Some("apw"), Some(publish_only(&["public.>"]))),
            user("admin", Some("pw"), None),
        ],
        ..Default::default()
    });
    opts.no_auth_user = Some("anon".into());
    let a = auth(&opts);
    assert!(a.auth_required());
    assert!(!a.info_auth_required(), "INFO omits auth_required");
    let id = a.authenticate(&Credentials::default()).unwrap();
    assert_eq!(id.user.as_deref(), Some("anon"));
    assert!(can_publish(&id, "public.x"));
    assert!(!can_publish(&id, "private"));
    // Empty strings are no credentials.
    let empty = Credentials {
        user: Some(""),
        pass: Some(""),
        token: Some(""),
        ..Default::default()
    };
    assert_eq!(
        a.authenticate(&empty).unwrap().user.as_deref(),
        Some("anon")
    );
    // Credentials that are sent are checked, with no fallback.
    let admin = a.authenticate(&login("admin", "pw")).unwrap();
    assert_eq!(admin.user.as_deref(), Some("admin"));
    assert!(a.authenticate(&login("admin", "bad")).is_err());
    assert!(a
        .authenticate(&Credentials {
            pass: Some("x"),
            ..Default::default()
        })
        .is_err());
}

#[test]
fn no_auth_user_can_be_an_nkey() {
    let kp = KeyPair::new_user();
    let mut opts = with_auth(Authorization {
        nkeys: vec![NkeyUser {
            nkey: kp.public_key(),
            permissions: None,
        }],
        ..Default::default()
    });
    opts.no_auth_user = Some(kp.public_key());
    let a = auth(&opts);
    let id = a.authenticate(&Credentials::default()).unwrap();
    assert_eq!(id.user, Some(kp.public_key()));
}

#[test]
fn no_auth_user_must_exist() {
    let mut opts = with_auth(Authorization {
        users: vec![user("a", Some("p"), None)],
        ..Default::default()
    });
    opts.no_auth_user = Some("zz".into());
    let errors = Authenticator::new(&opts).unwrap_err();
    assert_eq!(
        errors,
        vec![
            r#"no_auth_user: "zz" not present as user or nkey in authorization block or account configuration"#
        ]
    );
    opts.authorization = None;
    assert!(Authenticator::new(&opts).is_err());
}

// ---- configuration errors ----------------------------------------------------

#[test]
fn conflicting_methods_are_reported_together() {
    let errors = Authenticator::new(&with_auth(Authorization {
        user: Some("u".into()),
        password: Some("p".into()),
        token: Some("t".into()),
        users: vec![user("v", Some("p"), Some(publish_only(&["bad..subject"])))],
        nkeys: vec![NkeyUser {
            nkey: "UNOTVALID".into(),
            permissions: None,
        }],
        certificate_clients: bosh_clients(),
        ..Default::default()
    }))
    .unwrap_err();
    let all = errors.join("\n");
    for want in [
        "Can not have a single user/pass and a users array",
        "Cannot have a user/pass and token",
        "Can not have a token and a users array",
        "'enable_cert_authorization' must be enabled",
        r#"user "v" permissions: invalid publish allow subject "bad..subject""#,
        "invalid nkey \"UNOTVALID\"",
    ] {
        assert!(all.contains(want), "missing {want:?} in\n{all}");
    }
}

fn bosh_tls() -> TlsOptions {
    TlsOptions {
        verify: true,
        enable_cert_authorization: true,
        ..TlsOptions::new("server.pem", "server.key")
    }
}

#[test]
fn certificate_authorization_conflicts() {
    let cases: Vec<(Option<TlsOptions>, Authorization, &str)> = vec![
        (
            Some(bosh_tls()),
            Authorization::default(),
            "'certificate_clients' must be defined",
        ),
        (
            Some(TlsOptions {
                verify: false,
                ..bosh_tls()
            }),
            Authorization {
                certificate_clients: bosh_clients(),
                ..Default::default()
            },
            "requires 'verify: true'",
        ),
        (
            Some(bosh_tls()),
            Authorization {
                certificate_clients: bosh_clients(),
                users: vec![user("u", Some("p"), None)],
                ..Default::default()
            },
            "Can not have 'users' and 'certificate_clients'",
        ),
        (
            Some(bosh_tls()),
            Authorization {
                certificate_clients: bosh_clients(),
                user: Some("u".into()),
                password: Some("p".into()),
                ..Default::default()
            },
            "Can not have 'user' and 'certificate_clients'",
        ),
        (
            Some(TlsOptions {
                allow_legacy_clients: true,
                ..bosh_tls()
            }),
            Authorization {
                certificate_clients: bosh_clients(),
                ..Default::default()
            },
            "'allow_legacy_clients' requires a single 'user'",
        ),
        (
            Some(TlsOptions {
                verify_and_map: true,
                ..bosh_tls()
            }),
            Authorization {
                certificate_clients: bosh_clients(),
                ..Default::default()
            },
            "'verify_and_map' and 'enable_cert_authorization'",
        ),
    ];
    for (tls, authorization, want) in cases {
        let opts = Options {
            tls,
            authorization: Some(authorization),
            ..Default::default()
        };
        let errors = Authenticator::new(&opts).unwrap_err();
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "{want:?} not in {errors:?}"
        );
    }
}

// ---- verify_and_map ---------------------------------------------------------

const DIRECTOR_DN: &str = "C=USA, O=Cloud Foundry, CN=default.director.bosh-internal";

fn mapped_users() -> Vec<User> {
    vec![
        user(
            DIRECTOR_DN,
            None,
            Some(ConfigPermissions {
                publish: sp(&["agent.*", "hm.director.alert"]),
                subscribe: sp(&["director.>"]),
                allow_responses: None,
            }),
        ),
        user(
            &format!("CN={AGENT_A}.agent.bosh-internal,O=Cloud Foundry,C=USA"),
            None,
            Some(ConfigPermissions {
                publish: sp(&[&format!("hm.agent.heartbeat.{AGENT_A}")]),
                subscribe: sp(&[&format!("agent.{AGENT_A}")]),
                allow_responses: None,
            }),
        ),
        user(
            &format!("C=USA, O=Cloud Foundry, CN={AGENT_A}.bootstrap.agent.bosh-internal"),
            None,
            Some(publish_only(&["bootstrap"])),
        ),
        user("ops@example.com", None, Some(publish_only(&["probe.>"]))),
        user("client.example.com", None, Some(publish_only(&["dns"]))),
        user(
            "spiffe://example.org/ns/x",
            None,
            Some(publish_only(&["uri"])),
        ),
        user(
            "1.2.3.4=#1303616263,CN=odd",
            None,
            Some(publish_only(&["literal"])),
        ),
        user("admin", Some("pw"), None),
        user("C=USA, CN=with-password", Some("certpw"), None),
    ]
}

fn map_opts() -> Options {
    Options {
        tls: Some(TlsOptions {
            verify: true,
            verify_and_map: true,
            ..TlsOptions::new("server.pem", "server.key")
        }),
        authorization: Some(Authorization {
            users: mapped_users(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn with_cert<'a>(chain: &'a [CertificateDer<'static>]) -> Credentials<'a> {
    Credentials {
        peer_certs: Some(chain),
        ..Default::default()
    }
}

#[test]
fn verify_and_map_by_subject_dn() {
    let ca = TestCa::new();
    let a = auth(&map_opts());
    assert!(a.info_auth_required());
    assert!(a.maps_certificates());
    let director = [ca.issue(&CertSpec::subject(bosh_subject(
        "default.director.bosh-internal",
    )))];
    let id = a.authenticate(&with_cert(&director)).unwrap();
    assert_eq!(id.user.as_deref(), Some(DIRECTOR_DN), "the configured name");
    assert!(can_publish(&id, &format!("agent.{AGENT_A}")));
    assert!(can_publish(&id, "hm.director.alert"));
    assert!(!can_publish(&id, &format!("hm.agent.heartbeat.{AGENT_A}")));

    // A user written in RFC 2253 order matches too.
    let agent = [ca.issue(&CertSpec::subject(bosh_subject(&format!(
        "{AGENT_A}.agent.bosh-internal"
    ))))];
    let id = a.authenticate(&with_cert(&agent)).unwrap();
    assert!(can_publish(&id, &format!("hm.agent.heartbeat.{AGENT_A}")));
    assert!(!can_publish(&id, &format!("hm.agent.heartbeat.{AGENT_B}")));
    assert!(can_subscribe(&id, &format!("agent.{AGENT_A}")));
    assert!(!can_subscribe(&id, &format!("agent.{AGENT_B}")));
    assert!(!can_subscribe(&id, "agent.>"));

    // The 66-character bootstrap CN.
    let bootstrap = [ca.issue(&CertSpec::subject(bosh_subject(&format!(
        "{AGENT_A}.bootstrap.agent.bosh-internal"
    ))))];
    let id = a.authenticate(&with_cert(&bootstrap)).unwrap();
    assert!(can_publish(&id, "bootstrap"));
}

#[test]
fn verify_and_map_by_sans_in_order() {
    let ca = TestCa::new();
    let a = auth(&map_opts());
    let subject = || bosh_subject("default.director.bosh-internal");
    // Email first, even when the subject would map too.
    let both = [ca.issue(&CertSpec {
        emails: vec!["nobody@example.com".into(), "ops@example.com".into()],
        dns_names: vec!["client.example.com".into()],
        uris: vec!["spiffe://example.org/ns/x".into()],
        ..CertSpec::subject(subject())
    })];
    let id = a.authenticate(&with_cert(&both)).unwrap();
    assert_eq!(id.user.as_deref(), Some("ops@example.com"));
    assert!(can_publish(&id, "probe.x"));
    // Then DNS, then URI, then the subject.
    let dns = [ca.issue(&CertSpec {
        dns_names: vec!["client.example.com".into()],
        uris: vec!["spiffe://example.org/ns/x".into()],
        ..CertSpec::subject(subject())
    })];
    assert_eq!(
        a.authenticate(&with_cert(&dns)).unwrap().user.as_deref(),
        Some("client.example.com")
    );
    let uri = [ca.issue(&CertSpec {
        uris: vec!["spiffe://example.org/ns/x".into()],
        ..CertSpec::subject(subject())
    })];
    assert_eq!(
        a.authenticate(&with_cert(&uri)).unwrap().user.as_deref(),
        Some("spiffe://example.org/ns/x")
    );
    let unknown_sans = [ca.issue(&CertSpec {
        emails: vec!["nobody@example.com".into()],
        ..CertSpec::subject(subject())
    })];
    assert_eq!(
        a.authenticate(&with_cert(&unknown_sans))
            .unwrap()
            .user
            .as_deref(),
        Some(DIRECTOR_DN)
    );
}

#[test]
fn verify_and_map_by_literal_rfc2253_string() {
    let ca = TestCa::new();
    let a = auth(&map_opts());
    let cert = [ca.issue(&CertSpec::subject(vec![
        (DnType::CommonName, "odd".into()),
        (DnType::CustomDnType(vec![1, 2, 3, 4]), "abc".into()),
    ]))];
    let id = a.authenticate(&with_cert(&cert)).unwrap();
    assert_eq!(id.user.as_deref(), Some("1.2.3.4=#1303616263,CN=odd"));
    assert!(can_publish(&id, "literal"));
}

#[test]
fn verify_and_map_refusals() {
    let ca = TestCa::new();
    let mut opts = map_opts();
    let a = auth(&opts);
    let stranger = [ca.issue(&CertSpec::subject(bosh_subject("someone.else")))];
    let err = a.authenticate(&with_cert(&stranger)).unwrap_err();
    assert!(err.reason.contains("maps to no user"), "{err}");
    assert!(
        err.reason.contains("CN=someone.else,O=Cloud Foundry,C=USA"),
        "{err}"
    );
    // Other credentials do not help an unmapped certificate.
    assert!(a
        .authenticate(&Credentials {
            peer_certs: Some(&stranger),
            ..login("admin", "pw")
        })
        .is_err());
    // A mapped certificate plus `user` in CONNECT.
    let director = [ca.issue(&CertSpec::subject(bosh_subject(
        "default.director.bosh-internal",
    )))];
    let err = a
        .authenticate(&Credentials {
            peer_certs: Some(&director),
            ..login("admin", "pw")
        })
        .unwrap_err();
    assert!(
        err.reason.contains("must come from the certificate"),
        "{err}"
    );
    // `pass` alone is ignored for a user without a password...
    assert!(a
        .authenticate(&Credentials {
            peer_certs: Some(&director),
            pass: Some("whatever"),
            ..Default::default()
        })
        .is_ok());
    // ...and checked for one with a password.
    let with_pw = [ca.issue(&CertSpec::subject(vec![
        (DnType::CountryName, "USA".into()),
        (DnType::CommonName, "with-password".into()),
    ]))];
    assert!(a.authenticate(&with_cert(&with_pw)).is_err());
    assert!(a
        .authenticate(&Credentials {
            peer_certs: Some(&with_pw),
            pass: Some("certpw"),
            ..Default::default()
        })
        .is_ok());
    // A plain user name never matches a subject.
    let admin = [ca.issue(&CertSpec::subject(vec![(
        DnType::CommonName,
        "admin".into(),
    )]))];
    assert!(a.authenticate(&with_cert(&admin)).is_err());
    // No certificate: user/password does not get in.
    assert!(a.authenticate(&login("admin", "pw")).is_err());
    assert!(a.authenticate(&Credentials::default()).is_err());
    assert!(a.authenticate(&with_cert(&[])).is_err());
    // ...unless it sent nothing and no_auth_user is set.
    opts.no_auth_user = Some("admin".into());
    let a = auth(&opts);
    assert_eq!(
        a.authenticate(&Credentials::default())
            .unwrap()
            .user
            .as_deref(),
        Some("admin")
    );
    assert!(a.authenticate(&login("admin", "pw")).is_err());
    // A certificate is still mapped, not replaced by no_auth_user.
    assert!(a.authenticate(&with_cert(&stranger)).is_err());
    // Garbage where the certificate should be.
    let junk = [CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01])];
    assert!(a.authenticate(&with_cert(&junk)).is_err());
}

#[test]
fn verify_and_map_without_users_refuses_everyone() {
    let mut opts = map_opts();
    opts.authorization = None;
    let a = auth(&opts);
    assert!(a.auth_required());
    let ca = TestCa::new();
    let cert = [ca.issue(&CertSpec::subject(bosh_subject(
        "default.director.bosh-internal",
    )))];
    assert!(a.authenticate(&with_cert(&cert)).is_err());
}

#[test]
fn nkeys_still_work_with_verify_and_map() {
    let kp = KeyPair::new_user();
    let mut opts = map_opts();
    if let Some(a) = opts.authorization.as_mut() {
        a.nkeys.push(NkeyUser {
            nkey: kp.public_key(),
            permissions: None,
        });
    }
    let a = auth(&opts);
    assert!(a.needs_nonce());
    let public = kp.public_key();
    let sig = URL_SAFE_NO_PAD.encode(kp.sign(NONCE).unwrap());
    let ca = TestCa::new();
    let stranger = [ca.issue(&CertSpec::subject(bosh_subject("someone.else")))];
    let id = a
        .authenticate(&Credentials {
            nkey: Some(&public),
            sig: Some(&sig),
            nonce: Some(NONCE),
            peer_certs: Some(&stranger),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(id.user, Some(public));
}

// ---- accounts -----------------------------------------------------------------

fn account(name: &str, users: Vec<User>, nkeys: Vec<NkeyUser>) -> AccountConfig {
    AccountConfig {
        name: name.to_string(),
        users,
        nkeys,
        ..Default::default()
    }
}

/// The config of docs/SYSTEM-ACCOUNT.md: USERS and SYS, one user each.
fn accounts_opts() -> Options {
    Options {
        accounts: vec![
            account(
                "USERS",
                vec![user("a", Some("a"), Some(publish_only(&["app.>"])))],
                vec![],
            ),
            account("SYS", vec![user("admin", Some("changeit"), None)], vec![]),
        ],
        system_account: Some("SYS".into()),
        ..Default::default()
    }
}

#[test]
fn account_users_authenticate_into_their_account() {
    let a = auth(&accounts_opts());
    assert!(a.auth_required() && a.info_auth_required());
    let id = a.authenticate(&login("a", "a")).unwrap();
    assert_eq!(id.user.as_deref(), Some("a"));
    assert_eq!(id.account.as_deref(), Some("USERS"));
    assert!(can_publish(&id, "app.x"));
    assert!(!can_publish(&id, "other"));
    let id = a.authenticate(&login("admin", "changeit")).unwrap();
    assert_eq!(id.account.as_deref(), Some("SYS"));
    assert!(id.permissions.is_none());
    assert!(a.authenticate(&login("a", "wrong")).is_err());
    assert!(a.authenticate(&login("nobody", "a")).is_err());
    assert!(a.authenticate(&Credentials::default()).is_err());
}

#[test]
fn authorization_users_stay_in_the_global_account() {
    let opts = Options {
        authorization: Some(Authorization {
            users: vec![user("g", Some("g"), None)],
            default_permissions: Some(publish_only(&["global"])),
            ..Default::default()
        }),
        ..accounts_opts()
    };
    let a = auth(&opts);
    let id = a.authenticate(&login("g", "g")).unwrap();
    assert_eq!(id.account, None);
    assert!(can_publish(&id, "global"));
    // authorization's default_permissions are not the accounts' defaults.
    let id = a.authenticate(&login("admin", "changeit")).unwrap();
    assert_eq!(id.account.as_deref(), Some("SYS"));
    assert!(can_publish(&id, "anything"));
}

#[test]
fn a_user_name_may_appear_in_only_one_account() {
    let mut opts = accounts_opts();
    opts.accounts[1].users.push(user("a", Some("other"), None));
    let errors = Authenticator::new(&opts).unwrap_err();
    assert_eq!(
        errors,
        ["Duplicate user \"a\" detected (account \"USERS\" and account \"SYS\")"]
    );
    let opts = Options {
        authorization: Some(Authorization {
            users: vec![user("admin", Some("x"), None)],
            ..Default::default()
        }),
        ..accounts_opts()
    };
    let errors = Authenticator::new(&opts).unwrap_err();
    assert_eq!(
        errors,
        ["Duplicate user \"admin\" detected (authorization and account \"SYS\")"]
    );
}

#[test]
fn nkey_users_in_accounts() {
    let kp = KeyPair::new_user();
    let public = kp.public_key();
    let nkey = NkeyUser {
        nkey: public.clone(),
        permissions: Some(publish_only(&["n.>"])),
    };
    let mut opts = accounts_opts();
    opts.accounts[0].nkeys.push(nkey.clone());
    let a = auth(&opts);
    assert!(a.needs_nonce());
    let sig = URL_SAFE_NO_PAD.encode(kp.sign(NONCE).unwrap());
    let id = a
        .authenticate(&Credentials {
            nkey: Some(&public),
            sig: Some(&sig),
            nonce: Some(NONCE),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(id.user.as_deref(), Some(public.as_str()));
    assert_eq!(id.account.as_deref(), Some("USERS"));
    assert!(can_publish(&id, "n.1") && !can_publish(&id, "app.x"));
    // The same key in a second account is refused.
    opts.accounts[1].nkeys.push(nkey);
    let errors = Authenticator::new(&opts).unwrap_err();
    assert_eq!(
        errors,
        [format!(
            "Duplicate nkey {public:?} detected (account \"USERS\" and account \"SYS\")"
        )]
    );
}

#[test]
fn no_auth_user_resolves_into_its_account() {
    let opts = Options {
        no_auth_user: Some("a".into()),
        ..accounts_opts()
    };
    let a = auth(&opts);
    assert!(a.auth_required() && !a.info_auth_required());
    let id = a.authenticate(&Credentials::default()).unwrap();
    assert_eq!(id.user.as_deref(), Some("a"));
    assert_eq!(id.account.as_deref(), Some("USERS"));
    assert!(can_publish(&id, "app.x") && !can_publish(&id, "other"));

    let kp = KeyPair::new_user();
    let mut opts = Options {
        no_auth_user: Some(kp.public_key()),
        ..accounts_opts()
    };
    opts.accounts[1].nkeys.push(NkeyUser {
        nkey: kp.public_key(),
        permissions: None,
    });
    let id = auth(&opts).authenticate(&Credentials::default()).unwrap();
    assert_eq!(id.account.as_deref(), Some("SYS"));

    let opts = Options {
        no_auth_user: Some("zz".into()),
        ..accounts_opts()
    };
    assert_eq!(
        Authenticator::new(&opts).unwrap_err(),
        ["no_auth_user: \"zz\" not present as user or nkey in authorization block or account configuration"]
    );
}

#[test]
fn account_users_conflict_with_single_user_and_token() {
    let opts = Options {
        authorization: Some(Authorization {
            token: Some("t".into()),
            ..Default::default()
        }),
        ..accounts_opts()
    };
    assert_eq!(
        Authenticator::new(&opts).unwrap_err(),
        ["Can not have a token and a users array"]
    );
    // Accounts without users add no authentication.
    let opts = Options {
        accounts: vec![account("A", vec![], vec![])],
        ..Default::default()
    };
    let a = auth(&opts);
    assert!(!a.auth_required());
    assert_eq!(
        a.authenticate(&Credentials::default()).unwrap().account,
        None
    );
}

// ---- BOSH certificate clients -------------------------------------------------

fn bosh_opts(legacy: bool) -> Options {
    Options {
        tls: Some(TlsOptions {
            allow_legacy_clients: legacy,
            ..bosh_tls()
        }),
        authorization: Some(Authorization {
            certificate_clients: bosh_clients(),
            user: legacy.then(|| "legacy".to_string()),
            password: legacy.then(|| "legacy-pw".to_string()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn bosh_certificate_clients_matrix() {
    let ca = TestCa::new();
    let a = auth(&bosh_opts(false));
    assert!(a.auth_required());
    assert!(a.info_auth_required());
    assert!(!a.needs_nonce());
    assert!(a.maps_certificates());
    let issue = |cn: &str| [ca.issue(&CertSpec::subject(bosh_subject(cn)))];

    let director = a
        .authenticate(&with_cert(&issue("default.director.bosh-internal")))
        .unwrap();
    assert_eq!(
        director.user.as_deref(),
        Some("default.director.bosh-internal")
    );
    assert!(can_publish(&director, &format!("agent.{AGENT_A}")));
    assert!(can_publish(&director, "hm.director.alert"));
    assert!(!can_publish(
        &director,
        &format!("hm.agent.heartbeat.{AGENT_A}")
    ));
    assert!(can_subscribe(&director, "director.3c5b.>"));

    let agent = a
        .authenticate(&with_cert(&issue(&format!(
            "{AGENT_A}.agent.bosh-internal"
        ))))
        .unwrap();
    assert!(can_publish(
        &agent,
        &format!("hm.agent.heartbeat.{AGENT_A}")
    ));
    assert!(can_publish(&agent, &format!("director.d.{AGENT_A}.r")));
    assert!(!can_publish(
        &agent,
        &format!("hm.agent.heartbeat.{AGENT_B}")
    ));
    assert!(!can_publish(&agent, &format!("director.d.{AGENT_B}.r")));
    assert!(can_subscribe(&agent, &format!("agent.{AGENT_A}")));
    assert!(!can_subscribe(&agent, &format!("agent.{AGENT_B}")));
    assert!(!can_subscribe(&agent, "agent.>"));

    let hm = a
        .authenticate(&with_cert(&issue("default.hm.bosh-internal")))
        .unwrap();
    assert!(can_subscribe(&hm, "hm.agent.heartbeat.*"));
    assert!(!can_publish(&hm, &format!("agent.{AGENT_A}")));
    assert!(!can_publish(&hm, "hm.director.alert"));

    for cn in [
        "nodot",
        "*.agent.bosh-internal",
        ">.agent.bosh-internal",
        ".agent.bosh-internal",
        "someone.else",
        "",
    ] {
        let err = a.authenticate(&with_cert(&issue(cn))).unwrap_err();
        assert!(
            err.reason.starts_with("certificate client refused"),
            "{cn}: {err}"
        );
    }
    // No certificate, with or without credentials.
    assert!(a.authenticate(&Credentials::default()).is_err());
    assert!(a.authenticate(&login("legacy", "legacy-pw")).is_err());
}

#[test]
fn bosh_legacy_clients_use_the_single_user() {
    let ca = TestCa::new();
    let a = auth(&bosh_opts(true));
    let id = a.authenticate(&login("legacy", "legacy-pw")).unwrap();
    assert_eq!(id.user.as_deref(), Some("legacy"));
    assert!(id.permissions.is_none());
    assert!(a.authenticate(&login("legacy", "wrong")).is_err());
    assert!(a.authenticate(&Credentials::default()).is_err());
    // A client with a certificate is still a certificate client.
    let agent = [ca.issue(&CertSpec::subject(bosh_subject(&format!(
        "{AGENT_A}.agent.bosh-internal"
    ))))];
    let id = a
        .authenticate(&Credentials {
            peer_certs: Some(&agent),
            ..login("legacy", "legacy-pw")
        })
        .unwrap();
    assert_eq!(
        id.user.as_deref(),
        Some(format!("{AGENT_A}.agent.bosh-internal").as_str())
    );
}

#[test]
fn bosh_default_permissions_apply() {
    let ca = TestCa::new();
    let mut opts = bosh_opts(false);
    if let Some(a) = opts.authorization.as_mut() {
        a.certificate_clients.push(CertificateClient {
            client_name: "worker.bosh-internal".into(),
            permissions: None,
        });
        a.default_permissions = Some(publish_only(&["work._CLIENT_ID"]));
    }
    let a = auth(&opts);
    let cert = [ca.issue(&CertSpec::subject(bosh_subject("w1.worker.bosh-internal")))];
    let id = a.authenticate(&with_cert(&cert)).unwrap();
    assert!(can_publish(&id, "work.w1"));
    assert!(!can_publish(&id, "work.w2"));
    assert!(!can_subscribe(&id, "work.w1"), "absent list allows nothing");
}

// ---- misc --------------------------------------------------------------------

#[test]
fn credentials_debug_hides_secrets() {
    let c = Credentials {
        user: Some("u"),
        pass: Some("hunter2"),
        token: Some("tok-secret"),
        sig: Some("sig-secret"),
        ..Default::default()
    };
    let s = format!("{c:?}");
    assert!(s.contains("\"u\""));
    for secret in ["hunter2", "tok-secret", "sig-secret"] {
        assert!(!s.contains(secret), "{s}");
    }
}

#[test]
fn deny_only_permissions_leave_publish_open() {
    // `SubjectPermission` with only a deny list leaves allow open.
    let a = auth(&with_auth(Authorization {
        users: vec![user(
            "u",
            Some("p"),
            Some(ConfigPermissions {
                publish: Some(SubjectPermission {
                    allow: None,
                    deny: Some(vec!["secret.>".into()]),
                }),
                subscribe: None,
                allow_responses: None,
            }),
        )],
        ..Default::default()
    }));
    let id = a.authenticate(&login("u", "p")).unwrap();
    assert!(can_publish(&id, "open"));
    assert!(!can_publish(&id, "secret.x"));
}
