//! Authentication and authorization of one client: checking CONNECT's
//! credentials and TLS certificate against the server's [`Authenticator`],
//! installing the identity's permissions, checking again after a reload, and
//! reporting refused operations (nats-server's `checkAuthentication` and
//! permission violations in `client.go`).
use std::sync::Arc;

use gannet_auth::{Credentials, Permissions, PublishCache};
use rustls_pki_types::CertificateDer;

use super::connect::ConnectOptions;
use super::connection::{Connection, AUTH_VIOLATION};
use super::CloseReason;
use crate::accounts::GLOBAL_ACCOUNT;
use crate::subscription::{self, Subscription};

/// Whose JWT ends a client's login: what it is told when cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expiry {
    User,
    Account,
}

impl Expiry {
    /// The `-ERR` text (nats-server's).
    pub(super) fn message(self) -> &'static str {
        match self {
            Expiry::User => "User Authentication Expired",
            Expiry::Account => "Account Authentication Expired",
        }
    }
}

/// Who a client is and what it may do: what CONNECT and the TLS handshake
/// proved, the permissions that follow, and the publisher identity its
/// messages carry to internal handlers and service imports.
#[derive(Default)]
pub(super) struct Identity {
    /// The connection runs over TLS.
    pub(super) tls: bool,
    /// The client's verified certificate chain, leaf first.
    pub(super) peer_certs: Vec<CertificateDer<'static>>,
    /// The authorized user, for logs and events.
    pub(super) user: Option<String>,
    /// What this client may do (`None` = anything).
    pub(super) perms: Option<Arc<Permissions>>,
    pub(super) pub_cache: PublishCache,
}

impl Connection {
    /// Checks the credentials of CONNECT (and the TLS certificate) and installs
    /// the identity's permissions.
    pub(super) fn authenticate(&mut self, opts: &ConnectOptions) -> Result<(), String> {
        let nonce = self.nonce.as_deref().map(str::as_bytes);
        let creds = Credentials {
            user: opts.user.as_deref(),
            pass: opts.pass.as_deref(),
            token: opts.auth_token.as_deref(),
            nkey: opts.nkey.as_deref(),
            sig: opts.sig.as_deref(),
            nonce,
            peer_certs: self.identity.tls.then_some(&self.identity.peer_certs[..]),
            jwt: opts.jwt.as_deref(),
            client_ip: Some(self.shared.meta().addr.ip()),
            connection_type: "STANDARD",
        };
        let authenticator = self.server.authenticator();
        // bcrypt takes milliseconds by design: keep other clients on this worker
        // thread moving while it runs.
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let result = if multi_thread {
            tokio::task::block_in_place(|| authenticator.authenticate(&creds))
        } else {
            authenticator.authenticate(&creds)
        };
        let identity = result.map_err(|f| f.reason)?;
        let account = identity.account.as_deref().unwrap_or(GLOBAL_ACCOUNT);
        if self.joined && account != self.account.name {
            // A reload moved the user to another account: the client must
            // connect again to join it.
            return Err(format!(
                "user moved from account {} to {account}",
                self.account.name
            ));
        }
        if !self.joined {
            // A client joins its account once; a reload does not move it.
            let account = self.server.account(identity.account.as_deref());
            if !std::sync::Arc::ptr_eq(&account, &self.account) {
                self.account = account;
                self.cache = Default::default();
            }
        }
        // A far-off expiry (the JWT says when) that does not fit the clock
        // is none. The user's or the account's JWT, whichever ends first.
        let at = |exp: u64| {
            let now = gannet_auth::operator::unix_now();
            tokio::time::Instant::now()
                .checked_add(std::time::Duration::from_secs(exp.saturating_sub(now)))
        };
        let user = identity.expires.and_then(at).map(|i| (i, Expiry::User));
        let account = (identity.account_expires.and_then(at)).map(|i| (i, Expiry::Account));
        let expires = match (user, account) {
            (Some(u), Some(a)) => Some(if a.0 < u.0 { a } else { u }),
            (u, a) => u.or(a),
        };
        if let Some(limits) = identity.limits {
            let opts = self.server.options();
            let server_subs = (opts.max_subscriptions > 0).then_some(opts.max_subscriptions);
            let user_subs = limits
                .subs
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
            self.max_subscriptions = match (server_subs, user_subs) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(payload) = limits.payload {
                let mut parser_limits = self.parser.limits();
                let payload = usize::try_from(payload).unwrap_or(usize::MAX);
                parser_limits.max_payload = opts.max_payload.min(payload);
                self.parser.set_limits(parser_limits);
            }
        }
        if expires != self.auth_expires {
            self.auth_expires = expires;
            self.expiry_changed = true;
        }
        if let (Some(jwt_user), Some(jwt)) = (identity.jwt_user, opts.jwt.as_ref()) {
            self.shared
                .meta
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .jwt = Some(Arc::new((jwt.clone(), jwt_user)));
        }
        self.install_identity(identity.user, identity.permissions);
        Ok(())
    }

