//! NATS JWTs, the credentials of decentralized ("operator mode") auth:
//! decoding and verifying operator, account, user and activation tokens
//! (format version 2, as written by nsc and read by nats-server 2.x),
//! revocation checks, and `.creds` files. Also [`encode`], to sign tokens
//! for tests.
//!
//! A token is `base64url(header).base64url(claims).base64url(signature)`,
//! unpadded. The header is `{"typ":"JWT","alg":"ed25519-nkey"}` (`"ed25519"`
//! is accepted too, case-insensitively, as nats-server does). The signature
//! is the Ed25519 signature, by the key in the claims' `iss`, of the ASCII
//! text `header.claims`. The claims carry the registered fields (`jti`,
//! `iat`, `iss`, `sub`, `name`, `aud`, `exp`, `nbf`) and a `nats` object
//! with `type` (`operator`, `account`, `user`, `activation`), `version: 2`
//! and the type's own fields ([`Operator`], [`Account`], [`User`],
//! [`Activation`]).
//!
//! Decoding checks, in order: the size (at most [`MAX_TOKEN_SIZE`]), the
//! three parts, the header, the claims JSON, the claim type and version,
//! the issuer's key type, the subject's key type, the signature, the rules
//! between the claims' own fields (an account's limits on its imports and
//! exports), and `exp` and `nbf` against the caller's clock. It does not check that the issuer
//! is trusted (the operator among the configured ones, the account's
//! signing keys...): that is the caller's business, with the returned
//! `iss`.
//!
//! Version 1 tokens (claim type at the top level, signature over the claims
//! part only) are refused with [`JwtError::UnsupportedVersion`].
//!
//! Nothing here panics on any input: tokens and creds files come from
//! clients.

mod claims;
mod creds;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use nkeys::{KeyPair, KeyPairType};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

pub use claims::{
    Account, AccountClaims, AccountLimits, Activation, ActivationClaims, Export, ExportType,
    ExternalAuthorization, Import, JetStreamLimits, Jwt, MsgTrace, Operator, OperatorClaims,
    Permission, Permissions, ResponsePermission, ServiceLatency, SigningKey, TimeRange, User,
    UserClaims, UserPermissionLimits, UserScope, WeightedMapping,
};
pub use creds::{parse_creds, user_creds};

/// The largest token accepted, in bytes (as nats-server's JWT library).
pub const MAX_TOKEN_SIZE: usize = 1024 * 1024;

/// The claims format version this module reads.
pub const CLAIMS_VERSION: i64 = 2;

/// The header [`encode`] writes.
const HEADER: &str = r#"{"typ":"JWT","alg":"ed25519-nkey"}"#;

/// Unpadded base64url, tolerating non-zero trailing bits as Go's
/// `RawURLEncoding` does.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// Longest piece of client-supplied text quoted in an error.
const QUOTE_MAX: usize = 64;

/// `s`, cut to [`QUOTE_MAX`] characters for a log line.
fn clip(s: &str) -> String {
    s.chars().take(QUOTE_MAX).collect()
}

/// One of the three parts of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtPart {
    /// The first part, `{"typ":...,"alg":...}`.
    Header,
    /// The second part, the claims.
    Claims,
    /// The third part, the signature.
    Signature,
}

impl std::fmt::Display for JwtPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JwtPart::Header => "header",
            JwtPart::Claims => "claims",
            JwtPart::Signature => "signature",
        })
    }
}

