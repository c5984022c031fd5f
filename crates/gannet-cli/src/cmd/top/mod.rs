//! `top`: nats-top built in. A live, refreshing view of one server's load and
//! traffic and of its connections, read from VARZ and CONNZ over the system
//! account. This module owns the flags, the poller and the three ways to show
//! it: full screen with keys on a terminal, frame after frame when stdout is
//! not a terminal, and a one-off snapshot with `--output`.

mod engine;
mod render;
mod term;

use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use clap::builder::PossibleValuesParser;
use clap::Args;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};

use crate::connect::Connector;
use crate::duration::parse_duration;
use engine::{Engine, Query, Stats, SORT_OPTIONS};
use render::View;

#[derive(Debug, Args)]
pub struct TopArgs {
    /// The server name or ID to gather statistics for (default: the first server to answer)
    #[arg(value_name = "SERVER")]
    pub name: Option<String>,
    /// Maximum number of connections to show
    #[arg(short = 'n', long, default_value_t = 1024, value_name = "CONNS")]
    pub conns: usize,
    /// Refresh interval, in seconds or as a duration (500ms)
    #[arg(
        short = 'd',
        long = "interval",
        visible_alias = "delay",
        value_parser = parse_duration,
        default_value = "1",
        value_name = "INTERVAL"
    )]
    pub interval: Duration,
    /// Sort connections by
    #[arg(long, default_value = "cid", value_parser = PossibleValuesParser::new(SORT_OPTIONS))]
    pub sort: String,
    /// Saves the first snapshot to a file ("-" for standard output) and exits
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<String>,
    /// Output delimiter for --output, grid-like text without it
    #[arg(long, value_name = "DELIMITER")]
    pub delimiter: Option<String>,
    /// Show raw bytes
    #[arg(short = 'b', long)]
    pub raw: bool,
    /// Maximum refreshes, then exit
    #[arg(
        short = 'r',
        long = "max-refresh",
        visible_alias = "count",
        value_name = "N"
    )]
    pub max_refresh: Option<u64>,
    /// Shows the subscriptions column
    #[arg(long)]
    pub subs: bool,
    /// Start with per-second rates in the connection table (space toggles)
    #[arg(long)]
    pub rates: bool,
}

pub async fn run(args: TopArgs, connector: &Connector) -> anyhow::Result<()> {
    if args.conns == 0 {
        bail!("--conns must be at least 1");
    }
    if args.interval.is_zero() {
        bail!("--interval must be longer than zero");
    }
    if args.max_refresh == Some(0) {
        bail!("--max-refresh must be at least 1");
    }
    let session = connector.connect().await?;
    let mut engine = Engine::new(session.client.clone(), connector.timeout, args.name.clone());
    engine
        .resolve()
        .await
        .context("initial test request failed")?;
    let query = Query {
        conns: args.conns,
        sort: args.sort.clone(),
        subs: args.subs,
    };
    let view = View {
        raw: args.raw,
        rates: args.rates,
        subs: args.subs,
    };
    if let Some(output) = &args.output {
        let stats = engine.fetch(&query).await?;
        return snapshot(&stats, view, output, args.delimiter.as_deref());
    }
    let polls = spawn_poller(engine, args.interval, query.clone());
    if std::io::stdout().is_terminal() {
        interactive(polls, query, view, args.max_refresh).await
    } else {
        plain(polls, view, args.max_refresh).await
    }
}

/// natscli's `--output`: one poll, as text or delimited, to a file or stdout.
fn snapshot(
    stats: &Stats,
    view: View,
    output: &str,
    delimiter: Option<&str>,
) -> anyhow::Result<()> {
    let text = match delimiter.filter(|d| !d.is_empty()) {
        Some(delimiter) => render::delimited(stats, view, delimiter),
        None => render::frame(stats, view, None, "").join("\n") + "\n",
    };
    if output == "-" {
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return Ok(());
    }
    std::fs::write(output, text)
        .with_context(|| format!("failed to write the snapshot to {output}"))
}

/// The poller and the knobs the keys turn.
struct Polls {
    results: mpsc::Receiver<Result<Stats, String>>,
    query: watch::Sender<Query>,
}

