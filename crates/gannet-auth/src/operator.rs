//! Operator mode (nats-server's decentralized authentication in `auth.go`,
//! `accounts.go` and `jwt.go`): the operators the server trusts, the account
//! JWTs it knows (the memory resolver: preloaded, then replaced by claim
//! updates), and the login of a user by its JWT and its signature of the
//! INFO nonce.
//!
//! A user logs in when its JWT is signed by its account's key, or by one of
//! the account's signing keys with `issuer_account` naming the account; the
//! account's JWT is signed by a trusted operator (or one of its signing
//! keys); neither has expired; the user is not revoked; it signed the nonce
//! with its key (unless its JWT is a bearer token); and it connects from an
//! allowed address and connection type, inside its connect times. Its
//! permissions are its JWT's, or
//! the account's `default_permissions` when it has none, or the scope
//! template of the scoped signing key that signed it. Every refusal is
//! `Authorization Violation` to the client, with the reason in the log.
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use gannet_config::options::{
    AccountConfig, ExportKind, ImportConfig, Permissions as ConfigPermissions,
    ResponsePermission as ConfigResponse, SubjectMapping, SubjectPermission,
};
use gannet_proto::mapping::{Destination, Mapping};

use crate::authenticator::{AuthFailure, Credentials, Identity, JwtUser, UserLimits};
use crate::connect_times::connect_window;
use crate::jwt::{self, AccountClaims, UserPermissionLimits};
use crate::permissions::Permissions;

/// An account JWT the server knows: its text and its decoded claims.
#[derive(Debug, Clone)]
pub struct ResolvedAccount {
    pub jwt: String,
    pub claims: AccountClaims,
}

/// The trust and the accounts of a server in operator mode.
#[derive(Debug)]
pub struct OperatorMode {
    /// Operator identity keys and operator signing keys accounts may be
    /// signed with.
    trusted: HashSet<String>,
    /// Accounts must be signed by an operator signing key.
    strict: bool,
    /// The operators' identity keys (strict mode refuses them as signers).
    identities: HashSet<String>,
    /// The system account named by the (first) operator JWT.
    pub operator_system_account: Option<String>,
    /// The operators' names, for logs.
    pub operator_names: Vec<String>,
    /// An operator names an account server (`account_server_url`).
    pub has_account_server: bool,
    accounts: RwLock<HashMap<String, Arc<ResolvedAccount>>>,
}