/// Why a token or creds file was refused. The messages are fit for the
/// server log; client-supplied text in them is cut short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Over [`MAX_TOKEN_SIZE`].
    #[error("JWT is {len} bytes, over the {max} byte limit")]
    TooLarge {
        /// The token's length.
        len: usize,
        /// [`MAX_TOKEN_SIZE`].
        max: usize,
    },
    /// Not three parts separated by dots.
    #[error("JWT must have 3 parts separated by '.', found {0}")]
    Parts(usize),
    /// A part is not unpadded base64url.
    #[error("JWT {0} is not valid unpadded base64url")]
    Base64(JwtPart),
    /// The header or the claims are not the expected JSON.
    #[error("JWT {part} is not valid: {reason}")]
    Json {
        /// Which part.
        part: JwtPart,
        /// The JSON parser's complaint.
        reason: String,
    },
    /// The header's `typ` is not `JWT` or its `alg` not `ed25519-nkey`
    /// (or `ed25519`).
    #[error("unsupported JWT header: typ {typ:?}, alg {alg:?}")]
    Header {
        /// The header's `typ`.
        typ: String,
        /// The header's `alg`.
        alg: String,
    },
    /// The claims are not version 2 (`1` for old top-level `type` tokens,
    /// `0` when `nats.version` is missing).
    #[error("JWT claims version {0} is not supported (expected version 2)")]
    UnsupportedVersion(i64),
    /// `nats.type` is not the expected claim type.
    #[error("expected a {expected} JWT, got claim type {found:?}")]
    WrongType {
        /// The type asked for.
        expected: &'static str,
        /// The token's `nats.type`.
        found: String,
    },
    /// `iss` is not a public nkey.
    #[error("JWT issuer {0:?} is not a valid public nkey")]
    InvalidIssuer(String),
    /// `iss` is a public nkey of a type that cannot sign this claim type
    /// (e.g. a user JWT issued by an operator key).
    #[error("a {claim} JWT cannot be issued by {issuer} (expected {expected} key)")]
    IssuerKind {
        /// The claim type.
        claim: &'static str,
        /// The token's `iss`.
        issuer: String,
        /// What kind of key may issue it.
        expected: &'static str,
    },
    /// `sub` is not a public nkey of the kind the claim type is about.
    #[error("{claim} JWT subject {subject:?} is not a valid {expected} public key")]
    InvalidSubject {
        /// The claim type.
        claim: &'static str,
        /// The token's `sub`.
        subject: String,
        /// The key kind expected.
        expected: &'static str,
    },
    /// The signature does not verify with `iss`.
    #[error("JWT signature verification failed")]
    BadSignature,
    /// `now` is after `exp`.
    #[error("JWT expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp`, unix seconds.
        exp: i64,
        /// The time checked against.
        now: u64,
    },
    /// `now` is before `nbf`.
    #[error("JWT not valid before {nbf} (now {now})")]
    NotYetValid {
        /// The token's `nbf`, unix seconds.
        nbf: i64,
        /// The time checked against.
        now: u64,
    },
    /// The claims break a rule between their fields (an account with more
    /// imports than its limits allow, say).
    #[error("JWT claims are not valid: {0}")]
    Invalid(String),
    /// A creds file lacks a block or holds a bad seed. The message never
    /// quotes the seed.
    #[error("invalid creds file: {0}")]
    Creds(&'static str),
    /// [`encode`] could not build a token.
    #[error("cannot encode JWT: {0}")]
    Encode(String),
}

/// The claim types: their `nats.type` and which keys issue them and which
/// they are about.
pub trait ClaimType: DeserializeOwned + Default + sealed::Sealed {
    /// The `nats.type` value.
    const TYPE: &'static str;
    /// Key kinds that may issue this claim type.
    const ISSUERS: &'static [KeyPairType];
    /// How [`ISSUERS`](ClaimType::ISSUERS) reads in an error.
    const ISSUERS_TEXT: &'static str;
    /// Key kind of the subject.
    const SUBJECT: KeyPairType;
    /// How [`SUBJECT`](ClaimType::SUBJECT) reads in an error.
    const SUBJECT_TEXT: &'static str;

    /// Adjusts a decoded value where the format says so.
    fn normalize(&mut self) {}