/// Polls at once, then every `interval`, and at once again when the query
/// changes.
fn spawn_poller(mut engine: Engine, interval: Duration, query: Query) -> Polls {
    let (query_sender, mut query_receiver) = watch::channel(query);
    let (sender, results) = mpsc::channel(1);
    tokio::spawn(async move {
        loop {
            let current = query_receiver.borrow_and_update().clone();
            let result = engine
                .fetch(&current)
                .await
                .map_err(|err| format!("{err:#}"));
            if sender.send(result).await.is_err() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                changed = query_receiver.changed() => if changed.is_err() { break },
            }
        }
    });
    Polls {
        results,
        query: query_sender,
    }
}

/// Frames one after the other, for pipes and scripts; the first failed poll
/// is the command's error.
async fn plain(mut polls: Polls, view: View, max_refresh: Option<u64>) -> anyhow::Result<()> {
    let mut frames = 0u64;
    loop {
        let result = tokio::select! {
            result = polls.results.recv() => result,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(result) = result else {
            return Ok(());
        };
        let stats = result.map_err(|err| anyhow!(err))?;
        let mut text = String::new();
        if frames > 0 {
            text.push('\n');
        }
        text.push_str(&render::frame(&stats, view, None, "").join("\n"));
        text.push('\n');
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
            .is_err()
        {
            // The reader went away (`top | head`): nothing more to do.
            return Ok(());
        }
        frames += 1;
        if max_refresh.is_some_and(|max| frames >= max) {
            return Ok(());
        }
    }
}

/// A line being typed after `o` or `n`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Prompt {
    Sort(String),
    Limit(String),
}

#[derive(Debug, PartialEq, Eq)]
enum Action {
    Quit,
    Redraw,
    /// The query changed: poll again.
    Requery,
}

/// The interactive view's state.
struct Ui {
    view: View,
    query: Query,
    help: bool,
    prompt: Option<Prompt>,
    /// A short message (an invalid sort key) and when it stops showing.
    notice: Option<(String, Instant)>,
    last: Option<Stats>,
    error: Option<String>,
}

impl Ui {
    fn new(query: Query, view: View) -> Ui {
        Ui {
            view,
            query,
            help: false,
            prompt: None,
            notice: None,
            last: None,
            error: None,
        }
    }

    fn lines(&self) -> Vec<String> {
        if self.help {
            return render::help();
        }
        let prompt = match &self.prompt {
            Some(Prompt::Sort(typed)) => format!("sort by [{}]: {typed}", self.query.sort),
            Some(Prompt::Limit(typed)) => format!("limit   [{}]: {typed}", self.query.conns),
            None => match &self.notice {
                Some((text, until)) if Instant::now() < *until => text.clone(),
                _ => String::new(),
            },
        };
        match &self.last {
            Some(stats) => render::frame(stats, self.view, self.error.as_deref(), &prompt),
            None => vec![
                "Waiting for statistics from the server...".to_string(),
                self.error.clone().unwrap_or_default(),
            ],
        }
    }

    /// Applies what was typed.
    fn on_keys(&mut self, bytes: &[u8]) -> Action {
        let mut action = Action::Redraw;
        for &byte in bytes {
            if byte == 0x1b {
                // Escape, or the start of an arrow or function key: cancel
                // any prompt and ignore the rest of the sequence.
                self.prompt = None;
                self.help = false;
                break;
            }
            match self.on_key(byte) {
                Action::Quit => return Action::Quit,
                Action::Requery => action = Action::Requery,
                Action::Redraw => {}
            }
        }
        action
    }

    fn on_key(&mut self, key: u8) -> Action {
        if key == 0x03 {
            return Action::Quit;
        }
        if let Some(prompt) = self.prompt.take() {
            return self.on_prompt_key(prompt, key);
        }
        if self.help {
            self.help = false;
            return Action::Redraw;
        }
        match key {
            b'q' => return Action::Quit,
            b' ' => self.view.rates = !self.view.rates,
            b'b' => self.view.raw = !self.view.raw,
            b's' => {
                self.view.subs = !self.view.subs;
                self.query.subs = self.view.subs;
                return Action::Requery;
            }
            b'o' => self.prompt = Some(Prompt::Sort(String::new())),
            b'n' => self.prompt = Some(Prompt::Limit(String::new())),
            b'?' | b'h' => self.help = true,
            _ => {}
        }
        Action::Redraw
    }

