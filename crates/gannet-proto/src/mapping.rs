//! Subject mappings of an account (nats-server's `AddWeightedMappings` and
//! `selectMappedSubject`): a source subject or pattern, and the destinations
//! a message published to it goes to instead, each with a weight in percent
//! and, optionally, the cluster it applies in.
//!
//! Weights of the destinations of one cluster scope (or of none) add up to
//! at most 100. When they add up to less, the rest goes to the source
//! subject itself, unchanged, unless the source is listed among the
//! destinations: then the rest is dropped (a mapping that loses a share of
//! its messages on purpose). A message takes one destination, chosen by a
//! roll of 0 to 99 against the running sum of the weights. Destinations
//! scoped to the server's cluster are used instead of the unscoped ones
//! when there are any.
use std::collections::HashSet;

use crate::subject::{is_literal, is_valid_subscribe_subject, pattern_matches};
use crate::transform::{identity_destination, validate_mapping, SubjectTransform};

/// One destination of a mapping, as written in a config or an account JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The destination subject template.
    pub subject: String,
    /// Share of the messages, in percent (0 to 100).
    pub weight: u8,
    /// The cluster it applies in; empty for every cluster.
    pub cluster: String,
}

/// A compiled mapping: a source and its weighted destinations.
#[derive(Debug, Clone)]
pub struct Mapping {
    source: String,
    /// The source has wildcards (else it matches one subject exactly).
    wildcard: bool,
    /// Unscoped destinations, by running weight.
    everywhere: Vec<Weighted>,
    /// Destinations scoped to a cluster, by running weight.
    by_cluster: Vec<(String, Vec<Weighted>)>,
}

/// A destination and the running sum of weights up to and including it.
#[derive(Debug, Clone)]
struct Weighted {
    transform: SubjectTransform,
    upto: u8,
}

impl Mapping {
    /// Compiles `source` and its `destinations`; the error says why they do
    /// not make a mapping (nats-server's texts).
    pub fn new(source: &str, destinations: &[Destination]) -> Result<Mapping, String> {
        if !is_valid_subscribe_subject(source.as_bytes()) {
            return Err("invalid subject".to_string());
        }
        let mut seen = HashSet::new();
        let mut totals: Vec<(&str, u16)> = Vec::new();
        let mut everywhere = Vec::new();
        let mut by_cluster: Vec<(String, Vec<(SubjectTransform, u8)>)> = Vec::new();
        for d in destinations {
            if !seen.insert(d.subject.as_str()) {
                return Err(format!("duplicate entry for {:?}", d.subject));
            }
            if d.weight > 100 {
                return Err("individual weights need to be <= 100".to_string());
            }
            let total = match totals.iter_mut().find(|(c, _)| *c == d.cluster) {
                Some((_, t)) => t,
                None => {
                    totals.push((&d.cluster, 0));
                    let last = totals.len() - 1;
                    &mut totals[last].1
                }
            };
            *total += u16::from(d.weight);
            if *total > 100 {
                return Err("total weight needs to be <= 100".to_string());
            }
            validate_mapping(source, &d.subject).map_err(|e| e.to_string())?;
            let transform = SubjectTransform::new(source, &d.subject).map_err(|e| e.to_string())?;
            if d.cluster.is_empty() {
                everywhere.push((transform, d.weight));
            } else {
                match by_cluster.iter_mut().find(|(c, _)| *c == d.cluster) {
                    Some((_, list)) => list.push((transform, d.weight)),
                    None => by_cluster.push((d.cluster.clone(), vec![(transform, d.weight)])),
                }
            }
        }
        let source_listed = seen.contains(source);
        let finish = |dests| finish_weights(source, dests, source_listed);
        Ok(Mapping {
            source: source.to_string(),
            wildcard: !is_literal(source.as_bytes()),
            everywhere: finish(everywhere)?,
            by_cluster: by_cluster
                .into_iter()
                .map(|(c, d)| Ok((c, finish(d)?)))
                .collect::<Result<_, String>>()?,
        })
    }

    /// The source subject or pattern.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether some destinations apply in one cluster only (so [`map`]
    /// needs the server's cluster name).
    ///
    /// [`map`]: Mapping::map
    pub fn is_cluster_scoped(&self) -> bool {
        !self.by_cluster.is_empty()
    }

