//! The directory account resolver of operator mode (`resolver: { type:
//! full | cache, dir }`, nats-server's `DirAccResolver`): account JWTs kept
//! as `<dir>/<account public key>.jwt`, loaded when the server starts and
//! written when a claim update is accepted, so pushed accounts survive a
//! restart; and the requests it answers in the system account:
//! `$SYS.REQ.CLAIMS.UPDATE` (an account JWT, whichever account),
//! `$SYS.REQ.CLAIMS.LIST` (the accounts known),
//! `$SYS.REQ.CLAIMS.DELETE` (accounts an operator removes) and
//! `$SYS.REQ.ACCOUNT.<key>.CLAIMS.LOOKUP` (one account's JWT).
//!
//! Servers with the full resolver keep each other's accounts in step (with
//! nats-server's too): every `interval` each sends `$SYS.REQ.CLAIMS.PACK`
//! with the hash of its accounts (the XOR of each JWT's SHA-256); a server
//! whose hash differs answers with its accounts, one `<key>|<jwt>` per
//! message, then an empty message, and the asker keeps every JWT newer than
//! its own. A full resolver holds at most `limit` accounts.
//!
//! The cache resolver holds only the accounts it was given or looked up,
//! keeps at most `limit` files (the least recently written go) and drops
//! files older than `ttl`.
//!
//! A login naming an account the server does not know makes it ask the
//! cluster first ([`fetch`]: `$SYS.REQ.ACCOUNT.<key>.CLAIMS.LOOKUP`).
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gannet_config::options::{DirResolver, Resolver};
use sha2::{Digest, Sha256};

use crate::server::Server;

/// How long a login waits for other servers to send an account it does not
/// know, without a resolver `timeout` (nats-server's default).
const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_millis(1900);

/// Where servers ask for each other's accounts.
pub(crate) const PACK_SUBJECT: &str = "$SYS.REQ.CLAIMS.PACK";
/// How often accounts are compared without an `interval` (nats-server's default).
const DEFAULT_SYNC_INTERVAL: Duration = Duration::from_secs(60);

/// The subject this server's pack answers come to.
pub(crate) fn pack_inbox(server: &Server) -> String {
    format!("$SYS._INBOX_.{}.PACK", server.id())
}

/// The hash of the accounts known: the XOR of each JWT's SHA-256.
fn accounts_hash(operator: &gannet_auth::OperatorMode) -> [u8; 32] {
    let mut hash = [0u8; 32];
    for key in operator.account_keys() {
        if let Some(account) = operator.account(&key) {
            let one = Sha256::digest(account.jwt.as_bytes());
            for (h, b) in hash.iter_mut().zip(one.iter()) {
                *h ^= b;
            }
        }
    }
    hash
}

/// Answers a pack request: nothing but the end mark when the asker's hash
/// (`theirs`) is ours, else every account, then the end mark.
pub(crate) fn answer_pack(server: &Server, reply: &str, theirs: &[u8]) {
    let (Some(_), Some(system)) = (dir(server), server.system_account()) else {
        return;
    };
    let auth = server.authenticator();
    let Some(operator) = auth.operator() else {
        return;
    };
    if theirs != accounts_hash(operator) {
        for key in operator.account_keys() {
            if let Some(account) = operator.account(&key) {
                server.internal().send(
                    &system,
                    reply,
                    format!("{key}|{}", account.jwt).into_bytes(),
                );
            }
        }
    }
    server.internal().send(&system, reply, Vec::new());
}

/// Takes the accounts of a pack answer that are newer than ours.
pub(crate) fn merge_pack(server: &Server, pack: &[u8]) {
    let auth = server.authenticator();
    let Some(operator) = auth.operator() else {
        return;
    };
    let text = String::from_utf8_lossy(pack);
    let mut changed = false;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let Some((key, jwt)) = line.split_once('|') else {
            tracing::error!("DirResolver - a pack line without its key");
            continue;
        };
        let known = operator.account(key).map(|a| a.jwt.clone());
        if known.as_deref() == Some(jwt) {
            continue;
        }
        match operator.install(jwt, Some(key), gannet_auth::operator::unix_now()) {
            Ok(_) => {
                store(server, key, jwt);
                changed = true;
            }
            Err(e) => tracing::debug!("DirResolver - pack entry for {key} not taken: {e}"),
        }
    }
    if changed {
        tracing::info!("DirResolver - accounts updated from another server");
        server.install_operator_links();
        server.recheck_clients();
    }
}

