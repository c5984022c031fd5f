//! `completion bash|zsh|fish`: the shell completion script for `gannet`,
//! made from the same clap definitions the command line is parsed with, so
//! it offers every command, flag and fixed value there is.
//!
//! ```sh
//! source <(gannet completion bash)          # ~/.bashrc
//! gannet completion zsh > "${fpath[1]}/_gannet"
//! gannet completion fish > ~/.config/fish/completions/gannet.fish
//! ```
use std::io::Write;

use anyhow::Context;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::flags::Cli;

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &CompletionArgs) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "gannet", &mut script);
    match std::io::stdout().write_all(&script) {
        // Read by `head` or the like, which stopped early: nothing to report.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing the completion script"),
    }
}
