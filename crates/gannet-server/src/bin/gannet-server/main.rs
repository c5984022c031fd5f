//! The `gannet-server` binary: reads flags and the config file, sets up logging,
//! starts the server and maps signals to shutdown. No server logic lives here.
mod flags;
mod logging;
mod ports;
mod signals;

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use clap::Parser;
use gannet_config::Options;
use gannet_server::files;
use gannet_server::{info::COMPAT_VERSION, Server};
use sha2::{Digest, Sha256};

use flags::Flags;
use logging::{LogSettings, Logger};
use ports::PortsFile;

const NAME: &str = "gannet-server";

fn main() -> ExitCode {
    let args = flags::normalize_args(std::env::args());
    let flags = match Flags::try_parse_from(args) {
        Ok(f) => f,
        Err(e) => e.exit(),
    };
    if flags.version {
        println!("{NAME}: v{}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if flags.help_tls {
        println!("TLS is not supported yet; see the README's security section once it lands.");
        return ExitCode::SUCCESS;
    }
    if let Some(spec) = &flags.signal {
        return match signals::send(spec) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{NAME}: {e:#}");
                ExitCode::FAILURE
            }
        };
    }

    let (mut opts, mut warnings, digest) = match &flags.config {
        Some(path) => match load_config(path) {
            Ok((options, warnings)) => (options, warnings, config_digest(path)),
            Err(errors) => {
                for e in &errors {
                    eprintln!("{NAME}: {e}");
                }
                return ExitCode::FAILURE;
            }
        },
        None => (Options::default(), Vec::new(), None),
    };
    warnings.extend(flags.apply(&mut opts));
    warnings.extend(not_yet_honoured(&opts));

    if flags.test_config {
        for w in &warnings {
            eprintln!("{NAME}: {w}");
        }
        if !warnings.is_empty() {
            return ExitCode::FAILURE;
        }
        match (&flags.config, &digest) {
            (Some(path), Some(d)) => println!(
                "{NAME}: configuration file {} is valid (sha256:{d})",
                path.display()
            ),
            _ => println!("{NAME}: no configuration file given; the defaults are valid"),
        }
        return ExitCode::SUCCESS;
    }

    let log_settings = LogSettings::of(&opts);
    let style = log_settings.style;
    let logger = match logging::init(&log_settings) {
        Ok(logger) => logger,
        Err(e) => {
            logging::fatal(style, &format!("Error opening log file: {e}"));
            return ExitCode::FAILURE;
        }
    };
    for w in &warnings {
        tracing::warn!("{w}");
    }

    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if !gannet_server::idle_spin::install(&mut builder, opts.idle_spin) {
        tracing::warn!("idle_spin is off: the spin epoll could not be created");
    }
    let runtime = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            logging::fatal(style, &format!("Error starting the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(opts, flags, logger, digest)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            logging::fatal(style, &format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

/// Settings the config format accepts but the server does not act on yet: each
/// one set gets a warning rather than being ignored silently.
fn not_yet_honoured(opts: &Options) -> Vec<String> {
    let defaults = Options::default();
    let mut out = Vec::new();
    let mut check = |set: bool, key: &str| {
        if set {
            out.push(format!("{key} is not supported yet; ignored"));
        }
    };
    check(opts.syslog, "syslog");
    check(opts.remote_syslog.is_some(), "remote_syslog");
    check(opts.log_size_limit != 0, "logfile_size_limit");
    check(opts.log_max_files != 0, "logfile_max_num");
    check(opts.max_traced_msg_len != 0, "max_traced_msg_len");
    check(opts.trace_headers, "trace_headers");
    check(opts.max_subscription_tokens != 0, "max_sub_tokens");
    check(
        opts.write_timeout != defaults.write_timeout,
        "write_timeout",
    );
    check(
        opts.http_base_path != defaults.http_base_path,
        "http_base_path",
    );
    check(opts.https_port.is_some(), "https_port");
    if let Some(leaf) = &opts.leafnodes {
        for remote in &leaf.remotes {
            check(
                remote.urls.iter().any(|u| u.starts_with("ws")),
                "leafnodes remote ws:// URLs",
            );
        }
    }
    out
}

/// Reads the config file: the options and the warnings, or every error.
fn load_config(path: &Path) -> Result<(Options, Vec<String>), Vec<String>> {
    match gannet_config::load_file(path) {
        Ok(loaded) => Ok((
            loaded.options,
            loaded.warnings.iter().map(|w| w.to_string()).collect(),
        )),
        Err(errors) => Err(errors.0.iter().map(|e| e.to_string()).collect()),
    }
}

/// The hex SHA-256 of the config file, as shown by `-t` and `/varz`.
fn config_digest(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// The options a reload puts in force: the config file read again, the flags
/// applied over it as at start-up.
fn reload_options(flags: &Flags) -> Result<Options, String> {
    let Some(path) = &flags.config else {
        return Err("no configuration file to reload".to_string());
    };
    let (mut opts, warnings) = load_config(path).map_err(|errors| errors.join("; "))?;
    for w in &warnings {
        tracing::warn!("{w}");
    }
    flags.apply(&mut opts);
    Ok(opts)
}

/// A reload, as a signal or the system account asks for it: the server's
/// settings, then the logger's. Logs the outcome.
fn reload(
    server: &Arc<Server>,
    flags: &Flags,
    logger: &Logger,
    ports: Option<&PortsFile>,
) -> Result<(), String> {
    let old_ports_dir = server.options().ports_file_dir.clone();
    let outcome = reload_options(flags).and_then(|new| {
        let old_log = LogSettings::of(&server.options());
        let new_log = LogSettings::of(&new);
        // The log file is opened first, so that a reload that cannot open
        // it changes nothing.
        logger
            .check(&new_log)
            .map_err(|e| format!("Error opening log file: {e}"))?;
        server.reload(new)?;
        logger
            .apply(&old_log, &new_log)
            .map_err(|e| format!("Error opening log file: {e}"))
    });
    match outcome {
        Ok(()) => {
            let new_ports_dir = server.options().ports_file_dir.clone();
            if let (Some(ports), true) = (ports, new_ports_dir != old_ports_dir) {
                match ports.write_in(new_ports_dir.as_deref()) {
                    Ok(()) => tracing::info!(
                        "Reloaded: ports_file_dir = {}",
                        new_ports_dir
                            .as_deref()
                            .map(|d| d.display().to_string())
                            .unwrap_or_default()
                    ),
                    Err(e) => tracing::error!("Error writing ports file: {e}"),
                }
            }
            tracing::info!("Reloaded server configuration");
            Ok(())
        }
        Err(e) => {
            tracing::error!("Failed to reload server configuration: {e}");
            Err(e)
        }
    }
}

async fn run(
    opts: Options,
    flags: Flags,
    logger: Logger,
    digest: Option<String>,
) -> anyhow::Result<()> {
    let flags = Arc::new(flags);
    let config = flags.config.as_deref();
    tracing::info!("Starting {NAME}");
    tracing::info!(
        "  Version:  {} (NATS protocol of nats-server {COMPAT_VERSION})",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(path) = config {
        tracing::info!(
            "Using configuration file: {} (sha256:{})",
            path.display(),
            digest.unwrap_or_default()
        );
    }
    let pid_file = opts.pid_file.clone();
    let ports_dir = opts.ports_file_dir.clone();
    let host = opts.host.clone();
    let running = Server::start(opts).await?;
    let weak = Arc::downgrade(&running.server);
    let reload_flags = flags.clone();
    // Written once the server listens; a reload may move it.
    let ports: Arc<OnceLock<PortsFile>> = Arc::new(OnceLock::new());
    let reload_ports = ports.clone();
    running
        .server
        .set_reloader(Box::new(move || match weak.upgrade() {
            Some(server) => reload(&server, &reload_flags, &logger, reload_ports.get()),
            None => Err("the server has stopped".to_string()),
        }));
    tracing::info!("  Name:     {}", running.server.name());
    tracing::info!("  ID:       {}", running.server.id());

    if let Some(pid_file) = &pid_file {
        files::write_pid_file(pid_file)
            .map_err(|e| anyhow::anyhow!("Could not write pidfile: {e}"))?;
    }
    let ports = ports.get_or_init(|| PortsFile::of(&running, &host));
    ports
        .write_in(ports_dir.as_deref())
        .map_err(|e| anyhow::anyhow!("Error writing ports file: {e}"))?;
    tracing::info!("Server is ready");

    loop {
        match signals::next().await? {
            signals::Request::Shutdown(name) => {
                tracing::info!("Trapped \"{name}\" signal");
                break;
            }
            signals::Request::LameDuck => {
                // A second stop signal during lame duck mode ends it at once.
                tokio::select! {
                    _ = running.lame_duck() => {}
                    _ = signals::next() => running.shutdown().await,
                }
                break;
            }
            signals::Request::Reload => {
                let _ = running.server.reload_from_source();
            }
            signals::Request::ReopenLog => {
                tracing::info!("Reopening the log file is not needed: it is opened in append mode");
            }
        }
    }
    running.shutdown().await;
    ports.remove();
    Ok(())
}
