//! `server request claims ...`: the account resolver's requests in the
//! system account of an operator-mode cluster — the accounts the servers
//! know (`$SYS.REQ.CLAIMS.LIST`), one account's JWT
//! (`$SYS.REQ.ACCOUNT.<key>.CLAIMS.LOOKUP`), pushing an account JWT
//! (`$SYS.REQ.CLAIMS.UPDATE`) and deleting accounts with a request an
//! operator signed (`$SYS.REQ.CLAIMS.DELETE`). Every server with a directory
//! resolver answers; each answer is printed on its own line (JSON, or the JWT
//! for a lookup).
use anyhow::{bail, Context};
use clap::Subcommand;

use super::sys::{self, Wait, NO_RESULTS};
use crate::connect::Connector;

#[derive(Debug, Subcommand)]
pub enum ClaimsAction {
    /// List the accounts each server knows
    #[command(alias = "ls")]
    List,
    /// Show an account's JWT
    Lookup {
        /// The account's public key
        account: String,
    },
    /// Push an account JWT to every server
    #[command(alias = "push")]
    Update {
        /// The account JWT, or @FILE to read it from a file
        jwt: String,
    },
    /// Delete accounts with a JWT an operator key signed about itself, listing them in nats.accounts
    #[command(alias = "rm")]
    Delete {
        /// The signed request, or @FILE to read it from a file
        jwt: String,
    },
}

/// The text of a JWT argument: as given, or read from `@FILE`.
fn jwt_text(arg: &str) -> anyhow::Result<String> {
    match arg.strip_prefix('@') {
        Some(path) => Ok(std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {path}"))?
            .trim()
            .to_string()),
        None => Ok(arg.trim().to_string()),
    }
}

pub async fn run(action: ClaimsAction, connector: &Connector) -> anyhow::Result<()> {
    let (subject, body) = match &action {
        ClaimsAction::List => ("$SYS.REQ.CLAIMS.LIST".to_string(), Vec::new()),
        ClaimsAction::Lookup { account } => (
            format!("$SYS.REQ.ACCOUNT.{account}.CLAIMS.LOOKUP"),
            Vec::new(),
        ),
        ClaimsAction::Update { jwt } => (
            "$SYS.REQ.CLAIMS.UPDATE".to_string(),
            jwt_text(jwt)?.into_bytes(),
        ),
        ClaimsAction::Delete { jwt } => (
            "$SYS.REQ.CLAIMS.DELETE".to_string(),
            jwt_text(jwt)?.into_bytes(),
        ),
    };
    let mut session = connector.connect().await?;
    let replies =
        sys::gather_all(&mut session, &subject, body, Wait::Quiet, connector.timeout).await?;
    if replies.is_empty() {
        bail!("{NO_RESULTS}");
    }
    let mut found = false;
    for reply in replies {
        let text = String::from_utf8_lossy(&reply.payload);
        // A server that does not know the account answers a lookup with
        // nothing.
        if text.trim().is_empty() {
            continue;
        }
        found = true;
        println!("{}", text.trim());
    }
    if !found {
        bail!("no server knows the account");
    }
    Ok(())
}
