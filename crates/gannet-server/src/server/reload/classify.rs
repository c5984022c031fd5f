//! Which settings a reload may change, key by key as nats-server's
//! `diffOptions` classifies them. A change that cannot be made while the
//! server runs refuses the whole reload, with the reference's message, and
//! the configuration in force stays as it was. A change that can be made is
//! put into a [`Plan`] for [`Server::reload`](super::super::Server::reload)
//! to carry out.
use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;

use gannet_config::options::{JetStreamOptions, LeafNodeOptions, LeafRemote, RouteUrl, SyncPolicy};
use gannet_config::Options;

/// What a reload does beyond installing the new options.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Configured routes to start dialing.
    pub routes_added: Vec<RouteUrl>,
    /// Leaf node remotes to start connecting to.
    pub remotes_added: Vec<LeafRemote>,
    /// What happens to JetStream.
    pub jetstream: JetStreamChange,
    /// JetStream's `limits { }` changed: consumers made from then on get the
    /// new caps.
    pub jetstream_limits: bool,
    /// The cluster's TLS changed: routes made from now on use the new one.
    pub cluster_tls: bool,
    /// The gateways' TLS changed (the block's or a remote's): gateway
    /// connections made from now on use the new one.
    pub gateway_tls: bool,
}

#[derive(Debug, Default, PartialEq)]
pub(crate) enum JetStreamChange {
    #[default]
    None,
    /// Turned on by the reload.
    Start,
    /// Turned off by the reload.
    Stop,
    /// Larger server limits, in bytes.
    Raise { max_memory: i64, max_store: i64 },
}

/// Compares the configuration in force with the new one.
pub(crate) fn check(old: &Options, new: &Options) -> Result<Plan, String> {
    let mut plan = Plan::default();
    if new.port != 0 {
        refuse_change("Port", &old.port, &new.port)?;
    }
    refuse_change("Host", &old.host, &new.host)?;
    refuse_change("ServerName", &go(&old.server_name), &go(&new.server_name))?;
    refuse_change("MaxPending", &old.max_pending, &new.max_pending)?;
    refuse_change("MaxSubs", &old.max_subscriptions, &new.max_subscriptions)?;
    refuse_change(
        "MaxSubsTokens",
        &old.max_subscription_tokens,
        &new.max_subscription_tokens,
    )?;
    refuse_change(
        "WriteTimeout",
        &format!("{:?}", old.write_timeout),
        &format!("{:?}", new.write_timeout),
    )?;
    refuse_change("LogSizeLimit", &old.log_size_limit, &new.log_size_limit)?;
    refuse_change("LogMaxFiles", &old.log_max_files, &new.log_max_files)?;
    refuse_change("HTTPHost", &go(&old.http_host), &go(&new.http_host))?;
    refuse_change("HTTPPort", &go(&old.http_port), &go(&new.http_port))?;
    refuse_change("HTTPSPort", &go(&old.https_port), &go(&new.https_port))?;
    refuse_change("HTTPBasePath", &old.http_base_path, &new.http_base_path)?;
    refuse_change(
        "LameDuckDuration",
        &duration(old.lame_duck_duration),
        &duration(new.lame_duck_duration),
    )?;
    refuse_change(
        "LameDuckGracePeriod",
        &duration(old.lame_duck_grace_period),
        &duration(new.lame_duck_grace_period),
    )?;
    refuse_change(
        "NoHeaderSupport",
        &old.no_header_support,
        &new.no_header_support,
    )?;
    refuse_change(
        "MaxClosedClients",
        &old.max_closed_clients,
        &new.max_closed_clients,
    )?;
    refuse_change(
        "NoSublistCache",
        &old.disable_sublist_cache,
        &new.disable_sublist_cache,
    )?;
    refuse_change("AllowNonTLS", &old.allow_non_tls, &new.allow_non_tls)?;
    check_no_auth_user(old, new)?;
    let (old_system, new_system) = (system_account(old), system_account(new));
    if old_system != new_system {
        not_supported("SystemAccount", &old_system, &new_system)?;
    }
    refuse_change(
        "NoSystemAccount",
        &old.no_system_account,
        &new.no_system_account,
    )?;
    if old.operators != new.operators {
        return Err("config reload not supported for TrustedOperators".to_string());
    }
    if old.trusted_keys != new.trusted_keys {
        return Err("config reload not supported for TrustedKeys".to_string());
    }
    if old.resolver.is_some() != new.resolver.is_some() {
        return Err(
            "config reload does not support moving to or from an account resolver".to_string(),
        );
    }
    if old.default_js_domain != new.default_js_domain {
        return Err("config reload not supported for JsAccDefaultDomain".to_string());
    }
    check_not_implemented(old, new)?;
    check_gateway(old, new, &mut plan)?;
    check_cluster(old, new, &mut plan)?;
    check_leafnodes(old.leafnodes.as_ref(), new.leafnodes.as_ref(), &mut plan)?;
    plan.jetstream = check_jetstream(old, new, &mut plan)?;
    Ok(plan)
}

