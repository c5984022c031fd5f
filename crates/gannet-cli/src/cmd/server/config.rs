//! `server config reload <id>`: asks one server, through the system
//! account's `$SYS.REQ.SERVER.<id>.RELOAD`, to read its configuration file
//! again, then shows that server's information as `server info` does.
//! natscli asks for confirmation; gannet wants `--force` instead. A refused
//! reload fails with the server's reason.

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand};
use serde_json::Value;

use crate::cmd::stream::require_force;
use crate::connect::Connector;

use super::info::{self, is_server_id, InfoArgs};
use super::model::ApiResponse;
use super::sys::{self, Wait, NO_RESULTS};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Reloads the runtime configuration
    Reload(ReloadArgs),
}

#[derive(Debug, Args)]
pub struct ReloadArgs {
    /// The server ID to trigger a reload for
    id: String,
    /// Force reload without prompting
    #[arg(short, long)]
    force: bool,
}

pub async fn run(command: ConfigCommand, connector: &Connector) -> anyhow::Result<()> {
    match command {
        ConfigCommand::Reload(args) => reload(args, connector).await,
    }
}

async fn reload(args: ReloadArgs, connector: &Connector) -> anyhow::Result<()> {
    if !is_server_id(&args.id) {
        bail!("{:?} is not a server ID", args.id);
    }
    require_force(args.force, "reload the configuration")?;
    let mut session = connector.connect().await?;
    let subject = format!("$SYS.REQ.SERVER.{}.RELOAD", args.id);
    let replies = sys::gather_all(
        &mut session,
        &subject,
        Vec::new(),
        Wait::Count(1),
        connector.timeout,
    )
    .await
    .map_err(|_| anyhow!("{NO_RESULTS}"))?;
    let Some(reply) = replies.first() else {
        bail!("{NO_RESULTS} (server {} did not answer)", args.id);
    };
    let response: ApiResponse<Value> = sys::decode(&subject, &reply.payload)?;
    if let Some(error) = response.error {
        bail!("reload failed on {}: {error}", response.server.name);
    }
    drop(session);
    info::run(InfoArgs::for_server(args.id), connector).await
}