    /// Whether a published (literal) `subject` is this mapping's source.
    pub fn matches(&self, subject: &[u8]) -> bool {
        if self.wildcard {
            pattern_matches(self.source.as_bytes(), subject)
        } else {
            self.source.as_bytes() == subject
        }
    }

    /// Where a message published to `subject` (which [`matches`]) goes, in
    /// a server of `cluster`, for a `roll` of 0 to 99; `None` when it falls
    /// in a share the mapping drops.
    ///
    /// [`matches`]: Mapping::matches
    pub fn map(&self, subject: &[u8], cluster: &str, roll: u8) -> Option<Vec<u8>> {
        let dests = self
            .by_cluster
            .iter()
            .find(|(c, _)| c == cluster)
            .map_or(&self.everywhere, |(_, d)| d);
        let chosen = match dests.as_slice() {
            [only] if only.upto == 100 => only,
            _ => dests.iter().find(|d| roll < d.upto)?,
        };
        // As in nats-server, a literal source hands the transform no tokens:
        // a `{{partition(n)}}` there hashes the empty subject.
        let input: &[u8] = if self.wildcard { subject } else { b"" };
        Some(chosen.transform.transform_matched(input))
    }
}

/// Adds the share that keeps the source subject (unless the source is one
/// of the destinations), orders the destinations by weight and turns the
/// weights into running sums.
fn finish_weights(
    source: &str,
    mut dests: Vec<(SubjectTransform, u8)>,
    source_listed: bool,
) -> Result<Vec<Weighted>, String> {
    let total: u16 = dests.iter().map(|(_, w)| u16::from(*w)).sum();
    if total != 100 && !source_listed {
        let keep = SubjectTransform::new(source, &identity_destination(source))
            .map_err(|e| e.to_string())?;
        let rest = if dests.is_empty() {
            100
        } else {
            100u8.saturating_sub(u8::try_from(total).unwrap_or(100))
        };
        dests.push((keep, rest));
    }
    dests.sort_by_key(|(_, w)| *w);
    let mut upto = 0u8;
    Ok(dests
        .into_iter()
        .map(|(transform, weight)| {
            upto = upto.saturating_add(weight);
            Weighted { transform, upto }
        })
        .collect())
}

/// The mappings of one account, tried in order: the first whose source
/// matches a published subject applies.
#[derive(Debug, Clone, Default)]
pub struct Mappings {
    list: Vec<Mapping>,
}

impl Mappings {
    /// Mappings in the order given; a later one for the same source
    /// replaces the earlier.
    pub fn new(list: Vec<Mapping>) -> Mappings {
        let mut kept: Vec<Mapping> = Vec::with_capacity(list.len());
        for m in list {
            match kept.iter_mut().find(|k| k.source == m.source) {
                Some(k) => *k = m,
                None => kept.push(m),
            }
        }
        Mappings { list: kept }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The source subjects or patterns, in order.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(Mapping::source)
    }

