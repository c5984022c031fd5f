//! `server report routes`: ROUTEZ from every server
//! (`$SYS.REQ.SERVER.PING.ROUTEZ`) as a "Cluster routes" table, one row per
//! route, then natscli-style `WARNING:` lines for servers of a cluster that
//! are not meshed: a pair without a route between them, a route to a server
//! that did not answer, fewer answers than expected.
//!
//! Replies are gathered within `--timeout` like the other reports': up to
//! the `LIMIT` argument when given; with a filter, until replies stop coming
//! (natscli's adaptive wait); else up to the server count the connected
//! server reports and, beyond it, until every server a route leads to has
//! answered, so a server that under-reports the size of its cluster still
//! yields the whole mesh (against one that reports it right this stops at
//! the same reply as the count does).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use clap::{Args, ValueEnum};
use serde_json::Map;

use crate::connect::Connector;
use crate::format::number;
use crate::session::Session;
use crate::table::Table;

use super::model::{RouteInfo, Routez, Traffic};
use super::report::FilterFlags;
use super::sys::{self, Mesh, Wait};
use super::view::{counted, first_set, size, traffic_cells};

const SUBJECT: &str = "$SYS.REQ.SERVER.PING.ROUTEZ";

#[derive(Debug, Args)]
pub struct RoutesArgs {
    /// Limit the responses to a certain amount of servers
    #[arg(value_name = "LIMIT")]
    servers: Option<usize>,
    /// Sort by a specific property (ties by server, then remote)
    #[arg(long, value_enum, default_value = "server")]
    sort: RouteSort,
    #[command(flatten)]
    filter: FilterFlags,
    /// Produce JSON output (the replies as received)
    #[arg(short = 'j', long)]
    json: bool,
}

/// natscli's `report routes --sort` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RouteSort {
    Server,
    Cluster,
    Name,
    Account,
    Subs,
    InBytes,
    OutBytes,
}

/// One server's ROUTEZ reply.
#[derive(Debug, Clone)]
struct Answer {
    name: String,
    id: String,
    cluster: String,
    routes: Vec<RouteInfo>,
}

impl Answer {
    fn decode(payload: &[u8]) -> anyhow::Result<Answer> {
        let (server, routez) = sys::decode_data::<Routez>(SUBJECT, payload)?;
        let id = first_set(&[&server.id, &routez.server_id]);
        let name = first_set(&[&server.name, &routez.server_name, &id]);
        Ok(Answer {
            name,
            id,
            cluster: server.cluster,
            routes: routez.routes,
        })
    }

    /// The ids of the servers its routes lead to.
    fn peers(&self) -> impl Iterator<Item = &str> {
        self.routes
            .iter()
            .map(|route| route.remote_id.as_str())
            .filter(|id| !id.is_empty())
    }

    /// Whether one of its routes leads to `other`.
    fn routes_to(&self, other: &Answer) -> bool {
        self.routes.iter().any(|route| {
            if route.remote_id.is_empty() {
                route.remote_name == other.name
            } else {
                route.remote_id == other.id
            }
        })
    }
}

/// The remote's name, or its id when the server does not send names.
fn remote_label(route: &RouteInfo) -> &str {
    if route.remote_name.is_empty() {
        &route.remote_id
    } else {
        &route.remote_name
    }
}

/// How long to gather replies.
enum Until {
    /// This many (the `LIMIT` argument).
    Count(usize),
    /// Until none came for a short spell (a filter leaves out servers).
    Quiet,
    /// Until the whole mesh answered.
    Mesh(Mesh),
}

