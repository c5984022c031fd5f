//! `stream ls`: natscli's "Streams" table (name, description, created,
//! messages, size, last message; smallest first), or with `--names` just
//! the names. Key-Value and Object Store streams are left out unless `--all`.

use clap::Args;

use crate::connect::Connector;
use crate::format::{bytes, number};
use crate::jsm::model::StreamInfo;
use crate::jsm::view::{age, local_text};
use crate::jsm::Jsm;
use crate::table::Table;

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Limit the list to streams with matching subjects
    #[arg(long, value_name = "SUBJECT")]
    subject: Option<String>,
    /// Show just the stream names
    #[arg(short = 'n', long)]
    names: bool,
    /// Include system streams (Key-Value and Object Store buckets)
    #[arg(short = 'a', long)]
    all: bool,
}

/// Streams natscli counts as internal: KV and Object Store buckets, MQTT.
pub fn is_internal(name: &str) -> bool {
    name.starts_with("KV_") || name.starts_with("OBJ_") || name.starts_with("$MQTT_")
}

pub async fn run(args: LsArgs, connector: &Connector) -> anyhow::Result<()> {
    let session = connector.connect().await?;
    let jsm = Jsm::new(&session.client, connector.timeout);
    if args.names {
        let names = jsm
            .stream_names(args.subject.as_deref())
            .await
            .map_err(|err| err.context("could not list streams"))?;
        for name in names {
            println!("{name}");
        }
        return Ok(());
    }
    let wanted = match &args.subject {
        Some(subject) => Some(
            jsm.stream_names(Some(subject))
                .await
                .map_err(|err| err.context("could not list streams"))?,
        ),
        None => None,
    };
    let all = jsm
        .stream_list()
        .await
        .map_err(|err| err.context("could not list streams"))?;
    let mut skipped = false;
    let mut streams: Vec<StreamInfo> = Vec::new();
    for info in all {
        if wanted
            .as_ref()
            .is_some_and(|names| !names.contains(&info.config.name))
        {
            continue;
        }
        if !args.all && is_internal(&info.config.name) {
            skipped = true;
            continue;
        }
        streams.push(info);
    }
    if streams.is_empty() {
        if skipped {
            println!("No Streams defined, pass -a to include system streams");
        } else {
            println!("No Streams defined");
        }
        return Ok(());
    }
    println!("{}", render(&mut streams, args.subject.as_deref()));
    Ok(())
}

/// The table, smallest stream first.
pub fn render(streams: &mut [StreamInfo], subject: Option<&str>) -> String {
    streams.sort_by_key(|info| info.state.bytes);
    let title = match subject {
        Some(subject) => format!("Streams matching {subject}"),
        None => "Streams".to_string(),
    };
    let mut table = Table::new(title);
    table.headers([
        "Name",
        "Description",
        "Created",
        "Messages",
        "Size",
        "Last Message",
    ]);
    for info in streams.iter() {
        table.row([
            info.config.name.clone(),
            info.config.description.clone(),
            local_text(&info.created),
            number(info.state.messages),
            bytes(info.state.bytes),
            age(&info.ts, &info.state.last_ts),
        ]);
    }
    table.render()
}
