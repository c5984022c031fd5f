//! The claim structures of NATS JWTs (format version 2), as they appear in
//! the JSON payload, and the serde helpers that read them.
//!
//! Decoding follows what the JSON says: a field that is absent (or `null`)
//! takes its type's zero value (`0`, `false`, empty), even for limits whose
//! "unlimited" value is `-1`. Tools write `-1` explicitly when they mean
//! unlimited; because they omit zero values, a missing limit really is `0`.
//! The one exception is the template of a scoped signing key, whose `subs`,
//! `data` and `payload` default to `-1` when missing, as nsc's library reads
//! them.

use std::collections::HashMap;

use serde::de::{Deserializer, Error as _};
use serde::Deserialize;
use serde_json::Value;

/// Reads `null` as the type's default value, as Go's JSON decoder leaves a
/// field untouched on `null`.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The registered claims every NATS JWT carries, around the NATS specific
/// part `nats` of type `T` ([`Operator`], [`Account`], [`User`] or
/// [`Activation`]).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, bound(deserialize = "T: Deserialize<'de> + Default"))]
pub struct Jwt<T> {
    /// `jti`: the token's id (a hash of the claims in tokens made by nsc).
    #[serde(deserialize_with = "nullable")]
    pub jti: String,
    /// `iat`: issue time, unix seconds (revocations compare against it).
    #[serde(deserialize_with = "nullable")]
    pub iat: i64,
    /// `iss`: the public nkey that signed the token.
    #[serde(deserialize_with = "nullable")]
    pub iss: String,
    /// `sub`: the public nkey the token is about.
    #[serde(deserialize_with = "nullable")]
    pub sub: String,
    /// `name`: a human readable name.
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// `aud`: audience, unused by the server.
    #[serde(deserialize_with = "nullable")]
    pub aud: String,
    /// `exp`: expiry, unix seconds; absent, `0` or negative: never expires.
    pub exp: Option<i64>,
    /// `nbf`: not valid before, unix seconds; absent, `0` or negative: no
    /// lower bound.
    pub nbf: Option<i64>,
    /// `nats`: the type specific claims.
    #[serde(deserialize_with = "nullable")]
    pub nats: T,
}

/// An operator JWT.
pub type OperatorClaims = Jwt<Operator>;
/// An account JWT.
pub type AccountClaims = Jwt<Account>;
/// A user JWT.
pub type UserClaims = Jwt<User>;
/// An activation JWT (a token granting an account an import).
pub type ActivationClaims = Jwt<Activation>;

impl Jwt<User> {
    /// The account the user belongs to: `issuer_account` when the user was
    /// signed by one of the account's signing keys, else the issuer itself.
    pub fn account(&self) -> &str {
        if self.nats.issuer_account.is_empty() {
            &self.iss
        } else {
            &self.nats.issuer_account
        }
    }
}

impl Jwt<Activation> {
    /// The exporting account: `issuer_account` when the activation was signed
    /// by one of its signing keys, else the issuer itself.
    pub fn account(&self) -> &str {
        if self.nats.issuer_account.is_empty() {
            &self.iss
        } else {
            &self.nats.issuer_account
        }
    }
}

/// The `nats` part of an operator JWT.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Operator {
    /// Operator keys that may sign accounts on the operator's behalf.
    #[serde(deserialize_with = "nullable")]
    pub signing_keys: Vec<String>,
    /// Public key of the system account.
    #[serde(deserialize_with = "nullable")]
    pub system_account: String,
    /// Base URL of an account server (tools append `/accounts/<id>`).
    #[serde(deserialize_with = "nullable")]
    pub account_server_url: String,
    /// NATS URLs where tools can reach the operator's servers.
    #[serde(deserialize_with = "nullable")]
    pub operator_service_urls: Vec<String>,
    /// Minimum server version (`major.minor.update`), unchecked here.
    #[serde(deserialize_with = "nullable")]
    pub assert_server_version: String,
    /// Whether accounts must be signed by a signing key, not the identity
    /// key.
    #[serde(deserialize_with = "nullable")]
    pub strict_signing_key_usage: bool,
    /// Free-form tags.
    #[serde(deserialize_with = "nullable")]
    pub tags: Vec<String>,
}

