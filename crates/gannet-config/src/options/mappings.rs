//! `mappings` (alias `maps`), at the top level for the global account and
//! inside an account: publishes to a source subject are sent on to another
//! subject, or to one of several chosen by weight (nats-server's
//! `parseAccountMappings` and `parseAccountMapDest`; error texts are the
//! reference's).
//!
//! ```text
//! mappings {
//!   orders: "orders.v2"
//!   "req.*.*": "req.{{wildcard(2)}}.{{wildcard(1)}}"
//!   canary: [ { destination: "svc.new", weight: 10% }, { destination: "svc.old", weight: 90% } ]
//!   local: { destination: "here", weight: 100, cluster: "east" }
//! }
//! ```
use gannet_proto::mapping::{Destination, Mapping};
use gannet_proto::subject::is_valid_subscribe_subject;

use crate::conf::{Entry, Kind, Pos, Value};
use crate::options::convert::{go_value, Report};

/// One source subject and where its messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectMapping {
    /// The subject (or wildcard pattern) published to.
    pub source: String,
    /// Where to, with weights in percent and optional cluster scopes.
    pub destinations: Vec<Destination>,
}

/// Reads a `mappings` entry; entries with errors are left out, the errors
/// recorded.
pub(crate) fn parse(entry: &Entry, r: &mut Report) -> Vec<SubjectMapping> {
    let Some(map) = r.map(entry) else {
        return Vec::new();
    };
    let mut out: Vec<SubjectMapping> = Vec::new();
    for e in map {
        if !is_valid_subscribe_subject(e.key.as_bytes()) {
            // Reported at the block, as nats-server does.
            r.error(entry, format!("Subject {:?} is not a valid subject", e.key));
            continue;
        }
        let destinations = match &e.value.kind {
            Kind::String(to) => vec![Destination {
                subject: to.clone(),
                weight: 100,
                cluster: String::new(),
            }],
            Kind::Array(items) => {
                let mut dests = Vec::new();
                let before = r.errors.len();
                for item in items {
                    if let Some(d) = destination(item, &item.pos, r) {
                        dests.push(d);
                    }
                }
                if r.errors.len() != before {
                    continue;
                }
                dests
            }
            _ => match destination(&e.value, &e.key_pos, r) {
                Some(d) => vec![d],
                None => continue,
            },
        };
        if let Err(why) = Mapping::new(&e.key, &destinations) {
            let message = match &e.value.kind {
                Kind::String(to) => {
                    format!("Error adding mapping for {:?} to {to:?} : {why}", e.key)
                }
                _ => format!("Error adding mapping for {:?} : {why}", e.key),
            };
            r.error(e, message);
            continue;
        }
        // A later entry for the same source replaces the earlier one.
        out.retain(|m| m.source != e.key);
        out.push(SubjectMapping {
            source: e.key.clone(),
            destinations,
        });
    }
    out
}

/// `{ destination: s, weight: n | "n%", cluster: c }`. Errors about the
/// entry as a whole are reported at `at` (the element of a list, or the
/// mapping's key).
fn destination(item: &Value, at: &Pos, r: &mut Report) -> Option<Destination> {
    let Some(map) = item.as_map() else {
        r.error_at(at, "Expected an entry for the mapping destination");
        return None;
    };
    let mut dest = Destination {
        subject: String::new(),
        weight: 0,
        cluster: String::new(),
    };
    let mut weighted = false;
    for e in map {
        match e.key.to_ascii_lowercase().as_str() {
            "dest" | "destination" => dest.subject = r.string(e)?.to_string(),
            "weight" => {
                let weight = match &e.value.kind {
                    Kind::String(s) => {
                        let digits = s.strip_suffix('%').unwrap_or(s);
                        match digits.parse::<i64>() {
                            Ok(n) => n,
                            Err(_) => {
                                r.error(
                                    e,
                                    format!("Invalid weight {digits:?} for mapping destination"),
                                );
                                return None;
                            }
                        }
                    }
                    Kind::Integer(n) => *n,
                    _ => {
                        r.error(
                            e,
                            format!("Unknown entry type for weight of {}", go_value(&e.value)),
                        );
                        return None;
                    }
                };
                let Some(weight) = u8::try_from(weight).ok().filter(|w| *w <= 100) else {
                    r.error(
                        e,
                        format!("Invalid weight {weight} for mapping destination"),
                    );
                    return None;
                };
                dest.weight = weight;
                weighted = true;
            }
            "cluster" => dest.cluster = r.string(e)?.to_string(),
            _ => {
                r.error(
                    e,
                    format!("Unknown field {:?} for mapping destination", e.key),
                );
                return None;
            }
        }
    }
    if !weighted {
        r.error_at(
            at,
            format!("Missing weight for mapping destination {:?}", dest.subject),
        );
        return None;
    }
    Some(dest)
}
