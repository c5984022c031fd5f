//! `consumer ls STREAM`: natscli's "Consumers" table (name, description,
//! created, ack pending, unprocessed, last delivery), or with `--names` just
//! the names.

use clap::Args;

use crate::connect::Connector;
use crate::jsm::model::ConsumerInfo;
use crate::jsm::view::{age, local_text};
use crate::jsm::Jsm;
use crate::table::Table;

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Stream name
    #[arg(value_name = "STREAM")]
    stream: String,
    /// Show just the consumer names
    #[arg(short = 'n', long)]
    names: bool,
}

pub async fn run(args: LsArgs, connector: &Connector) -> anyhow::Result<()> {
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    jsm.stream_info(&args.stream)
        .await
        .map_err(|err| err.context("could not load Consumers"))?;
    if args.names {
        let names = jsm
            .consumer_names(&args.stream)
            .await
            .map_err(|err| err.context("could not load Consumers"))?;
        for name in names {
            println!("{name}");
        }
        return Ok(());
    }
    let mut consumers = jsm
        .consumer_list(&args.stream)
        .await
        .map_err(|err| err.context("could not load Consumers"))?;
    if consumers.is_empty() {
        println!("No Consumers defined");
        return Ok(());
    }
    println!("{}", render(&mut consumers));
    Ok(())
}

/// The table, by name.
pub fn render(consumers: &mut [ConsumerInfo]) -> String {
    consumers.sort_by(|a, b| a.name.cmp(&b.name));
    let mut table = Table::new("Consumers");
    table.headers([
        "Name",
        "Description",
        "Created",
        "Ack Pending",
        "Unprocessed",
        "Last Delivery",
    ]);
    for info in consumers.iter() {
        let last = info.delivered.last_active.as_deref().unwrap_or_default();
        table.row([
            info.name.clone(),
            info.config.description.clone(),
            local_text(&info.created),
            info.num_ack_pending.to_string(),
            info.num_pending.to_string(),
            age(&info.ts, last),
        ]);
    }
    table.render()
}
