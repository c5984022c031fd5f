//! BOSH's `certificate_clients` (the cloudfoundry gnatsd fork, docs/BOSH.md §2):
//! with `tls.enable_cert_authorization`, a client is who the common name of
//! its leaf certificate says, `<client_id>.<client_name>` split at the first
//! `.`, and gets the permissions listed for `client_name` with every
//! `_CLIENT_ID` replaced by `client_id`. What those permissions do not allow
//! is denied: an empty or absent allow list allows nothing.
//!
//! Refused: no certificate, no or empty CN, several CNs (ambiguous; the fork
//! would take one of them), a CN without `.`, an empty client id, a client id
//! with `*` or `>` (it would turn into a wildcard once substituted) or with
//! white space (it would split a subscribe entry into subject and queue), and
//! a client name not listed.

use std::collections::HashMap;
use std::sync::Arc;

use gannet_config::options::{CertificateClient, Permissions as ConfigPermissions};
use rustls_pki_types::CertificateDer;

use crate::certificate::{CertError, CertIdentity};
use crate::permissions::Permissions;
use crate::Identity;

/// The text replaced by the client id in certificate-client permissions.
pub const CLIENT_ID_PLACEHOLDER: &str = "_CLIENT_ID";

/// Why a certificate client was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoshCertError {
    #[error("no client certificate")]
    NoCertificate,
    #[error(transparent)]
    Certificate(#[from] CertError),
    #[error("client certificate has no common name")]
    NoCommonName,
    #[error("client certificate has {0} common names")]
    SeveralCommonNames(usize),
    #[error("common name {0:?} is not <client_id>.<client_name>")]
    NoDot(String),
    #[error("common name {0:?} has an empty client id")]
    EmptyClientId(String),
    #[error("client id of {0:?} contains a wildcard")]
    WildcardClientId(String),
    #[error("client id of {0:?} contains white space")]
    SpaceInClientId(String),
    #[error("client name {0:?} is not among the certificate clients")]
    UnknownClientName(String),
    #[error("permissions of client name {name:?} do not compile for this client: {reason}")]
    Permissions { name: String, reason: String },
}

/// Splits a common name at its first `.` into `(client_id, client_name)`.
pub fn split_common_name(cn: &str) -> Result<(&str, &str), BoshCertError> {
    if cn.is_empty() {
        return Err(BoshCertError::NoCommonName);
    }
    let (id, name) = cn
        .split_once('.')
        .ok_or_else(|| BoshCertError::NoDot(cn.to_string()))?;
    if id.is_empty() {
        return Err(BoshCertError::EmptyClientId(cn.to_string()));
    }
    if id.contains(['*', '>']) {
        return Err(BoshCertError::WildcardClientId(cn.to_string()));
    }
    if id.chars().any(char::is_whitespace) {
        return Err(BoshCertError::SpaceInClientId(cn.to_string()));
    }
    Ok((id, name))
}

/// `p` with every `_CLIENT_ID` in every allow and deny subject replaced by
/// `client_id` (plain text replacement, as the fork does).
pub(crate) fn substitute_client_id(p: &ConfigPermissions, client_id: &str) -> ConfigPermissions {
    let replace_all = |list: &Option<Vec<String>>| {
        list.as_ref().map(|l| {
            l.iter()
                .map(|s| s.replace(CLIENT_ID_PLACEHOLDER, client_id))
                .collect()
        })
    };
    let mut out = p.clone();
    for sp in [out.publish.as_mut(), out.subscribe.as_mut()]
        .into_iter()
        .flatten()
    {
        sp.allow = replace_all(&sp.allow);
        sp.deny = replace_all(&sp.deny);
    }
    out
}

/// The configured certificate clients, by client name.
#[derive(Debug, Clone)]
pub(crate) struct CertificateClients {
    by_name: HashMap<String, ConfigPermissions>,
}

impl CertificateClients {
    /// Entries without permissions take `default_permissions`, and without
    /// those get none (so they may do nothing). A later entry with the same
    /// name replaces an earlier one. Every entry's permissions are compiled
    /// once with a sample client id, so bad subjects show up at startup.
    pub(crate) fn new(
        clients: &[CertificateClient],
        default_permissions: Option<&ConfigPermissions>,
        errors: &mut Vec<String>,
    ) -> CertificateClients {
        let mut by_name = HashMap::new();
        for c in clients {
            let perms = c
                .permissions
                .as_ref()
                .or(default_permissions)
                .cloned()
                .unwrap_or_default();
            if let Err(e) = Permissions::compile(&perms, Some("client-id"), true) {
                errors.push(format!(
                    "certificate client {:?} permissions: {e}",
                    c.client_name
                ));
            }
            by_name.insert(c.client_name.clone(), perms);
        }
        CertificateClients { by_name }
    }