/// The `nats` part of an account JWT.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Account {
    /// Streams and services imported from other accounts.
    #[serde(deserialize_with = "nullable")]
    pub imports: Vec<Import>,
    /// Streams and services offered to other accounts.
    #[serde(deserialize_with = "nullable")]
    pub exports: Vec<Export>,
    /// Limits set by the operator.
    #[serde(deserialize_with = "nullable")]
    pub limits: AccountLimits,
    /// Keys that may sign users (and activations) for this account, in the
    /// order of the JWT. Look keys up with [`Account::signing_key`].
    #[serde(deserialize_with = "signing_keys")]
    pub signing_keys: Vec<SigningKey>,
    /// Revoked users: user public key, or `"*"` for every user, to a unix
    /// time; users issued at or before it are revoked (see
    /// [`is_revoked`](super::is_revoked)).
    #[serde(deserialize_with = "nullable")]
    pub revocations: HashMap<String, i64>,
    /// Permissions of users whose JWT sets none.
    #[serde(deserialize_with = "nullable")]
    pub default_permissions: Permissions,
    /// Subject mappings: source subject to weighted destinations.
    #[serde(deserialize_with = "nullable")]
    pub mappings: HashMap<String, Vec<WeightedMapping>>,
    /// Authorization callout settings.
    #[serde(deserialize_with = "nullable")]
    pub authorization: ExternalAuthorization,
    /// Message tracing destination, if any.
    pub trace: Option<MsgTrace>,
    /// Who pays for cluster traffic: `""`, `"system"` or `"owner"`.
    #[serde(deserialize_with = "nullable")]
    pub cluster_traffic: String,
    /// Description.
    #[serde(deserialize_with = "nullable")]
    pub description: String,
    /// A URL with more information.
    #[serde(deserialize_with = "nullable")]
    pub info_url: String,
    /// Free-form tags.
    #[serde(deserialize_with = "nullable")]
    pub tags: Vec<String>,
}

impl Account {
    /// The signing key entry for `key`, if `key` is one of the account's
    /// signing keys. Should a key be listed twice, the last entry wins.
    pub fn signing_key(&self, key: &str) -> Option<&SigningKey> {
        self.signing_keys.iter().rev().find(|k| k.key() == key)
    }

    /// Whether `key` is one of the account's signing keys (scoped or not).
    pub fn is_signing_key(&self, key: &str) -> bool {
        self.signing_key(key).is_some()
    }

    /// Whether `user`, issued at `iat`, is revoked by this account.
    pub fn is_user_revoked(&self, user: &str, iat: i64) -> bool {
        super::is_revoked(&self.revocations, user, iat)
    }
}

/// One entry of an account's `signing_keys`: a plain key string or a scope
/// object.
#[derive(Debug, Clone, PartialEq)]
pub enum SigningKey {
    /// A signing key without scope: users it signs carry their own
    /// permissions.
    Plain(String),
    /// A scoped signing key (`kind: "user_scope"`): users it signs get the
    /// scope's template permissions and must carry none of their own.
    Scoped(Box<UserScope>),
}

impl SigningKey {
    /// The public account key.
    pub fn key(&self) -> &str {
        match self {
            SigningKey::Plain(key) => key,
            SigningKey::Scoped(scope) => &scope.key,
        }
    }

    /// The scope, for a scoped key.
    pub fn scope(&self) -> Option<&UserScope> {
        match self {
            SigningKey::Plain(_) => None,
            SigningKey::Scoped(scope) => Some(scope),
        }
    }
}

