//! Configured secrets (passwords and tokens) and checking what a client sent
//! against them (nats-server's `comparePasswords` and `isBcrypt` in
//! `auth.go`).
//!
//! A secret starting with `$2a$`, `$2b$`, `$2x$` or `$2y$` is a bcrypt hash
//! and is checked with the `bcrypt` crate; anything else is plain text,
//! compared in constant time. bcrypt is deliberately slow (milliseconds at
//! the usual costs): callers on an async runtime should authenticate on a
//! blocking thread.

use subtle::ConstantTimeEq;

/// The prefixes that mark a bcrypt hash.
const BCRYPT_PREFIXES: [&str; 4] = ["$2a$", "$2b$", "$2x$", "$2y$"];

/// A configured password or token.
#[derive(Clone)]
pub(crate) enum Secret {
    Plain(String),
    Bcrypt(String),
}

impl Secret {
    pub(crate) fn new(configured: &str) -> Secret {
        if BCRYPT_PREFIXES.iter().any(|p| configured.starts_with(p)) {
            Secret::Bcrypt(configured.to_string())
        } else {
            Secret::Plain(configured.to_string())
        }
    }

    pub(crate) fn is_plain(&self) -> bool {
        matches!(self, Secret::Plain(_))
    }

    /// Whether `given` (what the client sent; `None` = nothing) is this
    /// secret. A malformed bcrypt hash matches nothing.
    pub(crate) fn verify(&self, given: Option<&str>) -> bool {
        let given = given.unwrap_or("");
        match self {
            Secret::Plain(p) => bool::from(p.as_bytes().ct_eq(given.as_bytes())),
            Secret::Bcrypt(hash) => bcrypt::verify(given, hash).unwrap_or(false),
        }
    }
}

/// Never prints the secret.
impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Plain(_) => f.write_str("Secret::Plain(..)"),
            Secret::Bcrypt(_) => f.write_str("Secret::Bcrypt(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Low cost so the tests stay fast; the format is the same at any cost.
    const COST: u32 = 4;

    #[test]
    fn plain_secrets_compare_exactly() {
        let s = Secret::new("s3cret");
        assert!(s.is_plain());
        assert!(s.verify(Some("s3cret")));
        assert!(!s.verify(Some("s3cret ")));
        assert!(!s.verify(Some("S3cret")));
        assert!(!s.verify(Some("")));
        assert!(!s.verify(None));
    }

    #[test]
    fn bcrypt_hashes_are_verified() {
        let hash = bcrypt::hash("pw", COST).unwrap();
        assert!(hash.starts_with("$2b$"));
        let s = Secret::new(&hash);
        assert!(!s.is_plain());
        assert!(s.verify(Some("pw")));
        assert!(!s.verify(Some("pW")));
        assert!(!s.verify(None));
        assert!(
            !s.verify(Some(&hash)),
            "the hash itself is not the password"
        );
    }

    #[test]
    fn every_bcrypt_prefix_is_recognised() {
        let parts = bcrypt::hash_with_result("pw", COST).unwrap();
        for (version, prefix) in [
            (bcrypt::Version::TwoA, "$2a$"),
            (bcrypt::Version::TwoB, "$2b$"),
            (bcrypt::Version::TwoX, "$2x$"),
            (bcrypt::Version::TwoY, "$2y$"),
        ] {
            let hash = parts.format_for_version(version);
            assert!(hash.starts_with(prefix));
            let s = Secret::new(&hash);
            assert!(!s.is_plain(), "{prefix}");
            assert!(s.verify(Some("pw")), "{prefix}");
            assert!(!s.verify(Some("nope")), "{prefix}");
        }
    }

    #[test]
    fn malformed_bcrypt_matches_nothing() {
        let s = Secret::new("$2a$garbage");
        assert!(!s.is_plain());
        assert!(!s.verify(Some("$2a$garbage")));
        assert!(!s.verify(Some("")));
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", Secret::new("hunter2")).contains("hunter2"));
    }
}
