//! Route pooling (nats-server 2.10+'s route pools and pinned accounts):
//! between two servers that both pool, there are `pool_size` connections,
//! each carrying the accounts whose name hashes to its index, plus one
//! connection per pinned account (the system account, and `cluster {
//! accounts }`), on which lines carry no account name. With a peer that does
//! not pool (`pool_size: -1` on either side, or a server that predates
//! pooling), one connection carries every account, named on every line.
use std::collections::HashMap;
use std::sync::Arc;

use super::Route;

/// Which connection to a peer a route connection is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Slot {
    /// Index in the pool (0 = the first connection, and the only one
    /// without pooling).
    Pool(usize),
    /// The connection dedicated to one account.
    Pinned(String),
}

/// The pool index of `account` among `size` connections: FNV-1a (32 bits)
/// of its name, modulo the size, as nats-server computes it, so that both
/// ends put an account on the same connection.
pub fn pool_index(account: &str, size: usize) -> usize {
    if size <= 1 {
        return 0;
    }
    let mut hash: u32 = 0x811c_9dc5;
    for byte in account.as_bytes() {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % size as u32) as usize
}

/// The connections to one peer server.
#[derive(Debug)]
pub(crate) struct PeerLinks {
    /// The pool, by index (one entry without pooling).
    pub(crate) pool: Vec<Option<Arc<Route>>>,
    /// The pinned connections, by account.
    pub(crate) pinned: HashMap<String, Arc<Route>>,
    /// One connection carries everything (no pooling with this peer).
    no_pool: bool,
}

impl PeerLinks {
    /// Room for `pool_size` connections, or for one when `no_pool`.
    pub(crate) fn new(pool_size: usize, no_pool: bool) -> PeerLinks {
        PeerLinks {
            pool: vec![None; if no_pool { 1 } else { pool_size.max(1) }],
            pinned: HashMap::new(),
            no_pool,
        }
    }

    /// Whether there is no pooling with this peer (a single connection).
    pub(crate) fn single(&self) -> bool {
        self.no_pool
    }

    /// Stores `route` in `slot`; `Err` with the connection already there.
    pub(crate) fn put(&mut self, slot: &Slot, route: &Arc<Route>) -> Result<(), Arc<Route>> {
        let place = match slot {
            Slot::Pool(i) => match self.pool.get_mut(*i) {
                Some(place) => place,
                None => return Err(route.clone()),
            },
            Slot::Pinned(account) => {
                if let Some(existing) = self.pinned.get(account) {
                    return Err(existing.clone());
                }
                self.pinned.insert(account.clone(), route.clone());
                return Ok(());
            }
        };
        match place {
            Some(existing) => Err(existing.clone()),
            None => {
                *place = Some(route.clone());
                Ok(())
            }
        }
    }

    /// Takes `route` out if it is the one in its slot; returns whether it was.
    pub(crate) fn take(&mut self, route: &Route) -> bool {
        for place in &mut self.pool {
            if place.as_ref().is_some_and(|r| r.rid == route.rid) {
                *place = None;
                return true;
            }
        }
        let before = self.pinned.len();
        self.pinned.retain(|_, r| r.rid != route.rid);
        before != self.pinned.len()
    }

    /// Whether `slot` holds a connection.
    pub(crate) fn has(&self, slot: &Slot) -> bool {
        match slot {
            Slot::Pool(i) => self.pool.get(*i).is_some_and(Option::is_some),
            Slot::Pinned(account) => self.pinned.contains_key(account),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pool.iter().all(Option::is_none) && self.pinned.is_empty()
    }

    /// Every connection.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.pool.iter().flatten().chain(self.pinned.values())
    }

    /// The connection that carries `account` (`pinned`: the accounts that
    /// have their own connection), if it is up.
    pub(crate) fn for_account(&self, account: &str, pinned: &[String]) -> Option<&Arc<Route>> {
        if self.single() {
            return self.pool[0].as_ref();
        }
        if pinned.iter().any(|p| p == account) {
            return self.pinned.get(account);
        }
        self.pool
            .get(pool_index(account, self.pool.len()))
            .and_then(Option::as_ref)
    }

    /// Whether the connection in `slot` carries `account`.
    pub(crate) fn carries(&self, slot: &Slot, account: &str, pinned: &[String]) -> bool {
        match slot {
            Slot::Pinned(a) => a == account,
            Slot::Pool(_) if self.single() => true,
            Slot::Pool(i) => {
                !pinned.iter().any(|p| p == account) && pool_index(account, self.pool.len()) == *i
            }
        }
    }

    /// One connection to speak to the peer as a whole (INFO, gossip).
    pub(crate) fn main(&self) -> Option<&Arc<Route>> {
        self.pool
            .iter()
            .flatten()
            .next()
            .or_else(|| self.pinned.values().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_hash_to_the_reference_indexes() {
        // nats-server 2.15 with the default pool of 3 put `$G` on index 2.
        assert_eq!(pool_index("$G", 3), 2);
        assert_eq!(pool_index("anything", 1), 0);
        assert_eq!(pool_index("", 3), (0x811c_9dc5u32 % 3) as usize);
    }
}