/// The keys Gannet accepts without implementing them: a change nats-server
/// cannot reload is refused under its field name; the others (`ocsp`,
/// `server_tags`, `connect_error_reports`, the reloadable part of `mqtt`, …)
/// reload, and change nothing here.
fn check_not_implemented(old: &Options, new: &Options) -> Result<(), String> {
    const MQTT_RELOADS: &[&str] = &[
        "tls",
        "ack_wait",
        "ackwait",
        "max_ack_pending",
        "max_pending",
        "max_inflight",
        "stream_replicas",
        "consumer_replicas",
        "consumer_memory_storage",
        "consumer_inactive_threshold",
        "consumer_auto_cleanup",
    ];
    // Key, the reference's field, how it reads when not set, what of it reloads.
    const REFUSED: &[(&str, &str, &str, &[&str])] = &[
        ("proxy_protocol", "ProxyProtocol", "false", &[]),
        ("websocket", "Websocket", "map[]", &["tls"]),
        ("mqtt", "MQTT", "map[]", MQTT_RELOADS),
        ("prof_port", "ProfPort", "0", &[]),
        ("feature_flags", "FeatureFlags", "map[]", &[]),
    ];
    if old.not_implemented == new.not_implemented {
        return Ok(());
    }
    for (key, field, unset, reloads) in REFUSED {
        let read = |opts: &Options| {
            opts.not_implemented
                .rendered(key, reloads)
                .unwrap_or_else(|| unset.to_string())
        };
        refuse_change(field, &read(old), &read(new))?;
    }
    Ok(())
}

/// The reference's refusal: `config reload not supported for Field: old=, new=`.
fn not_supported(field: &str, old: &dyn Display, new: &dyn Display) -> Result<(), String> {
    Err(format!(
        "config reload not supported for {field}: old={old}, new={new}"
    ))
}

fn refuse_change<T: PartialEq + Display>(field: &str, old: &T, new: &T) -> Result<(), String> {
    if old == new {
        return Ok(());
    }
    not_supported(field, old, new)
}