    /// Checks rules between fields that make a token invalid however well
    /// it is signed; the reason otherwise.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

mod sealed {
    /// Keeps [`ClaimType`](super::ClaimType) to this module's four types.
    #[allow(unreachable_pub)]
    pub trait Sealed {}
    impl Sealed for super::Operator {}
    impl Sealed for super::Account {}
    impl Sealed for super::User {}
    impl Sealed for super::Activation {}
}

impl ClaimType for Operator {
    const TYPE: &'static str = "operator";
    const ISSUERS: &'static [KeyPairType] = &[KeyPairType::Operator];
    const ISSUERS_TEXT: &'static str = "an operator (O...)";
    const SUBJECT: KeyPairType = KeyPairType::Operator;
    const SUBJECT_TEXT: &'static str = "operator";
}

impl ClaimType for Account {
    const TYPE: &'static str = "account";
    /// An operator (or its signing key), or the account itself
    /// (self-signed).
    const ISSUERS: &'static [KeyPairType] = &[KeyPairType::Operator, KeyPairType::Account];
    const ISSUERS_TEXT: &'static str = "an operator (O...) or account (A...)";
    const SUBJECT: KeyPairType = KeyPairType::Account;
    const SUBJECT_TEXT: &'static str = "account";

    fn normalize(&mut self) {
        // Tiered JetStream limits replace the untiered ones.
        if !self.limits.tiered_limits.is_empty() {
            self.limits.jetstream = JetStreamLimits::default();
        }
    }

