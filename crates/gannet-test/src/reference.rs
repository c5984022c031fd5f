//! Facts from nats-server 2.15 that several test files check against: the
//! system-account walkthrough config the reference's bodies were captured with,
//! and the field names of shared JSON objects (docs/SYSTEM-ACCOUNT.md §2).

/// Two accounts and a system account: user `a`/`a` in `USERS`, `admin`/`changeit`
/// in `SYS` (docs/SYSTEM-ACCOUNT.md).
pub const SEED_CONFIG: &str = r#"
server_name: gannet-ref
accounts {
  USERS: { users: [{user: a, password: a}] }
  SYS: { users: [{user: admin, password: changeit}] }
}
system_account: SYS
"#;

/// The `server` object of every event and `$SYS` reply.
pub const SERVER_KEYS: &[&str] = &[
    "name",
    "host",
    "id",
    "ver",
    "feature_flags",
    "jetstream",
    "flags",
    "seq",
    "time",
];

/// One connection of CONNZ (without the optional subscription lists).
pub const CONN_KEYS: &[&str] = &[
    "cid",
    "kind",
    "type",
    "ip",
    "port",
    "start",
    "last_activity",
    "rtt",
    "uptime",
    "idle",
    "pending_bytes",
    "in_msgs",
    "out_msgs",
    "in_bytes",
    "out_bytes",
    "subscriptions",
    "name",
    "lang",
    "version",
];
