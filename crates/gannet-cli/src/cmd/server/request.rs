//! `server request <endpoint>`: asks every server (or one, by id) for one of
//! the `$SYS.REQ.SERVER` monitoring services with natscli's options and
//! filters, and prints each server's reply as one line of JSON, as natscli does.
//! `server request claims` (the resolver's account JWT requests) lives in
//! `claims.rs`.

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value};

use crate::connect::Connector;

use super::info::is_server_id;
use super::json::Json;
use super::sys::{self, ServerFilter, Wait, NO_RESULTS};

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Limit the responses to a certain amount of records
    #[arg(long, default_value_t = 2048, global = true)]
    limit: i64,
    /// Start at a certain record
    #[arg(long, default_value_t = 0, global = true)]
    offset: i64,
    /// Limit to servers matching a server name
    #[arg(long, global = true)]
    name: Option<String>,
    /// Limit to servers matching a server host name
    #[arg(long, global = true)]
    host: Option<String>,
    /// Limit to servers matching a cluster name
    #[arg(long, global = true)]
    cluster: Option<String>,
    /// Limit to servers with these configured tags
    #[arg(long, global = true, value_delimiter = ',')]
    tags: Vec<String>,
    #[command(subcommand)]
    endpoint: Endpoint,
}

/// Which servers to ask: a count of replies to wait for, or one server id.
#[derive(Debug, Args)]
struct Target {
    /// Wait for a certain number of responses, or the ID of the one server to ask
    #[arg(value_name = "WAIT|ID")]
    target: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Endpoint {
    /// Show account details (ACCOUNTZ)
    #[command(aliases = ["accountz", "acct"])]
    Accounts {
        #[command(flatten)]
        target: Target,
        /// Retrieve information for a specific account
        #[arg(long)]
        account: Option<String>,
    },
    /// Show connection details (CONNZ)
    #[command(aliases = ["conn", "connz"])]
    Connections {
        #[command(flatten)]
        target: Target,
        /// Sort by a specific property
        #[arg(long, value_enum, default_value = "cid")]
        sort: ConnzSort,
        /// Show subscriptions
        #[arg(long)]
        subscriptions: bool,
        /// Filter on a specific CID
        #[arg(long, value_name = "CID")]
        filter_cid: Option<u64>,
        /// Filter on a specific connection state
        #[arg(long, value_enum, default_value = "open")]
        filter_state: StateFilter,
        /// Filter on a specific username
        #[arg(long, value_name = "USER")]
        filter_user: Option<String>,
        /// Filter on a specific account
        #[arg(long, value_name = "ACCOUNT")]
        filter_account: Option<String>,
        /// Limits responses only to those connections with matching subscription interest
        #[arg(long, value_name = "SUBJECT")]
        filter_subject: Option<String>,
        /// Only shows responses that have connections
        #[arg(long)]
        filter_empty: bool,
    },
    /// Show gateway details (GATEWAYZ)
    #[command(aliases = ["gateway", "gwy", "gatewayz"])]
    Gateways {
        #[command(flatten)]
        target: Target,
        /// Filter results on gateway name
        #[arg(value_name = "NAME")]
        filter_name: Option<String>,
        /// Show only a certain account in account detail
        #[arg(long, value_name = "ACCOUNT")]
        filter_account: Option<String>,
        /// Show account detail
        #[arg(long)]
        accounts: bool,
        /// Show subscription details
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
        subscriptions: bool,
    },
    /// Request JetStream health status (HEALTHZ)
    #[command(name = "jetstream-health", alias = "healthz")]
    Health {
        #[command(flatten)]
        target: Target,
        /// Checks that JetStream should be enabled on all servers
        #[arg(short = 'J', long)]
        js_enabled: bool,
        /// Restricts the health check to the JetStream server only
        #[arg(short = 'S', long)]
        server_only: bool,
        /// Check only a specific Account
        #[arg(long)]
        account: Option<String>,
        /// Check only a specific Stream
        #[arg(long)]
        stream: Option<String>,
        /// Check only a specific Consumer
        #[arg(long)]
        consumer: Option<String>,
        /// Include extended details about all failures
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
        details: bool,
    },
    /// Show JetStream details (JSZ)
    #[command(name = "jetstream", aliases = ["jsz", "js"])]
    JetStream {
        #[command(flatten)]
        target: Target,
        /// Show statistics scoped to a specific account
        #[arg(long)]
        account: Option<String>,
        /// Include details about accounts
        #[arg(long)]
        accounts: bool,
        /// Include details about Streams
        #[arg(long)]
        streams: bool,
        /// Include details about Consumers
        #[arg(long)]
        consumer: bool,
        /// Include details about configuration
        #[arg(long)]
        config: bool,
        /// Include details about raft groups
        #[arg(long)]
        raft: bool,
        /// Request a response from the Meta-group leader only
        #[arg(long)]
        leader: bool,
        /// Request a response from Stream leaders only
        #[arg(long)]
        stream_leader: bool,
        /// Include accounts, streams, consumers and configuration
        #[arg(long)]
        all: bool,
    },
    /// Show leafnode details (LEAFZ)
    #[command(aliases = ["leaf", "leafz"])]
    Leafnodes {
        #[command(flatten)]
        target: Target,
        /// Show subscription detail
        #[arg(long)]
        subscriptions: bool,
    },
    /// Show route details (ROUTEZ)
    #[command(aliases = ["route", "routez"])]
    Routes {
        #[command(flatten)]
        target: Target,
        /// Show subscription detail
        #[arg(long)]
        subscriptions: bool,
    },
    /// Show subscription information (SUBSZ)
    #[command(aliases = ["sub", "subsz"])]
    Subscriptions {
        #[command(flatten)]
        target: Target,
        /// Include detail about all subscriptions
        #[arg(long)]
        detail: bool,
        /// Filter on a specific account
        #[arg(long, value_name = "ACCOUNT")]
        filter_account: Option<String>,
        /// Filter based on subscriptions matching this subject
        #[arg(long, value_name = "SUBJECT")]
        filter_subject: Option<String>,
    },
    /// Show runtime variables (VARZ)
    #[command(aliases = ["var", "varz"])]
    Variables {
        #[command(flatten)]
        target: Target,
    },
    /// Show server statistics (STATSZ)
    #[command(aliases = ["stats"])]
    Statsz {
        #[command(flatten)]
        target: Target,
    },
    /// Show server identities (IDZ)
    #[command(aliases = ["ids"])]
    Idz {
        #[command(flatten)]
        target: Target,
    },
    /// List, look up, push or delete account JWTs (operator mode resolvers)
    #[command(alias = "jwt")]
    Claims {
        #[command(subcommand)]
        action: super::claims::ClaimsAction,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ConnzSort {
    Cid,
    Start,
    Subs,
    Pending,
    MsgsTo,
    MsgsFrom,
    BytesTo,
    BytesFrom,
    Last,
    Idle,
    Uptime,
    Stop,
    Reason,
    Rtt,
}

impl ConnzSort {
    fn as_str(self) -> &'static str {
        match self {
            ConnzSort::Cid => "cid",
            ConnzSort::Start => "start",
            ConnzSort::Subs => "subs",
            ConnzSort::Pending => "pending",
            ConnzSort::MsgsTo => "msgs_to",
            ConnzSort::MsgsFrom => "msgs_from",
            ConnzSort::BytesTo => "bytes_to",
            ConnzSort::BytesFrom => "bytes_from",
            ConnzSort::Last => "last",
            ConnzSort::Idle => "idle",
            ConnzSort::Uptime => "uptime",
            ConnzSort::Stop => "stop",
            ConnzSort::Reason => "reason",
            ConnzSort::Rtt => "rtt",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StateFilter {
    Open,
    Closed,
    All,
}

/// The request to send: endpoint name, options and target.
struct Plan<'a> {
    endpoint: &'static str,
    options: Map<String, Value>,
    target: &'a Target,
    /// Wait for exactly one reply (JSZ from the meta leader).
    single: bool,
    /// Skip replies without connections (CONNZ `--filter-empty`).
    skip_empty: bool,
}

fn put_str(options: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
        options.insert(key.to_string(), Value::from(value.clone()));
    }
}

fn put_bool(options: &mut Map<String, Value>, key: &str, value: bool) {
    if value {
        options.insert(key.to_string(), Value::Bool(true));
    }
}

impl RequestArgs {
    /// What to ask of every server; `None` for `claims`, which are not
    /// monitoring requests.
    fn plan(&self) -> Option<Plan<'_>> {
        let mut options = Map::new();
        let mut single = false;
        let mut skip_empty = false;
        let (endpoint, target) = match &self.endpoint {
            Endpoint::Accounts { target, account } => {
                put_str(&mut options, "account", account);
                ("ACCOUNTZ", target)
            }
            Endpoint::Connections {
                target,
                sort,
                subscriptions,
                filter_cid,
                filter_state,
                filter_user,
                filter_account,
                filter_subject,
                filter_empty,
            } => {
                options.insert("sort".into(), Value::from(sort.as_str()));
                options.insert("auth".into(), Value::Bool(true));
                put_bool(&mut options, "subscriptions", *subscriptions);
                put_bool(&mut options, "subscriptions_detail", *subscriptions);
                options.insert("offset".into(), Value::from(self.offset));
                options.insert("limit".into(), Value::from(self.limit));
                if let Some(cid) = filter_cid {
                    options.insert("cid".into(), Value::from(*cid));
                }
                let state = match filter_state {
                    StateFilter::Open => 0,
                    StateFilter::Closed => 1,
                    StateFilter::All => 2,
                };
                options.insert("state".into(), Value::from(state));
                put_str(&mut options, "user", filter_user);
                put_str(&mut options, "acc", filter_account);
                put_str(&mut options, "filter_subject", filter_subject);
                skip_empty = *filter_empty;
                ("CONNZ", target)
            }
            Endpoint::Gateways {
                target,
                filter_name,
                filter_account,
                accounts,
                subscriptions,
            } => {
                let detail = *accounts || filter_account.is_some();
                put_str(&mut options, "name", filter_name);
                put_bool(&mut options, "accounts", detail);
                put_str(&mut options, "account_name", filter_account);
                if filter_account.is_some() && detail {
                    put_bool(&mut options, "subscriptions", *subscriptions);
                    put_bool(&mut options, "subscriptions_detail", *subscriptions);
                }
                ("GATEWAYZ", target)
            }
            Endpoint::Health {
                target,
                js_enabled,
                server_only,
                account,
                stream,
                consumer,
                details,
            } => {
                put_bool(&mut options, "js-enabled-only", *js_enabled);
                put_bool(&mut options, "js-server-only", *server_only);
                put_str(&mut options, "account", account);
                put_str(&mut options, "stream", stream);
                put_str(&mut options, "consumer", consumer);
                put_bool(&mut options, "details", *details);
                ("HEALTHZ", target)
            }
            Endpoint::JetStream {
                target,
                account,
                accounts,
                streams,
                consumer,
                config,
                raft,
                leader,
                stream_leader,
                all,
            } => {
                put_str(&mut options, "account", account);
                put_bool(&mut options, "accounts", *accounts || *all);
                put_bool(&mut options, "streams", *streams || *all);
                put_bool(&mut options, "consumer", *consumer || *all);
                put_bool(&mut options, "config", *config || *all);
                put_bool(&mut options, "raft", *raft || *all);
                put_bool(&mut options, "leader_only", *leader);
                put_bool(&mut options, "stream_leader_only", *stream_leader);
                if self.offset != 0 {
                    options.insert("offset".into(), Value::from(self.offset));
                }
                options.insert("limit".into(), Value::from(self.limit));
                single = *leader;
                ("JSZ", target)
            }
            Endpoint::Leafnodes {
                target,
                subscriptions,
            } => {
                put_bool(&mut options, "subscriptions", *subscriptions);
                ("LEAFZ", target)
            }
            Endpoint::Routes {
                target,
                subscriptions,
            } => {
                put_bool(&mut options, "subscriptions", *subscriptions);
                put_bool(&mut options, "subscriptions_detail", *subscriptions);
                ("ROUTEZ", target)
            }
            Endpoint::Subscriptions {
                target,
                detail,
                filter_account,
                filter_subject,
            } => {
                options.insert("offset".into(), Value::from(self.offset));
                options.insert("limit".into(), Value::from(self.limit));
                put_bool(&mut options, "subscriptions", *detail);
                put_str(&mut options, "account", filter_account);
                put_str(&mut options, "test", filter_subject);
                ("SUBSZ", target)
            }
            Endpoint::Variables { target } => ("VARZ", target),
            Endpoint::Statsz { target } => ("STATSZ", target),
            Endpoint::Idz { target } => ("IDZ", target),
            Endpoint::Claims { .. } => return None,
        };
        Some(Plan {
            endpoint,
            options,
            target,
            single,
            skip_empty,
        })
    }

    fn filter(&self) -> ServerFilter {
        ServerFilter {
            name: self.name.clone(),
            host: self.host.clone(),
            cluster: self.cluster.clone(),
            tags: self.tags.clone(),
        }
    }
}

pub async fn run(args: RequestArgs, connector: &Connector) -> anyhow::Result<()> {
    let Some(plan) = args.plan() else {
        if let Endpoint::Claims { action } = args.endpoint {
            return super::claims::run(action, connector).await;
        }
        return Ok(());
    };
    let filter = args.filter();
    let mut session = connector.connect().await?;

    let (subject, wait) = match plan.target.target.as_deref() {
        Some(id) if id.parse::<usize>().is_err() => {
            if !is_server_id(id) {
                bail!("{id:?} is neither a number of responses to wait for nor a server ID (56 upper-case characters)");
            }
            (
                format!("$SYS.REQ.SERVER.{id}.{}", plan.endpoint),
                Wait::Count(1),
            )
        }
        count => {
            let mut wait_for = count.and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
            if plan.single {
                wait_for = 1;
            }
            if wait_for == 0 {
                wait_for = if filter.name.is_some() || filter.host.is_some() {
                    1
                } else {
                    // natscli ignores a failure here and waits adaptively.
                    sys::active_servers(&mut session, connector.timeout)
                        .await
                        .unwrap_or(0)
                };
            }
            (
                format!("$SYS.REQ.SERVER.PING.{}", plan.endpoint),
                Wait::from_count(wait_for),
            )
        }
    };
    let body = sys::request_body(plan.options, &filter);
    let replies = sys::gather_all(&mut session, &subject, body, wait, connector.timeout).await?;
    if replies.is_empty() {
        bail!("{NO_RESULTS}");
    }
    for reply in replies {
        let json = Json::parse(&reply.payload).map_err(|err| {
            anyhow!(
                "invalid reply to {subject}: {err}: {}",
                String::from_utf8_lossy(&reply.payload)
            )
        })?;
        if plan.skip_empty && !has_connections(&json) {
            continue;
        }
        println!("{}", json.compact());
    }
    Ok(())
}

/// Whether a CONNZ reply lists any connection.
fn has_connections(reply: &Json) -> bool {
    matches!(
        reply.get("data").and_then(|d| d.get("num_connections")),
        Some(Json::Unsigned(n)) if *n > 0
    ) || matches!(
        reply.get("data").and_then(|d| d.get("num_connections")),
        Some(Json::Signed(n)) if *n > 0
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Test {
        #[command(flatten)]
        args: RequestArgs,
    }

    fn plan_of(argv: &[&str]) -> (String, String) {
        let test =
            Test::try_parse_from(std::iter::once("request").chain(argv.iter().copied())).unwrap();
        let plan = test.args.plan().unwrap();
        let body = String::from_utf8(sys::request_body(plan.options, &test.args.filter())).unwrap();
        (plan.endpoint.to_string(), body)
    }

    #[test]
    fn connz_options_follow_the_flags() {
        let (endpoint, body) = plan_of(&[
            "connz",
            "--filter-account",
            "USERS",
            "--subscriptions",
            "--limit",
            "5",
        ]);
        assert_eq!(endpoint, "CONNZ");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["acc"], "USERS");
        assert_eq!(body["subscriptions"], true);
        assert_eq!(body["limit"], 5);
        assert_eq!(body["state"], 0);
        assert_eq!(body["exact_match"], true);
    }

    #[test]
    fn filters_go_into_every_body() {
        let (endpoint, body) = plan_of(&["variables", "--name", "n1"]);
        assert_eq!(endpoint, "VARZ");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["server_name"], "n1");
        let (endpoint, body) = plan_of(&["subsz", "--filter-subject", "foo.bar", "--detail"]);
        assert_eq!(endpoint, "SUBSZ");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["test"], "foo.bar");
        assert_eq!(body["subscriptions"], true);
    }

    #[test]
    fn empty_connz_replies_are_recognised() {
        let empty = Json::parse(br#"{"data":{"num_connections":0}}"#).unwrap();
        let some = Json::parse(br#"{"data":{"num_connections":2}}"#).unwrap();
        assert!(!has_connections(&empty));
        assert!(has_connections(&some));
    }
}
