//! Accounts: each has its own subject space (nats-server's `accounts.go`). Until
//! accounts are configurable every client is in the global account `$G`.
use gannet_sublist::Sublist;

use crate::subscription::SubRef;

/// The name of the account clients land in when no account is configured.
pub const GLOBAL_ACCOUNT: &str = "$G";

/// An isolated subject space.
pub struct Account {
    pub name: String,
    pub sublist: Sublist<SubRef>,
}

impl Account {
    /// A new account; `cache` turns the subject index's match cache on.
    pub fn new(name: &str, cache: bool) -> Account {
        Account {
            name: name.to_string(),
            sublist: Sublist::new(cache),
        }
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("name", &self.name).finish()
    }
}