/// A scoped signing key: `{kind: "user_scope", key, role, template,
/// description}`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct UserScope {
    /// The public account key of the signing key.
    #[serde(deserialize_with = "nullable")]
    pub key: String,
    /// A role name.
    #[serde(deserialize_with = "nullable")]
    pub role: String,
    /// Permissions and limits given to every user the key signs. Missing
    /// `subs`, `data` and `payload` read as `-1` (unlimited).
    #[serde(deserialize_with = "nullable")]
    pub template: UserPermissionLimits,
    /// Description.
    #[serde(deserialize_with = "nullable")]
    pub description: String,
}

/// The scope kind of [`UserScope`].
const USER_SCOPE: &str = "user_scope";

/// Reads `signing_keys`: an array whose items are key strings or scope
/// objects. Items of other JSON types are skipped, an object of an unknown
/// `kind` is an error.
fn signing_keys<'de, D>(d: D) -> Result<Vec<SigningKey>, D::Error>
where
    D: Deserializer<'de>,
{
    let items: Vec<Value> = nullable(d)?;
    let mut keys = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(key) => keys.push(SigningKey::Plain(key)),
            Value::Object(mut scope) => {
                match scope.get("kind").and_then(Value::as_str) {
                    Some(USER_SCOPE) => {}
                    Some(other) => {
                        let kind: String = other.chars().take(32).collect();
                        return Err(D::Error::custom(format!(
                            "unknown signing key scope kind {kind:?}"
                        )));
                    }
                    None => return Err(D::Error::custom("signing key scope without kind")),
                }
                // The template's message limits default to unlimited.
                let template = scope
                    .entry("template")
                    .or_insert_with(|| Value::Object(Default::default()));
                if template.is_null() {
                    *template = Value::Object(Default::default());
                }
                if let Value::Object(template) = template {
                    for limit in ["subs", "data", "payload"] {
                        let value = template.entry(limit).or_insert(Value::from(-1));
                        if value.is_null() {
                            *value = Value::from(-1);
                        }
                    }
                }
                let scope: UserScope =
                    serde_json::from_value(Value::Object(scope)).map_err(D::Error::custom)?;
                keys.push(SigningKey::Scoped(Box::new(scope)));
            }
            _ => {}
        }
    }
    Ok(keys)
}

/// An account's `limits`. Every count is an `i64` where `-1` means
/// unlimited; a missing field is `0`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct AccountLimits {
    /// Maximum subscriptions.
    #[serde(deserialize_with = "nullable")]
    pub subs: i64,
    /// Maximum bytes.
    #[serde(deserialize_with = "nullable")]
    pub data: i64,
    /// Maximum message payload.
    #[serde(deserialize_with = "nullable")]
    pub payload: i64,
    /// Maximum imports.
    #[serde(deserialize_with = "nullable")]
    pub imports: i64,
    /// Maximum exports.
    #[serde(deserialize_with = "nullable")]
    pub exports: i64,
    /// Whether exports may use wildcards.
    #[serde(deserialize_with = "nullable")]
    pub wildcards: bool,
    /// Whether bearer user JWTs are refused.
    #[serde(deserialize_with = "nullable")]
    pub disallow_bearer: bool,
    /// Maximum client connections.
    #[serde(deserialize_with = "nullable")]
    pub conn: i64,
    /// Maximum leaf node connections.
    #[serde(deserialize_with = "nullable")]
    pub leaf: i64,
    /// JetStream limits (untiered); cleared when `tiered_limits` is set.
    #[serde(flatten)]
    pub jetstream: JetStreamLimits,
    /// JetStream limits per tier (e.g. `R1`, `R3`).
    #[serde(deserialize_with = "nullable")]
    pub tiered_limits: HashMap<String, JetStreamLimits>,
}

