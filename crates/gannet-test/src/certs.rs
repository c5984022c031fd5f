//! Test certificates: a [`CertAuthority`] that issues server and client
//! certificates the way BOSH does (subject `C=USA, O=Cloud Foundry, CN=<cn>`,
//! 3-letter country, CNs longer than the X.520 64-character bound), plus the
//! odd ones the security tests need: expired, from another CA, with email/DNS/URI
//! SANs, and RSA, ECDSA P-256 or Ed25519 keys. [`Pki`] writes them as PEM files
//! into a folder and returns the paths a server config or a client needs.
//!
//! Mirrors nothing in nats-server (its tests ship fixed files in `test/configs/certs`);
//! generating them keeps every subject in the test that relies on it.
//!
//! ```no_run
//! use gannet_test::certs::{bosh_subject, CertSpec, KeyKind, Pki};
//! let pki = Pki::temp();                       // ca.pem + RSA server cert, in a temp dir
//! let director = pki.client("director", &bosh_subject("default.director.bosh-internal"));
//! let ops = pki.issue("ops", CertSpec::client("CN=ops").email("ops@example.com"));
//! let ed = pki.server_cert("server-ed", KeyKind::Ed25519);
//! let stranger = pki.foreign("stranger", &bosh_subject("x.agent.bosh-internal"));
//! let old = pki.issue("old", CertSpec::client("CN=old").expired());
//! # let _ = (director, ops, ed, stranger, old);
//! ```
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rcgen::string::{Ia5String, PrintableString};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};

/// The CN BOSH gives the NATS server certificate (agents check `*.nats.bosh-internal`).
pub const SERVER_CN: &str = "default.nats.bosh-internal";

/// `C=USA, O=Cloud Foundry, CN=<cn>`: the subject BOSH writes into every certificate
/// it issues, and (in the upstream setup) the user name it maps to.
pub fn bosh_subject(cn: &str) -> String {
    format!("C=USA, O=Cloud Foundry, CN={cn}")
}

/// The kind of key a certificate carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA 2048 with SHA-256 signatures. ring cannot generate RSA keys, so every
    /// RSA certificate shares [`TEST_RSA_KEY`]; that is harmless for tests.
    Rsa,
    /// ECDSA on P-256 with SHA-256.
    Ecdsa,
    /// Ed25519.
    Ed25519,
}

impl KeyKind {
    fn generate(self) -> KeyPair {
        match self {
            KeyKind::Rsa => KeyPair::from_pem(TEST_RSA_KEY).expect("test RSA key"),
            KeyKind::Ecdsa => {
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("ECDSA key")
            }
            KeyKind::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("Ed25519 key"),
        }
    }
}

/// What a certificate should say. Build with [`CertSpec::client`] or
/// [`CertSpec::server`] and the chained setters.
#[derive(Clone, Debug)]
pub struct CertSpec {
    subject: String,
    emails: Vec<String>,
    dns: Vec<String>,
    uris: Vec<String>,
    ips: Vec<IpAddr>,
    key: KeyKind,
    expired: bool,
    server: bool,
    /// Good for both ends of a connection (route certificates).
    both: bool,
}

impl CertSpec {
    /// A client certificate (EKU clientAuth, RSA key) with `subject`, written as
    /// comma-separated `TYPE=value` pairs in the order they go into the certificate
    /// (`C=USA, O=Cloud Foundry, CN=x`). Types: C, ST, L, O, OU, CN, DC, emailAddress.
    pub fn client(subject: &str) -> CertSpec {
        CertSpec {
            subject: subject.to_string(),
            emails: Vec::new(),
            dns: Vec::new(),
            uris: Vec::new(),
            ips: Vec::new(),
            key: KeyKind::Rsa,
            expired: false,
            server: false,
            both: false,
        }
    }

    /// A server certificate (EKU serverAuth) with `subject`; add names with
    /// [`dns`](Self::dns) and [`ip`](Self::ip).
    pub fn server(subject: &str) -> CertSpec {
        CertSpec {
            server: true,
            ..CertSpec::client(subject)
        }
    }

    /// A certificate for server-to-server links (routes), where each end is
    /// client and server at once: EKU serverAuth and clientAuth.
    pub fn peer(subject: &str) -> CertSpec {
        CertSpec {
            server: true,
            both: true,
            ..CertSpec::client(subject)
        }
    }

    /// Adds an email (rfc822Name) SAN.
    pub fn email(mut self, email: &str) -> CertSpec {
        self.emails.push(email.to_string());
        self
    }

    /// Adds a DNS SAN.
    pub fn dns(mut self, name: &str) -> CertSpec {
        self.dns.push(name.to_string());
        self
    }

