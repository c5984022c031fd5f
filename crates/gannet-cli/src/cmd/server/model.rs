//! The JSON the system account sends, as far as the `server` views and
//! `events` read it: the `server` object of every reply and event, STATSZ,
//! VARZ, CONNZ, ROUTEZ, LEAFZ, GATEWAYZ, and the client advisories. Every field is optional (servers
//! of other versions send more or fewer), and `null` reads as empty.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// `null` or missing both read as the type's default.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The `server` object of every event and `$SYS` reply.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServerInfo {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub host: String,
    #[serde(deserialize_with = "nullable")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub cluster: String,
    #[serde(deserialize_with = "nullable")]
    pub domain: String,
    #[serde(rename = "ver", deserialize_with = "nullable")]
    pub version: String,
    #[serde(deserialize_with = "nullable")]
    pub jetstream: bool,
    #[serde(deserialize_with = "nullable")]
    pub time: String,
}

/// `{"msgs","bytes"}`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct MsgBytes {
    #[serde(deserialize_with = "nullable")]
    pub msgs: i64,
    #[serde(deserialize_with = "nullable")]
    pub bytes: i64,
}

/// A STATSZ message: the `$SYS.REQ.SERVER.PING` reply and the periodic event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServerStatsMsg {
    #[serde(deserialize_with = "nullable")]
    pub server: ServerInfo,
    #[serde(deserialize_with = "nullable")]
    pub statsz: Statsz,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Statsz {
    #[serde(deserialize_with = "nullable")]
    pub start: String,
    #[serde(deserialize_with = "nullable")]
    pub mem: i64,
    #[serde(deserialize_with = "nullable")]
    pub cores: i64,
    #[serde(deserialize_with = "nullable")]
    pub cpu: f64,
    #[serde(deserialize_with = "nullable")]
    pub connections: i64,
    #[serde(deserialize_with = "nullable")]
    pub total_connections: i64,
    #[serde(deserialize_with = "nullable")]
    pub active_accounts: i64,
    #[serde(deserialize_with = "nullable")]
    pub subscriptions: i64,
    #[serde(deserialize_with = "nullable")]
    pub sent: MsgBytes,
    #[serde(deserialize_with = "nullable")]
    pub received: MsgBytes,
    #[serde(deserialize_with = "nullable")]
    pub slow_consumers: i64,
    #[serde(deserialize_with = "nullable")]
    pub slow_consumer_stats: Option<SlowConsumerStats>,
    #[serde(deserialize_with = "nullable")]
    pub active_servers: i64,
    #[serde(deserialize_with = "nullable")]
    pub routes: Vec<serde::de::IgnoredAny>,
    #[serde(deserialize_with = "nullable")]
    pub gateways: Vec<GatewayStat>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct SlowConsumerStats {
    #[serde(deserialize_with = "nullable")]
    pub clients: u64,
    #[serde(deserialize_with = "nullable")]
    pub routes: u64,
    #[serde(deserialize_with = "nullable")]
    pub gateways: u64,
    #[serde(deserialize_with = "nullable")]
    pub leafs: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GatewayStat {
    #[serde(rename = "inbound_connections", deserialize_with = "nullable")]
    pub num_inbound: i64,
}

/// The `{"server","data","error"}` envelope of the `$SYS.REQ.SERVER` services.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, bound(deserialize = "T: Deserialize<'de>"))]
pub struct ApiResponse<T: Default> {
    #[serde(deserialize_with = "nullable")]
    pub server: ServerInfo,
    #[serde(deserialize_with = "nullable")]
    pub data: Option<T>,
    #[serde(deserialize_with = "nullable")]
    pub error: Option<ApiError>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ApiError {
    #[serde(deserialize_with = "nullable")]
    pub code: i64,
    #[serde(deserialize_with = "nullable")]
    pub description: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "code {}: {}", self.code, self.description)
    }
}

/// VARZ, as much of it as `server info` shows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Varz {
    #[serde(rename = "server_id", deserialize_with = "nullable")]
    pub id: String,
    #[serde(rename = "server_name", deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub version: String,
    #[serde(deserialize_with = "nullable")]
    pub git_commit: String,
    #[serde(rename = "go", deserialize_with = "nullable")]
    pub go_version: String,
    #[serde(deserialize_with = "nullable")]
    pub host: String,
    #[serde(deserialize_with = "nullable")]
    pub port: i64,
    #[serde(deserialize_with = "nullable")]
    pub ip: String,
    #[serde(deserialize_with = "nullable")]
    pub auth_required: bool,
    #[serde(deserialize_with = "nullable")]
    pub tls_required: bool,
    #[serde(rename = "connect_urls", deserialize_with = "nullable")]
    pub client_connect_urls: Vec<String>,
    #[serde(rename = "ws_connect_urls", deserialize_with = "nullable")]
    pub ws_connect_urls: Vec<String>,
    #[serde(rename = "max_connections", deserialize_with = "nullable")]
    pub max_conn: i64,
    #[serde(rename = "max_subscriptions", deserialize_with = "nullable")]
    pub max_subs: i64,
    #[serde(deserialize_with = "nullable")]
    pub max_payload: i64,
    #[serde(deserialize_with = "nullable")]
    pub tls_timeout: f64,
    /// Nanoseconds.
    #[serde(deserialize_with = "nullable")]
    pub write_deadline: i64,
    #[serde(deserialize_with = "nullable")]
    pub start: String,
    #[serde(deserialize_with = "nullable")]
    pub config_load_time: String,
    #[serde(deserialize_with = "nullable")]
    pub config_digest: String,
    #[serde(deserialize_with = "nullable")]
    pub uptime: String,
    #[serde(deserialize_with = "nullable")]
    pub mem: i64,
    #[serde(deserialize_with = "nullable")]
    pub cores: i64,
    #[serde(rename = "gomaxprocs", deserialize_with = "nullable")]
    pub max_procs: i64,
    #[serde(rename = "gomemlimit", deserialize_with = "nullable")]
    pub mem_limit: i64,
    #[serde(deserialize_with = "nullable")]
    pub cpu: f64,
    #[serde(deserialize_with = "nullable")]
    pub connections: i64,
    #[serde(deserialize_with = "nullable")]
    pub subscriptions: i64,
    #[serde(deserialize_with = "nullable")]
    pub in_msgs: i64,
    #[serde(deserialize_with = "nullable")]
    pub out_msgs: i64,
    #[serde(deserialize_with = "nullable")]
    pub in_bytes: i64,
    #[serde(deserialize_with = "nullable")]
    pub out_bytes: i64,
    #[serde(deserialize_with = "nullable")]
    pub slow_consumers: i64,
    #[serde(deserialize_with = "nullable")]
    pub tags: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub cluster: ClusterVarz,
    #[serde(deserialize_with = "nullable")]
    pub gateway: GatewayVarz,
    #[serde(deserialize_with = "nullable")]
    pub jetstream: JetStreamVarz,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClusterVarz {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(rename = "addr", deserialize_with = "nullable")]
    pub host: String,
    #[serde(rename = "cluster_port", deserialize_with = "nullable")]
    pub port: i64,
    #[serde(deserialize_with = "nullable")]
    pub urls: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GatewayVarz {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub host: String,
    #[serde(deserialize_with = "nullable")]
    pub port: i64,
    #[serde(deserialize_with = "nullable")]
    pub gateways: Vec<RemoteGatewayVarz>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RemoteGatewayVarz {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct JetStreamVarz {
    #[serde(deserialize_with = "nullable")]
    pub config: JetStreamConfigVarz,
    #[serde(deserialize_with = "nullable")]
    pub stats: JetStreamStatsVarz,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct JetStreamConfigVarz {
    #[serde(deserialize_with = "nullable")]
    pub max_memory: i64,
    #[serde(deserialize_with = "nullable")]
    pub max_storage: i64,
    #[serde(deserialize_with = "nullable")]
    pub store_dir: String,
    #[serde(deserialize_with = "nullable")]
    pub domain: String,
    #[serde(deserialize_with = "nullable")]
    pub unique_tag: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct JetStreamStatsVarz {
    #[serde(deserialize_with = "nullable")]
    pub memory: u64,
    #[serde(deserialize_with = "nullable")]
    pub storage: u64,
    #[serde(deserialize_with = "nullable")]
    pub accounts: i64,
    #[serde(deserialize_with = "nullable")]
    pub api: JetStreamApiVarz,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct JetStreamApiVarz {
    #[serde(deserialize_with = "nullable")]
    pub level: i64,
    #[serde(deserialize_with = "nullable")]
    pub total: u64,
    #[serde(deserialize_with = "nullable")]
    pub errors: u64,
}

/// CONNZ: one page of one server's connections.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Connz {
    #[serde(rename = "num_connections", deserialize_with = "nullable")]
    pub num_conns: i64,
    #[serde(deserialize_with = "nullable")]
    pub total: i64,
    #[serde(deserialize_with = "nullable")]
    pub offset: i64,
    #[serde(deserialize_with = "nullable")]
    pub limit: i64,
    #[serde(rename = "connections", deserialize_with = "nullable")]
    pub conns: Vec<ConnInfo>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConnInfo {
    #[serde(deserialize_with = "nullable")]
    pub cid: u64,
    #[serde(deserialize_with = "nullable")]
    pub kind: String,
    #[serde(deserialize_with = "nullable")]
    pub ip: String,
    #[serde(deserialize_with = "nullable")]
    pub port: i64,
    #[serde(deserialize_with = "nullable")]
    pub start: String,
    #[serde(deserialize_with = "nullable")]
    pub reason: String,
    #[serde(deserialize_with = "nullable")]
    pub uptime: String,
    #[serde(deserialize_with = "nullable")]
    pub rtt: String,
    #[serde(deserialize_with = "nullable")]
    pub in_msgs: i64,
    #[serde(deserialize_with = "nullable")]
    pub out_msgs: i64,
    #[serde(deserialize_with = "nullable")]
    pub in_bytes: i64,
    #[serde(deserialize_with = "nullable")]
    pub out_bytes: i64,
    #[serde(rename = "subscriptions", deserialize_with = "nullable")]
    pub num_subs: u64,
    /// A client's name; for a gateway connection, the id of the server at
    /// the other end.
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(rename = "authorized_user", deserialize_with = "nullable")]
    pub user: String,
    #[serde(deserialize_with = "nullable")]
    pub account: String,
    #[serde(deserialize_with = "nullable")]
    pub mqtt_client: String,
}

/// ROUTEZ (the `/routez` document): one server's routes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Routez {
    #[serde(deserialize_with = "nullable")]
    pub server_id: String,
    #[serde(deserialize_with = "nullable")]
    pub server_name: String,
    #[serde(deserialize_with = "nullable")]
    pub num_routes: i64,
    #[serde(deserialize_with = "nullable")]
    pub routes: Vec<RouteInfo>,
}

/// One route of ROUTEZ. nats-server lists each connection of a route pool
/// (and of a pinned account, with `account`) as a route of its own.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RouteInfo {
    #[serde(deserialize_with = "nullable")]
    pub rid: u64,
    #[serde(deserialize_with = "nullable")]
    pub remote_id: String,
    #[serde(deserialize_with = "nullable")]
    pub remote_name: String,
    #[serde(deserialize_with = "nullable")]
    pub did_solicit: bool,
    #[serde(deserialize_with = "nullable")]
    pub is_configured: bool,
    #[serde(deserialize_with = "nullable")]
    pub ip: String,
    #[serde(deserialize_with = "nullable")]
    pub port: i64,
    #[serde(deserialize_with = "nullable")]
    pub rtt: String,
    #[serde(deserialize_with = "nullable")]
    pub uptime: String,
    #[serde(deserialize_with = "nullable")]
    pub pending_size: i64,
    #[serde(flatten)]
    pub traffic: Traffic,
    #[serde(deserialize_with = "nullable")]
    pub account: String,
}

/// The counters of a route or leaf connection in ROUTEZ and LEAFZ: messages
/// and bytes each way, and the subscriptions it carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Traffic {
    #[serde(deserialize_with = "nullable")]
    pub in_msgs: i64,
    #[serde(deserialize_with = "nullable")]
    pub out_msgs: i64,
    #[serde(deserialize_with = "nullable")]
    pub in_bytes: i64,
    #[serde(deserialize_with = "nullable")]
    pub out_bytes: i64,
    #[serde(rename = "subscriptions", deserialize_with = "nullable")]
    pub num_subs: u64,
}

impl std::ops::AddAssign for Traffic {
    fn add_assign(&mut self, other: Traffic) {
        self.in_msgs += other.in_msgs;
        self.out_msgs += other.out_msgs;
        self.in_bytes += other.in_bytes;
        self.out_bytes += other.out_bytes;
        self.num_subs += other.num_subs;
    }
}

/// LEAFZ (the `/leafz` document): one server's leaf node connections.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Leafz {
    #[serde(deserialize_with = "nullable")]
    pub server_id: String,
    #[serde(deserialize_with = "nullable")]
    pub leafnodes: i64,
    #[serde(deserialize_with = "nullable")]
    pub leafs: Vec<LeafInfo>,
}

/// One leaf node connection of LEAFZ, as the server at this end sees it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LeafInfo {
    #[serde(deserialize_with = "nullable")]
    pub id: u64,
    /// The server at the other end.
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// This server dialed the connection: it is the leaf (spoke) end.
    #[serde(deserialize_with = "nullable")]
    pub is_spoke: bool,
    /// The local account the connection is bound to.
    #[serde(deserialize_with = "nullable")]
    pub account: String,
    #[serde(deserialize_with = "nullable")]
    pub ip: String,
    #[serde(deserialize_with = "nullable")]
    pub port: i64,
    #[serde(deserialize_with = "nullable")]
    pub rtt: String,
    #[serde(flatten)]
    pub traffic: Traffic,
    #[serde(deserialize_with = "nullable")]
    pub compression: String,
}

