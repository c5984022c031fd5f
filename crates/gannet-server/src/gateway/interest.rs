//! What the other side of an outbound gateway wants (nats-server's `outsim`
//! and `gatewayInterest`), account by account, as its `RS+`/`RS-`, `A+`/`A-`
//! and interest-only commands have told it.
//!
//! An account starts in optimistic mode: everything is sent except subjects
//! the other side said it has no interest in (`RS-`), or nothing at all after
//! `A-`. After the other side switched it to interest-only mode (INFO
//! `gateway_cmd` 2, then its interest, then 3), only subjects matching an
//! `RS+` are sent. Queue groups are always known by `RS+`. When the other
//! side said in its INFO that it keeps every account in interest-only mode
//! (`gateway_iom`), an account it never spoke of gets nothing.
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use gannet_sublist::Sublist;

/// How the other side wants an account's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Optimistic,
    /// Switching to interest-only: its interest is coming.
    Transitioning,
    InterestOnly,
}

impl Mode {
    /// As GATEWAYZ names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Optimistic => "Optimistic",
            Mode::Transitioning => "Transitioning",
            Mode::InterestOnly => "Interest-Only",
        }
    }
}

/// The other side's interest in one account.
struct AccountInterest {
    mode: Mode,
    /// Optimistic mode: subjects with no interest.
    no_interest: HashSet<Box<[u8]>>,
    /// Subscriptions told by `RS+` (plain ones outside optimistic mode, and
    /// queue groups), by id.
    subs: Sublist<u64>,
    ids: HashMap<SubjectQueue, u64>,
    queue_subs: usize,
}

impl AccountInterest {
    fn new(mode: Mode) -> AccountInterest {
        AccountInterest {
            mode,
            no_interest: HashSet::new(),
            subs: Sublist::new(true),
            ids: HashMap::new(),
            queue_subs: 0,
        }
    }
}

/// A subject and, for a queue subscription, its group.
type SubjectQueue = (Box<[u8]>, Option<Box<[u8]>>);

/// One account's entry: its interest, or `None` after `A-` (none at all).
type Entry = Option<AccountInterest>;

/// What one outbound gateway's other side wants.
#[derive(Default)]
pub struct RemoteInterest {
    accounts: RwLock<HashMap<String, Entry>>,
    /// The other side keeps every account in interest-only mode.
    interest_only: std::sync::atomic::AtomicBool,
    next_id: AtomicU64,
}

impl std::fmt::Debug for RemoteInterest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteInterest").finish_non_exhaustive()
    }
}

/// Whether a message goes to the other side: for its plain subscribers, and
/// for which of its queue groups.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    pub plain: bool,
    pub queues: Vec<Box<[u8]>>,
}

impl RemoteInterest {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Entry>> {
        self.accounts.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The other side said (`gateway_iom`) it keeps every account in
    /// interest-only mode.
    pub fn set_interest_only(&self, on: bool) {
        self.interest_only.store(on, Ordering::Relaxed);
    }

    /// What the other side wants of a message on `subject` in `account`.
    pub fn wanted(&self, account: &str, subject: &[u8]) -> Wanted {
        let accounts = self.accounts.read().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = accounts.get(account) else {
            return Wanted {
                plain: !self.interest_only.load(Ordering::Relaxed),
                queues: Vec::new(),
            };
        };
        let Some(interest) = entry else {
            return Wanted::default();
        };
        let optimistic = interest.mode == Mode::Optimistic;
        let mut wanted = Wanted {
            plain: optimistic && !interest.no_interest.contains(subject),
            queues: Vec::new(),
        };
        if !optimistic || interest.queue_subs > 0 {
            let result = interest.subs.matches(subject);
            wanted.plain |= !result.plain.is_empty();
            wanted.queues = result
                .queues
                .iter()
                .filter(|g| !g.members.is_empty())
                .map(|g| Box::<[u8]>::from(&g.name[..]))
                .collect();
        }
        wanted
    }