fn fail(reason: impl Into<String>) -> AuthFailure {
    AuthFailure {
        reason: reason.into(),
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl OperatorMode {
    /// Trust in `operators` (JWTs) and `trusted_keys` (operator public keys),
    /// with the accounts of `preload` (public key, JWT). Errors are
    /// nats-server's texts, for start-up.
    pub fn new(
        operators: &[String],
        trusted_keys: &[String],
        preload: &[(String, String)],
        now: u64,
    ) -> Result<OperatorMode, Vec<String>> {
        let mut errors = Vec::new();
        let mut mode = OperatorMode {
            trusted: HashSet::new(),
            strict: false,
            identities: HashSet::new(),
            operator_system_account: None,
            operator_names: Vec::new(),
            has_account_server: false,
            accounts: RwLock::new(HashMap::new()),
        };
        for token in operators {
            match jwt::decode_operator(token, now) {
                Ok(op) => {
                    mode.trusted.insert(op.sub.clone());
                    mode.identities.insert(op.sub.clone());
                    mode.trusted.extend(op.nats.signing_keys.iter().cloned());
                    mode.strict |= op.nats.strict_signing_key_usage;
                    if mode.operator_system_account.is_none() && !op.nats.system_account.is_empty()
                    {
                        mode.operator_system_account = Some(op.nats.system_account.clone());
                    }
                    mode.operator_names.push(op.name.clone());
                    mode.has_account_server |= !op.nats.account_server_url.is_empty();
                }
                Err(e) => errors.push(format!("error parsing operator JWT: {e}")),
            }
        }
        for key in trusted_keys {
            match nkeys::KeyPair::from_public_key(key) {
                Ok(kp) if kp.key_pair_type() == nkeys::KeyPairType::Operator => {
                    mode.trusted.insert(key.clone());
                    mode.identities.insert(key.clone());
                }
                _ => errors.push(format!("trusted Keys {key:?} are not valid operator keys")),
            }
        }
        for (key, token) in preload {
            if let Err(e) = mode.install(token, Some(key), now) {
                errors.push(format!("resolver_preload: account {key}: {e}"));
            }
        }
        if errors.is_empty() {
            Ok(mode)
        } else {
            Err(errors)
        }
    }

    /// Checks an account JWT (signed by a trusted operator key, about the
    /// expected account if given) and makes it the account's: what a claim
    /// update does. Returns the account's public key.
    pub fn install(&self, token: &str, expect: Option<&str>, now: u64) -> Result<String, String> {
        let claims = jwt::decode_account(token, now).map_err(|e| e.to_string())?;
        if let Some(expect) = expect {
            if claims.sub != expect {
                return Err(format!("JWT is for account {}, not {expect}", claims.sub));
            }
        }
        if !self.trusted.contains(&claims.iss) {
            return Err(format!(
                "account {} not signed by a trusted operator",
                claims.sub
            ));
        }
        if self.strict && self.identities.contains(&claims.iss) {
            return Err(format!(
                "account {} signed by the operator's identity key, but signing keys are required",
                claims.sub
            ));
        }
        let key = claims.sub.clone();
        let mut accounts = self.accounts.write().unwrap_or_else(|e| e.into_inner());
        // An older JWT does not replace a newer one.
        if let Some(known) = accounts.get(&key) {
            if known.claims.iat > claims.iat {
                return Err("the JWT is older than the one in use".to_string());
            }
        }
        accounts.insert(
            key.clone(),
            Arc::new(ResolvedAccount {
                jwt: token.to_string(),
                claims,
            }),
        );
        Ok(key)
    }

    /// Takes the accounts of `older` (the trust before a reload) that this
    /// one does not have, or has in an older JWT.
    pub fn adopt(&self, older: &OperatorMode) {
        let theirs: Vec<Arc<ResolvedAccount>> = older
            .accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let mut ours = self.accounts.write().unwrap_or_else(|e| e.into_inner());
        for account in theirs {
            let newer = ours
                .get(&account.claims.sub)
                .is_none_or(|known| known.claims.iat < account.claims.iat);
            if newer && self.trusted.contains(&account.claims.iss) {
                ours.insert(account.claims.sub.clone(), account);
            }
        }
    }

    /// Forgets account `key` (a `$SYS.REQ.CLAIMS.DELETE`); whether it was
    /// known.
    pub fn remove(&self, key: &str) -> bool {
        self.accounts
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key)
            .is_some()
    }

    /// Whether `key` may sign account JWTs (and the operator's requests):
    /// an operator's identity key, unless signing keys are required, or
    /// one of its signing keys.
    pub fn is_operator_signer(&self, key: &str) -> bool {
        self.trusted.contains(key) && !(self.strict && self.identities.contains(key))
    }

    /// The account JWT known for `key`.
    pub fn account(&self, key: &str) -> Option<Arc<ResolvedAccount>> {
        self.accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    /// Every account known, by public key.
    pub fn account_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    /// The subject mappings of every known account, and the imports of
    /// every known account that its exporter allows, as
    /// account settings the server installs like configured ones: the
    /// exporting account is known and exports a subject of that kind
    /// covering the import's; an export that wants a token gets a valid
    /// activation JWT (issued by the exporter or one of its signing keys, for
    /// the importer, covering the subject, not expired); and the exporter did
    /// not revoke the importer. Imports refused are listed with the reason.
    pub fn account_links(&self, now: u64) -> (Vec<AccountConfig>, Vec<String>) {
        let accounts: Vec<Arc<ResolvedAccount>> = self
            .accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let mut configs = Vec::new();
        let mut refused = Vec::new();
        for importer in &accounts {
            let mut config = AccountConfig {
                name: importer.claims.sub.clone(),
                ..AccountConfig::default()
            };
            for import in &importer.claims.nats.imports {
                match self.check_import(&importer.claims.sub, import, now) {
                    Ok(link) => config.imports.push(link),
                    Err(e) => refused.push(format!(
                        "account {} import of {:?} from {}: {e}",
                        importer.claims.sub, import.subject, import.account
                    )),
                }
            }
            let mut sources: Vec<&String> = importer.claims.nats.mappings.keys().collect();
            sources.sort();
            for source in sources {
                let destinations: Vec<Destination> = importer.claims.nats.mappings[source]
                    .iter()
                    .map(|m| Destination {
                        subject: m.subject.clone(),
                        // A weight left out (0) is the whole.
                        weight: if m.weight == 0 { 100 } else { m.weight },
                        cluster: m.cluster.clone(),
                    })
                    .collect();
                match Mapping::new(source, &destinations) {
                    Ok(_) => config.mappings.push(SubjectMapping {
                        source: source.clone(),
                        destinations,
                    }),
                    Err(e) => refused.push(format!(
                        "account {} mapping of {source:?}: {e}",
                        importer.claims.sub
                    )),
                }
            }
            configs.push(config);
        }
        (configs, refused)
    }

    fn check_import(
        &self,
        importer: &str,
        import: &jwt::Import,
        now: u64,
    ) -> Result<ImportConfig, String> {
        let kind = match import.kind {
            jwt::ExportType::Stream => ExportKind::Stream,
            jwt::ExportType::Service => ExportKind::Service,
            jwt::ExportType::Unknown => return Err("no import type".into()),
        };
        let exporter = self
            .account(&import.account)
            .ok_or_else(|| "the exporting account is unknown".to_string())?;
        let subject = import.subject.as_bytes();
        let export = exporter
            .claims
            .nats
            .exports
            .iter()
            .find(|e| {
                e.kind == import.kind
                    && crate::pattern::Pattern::parse(e.subject.as_bytes())
                        .is_some_and(|p| p.covers(subject))
            })
            .ok_or_else(|| "no matching export".to_string())?;
        // An export may require a subject token to be the importer's own key.
        if export.account_token_position > 0 {
            let position = usize::try_from(export.account_token_position - 1).unwrap_or(usize::MAX);
            if import.subject.split('.').nth(position) != Some(importer) {
                return Err(
                    "the subject does not name the importing account where the export requires it"
                        .into(),
                );
            }
        }
        let revoked = |iat: i64| jwt::is_revoked(&export.revocations, importer, iat);
        if export.token_req {
            if import.token.is_empty() {
                return Err("the export needs an activation token".into());
            }
            let activation = jwt::decode_activation(&import.token, now)
                .map_err(|e| format!("activation token: {e}"))?;
            let signer_ok = activation.iss == exporter.claims.sub
                || exporter.claims.nats.is_signing_key(&activation.iss);
            if !signer_ok || activation.account() != exporter.claims.sub {
                return Err("activation token not issued by the exporter".into());
            }
            if activation.sub != importer {
                return Err("activation token is for another account".into());
            }
            let granted = crate::pattern::Pattern::parse(activation.nats.subject.as_bytes())
                .is_some_and(|p| p.covers(subject));
            if !granted {
                return Err("activation token does not cover the subject".into());
            }
            if revoked(activation.iat) {
                return Err("activation revoked".into());
            }
        }
        let local = if !import.local_subject.is_empty() {
            Some(import.local_subject.clone())
        } else if !import.to.is_empty() {
            Some(import.to.clone())
        } else {
            None
        };
        Ok(match kind {
            ExportKind::Stream => ImportConfig {
                kind,
                account: import.account.clone(),
                subject: import.subject.clone(),
                // `to` on a stream import is a prefix, `local_subject` a new name.
                prefix: (import.local_subject.is_empty() && !import.to.is_empty())
                    .then(|| import.to.clone()),
                to: (!import.local_subject.is_empty()).then(|| import.local_subject.clone()),
                allow_trace: import.allow_trace,
            },
            ExportKind::Service => ImportConfig {
                kind,
                account: import.account.clone(),
                subject: import.subject.clone(),
                prefix: None,
                to: local,
                // For a service, the export decides.
                allow_trace: export.allow_trace,
            },
        })
    }

    /// Logs a user in by its JWT (`creds.jwt`) and nonce signature.
    pub fn authenticate(&self, creds: &Credentials<'_>, now: u64) -> Result<Identity, AuthFailure> {
        let token = creds
            .jwt
            .filter(|t| !t.is_empty())
            .ok_or_else(|| fail("no user JWT in CONNECT"))?;
        let user = jwt::decode_user(token, now).map_err(|e| fail(format!("user JWT: {e}")))?;
        let account_key = user.account().to_string();
        let account = self
            .account(&account_key)
            .ok_or_else(|| fail(format!("account {account_key} not found")))?;
        let claims = &account.claims;
        if let Some(exp) = claims.exp.filter(|e| *e > 0) {
            if u64::try_from(exp).unwrap_or(0) <= now {
                return Err(fail(format!("account {account_key} has expired")));
            }
        }
        let mut scope: Option<&UserPermissionLimits> = None;
        if user.iss != account_key {
            let Some(signer) = claims.nats.signing_key(&user.iss) else {
                return Err(fail(format!(
                    "user {} signed by {}, not by account {account_key} nor one of its signing keys",
                    user.sub, user.iss
                )));
            };
            if let Some(s) = signer.scope() {
                if !user.nats.permissions.is_empty_of_permissions() {
                    return Err(fail(format!(
                        "user {} signed by scoped signing key {} carries its own permissions",
                        user.sub, user.iss
                    )));
                }
                scope = Some(&s.template);
            }
        }
        if claims.nats.is_user_revoked(&user.sub, user.iat) {
            return Err(fail(format!("user {} has been revoked", user.sub)));
        }
        let limits = scope.unwrap_or(&user.nats.permissions);
        if limits.bearer_token && claims.nats.limits.disallow_bearer {
            return Err(fail(format!(
                "bearer token of user {} refused: account {account_key} disallows bearer tokens",
                user.sub
            )));
        }
        if !limits.bearer_token {
            let sig = creds
                .sig
                .filter(|s| !s.is_empty())
                .ok_or_else(|| fail("no signature of the nonce"))?;
            let nonce = creds.nonce.ok_or_else(|| fail("no nonce was sent"))?;
            let key = nkeys::KeyPair::from_public_key(&user.sub)
                .map_err(|e| fail(format!("user key {}: {e}", user.sub)))?;
            if !crate::nkey::verify(&key, nonce, sig) {
                return Err(fail("signature does not match the user JWT's key"));
            }
        }
        let connection_type = if creds.connection_type.is_empty() {
            "STANDARD"
        } else {
            creds.connection_type
        };
        if !limits.allowed_connection_types.is_empty()
            && !limits
                .allowed_connection_types
                .iter()
                .any(|t| t.eq_ignore_ascii_case(connection_type))
        {
            return Err(fail(format!(
                "connection type {connection_type} not allowed for user {}",
                user.sub
            )));
        }
        if !limits.src.is_empty() {
            let allowed = creds
                .client_ip
                .is_some_and(|ip| limits.src.iter().any(|cidr| cidr_contains(cidr, ip)));
            if !allowed {
                return Err(fail(format!(
                    "client address not in the allowed sources of user {}",
                    user.sub
                )));
            }
        }
        let window = connect_window(
            &limits.times,
            &limits.times_location,
            jiff::Timestamp::from_second(i64::try_from(now).unwrap_or(i64::MAX))
                .unwrap_or(jiff::Timestamp::MAX),
        )
        .map_err(|e| fail(format!("user {}: {e}", user.sub)))?;
        let permissions = permissions_of(limits, &claims.nats.default_permissions)
            .map_err(|e| fail(format!("user {} permissions: {e}", user.sub)))?;
        let jwt_expires = user
            .exp
            .filter(|e| *e > 0)
            .and_then(|e| u64::try_from(e).ok());
        // The connection ends when the JWT expires or its connect window
        // closes, whichever comes first.
        let window_end = window.map(|left| now.saturating_add(left.as_secs().max(1)));
        Ok(Identity {
            user: Some(user.sub.clone()),
            permissions,
            account: Some(account_key),
            expires: match (jwt_expires, window_end) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            account_expires: claims
                .exp
                .filter(|e| *e > 0)
                .and_then(|e| u64::try_from(e).ok()),
            limits: Some(UserLimits {
                subs: min_limit(limits.subs, claims.nats.limits.subs),
                payload: min_limit(limits.payload, claims.nats.limits.payload),
            }),
            jwt_user: Some(JwtUser {
                issuer: user.iss.clone(),
                name: user.name.clone(),
                account_name: claims.name.clone(),
                tags: user.nats.tags.clone(),
            }),
        })
    }
}

impl UserPermissionLimits {
    /// Whether no permission is set (pub, sub, resp).
    fn is_empty_of_permissions(&self) -> bool {
        self.publish.is_empty() && self.subscribe.is_empty() && self.resp.is_none()
    }
}

/// The compiled permissions of a user: its own, or else the account's defaults.
fn permissions_of(
    user: &UserPermissionLimits,
    defaults: &jwt::Permissions,
) -> Result<Option<Arc<Permissions>>, String> {
    let (publish, subscribe, resp) = if user.is_empty_of_permissions() {
        (&defaults.publish, &defaults.subscribe, &defaults.resp)
    } else {
        (&user.publish, &user.subscribe, &user.resp)
    };
    if publish.is_empty() && subscribe.is_empty() && resp.is_none() {
        return Ok(None);
    }
    let side = |p: &jwt::Permission| {
        (!p.is_empty()).then(|| SubjectPermission {
            allow: (!p.allow.is_empty()).then(|| p.allow.clone()),
            deny: (!p.deny.is_empty()).then(|| p.deny.clone()),
        })
    };
    let config = ConfigPermissions {
        publish: side(publish),
        subscribe: side(subscribe),
        // As in nats-server: 0 takes the default (1 response, 2 minutes), a
        // negative value is no limit.
        allow_responses: resp.as_ref().map(|r| {
            let default = ConfigResponse::default();
            ConfigResponse {
                max: match r.max {
                    0 => default.max,
                    m => usize::try_from(m).unwrap_or(usize::MAX),
                },
                expires: match r.ttl {
                    0 => default.expires,
                    t => Duration::from_nanos(u64::try_from(t).unwrap_or(0)),
                },
            }
        }),
    };
    Permissions::compile(&config, None, false).map(|p| Some(Arc::new(p)))
}

/// The smaller of two JWT limits, `-1` being unlimited (`None`).
fn min_limit(a: i64, b: i64) -> Option<u64> {
    let limit = |n: i64| (n >= 0).then(|| u64::try_from(n).unwrap_or(0));
    match (limit(a), limit(b)) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Whether `ip` is in `cidr` (`a.b.c.d/n`, `::/n`, or a bare address).
fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let (net, bits) = match cidr.split_once('/') {
        Some((net, bits)) => (net, bits.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let Ok(net) = net.trim().parse::<IpAddr>() else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            (u32::from(n) & mask) == (u32::from(a) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            (u128::from(n) & mask) == (u128::from(a) & mask)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_match_by_prefix() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(cidr_contains("127.0.0.0/8", ip("127.1.2.3")));
        assert!(!cidr_contains("10.0.0.0/8", ip("127.1.2.3")));
        assert!(cidr_contains("192.168.1.7", ip("192.168.1.7")));
        assert!(cidr_contains("0.0.0.0/0", ip("8.8.8.8")));
        assert!(cidr_contains("::1/128", ip("::1")));
        assert!(!cidr_contains("::1/128", ip("127.0.0.1")));
        assert!(!cidr_contains("garbage", ip("127.0.0.1")));
    }
}
