//! Nkey users: checking a configured public key, and verifying the signature
//! a client sends in CONNECT `sig` over the INFO `nonce` (the nkey branch of
//! nats-server's `processClientOrLeafAuthentication` in `auth.go`).
//!
//! The signature is Ed25519, base64url without padding as the NATS clients
//! send it; standard base64 (with or without padding) is accepted as well.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use nkeys::{KeyPair, KeyPairType};

/// Decodes `key` as a user public key (`U...`).
pub(crate) fn parse_user_key(key: &str) -> Result<KeyPair, String> {
    let kp = KeyPair::from_public_key(key).map_err(|e| format!("invalid nkey {key:?}: {e}"))?;
    if kp.key_pair_type() != KeyPairType::User {
        return Err(format!("nkey {key:?} is not a user public key"));
    }
    Ok(kp)
}

/// The signature bytes, from any of the base64 flavours clients use.
fn decode_signature(sig: &str) -> Option<Vec<u8>> {
    [URL_SAFE_NO_PAD, URL_SAFE, STANDARD, STANDARD_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(sig).ok())
}

/// Whether `sig` is `key`'s signature of `nonce`.
pub(crate) fn verify(key: &KeyPair, nonce: &[u8], sig: &str) -> bool {
    match decode_signature(sig) {
        Some(raw) => key.verify(nonce, &raw).is_ok(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_keys_are_accepted_others_refused() {
        let user = KeyPair::new_user();
        assert!(parse_user_key(&user.public_key()).is_ok());
        let account = KeyPair::new_account();
        assert!(parse_user_key(&account.public_key())
            .unwrap_err()
            .contains("not a user public key"));
        assert!(parse_user_key("UNOTAKEY").is_err());
        assert!(parse_user_key("").is_err());
        // A seed is not a public key.
        assert!(parse_user_key(&user.seed().unwrap()).is_err());
    }

    #[test]
    fn signatures_verify_in_every_base64_flavour() {
        let kp = KeyPair::new_user();
        let public = parse_user_key(&kp.public_key()).unwrap();
        let nonce = b"l8QmQ2_gRj-ZtQd";
        let raw = kp.sign(nonce).unwrap();
        for engine in [URL_SAFE_NO_PAD, URL_SAFE, STANDARD, STANDARD_NO_PAD] {
            let sig = engine.encode(&raw);
            assert!(verify(&public, nonce, &sig), "{sig}");
        }
    }

    #[test]
    fn bad_signatures_fail() {
        let kp = KeyPair::new_user();
        let public = parse_user_key(&kp.public_key()).unwrap();
        let nonce = b"nonce-1";
        let sig = URL_SAFE_NO_PAD.encode(kp.sign(nonce).unwrap());
        assert!(!verify(&public, b"nonce-2", &sig), "other nonce");
        let other = KeyPair::new_user();
        let other_sig = URL_SAFE_NO_PAD.encode(other.sign(nonce).unwrap());
        assert!(!verify(&public, nonce, &other_sig), "other key");
        assert!(!verify(&public, nonce, "!!not base64!!"));
        assert!(!verify(&public, nonce, ""));
        assert!(
            !verify(&public, nonce, &URL_SAFE_NO_PAD.encode([0u8; 10])),
            "short"
        );
    }
}