    /// Adds a URI SAN.
    pub fn uri(mut self, uri: &str) -> CertSpec {
        self.uris.push(uri.to_string());
        self
    }

    /// Adds an IP address SAN.
    pub fn ip(mut self, ip: &str) -> CertSpec {
        self.ips.push(ip.parse().expect("IP address"));
        self
    }

    /// Uses a key of `kind` (default RSA).
    pub fn key(mut self, kind: KeyKind) -> CertSpec {
        self.key = kind;
        self
    }

    /// Makes the certificate valid only during 2000, so it is expired now.
    pub fn expired(mut self) -> CertSpec {
        self.expired = true;
        self
    }
}

/// A certificate and its private key, both PEM.
#[derive(Clone, Debug)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Issued {
    /// Writes `<name>-cert.pem` and `<name>-key.pem` into `dir`.
    pub fn write(&self, dir: &Path, name: &str) -> CertFiles {
        let files = CertFiles {
            cert: dir.join(format!("{name}-cert.pem")),
            key: dir.join(format!("{name}-key.pem")),
        };
        std::fs::write(&files.cert, &self.cert_pem).expect("write certificate");
        std::fs::write(&files.key, &self.key_pem).expect("write key");
        files
    }
}

/// The paths of a certificate and its key.
#[derive(Clone, Debug)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl CertFiles {
    /// The certificate path as text, for configs and flags.
    pub fn cert_str(&self) -> &str {
        self.cert.to_str().expect("UTF-8 path")
    }

    /// The key path as text.
    pub fn key_str(&self) -> &str {
        self.key.to_str().expect("UTF-8 path")
    }
}

/// A self-signed certificate authority that issues test certificates.
pub struct CertAuthority {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl CertAuthority {
    /// A CA named `CN=<common_name>, O=Gannet Test` with an ECDSA P-256 key.
    pub fn new(common_name: &str) -> CertAuthority {
        Self::with_key(common_name, KeyKind::Ecdsa)
    }