    /// `RS+ <account> <subject> [<queue> <weight>]`.
    pub fn add(&self, account: &str, subject: &[u8], queue: Option<&[u8]>) {
        let mut accounts = self.write();
        let entry = accounts.get_mut(account);
        let interest = match entry {
            Some(Some(interest)) => interest,
            // After A-, a queue group brings the account back.
            Some(None) | None if queue.is_some() => {
                accounts.insert(
                    account.to_string(),
                    Some(AccountInterest::new(Mode::Optimistic)),
                );
                match accounts.get_mut(account) {
                    Some(Some(interest)) => interest,
                    _ => return,
                }
            }
            // A plain RS+ for an account never spoken of (or after A-):
            // nothing was suppressed, so nothing to undo.
            _ => return,
        };
        if queue.is_none() && interest.mode == Mode::Optimistic {
            let wildcard = subject
                .split(|b| *b == b'.')
                .any(|t| t == b"*" || t == b">");
            if wildcard {
                interest
                    .no_interest
                    .retain(|s| !gannet_sublist::pattern_matches(subject, s));
            } else {
                interest.no_interest.remove(subject);
            }
            return;
        }
        let key = (Box::<[u8]>::from(subject), queue.map(Box::<[u8]>::from));
        if interest.ids.contains_key(&key) {
            return;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if interest.subs.insert(subject, queue, id).is_ok() {
            interest.ids.insert(key, id);
            if queue.is_some() {
                interest.queue_subs += 1;
            }
        }
    }

    /// `RS- <account> <subject> [<queue>]`.
    pub fn remove(&self, account: &str, subject: &[u8], queue: Option<&[u8]>) {
        let mut accounts = self.write();
        match accounts.get_mut(account) {
            Some(Some(interest)) if queue.is_some() || interest.mode != Mode::Optimistic => {
                let key = (Box::<[u8]>::from(subject), queue.map(Box::<[u8]>::from));
                if let Some(id) = interest.ids.remove(&key) {
                    let _ = interest.subs.remove(subject, queue, &id);
                    if queue.is_some() {
                        interest.queue_subs = interest.queue_subs.saturating_sub(1);
                    }
                }
            }
            Some(Some(interest)) => {
                interest.no_interest.insert(Box::from(subject));
            }
            Some(None) => {}
            None if queue.is_none() => {
                let mut interest = AccountInterest::new(Mode::Optimistic);
                interest.no_interest.insert(Box::from(subject));
                accounts.insert(account.to_string(), Some(interest));
            }
            None => {}
        }
    }

    /// `A- <account>`: no interest at all (queue groups told stay).
    pub fn account_gone(&self, account: &str) {
        let mut accounts = self.write();
        match accounts.get_mut(account) {
            Some(Some(interest)) if interest.queue_subs > 0 => interest.no_interest.clear(),
            _ => {
                accounts.insert(account.to_string(), None);
            }
        }
    }

    /// `A+ <account>`: interest again, after `A-`.
    pub fn account_back(&self, account: &str) {
        let mut accounts = self.write();
        if let Some(None) = accounts.get(account) {
            accounts.remove(account);
        }
    }

    /// INFO `gateway_cmd` 2: the other side's whole interest in `account`
    /// follows.
    pub fn start_interest_only(&self, account: &str) {
        let mut accounts = self.write();
        match accounts.get_mut(account) {
            Some(Some(interest)) => interest.mode = Mode::Transitioning,
            _ => {
                accounts.insert(
                    account.to_string(),
                    Some(AccountInterest::new(Mode::Transitioning)),
                );
            }
        }
    }

    /// INFO `gateway_cmd` 3: only what matches its interest goes from now on.
    pub fn complete_interest_only(&self, account: &str) {
        if let Some(Some(interest)) = self.write().get_mut(account) {
            interest.mode = Mode::InterestOnly;
            interest.no_interest.clear();
        }
    }

    /// Subscriptions the other side told of, in all accounts.
    pub fn num_subs(&self) -> usize {
        self.accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .flatten()
            .map(|i| i.ids.len())
            .sum()
    }

    /// (account, mode, subscriptions) of every account spoken of, for GATEWAYZ.
    pub fn accounts(&self) -> Vec<(String, Option<Mode>, usize)> {
        let mut all: Vec<_> = self
            .accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(name, entry)| {
                (
                    name.clone(),
                    entry.as_ref().map(|i| i.mode),
                    entry.as_ref().map_or(0, |i| i.ids.len()),
                )
            })
            .collect();
        all.sort();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queues(w: &Wanted) -> Vec<&[u8]> {
        w.queues.iter().map(|q| &q[..]).collect()
    }

    #[test]
    fn optimistic_sends_all_but_what_was_refused() {
        let r = RemoteInterest::default();
        assert!(r.wanted("APP", b"a.b").plain);
        r.remove("APP", b"a.b", None);
        assert!(!r.wanted("APP", b"a.b").plain);
        assert!(r.wanted("APP", b"a.c").plain);
        r.add("APP", b"a.*", None);
        assert!(r.wanted("APP", b"a.b").plain);
        r.account_gone("APP");
        assert!(!r.wanted("APP", b"x").plain);
        r.account_back("APP");
        assert!(r.wanted("APP", b"x").plain);
    }

    #[test]
    fn interest_only_sends_what_matches() {
        let r = RemoteInterest::default();
        r.set_interest_only(true);
        assert!(!r.wanted("APP", b"a.b").plain);
        // A plain RS+ before the switch is ignored, as nats-server does.
        r.add("APP", b"a.b", None);
        assert!(!r.wanted("APP", b"a.b").plain);
        r.start_interest_only("APP");
        r.add("APP", b"a.>", None);
        r.add("APP", b"q.x", Some(b"workers"));
        r.complete_interest_only("APP");
        assert!(r.wanted("APP", b"a.b.c").plain);
        assert!(!r.wanted("APP", b"b").plain);
        let w = r.wanted("APP", b"q.x");
        assert_eq!((w.plain, queues(&w)), (false, vec![&b"workers"[..]]));
        r.remove("APP", b"q.x", Some(b"workers"));
        assert_eq!(r.wanted("APP", b"q.x"), Wanted::default());
        r.remove("APP", b"a.>", None);
        assert!(!r.wanted("APP", b"a.b").plain);
        assert_eq!(r.num_subs(), 0);
        assert_eq!(
            r.accounts(),
            vec![("APP".to_string(), Some(Mode::InterestOnly), 0)]
        );
    }

    #[test]
    fn queue_groups_are_known_in_optimistic_mode_too() {
        let r = RemoteInterest::default();
        r.add("APP", b"q", Some(b"g"));
        let w = r.wanted("APP", b"q");
        assert!(w.plain, "optimistic: plain subscribers may exist");
        assert_eq!(queues(&w), vec![&b"g"[..]]);
        r.account_gone("APP");
        let w = r.wanted("APP", b"q");
        assert_eq!(queues(&w), vec![&b"g"[..]]);
    }
}