/// GATEWAYZ (the `/gatewayz` document): one server's gateway connections,
/// keyed by the name of the gateway (cluster) at the other end.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Gatewayz {
    #[serde(deserialize_with = "nullable")]
    pub server_id: String,
    #[serde(deserialize_with = "nullable")]
    pub now: String,
    /// This server's gateway (its cluster's name in the super cluster).
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub host: String,
    /// The port this server accepts gateway connections on.
    #[serde(deserialize_with = "nullable")]
    pub port: i64,
    /// The connection this server dialed to each remote gateway.
    #[serde(deserialize_with = "nullable")]
    pub outbound_gateways: BTreeMap<String, RemoteGatewayz>,
    /// The connections servers of each remote gateway dialed to this one.
    #[serde(deserialize_with = "nullable")]
    pub inbound_gateways: BTreeMap<String, Vec<RemoteGatewayz>>,
}

/// One gateway connection of GATEWAYZ.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RemoteGatewayz {
    /// The remote gateway is in this server's configuration (not learned
    /// by gossip).
    #[serde(rename = "configured", deserialize_with = "nullable")]
    pub is_configured: bool,
    #[serde(deserialize_with = "nullable")]
    pub connection: ConnInfo,
    /// Filled in when the request asks for `accounts`.
    #[serde(deserialize_with = "nullable")]
    pub accounts: Vec<AccountGatewayz>,
}