    /// The mapping that applies to `subject`, if any.
    pub fn find(&self, subject: &[u8]) -> Option<&Mapping> {
        self.list.iter().find(|m| m.matches(subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(subject: &str, weight: u8, cluster: &str) -> Destination {
        Destination {
            subject: subject.into(),
            weight,
            cluster: cluster.into(),
        }
    }

    fn map(m: &Mapping, subject: &str, cluster: &str, roll: u8) -> Option<String> {
        m.map(subject.as_bytes(), cluster, roll)
            .map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn a_single_destination_takes_everything() {
        let m = Mapping::new("a.*.*", &[dest("b.$2.$1", 100, "")]).unwrap();
        assert!(m.matches(b"a.x.y"));
        assert!(!m.matches(b"a.x"));
        for roll in [0, 50, 99] {
            assert_eq!(map(&m, "a.x.y", "", roll).as_deref(), Some("b.y.x"));
        }
        let literal = Mapping::new("orders", &[dest("orders.v2", 100, "")]).unwrap();
        assert!(literal.matches(b"orders") && !literal.matches(b"orders.x"));
        assert_eq!(map(&literal, "orders", "", 7).as_deref(), Some("orders.v2"));
    }

    #[test]
    fn weights_split_by_roll_and_the_rest_keeps_the_source() {
        let m = Mapping::new("svc", &[dest("svc.new", 10, ""), dest("svc.old", 60, "")]).unwrap();
        // Sorted by weight: new (0..10), kept source (10..40), old (40..100).
        assert_eq!(map(&m, "svc", "", 0).as_deref(), Some("svc.new"));
        assert_eq!(map(&m, "svc", "", 9).as_deref(), Some("svc.new"));
        assert_eq!(map(&m, "svc", "", 10).as_deref(), Some("svc"));
        assert_eq!(map(&m, "svc", "", 39).as_deref(), Some("svc"));
        assert_eq!(map(&m, "svc", "", 40).as_deref(), Some("svc.old"));
        assert_eq!(map(&m, "svc", "", 99).as_deref(), Some("svc.old"));
        // A wildcard source keeps the subject as published.
        let m = Mapping::new("a.*", &[dest("b.$1", 50, "")]).unwrap();
        let kept: Vec<_> = (0..100).filter_map(|r| map(&m, "a.q", "", r)).collect();
        assert_eq!(kept.iter().filter(|s| *s == "a.q").count(), 50);
        assert_eq!(kept.iter().filter(|s| *s == "b.q").count(), 50);
    }

    #[test]
    fn listing_the_source_drops_the_rest() {
        let m = Mapping::new("svc", &[dest("svc", 20, ""), dest("svc.x", 30, "")]).unwrap();
        let outcomes: Vec<_> = (0..100).map(|r| map(&m, "svc", "", r)).collect();
        assert_eq!(outcomes.iter().filter(|o| o.is_none()).count(), 50);
        assert_eq!(
            outcomes
                .iter()
                .filter(|o| o.as_deref() == Some("svc"))
                .count(),
            20
        );
    }

    #[test]
    fn cluster_scoped_destinations_win_in_their_cluster() {
        let m = Mapping::new("q", &[dest("q.east", 100, "east"), dest("q.any", 100, "")]).unwrap();
        assert_eq!(map(&m, "q", "east", 5).as_deref(), Some("q.east"));
        assert_eq!(map(&m, "q", "west", 5).as_deref(), Some("q.any"));
        assert_eq!(map(&m, "q", "", 5).as_deref(), Some("q.any"));
    }

    #[test]
    fn bad_mappings_say_why() {
        let err = |source: &str, dests: &[Destination]| Mapping::new(source, dests).unwrap_err();
        assert_eq!(err("a..b", &[dest("x", 100, "")]), "invalid subject");
        assert_eq!(
            err("a", &[dest("x", 60, ""), dest("x", 40, "")]),
            "duplicate entry for \"x\""
        );
        assert_eq!(
            err("a", &[dest("x", 101, "")]),
            "individual weights need to be <= 100"
        );
        assert_eq!(
            err("a", &[dest("x", 60, ""), dest("y", 50, "")]),
            "total weight needs to be <= 100"
        );
        // Per cluster, totals are apart.
        assert!(Mapping::new("a", &[dest("x", 60, "c1"), dest("y", 60, "c2")]).is_ok());
        assert!(err("a.*", &[dest("x.$2", 100, "")]).contains("wildcard index out of range"));
        assert!(err("a", &[dest("x.{{nope(1)}}", 100, "")]).contains("unknown function"));
    }

    #[test]
    fn the_first_matching_mapping_applies_and_later_sources_replace() {
        let a = Mapping::new("a.>", &[dest("wide.>", 100, "")]).unwrap();
        let b = Mapping::new("a.b", &[dest("narrow", 100, "")]).unwrap();
        let b2 = Mapping::new("a.b", &[dest("narrower", 100, "")]).unwrap();
        let all = Mappings::new(vec![b, a, b2]);
        assert_eq!(all.find(b"a.b").unwrap().source(), "a.b");
        assert_eq!(
            map(all.find(b"a.b").unwrap(), "a.b", "", 0).as_deref(),
            Some("narrower")
        );
        assert_eq!(all.find(b"a.c").unwrap().source(), "a.>");
        assert!(all.find(b"z").is_none());
        assert!(Mappings::default().is_empty());
    }
}
