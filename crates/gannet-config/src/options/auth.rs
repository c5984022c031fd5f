//! The `authorization { }` block into [`Authorization`]: single user or
//! token, `users` (name/password or nkey, with permissions),
//! `default_permissions`, `timeout`, and the BOSH fork's
//! `certificate_clients` (nats-server's `parseAuthorization` and
//! `parseUsers` in `opts.go`; the fork's `parseCertificateClients`).
//! Error texts are nats-server's; the fork's own entries use the same style.
//!
//! Checks that involve other blocks (the fork's `tls` rules, `no_auth_user`)
//! are in [`super::security_checks`].
use std::collections::HashSet;
use std::time::Duration;

use super::convert::{go_float, go_value, Report};
use super::nkey::is_valid_public_user_key;
use super::permissions::{self, warn_empty_allow};
use super::tls::timeout;
use super::{Authorization, CertificateClient, NkeyUser, Permissions, User};
use crate::conf::{Entry, Kind, Pos};

/// An auth timeout above this draws nats-server's "is high" warning.
const HIGH_AUTH_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the keys the cross-block checks care about were written.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthMarks {
    /// The `authorization` key itself.
    pub block: Option<Pos>,
    /// `user`/`username`, when given non-empty.
    pub user: Option<Pos>,
    /// `users`, when given (even empty).
    pub users: Option<Pos>,
    /// `certificate_clients`, when given (even empty).
    pub certificate_clients: Option<Pos>,
    /// False when the block had errors (cross-block checks then stay quiet).
    pub clean: bool,
}

/// Reads the `authorization` entry. `None` when it is not a map.
pub(crate) fn parse(entry: &Entry, r: &mut Report, marks: &mut AuthMarks) -> Option<Authorization> {
    *marks = AuthMarks {
        block: Some(entry.key_pos.clone()),
        ..AuthMarks::default()
    };
    let errors_before = r.errors.len();
    let map = r.map(entry)?;
    let mut auth = Authorization::default();
    for e in map {
        let key = e.key.to_ascii_lowercase();
        match key.as_str() {
            "user" | "username" => {
                auth.user = non_empty(r.string(e));
                marks.user = auth.user.as_ref().map(|_| e.key_pos.clone());
            }
            "pass" | "password" => auth.password = non_empty(r.string(e)),
            "token" => auth.token = non_empty(r.string(e)),
            "timeout" => {
                if let Some(t) = timeout(e, "authorization", r) {
                    auth.timeout = t;
                    warn_high_timeout(e, t, r);
                }
            }
            "users" => {
                marks.users = Some(e.key_pos.clone());
                if let Some((users, nkeys)) = users(e, r) {
                    auth.users = users;
                    auth.nkeys = nkeys;
                }
            }
            "default_permission" | "default_permissions" | "permissions" => {
                if let Some(p) = permissions::parse(e, r) {
                    warn_empty_allow(&p, "default_permissions", r);
                    auth.default_permissions = Some(p.permissions);
                }
            }
            "certificate_clients" => {
                marks.certificate_clients = Some(e.key_pos.clone());
                auth.certificate_clients = certificate_clients(e, r);
            }
            "auth_callout" | "auth_hook" | "proxy_required" => {
                r.warn(e, format!("authorization.{} is not supported yet", e.key));
            }
            _ if e.used_as_variable => {}
            _ => r.error(e, format!("unknown field {:?}", e.key)),
        }
    }
    if let Some(message) = conflict(&auth, marks.users.is_some()) {
        r.error(entry, message);
    }
    apply_default_permissions(&mut auth);
    marks.clean = r.errors.len() == errors_before;
    Some(auth)
}

/// The reference's checks on single user, token and `users`, in its order;
/// only the first applies.
fn conflict(auth: &Authorization, users_given: bool) -> Option<&'static str> {
    let single = auth.user.is_some() || auth.password.is_some();
    if single && auth.token.is_some() {
        Some("Cannot have a user/pass and token")
    } else if users_given && auth.user.is_some() {
        Some("Can not have a single user/pass and a users array")
    } else if users_given && auth.token.is_some() {
        Some("Can not have a token and a users array")
    } else {
        None
    }
}

/// Users, nkeys and certificate clients without permissions of their own
/// get `default_permissions`.
fn apply_default_permissions(auth: &mut Authorization) {
    let Some(default) = &auth.default_permissions else {
        return;
    };
    let slots = auth
        .users
        .iter_mut()
        .map(|u| &mut u.permissions)
        .chain(auth.nkeys.iter_mut().map(|n| &mut n.permissions))
        .chain(
            auth.certificate_clients
                .iter_mut()
                .map(|c| &mut c.permissions),
        );
    for slot in slots {
        if slot.is_none() {
            *slot = Some(default.clone());
        }
    }
}

/// nats-server's warning for a timeout over a minute, which usually means
/// an unquoted `1m` (one million seconds) was meant as a duration.
pub(super) fn warn_high_timeout(e: &Entry, t: Option<Duration>, r: &mut Report) {
    let Some(t) = t.filter(|t| *t > HIGH_AUTH_TIMEOUT) else {
        return;
    };
    let written = match &e.value.kind {
        Kind::Float(f) => go_float(*f),
        _ => go_value(&e.value),
    };
    r.warn(
        e,
        format!(
            "invalid use of field \"{}\": timeout of {written} ({:.6} seconds) is high, consider \
             keeping it under 60 seconds. possibly caused by unquoted duration; use '1m' \
             instead of 1m, for example",
            e.key,
            t.as_secs_f64()
        ),
    );
}