pub(super) async fn run(
    session: &mut Session,
    connector: &Connector,
    args: RoutesArgs,
    reverse: bool,
) -> anyhow::Result<()> {
    let filter = args.filter.filter();
    let mut until = match args.servers.filter(|&n| n > 0) {
        Some(count) => Until::Count(count),
        None if !filter.is_empty() => Until::Quiet,
        None => Until::Mesh(Mesh::new(
            sys::active_servers(session, connector.timeout).await?,
        )),
    };
    let wait = match &until {
        Until::Count(count) => Wait::Count(*count),
        Until::Mesh(mesh) if mesh.expected > 0 => Wait::Timeout,
        Until::Quiet | Until::Mesh(_) => Wait::Quiet,
    };

    let gathered = sys::gather_answers(
        session,
        SUBJECT,
        sys::request_body(Map::new(), &filter),
        wait,
        connector.timeout,
        Answer::decode,
        |answer| match &mut until {
            Until::Mesh(mesh) => mesh.add(&answer.id, answer.peers()),
            Until::Count(_) | Until::Quiet => false,
        },
    )
    .await?;
    if args.json {
        println!("{}", gathered.json());
        return Ok(());
    }
    let answers = gathered.decoded;

    let view = RouteView {
        sort: args.sort,
        reverse,
    };
    print!("{}", view.render(&answers));
    let checks = match until {
        Until::Count(count) => Checks {
            expected: Some(count),
            unanswered: false,
        },
        Until::Quiet => Checks {
            expected: None,
            unanswered: false,
        },
        Until::Mesh(mesh) => Checks {
            expected: (mesh.expected > 0).then_some(mesh.expected),
            unanswered: true,
        },
    };
    let warnings = checks.problems(&answers);
    if !warnings.is_empty() {
        println!();
        for warning in warnings {
            println!("WARNING: {warning}");
        }
    }
    Ok(())
}

/// How the routes table is ordered.
struct RouteView {
    sort: RouteSort,
    reverse: bool,
}

impl RouteView {
    fn order(&self, a: &(&Answer, &RouteInfo), b: &(&Answer, &RouteInfo)) -> Ordering {
        let (sa, ra) = a;
        let (sb, rb) = b;
        let key = match self.sort {
            RouteSort::Server => Ordering::Equal,
            RouteSort::Cluster => sa.cluster.cmp(&sb.cluster),
            RouteSort::Name => remote_label(ra).cmp(remote_label(rb)),
            RouteSort::Account => ra.account.cmp(&rb.account),
            RouteSort::Subs => ra.traffic.num_subs.cmp(&rb.traffic.num_subs),
            RouteSort::InBytes => ra.traffic.in_bytes.cmp(&rb.traffic.in_bytes),
            RouteSort::OutBytes => ra.traffic.out_bytes.cmp(&rb.traffic.out_bytes),
        };
        let order = key
            .then_with(|| sa.name.cmp(&sb.name))
            .then_with(|| remote_label(ra).cmp(remote_label(rb)))
            .then_with(|| ra.rid.cmp(&rb.rid));
        if self.reverse {
            order.reverse()
        } else {
            order
        }
    }

    fn render(&self, answers: &[Answer]) -> String {
        let mut routes: Vec<(&Answer, &RouteInfo)> = answers
            .iter()
            .flat_map(|answer| answer.routes.iter().map(move |route| (answer, route)))
            .collect();
        routes.sort_by(|a, b| self.order(a, b));

        let mut table = Table::new(format!(
            "Cluster routes ({}, {})",
            counted(answers.len(), "server"),
            counted(routes.len(), "route")
        ));
        table.headers([
            "Server",
            "Remote",
            "Direction",
            "Configured",
            "Address",
            "Uptime",
            "RTT",
            "In Msgs",
            "Out Msgs",
            "In Bytes",
            "Out Bytes",
            "Pending",
            "Subs",
        ]);
        let (mut traffic, mut pending) = (Traffic::default(), 0i64);
        for (answer, route) in &routes {
            traffic += route.traffic;
            pending += route.pending_size;
            let [in_msgs, out_msgs, in_bytes, out_bytes] = traffic_cells(&route.traffic);
            table.row([
                answer.name.clone(),
                remote_label(route).to_string(),
                if route.did_solicit {
                    "Outbound"
                } else {
                    "Inbound"
                }
                .to_string(),
                if route.is_configured { "yes" } else { "no" }.to_string(),
                format!("{}:{}", route.ip, route.port),
                route.uptime.clone(),
                route.rtt.clone(),
                in_msgs,
                out_msgs,
                in_bytes,
                out_bytes,
                size(route.pending_size),
                number(route.traffic.num_subs),
            ]);
        }
        if routes.len() > 1 {
            let [in_msgs, out_msgs, in_bytes, out_bytes] = traffic_cells(&traffic);
            table.footer([
                String::new(),
                format!("Totals for {}", counted(routes.len(), "route")),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                in_msgs,
                out_msgs,
                in_bytes,
                out_bytes,
                size(pending),
                number(traffic.num_subs),
            ]);
        }
        table.render()
    }
}

