//! Account claim updates in operator mode (nats-server's
//! `updateAccountClaims` reached through `$SYS.REQ.ACCOUNT.<key>.CLAIMS.UPDATE`
//! and the `$SYS.ACCOUNT.<key>.CLAIMS.UPDATE` event): a new account JWT,
//! signed by a trusted operator, replaces the account's at once; every
//! client is then checked again, so that revoked users are cut and changed
//! permissions apply, and new connections see the new limits.
use serde::Serialize;

use super::{data_reply, error_reply, Outcome};
use crate::server::Server;

/// The answer to a successful update or delete.
#[derive(Serialize)]
struct Updated<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    account: &'a str,
    code: u16,
    message: &'a str,
}

/// Puts `jwt` in force for account `key`: checked, kept (in the resolver's
/// directory too), its imports and mappings installed, every client checked
/// again. The error says why it was refused.
pub(crate) fn install(server: &Server, key: &str, jwt: &str) -> Result<(), String> {
    let auth = server.authenticator();
    let operator = auth.operator().ok_or("not in operator mode")?;
    crate::resolver::admit(server, operator, key).map_err(|e| e.to_string())?;
    operator.install(jwt, Some(key), gannet_auth::operator::unix_now())?;
    crate::resolver::store(server, key, jwt);
    server.install_operator_links();
    server.recheck_clients();
    // A lowered connection limit cuts the newest clients over it.
    if let Some(account) = server.find_account(key) {
        server.enforce_account_limit(&account, false);
    }
    Ok(())
}

/// Puts `jwt` (the payload) in force for account `key`. A cache resolver
/// takes updates only of the accounts it holds (nats-server's "jwt update
/// cache skipped" otherwise).
pub(super) fn update(server: &Server, key: &str, jwt: &[u8]) -> Outcome {
    let auth = server.authenticator();
    let Some(operator) = auth.operator() else {
        return Outcome::Unknown;
    };
    let cache = crate::resolver::settings(server).is_some_and(|s| !s.full);
    let reply = |message: &str| {
        data_reply(
            server,
            Updated {
                account: key,
                code: 200,
                message,
            },
        )
    };
    if cache && operator.account(key).is_none() {
        return reply("jwt update cache skipped");
    }
    let text = String::from_utf8_lossy(jwt);
    match install(server, key, text.trim()) {
        Ok(()) => {
            tracing::info!("Updated account claims for {key}");
            reply(if cache {
                "jwt updated cache"
            } else {
                "jwt updated"
            })
        }
        Err(e) => {
            tracing::error!("Account claims update for {key} refused: {e}");
            let why = if e == crate::resolver::StoreFull.to_string() {
                e.as_str()
            } else {
                "account validation failed"
            };
            let what = if cache {
                "jwt update cache resulted in error"
            } else {
                "jwt update resulted in error"
            };
            error_reply(server, 500, &format!("{what} - {why}"))
        }
    }
}

/// `$SYS.REQ.CLAIMS.UPDATE` (directory resolver): an account JWT for
/// whichever account it names.
pub(super) fn update_any(server: &Server, jwt: &[u8]) -> Outcome {
    if crate::resolver::dir(server).is_none() {
        return Outcome::Unknown;
    }
    let text = String::from_utf8_lossy(jwt);
    match gannet_auth::jwt::decode_ignoring_time::<gannet_auth::jwt::Account>(text.trim()) {
        Ok(claims) => update(server, &claims.sub, jwt),
        Err(e) => {
            tracing::error!("Account claims update refused: {e}");
            error_reply(server, 500, "jwt update resulted in error")
        }
    }
}

/// `$SYS.REQ.CLAIMS.LIST` (directory resolver): every account known.
pub(super) fn list(server: &Server) -> Outcome {
    let auth = server.authenticator();
    match (crate::resolver::dir(server), auth.operator()) {
        (Some(_), Some(operator)) => data_reply(server, operator.account_keys()),
        _ => Outcome::Unknown,
    }
}

