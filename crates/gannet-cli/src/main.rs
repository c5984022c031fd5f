//! `gannet`: the operator's command-line tool for NATS, with natscli's command
//! names, flags and output. It talks to the server through `async-nats` only,
//! so it works against Gannet and any other NATS server alike.
//!
//! This file parses the command line, picks the command and turns any failure
//! into one `gannet: error: ...` line on stderr and exit code 1.

mod cmd;
mod connect;
mod context;
mod duration;
mod flags;
mod format;
mod jsm;
mod session;
mod table;

use std::process::ExitCode;

use clap::Parser;

use crate::connect::Connector;
use crate::flags::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("gannet: error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line.
            let line = format!("{err:#}").replace('\n', " ");
            eprintln!("gannet: error: {line}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let connection = &cli.connection;
    let connector = || Connector::from_flags(connection);
    match cli.command {
        Command::Completion(args) => cmd::completion::run(&args),
        Command::Context(command) => context::run(command, connection).await,
        Command::Sub(args) => cmd::sub::run(args, &connector()?).await,
        Command::Pub(args) => cmd::publish::run(args, &connector()?).await,
        Command::Request(args) => cmd::request::run(args, &connector()?).await,
        Command::Reply(args) => cmd::reply::run(args, &connector()?).await,
        Command::Server(command) => cmd::server::run(command, &connector()?).await,
        Command::Events(args) => cmd::events::run(args, &connector()?).await,
        Command::Bench(command) => cmd::bench::run(command, &connector()?).await,
        Command::Stream(command) => cmd::stream::run(command, &connector()?).await,
        Command::Consumer(command) => cmd::consumer::run(command, &connector()?).await,
        Command::Kv(command) => cmd::kv::run(command, &connector()?).await,
        Command::Object(command) => cmd::object::run(command, &connector()?).await,
        Command::Top(args) => cmd::top::run(args, &connector()?).await,
        Command::Trace(args) => cmd::trace::run(args, &connector()?).await,
    }
}
