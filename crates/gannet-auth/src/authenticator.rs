//! [`Authenticator`]: built once per configuration, it decides who a client
//! is from what it sent in CONNECT and the certificate chain TLS verified,
//! and hands back the [`Identity`] (user name and compiled permissions).
//! Mirrors nats-server's `configureAuthorization` and
//! `processClientOrLeafAuthentication` (`auth.go`), plus the BOSH fork's
//! `CertificateAuth`.
//!
//! Which method applies, first match wins:
//! 1. Nothing configured: everyone is let in, unrestricted.
//! 2. BOSH `tls.enable_cert_authorization`: a client with a certificate is
//!    its certificate client ([`crate::bosh`]); one without (a plain-text
//!    connection) authenticates with the single `user`/`password` when
//!    `tls.allow_legacy_clients` is set, and is refused otherwise.
//! 3. Nkey users are configured and the client sent `nkey`: the key must be
//!    listed and `sig` must be its signature of the nonce.
//! 4. `tls.verify_and_map` and the client has a certificate: the certificate
//!    must map to a user of the `users` list (email SANs, DNS SANs, URI SANs
//!    by name; then the subject as a parsed DN, same order first, then any
//!    order; then the subject's RFC 2253 string by name). The client must not
//!    send `user`; `pass` is checked only if the mapped user has a password.
//!    The certificate is then the only way in: a certificate that maps to no
//!    one is refused even if other credentials were sent.
//! 5. The client sent no credentials at all (`user`, `pass`, `auth_token`,
//!    `nkey` all absent or empty) and `no_auth_user` is set: it is that user
//!    (or nkey). With `verify_and_map`, only clients without a certificate
//!    get here.
//! 6. Otherwise (never with `verify_and_map`): `users` by `user` and `pass`,
//!    then `token` by `auth_token`, then the single `user`/`password`.
//!
//! Users without their own permissions get `default_permissions`.
//!
//! Accounts: the users and nkeys of every `accounts { }` entry join the
//! same lookup as `authorization.users` and authenticate the same ways
//! (including `no_auth_user` and `verify_and_map`); their [`Identity`]
//! names the account, while `authorization` users stay in the global
//! account `$G` (`account: None`). A user name or nkey may appear only once
//! across all of them, as in nats-server.

use std::collections::HashMap;
use std::sync::Arc;

use gannet_config::options::{Authorization, NkeyUser, Permissions as ConfigPermissions, User};
use gannet_config::Options;
use nkeys::KeyPair;
use rustls_pki_types::CertificateDer;

use crate::bosh::CertificateClients;
use crate::certificate::{CertIdentity, Dn};
use crate::nkey;
use crate::operator::OperatorMode;
use crate::password::Secret;
use crate::permissions::Permissions;

/// What a client presented: its CONNECT credentials, the nonce the server
/// put in INFO, and the verified TLS peer chain. Empty strings count as
/// absent.
#[derive(Clone, Copy, Default)]
pub struct Credentials<'a> {
    pub user: Option<&'a str>,
    pub pass: Option<&'a str>,
    pub token: Option<&'a str>,
    pub nkey: Option<&'a str>,
    pub sig: Option<&'a str>,
    /// The nonce sent to this client in INFO (what `sig` signs).
    pub nonce: Option<&'a [u8]>,
    /// The verified peer chain from TLS, leaf first.
    pub peer_certs: Option<&'a [CertificateDer<'static>]>,
    /// CONNECT `jwt`: a user JWT (operator mode).
    pub jwt: Option<&'a str>,
    /// Where the client connects from (a user JWT's `src` limits it).
    pub client_ip: Option<std::net::IpAddr>,
    /// The connection type a user JWT's `allowed_connection_types` names:
    /// `STANDARD` for clients (also when empty), `LEAFNODE` for leafs.
    pub connection_type: &'a str,
}

impl Credentials<'_> {
    /// Whether any of `user`, `pass`, `auth_token`, `nkey` was sent.
    fn any_sent(&self) -> bool {
        [self.user, self.pass, self.token, self.nkey]
            .iter()
            .any(|c| present(*c).is_some())
    }

    /// The peer chain, if there is a certificate in it.
    fn chain(&self) -> Option<&[CertificateDer<'static>]> {
        self.peer_certs.filter(|c| !c.is_empty())
    }
}