/// `$SYS.REQ.ACCOUNT.<key>.CLAIMS.LOOKUP` (directory resolver): the
/// account's JWT as it is, or an empty message when unknown.
pub(super) fn lookup(server: &Server, key: &str) -> Outcome {
    let auth = server.authenticator();
    match (crate::resolver::dir(server), auth.operator()) {
        (Some(_), Some(operator)) => Outcome::Reply(
            operator
                .account(key)
                .map_or_else(Vec::new, |a| a.jwt.clone().into_bytes()),
        ),
        _ => Outcome::Unknown,
    }
}

/// `$SYS.REQ.CLAIMS.DELETE` (directory resolver): the accounts listed in
/// an operator's signed request (`nats.accounts` of a JWT that an operator
/// key issued about itself) are forgotten, their files deleted (renamed
/// `.deleted` unless `hard_delete` or the cache resolver), and their clients
/// cut. A full resolver needs `allow_delete`; never the system account.
pub(super) fn delete(server: &Server, payload: &[u8]) -> Outcome {
    let Some(settings) = crate::resolver::settings(server) else {
        return Outcome::Unknown;
    };
    let auth = server.authenticator();
    let Some(operator) = auth.operator() else {
        return Outcome::Unknown;
    };
    let text = String::from_utf8_lossy(payload);
    let system = server.system_account().map(|a| a.name.clone());
    let request = gannet_auth::jwt::decode_generic(text.trim());
    let by = request.as_ref().map_or("", |r| r.sub.as_str());
    let accounts = request
        .as_ref()
        .map_err(ToString::to_string)
        .and_then(|request| {
            // The cache resolver always may (as nats-server's, which deletes
            // its files outright); the full one with `allow_delete`.
            if settings.full && !settings.allow_delete {
                return Err("delete must be enabled in server config".to_string());
            }
            if request.sub != request.iss {
                return Err("not self signed".to_string());
            }
            if !operator.is_operator_signer(&request.iss) {
                return Err("not trusted".to_string());
            }
            accounts_to_delete(&request.nats, system.as_deref())
        });
    let accounts = match accounts {
        Ok(accounts) => accounts,
        Err(e) => {
            let description = format!("delete accounts request by {by} failed - {e}");
            tracing::error!("{description}");
            return error_reply(server, 500, &description);
        }
    };
    let mut errors = Vec::new();
    for key in &accounts {
        match crate::resolver::delete(server, key) {
            Ok(()) => {
                operator.remove(key);
                tracing::info!("Deleted account claims for {key}");
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    server.install_operator_links();
    server.recheck_clients();
    let deleted = accounts.len() - errors.len();
    if errors.is_empty() {
        data_reply(
            server,
            Updated {
                account: "",
                code: 200,
                message: &format!("deleted {deleted} accounts"),
            },
        )
    } else {
        let description = format!(
            "deleted {deleted} accounts, failed for {} - {}",
            errors.len(),
            errors.join("\n")
        );
        tracing::error!("{description}");
        error_reply(server, 500, &description)
    }
}

/// The account keys of a delete request's `nats.accounts`: every one a
/// public account key, none the system account's.
fn accounts_to_delete(
    nats: &serde_json::Value,
    system: Option<&str>,
) -> Result<Vec<String>, String> {
    let malformed = || "malformed request".to_string();
    let list = nats
        .get("accounts")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(malformed)?;
    let mut keys = Vec::with_capacity(list.len());
    for entry in list {
        let key = entry.as_str().ok_or_else(malformed)?;
        let valid = nkeys::KeyPair::from_public_key(key)
            .is_ok_and(|k| k.key_pair_type() == nkeys::KeyPairType::Account);
        if !valid {
            return Err(malformed());
        }
        if Some(key) == system {
            return Err("not allowed to delete system account".to_string());
        }
        keys.push(key.to_string());
    }
    Ok(keys)
}
