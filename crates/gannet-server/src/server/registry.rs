//! What the server keeps track of: its clients (and the last closed ones,
//! for `/connz?state=closed`), its accounts (created, rebuilt on reload and
//! forgotten), and its internal subscriptions.
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use gannet_config::options::{AccountConfig, SubjectMapping};
use gannet_config::Options;
use gannet_proto::mapping::{Mapping, Mappings};

use super::Server;
use crate::accounts::{Account, GLOBAL_ACCOUNT};
use crate::client::{ClientShared, ClientSnapshot};
use crate::imports::Shadow;
use crate::subscription::Subscription;

impl Server {
    /// Puts the configured accounts in force: creates the new ones (with
    /// their imports of the system services), rebuilds every account's
    /// imports and exports, and forgets the accounts `old` had and `new` has
    /// not. Their clients fail re-authorization (their users are gone) and
    /// are closed; everyone else's connections stay.
    pub(super) fn install_accounts(&self, old: Option<&Options>, new: &Options) {
        for account in &new.accounts {
            self.account(Some(&account.name));
        }
        let mut routes = crate::imports::build(&new.accounts, |n| self.account(Some(n)));
        for account in self.accounts() {
            account.set_routes(routes.remove(&account.name).unwrap_or_default());
        }
        self.install_mappings(&new.accounts, &new.mappings);
        self.install_trace_dests(&new.accounts);
        self.install_import_shadows();
        let Some(old) = old else {
            return;
        };
        let system = self.system.as_ref().map(|s| s.name.as_str());
        for gone in &old.accounts {
            let name = gone.name.as_str();
            if new.accounts.iter().any(|a| a.name == name)
                || name == GLOBAL_ACCOUNT
                || Some(name) == system
            {
                continue;
            }
            let removed = self
                .accounts
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(name);
            if let Some(account) = removed {
                self.forget_internal(&account);
                tracing::info!("Account {name} removed by the reload");
            }
        }
    }

    /// In operator mode, installs the imports of the account JWTs (those
    /// their exporters allow) as the configured ones are installed, and
    /// creates every account a JWT names. Run at start, after a claim update
    /// and after a reload.
    pub(crate) fn install_operator_links(&self) {
        let auth = self.authenticator();
        let Some(operator) = auth.operator() else {
            return;
        };
        let (mut configs, refused) = operator.account_links(gannet_auth::operator::unix_now());
        for reason in refused {
            tracing::warn!("Account JWT setting not installed: {reason}");
        }
        let opts = self.options();
        configs.extend(opts.accounts.iter().cloned());
        for config in &configs {
            self.account(Some(&config.name));
        }
        let mut routes = crate::imports::build(&configs, |n| self.account(Some(n)));
        for account in self.accounts() {
            account.set_routes(routes.remove(&account.name).unwrap_or_default());
        }
        self.install_mappings(&configs, &opts.mappings);
        self.install_trace_dests(&configs);
        self.install_import_shadows();
        if let Some(js) = self.jetstream() {
            crate::jetstream::enable_jwt_accounts(self, &js);
        }
    }

    /// Puts a stand-in subscription in each exporting account for each
    /// stream import of it (nats-server's shadow subscriptions, made here
    /// once per import rather than per importing subscriber), and one for
    /// the replies of its services to this server's requesters
    /// (`_R_.<node>.>`): the exporter's interest in those subjects then
    /// reaches the cluster's other servers (and other clusters), which send
    /// such messages here, where the stand-in delivers them. Stand-ins of
    /// imports that are gone are removed.
    fn install_import_shadows(&self) {
        let mut wanted = std::collections::HashMap::new();
        for exporter in self.accounts() {
            let Some(routes) = exporter.routes() else {
                continue;
            };
            for import in &routes.streams_out {
                // The importer's identity too: an account re-created by a
                // reload is another importer.
                let key = format!(
                    "{}|{}@{:p}|{}|{:?}|{:?}",
                    exporter.name,
                    import.importer.name,
                    Arc::as_ptr(&import.importer),
                    import.subject,
                    import.prefix,
                    import.to
                );
                let shadow = Shadow::Stream(import.clone());
                wanted.insert(key, (exporter.clone(), import.subject.clone(), shadow));
            }
            if routes.serves {
                // Replies to this server's requesters, given on another.
                let subject = format!("{}{}.>", crate::imports::REPLY_PREFIX, self.reply_node());
                let key = format!("{}|replies", exporter.name);
                wanted.insert(key, (exporter.clone(), subject, Shadow::Replies));
            }
        }
        let mut shadows = self
            .import_shadows
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        shadows.retain(|key, sub| {
            let keep = wanted.contains_key(key);
            if !keep {
                if let Some(account) = sub.account() {
                    account.unsubscribe(sub);
                }
            }
            keep
        });
        for (key, (exporter, subject, shadow)) in wanted {
            if shadows.contains_key(&key) {
                continue;
            }
            let sid = format!("shadow{}", shadows.len() + 1);
            let sub = Arc::new(Subscription::new(
                crate::subscription::Subscriber::Shadow(Arc::new(shadow)),
                &exporter,
                subject.as_bytes(),
                None,
                sid.as_bytes(),
            ));
            match exporter.subscribe(&sub) {
                Ok(()) => {
                    shadows.insert(key, sub);
                }
                Err(e) => tracing::warn!(
                    "Import of {subject} from account {} not shared with the cluster: {e}",
                    exporter.name
                ),
            }
        }
    }