/// How one account's interest crosses a gateway connection.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AccountGatewayz {
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// `Optimistic`, `Transitioning` or `Interest-Only`.
    #[serde(deserialize_with = "nullable")]
    pub interest_mode: String,
    #[serde(deserialize_with = "nullable")]
    pub num_subs: i64,
}

/// The client of CONNECT, DISCONNECT and AUTH.ERR advisories.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClientInfo {
    #[serde(deserialize_with = "nullable")]
    pub host: String,
    #[serde(deserialize_with = "nullable")]
    pub id: u64,
    #[serde(rename = "acc", deserialize_with = "nullable")]
    pub account: String,
    #[serde(deserialize_with = "nullable")]
    pub user: String,
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    #[serde(deserialize_with = "nullable")]
    pub lang: String,
    #[serde(rename = "ver", deserialize_with = "nullable")]
    pub version: String,
    /// Nanoseconds.
    #[serde(deserialize_with = "nullable")]
    pub rtt: i64,
    #[serde(deserialize_with = "nullable")]
    pub jwt: String,
    #[serde(deserialize_with = "nullable")]
    pub issuer_key: String,
    #[serde(deserialize_with = "nullable")]
    pub name_tag: String,
    #[serde(deserialize_with = "nullable")]
    pub tags: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub kind: String,
    #[serde(deserialize_with = "nullable")]
    pub client_type: String,
}