/// Never prints passwords, tokens or signatures.
impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |o: Option<&str>| o.map(|_| "<hidden>");
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("pass", &hidden(self.pass))
            .field("token", &hidden(self.token))
            .field("nkey", &self.nkey)
            .field("sig", &hidden(self.sig))
            .field("nonce", &self.nonce.map(<[u8]>::len))
            .field("peer_certs", &self.peer_certs.map(<[_]>::len))
            .finish()
    }
}

/// Who an authenticated client is.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    /// The authorized user name (for logs, monitoring `authorized_user`,
    /// events): the user name, the nkey, the matched certificate identity
    /// string, or for BOSH certificate clients the CN. `None` for token
    /// auth and when no authentication is configured.
    pub user: Option<String>,
    /// `None` = unrestricted.
    pub permissions: Option<Arc<Permissions>>,
    /// The account the client belongs to; `None` = the global account `$G`.
    pub account: Option<String>,
    /// When the identity stops being valid (a user JWT's `exp`, Unix
    /// seconds): the client is cut then.
    pub expires: Option<u64>,
    /// When the account's JWT expires (Unix seconds): its clients are cut
    /// then, told `Account Authentication Expired`.
    pub account_expires: Option<u64>,
    /// Limits a user JWT and its account's JWT set (operator mode).
    pub limits: Option<UserLimits>,
    /// What events tell of a JWT user: its issuer, name and tags.
    pub jwt_user: Option<JwtUser>,
}

/// A JWT user, as CONNECT and DISCONNECT events describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwtUser {
    /// The key that signed the user JWT (the account or a signing key).
    pub issuer: String,
    /// The user JWT's `name`.
    pub name: String,
    /// The account JWT's `name` (events' `name_tag`).
    pub account_name: String,
    pub tags: Vec<String>,
}

/// The limits of a JWT user: the smaller of its own (or its scoped signing
/// key's) and its account's. `None` = unlimited; as in nats-server, a limit
/// a JWT leaves out is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserLimits {
    /// Subscriptions the client may hold.
    pub subs: Option<u64>,
    /// The largest message it may publish.
    pub payload: Option<u64>,
}

/// Why a client was refused. For the server's log only: the client is only
/// ever told `Authorization Violation`. Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct AuthFailure {
    pub reason: String,
}

fn fail(reason: impl Into<String>) -> AuthFailure {
    AuthFailure {
        reason: reason.into(),
    }
}

fn present(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// A named user of the `users` list.
#[derive(Debug)]
struct UserEntry {
    name: String,
    password: Option<Secret>,
    permissions: Option<Arc<Permissions>>,
    /// `None` = the global account.
    account: Option<String>,
}

impl UserEntry {
    fn identity(&self) -> Identity {
        Identity {
            user: Some(self.name.clone()),
            permissions: self.permissions.clone(),
            account: self.account.clone(),
            expires: None,
            account_expires: None,
            limits: None,
            jwt_user: None,
        }
    }
}

#[derive(Debug)]
struct NkeyEntry {
    key: KeyPair,
    permissions: Option<Arc<Permissions>>,
    /// `None` = the global account.
    account: Option<String>,
}

impl NkeyEntry {
    fn identity(&self, key: &str) -> Identity {
        Identity {
            user: Some(key.to_string()),
            permissions: self.permissions.clone(),
            account: self.account.clone(),
            expires: None,
            account_expires: None,
            limits: None,
            jwt_user: None,
        }
    }
}

/// One list of users: `authorization`'s (account `None`, with its
/// `default_permissions`) or an account's (the loader has already applied
/// the account's defaults).
struct UserList<'a> {
    account: Option<&'a str>,
    users: &'a [User],
    nkeys: &'a [NkeyUser],
    default: Option<&'a ConfigPermissions>,
}

/// `authorization`'s users, then each account's, in config order.
fn user_lists<'a>(a: &'a Authorization, opts: &'a Options) -> Vec<UserList<'a>> {
    let global = UserList {
        account: None,
        users: &a.users,
        nkeys: &a.nkeys,
        default: a.default_permissions.as_ref(),
    };
    let accounts = opts.accounts.iter().map(|acc| UserList {
        account: Some(acc.name.as_str()),
        users: &acc.users,
        nkeys: &acc.nkeys,
        default: None,
    });
    std::iter::once(global).chain(accounts).collect()
}

/// Where a user is, for log and error texts.
fn place(account: Option<&str>) -> String {
    match account {
        Some(name) => format!("account {name:?}"),
        None => "authorization".to_string(),
    }
}