/// JetStream limits of an account (or of one tier). `0` storage means
/// JetStream is disabled.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct JetStreamLimits {
    /// Maximum bytes in memory streams.
    #[serde(deserialize_with = "nullable")]
    pub mem_storage: i64,
    /// Maximum bytes in file streams.
    #[serde(deserialize_with = "nullable")]
    pub disk_storage: i64,
    /// Maximum streams.
    #[serde(deserialize_with = "nullable")]
    pub streams: i64,
    /// Maximum consumers.
    #[serde(deserialize_with = "nullable")]
    pub consumer: i64,
    /// Maximum ack pending of a stream.
    #[serde(deserialize_with = "nullable")]
    pub max_ack_pending: i64,
    /// Maximum bytes of one memory stream.
    #[serde(deserialize_with = "nullable")]
    pub mem_max_stream_bytes: i64,
    /// Maximum bytes of one file stream.
    #[serde(deserialize_with = "nullable")]
    pub disk_max_stream_bytes: i64,
    /// Whether streams must set a byte limit.
    #[serde(deserialize_with = "nullable")]
    pub max_bytes_required: bool,
}

/// Stream or service, the `type` of imports and exports and the `kind` of
/// activations. JSON `"stream"` or `"service"`; anything else is an error,
/// absent is [`ExportType::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportType {
    /// Not set.
    #[default]
    Unknown,
    /// `"stream"`.
    Stream,
    /// `"service"`.
    Service,
}

impl<'de> Deserialize<'de> for ExportType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "stream" => Ok(ExportType::Stream),
            "service" => Ok(ExportType::Service),
            other => {
                let other: String = other.chars().take(32).collect();
                Err(D::Error::custom(format!("unknown export type {other:?}")))
            }
        }
    }
}

/// One of an account's `imports`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Import {
    /// Name.
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// The subject, from the publisher's side: the exporter's subject for a
    /// stream, the importer's for a service.
    #[serde(deserialize_with = "nullable")]
    pub subject: String,
    /// Public key of the exporting account.
    #[serde(deserialize_with = "nullable")]
    pub account: String,
    /// Activation JWT, for exports that require one.
    #[serde(deserialize_with = "nullable")]
    pub token: String,
    /// Deprecated local subject (superseded by `local_subject`).
    #[serde(deserialize_with = "nullable")]
    pub to: String,
    /// Local subject, may reference the subject's wildcards as `$1`...
    #[serde(deserialize_with = "nullable")]
    pub local_subject: String,
    /// Stream or service.
    #[serde(rename = "type", deserialize_with = "nullable")]
    pub kind: ExportType,
    /// Whether service latency tracking shares the requester's details.
    #[serde(deserialize_with = "nullable")]
    pub share: bool,
    /// Whether message traces may cross the import.
    #[serde(deserialize_with = "nullable")]
    pub allow_trace: bool,
}

/// One of an account's `exports`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Export {
    /// Name.
    #[serde(deserialize_with = "nullable")]
    pub name: String,
    /// Exported subject.
    #[serde(deserialize_with = "nullable")]
    pub subject: String,
    /// Stream or service.
    #[serde(rename = "type", deserialize_with = "nullable")]
    pub kind: ExportType,
    /// Whether importers need an activation token.
    #[serde(deserialize_with = "nullable")]
    pub token_req: bool,
    /// Revoked activations: importing account (or `"*"`) to unix time.
    #[serde(deserialize_with = "nullable")]
    pub revocations: HashMap<String, i64>,
    /// Service response type: `"Singleton"` (also when empty), `"Stream"`
    /// or `"Chunked"`.
    #[serde(deserialize_with = "nullable")]
    pub response_type: String,
    /// How long responses are awaited, nanoseconds.
    #[serde(deserialize_with = "nullable")]
    pub response_threshold: i64,
    /// Service latency tracking, if enabled.
    pub service_latency: Option<ServiceLatency>,
    /// 1-based token of the subject that must hold the importer's account.
    #[serde(deserialize_with = "nullable")]
    pub account_token_position: u64,
    /// Whether the export is advertised.
    #[serde(deserialize_with = "nullable")]
    pub advertise: bool,
    /// Whether message traces may cross the export.
    #[serde(deserialize_with = "nullable")]
    pub allow_trace: bool,
    /// Description.
    #[serde(deserialize_with = "nullable")]
    pub description: String,
    /// A URL with more information.
    #[serde(deserialize_with = "nullable")]
    pub info_url: String,
}

