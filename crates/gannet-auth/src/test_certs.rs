//! Test helpers: a throw-away CA (made with `rcgen`) that issues client
//! certificates shaped like BOSH's (`C=USA, O=Cloud Foundry, CN=...`,
//! EKU clientAuth, `digitalSignature`), with optional SANs; and the seed's
//! BOSH `certificate_clients`.

use gannet_config::options::{
    CertificateClient, Permissions as ConfigPermissions, SubjectPermission,
};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls_pki_types::CertificateDer;

/// What to put in a client certificate.
pub(crate) struct CertSpec {
    /// Subject attributes in certificate order.
    pub(crate) subject: Vec<(DnType, String)>,
    pub(crate) emails: Vec<String>,
    pub(crate) dns_names: Vec<String>,
    pub(crate) uris: Vec<String>,
}

impl CertSpec {
    pub(crate) fn subject(subject: Vec<(DnType, String)>) -> CertSpec {
        CertSpec {
            subject,
            emails: Vec::new(),
            dns_names: Vec::new(),
            uris: Vec::new(),
        }
    }
}

/// The subject BOSH gives its certificates: `C=USA, O=Cloud Foundry, CN=<cn>`.
pub(crate) fn bosh_subject(cn: &str) -> Vec<(DnType, String)> {
    vec![
        (DnType::CountryName, "USA".to_string()),
        (DnType::OrganizationName, "Cloud Foundry".to_string()),
        (DnType::CommonName, cn.to_string()),
    ]
}

pub(crate) struct TestCa {
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub(crate) fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CountryName,
            DnValue::PrintableString("USA".try_into().unwrap()),
        );
        dn.push(DnType::OrganizationName, "Cloud Foundry");
        dn.push(DnType::CommonName, "default.nats-ca.bosh-internal");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        TestCa {
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf certificate signed by this CA, as DER.
    pub(crate) fn issue(&self, spec: &CertSpec) -> CertificateDer<'static> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        for (ty, value) in &spec.subject {
            let value = match ty {
                DnType::CountryName => DnValue::PrintableString(value.as_str().try_into().unwrap()),
                _ => DnValue::Utf8String(value.clone()),
            };
            dn.push(ty.clone(), value);
        }
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        for e in &spec.emails {
            params
                .subject_alt_names
                .push(SanType::Rfc822Name(e.as_str().try_into().unwrap()));
        }
        for d in &spec.dns_names {
            params
                .subject_alt_names
                .push(SanType::DnsName(d.as_str().try_into().unwrap()));
        }
        for u in &spec.uris {
            params
                .subject_alt_names
                .push(SanType::URI(u.as_str().try_into().unwrap()));
        }
        let key = KeyPair::generate().unwrap();
        params.signed_by(&key, &self.issuer).unwrap().der().clone()
    }
}

/// An allow-only subject permission.
pub(crate) fn sp(allow: &[&str]) -> Option<SubjectPermission> {
    Some(SubjectPermission {
        allow: Some(allow.iter().map(|s| s.to_string()).collect()),
        deny: None,
    })
}

/// The seed's certificate_clients, as in BOSH's old nats.cfg.erb.
pub(crate) fn bosh_clients() -> Vec<CertificateClient> {
    vec![
        CertificateClient {
            client_name: "director.bosh-internal".into(),
            permissions: Some(ConfigPermissions {
                publish: sp(&["agent.*", "hm.director.alert"]),
                subscribe: sp(&["director.>"]),
                allow_responses: None,
            }),
        },
        CertificateClient {
            client_name: "agent.bosh-internal".into(),
            permissions: Some(ConfigPermissions {
                publish: sp(&[
                    "hm.agent.heartbeat._CLIENT_ID",
                    "hm.agent.alert._CLIENT_ID",
                    "hm.agent.shutdown._CLIENT_ID",
                    "director.*._CLIENT_ID.*",
                ]),
                subscribe: sp(&["agent._CLIENT_ID"]),
                allow_responses: None,
            }),
        },
        CertificateClient {
            client_name: "hm.bosh-internal".into(),
            permissions: Some(ConfigPermissions {
                publish: sp(&[]),
                subscribe: sp(&[
                    "hm.agent.heartbeat.*",
                    "hm.agent.alert.*",
                    "hm.agent.shutdown.*",
                    "hm.director.alert",
                ]),
                allow_responses: None,
            }),
        },
    ]
}