/// `users: [ {user, password, permissions}, {nkey, permissions} ]` (also
/// an account's `users`). Duplicates within the list are errors here;
/// duplicates across lists are [`super::accounts`]' cross-check.
pub(crate) fn users(entry: &Entry, r: &mut Report) -> Option<(Vec<User>, Vec<NkeyUser>)> {
    let Some(items) = entry.value.as_array() else {
        r.error(
            entry,
            format!(
                "Expected users field to be an array, got {}",
                go_value(&entry.value)
            ),
        );
        return None;
    };
    let mut users: Vec<User> = Vec::new();
    let mut nkeys: Vec<NkeyUser> = Vec::new();
    let mut names = HashSet::new();
    let mut keys = HashSet::new();
    for item in items {
        let Some(map) = item.as_map() else {
            r.error_at(
                &item.pos,
                format!(
                    "Expected user entry to be a map/struct, got {}",
                    go_value(item)
                ),
            );
            continue;
        };
        let errors_before = r.errors.len();
        let mut name = None;
        let mut password = None;
        let mut nkey: Option<(String, Pos)> = None;
        let mut perms = None;
        for e in map {
            match e.key.to_ascii_lowercase().as_str() {
                "nkey" => nkey = non_empty(r.string(e)).map(|k| (k, e.key_pos.clone())),
                "user" | "username" => name = non_empty(r.string(e)),
                "pass" | "password" => password = non_empty(r.string(e)),
                "permission" | "permissions" | "authorization" => {
                    perms = permissions::parse(e, r);
                }
                "allowed_connection_types" | "connection_types" | "clients" | "proxy_required" => {
                    r.warn(e, format!("users.{} is not supported yet", e.key));
                }
                _ if e.used_as_variable => {}
                _ => r.error(e, format!("unknown field {:?}", e.key)),
            }
        }
        let permissions: Option<Permissions> = perms.as_ref().map(|p| p.permissions.clone());
        match (nkey, name) {
            (Some((key, at)), name) => {
                if !is_valid_public_user_key(&key) {
                    r.error_at(&at, "Not a valid public nkey for a user");
                } else if name.is_some() || password.is_some() {
                    r.error_at(&at, "Nkey users do not take usernames or passwords");
                } else if !keys.insert(key.clone()) {
                    r.error_at(&at, format!("Duplicate nkey {key:?} detected"));
                } else {
                    if let Some(p) = &perms {
                        warn_empty_allow(p, &format!("nkey {key:?}"), r);
                    }
                    nkeys.push(NkeyUser {
                        nkey: key,
                        permissions,
                    });
                }
            }
            (None, Some(username)) => {
                if !names.insert(username.clone()) {
                    r.error_at(&item.pos, format!("Duplicate user {username:?} detected"));
                    continue;
                }
                if let Some(p) = &perms {
                    warn_empty_allow(p, &format!("user {username:?}"), r);
                }
                users.push(User {
                    username,
                    password,
                    permissions,
                });
            }
            (None, None) if r.errors.len() == errors_before => {
                r.error_at(&item.pos, "User entry requires a user");
            }
            (None, None) => {}
        }
    }
    Some((users, nkeys))
}

/// BOSH fork: `certificate_clients: [ {client_name, permissions} ]`. Empty
/// allow lists are not warned about: for these clients they deny.
fn certificate_clients(entry: &Entry, r: &mut Report) -> Vec<CertificateClient> {
    let Some(items) = entry.value.as_array() else {
        r.error(
            entry,
            format!(
                "Expected certificate_clients field to be an array, got {}",
                go_value(&entry.value)
            ),
        );
        return Vec::new();
    };
    let mut clients: Vec<CertificateClient> = Vec::new();
    for item in items {
        let Some(map) = item.as_map() else {
            r.error_at(
                &item.pos,
                format!(
                    "Expected certificate client entry to be a map/struct, got {}",
                    go_value(item)
                ),
            );
            continue;
        };
        let errors_before = r.errors.len();
        let mut name = None;
        let mut perms = None;
        for e in map {
            match e.key.to_ascii_lowercase().as_str() {
                "client_name" => name = non_empty(r.string(e)),
                "permission" | "permissions" => {
                    perms = permissions::parse(e, r).map(|p| p.permissions);
                }
                _ if e.used_as_variable => {}
                _ => r.error(e, format!("unknown field {:?}", e.key)),
            }
        }
        let Some(client_name) = name else {
            if r.errors.len() == errors_before {
                r.error_at(&item.pos, "Certificate client entry requires a client_name");
            }
            continue;
        };
        if clients.iter().any(|c| c.client_name == client_name) {
            r.error_at(
                &item.pos,
                format!("Duplicate certificate client {client_name:?} detected"),
            );
            continue;
        }
        clients.push(CertificateClient {
            client_name,
            permissions: perms,
        });
    }
    clients
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests;