    fn on_prompt_key(&mut self, prompt: Prompt, key: u8) -> Action {
        let (mut typed, is_sort) = match prompt {
            Prompt::Sort(typed) => (typed, true),
            Prompt::Limit(typed) => (typed, false),
        };
        match key {
            b'\r' | b'\n' => {
                let value = typed.trim().to_string();
                if value.is_empty() {
                    return Action::Redraw;
                }
                if is_sort {
                    if SORT_OPTIONS.contains(&value.as_str()) {
                        self.query.sort = value;
                        return Action::Requery;
                    }
                    self.notify(format!("invalid order: {value}"));
                } else {
                    match value.parse::<usize>() {
                        Ok(limit) if limit > 0 => {
                            self.query.conns = limit;
                            return Action::Requery;
                        }
                        _ => self.notify(format!("invalid limit: {value}")),
                    }
                }
                return Action::Redraw;
            }
            0x7f | 0x08 => {
                typed.pop();
            }
            byte if byte.is_ascii_graphic() => typed.push(byte as char),
            _ => {}
        }
        self.prompt = Some(if is_sort {
            Prompt::Sort(typed)
        } else {
            Prompt::Limit(typed)
        });
        Action::Redraw
    }

    fn notify(&mut self, text: String) {
        self.notice = Some((text, Instant::now() + Duration::from_secs(2)));
    }
}

/// The full-screen view: redraws on every poll, on keys and on resizes;
/// quits on `q`, Ctrl-C or a termination signal, restoring the terminal.
async fn interactive(
    mut polls: Polls,
    query: Query,
    view: View,
    max_refresh: Option<u64>,
) -> anyhow::Result<()> {
    let read_keys = std::io::stdin().is_terminal();
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch for SIGINT")?;
    let mut hangup = signal(SignalKind::hangup()).context("cannot watch for SIGHUP")?;
    let mut resize = signal(SignalKind::window_change()).context("cannot watch for SIGWINCH")?;
    // Without a terminal on stdin no key arrives; the sender kept here keeps
    // the channel open.
    let (_no_keys, mut keys) = mpsc::unbounded_channel::<Vec<u8>>();
    if read_keys {
        keys = term::keys();
    }
    let screen = term::Screen::enter(read_keys)?;
    let mut ui = Ui::new(query, view);
    let mut frames = 0u64;
    loop {
        tokio::select! {
            result = polls.results.recv() => {
                match result {
                    Some(Ok(stats)) => {
                        ui.last = Some(stats);
                        ui.error = None;
                    }
                    Some(Err(err)) => ui.error = Some(err),
                    None => break,
                }
                screen.draw(&ui.lines());
                frames += 1;
                if max_refresh.is_some_and(|max| frames >= max) {
                    break;
                }
            }
            Some(bytes) = keys.recv() => {
                match ui.on_keys(&bytes) {
                    Action::Quit => break,
                    Action::Requery => {
                        let _ = polls.query.send(ui.query.clone());
                    }
                    Action::Redraw => {}
                }
                screen.draw(&ui.lines());
            }
            _ = resize.recv() => screen.draw(&ui.lines()),
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
            _ = hangup.recv() => break,
        }
    }
    drop(screen);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ui() -> Ui {
        Ui::new(
            Query {
                conns: 1024,
                sort: "cid".into(),
                subs: false,
            },
            View::default(),
        )
    }

    #[test]
    fn q_and_ctrl_c_quit() {
        assert_eq!(ui().on_keys(b"q"), Action::Quit);
        assert_eq!(ui().on_keys(&[0x03]), Action::Quit);
    }

    #[test]
    fn o_sets_the_sort_key() {
        let mut ui = ui();
        assert_eq!(ui.on_keys(b"o"), Action::Redraw);
        assert_eq!(ui.on_keys(b"msgs_t"), Action::Redraw);
        assert_eq!(ui.prompt, Some(Prompt::Sort("msgs_t".into())));
        assert_eq!(ui.on_keys(b"o\r"), Action::Requery);
        assert_eq!(ui.query.sort, "msgs_to");
        assert_eq!(ui.on_keys(b"obogus\r"), Action::Redraw);
        assert_eq!(ui.query.sort, "msgs_to");
        assert!(ui.notice.is_some());
    }

    #[test]
    fn n_sets_the_limit_and_keys_toggle_the_view() {
        let mut ui = ui();
        assert_eq!(ui.on_keys(b"n12\x7f0\r"), Action::Requery);
        assert_eq!(ui.query.conns, 10);
        ui.on_keys(b" b");
        assert!(ui.view.rates && ui.view.raw);
        assert_eq!(ui.on_keys(b"s"), Action::Requery);
        assert!(ui.query.subs);
        ui.on_keys(b"?");
        assert!(ui.help);
        ui.on_keys(b"x");
        assert!(!ui.help);
    }
}
