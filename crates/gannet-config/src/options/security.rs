//! Typed security settings: the `tls { }` block, the `authorization { }` block
//! (users, nkeys, tokens, permissions, and BOSH's `certificate_clients`), and
//! the top-level `no_auth_user` and `allow_non_tls` (nats-server's `TLSConfigOpts`,
//! `authorization`, `User`, `NkeyUser` and `Permissions` in `opts.go` and `auth.go`).
use std::path::PathBuf;
use std::time::Duration;

/// Default TLS handshake timeout.
pub const DEFAULT_TLS_TIMEOUT: Duration = Duration::from_secs(2);

/// The `tls { }` block (or the `--tls*` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// Server certificate chain (PEM), as written (relative to the working directory).
    pub cert_file: PathBuf,
    /// Server private key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key_file: PathBuf,
    /// CA bundle that client certificates must chain to (PEM, one or more roots).
    pub ca_file: Option<PathBuf>,
    /// Require and verify client certificates.
    pub verify: bool,
    /// Require and verify client certificates, and use them as the user identity.
    pub verify_and_map: bool,
    /// Handshake timeout (`timeout`, seconds or a duration).
    pub timeout: Duration,
    /// `handshake_first`: TLS before INFO. `Some(None)` = always; `Some(Some(d))` =
    /// wait `d` for a TLS client hello, then fall back to INFO first.
    pub handshake_first: Option<Option<Duration>>,
    /// `min_version` such as `"1.2"` or `"1.3"`.
    pub min_version: Option<String>,
    /// SHA-256 fingerprints (hex) of accepted client certificates (`pinned_certs`).
    pub pinned_certs: Vec<String>,
    /// BOSH fork: certificates decide permissions through `certificate_clients`.
    pub enable_cert_authorization: bool,
    /// BOSH fork: plain-text clients are accepted on the TLS port and authenticate
    /// with the single `user`/`password`.
    pub allow_legacy_clients: bool,
}

/// The `authorization { }` block (or the `--user`/`--pass`/`--auth` flags).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Authorization {
    /// Single user (`user`/`username`).
    pub user: Option<String>,
    /// Its password (`password`/`pass`): plain, or a bcrypt hash (`$2a$`, `$2b$`, ...).
    pub password: Option<String>,
    /// Token (`token`): plain or bcrypt.
    pub token: Option<String>,
    /// `users: [ {user, password, permissions} ]` entries with a user name.
    pub users: Vec<User>,
    /// `users: [ {nkey, permissions} ]` entries with an nkey.
    pub nkeys: Vec<NkeyUser>,
    /// `default_permissions` (alias `permissions`): for users without their own.
    pub default_permissions: Option<Permissions>,
    /// BOSH fork: `certificate_clients: [ {client_name, permissions} ]`.
    pub certificate_clients: Vec<CertificateClient>,
    /// `timeout`: how long a client has to authenticate. `None` = the default
    /// (2 s, or the TLS timeout + 1 s when TLS is configured).
    pub timeout: Option<Duration>,
}

/// A user with a name (and, with `verify_and_map`, a certificate identity: a DN,
/// an email, DNS or URI SAN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    /// `None` for certificate-mapped users.
    pub password: Option<String>,
    pub permissions: Option<Permissions>,
}

/// A user identified by an nkey (a public key starting with `U`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NkeyUser {
    pub nkey: String,
    pub permissions: Option<Permissions>,
}

/// BOSH fork: a class of certificate clients. A certificate whose common name is
/// `<client_id>.<client_name>` gets these permissions with `_CLIENT_ID` replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateClient {
    pub client_name: String,
    pub permissions: Option<Permissions>,
}

/// What a user may publish and subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions {
    /// `None` = the key was absent.
    pub publish: Option<SubjectPermission>,
    pub subscribe: Option<SubjectPermission>,
    /// `allow_responses`: may publish to reply subjects of requests received.
    pub allow_responses: Option<ResponsePermission>,
}

/// `["a", "b"]` (an allow list) or `{ allow: [...], deny: [...] }`. `None` = not
/// given; `Some(vec![])` = given empty (upstream: no restriction; BOSH
/// certificate clients: nothing allowed). Subscribe entries may be
/// `"subject queue"`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectPermission {
    pub allow: Option<Vec<String>>,
    pub deny: Option<Vec<String>>,
}

/// `allow_responses: true` (= max 1, no expiry) or `{ max: N, expires: "1s" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponsePermission {
    pub max: usize,
    /// Zero = no expiry.
    pub expires: Duration,
}

impl Default for ResponsePermission {
    fn default() -> Self {
        ResponsePermission {
            max: 1,
            expires: Duration::ZERO,
        }
    }
}
