//! A client's own cache of subject matches (nats-server's per-client `readCache`):
//! a publisher that keeps sending to the same subjects finds their subscribers
//! without touching the shared index, and so without any lock. One atomic load of
//! the index generation tells when the cache is stale.
use std::sync::Arc;

use gannet_proto::subject;
use gannet_sublist::{MatchResult, Sublist};
use hashbrown::hash_map::EntryRef;
use rustc_hash::FxBuildHasher;

use crate::subscription::SubRef;

/// Most subjects one client caches; past this the cache starts over.
pub const CLIENT_CACHE_MAX: usize = 128;

/// What the cache keeps per subject.
#[derive(Debug, Clone)]
pub struct Cached {
    pub result: Arc<MatchResult<SubRef>>,
    /// The subject has a `*` or `>` token (a pedantic client gets an error for it).
    pub wildcard: bool,
}

#[derive(Debug, Default)]
pub struct MatchCache {
    generation: u64,
    entries: hashbrown::HashMap<Box<[u8]>, Cached, FxBuildHasher>,
    /// The last subject used once (see [`is_single_use`]), kept apart so it
    /// pushes nothing out of `entries`.
    single_use: Option<Cached>,
}

/// Subjects a client publishes to once: a JetStream acknowledgement names its
/// message. Caching them would only evict the subjects that repeat.
fn is_single_use(subject: &[u8]) -> bool {
    subject.starts_with(b"$JS.ACK.")
}

impl MatchCache {
    /// The subscribers of a published `subject`, or `None` when the subject is not
    /// valid (empty tokens). A subject with wildcard tokens is valid here: it is
    /// routed as literal text, as in the reference.
    #[inline]
    pub fn lookup(&mut self, sublist: &Sublist<SubRef>, subject: &[u8]) -> Option<&Cached> {
        if is_single_use(subject) {
            if !subject::is_valid_subscribe_subject(subject) {
                return None;
            }
            let cached = Cached {
                result: sublist.matches_uncached(subject),
                wildcard: !subject::is_literal(subject),
            };
            return Some(self.single_use.insert(cached));
        }
        let generation = sublist.generation();
        if generation != self.generation {
            self.entries.clear();
            self.generation = generation;
        }
        if self.entries.len() >= CLIENT_CACHE_MAX && !self.entries.contains_key(subject) {
            self.entries.clear();
        }
        // One hash and one probe for a hit, the path of every PUB to a known subject.
        match self.entries.entry_ref(subject) {
            EntryRef::Occupied(entry) => Some(entry.into_mut()),
            EntryRef::Vacant(entry) => {
                if !subject::is_valid_subscribe_subject(subject) {
                    return None;
                }
                let cached = Cached {
                    result: sublist.matches(subject),
                    wildcard: !subject::is_literal(subject),
                };
                Some(entry.insert_with_key(Box::from(subject), cached))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use proptest::prelude::*;

    use super::*;
    use crate::accounts::Account;
    use crate::client::ClientShared;
    use crate::subscription::{Subscriber, Subscription};

    /// What the cache stands in for: the shared index asked every time.
    fn uncached(sublist: &Sublist<SubRef>, subject: &[u8]) -> Option<Vec<usize>> {
        subject::is_valid_subscribe_subject(subject).then(|| sids(&sublist.matches(subject)))
    }

    /// The (plain) subscriptions of a result, by address, in a stable order.
    fn sids(result: &MatchResult<SubRef>) -> Vec<usize> {
        let mut out: Vec<usize> = result
            .plain
            .iter()
            .map(|s| Arc::as_ptr(&s.0) as usize)
            .collect();
        out.sort_unstable();
        out
    }

    #[derive(Debug, Clone)]
    enum Step {
        Lookup(String),
        Subscribe(String),
    }

    fn step() -> impl Strategy<Value = Step> {
        // Some under `$JS.ACK.`, which take the single-use path.
        let subject = "(\\$JS\\.ACK\\.)?(a|b|c|\\*|>|)(\\.(a|b|c|\\*|>|[0-9]{1,3}|)){0,3}";
        prop_oneof![
            8 => subject.prop_map(Step::Lookup),
            1 => "(\\$JS\\.ACK\\.)?(a|b|\\*)(\\.(a|b|\\*|>)){0,2}".prop_map(Step::Subscribe),
        ]
    }

    #[test]
    fn acknowledgements_do_not_push_out_cached_subjects() {
        let sublist: Sublist<SubRef> = Sublist::new(true);
        let mut cache = MatchCache::default();
        assert!(cache.lookup(&sublist, b"orders.new").is_some());
        for n in 0..CLIENT_CACHE_MAX * 2 {
            let ack = format!("$JS.ACK.S.C.1.{n}.{n}.0.0");
            assert!(cache.lookup(&sublist, ack.as_bytes()).is_some());
        }
        assert!(cache.lookup(&sublist, b"$JS.ACK..x").is_none());
        assert_eq!(cache.entries.len(), 1);
        assert!(cache.entries.contains_key(b"orders.new".as_slice()));
        assert_eq!(sublist.cache_len(), 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the mix of lookups (repeated, new, invalid, past the size
        /// limit) and new subscriptions, the cache answers as the index does.
        #[test]
        fn answers_as_the_index_does(steps in prop::collection::vec(step(), 1..400)) {
            let sublist: Sublist<SubRef> = Sublist::new(true);
            let addr: SocketAddr = ([127, 0, 0, 1], 4222).into();
            let client = Arc::new(ClientShared::new(1, addr, 1 << 20));
            let account = Arc::new(Account::new("A", true));
            let mut cache = MatchCache::default();
            for (n, step) in steps.iter().enumerate() {
                match step {
                    Step::Lookup(subject) => {
                        let got = cache
                            .lookup(&sublist, subject.as_bytes())
                            .map(|c| sids(&c.result));
                        prop_assert_eq!(got, uncached(&sublist, subject.as_bytes()), "{}", subject);
                    }
                    Step::Subscribe(subject) => {
                        let sid = n.to_string();
                        let sub = Subscription::new(
                            Subscriber::Client(Arc::clone(&client)),
                            &account,
                            subject.as_bytes(),
                            None,
                            sid.as_bytes(),
                        );
                        let _ = sublist.insert(subject.as_bytes(), None, SubRef(Arc::new(sub)));
                    }
                }
            }
        }
    }
}