/// Asks the other servers for their accounts every `interval`, while the
/// server runs.
pub(crate) async fn sync_loop(server: Arc<Server>) {
    let Some(Resolver::Dir(settings)) = server.options().resolver.clone() else {
        return;
    };
    let Some(directory) = dir(&server) else {
        return;
    };
    if !settings.full {
        // The cache resolver drops its files after `ttl`, checking every
        // half `ttl` (at most every minute).
        let Some(ttl) = settings.ttl.filter(|t| !t.is_zero()) else {
            return;
        };
        let every = (ttl / 2).clamp(Duration::from_millis(100), Duration::from_secs(60));
        loop {
            tokio::time::sleep(every).await;
            expire_cached(&directory, ttl);
        }
    }
    let every = settings
        .interval
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_SYNC_INTERVAL);
    let inbox = pack_inbox(&server);
    loop {
        tokio::time::sleep(every).await;
        let (Some(system), Some(operator)) = (
            server.system_account(),
            server.authenticator().operator().cloned(),
        ) else {
            continue;
        };
        let hash = accounts_hash(&operator).to_vec();
        server
            .internal()
            .send_request(&system, PACK_SUBJECT, &inbox, hash);
    }
}

/// The subjects the directory resolver answers, besides the claim updates
/// every operator-mode server takes.
pub(crate) const SUBJECTS: &[&str] = &[
    "$SYS.REQ.CLAIMS.UPDATE",
    "$SYS.REQ.CLAIMS.LIST",
    "$SYS.REQ.CLAIMS.DELETE",
    "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP",
];

/// How many account JWTs the cache resolver keeps on disk without a
/// `limit` (nats-server's default).
const DEFAULT_CACHE_LIMIT: usize = 1_000;

/// A full resolver at its `limit` refuses new accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("jwt store is full")]
pub(crate) struct StoreFull;

/// Whether account `key` may be added: a full resolver holds at most
/// `limit` accounts (none when 0), so past it only known accounts are
/// updated. The cache resolver makes room instead (see [`store`]).
pub(crate) fn admit(
    server: &Server,
    operator: &gannet_auth::OperatorMode,
    key: &str,
) -> Result<(), StoreFull> {
    let Some(settings) = settings(server).filter(|s| s.full && s.limit > 0) else {
        return Ok(());
    };
    let held = operator.account_keys().len();
    let full = i64::try_from(held).unwrap_or(i64::MAX) >= settings.limit;
    if full && operator.account(key).is_none() {
        return Err(StoreFull);
    }
    Ok(())
}

/// The cache resolver's files past its `limit`: the least recently written
/// go (the accounts stay in memory while the server runs, as in
/// nats-server; only the copy on disk is dropped).
fn evict_over_limit(dir: &Path, limit: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| account_key_of(&e.path()).is_some())
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= limit {
        return;
    }
    files.sort();
    let over = files.len() - limit;
    for (_, path) in files.into_iter().take(over) {
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::error!("DirResolver - could not evict {}: {e}", path.display());
        }
    }
}

/// The cache resolver's files older than its `ttl` are dropped (their
/// accounts stay in memory while the server runs).
fn expire_cached(dir: &Path, ttl: Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        let path = entry.path();
        let old = account_key_of(&path).is_some()
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|written| now.duration_since(written).is_ok_and(|age| age > ttl));
        if old {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// The resolver's directory, when the server keeps account JWTs in one.
pub(crate) fn dir(server: &Server) -> Option<PathBuf> {
    settings(server).map(|d| PathBuf::from(&d.dir))
}

/// The directory resolver's settings, when the server is in operator mode
/// with one.
pub(crate) fn settings(server: &Server) -> Option<DirResolver> {
    match &server.options().resolver {
        Some(Resolver::Dir(d)) if server.authenticator().operator().is_some() => Some(d.clone()),
        _ => None,
    }
}

/// Deletes account `key`'s file: renamed `<key>.jwt.deleted`, or removed
/// with `hard_delete` (always, by the cache resolver). A missing file is no
/// error.
pub(crate) fn delete(server: &Server, key: &str) -> std::io::Result<()> {
    let Some(settings) = settings(server) else {
        return Ok(());
    };
    let path = Path::new(&settings.dir).join(format!("{key}.jwt"));
    let outcome = if settings.hard_delete || !settings.full {
        std::fs::remove_file(&path)
    } else {
        std::fs::rename(&path, path.with_extension("jwt.deleted"))
    };
    match outcome {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Loads every `*.jwt` of the directory (creating it if missing), as
/// accounts of operator mode, then writes the preloaded accounts the
/// directory lacks. A JWT that does not validate is logged and left out.
pub(crate) fn load(server: &Server) -> std::io::Result<usize> {
    let Some(dir) = dir(server) else {
        return Ok(0);
    };
    std::fs::create_dir_all(&dir)?;
    let auth = server.authenticator();
    let Some(operator) = auth.operator() else {
        return Ok(0);
    };
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir)?.flatten() {
        let path = entry.path();
        let Some(key) = account_key_of(&path) else {
            continue;
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!("DirResolver - could not read {}: {e}", path.display());
                continue;
            }
        };
        match operator.install(text.trim(), Some(&key), gannet_auth::operator::unix_now()) {
            Ok(_) => loaded += 1,
            Err(e) => tracing::error!("DirResolver - account {key} in {}: {e}", path.display()),
        }
    }
    // Preloaded accounts are kept in the directory too (as nats-server
    // stores them), unless it holds the same or a newer JWT.
    for key in operator.account_keys() {
        let Some(account) = operator.account(&key) else {
            continue;
        };
        let on_disk = std::fs::read_to_string(dir.join(format!("{key}.jwt"))).ok();
        if on_disk.as_deref().map(str::trim) != Some(account.jwt.as_str()) {
            store(server, &key, &account.jwt);
        }
    }
    Ok(loaded)
}

/// The account public key a `<key>.jwt` file is for.
fn account_key_of(path: &Path) -> Option<String> {
    if path.extension()? != "jwt" {
        return None;
    }
    let key = path.file_stem()?.to_str()?;
    (key.len() == 56 && key.starts_with('A')).then(|| key.to_string())
}

/// Writes an accepted account JWT to the directory (through a temporary
/// file, so that a crash leaves the old JWT or the new one, never half).
pub(crate) fn store(server: &Server, key: &str, jwt: &str) {
    let Some(dir) = dir(server) else {
        return;
    };
    let path = dir.join(format!("{key}.jwt"));
    let tmp = dir.join(format!(".{key}.jwt.tmp"));
    let written = std::fs::write(&tmp, jwt).and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        tracing::error!("DirResolver - could not store {}: {e}", path.display());
    }
    if let Some(settings) = settings(server).filter(|s| !s.full) {
        let limit = usize::try_from(settings.limit)
            .ok()
            .filter(|l| *l > 0)
            .unwrap_or(DEFAULT_CACHE_LIMIT);
        evict_over_limit(&dir, limit);
    }
}

