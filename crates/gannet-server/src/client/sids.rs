//! A client's subscriptions by sid. The sid is read from the subscription
//! itself, so the table holds one pointer per subscription and no copy of
//! the sid (a connection with ten subscriptions saves ten small
//! allocations). Sids are the client's choice, so the hash is keyed.
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use hashbrown::HashTable;

use crate::subscription::Subscription;

#[derive(Default)]
pub struct SubsBySid {
    table: HashTable<Arc<Subscription>>,
    hasher: RandomState,
}

impl std::fmt::Debug for SubsBySid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubsBySid")
            .field("len", &self.table.len())
            .finish()
    }
}

impl SubsBySid {
    fn hash(&self, sid: &[u8]) -> u64 {
        self.hasher.hash_one(sid)
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn contains(&self, sid: &[u8]) -> bool {
        self.get(sid).is_some()
    }

    pub fn get(&self, sid: &[u8]) -> Option<&Arc<Subscription>> {
        self.table.find(self.hash(sid), |s| s.sid() == sid)
    }

    /// Adds `sub` under its sid, which must not be taken.
    pub fn insert(&mut self, sub: Arc<Subscription>) {
        let hasher = &self.hasher;
        let hash = hasher.hash_one(sub.sid());
        self.table
            .insert_unique(hash, sub, |s| hasher.hash_one(s.sid()));
    }

    pub fn remove(&mut self, sid: &[u8]) -> Option<Arc<Subscription>> {
        let hash = self.hash(sid);
        self.table
            .find_entry(hash, |s| s.sid() == sid)
            .ok()
            .map(|entry| entry.remove().0)
    }

    pub fn values(&self) -> impl Iterator<Item = &Arc<Subscription>> {
        self.table.iter()
    }

    pub fn drain(&mut self) -> impl Iterator<Item = Arc<Subscription>> + '_ {
        self.table.drain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Account;
    use crate::subscription::Subscriber;

    #[test]
    fn subscriptions_are_found_by_their_own_sid() {
        let account = Arc::new(Account::new("A", false));
        let addr = "127.0.0.1:1".parse().unwrap();
        let client = Arc::new(crate::client::ClientShared::new(1, addr, 1024));
        let sub = |sid: &[u8]| {
            Arc::new(Subscription::new(
                Subscriber::Client(client.clone()),
                &account,
                b"a.b",
                None,
                sid,
            ))
        };
        let mut subs = SubsBySid::default();
        for i in 0..100u32 {
            subs.insert(sub(i.to_string().as_bytes()));
        }
        assert_eq!(subs.len(), 100);
        assert!(subs.contains(b"42") && !subs.contains(b"100"));
        assert_eq!(
            subs.get(b"7").map(|s| s.sid().to_vec()),
            Some(b"7".to_vec())
        );
        assert_eq!(
            subs.remove(b"7").map(|s| s.sid().to_vec()),
            Some(b"7".to_vec())
        );
        assert!(subs.remove(b"7").is_none());
        assert_eq!(subs.values().count(), 99);
        assert_eq!(subs.drain().count(), 99);
        assert_eq!(subs.len(), 0);
    }
}