    /// Puts the `msg_trace` of each account of `configs` in force; an
    /// account none names has none.
    fn install_trace_dests(&self, configs: &[AccountConfig]) {
        for account in self.accounts() {
            let dest = configs
                .iter()
                .find(|c| c.name == account.name)
                .and_then(|c| c.msg_trace.clone());
            account.set_trace_dest(dest);
        }
    }

    /// Puts the subject mappings of `configs`, and `global` for `$G`, in
    /// force; an account none names has none. Mappings were checked when
    /// the config or the JWT was read; one that does not compile is left
    /// out with a warning.
    fn install_mappings(&self, configs: &[AccountConfig], global: &[SubjectMapping]) {
        for account in self.accounts() {
            let listed = if account.name == GLOBAL_ACCOUNT {
                global
            } else {
                configs
                    .iter()
                    .find(|c| c.name == account.name)
                    .map_or(&[][..], |c| c.mappings.as_slice())
            };
            let compiled = listed
                .iter()
                .filter_map(|m| match Mapping::new(&m.source, &m.destinations) {
                    Ok(mapping) => Some(mapping),
                    Err(e) => {
                        tracing::warn!(
                            "Mapping of {:?} in account {} not installed: {e}",
                            m.source,
                            account.name
                        );
                        None
                    }
                })
                .collect();
            let mut sources = account.mapping_sources();
            account.set_mappings(Mappings::new(compiled));
            // The leafs of the account hear of sources that came or went.
            sources.extend(account.mapping_sources());
            if !sources.is_empty() {
                sources.sort();
                sources.dedup();
                self.leafs().tell_subjects(&account.name, &sources);
            }
        }
    }

    /// Ends the internal subscriptions in `account`.
    pub(super) fn forget_internal(&self, account: &Arc<Account>) {
        let mut subs = self.internal_subs.lock().unwrap_or_else(|e| e.into_inner());
        subs.retain(|sub| {
            let here = sub.account().is_some_and(|a| Arc::ptr_eq(&a, account));
            if here {
                account.unsubscribe(sub);
            }
            !here
        });
    }

    /// Ends the internal subscriptions made as connection `cid` (all
    /// JetStream's API subscriptions, in every account).
    pub(crate) fn forget_internal_of(&self, cid: u64) {
        let mut subs = self.internal_subs.lock().unwrap_or_else(|e| e.into_inner());
        subs.retain(|sub| {
            if sub.cid() != cid {
                return true;
            }
            if let Some(account) = sub.account() {
                account.unsubscribe(sub);
            }
            false
        });
    }

    /// Subscribes the system services `account` imports.
    pub(super) fn account_imports(&self, account: &Arc<Account>) {
        let Some(system) = &self.system else {
            return;
        };
        let cid = self.next_client_id();
        let is_system = Arc::ptr_eq(system, account);
        crate::sysreq::subscribe_account_imports(self, account, cid, is_system);
    }

    /// Remembers an internal subscription, for monitoring.
    pub(crate) fn register_internal(&self, sub: Arc<Subscription>) {
        self.internal_subs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(sub);
    }