/// With a directory resolver, the account of the user JWT in a CONNECT
/// (`connect_json`, a client's or a leaf's) when this server does not know
/// it: the one to [`fetch`] before the login is checked.
pub(crate) fn unknown_account(server: &Server, connect_json: &[u8]) -> Option<String> {
    settings(server)?;
    #[derive(serde::Deserialize)]
    struct WithJwt {
        jwt: Option<String>,
    }
    let token = serde_json::from_slice::<WithJwt>(connect_json).ok()?.jwt?;
    // Only where to look: the login checks the token in full afterwards.
    let user = gannet_auth::jwt::peek::<gannet_auth::jwt::User>(&token).ok()?;
    let key = user.account().to_string();
    let auth = server.authenticator();
    if auth.operator()?.account(&key).is_some() {
        return None;
    }
    Some(key)
}

/// Asks the other servers for account `key`
/// (`$SYS.REQ.ACCOUNT.<key>.CLAIMS.LOOKUP`) and installs the first JWT that
/// comes back and validates, waiting at most the resolver's `timeout`.
/// Whether the account is known now. A login into an account this server
/// has not heard of yet waits on this, as in nats-server.
pub(crate) async fn fetch(server: &Arc<Server>, key: &str) -> bool {
    let (Some(settings), Some(system)) = (settings(server), server.system_account()) else {
        return false;
    };
    let limit = settings.timeout.unwrap_or(DEFAULT_FETCH_TIMEOUT);
    let cid = server.next_client_id();
    let inbox = format!("$SYS._INBOX_.{}.FETCH.{cid}", server.id());
    let (found, mut wait) = tokio::sync::mpsc::unbounded_channel();
    let wanted = key.to_string();
    let handler: crate::internal::Handler = Arc::new(move |server, msg| {
        let jwt = String::from_utf8_lossy(&msg.payload);
        let jwt = jwt.trim();
        if jwt.is_empty() {
            // That server does not know the account either.
            return;
        }
        match crate::sysreq::claims::install(server, &wanted, jwt) {
            Ok(()) => {
                tracing::info!("Fetched account claims for {wanted}");
                let _ = found.send(());
            }
            Err(e) => tracing::warn!("Fetched account claims for {wanted} refused: {e}"),
        }
    });
    let Some(sub) = crate::internal::subscribe(&system, cid, &inbox, 1, handler) else {
        return false;
    };
    let subject = format!("$SYS.REQ.ACCOUNT.{key}.CLAIMS.LOOKUP");
    server
        .internal()
        .send_request(&system, &subject, &inbox, Vec::new());
    let known = tokio::time::timeout(limit, wait.recv()).await.is_ok();
    system.unsubscribe(&sub);
    known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_account_key_files_are_read() {
        let key = format!("A{}", "B".repeat(55));
        assert_eq!(
            account_key_of(Path::new(&format!("/x/{key}.jwt"))),
            Some(key.clone())
        );
        assert_eq!(account_key_of(Path::new(&format!("/x/{key}.txt"))), None);
        assert_eq!(account_key_of(Path::new("/x/short.jwt")), None);
        assert_eq!(
            account_key_of(Path::new(&format!("/x/.{key}.jwt.tmp"))),
            None
        );
    }
}
