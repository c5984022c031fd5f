//! Checks that a string is a public user nkey, as `users: [ {nkey: U...} ]`
//! requires, or a public account nkey (what nats-server gets from the nkeys
//! library's `IsValidPublicUserKey` and `IsValidPublicAccountKey`). Own
//! implementation of the documented encoding.
//!
//! A public nkey is 35 bytes in RFC 4648 base32 without padding (56
//! characters): one prefix byte (`20 << 3` for users, which makes the text
//! start with `U`), the 32-byte Ed25519 public key, and a CRC-16/XMODEM of
//! the first 33 bytes, little-endian.

/// Length of a public nkey's text.
pub const PUBLIC_KEY_LEN: usize = 56;

/// The prefix byte of a user's public key (base32 `U` in its top five bits).
const USER_PREFIX: u8 = 20 << 3;

/// The prefix byte of an account's public key (base32 `A`).
const ACCOUNT_PREFIX: u8 = 0;

/// Bytes a public key decodes to: prefix, key, checksum.
const RAW_LEN: usize = 35;

/// True for a well-formed public user nkey: 56 base32 characters, user
/// prefix, matching checksum.
pub fn is_valid_public_user_key(key: &str) -> bool {
    is_valid_public_key(key, USER_PREFIX)
}

/// True for a well-formed public account nkey (`A...`).
pub(crate) fn is_valid_public_account_key(key: &str) -> bool {
    is_valid_public_key(key, ACCOUNT_PREFIX)
}

fn is_valid_public_key(key: &str, prefix: u8) -> bool {
    if key.len() != PUBLIC_KEY_LEN {
        return false;
    }
    let Some(raw) = base32_decode(key.as_bytes()) else {
        return false;
    };
    let (body, crc) = raw.split_at(RAW_LEN - 2);
    body.first() == Some(&prefix) && crc16(body).to_le_bytes() == crc
}

/// Decodes exactly 56 upper-case base32 characters into 35 bytes.
fn base32_decode(text: &[u8]) -> Option<[u8; RAW_LEN]> {
    let mut out = [0u8; RAW_LEN];
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    let mut n = 0;
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
            acc &= (1 << bits) - 1;
        }
    }
    (n == RAW_LEN && bits == 0).then_some(out)
}

/// CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection.
fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Accepted by nats-server 2.15 (`nats-server -t`).
    const GOOD: &str = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

    #[test]
    fn crc16_is_xmodem() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn a_real_user_key_is_valid() {
        assert!(is_valid_public_user_key(GOOD));
    }

    #[test]
    fn wrong_checksum_prefix_length_or_alphabet_is_invalid() {
        // Last character changed: the checksum no longer matches (nats-server
        // rejects this one too).
        assert!(!is_valid_public_user_key(
            "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF5"
        ));
        // An account key's prefix.
        assert!(!is_valid_public_user_key(
            "ADXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"
        ));
        assert!(!is_valid_public_user_key(&GOOD[..55]));
        assert!(!is_valid_public_user_key(&format!("{GOOD}A")));
        assert!(!is_valid_public_user_key(&GOOD.to_ascii_lowercase()));
        assert!(!is_valid_public_user_key(&GOOD.replace('4', "1")));
        // One character in the key part changed to another base32 letter.
        assert!(!is_valid_public_user_key(&GOOD.replacen("RCS", "RCT", 1)));
        assert!(!is_valid_public_user_key(""));
    }

    #[test]
    fn account_keys_need_the_account_prefix() {
        assert!(is_valid_public_account_key(
            "ABVRZKJ6Z7NIMPIYJRCHEYFRUO7ENN6NWOKQDFLFDFVPSM36UPX2UCPP"
        ));
        assert!(!is_valid_public_account_key(GOOD));
        // The user key's body behind an account prefix: the checksum fails.
        assert!(!is_valid_public_account_key(
            "ADXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"
        ));
        assert!(!is_valid_public_account_key("A"));
    }
}