/// An optional setting as Go prints its zero value: empty, or 0.
fn go<T: Display>(value: &Option<T>) -> String {
    value.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

fn duration(d: Duration) -> String {
    gannet_config::conf::format_go_duration(d)
}

fn system_account(opts: &Options) -> String {
    opts.system_account
        .clone()
        .unwrap_or_else(|| crate::accounts::DEFAULT_SYSTEM_ACCOUNT.to_string())
}

/// `no_auth_user` may only be dropped, together with the user it named.
fn check_no_auth_user(old: &Options, new: &Options) -> Result<(), String> {
    if old.no_auth_user == new.no_auth_user {
        return Ok(());
    }
    if let (Some(user), None) = (&old.no_auth_user, &new.no_auth_user) {
        let mut users = new
            .authorization
            .iter()
            .flat_map(|a| &a.users)
            .chain(new.accounts.iter().flat_map(|a| &a.users));
        if !users.any(|u| &u.username == user) {
            return Ok(());
        }
    }
    not_supported("NoAuthUser", &go(&old.no_auth_user), &go(&new.no_auth_user))
}

/// The route listener stays where it is; everything else in the block may
/// change: configured routes come and go, the credentials peers must present
/// and the routes' TLS apply to the connections made from then on, and the
/// rest ([`Cluster::reconfigure`](crate::route::Cluster::reconfigure)) on the
/// routes in place.
fn check_cluster(old: &Options, new: &Options, plan: &mut Plan) -> Result<(), String> {
    let listen = |o: &Options| {
        o.cluster
            .as_ref()
            .filter(|c| c.is_enabled())
            .map(|c| (c.host.clone(), c.port))
            .unwrap_or_default()
    };
    let ((old_host, old_port), (new_host, new_port)) = (listen(old), listen(new));
    if old_host != new_host {
        return Err(format!(
            "config reload not supported for cluster host: old={old_host}, new={new_host}"
        ));
    }
    if old_port != new_port {
        return Err(format!(
            "config reload not supported for cluster port: old={old_port}, new={new_port}"
        ));
    }
    let (Some(old_cluster), Some(new_cluster)) = (&old.cluster, &new.cluster) else {
        return Ok(());
    };
    if let Some((_, port)) = new_cluster
        .advertise
        .as_deref()
        .and_then(|a| a.rsplit_once(':'))
    {
        if port.trim().parse::<u16>().is_err() {
            return Err(format!(
                "invalid Cluster.Advertise value of {}, err=strconv.Atoi: parsing {port:?}: invalid syntax",
                new_cluster.advertise.as_deref().unwrap_or_default()
            ));
        }
    }
    plan.routes_added = new_cluster
        .routes
        .iter()
        .filter(|r| !old_cluster.routes.contains(r))
        .cloned()
        .collect();
    plan.cluster_tls = new_cluster.tls != old_cluster.tls;
    Ok(())
}

/// Of `gateway { }`, only TLS may change (the block's and each remote's),
/// as with nats-server.
fn check_gateway(old: &Options, new: &Options, plan: &mut Plan) -> Result<(), String> {
    if old.gateway == new.gateway {
        return Ok(());
    }
    let without_tls = |opts: &Options| {
        opts.gateway.clone().map(|mut g| {
            g.tls = None;
            for remote in &mut g.gateways {
                remote.tls = None;
            }
            g
        })
    };
    if without_tls(old) != without_tls(new) {
        return Err("config reload not supported for Gateway".to_string());
    }
    plan.gateway_tls = true;
    Ok(())
}

/// The leaf node listener stays as it was; remotes may come and go, and a
/// remote's TLS and compression may change. Remotes are known by their URLs.
fn check_leafnodes(
    old: Option<&LeafNodeOptions>,
    new: Option<&LeafNodeOptions>,
    plan: &mut Plan,
) -> Result<(), String> {
    let empty = LeafNodeOptions::default();
    let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
    // (field, changed, old and new as the refusal shows them)
    let listener_fields: [(&str, bool, String, String); 10] = [
        (
            "Host",
            old.host != new.host,
            old.host.clone(),
            new.host.clone(),
        ),
        (
            "Port",
            old.port != new.port,
            old.port.to_string(),
            new.port.to_string(),
        ),
        (
            "Advertise",
            old.advertise != new.advertise,
            go(&old.advertise),
            go(&new.advertise),
        ),
        (
            "NoAdvertise",
            old.no_advertise != new.no_advertise,
            old.no_advertise.to_string(),
            new.no_advertise.to_string(),
        ),
        (
            "Username",
            old.user != new.user,
            go(&old.user),
            go(&new.user),
        ),
        (
            "Password",
            old.password != new.password,
            mask(&old.password),
            mask(&new.password),
        ),
        (
            "Account",
            old.account != new.account,
            go(&old.account),
            go(&new.account),
        ),
        (
            "AuthTimeout",
            old.auth_timeout != new.auth_timeout,
            duration(old.auth_timeout),
            duration(new.auth_timeout),
        ),
        (
            "ReconnectInterval",
            old.reconnect != new.reconnect,
            duration(old.reconnect),
            duration(new.reconnect),
        ),
        ("Users", old.users != new.users, users(old), users(new)),
    ];
    for (field, changed, before, after) in listener_fields {
        if changed {
            return Err(format!(
                "config reload not supported for LeafNode: field {field:?}: old={before}, new={after}"
            ));
        }
    }
    for remote in &new.remotes {
        let Some(before) = old.remotes.iter().find(|r| r.urls == remote.urls) else {
            plan.remotes_added.push(remote.clone());
            continue;
        };
        let list = |l: &[String]| format!("[{}]", l.join(" "));
        let fields: [(&str, String, String); 5] = [
            ("LocalAccount", go(&before.account), go(&remote.account)),
            (
                "Credentials",
                path(&before.credentials),
                path(&remote.credentials),
            ),
            (
                "DenyImports",
                list(&before.deny_imports),
                list(&remote.deny_imports),
            ),
            (
                "DenyExports",
                list(&before.deny_exports),
                list(&remote.deny_exports),
            ),
            ("Hub", before.hub.to_string(), remote.hub.to_string()),
        ];
        if let Some((field, old, new)) = fields.iter().find(|(_, old, new)| old != new) {
            return Err(format!(
                "config reload not supported for LeafNode: remote {}: field {field:?}: old={old}, new={new}",
                remote.safe_name()
            ));
        }
    }
    Ok(())
}

/// A password as a refusal shows it: masked (nats-server prints
/// passwords here; Gannet does not log them).
fn mask(password: &Option<String>) -> String {
    match password {
        Some(_) => "[REDACTED]".to_string(),
        None => String::new(),
    }
}

/// The users leafs log in as, by name (their passwords not shown).
fn users(leaf: &LeafNodeOptions) -> String {
    let names: Vec<&str> = leaf.users.iter().map(|u| u.user.as_str()).collect();
    format!("{names:?}")
}

fn path(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// JetStream may be turned on or off, its storage limits raised and its
/// consumer limits changed. Everything else about it stays as it started.
fn check_jetstream(
    old: &Options,
    new: &Options,
    plan: &mut Plan,
) -> Result<JetStreamChange, String> {
    let (old_js, new_js) = match (&old.jetstream, &new.jetstream) {
        (None, None) => return Ok(JetStreamChange::None),
        (None, Some(_)) => return Ok(JetStreamChange::Start),
        (Some(_), None) => return Ok(JetStreamChange::Stop),
        (Some(o), Some(n)) => (o, n),
    };
    if store_dir(old, old_js) != store_dir(new, new_js) {
        return Err("config reload not supported for jetstream storage directory".to_string());
    }
    let memory = limit_change(old_js.max_memory, new_js.max_memory)?;
    let store = limit_change(old_js.max_file, new_js.max_file)?;
    plan.jetstream_limits = old_js.limits != new_js.limits;
    let mut rest_old = old_js.clone();
    let mut rest_new = new_js.clone();
    for js in [&mut rest_old, &mut rest_new] {
        js.max_memory = None;
        js.max_file = None;
        js.store_dir = None;
        js.limits = Default::default();
    }
    if rest_old != rest_new {
        return Err(format!(
            "config reload not supported for {}",
            jetstream_field(&rest_old, &rest_new)
        ));
    }
    if memory.is_none() && store.is_none() {
        return Ok(JetStreamChange::None);
    }
    Ok(JetStreamChange::Raise {
        max_memory: memory.or(old_js.max_memory).unwrap_or(-1),
        max_store: store.or(old_js.max_file).unwrap_or(-1),
    })
}

fn store_dir(opts: &Options, js: &JetStreamOptions) -> Option<PathBuf> {
    js.store_dir.clone().or_else(|| opts.store_dir.clone())
}

/// A raised limit, or the reference's refusal: limits may grow, not shrink,
/// and a limit the server works out for itself may not be set.
fn limit_change(old: Option<i64>, new: Option<i64>) -> Result<Option<i64>, String> {
    match (old, new) {
        (a, b) if a == b => Ok(None),
        (Some(a), Some(b)) if b > a => Ok(Some(b)),
        (Some(_), Some(_)) => Err(
            "config reload not supported for decreasing jetstream max memory and store".to_string(),
        ),
        (None, Some(_)) => Err(
            "config reload not supported for jetstream dynamic max memory and store".to_string(),
        ),
        (Some(_), None) => {
            Err("config reload not supported for jetstream max memory and max store".to_string())
        }
        (None, None) => Ok(None),
    }
}

/// The reference's words for the first JetStream setting that differs (in
/// the order of its options), with the old and new values as it prints
/// them (its defaults for what is not set).
fn jetstream_field(old: &JetStreamOptions, new: &JetStreamOptions) -> String {
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    let number = |o: Option<i64>, default: i64| o.unwrap_or(default).to_string();
    let interval = |p: &SyncPolicy| match p {
        SyncPolicy::Interval(d) => duration(*d),
        SyncPolicy::Batch | SyncPolicy::Always => "2m0s".to_string(),
    };
    let always = |p: &SyncPolicy| matches!(p, SyncPolicy::Always).to_string();
    let fields: [(&str, String, String); 10] = [
        (
            "NoJetStreamStrict",
            (!old.strict).to_string(),
            (!new.strict).to_string(),
        ),
        ("JetStreamDomain", text(&old.domain), text(&new.domain)),
        (
            "JetStreamUniqueTag",
            text(&old.unique_tag),
            text(&new.unique_tag),
        ),
        (
            "JetStreamMaxCatchup",
            number(old.max_outstanding_catchup, 0),
            number(new.max_outstanding_catchup, 0),
        ),
        (
            "JetStreamRequestQueueLimit",
            number(old.request_queue_limit, 10_000),
            number(new.request_queue_limit, 10_000),
        ),
        (
            "JetStreamInfoQueueLimit",
            number(old.info_queue_limit, 0),
            number(new.info_queue_limit, 0),
        ),
        (
            "StreamMaxBufferedMsgs",
            number(old.max_buffered_msgs, 0),
            number(new.max_buffered_msgs, 0),
        ),
        (
            "StreamMaxBufferedSize",
            number(old.max_buffered_size, 0),
            number(new.max_buffered_size, 0),
        ),
        ("SyncInterval", interval(&old.sync), interval(&new.sync)),
        ("SyncAlways", always(&old.sync), always(&new.sync)),
    ];
    fields
        .into_iter()
        .find(|(_, before, after)| before != after)
        .map_or_else(
            || "JetStream".to_string(),
            |(field, before, after)| format!("{field}: old={before}, new={after}"),
        )
}