/// The single `user`/`password` of the authorization block.
#[derive(Debug)]
struct SingleUser {
    name: String,
    password: Option<Secret>,
}

impl SingleUser {
    fn check(&self, creds: &Credentials<'_>) -> Result<Identity, AuthFailure> {
        match present(creds.user) {
            Some(u) if u == self.name => {}
            Some(u) => return Err(fail(format!("unknown user {u:?}"))),
            None => return Err(fail("no user name sent")),
        }
        if !verify_password(self.password.as_ref(), creds.pass) {
            return Err(fail(format!("wrong password for user {:?}", self.name)));
        }
        Ok(Identity {
            user: Some(self.name.clone()),
            permissions: None,
            account: None,
            expires: None,
            account_expires: None,
            limits: None,
            jwt_user: None,
        })
    }
}

/// A user without a configured password logs in with none.
fn verify_password(configured: Option<&Secret>, given: Option<&str>) -> bool {
    match configured {
        Some(secret) => secret.verify(given),
        None => present(given).is_none(),
    }
}

/// The BOSH fork's certificate authorization.
#[derive(Debug)]
struct Bosh {
    clients: CertificateClients,
    allow_legacy_clients: bool,
}

/// Decides who clients are; see the module docs for the order of methods.
#[derive(Debug)]
pub struct Authenticator {
    auth_required: bool,
    no_auth_user: Option<String>,
    single: Option<SingleUser>,
    token: Option<Secret>,
    users: HashMap<String, Arc<UserEntry>>,
    /// Users whose name parses as a DN, in config order, for
    /// `verify_and_map`.
    dn_users: Vec<(Dn, Arc<UserEntry>)>,
    nkeys: HashMap<String, NkeyEntry>,
    verify_and_map: bool,
    bosh: Option<Bosh>,
    plaintext_passwords: bool,
    /// Operator mode: users are JWTs of the trusted operators' accounts.
    operator: Option<Arc<OperatorMode>>,
}