    fn install_identity(&mut self, user: Option<String>, perms: Option<Arc<Permissions>>) {
        self.shared.set_delivery_perms(perms.clone());
        self.identity.perms = perms;
        self.identity.pub_cache = PublishCache::default();
        self.shared
            .meta
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .user
            .clone_from(&user);
        self.identity.user = user;
    }

    /// In operator mode, whether the client's account is no longer known
    /// (deleted) or its JWT has expired.
    fn account_gone(&self) -> bool {
        let auth = self.server.authenticator();
        let Some(operator) = auth.operator() else {
            return false;
        };
        let now = gannet_auth::operator::unix_now();
        operator.account(&self.account.name).is_none_or(|a| {
            a.claims
                .exp
                .is_some_and(|e| e > 0 && u64::try_from(e).unwrap_or(0) <= now)
        })
    }

    /// After a reload or a claim update: checks this client against the new
    /// authorization. A client whose account is gone is told so and closed,
    /// as is one that no longer authenticates; subscriptions its new
    /// permissions deny are removed.
    pub(super) fn reauthorize(&mut self) -> Result<(), CloseReason> {
        if !self.connected {
            return Ok(());
        }
        if !self.server.authenticator().auth_required() {
            self.install_identity(None, None);
            return Ok(());
        }
        if self.account_gone() {
            // Deleted by the operator, or its JWT ran out.
            tracing::info!("{} - Account Authentication Expired", self.prefix);
            self.send_err(Expiry::Account.message());
            return Err(CloseReason::AuthenticationExpired);
        }
        let opts = self.opts.clone();
        if let Err(reason) = self.authenticate(&opts) {
            tracing::error!(
                "{} - authentication error after reload: {reason}",
                self.prefix
            );
            self.send_err(AUTH_VIOLATION);
            return Err(CloseReason::AuthenticationViolation);
        }
        let Some(perms) = self.identity.perms.clone() else {
            return Ok(());
        };
        let subs: Vec<Arc<Subscription>> = self.shared.subs_lock().values().cloned().collect();
        for sub in subs {
            if !perms.can_subscribe(sub.subject(), sub.queue.as_deref()) {
                subscription::end(&sub);
                let subject = String::from_utf8_lossy(sub.subject());
                let sid = String::from_utf8_lossy(sub.sid());
                let text = match &sub.queue {
                    Some(q) => format!(
                        "Permissions Violation for Subscription to \"{subject}\" using queue \"{}\" (sid \"{sid}\")",
                        String::from_utf8_lossy(q)
                    ),
                    None => format!(
                        "Permissions Violation for Subscription to \"{subject}\" (sid \"{sid}\")"
                    ),
                };
                self.permission_violation(&text);
            }
        }
        Ok(())
    }

    /// Reports a refused publish or subscribe: `-ERR` to the client (which stays
    /// connected) and a log line naming the user.
    pub(super) fn permission_violation(&mut self, text: &str) {
        let user = self.identity.user.as_deref().unwrap_or("");
        tracing::error!("{} - \"{user}\" - {text}", self.prefix);
        self.send_err(text);
    }
}
