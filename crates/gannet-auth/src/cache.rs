//! [`PublishCache`]: a small per-client memo of publish decisions, so a client
//! that keeps publishing to the same subjects pays one hash lookup per PUB
//! instead of a scan of its allow and deny lists (nats-server's per-client
//! `perms.pcache` in `client.go`, with its size cap and pruning).

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use crate::permissions::Permissions;

/// Most subjects remembered per client. Past this, half the entries are
/// dropped before the next one is stored (nats-server caps its cache at 128
/// too).
pub const PUBLISH_CACHE_MAX: usize = 128;

/// Longest subject worth remembering; longer ones are checked every time so
/// the cache stays under `PUBLISH_CACHE_MAX * PUBLISH_CACHE_MAX_SUBJECT`
/// bytes of keys (32 KiB) per client.
pub const PUBLISH_CACHE_MAX_SUBJECT: usize = 256;

/// Per-client cache of `subject → may publish`. Keep one per connection and
/// pass the connection's current [`Permissions`] to every
/// [`PublishCache::check`]; the cache empties itself when they change (on
/// reload).
#[derive(Debug, Default)]
pub struct PublishCache {
    /// The [`Permissions::id`] the entries were computed for.
    perms_id: u64,
    /// Fx hashing: the keys are client-chosen, but with at most
    /// [`PUBLISH_CACHE_MAX`] entries colliding ones cannot cost much.
    entries: HashMap<Box<[u8]>, bool, FxBuildHasher>,
}

impl PublishCache {
    pub fn new() -> PublishCache {
        PublishCache::default()
    }

    /// `perms.can_publish(subject)`, remembered.
    pub fn check(&mut self, perms: &Permissions, subject: &[u8]) -> bool {
        if perms.publish_unrestricted() {
            return true;
        }
        if self.perms_id != perms.id() {
            self.entries.clear();
            self.perms_id = perms.id();
        }
        if let Some(&allowed) = self.entries.get(subject) {
            return allowed;
        }
        let allowed = perms.can_publish(subject);
        if subject.len() <= PUBLISH_CACHE_MAX_SUBJECT {
            if self.entries.len() >= PUBLISH_CACHE_MAX {
                self.prune();
            }
            self.entries.insert(subject.into(), allowed);
        }
        allowed
    }

    /// How many subjects are remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops half the entries (in hash order, so effectively at random).
    fn prune(&mut self) {
        let mut seen = 0usize;
        self.entries.retain(|_, _| {
            seen += 1;
            seen > PUBLISH_CACHE_MAX / 2
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gannet_config::options::{Permissions as ConfigPermissions, SubjectPermission};

    fn allow(subjects: &[&str]) -> Permissions {
        Permissions::compile(
            &ConfigPermissions {
                publish: Some(SubjectPermission {
                    allow: Some(subjects.iter().map(|s| s.to_string()).collect()),
                    deny: Some(vec!["a.secret".to_string()]),
                }),
                ..Default::default()
            },
            None,
            false,
        )
        .unwrap()
    }

    #[test]
    fn remembers_both_answers() {
        let p = allow(&["a.>"]);
        let mut c = PublishCache::new();
        assert!(c.check(&p, b"a.b"));
        assert!(!c.check(&p, b"a.secret"));
        assert!(!c.check(&p, b"b"));
        assert_eq!(c.len(), 3);
        assert!(c.check(&p, b"a.b"));
        assert!(!c.check(&p, b"a.secret"));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn unrestricted_permissions_skip_the_cache() {
        let p = Permissions::compile(&ConfigPermissions::default(), None, false).unwrap();
        let mut c = PublishCache::new();
        assert!(c.check(&p, b"x"));
        assert!(c.is_empty());
    }

    #[test]
    fn new_permissions_empty_the_cache() {
        let old = allow(&["a.>"]);
        let new = allow(&["b.>"]);
        let mut c = PublishCache::new();
        assert!(c.check(&old, b"a.x"));
        assert!(!c.check(&new, b"a.x"), "stale answer not reused");
        assert!(c.check(&new, b"b.x"));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn stays_bounded() {
        let p = allow(&["a.>"]);
        let mut c = PublishCache::new();
        for i in 0..10 * PUBLISH_CACHE_MAX {
            let s = format!("a.{i}");
            assert!(c.check(&p, s.as_bytes()));
            assert!(c.len() <= PUBLISH_CACHE_MAX);
        }
        let long = format!("a.{}", "x".repeat(PUBLISH_CACHE_MAX_SUBJECT));
        let before = c.len();
        assert!(c.check(&p, long.as_bytes()));
        assert_eq!(c.len(), before, "long subjects are not stored");
    }
}
