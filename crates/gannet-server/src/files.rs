//! Files the server leaves for tools: the pid file and the ports file
//! (nats-server's `logPid` and `logPorts`).
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Writes the process id, in decimal with no newline, as the reference does.
pub fn write_pid_file(path: &Path) -> io::Result<()> {
    std::fs::write(path, std::process::id().to_string())
}

/// The URLs the ports file lists.
#[derive(Debug, Default, Serialize)]
pub struct Ports {
    pub nats: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub monitoring: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cluster: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leafnode: Vec<String>,
}

/// Writes `<exe name>_<pid>.ports` in `dir`; returns its path so that it can be
/// removed on a clean shutdown.
pub fn write_ports_file(dir: &Path, ports: &Ports) -> io::Result<PathBuf> {
    let exe = std::env::args()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "gannet-server".to_string());
    let path = dir.join(format!("{exe}_{}.ports", std::process::id()));
    let json = serde_json::to_vec(ports).map_err(io::Error::other)?;
    std::fs::write(&path, json)?;
    Ok(path)
}