    /// A CA with a key of `kind`.
    pub fn with_key(common_name: &str, kind: KeyKind) -> CertAuthority {
        let mut params = CertificateParams::default();
        params.distinguished_name = parse_dn(&format!("O=Gannet Test, CN={common_name}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(next_serial());
        let key = kind.generate();
        let cert = params.self_signed(&key).expect("self-sign CA");
        CertAuthority {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Issues a certificate as `spec` says.
    pub fn issue(&self, spec: &CertSpec) -> Issued {
        let mut params = CertificateParams::default();
        params.distinguished_name = parse_dn(&spec.subject);
        params.serial_number = Some(next_serial());
        params.use_authority_key_identifier_extension = true;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = if spec.both {
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ]
        } else if spec.server {
            vec![ExtendedKeyUsagePurpose::ServerAuth]
        } else {
            vec![ExtendedKeyUsagePurpose::ClientAuth]
        };
        if spec.expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let ia5 = |s: &String| Ia5String::try_from(s.as_str()).expect("IA5 string");
        params.subject_alt_names = spec
            .emails
            .iter()
            .map(|e| SanType::Rfc822Name(ia5(e)))
            .chain(spec.dns.iter().map(|d| SanType::DnsName(ia5(d))))
            .chain(spec.uris.iter().map(|u| SanType::URI(ia5(u))))
            .chain(spec.ips.iter().map(|ip| SanType::IpAddress(*ip)))
            .collect();
        let key = spec.key.generate();
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// The NATS server certificate BOSH uses: CN `default.nats.bosh-internal`,
    /// SANs `127.0.0.1`, `::1` and `localhost`.
    pub fn server_cert(&self, kind: KeyKind) -> Issued {
        self.issue(
            &CertSpec::server(&bosh_subject(SERVER_CN))
                .ip("127.0.0.1")
                .ip("::1")
                .dns("localhost")
                .key(kind),
        )
    }

    /// A client certificate with `subject` and an RSA key.
    pub fn client_cert(&self, subject: &str) -> Issued {
        self.issue(&CertSpec::client(subject))
    }
}

/// A CA plus a folder of PEM files issued by it.
pub struct Pki {
    dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    ca: CertAuthority,
    /// `ca.pem`: the CA certificate (for `tls.ca_file` and clients' roots).
    pub ca_file: PathBuf,
    /// `server-cert.pem`/`server-key.pem`: [`CertAuthority::server_cert`] with an RSA key.
    pub server: CertFiles,
}

impl Pki {
    /// A new CA named "Gannet Test CA"; writes `ca.pem` and the RSA server
    /// certificate into `dir` (which must exist).
    pub fn new(dir: &Path) -> Pki {
        let ca = CertAuthority::new("Gannet Test CA");
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).expect("write CA");
        let server = ca.server_cert(KeyKind::Rsa).write(dir, "server");
        Pki {
            dir: dir.to_path_buf(),
            _temp: None,
            ca,
            ca_file,
            server,
        }
    }

    /// Like [`Pki::new`] in a temporary folder removed when the `Pki` is dropped.
    pub fn temp() -> Pki {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut pki = Pki::new(temp.path());
        pki._temp = Some(temp);
        pki
    }

    /// The folder the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The CA, to issue certificates not written by the methods below.
    pub fn ca(&self) -> &CertAuthority {
        &self.ca
    }

    /// `ca.pem` as text.
    pub fn ca_str(&self) -> &str {
        self.ca_file.to_str().expect("UTF-8 path")
    }

    /// Issues a client certificate with `subject` and writes `<name>-cert.pem`/`<name>-key.pem`.
    pub fn client(&self, name: &str, subject: &str) -> CertFiles {
        self.ca.client_cert(subject).write(&self.dir, name)
    }

    /// Issues a certificate as `spec` says and writes it as `name`.
    pub fn issue(&self, name: &str, spec: CertSpec) -> CertFiles {
        self.ca.issue(&spec).write(&self.dir, name)
    }

    /// A server certificate (as [`CertAuthority::server_cert`]) with a key of `kind`.
    pub fn server_cert(&self, name: &str, kind: KeyKind) -> CertFiles {
        self.ca.server_cert(kind).write(&self.dir, name)
    }

    /// A client certificate with `subject` issued by a fresh, unrelated CA.
    pub fn foreign(&self, name: &str, subject: &str) -> CertFiles {
        CertAuthority::new("Some Other CA")
            .client_cert(subject)
            .write(&self.dir, name)
    }

    /// Writes `name` holding the certificates of `cas`, one after another
    /// (a CA bundle for `tls.ca_file`); returns its path.
    pub fn bundle(&self, name: &str, cas: &[&CertAuthority]) -> PathBuf {
        let path = self.dir.join(name);
        let text: String = cas.iter().map(|ca| ca.pem()).collect();
        std::fs::write(&path, text).expect("write bundle");
        path
    }
}

/// A NATS config `tls { }` block serving `server`, trusting `ca_file` for
/// client certificates, plus `extra` lines (`verify: true`, `timeout: 1`, ...).
pub fn tls_block(server: &CertFiles, ca_file: &str, extra: &str) -> String {
    format!(
        "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n  ca_file: \"{ca_file}\"\n  {extra}\n}}\n",
        server.cert_str(),
        server.key_str(),
    )
}

/// Distinct serial numbers across every certificate of a test process.
fn next_serial() -> SerialNumber {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    // Top bit clear keeps the DER integer positive without padding; the process
    // counter in the low bits keeps serials distinct within a run.
    let n = ((nanos << 16) | (NEXT.fetch_add(1, Ordering::Relaxed) & 0xffff)) & (u64::MAX >> 1);
    SerialNumber::from(n)
}

/// Parses `C=USA, O=Cloud Foundry, CN=x` (commas may be escaped as `\,`) into a
/// DN in the same order. The country is a PrintableString of any length, as
/// BOSH's Ruby code writes it; other values are UTF8String.
fn parse_dn(text: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            ',' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (ty, value) = part
            .split_once('=')
            .unwrap_or_else(|| panic!("DN part without '=': {part:?}"));
        let value = value.trim().to_string();
        let ty = match ty.trim() {
            "C" => {
                let v = PrintableString::try_from(value).expect("printable country");
                dn.push(DnType::CountryName, DnValue::PrintableString(v));
                continue;
            }
            "ST" => DnType::StateOrProvinceName,
            "L" => DnType::LocalityName,
            "O" => DnType::OrganizationName,
            "OU" => DnType::OrganizationalUnitName,
            "CN" => DnType::CommonName,
            "DC" => DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 25]),
            "emailAddress" => DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
            other => panic!("unsupported DN attribute {other:?}"),
        };
        dn.push(ty, DnValue::Utf8String(value));
    }
    dn
}

/// A fixed RSA 2048 key (PKCS#8) for every RSA test certificate. It protects
/// nothing: it exists only because ring cannot generate RSA keys.
pub const TEST_RSA_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC+zxnXZ07YrHQ+
l91EnwOfDKitpqKUtCBccplz/62/ryX3H6LxHrLJTHx8czYRtaZjeSg67fN8D7eV
3Hp6RW+n77NwLT5JaoMqKHRrY9/99A6edpxjb+GWTKtqg0gIy69Rtk1gOcNnvtj0
uYgx35WTEWmGmhKCZyjI8+LapEwnW7dt4k6mRuYCtwYYPRkRnop0+97ecF3F5ZDQ
/BX8gl6rEqyPsQ5QHAsZUpSAEpv7xgAnmzwpIxEtYafT3MTdHcLqsZiHLxeFgENz
qDLAY838/ZdIJNTWThNtPMGWNLkWMy+h9I5Eh1g0ELrqbxaa39PKdHKHKGiYFGfG
5ldYgThbAgMBAAECggEAH38MIvRYnYeKALMMwUEGVgC+7zssZyN8nAYGspEn2xZM
TAia2vZYSMYpXlmeOTok5xKew2t336iwgzpLtVc04SG+Guw89d1xHUpkPT3VQZRB
vYKSug9Dy42IViKph1on7HMNPq8KRFvKcEsX4jOn+wjKxH82QvRIVTN85N5t+6js
8mVchNKpLzR/GPaqS//E/92iQYmCEu/bFphxLtwUzwGR+DMHM68KDj4Szniv7938
RrbIoqEdEFLQlTPRPE0gohVu6P7pWbpn4C3fH4qpoT3cN3JyxM1zXjlzEZ4Dz47Z
pD2k58zUU/Jjv8Ms5frwMc2eESKKodf+G3/VrzgR0QKBgQDsgTkR2VnUVCNSCgrX
uW9TqjbrS4x5mOWjLgsviSWRJh18CiOtnoeOYGkGfCya4Hm4tXt5OvLqmSIkKEIr
7sPdAUxAcrm8zErdp82DK4+8VdHrQxLZWIIhdV4kCcgxC/IFNsQaNdv7Cw+FLo/r
RfdfZAyZ49V5rMmn+LKLHzreXQKBgQDOiZhd7RTfR71YZJOUiETFr349YOq3QB9C
WAf0VZw7G0OjHAiKa6uK19y0MkraDCeYmQDG00OcKA7W034MRJM897ABRO1S8krk
6Cmld4l/sbCJM9Cp9ko2smtXAPftbYi+0K20b++PsEzM/gPhbKu6YaFCQehOwBD2
VwfNMVRWFwKBgDX2/niuKasjT7PmirbSny5uBn4GDRWp56wmU3MTTjkig1PMVHvH
UpMQOKa8KslkMyIMdxIge1FAg+PQM9kmcBa7txR1mSAVVXfiVCh8Bh4pTu7prSFe
6sKLr2F1wfI/EYhTCMgaRgmwamgvSbObkWh4wc9Th2BuJs1nGAZap+oZAoGBAJDv
kdLn2mvNhhwPiFkFP22Sd35PEqdCAi2mZP6bTSVVPqOpunyYjirCzIhPeqOFQAwf
4qGkA6ADpFYw2BV30fNIxWQ+oGRCzzfPi9ooBn9rjDzb9aQvx2iW0Cif71vYL8vn
2N30ZyJoT5zS7Jo2jlQeyvEaGxGYSs7zx+/AnDRFAoGBAI1VsvvXRufS3goPwd5Y
P/mHtYmHiDlicHjd80H7Ki1z6esHtDt6WxyXeuw1XElAtwPw3gtH5T+QByle83Ac
u0RoG+wj5KjJ/P52akrE8zg7f5U+mNzJBlxPLbJjMdLmW2Tl31j2jsBqzhpXnnJP
s110ccq8asUaWVJJdOGZDhvd
-----END PRIVATE KEY-----
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_keeps_order_and_three_letter_country() {
        let dn = parse_dn(r"C=USA, O=Cloud Foundry\, Inc, CN=x.agent.bosh-internal");
        let items: Vec<_> = dn.iter().collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].0, &DnType::CountryName);
        assert_eq!(
            items[1].1,
            &DnValue::Utf8String("Cloud Foundry, Inc".to_string())
        );
    }

    #[test]
    fn every_key_kind_issues_long_cn_certificates() {
        let ca = CertAuthority::new("t");
        let long_cn = format!(
            "{}.bootstrap.agent.bosh-internal",
            "0e2a7f3c-1111-4b8e-9d2a-5f5e5e5e5e5e"
        );
        assert!(long_cn.len() > 64);
        for kind in [KeyKind::Rsa, KeyKind::Ecdsa, KeyKind::Ed25519] {
            let issued = ca.issue(&CertSpec::client(&bosh_subject(&long_cn)).key(kind));
            assert!(issued.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
            assert!(issued.key_pem.contains("PRIVATE KEY"));
        }
    }
}