    /// The operator's limits on the account's own imports and exports: no
    /// more than `imports` and `exports` of them (`-1`: any number), and no
    /// wildcard export unless `wildcards` allows it.
    fn validate(&self) -> Result<(), String> {
        let limits = &self.limits;
        let over = |limit: i64, count: usize| {
            limit != -1 && i64::try_from(count).unwrap_or(i64::MAX) > limit
        };
        if over(limits.imports, self.imports.len()) {
            return Err("the account contains more imports than allowed by the operator".into());
        }
        if limits.exports != -1 {
            if over(limits.exports, self.exports.len()) {
                return Err(
                    "the account contains more exports than allowed by the operator".into(),
                );
            }
            let wildcard = |s: &str| !gannet_proto::subject::is_literal(s.as_bytes());
            if !limits.wildcards && self.exports.iter().any(|e| wildcard(&e.subject)) {
                return Err(
                    "the account contains wildcard exports that are not allowed by the operator"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

impl ClaimType for User {
    const TYPE: &'static str = "user";
    const ISSUERS: &'static [KeyPairType] = &[KeyPairType::Account];
    const ISSUERS_TEXT: &'static str = "an account (A...)";
    const SUBJECT: KeyPairType = KeyPairType::User;
    const SUBJECT_TEXT: &'static str = "user";
}

impl ClaimType for Activation {
    const TYPE: &'static str = "activation";
    const ISSUERS: &'static [KeyPairType] = &[KeyPairType::Account, KeyPairType::Operator];
    const ISSUERS_TEXT: &'static str = "an account (A...) or operator (O...)";
    const SUBJECT: KeyPairType = KeyPairType::Account;
    const SUBJECT_TEXT: &'static str = "account";
}

/// Decodes and verifies an operator JWT, valid at `now` (unix seconds).
pub fn decode_operator(token: &str, now: u64) -> Result<OperatorClaims, JwtError> {
    decode(token, now)
}

/// Decodes and verifies an account JWT, valid at `now` (unix seconds). The
/// issuer is an operator key or the account itself.
pub fn decode_account(token: &str, now: u64) -> Result<AccountClaims, JwtError> {
    decode(token, now)
}

/// Decodes and verifies a user JWT, valid at `now` (unix seconds). The
/// issuer is an account key (the account's, or a signing key's: then
/// `nats.issuer_account` names the account).
pub fn decode_user(token: &str, now: u64) -> Result<UserClaims, JwtError> {
    decode(token, now)
}

/// Decodes and verifies an activation JWT, valid at `now` (unix seconds).
pub fn decode_activation(token: &str, now: u64) -> Result<ActivationClaims, JwtError> {
    decode(token, now)
}

/// Decodes and verifies a token of claim type `T`, valid at `now` (unix
/// seconds).
pub fn decode<T: ClaimType>(token: &str, now: u64) -> Result<Jwt<T>, JwtError> {
    let jwt = decode_ignoring_time::<T>(token)?;
    jwt.check_time(now)?;
    Ok(jwt)
}

/// Decodes and verifies a token of claim type `T` like [`decode`], but
/// leaves `exp` and `nbf` unchecked: for callers that handle expiry
/// themselves (an expired account JWT still describes the account), with
/// [`Jwt::check_time`].
pub fn decode_ignoring_time<T: ClaimType>(token: &str) -> Result<Jwt<T>, JwtError> {
    let parts = split_token(token)?;
    let claims_json = &parts.claims_json;
    check_type_and_version::<T>(claims_json)?;
    let mut jwt: Jwt<T> = json_object(claims_json, JwtPart::Claims)?;

    let issuer =
        KeyPair::from_public_key(&jwt.iss).map_err(|_| JwtError::InvalidIssuer(clip(&jwt.iss)))?;
    if !T::ISSUERS.contains(&issuer.key_pair_type()) {
        return Err(JwtError::IssuerKind {
            claim: T::TYPE,
            issuer: clip(&jwt.iss),
            expected: T::ISSUERS_TEXT,
        });
    }
    let subject_ok = KeyPair::from_public_key(&jwt.sub)
        .map(|k| k.key_pair_type() == T::SUBJECT)
        .unwrap_or(false);
    if !subject_ok {
        return Err(JwtError::InvalidSubject {
            claim: T::TYPE,
            subject: clip(&jwt.sub),
            expected: T::SUBJECT_TEXT,
        });
    }

    parts.verify(&issuer)?;

    jwt.nats.normalize();
    jwt.nats.validate().map_err(JwtError::Invalid)?;
    Ok(jwt)
}

/// Reads a token's claims of type `T` without verifying anything but its
/// shape: for deciding where to look before the real check (which account
/// a login names, to fetch it), never for trusting what it says.
pub fn peek<T: ClaimType>(token: &str) -> Result<Jwt<T>, JwtError> {
    let parts = split_token(token)?;
    check_type_and_version::<T>(&parts.claims_json)?;
    json_object(&parts.claims_json, JwtPart::Claims)
}

/// Decodes a token of any claim type (or none), and verifies its signature
/// by its `iss`, whatever kind of key that is: the requests operators sign,
/// such as `$SYS.REQ.CLAIMS.DELETE`'s. `nats` is left as JSON; neither the
/// claim type nor `exp` and `nbf` are checked.
pub fn decode_generic(token: &str) -> Result<Jwt<Value>, JwtError> {
    let parts = split_token(token)?;
    let jwt: Jwt<Value> = json_object(&parts.claims_json, JwtPart::Claims)?;
    let issuer =
        KeyPair::from_public_key(&jwt.iss).map_err(|_| JwtError::InvalidIssuer(clip(&jwt.iss)))?;
    parts.verify(&issuer)?;
    Ok(jwt)
}

/// A token split into its parts, its size and header checked.
struct TokenParts<'a> {
    /// The decoded second part.
    claims_json: Vec<u8>,
    /// The signed text: the first two parts with the dot between them.
    signed: &'a str,
    /// The third part, still encoded.
    signature: &'a str,
}

/// Checks `token`'s size, its three parts and its header, and decodes its
/// claims part.
fn split_token(token: &str) -> Result<TokenParts<'_>, JwtError> {
    if token.len() > MAX_TOKEN_SIZE {
        return Err(JwtError::TooLarge {
            len: token.len(),
            max: MAX_TOKEN_SIZE,
        });
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(JwtError::Parts(parts.len()));
    };
    check_header(header)?;
    let claims_json = BASE64
        .decode(claims)
        .map_err(|_| JwtError::Base64(JwtPart::Claims))?;
    Ok(TokenParts {
        claims_json,
        signed: &token[..header.len() + 1 + claims.len()],
        signature,
    })
}

impl TokenParts<'_> {
    /// Checks the signature is `issuer`'s.
    fn verify(&self, issuer: &KeyPair) -> Result<(), JwtError> {
        let signature = BASE64
            .decode(self.signature)
            .map_err(|_| JwtError::Base64(JwtPart::Signature))?;
        issuer
            .verify(self.signed.as_bytes(), &signature)
            .map_err(|_| JwtError::BadSignature)
    }
}

/// Parses `json`, which must be a JSON object (serde would read a struct
/// from an array too).
fn json_object<T: DeserializeOwned>(json: &[u8], part: JwtPart) -> Result<T, JwtError> {
    if json.trim_ascii_start().first() != Some(&b'{') {
        return Err(JwtError::Json {
            part,
            reason: "not a JSON object".into(),
        });
    }
    serde_json::from_slice(json).map_err(|e| JwtError::Json {
        part,
        reason: e.to_string(),
    })
}

/// Checks the header: `typ` `JWT`, `alg` `ed25519-nkey` or `ed25519`, both
/// case-insensitive.
fn check_header(header: &str) -> Result<(), JwtError> {
    #[derive(Deserialize)]
    struct Header {
        #[serde(default)]
        typ: Option<String>,
        #[serde(default)]
        alg: Option<String>,
    }
    let raw = BASE64
        .decode(header)
        .map_err(|_| JwtError::Base64(JwtPart::Header))?;
    let header: Header = json_object(&raw, JwtPart::Header)?;
    let typ = header.typ.unwrap_or_default();
    let alg = header.alg.unwrap_or_default();
    let alg_ok = alg.eq_ignore_ascii_case("ed25519-nkey") || alg.eq_ignore_ascii_case("ed25519");
    if !typ.eq_ignore_ascii_case("JWT") || !alg_ok {
        return Err(JwtError::Header {
            typ: clip(&typ),
            alg: clip(&alg),
        });
    }
    Ok(())
}

/// Checks the claim type and the format version before the full parse, so
/// that a token of another type or version is refused as such rather than
/// for a field it lacks.
fn check_type_and_version<T: ClaimType>(claims: &[u8]) -> Result<(), JwtError> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Generic {
        #[serde(rename = "type")]
        kind: Option<String>,
        version: Option<i64>,
    }
    #[derive(Deserialize)]
    struct Identifier {
        /// Version 1 tokens put the claim type here.
        #[serde(rename = "type", default)]
        v1_type: Option<String>,
        #[serde(default)]
        nats: Option<Generic>,
    }
    let id: Identifier = json_object(claims, JwtPart::Claims)?;
    if id.v1_type.is_some_and(|t| !t.is_empty()) {
        return Err(JwtError::UnsupportedVersion(1));
    }
    let nats = id.nats.unwrap_or_default();
    let kind = nats.kind.unwrap_or_default();
    if kind != T::TYPE {
        return Err(JwtError::WrongType {
            expected: T::TYPE,
            found: clip(&kind),
        });
    }
    let version = nats.version.unwrap_or(0);
    if version != CLAIMS_VERSION {
        return Err(JwtError::UnsupportedVersion(version));
    }
    Ok(())
}

impl<T> Jwt<T> {
    /// Checks `exp` and `nbf` against `now` (unix seconds). A token is
    /// expired when `now` is past `exp` (valid during the second `exp`
    /// itself), and not yet valid while `now` is before `nbf`. Zero or
    /// negative values mean unset.
    pub fn check_time(&self, now: u64) -> Result<(), JwtError> {
        let now_wide = i128::from(now);
        if let Some(exp) = self.exp.filter(|&e| e > 0) {
            if now_wide > i128::from(exp) {
                return Err(JwtError::Expired { exp, now });
            }
        }
        if let Some(nbf) = self.nbf.filter(|&n| n > 0) {
            if i128::from(nbf) > now_wide {
                return Err(JwtError::NotYetValid { nbf, now });
            }
        }
        Ok(())
    }
}

/// Whether a JWT for `public_key` issued at `iat` is revoked by
/// `revocations` (an account's user revocations, or an export's activation
/// revocations): revoked when the key's entry, or the `"*"` entry, is at or
/// after `iat`.
pub fn is_revoked(revocations: &HashMap<String, i64>, public_key: &str, iat: i64) -> bool {
    let revoked_by = |key: &str| revocations.get(key).is_some_and(|&at| at >= iat);
    revoked_by(public_key) || revoked_by("*")
}

/// Signs `claims` with `signer`, for tests and tools: writes the standard
/// header, and fills in what nsc always sets when absent from `claims`:
/// `iss` (the signer's public key), `iat` (now), `jti` (an id derived from
/// the signature of the claims) and `nats.version` (2). Nothing else is
/// checked, so tests can build bad tokens too (a user signed by an
/// operator, a missing `sub`...).
///
/// ```
/// use gannet_auth::jwt::{decode_account, decode_operator, decode_user, encode};
/// use nkeys::KeyPair;
/// use serde_json::json;
///
/// let operator = KeyPair::new_operator();
/// let account = KeyPair::new_account();
/// let user = KeyPair::new_user();
/// let op_jwt = encode(
///     &json!({"sub": operator.public_key(), "name": "O", "nats": {"type": "operator"}}),
///     &operator,
/// )
/// .unwrap();
/// let acc_jwt = encode(
///     &json!({
///         "sub": account.public_key(),
///         "name": "A",
///         "nats": {
///             "type": "account",
///             "limits": {"subs": -1, "data": -1, "payload": -1, "conn": -1},
///             "exports": [{"subject": "svc.>", "type": "service"}],
///         },
///     }),
///     &operator,
/// )
/// .unwrap();
/// let user_jwt = encode(
///     &json!({
///         "sub": user.public_key(),
///         "name": "U",
///         "nats": {"type": "user", "pub": {"allow": ["svc.>"]}, "subs": -1},
///     }),
///     &account,
/// )
/// .unwrap();
/// let now = 2_000_000_000;
/// assert_eq!(decode_operator(&op_jwt, now).unwrap().iss, operator.public_key());
/// assert_eq!(decode_account(&acc_jwt, now).unwrap().iss, operator.public_key());
/// let claims = decode_user(&user_jwt, now).unwrap();
/// assert_eq!(claims.account(), account.public_key());
/// assert_eq!(claims.nats.permissions.publish.allow, ["svc.>"]);
/// ```
pub fn encode(claims: &Value, signer: &KeyPair) -> Result<String, JwtError> {
    let mut claims = claims.clone();
    let Value::Object(fields) = &mut claims else {
        return Err(JwtError::Encode("claims must be a JSON object".into()));
    };
    fields
        .entry("iss")
        .or_insert_with(|| Value::from(signer.public_key()));
    fields
        .entry("iat")
        .or_insert_with(|| Value::from(crate::operator::unix_now()));
    if let Some(Value::Object(nats)) = fields.get_mut("nats") {
        nats.entry("version")
            .or_insert_with(|| Value::from(CLAIMS_VERSION));
    }
    if !fields.contains_key("jti") {
        let body = serde_json::to_vec(&fields).map_err(|e| JwtError::Encode(e.to_string()))?;
        let digest = signer
            .sign(&body)
            .map_err(|e| JwtError::Encode(e.to_string()))?;
        let id = base32(digest.get(..32).unwrap_or(&digest));
        fields.insert("jti".into(), Value::from(id));
    }
    let body = serde_json::to_vec(&claims).map_err(|e| JwtError::Encode(e.to_string()))?;
    sign_parts(HEADER.as_bytes(), &body, signer)
}

/// `base64url(header).base64url(claims).base64url(signature)` with the
/// signature by `signer`.
fn sign_parts(header: &[u8], claims: &[u8], signer: &KeyPair) -> Result<String, JwtError> {
    let signed = format!("{}.{}", BASE64.encode(header), BASE64.encode(claims));
    let signature = signer
        .sign(signed.as_bytes())
        .map_err(|e| JwtError::Encode(e.to_string()))?;
    Ok(format!("{signed}.{}", BASE64.encode(signature)))
}

/// Unpadded RFC 4648 base32, the alphabet of nsc's token ids.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        // At most 12 bits are pending before the shift.
        buffer = ((buffer << 8) | u32::from(byte)) & 0xFFFF;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}
