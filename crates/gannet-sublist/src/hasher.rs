//! [`KeyedHasher`]: the hasher of every map in the index (subject tokens,
//! queue names, cached subjects, subscriptions).
//!
//! Those keys are chosen by clients, so the hash must be keyed with a secret
//! (or a client could subscribe to many tokens that land in one bucket). std's
//! `RandomState` is keyed from the operating system's random source but runs
//! SipHash, which is several times slower than a multiply-fold hash on the
//! short tokens of a subject. This is foldhash (the hash hashbrown uses by
//! default), keyed once per process from std's `RandomState` (so from the
//! operating system, not from addresses and the clock as foldhash's own
//! `RandomState` is), with a fresh per-map seed from the same source.

use std::hash::{BuildHasher, RandomState};
use std::sync::LazyLock;

use foldhash::fast::{FoldHasher, SeedableRandomState};
use foldhash::SharedSeed;

/// The process-wide part of the key.
static SHARED_SEED: LazyLock<SharedSeed> = LazyLock::new(|| SharedSeed::from_u64(os_random_u64()));

/// 64 bits derived from a fresh std `RandomState`, whose SipHash keys come
/// from the operating system.
fn os_random_u64() -> u64 {
    RandomState::new().hash_one(0u8)
}

/// A randomly keyed foldhash [`BuildHasher`]; each `default()` draws a new
/// per-map seed.
#[derive(Clone)]
pub(crate) struct KeyedHasher(SeedableRandomState);

impl Default for KeyedHasher {
    fn default() -> Self {
        Self(SeedableRandomState::with_seed(
            os_random_u64(),
            &SHARED_SEED,
        ))
    }
}

impl BuildHasher for KeyedHasher {
    type Hasher = FoldHasher<'static>;

    #[inline]
    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_get_different_keys() {
        let a = KeyedHasher::default();
        let b = KeyedHasher::default();
        let token: &[u8] = b"orders";
        assert_ne!(a.hash_one(token), b.hash_one(token));
        assert_eq!(a.hash_one(token), a.clone().hash_one(token));
    }
}
