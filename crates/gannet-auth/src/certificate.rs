//! What a verified client certificate says about who the client is: its
//! subject alternative names, its subject distinguished name (parsed, and as
//! the RFC 2253 string nats-server compares user names with), and its common
//! names. Also parses user names that are written as DNs, for
//! `verify_and_map` (nats-server's `checkClientTLSCertSubject` in `auth.go`
//! and its `internal/ldap` DN matching; docs/BOSH.md §4).
//!
//! Certificates are parsed with `x509-parser`, which does not enforce the
//! X.520 upper bounds: BOSH's 66-character bootstrap CNs and 3-letter
//! countries (`C=USA`) are read as they are.

use x509_parser::der_parser::asn1_rs::{Any, Class, Tag};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// Why a client certificate gave no identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("client certificate could not be parsed: {0}")]
    Parse(String),
    #[error("client certificate has a malformed subject alternative name extension: {0}")]
    SubjectAltName(String),
}

/// The identity-bearing parts of a client's leaf certificate.
#[derive(Debug, Clone)]
pub struct CertIdentity {
    /// Email (RFC 822) SANs, in certificate order.
    pub emails: Vec<String>,
    /// DNS SANs, in certificate order.
    pub dns_names: Vec<String>,
    /// URI SANs, in certificate order.
    pub uris: Vec<String>,
    /// Every common name of the subject, in certificate order.
    pub common_names: Vec<String>,
    /// The subject as nats-server prints it (Go's `RDNSequence.String`, RFC
    /// 2253 order: last RDN first), e.g. `CN=x,O=Cloud Foundry,C=USA`.
    pub subject: String,
    /// The subject for DN comparison; `None` when it is empty.
    subject_dn: Option<Dn>,
}

/// The DER SubjectPublicKeyInfo of a certificate: what `tls.pinned_certs`
/// fingerprints (SHA-256, hex) name.
pub fn public_key_info(der: &[u8]) -> Result<Vec<u8>, CertError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertError::Parse(e.to_string()))?;
    Ok(cert.public_key().raw.to_vec())
}

impl CertIdentity {
    /// Reads a DER certificate (the leaf of the verified chain).
    pub fn from_der(der: &[u8]) -> Result<CertIdentity, CertError> {
        let (_, cert) =
            X509Certificate::from_der(der).map_err(|e| CertError::Parse(e.to_string()))?;
        let mut emails = Vec::new();
        let mut dns_names = Vec::new();
        let mut uris = Vec::new();
        let san = cert
            .subject_alternative_name()
            .map_err(|e| CertError::SubjectAltName(e.to_string()))?;
        if let Some(san) = san {
            for name in &san.value.general_names {
                match name {
                    GeneralName::RFC822Name(s) => emails.push(s.to_string()),
                    GeneralName::DNSName(s) => dns_names.push(s.to_string()),
                    GeneralName::URI(s) => uris.push(s.to_string()),
                    _ => {}
                }
            }
        }
        let subject = cert.subject();
        let common_names = subject
            .iter_common_name()
            .filter_map(|a| decode_string(a.attr_value()))
            .collect();
        Ok(CertIdentity {
            emails,
            dns_names,
            uris,
            common_names,
            subject: rfc2253(subject),
            subject_dn: Dn::from_x509(subject),
        })
    }

    /// The subject as a parsed DN, for comparison with [`Dn::parse`]d names.
    pub(crate) fn subject_dn(&self) -> Option<&Dn> {
        self.subject_dn.as_ref()
    }
}

/// A distinguished name as a list of RDNs, each a set of attribute type and
/// value pairs. Types are canonical (upper-case short names such as `CN`,
/// or dotted OIDs); values are compared exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dn {
    /// Each RDN's attributes are kept sorted, so RDNs compare as sets.
    rdns: Vec<Vec<(String, String)>>,
}

