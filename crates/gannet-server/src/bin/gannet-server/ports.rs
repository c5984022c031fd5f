//! The ports file (`ports_file_dir`, nats-server's `logPorts`): the URLs the
//! server listens on, written once it listens, moved to the new directory
//! when a reload changes `ports_file_dir`, removed on a clean exit.
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use gannet_server::files::{self, Ports};
use gannet_server::server::{host_port, RunningServer};

pub struct PortsFile {
    ports: Ports,
    /// Where it is written now, if anywhere.
    path: Mutex<Option<PathBuf>>,
}

impl PortsFile {
    /// The URLs of `running`, whose client listener is on `host`.
    pub fn of(running: &RunningServer, host: &str) -> PortsFile {
        let url_host = if host == "0.0.0.0" || host == "::" {
            "127.0.0.1".to_string()
        } else {
            host.to_string()
        };
        let ports = Ports {
            nats: vec![format!(
                "nats://{}",
                host_port(&url_host, running.client_addr.port())
            )],
            monitoring: running
                .http_addr
                .map(|a| vec![format!("http://{}", host_port(&url_host, a.port()))])
                .unwrap_or_default(),
            cluster: running
                .server
                .cluster()
                .map(|c| {
                    let host = match c.listen.ip() {
                        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
                        ip => ip.to_string(),
                    };
                    vec![format!("nats://{}", host_port(&host, c.listen.port()))]
                })
                .unwrap_or_default(),
            leafnode: match running.server.leaf_port() {
                0 => Vec::new(),
                port => vec![format!("nats://{}", host_port(&url_host, port))],
            },
        };
        PortsFile {
            ports,
            path: Mutex::new(None),
        }
    }

    /// Writes the file in `dir` (none: nowhere), removing the one written
    /// before.
    pub fn write_in(&self, dir: Option<&Path>) -> std::io::Result<()> {
        let mut path = self.path.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = path.take() {
            let _ = std::fs::remove_file(old);
        }
        if let Some(dir) = dir {
            *path = Some(files::write_ports_file(dir, &self.ports)?);
        }
        Ok(())
    }

    /// Removes the file (on a clean exit).
    pub fn remove(&self) {
        let _ = self.write_in(None);
    }
}
