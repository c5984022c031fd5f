//! Reload: a newly loaded configuration put in force without a restart
//! (nats-server's `reload.go`). Settings that cannot change while running are
//! reported back; connected clients are checked again against the new
//! authorization by their own tasks, told through a `watch` counter.
use std::sync::Arc;

use gannet_auth::Authenticator;
use gannet_config::Options;
use tokio::sync::watch;

use super::Server;
use crate::accounts::DEFAULT_SYSTEM_ACCOUNT;

impl Server {
    /// Changes after every reload.
    pub(crate) fn reload_signal(&self) -> watch::Receiver<u64> {
        self.reloads.subscribe()
    }

    /// Has every client checked again against the authorization in force
    /// (after a claim update changed an account).
    pub(crate) fn recheck_clients(&self) {
        self.reloads.send_modify(|n| *n += 1);
    }

    /// Puts a newly loaded configuration in force: accounts with their imports
    /// and exports, authorization (users, permissions, certificate clients) and
    /// TLS files. Connected clients are checked again against it; nothing
    /// changes when it is refused. Returns the settings that changed but need a
    /// restart to take effect.
    pub fn reload(&self, new: Options) -> Result<Vec<String>, String> {
        let auth = Authenticator::new(&new).map_err(|e| e.join("; "))?;
        let mut new = new;
        if let Some(operator) = auth.operator() {
            // Accounts pushed since (claim updates) stay, unless the new
            // configuration preloads a newer JWT.
            if let Some(old) = self.authenticator().operator() {
                operator.adopt(old);
            }
            if new.system_account.is_none() {
                new.system_account
                    .clone_from(&operator.operator_system_account);
            }
        }
        let tls = match &new.tls {
            Some(t) => Some(crate::tls::server_config(t).map_err(|e| e.to_string())?),
            None => None,
        };
        let old = self.options();
        if old.tls.is_some() != new.tls.is_some() {
            return Err("turning TLS on or off needs a restart".to_string());
        }
        let mut restart_needed = Vec::new();
        if old.host != new.host || old.port != new.port {
            restart_needed.push("listen address".to_string());
        }
        if old.http_port != new.http_port || old.http_host != new.http_host {
            restart_needed.push("monitoring listener".to_string());
        }
        let old_system = old
            .system_account
            .as_deref()
            .unwrap_or(DEFAULT_SYSTEM_ACCOUNT);
        let new_system = new
            .system_account
            .as_deref()
            .unwrap_or(DEFAULT_SYSTEM_ACCOUNT);
        if old_system != new_system || old.no_system_account != new.no_system_account {
            restart_needed.push("system account".to_string());
        }
        if old.log_format != new.log_format {
            restart_needed.push("log format".to_string());
        }
        if old.gateway != new.gateway {
            // Gateways, their listener, credentials and TLS are set up at
            // start: the running ones keep the settings they were made with.
            restart_needed.push("gateway".to_string());
            new.gateway.clone_from(&old.gateway);
        }
        if old.cluster != new.cluster {
            // Routes, their listener, credentials and permissions are set up
            // at start: the running ones stay as they are, with the
            // settings they were made with.
            restart_needed.push("cluster".to_string());
            new.cluster.clone_from(&old.cluster);
        }
        crate::idle_spin::set_limit(new.idle_spin);
        self.install_accounts(Some(&old), &new);
        *self.tls.write().unwrap_or_else(|e| e.into_inner()) = tls;
        *self.auth.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(auth);
        *self.opts.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new);
        self.install_operator_links();
        self.reloads.send_modify(|n| *n += 1);
        Ok(restart_needed)
    }
}
