//! The connection limits of an account's JWT in operator mode (`limits.conn`
//! for clients, `limits.leaf` for leaf nodes), counted across the cluster as
//! nats-server counts them: this server's connections plus those the other
//! servers report in their `$SYS.SERVER.ACCOUNT.<acc>.CONNS` events. A login
//! past a limit is refused. When another server's report takes the count
//! over the limit anyway (two logins at once on two servers), every server
//! over it cuts its own newest clients of the account until the count fits;
//! after a claim update each server cuts its newest clients past the new
//! limit, counting its own only. The clients cut are told `maximum account
//! active connections exceeded`. All as nats-server does.
use std::sync::Arc;

use serde::Deserialize;

use super::Server;
use crate::accounts::Account;
use crate::client::CloseReason;

/// The `-ERR` text of a connection past its account's limit.
pub(crate) const ACCOUNT_CONNS_EXCEEDED: &str = "maximum account active connections exceeded";

/// The parts of another server's CONNS event the limits need.
#[derive(Deserialize)]
struct ConnsReport {
    server: ReportingServer,
    acc: String,
    #[serde(default)]
    conns: usize,
    #[serde(default)]
    leafnodes: usize,
}

#[derive(Deserialize)]
struct ReportingServer {
    id: String,
}

impl Server {
    /// In operator mode, the most client connections the account's JWT
    /// allows (`limits.conn`; none when negative or outside operator mode).
    pub(crate) fn account_connection_limit(&self, account: &str) -> Option<usize> {
        self.account_jwt_limit(account, |limits| limits.conn)
    }

    /// In operator mode, the most leaf node connections the account's JWT
    /// allows (`limits.leaf`; none when negative or outside operator mode).
    pub(crate) fn account_leaf_limit(&self, account: &str) -> Option<usize> {
        self.account_jwt_limit(account, |limits| limits.leaf)
    }

    /// The account JWT's limit `pick` chooses, if the server is in operator
    /// mode, knows the account, and the limit is not negative (unlimited).
    fn account_jwt_limit(
        &self,
        account: &str,
        pick: impl Fn(&gannet_auth::jwt::AccountLimits) -> i64,
    ) -> Option<usize> {
        let auth = self.authenticator();
        let claims = auth.operator()?.account(account)?;
        usize::try_from(pick(&claims.claims.nats.limits)).ok()
    }

    /// Whether one more client connection would take `account` past its
    /// JWT's limit, counting the whole cluster; the limit if so.
    pub(crate) fn account_clients_full(&self, account: &Account) -> Option<usize> {
        let max = self.account_connection_limit(&account.name)?;
        let (remote, _) = account.remote_conns();
        (account.num_clients() + remote >= max).then_some(max)
    }

    /// Whether one more leaf node connection would take `account` past its
    /// JWT's limit, counting the whole cluster; the limit if so.
    pub(crate) fn account_leafs_full(&self, account: &Account) -> Option<usize> {
        let max = self.account_leaf_limit(&account.name)?;
        let (_, remote) = account.remote_conns();
        (account.num_leafs() + remote >= max).then_some(max)
    }

    /// Takes another server's CONNS event (`payload`) into the counts of the
    /// account it reports on, if this server has that account, then cuts
    /// what is over the limit.
    pub(crate) fn remote_conns_update(&self, payload: &[u8]) {
        let Ok(report) = serde_json::from_slice::<ConnsReport>(payload) else {
            return;
        };
        if report.server.id == self.id() {
            return;
        }
        let Some(account) = self.find_account(&report.acc) else {
            return;
        };
        account.set_remote_conns(&report.server.id, report.conns, report.leafnodes);
        self.enforce_account_limit(&account, true);
    }

    /// Forgets what server `id` reported for every account (it shut down).
    pub(crate) fn forget_remote_conns(&self, id: &str) {
        for account in self.accounts() {
            account.forget_remote_server(id);
        }
    }

    /// Cuts this server's newest clients of `account` while its count is
    /// over the account JWT's `limits.conn`: the whole cluster's count
    /// (`with_remote`, after another server's report), or this server's own
    /// (after a claim update, as nats-server does).
    pub(crate) fn enforce_account_limit(&self, account: &Arc<Account>, with_remote: bool) {
        let Some(max) = self.account_connection_limit(&account.name) else {
            return;
        };
        let remote = if with_remote {
            account.remote_conns().0
        } else {
            0
        };
        let total = account.num_clients() + remote;
        if total <= max {
            return;
        }
        let mut ours: Vec<_> = self
            .clients()
            .into_iter()
            .filter_map(|c| {
                let meta = c.meta();
                (meta.account == account.name && c.outbound.close_reason().is_none())
                    .then_some((meta.start, c))
            })
            .collect();
        // Newest first.
        ours.sort_by_key(|(start, _)| std::cmp::Reverse(*start));
        for (_, client) in ours.into_iter().take(total - max) {
            tracing::error!(
                "cid:{} - {ACCOUNT_CONNS_EXCEEDED} ({max}) for account {}",
                client.cid,
                account.name
            );
            let mut err = bytes::BytesMut::new();
            gannet_proto::encode::write_err(&mut err, ACCOUNT_CONNS_EXCEEDED);
            client.outbound.send_now(&err);
            client
                .outbound
                .close(CloseReason::MaxAccountConnectionsExceeded);
        }
    }
}
