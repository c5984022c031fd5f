//! Who a client is and what it may do. Pure logic, no I/O: the server hands
//! over what the client sent in CONNECT and the certificate chain TLS
//! verified, and gets back an [`Identity`] with compiled [`Permissions`] to
//! check every PUB, SUB and delivery against. Mirrors nats-server's `auth.go`
//! and the permission parts of `client.go`, plus the BOSH gnatsd fork's
//! certificate clients.
//!
//! Modules:
//! - `authenticator`: [`Authenticator`], choosing and running the method;
//! - `password`: plain and bcrypt secrets;
//! - `nkey`: nkey signature checks;
//! - `certificate`: SANs and subject DN of a client certificate, DN parsing
//!   for `verify_and_map`;
//! - `bosh`: BOSH certificate clients and `_CLIENT_ID`;
//! - `permissions`: [`Permissions`] and their checks;
//! - `pattern`: subject pattern relations (match, cover, intersect);
//! - `cache`: [`PublishCache`];
//! - [`jwt`]: NATS JWTs (operator, account, user, activation claims) and
//!   `.creds` files, for decentralized auth.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![deny(unreachable_pub)]

mod authenticator;
mod bosh;
mod cache;
mod certificate;
mod connect_times;
pub mod jwt;
mod nkey;
pub mod operator;
mod password;
mod pattern;
mod permissions;
#[cfg(test)]
mod test_certs;

pub use authenticator::{AuthFailure, Authenticator, Credentials, Identity, JwtUser, UserLimits};
pub use bosh::{split_common_name, BoshCertError, CLIENT_ID_PLACEHOLDER};
pub use cache::{PublishCache, PUBLISH_CACHE_MAX, PUBLISH_CACHE_MAX_SUBJECT};
pub use certificate::{public_key_info, CertError, CertIdentity};
pub use gannet_config::options::ResponsePermission;
pub use jwt::{
    decode_account, decode_activation, decode_operator, decode_user, is_revoked, parse_creds,
    user_creds, AccountClaims, ActivationClaims, JwtError, OperatorClaims, UserClaims,
};
pub use operator::{OperatorMode, ResolvedAccount};
pub use permissions::Permissions;
pub use rustls_pki_types::CertificateDer;