impl Authenticator {
    /// Builds the authenticator for `opts` (again on every reload). Fails
    /// with every problem found: conflicting methods, an unknown
    /// `no_auth_user`, a bad nkey, a permission subject that does not parse.
    pub fn new(opts: &Options) -> Result<Authenticator, Vec<String>> {
        let mut errors = Vec::new();
        let none = Authorization::default();
        let a = opts.authorization.as_ref().unwrap_or(&none);
        let tls = opts.tls.as_ref();
        let verify_and_map = tls.is_some_and(|t| t.verify_and_map);
        let cert_authorization = tls.is_some_and(|t| t.enable_cert_authorization);
        let allow_legacy_clients = tls.is_some_and(|t| t.allow_legacy_clients);
        let single_name = a.user.as_deref().filter(|u| !u.is_empty());
        let token = a.token.as_deref().filter(|t| !t.is_empty());
        let default = a.default_permissions.as_ref();
        let lists = user_lists(a, opts);

        check_conflicts(a, opts, &mut errors);

        let mut plaintext_passwords = false;
        let mut secret = |s: &str| {
            let secret = Secret::new(s);
            plaintext_passwords |= secret.is_plain();
            secret
        };

        let single = single_name.map(|name| SingleUser {
            name: name.to_string(),
            password: a.password.as_deref().map(&mut secret),
        });
        let token = token.map(&mut secret);

        let mut users: HashMap<String, Arc<UserEntry>> = HashMap::new();
        for list in &lists {
            for u in list.users {
                let permissions = compile_for(
                    u.permissions.as_ref().or(list.default),
                    &format!("user {:?}", u.username),
                    &mut errors,
                );
                let entry = UserEntry {
                    name: u.username.clone(),
                    password: u.password.as_deref().map(&mut secret),
                    permissions,
                    account: list.account.map(str::to_string),
                };
                // As in nats-server, a later entry of the same list with the
                // same name wins; across lists a name may appear only once.
                if let Some(old) = users.get(&u.username) {
                    if old.account.as_deref() != list.account {
                        errors.push(format!(
                            "Duplicate user {:?} detected ({} and {})",
                            u.username,
                            place(old.account.as_deref()),
                            place(list.account)
                        ));
                        continue;
                    }
                }
                users.insert(u.username.clone(), Arc::new(entry));
            }
        }
        let mut dn_users: Vec<(Dn, Arc<UserEntry>)> = Vec::new();
        for u in lists.iter().flat_map(|l| l.users) {
            if dn_users.iter().any(|(_, e)| e.name == u.username) {
                continue;
            }
            if let (Some(dn), Some(entry)) = (Dn::parse(&u.username), users.get(&u.username)) {
                dn_users.push((dn, entry.clone()));
            }
        }

        let mut nkeys: HashMap<String, NkeyEntry> = HashMap::new();
        for list in &lists {
            for n in list.nkeys {
                let permissions = compile_for(
                    n.permissions.as_ref().or(list.default),
                    &format!("nkey {:?}", n.nkey),
                    &mut errors,
                );
                if let Some(old) = nkeys.get(&n.nkey) {
                    if old.account.as_deref() != list.account {
                        errors.push(format!(
                            "Duplicate nkey {:?} detected ({} and {})",
                            n.nkey,
                            place(old.account.as_deref()),
                            place(list.account)
                        ));
                        continue;
                    }
                }
                match nkey::parse_user_key(&n.nkey) {
                    Ok(key) => {
                        let entry = NkeyEntry {
                            key,
                            permissions,
                            account: list.account.map(str::to_string),
                        };
                        nkeys.insert(n.nkey.clone(), entry);
                    }
                    Err(e) => errors.push(e),
                }
            }
        }

        if let Some(name) = opts.no_auth_user.as_deref() {
            if !users.contains_key(name) && !nkeys.contains_key(name) {
                errors.push(format!(
                    "no_auth_user: {name:?} not present as user or nkey in authorization block or account configuration"
                ));
            }
        }

        let bosh = cert_authorization.then(|| Bosh {
            clients: CertificateClients::new(&a.certificate_clients, default, &mut errors),
            allow_legacy_clients,
        });

        check_default_sentinel(opts, &mut errors);
        let operator = if opts.operators.is_empty() && opts.trusted_keys.is_empty() {
            None
        } else {
            match OperatorMode::new(
                &opts.operators,
                &opts.trusted_keys,
                &opts.resolver_preload,
                crate::operator::unix_now(),
            ) {
                Ok(mode) => {
                    check_operator_mode(opts, &mode, &mut errors);
                    Some(Arc::new(mode))
                }
                Err(e) => {
                    errors.extend(e);
                    None
                }
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let auth_required = operator.is_some()
            || single.is_some()
            || token.is_some()
            || !users.is_empty()
            || !nkeys.is_empty()
            || bosh.is_some()
            || verify_and_map;
        Ok(Authenticator {
            auth_required,
            no_auth_user: opts.no_auth_user.clone(),
            single,
            token,
            users,
            dn_users,
            nkeys,
            verify_and_map,
            bosh,
            plaintext_passwords,
            operator,
        })
    }

    /// Operator mode's trust and accounts, when the server is in operator mode.
    pub fn operator(&self) -> Option<&Arc<OperatorMode>> {
        self.operator.as_ref()
    }

    /// INFO `auth_required`: false when nothing is configured, and false
    /// when `no_auth_user` is set (nats-server omits it then).
    pub fn info_auth_required(&self) -> bool {
        self.auth_required && self.no_auth_user.is_none()
    }

    /// Whether clients must authenticate at all (true even with
    /// `no_auth_user`): CONNECT is required before anything else, and the
    /// auth timer runs.
    pub fn auth_required(&self) -> bool {
        self.auth_required
    }

    /// Whether INFO must carry a nonce (nkey users are configured).
    pub fn needs_nonce(&self) -> bool {
        !self.nkeys.is_empty() || self.operator.is_some()
    }

    /// Whether some password or token is configured in plain text (the
    /// server warns about it, as nats-server does).
    pub fn has_plaintext_passwords(&self) -> bool {
        self.plaintext_passwords
    }

    /// Whether client certificates decide identities (`verify_and_map` or
    /// BOSH certificate clients).
    pub fn maps_certificates(&self) -> bool {
        self.verify_and_map || self.bosh.is_some()
    }

    /// Who the client is, or why it is refused. May run bcrypt (slow by
    /// design): call it off the async reactor.
    pub fn authenticate(&self, creds: &Credentials<'_>) -> Result<Identity, AuthFailure> {
        if !self.auth_required {
            return Ok(Identity::default());
        }
        if let Some(operator) = &self.operator {
            return operator.authenticate(creds, crate::operator::unix_now());
        }
        if let Some(bosh) = &self.bosh {
            return match creds.chain() {
                Some(chain) => bosh
                    .clients
                    .identify(chain)
                    .map_err(|e| fail(format!("certificate client refused: {e}"))),
                None if bosh.allow_legacy_clients => match &self.single {
                    Some(single) => single.check(creds),
                    None => Err(fail("legacy client, but no user is configured")),
                },
                None => Err(fail("no client certificate")),
            };
        }
        if !self.nkeys.is_empty() {
            if let Some(key) = present(creds.nkey) {
                return self.nkey_user(key, creds);
            }
        }
        if self.verify_and_map {
            if let Some(chain) = creds.chain() {
                return self.mapped_user(chain, creds);
            }
        }
        if !creds.any_sent() {
            if let Some(id) = self.no_auth_identity() {
                return Ok(id);
            }
        }
        if self.verify_and_map {
            return Err(fail("no client certificate to map a user from"));
        }
        if !self.users.is_empty() {
            let name = present(creds.user).ok_or_else(|| fail("no user name sent"))?;
            let entry = self
                .users
                .get(name)
                .ok_or_else(|| fail(format!("unknown user {name:?}")))?;
            if !verify_password(entry.password.as_ref(), creds.pass) {
                return Err(fail(format!("wrong password for user {name:?}")));
            }
            return Ok(entry.identity());
        }
        if let Some(token) = &self.token {
            return if token.verify(present(creds.token)) {
                Ok(Identity::default())
            } else {
                Err(fail("wrong or missing auth token"))
            };
        }
        if let Some(single) = &self.single {
            return single.check(creds);
        }
        Err(fail("no credentials matched"))
    }

    fn nkey_user(&self, key: &str, creds: &Credentials<'_>) -> Result<Identity, AuthFailure> {
        let entry = self
            .nkeys
            .get(key)
            .ok_or_else(|| fail(format!("unknown nkey {key}")))?;
        let nonce = creds
            .nonce
            .ok_or_else(|| fail(format!("nkey {key}: no nonce was sent to the client")))?;
        let sig = present(creds.sig).ok_or_else(|| fail(format!("nkey {key}: no signature")))?;
        if !nkey::verify(&entry.key, nonce, sig) {
            return Err(fail(format!("nkey {key}: signature verification failed")));
        }
        Ok(entry.identity(key))
    }

    fn mapped_user(
        &self,
        chain: &[CertificateDer<'static>],
        creds: &Credentials<'_>,
    ) -> Result<Identity, AuthFailure> {
        let leaf = chain.first().ok_or_else(|| fail("no client certificate"))?;
        let cert = CertIdentity::from_der(leaf).map_err(|e| fail(e.to_string()))?;
        let entry = self.map_certificate(&cert).ok_or_else(|| {
            fail(format!(
                "client certificate maps to no user (subject {:?})",
                cert.subject
            ))
        })?;
        if let Some(u) = present(creds.user) {
            return Err(fail(format!(
                "user {u:?} found in CONNECT, but the user must come from the certificate"
            )));
        }
        if entry.password.is_some() && !verify_password(entry.password.as_ref(), creds.pass) {
            return Err(fail(format!("wrong password for user {:?}", entry.name)));
        }
        Ok(entry.identity())
    }

    /// The user a certificate stands for (docs/BOSH.md §4 order).
    fn map_certificate(&self, cert: &CertIdentity) -> Option<&Arc<UserEntry>> {
        let by_name = cert
            .emails
            .iter()
            .chain(&cert.dns_names)
            .chain(&cert.uris)
            .find_map(|n| self.users.get(n));
        if by_name.is_some() {
            return by_name;
        }
        if let Some(subject) = cert.subject_dn() {
            let same_order = self.dn_users.iter().find(|(dn, _)| dn.same_order(subject));
            let any_order = || self.dn_users.iter().find(|(dn, _)| dn.same_rdns(subject));
            if let Some((_, entry)) = same_order.or_else(any_order) {
                return Some(entry);
            }
        }
        self.users.get(&cert.subject)
    }

    fn no_auth_identity(&self) -> Option<Identity> {
        let name = self.no_auth_user.as_deref()?;
        if let Some(entry) = self.users.get(name) {
            return Some(entry.identity());
        }
        self.nkeys.get(name).map(|n| n.identity(name))
    }
}

/// Compiles one user's permissions (`None` = unrestricted), reporting a
/// failure under `who`.
fn compile_for(
    p: Option<&ConfigPermissions>,
    who: &str,
    errors: &mut Vec<String>,
) -> Option<Arc<Permissions>> {
    match Permissions::compile(p?, None, false) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            errors.push(format!("{who} permissions: {e}"));
            None
        }
    }
}

/// Combinations of methods that cannot work together.
fn check_conflicts(a: &Authorization, opts: &Options, errors: &mut Vec<String>) {
    let tls = opts.tls.as_ref();
    let cert_authorization = tls.is_some_and(|t| t.enable_cert_authorization);
    let has_single = a.user.as_deref().is_some_and(|u| !u.is_empty());
    let has_token = a.token.as_deref().is_some_and(|t| !t.is_empty());
    let has_users = !a.users.is_empty()
        || !a.nkeys.is_empty()
        || opts
            .accounts
            .iter()
            .any(|acc| !acc.users.is_empty() || !acc.nkeys.is_empty());
    if has_single && has_users {
        errors.push("Can not have a single user/pass and a users array".into());
    }
    if has_single && has_token {
        errors.push("Cannot have a user/pass and token".into());
    }
    if has_token && has_users {
        errors.push("Can not have a token and a users array".into());
    }
    if !a.certificate_clients.is_empty() && !cert_authorization {
        errors.push(
            "TLS 'enable_cert_authorization' must be enabled to use 'certificate_clients'".into(),
        );
    }
    let Some(tls) = tls.filter(|t| t.enable_cert_authorization) else {
        return;
    };
    if a.certificate_clients.is_empty() {
        errors.push(
            "'certificate_clients' must be defined when 'enable_cert_authorization' is true".into(),
        );
    }
    if !tls.verify {
        errors.push("TLS 'enable_cert_authorization' requires 'verify: true'".into());
    }
    if tls.verify_and_map {
        errors.push("Can not have 'verify_and_map' and 'enable_cert_authorization' defined at the same time".into());
    }
    if has_users {
        errors
            .push("Can not have 'users' and 'certificate_clients' defined at the same time".into());
    }
    if has_token {
        errors
            .push("Can not have 'token' and 'certificate_clients' defined at the same time".into());
    }
    if has_single && !tls.allow_legacy_clients {
        errors.push("Can not have 'user' and 'certificate_clients' defined at the same time (unless 'allow_legacy_clients' is true)".into());
    }
    if tls.allow_legacy_clients && !has_single {
        errors.push("TLS 'allow_legacy_clients' requires a single 'user' in authorization".into());
    }
}

#[cfg(test)]
mod tests;

/// `default_sentinel`, as nats-server checks it: only with operators, and
/// only a bearer user JWT (or one that looks scoped: issued by an account's
/// signing key, without permissions of its own).
fn check_default_sentinel(opts: &Options, errors: &mut Vec<String>) {
    let Some(sentinel) = &opts.default_sentinel else {
        return;
    };
    if opts.operators.is_empty() {
        errors.push("default sentinel requires operators and accounts".to_string());
        return;
    }
    match crate::jwt::decode_ignoring_time::<crate::jwt::User>(sentinel) {
        Err(_) => errors.push("default sentinel JWT not valid".to_string()),
        Ok(user) => {
            let limits = &user.nats.permissions;
            let looks_scoped = !user.nats.issuer_account.is_empty()
                && limits.publish.is_empty()
                && limits.subscribe.is_empty()
                && limits.resp.is_none();
            if !limits.bearer_token && !looks_scoped {
                errors.push("default sentinel must be a bearer token".to_string());
            }
        }
    }
}

/// What nats-server refuses next to trusted operators, with its texts.
fn check_operator_mode(opts: &Options, mode: &OperatorMode, errors: &mut Vec<String>) {
    if opts.operators.is_empty() {
        return;
    }
    if opts.resolver.is_none() && !mode.has_account_server {
        errors.push("operators require an account resolver to be configured".to_string());
    }
    if !opts.accounts.is_empty() {
        errors.push("operators do not allow Accounts to be configured directly".to_string());
    }
    let auth = opts.authorization.as_ref();
    if auth.is_some_and(|a| !a.users.is_empty() || !a.nkeys.is_empty()) {
        errors.push("operators do not allow users to be configured directly".to_string());
    }
    if !opts.trusted_keys.is_empty() {
        errors.push("conflicting options for 'TrustedKeys' and 'TrustedOperators'".to_string());
    }
    if let (Some(configured), Some(from_jwt)) =
        (&opts.system_account, &mode.operator_system_account)
    {
        if configured != from_jwt {
            errors.push("system_account in config and operator JWT must be identical".to_string());
        }
    }
}