/// Latency tracking of a service export.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct ServiceLatency {
    /// Sampling percentage 1-100, or `0` for `"headers"` (sample when the
    /// request carries tracing headers).
    #[serde(deserialize_with = "sampling")]
    pub sampling: i64,
    /// Subject the latency reports go to.
    #[serde(deserialize_with = "nullable")]
    pub results: String,
}

/// Reads a sampling rate: a number, or `"headers"` (any case) as `0`.
fn sampling<'de, D>(d: D) -> Result<i64, D::Error>
where
    D: Deserializer<'de>,
{
    match Value::deserialize(d)? {
        Value::Null => Ok(0),
        Value::String(s) if s.eq_ignore_ascii_case("headers") => Ok(0),
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| D::Error::custom("sampling rate is not an integer")),
        _ => Err(D::Error::custom(
            "sampling rate must be a number or \"headers\"",
        )),
    }
}

/// A weighted destination of a subject mapping.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct WeightedMapping {
    /// Destination subject.
    #[serde(deserialize_with = "nullable")]
    pub subject: String,
    /// Weight in percent; `0` (absent) means 100.
    #[serde(deserialize_with = "nullable")]
    pub weight: u8,
    /// Cluster the destination applies to, empty for all.
    #[serde(deserialize_with = "nullable")]
    pub cluster: String,
}

/// An account's authorization callout settings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct ExternalAuthorization {
    /// Users that bypass the callout (the auth service itself).
    #[serde(deserialize_with = "nullable")]
    pub auth_users: Vec<String>,
    /// Accounts the service may place users in (`"*"` for any).
    #[serde(deserialize_with = "nullable")]
    pub allowed_accounts: Vec<String>,
    /// Curve public key to encrypt requests with.
    #[serde(deserialize_with = "nullable")]
    pub xkey: String,
}

/// An account's message tracing settings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct MsgTrace {
    /// Subject traces are sent to.
    #[serde(deserialize_with = "nullable")]
    pub dest: String,
    /// Sampling percentage; `0` means 100.
    #[serde(deserialize_with = "nullable")]
    pub sampling: i64,
}

/// Subjects allowed and denied, for publishing or subscribing.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Permission {
    /// Allowed subjects (for subscribe: optionally `"subject queue"`).
    #[serde(deserialize_with = "nullable")]
    pub allow: Vec<String>,
    /// Denied subjects.
    #[serde(deserialize_with = "nullable")]
    pub deny: Vec<String>,
}

impl Permission {
    /// Whether neither list has an entry.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }
}

/// Permission to publish to reply subjects of received requests.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct ResponsePermission {
    /// Responses allowed per request.
    #[serde(deserialize_with = "nullable")]
    pub max: i64,
    /// How long the reply subject stays allowed, nanoseconds (Go's
    /// `time.Duration`).
    #[serde(deserialize_with = "nullable")]
    pub ttl: i64,
}

/// Publish, subscribe and response permissions (an account's
/// `default_permissions`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Permissions {
    /// `pub`: publish permissions.
    #[serde(rename = "pub", deserialize_with = "nullable")]
    pub publish: Permission,
    /// `sub`: subscribe permissions.
    #[serde(rename = "sub", deserialize_with = "nullable")]
    pub subscribe: Permission,
    /// `resp`: response permission, if any.
    pub resp: Option<ResponsePermission>,
}

/// A daily time window, local to the user's `times_location`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct TimeRange {
    /// Start, `HH:MM:SS`.
    #[serde(deserialize_with = "nullable")]
    pub start: String,
    /// End, `HH:MM:SS`.
    #[serde(deserialize_with = "nullable")]
    pub end: String,
}