/// Which mesh problems to look for besides unrouted pairs.
struct Checks {
    /// The number of servers that should have answered, when known.
    expected: Option<usize>,
    /// Whether a route to a server that did not answer is a problem (not
    /// when a limit or a filter leaves servers out).
    unanswered: bool,
}

impl Checks {
    /// The warnings, in a stable order.
    fn problems(&self, answers: &[Answer]) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Some(expected) = self.expected {
            if answers.len() < expected {
                warnings.push(format!(
                    "expected {} but only {} answered",
                    counted(expected, "server"),
                    answers.len()
                ));
            }
        }

        if self.unanswered {
            let answered: BTreeSet<&str> = answers.iter().map(|a| a.id.as_str()).collect();
            // Remote (by id) → its label and the servers routed to it.
            let mut missing: BTreeMap<&str, (&str, BTreeSet<&str>)> = BTreeMap::new();
            for answer in answers {
                for route in &answer.routes {
                    if route.remote_id.is_empty() || answered.contains(route.remote_id.as_str()) {
                        continue;
                    }
                    missing
                        .entry(&route.remote_id)
                        .or_insert_with(|| (remote_label(route), BTreeSet::new()))
                        .1
                        .insert(&answer.name);
                }
            }
            let mut missing: Vec<_> = missing.into_values().collect();
            missing.sort();
            for (remote, from) in missing {
                let from: Vec<&str> = from.into_iter().collect();
                warnings.push(format!(
                    "{remote} did not answer, though {} {} a route to it",
                    from.join(", "),
                    if from.len() == 1 { "has" } else { "have" }
                ));
            }
        }

