//! Account claim updates in operator mode (nats-server's
//! `updateAccountClaims` reached through `$SYS.REQ.ACCOUNT.<key>.CLAIMS.UPDATE`
//! and the `$SYS.ACCOUNT.<key>.CLAIMS.UPDATE` event): a new account JWT,
//! signed by a trusted operator, replaces the account's at once; every
//! client is then checked again, so that revoked users are cut and changed
//! permissions apply, and new connections see the new limits.
use serde::Serialize;

use super::{data_reply, error_reply, Outcome};
use crate::server::Server;

/// The answer to a successful update.
#[derive(Serialize)]
struct Updated<'a> {
    account: &'a str,
    code: u16,
    message: &'static str,
}

/// Puts `jwt` (the payload) in force for account `key`.
pub(super) fn update(server: &Server, key: &str, jwt: &[u8]) -> Outcome {
    let auth = server.authenticator();
    let Some(operator) = auth.operator() else {
        return Outcome::Unknown;
    };
    let text = String::from_utf8_lossy(jwt);
    match operator.install(text.trim(), Some(key), gannet_auth::operator::unix_now()) {
        Ok(_) => {
            tracing::info!("Updated account claims for {key}");
            crate::resolver::store(server, key, text.trim());
            server.install_operator_links();
            server.recheck_clients();
            data_reply(
                server,
                Updated {
                    account: key,
                    code: 200,
                    message: "jwt updated",
                },
            )
        }
        Err(e) => {
            tracing::error!("Account claims update for {key} refused: {e}");
            error_reply(
                server,
                500,
                "jwt update resulted in error - account validation failed",
            )
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