impl Dn {
    /// Parses an RFC 4514 style string (`C=USA, O=Cloud Foundry, CN=x` or
    /// `CN=x,O=Cloud Foundry,C=USA`): RDNs separated by `,` or `;`,
    /// multi-valued RDNs joined by `+`, `\` escapes (a special character or
    /// two hex digits), spaces around types and values ignored. `None` when
    /// the text is not a DN (no `=`, an empty type, a dangling escape...).
    pub(crate) fn parse(text: &str) -> Option<Dn> {
        let bytes = text.as_bytes();
        let mut rdns = Vec::new();
        let mut rdn: Vec<(String, String)> = Vec::new();
        let mut i = 0;
        loop {
            // Attribute type, up to `=`.
            let eq = bytes.get(i..)?.iter().position(|&b| b == b'=')? + i;
            let ty = text.get(i..eq)?.trim();
            if ty.is_empty()
                || !ty
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return None;
            }
            i = eq + 1;
            // Value, up to an unescaped `,`, `;`, `+` or the end.
            let mut value = Vec::new();
            // Length of `value` up to its last escaped or non-space byte,
            // so unescaped trailing spaces can be dropped.
            let mut keep = 0;
            let mut separator = None;
            while let Some(&b) = bytes.get(i) {
                i += 1;
                match b {
                    b',' | b';' | b'+' => {
                        separator = Some(b);
                        break;
                    }
                    b'\\' => {
                        let next = *bytes.get(i)?;
                        let hex = match bytes.get(i..i + 2) {
                            Some(&[h, l]) => {
                                hex_digit(h).zip(hex_digit(l)).map(|(h, l)| h << 4 | l)
                            }
                            _ => None,
                        };
                        match hex {
                            Some(v) => {
                                value.push(v);
                                i += 2;
                            }
                            None => {
                                value.push(next);
                                i += 1;
                            }
                        }
                        keep = value.len();
                    }
                    b' ' if value.is_empty() => {}
                    b' ' => value.push(b),
                    _ => {
                        value.push(b);
                        keep = value.len();
                    }
                }
            }
            value.truncate(keep);
            let value = String::from_utf8(value).ok()?;
            rdn.push((canonical_type(ty), value));
            match separator {
                Some(b'+') => {}
                Some(_) => rdns.push(finish_rdn(std::mem::take(&mut rdn))),
                None => {
                    rdns.push(finish_rdn(rdn));
                    break;
                }
            }
        }
        Some(Dn { rdns })
    }

    /// The certificate subject as a DN; `None` for an empty subject or one
    /// with no attributes.
    fn from_x509(name: &X509Name<'_>) -> Option<Dn> {
        let rdns: Vec<Vec<(String, String)>> = name
            .iter()
            .map(|rdn| {
                finish_rdn(
                    rdn.iter()
                        .map(|a| (canonical_type(&a.attr_type().to_id_string()), dn_value(a)))
                        .collect(),
                )
            })
            .filter(|rdn| !rdn.is_empty())
            .collect();
        if rdns.is_empty() {
            None
        } else {
            Some(Dn { rdns })
        }
    }

    /// The same RDNs in the same order.
    pub(crate) fn same_order(&self, other: &Dn) -> bool {
        self == other
    }

    /// The same RDNs in any order (`C=USA, O=Cloud Foundry, CN=x` and
    /// `CN=x,O=Cloud Foundry,C=USA`).
    pub(crate) fn same_rdns(&self, other: &Dn) -> bool {
        if self.rdns.len() != other.rdns.len() {
            return false;
        }
        let mut a = self.rdns.clone();
        let mut b = other.rdns.clone();
        a.sort();
        b.sort();
        a == b
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

fn finish_rdn(mut rdn: Vec<(String, String)>) -> Vec<(String, String)> {
    rdn.sort();
    rdn
}

/// Short names (and their long names and OIDs) of the attribute types that
/// appear in certificate subjects. Types outside this table compare by
/// their upper-cased text (a dotted OID stays as it is).
const ATTRIBUTE_TYPES: &[(&str, &[&str])] = &[
    ("CN", &["cn", "commonname", "2.5.4.3"]),
    ("C", &["c", "countryname", "2.5.4.6"]),
    ("O", &["o", "organizationname", "2.5.4.10"]),
    ("OU", &["ou", "organizationalunitname", "2.5.4.11"]),
    ("L", &["l", "localityname", "2.5.4.7"]),
    ("ST", &["st", "s", "stateorprovincename", "2.5.4.8"]),
    ("STREET", &["street", "streetaddress", "2.5.4.9"]),
    ("POSTALCODE", &["postalcode", "2.5.4.17"]),
    ("SERIALNUMBER", &["serialnumber", "2.5.4.5"]),
    (
        "DC",
        &["dc", "domaincomponent", "0.9.2342.19200300.100.1.25"],
    ),
    ("UID", &["uid", "userid", "0.9.2342.19200300.100.1.1"]),
    (
        "EMAILADDRESS",
        &["emailaddress", "e", "email", "1.2.840.113549.1.9.1"],
    ),
];

fn canonical_type(ty: &str) -> String {
    let lower = ty.trim().to_ascii_lowercase();
    let lower = lower.strip_prefix("oid.").unwrap_or(&lower);
    ATTRIBUTE_TYPES
        .iter()
        .find(|(_, names)| names.contains(&lower))
        .map(|(short, _)| short.to_string())
        .unwrap_or_else(|| lower.to_ascii_uppercase())
}

/// The text of a string-typed attribute value; `None` for other types.
fn decode_string(v: &Any<'_>) -> Option<String> {
    if v.class() != Class::Universal {
        return None;
    }
    let data = v.data;
    match v.tag() {
        Tag::PrintableString
        | Tag::Utf8String
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => std::str::from_utf8(data).ok().map(str::to_string),
        // Teletex: UTF-8 when it is, else Latin-1.
        Tag::TeletexString => Some(
            std::str::from_utf8(data)
                .map(str::to_string)
                .unwrap_or_else(|_| data.iter().map(|&b| char::from(b)).collect()),
        ),
        Tag::BmpString => {
            if !data.len().is_multiple_of(2) {
                return None;
            }
            let units = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        Tag::UniversalString => {
            if !data.len().is_multiple_of(4) {
                return None;
            }
            data.chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

/// The value for DN comparison: its text, or `#` and the hex of its DER
/// encoding when it is not a string (how RFC 4514 writes such values).
fn dn_value(a: &AttributeTypeAndValue<'_>) -> String {
    decode_string(a.attr_value()).unwrap_or_else(|| format!("#{}", hex(&der_of(a.attr_value()))))
}

/// The attribute types Go's `RDNSequence.String` names; all others are
/// printed as a dotted OID with a `#hex` value.
const GO_NAMED_TYPES: &[(&str, &str)] = &[
    ("2.5.4.6", "C"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.3", "CN"),
    ("2.5.4.5", "SERIALNUMBER"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.17", "POSTALCODE"),
];

/// The subject the way Go prints an `RDNSequence` (and so the way
/// nats-server names a certificate user): RDNs last to first, joined by `,`;
/// attributes of one RDN joined by `+`; named types as `CN=value` with
/// `,+"\<>;` escaped everywhere, and a space escaped at either end and `#` at
/// the start; other types as `OID=#hex` of the value's DER encoding.
fn rfc2253(name: &X509Name<'_>) -> String {
    let rdns: Vec<_> = name.iter().collect();
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = attr.attr_type().to_id_string();
            let named = GO_NAMED_TYPES.iter().find(|(o, _)| *o == oid);
            let value = decode_string(attr.attr_value());
            match (named, value) {
                (Some((_, short)), Some(v)) => {
                    out.push_str(short);
                    out.push('=');
                    escape_into(&v, &mut out);
                }
                (_, Some(v)) => {
                    out.push_str(&oid);
                    out.push_str("=#");
                    out.push_str(&hex(&go_string_der(&v)));
                }
                (_, None) => {
                    out.push_str(&oid);
                    out.push_str("=#");
                    out.push_str(&hex(&der_of(attr.attr_value())));
                }
            }
        }
    }
    out
}

fn escape_into(value: &str, out: &mut String) {
    let last = value.len().saturating_sub(1);
    for (k, c) in value.char_indices() {
        let escape = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => k == 0 || k == last,
            '#' => k == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// How Go's `asn1.Marshal` encodes a string: PrintableString when every
/// byte is printable (letters, digits, space and `'()+,-./:=?`), else
/// UTF8String.
fn go_string_der(s: &str) -> Vec<u8> {
    let printable = s.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b' ' | b'\'' | b'(' | b')' | b'+' | b',' | b'-' | b'.' | b'/' | b':' | b'=' | b'?'
            )
    });
    let tag = if printable { 0x13 } else { 0x0c };
    let mut out = vec![tag];
    push_der_len(s.len(), &mut out);
    out.extend_from_slice(s.as_bytes());
    out
}

/// Re-encodes a parsed value as DER (identifier, definite length, contents).
fn der_of(v: &Any<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.data.len() + 6);
    let class = (v.class() as u8) << 6;
    let constructed = if v.header.constructed() { 0x20 } else { 0 };
    let tag = v.tag().0;
    if tag < 31 {
        out.push(class | constructed | tag as u8);
    } else {
        out.push(class | constructed | 0x1f);
        let mut groups = Vec::new();
        let mut t = tag;
        loop {
            groups.push((t & 0x7f) as u8);
            t >>= 7;
            if t == 0 {
                break;
            }
        }
        let n = groups.len();
        for (i, g) in groups.iter().rev().enumerate() {
            out.push(if i + 1 < n { g | 0x80 } else { *g });
        }
    }
    push_der_len(v.data.len(), &mut out);
    out.extend_from_slice(v.data);
    out
}

fn push_der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let significant = bytes.get(skip..).unwrap_or(&[]);
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_certs::{bosh_subject, CertSpec, TestCa};

    #[test]
    fn dn_strings_parse_with_either_order_and_spacing() {
        let a = Dn::parse("C=USA, O=Cloud Foundry, CN=default.director.bosh-internal").unwrap();
        let b = Dn::parse("CN=default.director.bosh-internal,O=Cloud Foundry,C=USA").unwrap();
        let c = Dn::parse("cn = default.director.bosh-internal ; o=Cloud Foundry;c=USA").unwrap();
        assert!(!a.same_order(&b));
        assert!(a.same_rdns(&b));
        assert!(b.same_order(&c), "type case, spaces and `;` do not matter");
        let other = Dn::parse("C=USA, O=Cloud Foundry, CN=default.hm.bosh-internal").unwrap();
        assert!(!a.same_rdns(&other));
        let fewer = Dn::parse("O=Cloud Foundry, CN=default.director.bosh-internal").unwrap();
        assert!(!a.same_rdns(&fewer));
        // Values are case-sensitive.
        let upper = Dn::parse("C=USA, O=CLOUD FOUNDRY, CN=default.director.bosh-internal").unwrap();
        assert!(!a.same_rdns(&upper));
        // Long names and OIDs mean the same types.
        let long = Dn::parse(
            "countryName=USA, 2.5.4.10=Cloud Foundry, OID.2.5.4.3=default.director.bosh-internal",
        )
        .unwrap();
        assert!(a.same_order(&long));
    }

    #[test]
    fn dn_escapes_and_multi_valued_rdns() {
        let d = Dn::parse(r"CN=a\,b\+c\20,O=x\2Cy+OU=z").unwrap();
        assert_eq!(
            d.rdns,
            vec![
                vec![("CN".to_string(), "a,b+c ".to_string())],
                vec![
                    ("O".to_string(), "x,y".to_string()),
                    ("OU".to_string(), "z".to_string())
                ],
            ]
        );
        let swapped = Dn::parse(r"OU=z+O=x\,y, CN=a\,b\+c\ ").unwrap();
        assert!(d.same_rdns(&swapped));
        assert_eq!(
            Dn::parse("CN=").unwrap().rdns,
            vec![vec![("CN".into(), String::new())]]
        );
    }

    #[test]
    fn non_dn_names_do_not_parse() {
        for s in [
            "admin",
            "ops@example.com",
            "",
            "=x",
            "CN=x,",
            "CN=x\\",
            "a b=c",
            "spiffe://example.org/x",
            "CN=\\ff",
        ] {
            assert!(Dn::parse(s).is_none(), "{s:?}");
        }
    }

    #[test]
    fn bosh_certificate_identity() {
        let ca = TestCa::new();
        let cn = "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e.bootstrap.agent.bosh-internal";
        assert!(cn.len() > 64);
        let der = ca.issue(&CertSpec::subject(bosh_subject(cn)));
        let id = CertIdentity::from_der(&der).unwrap();
        assert_eq!(id.common_names, vec![cn.to_string()]);
        assert_eq!(id.subject, format!("CN={cn},O=Cloud Foundry,C=USA"));
        let dn = Dn::parse(&format!("C=USA, O=Cloud Foundry, CN={cn}")).unwrap();
        assert!(id.subject_dn().unwrap().same_order(&dn));
        assert!(id.emails.is_empty() && id.dns_names.is_empty() && id.uris.is_empty());
    }

    #[test]
    fn sans_are_read_in_order() {
        let ca = TestCa::new();
        let spec = CertSpec {
            emails: vec!["ops@example.com".into(), "b@example.com".into()],
            dns_names: vec!["client.example.com".into()],
            uris: vec!["spiffe://example.org/ns/x".into()],
            ..CertSpec::subject(vec![(rcgen::DnType::CommonName, "mail-client".into())])
        };
        let id = CertIdentity::from_der(&ca.issue(&spec)).unwrap();
        assert_eq!(id.emails, vec!["ops@example.com", "b@example.com"]);
        assert_eq!(id.dns_names, vec!["client.example.com"]);
        assert_eq!(id.uris, vec!["spiffe://example.org/ns/x"]);
        assert_eq!(id.subject, "CN=mail-client");
    }

    #[test]
    fn subject_string_escapes_like_go() {
        let ca = TestCa::new();
        let spec = CertSpec::subject(vec![
            (rcgen::DnType::OrganizationName, " a,b+c;\"<>\\ ".into()),
            (rcgen::DnType::CommonName, "#x#".into()),
            (
                rcgen::DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
                "ops@example.com".into(),
            ),
        ]);
        let id = CertIdentity::from_der(&ca.issue(&spec)).unwrap();
        // The email attribute is re-encoded as Go would (UTF8String: `@` is
        // not printable), then CN and O with their escapes.
        assert_eq!(
            id.subject,
            format!(
                "1.2.840.113549.1.9.1=#0c0f{},CN=\\#x#,O=\\ a\\,b\\+c\\;\\\"\\<\\>\\\\\\ ",
                hex(b"ops@example.com")
            )
        );
        let dn = id.subject_dn().unwrap();
        let parsed =
            Dn::parse(r#"emailAddress=ops@example.com, CN=\#x#, O=\ a\,b\+c\;\"\<\>\\\ "#).unwrap();
        assert!(dn.same_rdns(&parsed));
    }

    #[test]
    fn garbage_is_a_parse_error() {
        assert!(matches!(
            CertIdentity::from_der(b"not a certificate"),
            Err(CertError::Parse(_))
        ));
        assert!(CertIdentity::from_der(&[]).is_err());
    }

    #[test]
    fn der_helpers() {
        let mut v = Vec::new();
        push_der_len(5, &mut v);
        push_der_len(0x80, &mut v);
        push_der_len(0x1234, &mut v);
        assert_eq!(v, vec![5, 0x81, 0x80, 0x82, 0x12, 0x34]);
        assert_eq!(go_string_der("AB c"), vec![0x13, 4, b'A', b'B', b' ', b'c']);
        assert_eq!(go_string_der("a*b")[0], 0x0c);
    }
}