        // Servers of a cluster should all be routed to each other. A server
        // that names no cluster and has no route is not clustered (a leaf
        // node's, say), not a broken one.
        let mut clusters: BTreeMap<&str, Vec<&Answer>> = BTreeMap::new();
        for answer in answers {
            if answer.cluster.is_empty() && answer.routes.is_empty() {
                continue;
            }
            clusters.entry(&answer.cluster).or_default().push(answer);
        }
        for (cluster, mut members) in clusters {
            members.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
            let within = if cluster.is_empty() {
                String::new()
            } else {
                format!(" in cluster {cluster}")
            };
            for (i, a) in members.iter().enumerate() {
                for b in &members[i + 1..] {
                    match (a.routes_to(b), b.routes_to(a)) {
                        (true, true) => {}
                        (false, false) => warnings.push(format!(
                            "{} and {}{within} are not routed to each other",
                            a.name, b.name
                        )),
                        (false, true) => warnings.push(format!(
                            "{} has no route to {}{within}, though {} has one to {}",
                            a.name, b.name, b.name, a.name
                        )),
                        (true, false) => warnings.push(format!(
                            "{} has no route to {}{within}, though {} has one to {}",
                            b.name, a.name, a.name, b.name
                        )),
                    }
                }
            }
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ROUTEZ reply of server `name` (id `ID<name>`) in `cluster`, routed to
    /// `remotes` (`(name, solicited)`).
    fn reply(name: &str, cluster: &str, remotes: &[(&str, bool)]) -> String {
        let routes: Vec<String> = remotes
            .iter()
            .enumerate()
            .map(|(i, (remote, solicited))| {
                format!(
                    r#"{{"rid":{},"remote_id":"ID{remote}","remote_name":"{remote}","did_solicit":{solicited},
                        "is_configured":{solicited},"ip":"127.0.0.1","port":{},"uptime":"5s","rtt":"1ms",
                        "pending_size":0,"in_msgs":1200,"out_msgs":3,"in_bytes":2048,"out_bytes":10,"subscriptions":60}}"#,
                    i + 1,
                    6000 + i
                )
            })
            .collect();
        format!(
            r#"{{"server":{{"name":"{name}","id":"ID{name}","cluster":"{cluster}"}},
                "data":{{"server_id":"ID{name}","server_name":"{name}","num_routes":{},"routes":[{}]}}}}"#,
            remotes.len(),
            routes.join(",")
        )
    }

    fn answer(name: &str, cluster: &str, remotes: &[(&str, bool)]) -> Answer {
        Answer::decode(reply(name, cluster, remotes).as_bytes()).unwrap()
    }

    fn mesh() -> Vec<Answer> {
        vec![
            answer("C", "C1", &[("A", true), ("B", false)]),
            answer("A", "C1", &[("B", false), ("C", false)]),
            answer("B", "C1", &[("A", true), ("C", true)]),
        ]
    }

    fn first_cells(text: &str) -> Vec<(String, String)> {
        text.lines()
            .map(|l| l.split('│').map(str::trim).collect::<Vec<_>>())
            .filter(|c| c.len() > 3 && c[5].starts_with("127.0.0.1:"))
            .map(|c| (c[1].to_string(), c[2].to_string()))
            .collect()
    }

    const ALL: Checks = Checks {
        expected: Some(3),
        unanswered: true,
    };

    #[test]
    fn rows_by_server_then_remote() {
        let view = RouteView {
            sort: RouteSort::Server,
            reverse: false,
        };
        let text = view.render(&mesh());
        assert!(
            text.contains("Cluster routes (3 servers, 6 routes)"),
            "{text}"
        );
        let pairs: Vec<String> = first_cells(&text)
            .into_iter()
            .map(|(s, r)| format!("{s}>{r}"))
            .collect();
        assert_eq!(pairs, ["A>B", "A>C", "B>A", "B>C", "C>A", "C>B"], "{text}");
        let b_to_a = text.lines().find(|l| l.starts_with("│ B ")).unwrap();
        assert!(b_to_a.contains("│ Outbound  │ yes        │"), "{text}");
        assert!(b_to_a.contains("│ 1,200   │"), "{text}");
        assert!(b_to_a.contains("│ 2.0 KiB  │"), "{text}");
        assert!(text.contains("Totals for 6 routes"), "{text}");
        assert!(ALL.problems(&mesh()).is_empty());

        let reversed = RouteView {
            sort: RouteSort::Name,
            reverse: true,
        };
        let cells = first_cells(&reversed.render(&mesh()));
        assert_eq!(cells[0], ("B".to_string(), "C".to_string()));
    }

    #[test]
    fn unmeshed_servers_are_flagged() {
        // D answered (through A) but only A and D are routed to each other;
        // B lost its route to C one way; E is routed to but did not answer.
        let answers = vec![
            answer("A", "C1", &[("B", true), ("C", true), ("D", true)]),
            answer("B", "C1", &[("A", false), ("E", true)]),
            answer("C", "C1", &[("A", false), ("B", false)]),
            answer("D", "C1", &[("A", false)]),
            answer("L", "", &[]),
        ];
        let checks = Checks {
            expected: Some(6),
            unanswered: true,
        };
        assert_eq!(
            checks.problems(&answers),
            [
                "expected 6 servers but only 5 answered",
                "E did not answer, though B has a route to it",
                "B has no route to C in cluster C1, though C has one to B",
                "B and D in cluster C1 are not routed to each other",
                "C and D in cluster C1 are not routed to each other",
            ]
        );
        let filtered = Checks {
            expected: None,
            unanswered: false,
        };
        assert_eq!(filtered.problems(&answers).len(), 3);
    }

    #[test]
    fn gathering_follows_the_mesh() {
        let [c, a, b] = <[Answer; 3]>::try_from(mesh()).unwrap();
        // The connected server says it is alone: the routes tell otherwise.
        let add = |mesh: &mut Mesh, answer: &Answer| mesh.add(&answer.id, answer.peers());
        let mut mesh = Mesh::new(1);
        assert!(!add(&mut mesh, &c));
        assert!(!add(&mut mesh, &a));
        assert!(add(&mut mesh, &b));
        // The count still counts: a server of another cluster (through a
        // gateway) is not on the routes.
        let mut mesh = Mesh::new(4);
        for server in [&a, &b, &c] {
            assert!(!add(&mut mesh, server));
        }
        assert!(add(&mut mesh, &answer("G", "C2", &[])));
        // A standalone server.
        assert!(add(&mut Mesh::new(1), &answer("S", "", &[])));
    }

    #[test]
    fn error_replies_fail() {
        let err =
            Answer::decode(br#"{"server":{"name":"A"},"error":{"code":500,"description":"boom"}}"#)
                .unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
        assert!(Answer::decode(br#"{"server":{"name":"A"}}"#).is_err());
    }
}
