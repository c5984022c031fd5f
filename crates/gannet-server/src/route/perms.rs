//! Route permissions changing while the routes run (nats-server's
//! `reloadClusterPermissions` and `updateRemoteRoutePerms`). Each end tells
//! the other its `permissions { import, export }` in its route INFO. When a
//! reload changes ours, the routes stay up: every peer gets an INFO with the
//! new permissions, `RS+` for local interest we may now import and `RS-` for
//! interest we no longer may, and the peers' interest we may no longer
//! export to is dropped. When a peer's INFO says its `export` grew, it gets
//! `RS+` for the local interest it used to refuse.
use std::sync::Arc;

use bytes::BytesMut;
use gannet_auth::Permissions;

use super::info::RoutePermission;
use super::{Cluster, Route};
use crate::server::Server;

/// A peer's `export` as a test of subjects (`None`: everything).
fn export_test(export: Option<&RoutePermission>) -> Option<Permissions> {
    let export = export?;
    let config = gannet_config::options::Permissions {
        publish: None,
        subscribe: Some(export.to_config()),
        allow_responses: None,
    };
    match Permissions::compile(&config, None, false) {
        Ok(perms) => Some(perms),
        Err(e) => {
            tracing::debug!("A peer's route export permissions do not compile: {e}");
            None
        }
    }
}

fn allows(test: Option<&Permissions>, subject: &[u8], queue: Option<&[u8]>) -> bool {
    test.is_none_or(|p| p.can_subscribe(subject, queue))
}

/// Sends `route` the local interest of every account it carries for which
/// `line` says what to send: `Some(true)` its `RS+`, `Some(false)` its
/// `RS-`. Each account's lines go while its interest cannot change, so later
/// changes follow them.
pub(crate) fn send_interest_where(
    server: &Server,
    cluster: &Cluster,
    route: &Route,
    line: impl Fn(&[u8], Option<&[u8]>) -> Option<bool>,
) {
    let (peer_id, slot) = (route.peer().id, route.slot());
    for account in server.accounts() {
        let name = account.name.clone();
        if !cluster.carries(&peer_id, &slot, &name) {
            continue;
        }
        let line_account = route.line_account(&name);
        account.with_interest(|interest| {
            let mut lines = BytesMut::new();
            for i in interest {
                if let Some(sub) = line(&i.pattern, i.queue.as_deref()) {
                    let count = if sub { i.count } else { 0 };
                    super::write_interest(
                        &mut lines,
                        line_account,
                        &i.pattern,
                        i.queue.as_deref(),
                        count,
                    );
                }
            }
            if !lines.is_empty() {
                route.send_line(&lines);
            }
        });
    }
}

/// A peer's INFO changed its `export` from `old` to `new`: it gets `RS+` for
/// the local interest that `new` lets through and `old` did not (which it
/// dropped when it came), as far as we may import it.
pub(crate) fn peer_export_changed(
    server: &Server,
    cluster: &Cluster,
    route: &Route,
    old: Option<&RoutePermission>,
    new: Option<&RoutePermission>,
) {
    let (old, new) = (export_test(old), export_test(new));
    send_interest_where(server, cluster, route, |subject, queue| {
        (allows(new.as_ref(), subject, queue)
            && !allows(old.as_ref(), subject, queue)
            && cluster.may_import(subject))
        .then_some(true)
    });
}

/// Our permissions changed from `old` to the ones now in force: every route
/// is told (an INFO with them), gets `RS+`/`RS-` for the local interest whose
/// import they changed, and loses the peer's interest we may no longer
/// export to.
pub(crate) fn reloaded(server: &Server, cluster: &Cluster, old: Option<&Permissions>) {
    let routes: Vec<Arc<Route>> = cluster.routes();
    if routes.is_empty() {
        return;
    }
    let mut info = BytesMut::new();
    gannet_proto::encode::write_info(&mut info, &cluster.info(server).to_json());
    let could_import = |subject: &[u8]| old.is_none_or(|p| p.can_publish(subject));
    for route in &routes {
        route.send_line(&info);
        send_interest_where(server, cluster, route, |subject, _| {
            let (then, now) = (could_import(subject), cluster.may_import(subject));
            (then != now).then_some(now)
        });
        let dropped: Vec<Arc<crate::subscription::Subscription>> = {
            let mut subs = route.subs_lock();
            let gone: Vec<_> = subs
                .iter()
                .filter(|((_, subject, queue), _)| !cluster.may_export(subject, queue.as_deref()))
                .map(|(key, _)| key.clone())
                .collect();
            gone.iter().filter_map(|key| subs.remove(key)).collect()
        };
        for sub in dropped {
            if let Some(account) = sub.account() {
                account.unsubscribe_remote(&sub);
            }
        }
    }
}
