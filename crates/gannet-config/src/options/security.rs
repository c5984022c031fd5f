//! Typed security settings: the `tls { }` block, the `authorization { }` block
//! (users, nkeys, tokens, permissions, and BOSH's `certificate_clients`), and
//! the top-level `no_auth_user` and `allow_non_tls` (nats-server's `TLSConfigOpts`,
//! `authorization`, `User`, `NkeyUser` and `Permissions` in `opts.go` and `auth.go`).
use std::path::PathBuf;
use std::time::Duration;

/// Default TLS handshake timeout.
pub const DEFAULT_TLS_TIMEOUT: Duration = Duration::from_secs(2);

/// How long `handshake_first: auto` waits for a TLS client hello before
/// sending INFO first (nats-server's default fallback delay).
pub const DEFAULT_HANDSHAKE_FIRST_FALLBACK: Duration = Duration::from_millis(50);

/// How long a granted response permission lasts unless `expires` says
/// otherwise (nats-server's `DEFAULT_ALLOW_RESPONSE_EXPIRATION`).
pub const DEFAULT_RESPONSE_EXPIRES: Duration = Duration::from_secs(120);

/// How many responses a granted response permission allows unless `max`
/// says otherwise.
pub const DEFAULT_RESPONSE_MAX: usize = 1;

/// The `tls { }` block (or the `--tls*` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// Server certificate chain (PEM), as written (relative to the working directory).
    pub cert_file: PathBuf,
    /// Server private key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub key_file: PathBuf,
    /// CA bundle that client certificates must chain to (PEM, one or more roots).
    pub ca_file: Option<PathBuf>,
    /// Require and verify client certificates. Also true whenever
    /// `verify_and_map` is (as in nats-server).
    pub verify: bool,
    /// Require and verify client certificates, and use them as the user identity.
    pub verify_and_map: bool,
    /// Handshake timeout (`timeout`: seconds, float ok, or a duration string;
    /// 0 = the default [`DEFAULT_TLS_TIMEOUT`]).
    pub timeout: Duration,
    /// `handshake_first` (aliases `first`, `immediate`): TLS before INFO.
    /// `None` = off (INFO first); `Some(None)` = always TLS first;
    /// `Some(Some(d))` = wait `d` for a TLS client hello, then fall back to
    /// INFO first (`"auto"` = [`DEFAULT_HANDSHAKE_FIRST_FALLBACK`]).
    pub handshake_first: Option<Option<Duration>>,
    /// `min_version`: `"1.2"` or `"1.3"` (anything else is a config error).
    pub min_version: Option<String>,
    /// `pinned_certs`: lower-case hex SHA-256 of the DER SubjectPublicKeyInfo
    /// of accepted client (peer) certificates, 64 characters each (what
    /// nats-server pins). Empty = no pinning.
    pub pinned_certs: Vec<String>,
    /// BOSH fork: certificates decide permissions through `certificate_clients`.
    pub enable_cert_authorization: bool,
    /// BOSH fork: plain-text clients are accepted on the TLS port and authenticate
    /// with the single `user`/`password`.
    pub allow_legacy_clients: bool,
}

impl TlsOptions {
    /// TLS with this certificate and key and every other setting at its
    /// default (no client verification, 2 s handshake timeout).
    pub fn new(cert_file: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> Self {
        TlsOptions {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
            ca_file: None,
            verify: false,
            verify_and_map: false,
            timeout: DEFAULT_TLS_TIMEOUT,
            handshake_first: None,
            min_version: None,
            pinned_certs: Vec::new(),
            enable_cert_authorization: false,
            allow_legacy_clients: false,
        }
    }
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
    /// `default_permissions` (aliases `default_permission`, `permissions`):
    /// for users without their own. The config loader has already copied it
    /// into every user, nkey and certificate client that had none.
    pub default_permissions: Option<Permissions>,
    /// BOSH fork: `certificate_clients: [ {client_name, permissions} ]`.
    /// Non-empty only with `tls.enable_cert_authorization` (the loader checks).
    pub certificate_clients: Vec<CertificateClient>,
    /// `timeout`: how long a client has to authenticate. `None` = the default
    /// (2 s, or the TLS timeout + 1 s when TLS is configured).
    pub timeout: Option<Duration>,
}

/// A user with a name (and, with `verify_and_map`, a certificate identity: a DN,
/// an email, DNS or URI SAN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `user`/`username`; never empty.
    pub username: String,
    /// `password`/`pass`; `None` when not given or empty (certificate-mapped
    /// users have none).
    pub password: Option<String>,
    pub permissions: Option<Permissions>,
}

/// A user identified by an nkey (a public key starting with `U`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NkeyUser {
    /// Checked: 56 base32 characters, user prefix, valid checksum.
    pub nkey: String,
    pub permissions: Option<Permissions>,
}

/// BOSH fork: a class of certificate clients. A certificate whose common name is
/// `<client_id>.<client_name>` gets these permissions with `_CLIENT_ID` replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateClient {
    /// The part of the certificate CN after its first `.`; never empty, unique.
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
    /// As in nats-server, when this is set other publishes are allowed only
    /// by a non-empty `publish` allow list: an absent or empty one then
    /// denies them (instead of meaning "no restriction").
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

/// `allow_responses: true` (= max 1 within 2 minutes, nats-server's
/// defaults) or `{ max: N, expires: "1s" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponsePermission {
    /// Responses allowed per request received; `usize::MAX` = unlimited
    /// (a negative `max` in the file).
    pub max: usize,
    /// How long after the request they are allowed. Zero = no expiry (a
    /// negative `expires` in the file; `0` in the file means the default).
    pub expires: Duration,
}

impl Default for ResponsePermission {
    fn default() -> Self {
        ResponsePermission {
            max: DEFAULT_RESPONSE_MAX,
            expires: DEFAULT_RESPONSE_EXPIRES,
        }
    }
}
