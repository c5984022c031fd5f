//! Signals: sending one to a running server (`--signal`) and handling the ones
//! this server receives (nats-server's `signal.go`).
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The signal a `--signal` command name stands for.
fn signal_for(command: &str) -> anyhow::Result<Signal> {
    Ok(match command {
        "stop" => Signal::SIGKILL,
        "quit" => Signal::SIGINT,
        "term" => Signal::SIGTERM,
        "reopen" => Signal::SIGUSR1,
        "reload" => Signal::SIGHUP,
        "ldm" => Signal::SIGUSR2,
        other => bail!("unknown signal \"{other}\""),
    })
}

/// Resolves `<pid or pid file>`; with none, the one running gannet-server.
fn target_pid(target: Option<&str>) -> anyhow::Result<i32> {
    match target {
        Some(t) => {
            if let Ok(pid) = t.trim().parse::<i32>() {
                return Ok(pid);
            }
            let text = std::fs::read_to_string(Path::new(t))
                .with_context(|| format!("could not read pid file {t}"))?;
            text.trim()
                .parse::<i32>()
                .map_err(|_| anyhow!("pid file {t} does not hold a process id"))
        }
        None => {
            let me = std::process::id() as i32;
            let exe = std::env::current_exe()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "gannet-server".to_string());
            let mut pids = Vec::new();
            for entry in std::fs::read_dir("/proc").context("could not list processes")? {
                let Ok(entry) = entry else { continue };
                let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                    continue;
                };
                let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                // comm is cut at 15 bytes.
                let short: String = exe.chars().take(15).collect();
                if pid != me && comm.trim() == short {
                    pids.push(pid);
                }
            }
            match pids.as_slice() {
                [] => bail!("no {exe} process running"),
                [pid] => Ok(*pid),
                many => bail!(
                    "multiple {exe} processes running:\n{}",
                    many.iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            }
        }
    }
}

/// Carries out `--signal COMMAND[=PID or PID FILE]`.
pub fn send(spec: &str) -> anyhow::Result<()> {
    let (command, target) = match spec.split_once('=') {
        Some((c, t)) => (c, Some(t)),
        None => (spec, None),
    };
    let signal = signal_for(command)?;
    let pid = target_pid(target)?;
    kill(Pid::from_raw(pid), signal).with_context(|| format!("could not signal {pid}"))?;
    Ok(())
}

/// What a received signal asks the server to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Shutdown(&'static str),
    Reload,
    LameDuck,
    ReopenLog,
}

/// Waits for the next signal that matters.
pub async fn next() -> std::io::Result<Request> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut usr1 = signal(SignalKind::user_defined1())?;
    let mut usr2 = signal(SignalKind::user_defined2())?;
    Ok(tokio::select! {
        _ = int.recv() => Request::Shutdown("interrupt"),
        _ = term.recv() => Request::Shutdown("terminated"),
        _ = hup.recv() => Request::Reload,
        _ = usr1.recv() => Request::ReopenLog,
        _ = usr2.recv() => Request::LameDuck,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_map_to_the_reference_signals() {
        assert_eq!(signal_for("reload").unwrap(), Signal::SIGHUP);
        assert_eq!(signal_for("quit").unwrap(), Signal::SIGINT);
        assert_eq!(signal_for("stop").unwrap(), Signal::SIGKILL);
        assert_eq!(signal_for("ldm").unwrap(), Signal::SIGUSR2);
        assert!(signal_for("bogus").is_err());
    }

    #[test]
    fn target_is_a_pid_or_a_pid_file() {
        assert_eq!(target_pid(Some("1234")).unwrap(), 1234);
        let dir = std::env::temp_dir().join(format!("gannet-sig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x.pid");
        std::fs::write(&f, "4321").unwrap();
        assert_eq!(target_pid(Some(f.to_str().unwrap())).unwrap(), 4321);
        std::fs::write(&f, "nope").unwrap();
        assert!(target_pid(Some(f.to_str().unwrap())).is_err());
    }
}
