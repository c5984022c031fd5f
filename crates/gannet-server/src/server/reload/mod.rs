//! Reload: a newly loaded configuration put in force without a restart
//! (nats-server's `reload.go`). `classify` decides, key by key, what may
//! change; this module carries it out. Connections check the new
//! configuration in their own tasks, told through a `watch` counter.
use std::sync::Arc;

use gannet_auth::Authenticator;
use gannet_config::Options;
use tokio::sync::watch;

use super::{Reloader, Server};
use classify::JetStreamChange;

mod classify;

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

    /// Installs what [`reload_from_source`](Self::reload_from_source) runs.
    pub fn set_reloader(&self, reloader: Reloader) {
        let _ = self.reloader.set(reloader);
    }

    /// Reads the configuration again and puts it in force (SIGHUP, and the
    /// system account's `$SYS.REQ.SERVER.<id>.RELOAD`).
    pub fn reload_from_source(&self) -> Result<(), String> {
        match self.reloader.get() {
            Some(reload) => reload(),
            None => Err("no configuration file to reload".to_string()),
        }
    }

    /// Puts a newly loaded configuration in force, or refuses it whole (the
    /// configuration in force then stays as it was) when it changes a
    /// setting that cannot change while the server runs: see [`classify`].
    /// Connected clients are checked again against the new authorization
    /// and take the new limits; configured routes and leaf node remotes that
    /// were added are dialed, and those removed are closed; JetStream may be
    /// turned on or off, or its limits raised; the cluster's pooling, pinned
    /// accounts and permissions change on the routes in place.
    pub fn reload(self: &Arc<Self>, new: Options) -> Result<(), String> {
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
        let leaf_tls = match new.leafnodes.as_ref().and_then(|l| l.tls.as_ref()) {
            Some(t) => Some(crate::tls::server_config(t).map_err(|e| e.to_string())?),
            None => None,
        };
        let old = self.options();
        let plan = classify::check(&old, &new)?;
        let gateway_tls = match new.gateway.as_ref().filter(|_| plan.gateway_tls) {
            Some(g) => {
                let tls = crate::tls::LinkTls::of(g.tls.as_ref()).map_err(|e| e.to_string())?;
                let remotes = crate::gateway::remote_tls(&tls, g).map_err(|e| e.to_string())?;
                Some((tls, remotes))
            }
            None => None,
        };
        let cluster_settings = match (self.cluster(), &new.cluster) {
            (Some(cluster), Some(block)) => {
                let system = super::start::routed_system_account(&new);
                Some(cluster.settings_for(block, system.as_deref())?)
            }
            _ => None,
        };
        let route_tls = match new.cluster.as_ref().and_then(|c| c.tls.as_ref()) {
            Some(t) if plan.cluster_tls => {
                Some(crate::tls::LinkTls::of(Some(t)).map_err(|e| e.to_string())?)
            }
            _ => None,
        };
        match plan.jetstream {
            JetStreamChange::Start => {
                if let Some(js) = new.jetstream.as_ref() {
                    let js = crate::jetstream::start(self, js)?;
                    self.set_jetstream(Some(js));
                }
            }
            JetStreamChange::Stop => {
                if let Some(js) = self.set_jetstream(None) {
                    js.disable(self);
                }
            }
            _ => {}
        }
        crate::idle_spin::set_limit(new.idle_spin);
        self.install_accounts(Some(&old), &new);
        if old.tls != new.tls {
            let state = if tls.is_some() { "enabled" } else { "disabled" };
            tracing::info!("Reloaded: tls = {state}");
        }
        *self.tls.write().unwrap_or_else(|e| e.into_inner()) = tls;
        // Leafs connecting from now on meet the new listener TLS.
        self.leafs().set_tls_server(leaf_tls);
        if let (true, Some(cluster)) = (plan.cluster_tls, self.cluster()) {
            cluster.set_tls(route_tls.unwrap_or_default());
        }
        if let (Some((tls, remotes)), Some(gateways)) = (gateway_tls, self.gateways()) {
            gateways.set_tls(tls, remotes);
            tracing::info!("Reloaded: gateway TLS");
        }
        *self.auth.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(auth);
        let new = Arc::new(new);
        *self.opts.write().unwrap_or_else(|e| e.into_inner()) = new.clone();
        self.install_operator_links();
        if let (Some(path), true) = (&new.pid_file, new.pid_file != old.pid_file) {
            if let Err(e) = crate::files::write_pid_file(path) {
                tracing::error!("Could not write pidfile: {e}");
            }
        }
        if let (
            JetStreamChange::Raise {
                max_memory,
                max_store,
            },
            Some(js),
        ) = (&plan.jetstream, self.jetstream())
        {
            js.raise_limits(*max_memory, *max_store);
        }
        if let (Some(cluster), Some(old_block), Some(new_block), Some(settings)) =
            (self.cluster(), &old.cluster, &new.cluster, cluster_settings)
        {
            if cluster.reconfigure(self, old_block, new_block, settings) {
                tracing::info!("Reloaded: cluster (routes made again under the new settings)");
            }
        }
        if let (true, Some(js), Some(options)) = (
            plan.jetstream_limits,
            self.jetstream(),
            new.jetstream.as_ref(),
        ) {
            js.set_server_limits(crate::jetstream::ServerLimits::of(&options.limits));
        }
        for url in plan.routes_added {
            crate::route::dial_added(self, url);
        }
        for remote in plan.remotes_added {
            crate::leaf::connect_added(self, remote);
        }
        // Connections check the new configuration: clients their
        // authorization and limits, dialed routes and leafs whether they are
        // still configured.
        self.reloads.send_modify(|n| *n += 1);
        Ok(())
    }
}