/// Any advisory: the envelope plus the payload fields of the kinds `events`
/// renders (client connect/disconnect, account connections).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Advisory {
    #[serde(rename = "type", deserialize_with = "nullable")]
    pub kind: String,
    #[serde(deserialize_with = "nullable")]
    pub id: String,
    #[serde(deserialize_with = "nullable")]
    pub timestamp: String,
    #[serde(deserialize_with = "nullable")]
    pub server: ServerInfo,
    #[serde(deserialize_with = "nullable")]
    pub client: ClientInfo,
    #[serde(deserialize_with = "nullable")]
    pub sent: MsgBytes,
    #[serde(deserialize_with = "nullable")]
    pub received: MsgBytes,
    #[serde(deserialize_with = "nullable")]
    pub reason: String,
    #[serde(rename = "acc", deserialize_with = "nullable")]
    pub account: String,
    #[serde(deserialize_with = "nullable")]
    pub conns: i64,
    #[serde(deserialize_with = "nullable")]
    pub leafnodes: i64,
    #[serde(deserialize_with = "nullable")]
    pub slow_consumers: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_and_missing_fields_read_as_empty() {
        let reply: ApiResponse<Connz> = serde_json::from_str(
            r#"{"server":{"name":"n1"},"data":{"server_id":"","num_connections":0,"connections":null}}"#,
        )
        .unwrap();
        assert_eq!(reply.server.name, "n1");
        assert!(reply.data.unwrap().conns.is_empty());
        let stats: ServerStatsMsg =
            serde_json::from_str(r#"{"server":null,"statsz":{"cpu":1.5,"routes":null}}"#).unwrap();
        assert_eq!(stats.statsz.cpu, 1.5);
    }

    #[test]
    fn gatewayz_reads_both_directions() {
        let reply: ApiResponse<Gatewayz> = serde_json::from_str(
            r#"{"server":{"name":"A","cluster":"C1"},"data":{"server_id":"IDA","name":"C1","port":7222,
                "outbound_gateways":{"C2":{"configured":true,"connection":{"cid":5,"kind":"Gateway",
                  "ip":"127.0.0.1","port":7223,"rtt":"455µs","uptime":"2s","out_bytes":1629,
                  "subscriptions":53,"name":"IDB"},"accounts":[{"name":"$G","interest_mode":"Interest-Only",
                  "interest_only_threshold":1000},{"name":"SYS","interest_mode":"Interest-Only","num_subs":53}]}},
                "inbound_gateways":{"C2":[{"configured":false,"connection":{"cid":6,"ip":"127.0.0.1",
                  "port":60288,"in_bytes":1635,"name":"IDB"},"accounts":null}]}}}"#,
        )
        .unwrap();
        let gatewayz = reply.data.unwrap();
        assert_eq!((gatewayz.name.as_str(), gatewayz.port), ("C1", 7222));
        let out = &gatewayz.outbound_gateways["C2"];
        assert!(out.is_configured);
        assert_eq!(out.connection.rtt, "455µs");
        assert_eq!(out.connection.name, "IDB");
        assert_eq!(out.accounts.len(), 2);
        assert_eq!(out.accounts[1].num_subs, 53);
        let inbound = &gatewayz.inbound_gateways["C2"][0];
        assert!(!inbound.is_configured);
        assert_eq!(inbound.connection.in_bytes, 1635);
        assert!(inbound.accounts.is_empty());
    }

    #[test]
    fn traffic_reads_beside_the_other_fields() {
        let reply: ApiResponse<Leafz> = serde_json::from_str(
            r#"{"server":{"name":"HUB"},"data":{"server_id":"X","leafnodes":1,"leafs":[
                {"id":3,"name":"LEAF","is_spoke":false,"account":"APP","ip":"127.0.0.1","port":5,
                 "rtt":"1ms","in_msgs":2,"out_msgs":3,"in_bytes":4,"out_bytes":null,
                 "subscriptions":6,"subscriptions_list":["a"],"compression":"off"}]}}"#,
        )
        .unwrap();
        let leaf = &reply.data.unwrap().leafs[0];
        assert_eq!((leaf.name.as_str(), leaf.port), ("LEAF", 5));
        let expected = Traffic {
            in_msgs: 2,
            out_msgs: 3,
            in_bytes: 4,
            out_bytes: 0,
            num_subs: 6,
        };
        assert_eq!(leaf.traffic, expected);
        let mut sum = expected;
        sum += expected;
        assert_eq!((sum.in_msgs, sum.num_subs), (4, 12));
    }
}