    /// Every internal subscription.
    pub fn internal_subscriptions(&self) -> Vec<Arc<Subscription>> {
        self.internal_subs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The account named `name`; `None` = the global account. Accounts are
    /// created on first use (for example after a reload added one).
    pub fn account(&self, name: Option<&str>) -> Arc<Account> {
        let Some(name) = name else {
            return self.global.clone();
        };
        if let Some(a) = self.accounts_lock().get(name) {
            return a.clone();
        }
        let cache = !self.options().disable_sublist_cache;
        let mut created = None;
        let account = self
            .accounts
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name.to_string())
            .or_insert_with(|| {
                let account = Arc::new(Account::new(name, cache));
                // Listening before anyone can subscribe in it.
                self.watch_interest(&account);
                created = Some(account.clone());
                account
            })
            .clone();
        if let Some(new) = created {
            self.account_imports(&new);
        }
        account
    }

    /// Sends the account's changes of interest to the routes (when
    /// clustered) and to the leaf connections bound to it (with `leafnodes`).
    pub(super) fn watch_interest(&self, account: &Arc<Account>) {
        if self.options().leafnodes.is_some() {
            let leafs = Arc::downgrade(&self.leafs);
            account.add_every_change_listener(Arc::new(move |change| {
                if let Some(leafs) = leafs.upgrade() {
                    leafs.interest_changed(change);
                }
            }));
        }
        if let Some(gateways) = &self.gateways {
            let gateways = Arc::downgrade(gateways);
            let watched = Arc::downgrade(account);
            account.add_every_change_listener(Arc::new(move |change| {
                if let (Some(gateways), Some(account)) = (gateways.upgrade(), watched.upgrade()) {
                    gateways.interest_changed(&account, change);
                }
            }));
        }
        let Some(cluster) = &self.cluster else {
            return;
        };
        let cluster = Arc::downgrade(cluster);
        account.add_interest_listener(Arc::new(move |change| {
            if let Some(cluster) = cluster.upgrade() {
                cluster.interest_changed(change);
            }
        }));
    }

    /// The account named `name`, if it exists (never creates one).
    pub fn find_account(&self, name: &str) -> Option<Arc<Account>> {
        self.accounts_lock().get(name).cloned()
    }

    /// Every account.
    pub fn accounts(&self) -> Vec<Arc<Account>> {
        self.accounts_lock().values().cloned().collect()
    }

    /// Accounts with at least one client.
    pub fn active_accounts(&self) -> usize {
        self.accounts_lock()
            .values()
            .filter(|a| a.num_clients() > 0)
            .count()
    }

    pub(super) fn accounts_lock(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Account>>> {
        self.accounts.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The system account, unless there is none.
    pub fn system_account(&self) -> Option<Arc<Account>> {
        self.system.clone()
    }

    pub fn global_account(&self) -> Arc<Account> {
        self.global.clone()
    }

    pub(crate) fn next_client_id(&self) -> u64 {
        self.next_cid.fetch_add(1, Ordering::Relaxed)
    }

    /// Adds a client; returns how many are connected now.
    pub(crate) fn register(&self, client: Arc<ClientShared>) -> usize {
        self.stats.total_connections.fetch_add(1, Ordering::Relaxed);
        let mut clients = self.clients_lock();
        clients.insert(client.cid, client);
        clients.len()
    }

    pub(crate) fn unregister(&self, cid: u64) {
        self.clients_lock().remove(&cid);
    }

    /// Remembers a closed connection, forgetting the oldest past `max_closed_clients`.
    pub(crate) fn record_closed(&self, snapshot: ClientSnapshot) {
        let max = self.options().max_closed_clients;
        if max == 0 {
            return;
        }
        let mut closed = self.closed.lock().unwrap_or_else(|e| e.into_inner());
        while closed.len() >= max {
            closed.pop_front();
        }
        closed.push_back(snapshot);
    }

    /// The remembered closed connections, oldest first.
    pub fn closed_clients(&self) -> Vec<ClientSnapshot> {
        self.closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// The connected clients.
    pub fn clients(&self) -> Vec<Arc<ClientShared>> {
        self.clients_lock().values().cloned().collect()
    }

    pub fn num_clients(&self) -> usize {
        self.clients_lock().len()
    }

    /// Subscriptions in every account, the peers' included.
    pub fn num_subscriptions(&self) -> usize {
        // Peers' interest counts too, as the reference's count includes it.
        self.accounts_lock()
            .values()
            .map(|a| a.sublist.count() + a.remote.count())
            .sum()
    }

    pub(super) fn clients_lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<ClientShared>>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }
}