    /// Who the leaf of `chain` is, and what it may do.
    pub(crate) fn identify(
        &self,
        chain: &[CertificateDer<'static>],
    ) -> Result<Identity, BoshCertError> {
        let leaf = chain.first().ok_or(BoshCertError::NoCertificate)?;
        let cert = CertIdentity::from_der(leaf)?;
        let cn = match cert.common_names.as_slice() {
            [] => return Err(BoshCertError::NoCommonName),
            [cn] => cn,
            many => return Err(BoshCertError::SeveralCommonNames(many.len())),
        };
        let (client_id, client_name) = split_common_name(cn)?;
        let config = self
            .by_name
            .get(client_name)
            .ok_or_else(|| BoshCertError::UnknownClientName(client_name.to_string()))?;
        let permissions = Permissions::compile(&with_sys_deny(config), Some(client_id), true)
            .map_err(|reason| BoshCertError::Permissions {
                name: client_name.to_string(),
                reason,
            })?;
        Ok(Identity {
            user: Some(cn.clone()),
            permissions: Some(Arc::new(permissions)),
            account: None,
            expires: None,
            account_expires: None,
            limits: None,
            jwt_user: None,
        })
    }
}

/// The subjects the fork kept for the server itself: no certificate client may
/// publish to them, whatever its permissions say.
pub(crate) const RESERVED_PUBLISH_PREFIX: &str = "_SYS.>";

/// `config` with publishing to `_SYS.>` denied, as the fork does.
fn with_sys_deny(config: &ConfigPermissions) -> ConfigPermissions {
    let mut p = config.clone();
    let publish = p.publish.get_or_insert_with(Default::default);
    publish
        .deny
        .get_or_insert_with(Vec::new)
        .push(RESERVED_PUBLISH_PREFIX.to_string());
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_certs::{bosh_clients, bosh_subject, sp, CertSpec, TestCa};
    use rcgen::DnType;

    const AGENT_A: &str = "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e";
    const AGENT_B: &str = "7d1c9b2e-2222-4c3d-8e4f-6a6b6c6d6e6f";

    fn clients() -> CertificateClients {
        let mut errors = Vec::new();
        let c = CertificateClients::new(&bosh_clients(), None, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        c
    }

    fn identify(ca: &TestCa, cn: &str) -> Result<Identity, BoshCertError> {
        let der = ca.issue(&CertSpec::subject(bosh_subject(cn)));
        clients().identify(&[der])
    }

    fn perms(id: &Identity) -> &Permissions {
        id.permissions.as_deref().unwrap()
    }

    #[test]
    fn common_names_split_at_the_first_dot() {
        assert_eq!(
            split_common_name(&format!("{AGENT_A}.agent.bosh-internal")).unwrap(),
            (AGENT_A, "agent.bosh-internal")
        );
        assert_eq!(
            split_common_name("default.director.bosh-internal").unwrap(),
            ("default", "director.bosh-internal")
        );
        assert_eq!(
            split_common_name("x.bootstrap.agent.bosh-internal").unwrap(),
            ("x", "bootstrap.agent.bosh-internal")
        );
        assert_eq!(split_common_name("x.").unwrap(), ("x", ""));
        assert_eq!(split_common_name(""), Err(BoshCertError::NoCommonName));
        assert!(matches!(
            split_common_name("nodot"),
            Err(BoshCertError::NoDot(_))
        ));
        assert!(matches!(
            split_common_name(".agent.bosh-internal"),
            Err(BoshCertError::EmptyClientId(_))
        ));
        for cn in [
            "*.agent.bosh-internal",
            ">.agent.bosh-internal",
            "a*b.agent.bosh-internal",
        ] {
            assert!(
                matches!(
                    split_common_name(cn),
                    Err(BoshCertError::WildcardClientId(_))
                ),
                "{cn}"
            );
        }
        assert!(matches!(
            split_common_name("a b.agent.bosh-internal"),
            Err(BoshCertError::SpaceInClientId(_))
        ));
    }

    #[test]
    fn director_permissions() {
        let ca = TestCa::new();
        let id = identify(&ca, "default.director.bosh-internal").unwrap();
        assert_eq!(id.user.as_deref(), Some("default.director.bosh-internal"));
        let p = perms(&id);
        assert!(p.can_publish(format!("agent.{AGENT_A}").as_bytes()));
        assert!(p.can_publish(b"hm.director.alert"));
        assert!(!p.can_publish(format!("hm.agent.heartbeat.{AGENT_A}").as_bytes()));
        assert!(p.can_subscribe(b"director.3c5b.>", None));
        assert!(!p.can_subscribe(b"agent.*", None));
    }

    #[test]
    fn no_certificate_client_may_publish_to_sys_subjects() {
        let ca = TestCa::new();
        let open = CertificateClient {
            client_name: "ops.bosh-internal".to_string(),
            permissions: Some(ConfigPermissions {
                publish: Some(gannet_config::options::SubjectPermission {
                    allow: Some(vec![">".to_string()]),
                    deny: None,
                }),
                ..Default::default()
            }),
        };
        let mut errors = Vec::new();
        let clients = CertificateClients::new(std::slice::from_ref(&open), None, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let der = ca.issue(&CertSpec::subject(bosh_subject("x.ops.bosh-internal")));
        let id = clients.identify(&[der]).unwrap();
        let p = perms(&id);
        assert!(p.can_publish(b"anything.else"));
        assert!(!p.can_publish(b"_SYS.x"));
        assert!(!p.can_publish(b"_SYS.a.b"));
    }

    #[test]
    fn agent_permissions_are_its_own() {
        let ca = TestCa::new();
        let id = identify(&ca, &format!("{AGENT_A}.agent.bosh-internal")).unwrap();
        assert_eq!(
            id.user.as_deref(),
            Some(format!("{AGENT_A}.agent.bosh-internal").as_str())
        );
        let p = perms(&id);
        assert!(p.can_publish(format!("hm.agent.heartbeat.{AGENT_A}").as_bytes()));
        assert!(p.can_publish(format!("hm.agent.alert.{AGENT_A}").as_bytes()));
        assert!(p.can_publish(format!("hm.agent.shutdown.{AGENT_A}").as_bytes()));
        assert!(p.can_publish(format!("director.d.{AGENT_A}.r").as_bytes()));
        assert!(!p.can_publish(format!("hm.agent.heartbeat.{AGENT_B}").as_bytes()));
        assert!(!p.can_publish(format!("director.d.{AGENT_B}.r").as_bytes()));
        assert!(!p.can_publish(b"hm.agent.heartbeat._CLIENT_ID"));
        assert!(!p.can_publish(format!("agent.{AGENT_B}").as_bytes()));
        assert!(p.can_subscribe(format!("agent.{AGENT_A}").as_bytes(), None));
        assert!(!p.can_subscribe(format!("agent.{AGENT_B}").as_bytes(), None));
        assert!(!p.can_subscribe(b"agent.>", None));
        assert!(!p.can_subscribe(b"agent.*", None));
        assert!(!p.can_subscribe(b">", None));
    }

    #[test]
    fn health_monitor_subscribes_but_publishes_nothing() {
        let ca = TestCa::new();
        let id = identify(&ca, "default.hm.bosh-internal").unwrap();
        let p = perms(&id);
        assert!(p.can_subscribe(b"hm.agent.heartbeat.*", None));
        assert!(p.can_subscribe(b"hm.agent.alert.*", None));
        assert!(p.can_subscribe(b"hm.director.alert", None));
        assert!(!p.can_subscribe(b"hm.>", None));
        assert!(!p.can_publish(format!("agent.{AGENT_A}").as_bytes()));
        assert!(!p.can_publish(b"hm.director.alert"));
        assert!(!p.publish_unrestricted());
    }

    #[test]
    fn bootstrap_cn_over_64_chars_parses_but_is_not_listed() {
        let ca = TestCa::new();
        let cn = format!("{AGENT_A}.bootstrap.agent.bosh-internal");
        assert!(cn.len() > 64);
        let err = identify(&ca, &cn).unwrap_err();
        assert_eq!(
            err,
            BoshCertError::UnknownClientName("bootstrap.agent.bosh-internal".into())
        );
        // Listed, it works.
        let mut listed = bosh_clients();
        listed.push(CertificateClient {
            client_name: "bootstrap.agent.bosh-internal".into(),
            permissions: listed[1].permissions.clone(),
        });
        let c = CertificateClients::new(&listed, None, &mut Vec::new());
        let der = ca.issue(&CertSpec::subject(bosh_subject(&cn)));
        let id = c.identify(&[der]).unwrap();
        assert_eq!(id.user.as_deref(), Some(cn.as_str()));
        assert!(perms(&id).can_subscribe(format!("agent.{AGENT_A}").as_bytes(), None));
    }

    #[test]
    fn refused_certificates() {
        let ca = TestCa::new();
        assert!(matches!(
            identify(&ca, "nodot"),
            Err(BoshCertError::NoDot(_))
        ));
        assert!(matches!(
            identify(&ca, "*.agent.bosh-internal"),
            Err(BoshCertError::WildcardClientId(_))
        ));
        assert!(matches!(
            identify(&ca, ">.agent.bosh-internal"),
            Err(BoshCertError::WildcardClientId(_))
        ));
        assert!(matches!(
            identify(&ca, ".agent.bosh-internal"),
            Err(BoshCertError::EmptyClientId(_))
        ));
        assert_eq!(
            identify(&ca, "someone.else").unwrap_err(),
            BoshCertError::UnknownClientName("else".into())
        );
        // No CN at all.
        let der = ca.issue(&CertSpec::subject(vec![(
            DnType::OrganizationName,
            "Cloud Foundry".into(),
        )]));
        assert_eq!(
            clients().identify(&[der]).unwrap_err(),
            BoshCertError::NoCommonName
        );
        // Empty CN.
        assert_eq!(identify(&ca, "").unwrap_err(), BoshCertError::NoCommonName);
        // No certificate, or garbage.
        assert_eq!(
            clients().identify(&[]).unwrap_err(),
            BoshCertError::NoCertificate
        );
        let junk = CertificateDer::from(vec![1u8, 2, 3]);
        assert!(matches!(
            clients().identify(&[junk]),
            Err(BoshCertError::Certificate(_))
        ));
    }

    #[test]
    fn only_the_leaf_counts() {
        let ca = TestCa::new();
        let leaf = ca.issue(&CertSpec::subject(bosh_subject("nodot")));
        let other = ca.issue(&CertSpec::subject(bosh_subject(
            "default.director.bosh-internal",
        )));
        assert!(clients().identify(&[leaf, other]).is_err());
    }

    #[test]
    fn default_permissions_fill_entries_without_their_own() {
        let ca = TestCa::new();
        let entries = [
            CertificateClient {
                client_name: "agent.bosh-internal".into(),
                permissions: None,
            },
            CertificateClient {
                client_name: "bare.bosh-internal".into(),
                permissions: None,
            },
        ];
        let default = ConfigPermissions {
            publish: sp(&["out._CLIENT_ID"]),
            subscribe: None,
            allow_responses: None,
        };
        let c = CertificateClients::new(&entries[..1], Some(&default), &mut Vec::new());
        let der = ca.issue(&CertSpec::subject(bosh_subject("abc.agent.bosh-internal")));
        let id = c.identify(&[der]).unwrap();
        assert!(perms(&id).can_publish(b"out.abc"));
        assert!(!perms(&id).can_publish(b"out.xyz"));
        assert!(
            !perms(&id).can_subscribe(b"anything", None),
            "absent subscribe list denies"
        );
        // No permissions anywhere: nothing is allowed.
        let c = CertificateClients::new(&entries[1..], None, &mut Vec::new());
        let der = ca.issue(&CertSpec::subject(bosh_subject("abc.bare.bosh-internal")));
        let id = c.identify(&[der]).unwrap();
        assert!(!perms(&id).can_publish(b"a"));
        assert!(!perms(&id).can_subscribe(b"a", None));
    }

    #[test]
    fn bad_subjects_are_reported_at_startup() {
        let entries = vec![CertificateClient {
            client_name: "x.y".into(),
            permissions: Some(ConfigPermissions {
                publish: sp(&["a.._CLIENT_ID"]),
                subscribe: None,
                allow_responses: None,
            }),
        }];
        let mut errors = Vec::new();
        CertificateClients::new(&entries, None, &mut errors);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("x.y"), "{errors:?}");
    }
}
