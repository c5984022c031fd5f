//! `.creds` files: a user JWT and the user's nkey seed, each between
//! delimiter lines, as nsc writes them:
//!
//! ```text
//! -----BEGIN NATS USER JWT-----
//! eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ...
//! ------END NATS USER JWT------
//!
//! ************************* IMPORTANT *************************
//! ...
//!
//! -----BEGIN USER NKEY SEED-----
//! SUA...
//! ------END USER NKEY SEED------
//! ```
//!
//! Reading is lenient, like the NATS clients: any line starting with three
//! dashes opens or closes a block whatever its text and dash count, blank
//! lines and `\r\n` endings are fine, and lines outside blocks are ignored.

use nkeys::KeyPair;

use super::JwtError;

/// Splits a creds file into its JWT and its user seed, in that order. The
/// first block is the JWT, the second the seed; without a second block, the
/// first line starting with `SU` is taken as the seed. The seed must be a
/// valid user seed; the JWT is not checked (decode it with
/// [`decode_user`](super::decode_user)).
pub fn parse_creds(text: &str) -> Result<(String, String), JwtError> {
    let mut blocks: Vec<String> = Vec::new();
    let mut open: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("---") {
            match open.take() {
                Some(block) => blocks.push(block),
                None => open = Some(String::new()),
            }
        } else if let Some(block) = open.as_mut() {
            block.push_str(line);
        }
    }
    // A last block whose closing line is missing still counts.
    if let Some(block) = open.filter(|b| !b.is_empty()) {
        blocks.push(block);
    }

    let mut blocks = blocks.into_iter();
    let jwt = blocks
        .next()
        .filter(|b| !b.is_empty())
        .ok_or(JwtError::Creds("no user JWT block"))?;
    let seed = match blocks.next() {
        Some(seed) => seed,
        None => text
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with("SU"))
            .map(str::to_owned)
            .ok_or(JwtError::Creds("no user nkey seed"))?,
    };
    if !seed.starts_with("SU") {
        return Err(JwtError::Creds("the seed is not a user nkey seed"));
    }
    if KeyPair::from_seed(&seed).is_err() {
        return Err(JwtError::Creds("the user nkey seed is invalid"));
    }
    Ok((jwt, seed))
}

/// The text of a creds file holding `jwt` and `seed`, as nsc writes it.
pub fn user_creds(jwt: &str, seed: &str) -> String {
    format!(
        "-----BEGIN NATS USER JWT-----\n\
         {jwt}\n\
         ------END NATS USER JWT------\n\
         \n\
         ************************* IMPORTANT *************************\n\
         NKEY Seed printed below can be used to sign and prove identity.\n\
         NKEYs are sensitive and should be treated as secrets.\n\
         \n\
         -----BEGIN USER NKEY SEED-----\n\
         {seed}\n\
         ------END USER NKEY SEED------\n\
         \n\
         *************************************************************\n"
    )
}