/// The permissions and limits of a user: the body of a user JWT's `nats`,
/// and the template of a scoped signing key. Limits are `i64`, `-1` meaning
/// unlimited and a missing field `0` (but see [`UserScope::template`]).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct UserPermissionLimits {
    /// `pub`: publish permissions.
    #[serde(rename = "pub", deserialize_with = "nullable")]
    pub publish: Permission,
    /// `sub`: subscribe permissions.
    #[serde(rename = "sub", deserialize_with = "nullable")]
    pub subscribe: Permission,
    /// `resp`: response permission, if any.
    pub resp: Option<ResponsePermission>,
    /// `src`: CIDRs the user may connect from. The JSON holds an array, or a
    /// comma-separated string (whose entries are trimmed, lower-cased and
    /// deduplicated).
    #[serde(deserialize_with = "cidr_list")]
    pub src: Vec<String>,
    /// Daily time windows the user may connect in.
    #[serde(deserialize_with = "nullable")]
    pub times: Vec<TimeRange>,
    /// IANA time zone of `times` (empty: the server's local time).
    #[serde(deserialize_with = "nullable")]
    pub times_location: String,
    /// Maximum subscriptions.
    #[serde(deserialize_with = "nullable")]
    pub subs: i64,
    /// Maximum bytes.
    #[serde(deserialize_with = "nullable")]
    pub data: i64,
    /// Maximum message payload.
    #[serde(deserialize_with = "nullable")]
    pub payload: i64,
    /// Whether the JWT alone authenticates (no nonce signature needed).
    #[serde(deserialize_with = "nullable")]
    pub bearer_token: bool,
    /// Whether the user must connect through a proxy.
    #[serde(deserialize_with = "nullable")]
    pub proxy_required: bool,
    /// Connection types allowed (`STANDARD`, `WEBSOCKET`, `LEAFNODE`,
    /// `LEAFNODE_WS`, `MQTT`, `MQTT_WS`, `IN_PROCESS`); empty: all.
    #[serde(deserialize_with = "nullable")]
    pub allowed_connection_types: Vec<String>,
}

impl UserPermissionLimits {
    /// Whether nothing is set (what a user signed by a scoped key must
    /// carry).
    pub fn is_empty(&self) -> bool {
        *self == UserPermissionLimits::default()
    }
}

/// Reads `src`: an array of strings, or one comma-separated string.
fn cidr_list<'de, D>(d: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    match Value::deserialize(d)? {
        Value::Null => Ok(Vec::new()),
        Value::String(list) => {
            let mut cidrs: Vec<String> = Vec::new();
            for cidr in list.split(',') {
                let cidr = cidr.trim().to_lowercase();
                if !cidr.is_empty() && !cidrs.contains(&cidr) {
                    cidrs.push(cidr);
                }
            }
            Ok(cidrs)
        }
        array @ Value::Array(_) => serde_json::from_value(array).map_err(D::Error::custom),
        _ => Err(D::Error::custom(
            "src must be an array of CIDRs or a comma-separated string",
        )),
    }
}

/// The `nats` part of a user JWT.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct User {
    /// Permissions and limits (the fields sit directly in `nats`).
    #[serde(flatten)]
    pub permissions: UserPermissionLimits,
    /// Public key of the user's account when the issuer is one of its
    /// signing keys; empty when the account key itself signed.
    #[serde(deserialize_with = "nullable")]
    pub issuer_account: String,
    /// Free-form tags.
    #[serde(deserialize_with = "nullable")]
    pub tags: Vec<String>,
}

/// The `nats` part of an activation JWT. Its `sub` is the importing account.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Activation {
    /// The subject the import is granted for.
    #[serde(deserialize_with = "nullable")]
    pub subject: String,
    /// `kind`: stream or service (`type` is the claim type, `activation`).
    #[serde(deserialize_with = "nullable")]
    pub kind: ExportType,
    /// Public key of the exporting account when the issuer is one of its
    /// signing keys.
    #[serde(deserialize_with = "nullable")]
    pub issuer_account: String,
    /// Free-form tags.
    #[serde(deserialize_with = "nullable")]
    pub tags: Vec<String>,
}
