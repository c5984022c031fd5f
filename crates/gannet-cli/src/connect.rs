//! Turning the connection flags (and the selected context under them) into an
//! `async-nats` connection, and turning each way that can fail into one clear
//! sentence: which server, which file, and why.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::context::{ContextSettings, ContextStore};
use crate::flags::ConnectFlags;
use crate::format::go_duration;
use crate::session::{Notices, Session};

/// natscli's default for --timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_SERVER: &str = "nats://127.0.0.1:4222";

/// Everything needed to open connections: flags merged over the context.
#[derive(Debug, Clone)]
pub struct Connector {
    pub servers: String,
    user: Option<String>,
    password: Option<String>,
    token: Option<String>,
    creds: Option<PathBuf>,
    nkey: Option<PathBuf>,
    tls: TlsFiles,
    tls_first: bool,
    pub timeout: Duration,
    pub connection_name: String,
    pub inbox_prefix: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct TlsFiles {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    ca: Option<PathBuf>,
}

impl TlsFiles {
    fn any(&self) -> bool {
        self.cert.is_some() || self.key.is_some() || self.ca.is_some()
    }
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_string())
}

impl Connector {
    /// Flags first, then the context named by --context (or the selected one
    /// unless --no-context), then the defaults.
    pub fn from_flags(flags: &ConnectFlags) -> anyhow::Result<Self> {
        let context = if flags.no_context {
            ContextSettings::default()
        } else {
            let store = ContextStore::from_env()?;
            match &flags.context {
                Some(name) => store.load(name)?,
                None => match store.selected()? {
                    Some(name) => store.load(&name)?,
                    None => ContextSettings::default(),
                },
            }
        };
        Ok(Self::merge(flags, &context))
    }

    fn merge(flags: &ConnectFlags, context: &ContextSettings) -> Self {
        let path = |flag: &Option<PathBuf>, saved: &str| {
            flag.clone()
                .or_else(|| non_empty(saved).map(|s| expand_home(&s)))
        };
        let mut user = flags.user.clone().or_else(|| non_empty(&context.user));
        let password = flags
            .password
            .clone()
            .or_else(|| non_empty(&context.password));
        let mut token = flags.token.clone().or_else(|| non_empty(&context.token));
        // natscli: --user without --password is a token.
        if password.is_none() && token.is_none() {
            token = user.take();
        }
        Connector {
            servers: flags
                .server
                .clone()
                .or_else(|| non_empty(&context.url))
                .unwrap_or_else(|| DEFAULT_SERVER.to_string()),
            user,
            password,
            token,
            creds: path(&flags.creds, &context.creds),
            nkey: path(&flags.nkey, &context.nkey),
            tls: TlsFiles {
                cert: path(&flags.tlscert, &context.cert),
                key: path(&flags.tlskey, &context.key),
                ca: path(&flags.tlsca, &context.ca),
            },
            tls_first: flags.tlsfirst || context.tls_first,
            timeout: flags.timeout.unwrap_or(DEFAULT_TIMEOUT),
            connection_name: flags
                .connection_name
                .clone()
                .unwrap_or_else(|| format!("gannet CLI Version {}", env!("CARGO_PKG_VERSION"))),
            inbox_prefix: flags
                .inbox_prefix
                .clone()
                .or_else(|| non_empty(&context.inbox_prefix)),
        }
    }

    /// The URLs to try, split on commas.
    pub fn server_list(&self) -> Vec<String> {
        self.servers
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Opens one connection named after the flags.
    pub async fn connect(&self) -> anyhow::Result<Session> {
        self.connect_as(&self.connection_name).await
    }

    /// Opens one connection with the given name (bench opens many).
    pub async fn connect_as(&self, name: &str) -> anyhow::Result<Session> {
        self.connect_with(name, async_nats::ConnectOptions::new())
            .await
    }

    /// Like [`connect_as`](Self::connect_as), for `bench connect`, which
    /// times connects: async-nats sleeps for the reconnect delay before every
    /// attempt, the first one too, and tokio rounds even a zero sleep up to
    /// its next millisecond tick. Choosing the server in the reconnect
    /// callback with a zero delay skips that sleep. Only one server is tried:
    /// the first of those that failed least.
    pub async fn connect_now(&self, name: &str) -> anyhow::Result<Session> {
        let options = async_nats::ConnectOptions::new().reconnect_to_server_callback(
            |servers, _| async move {
                servers
                    .iter()
                    .min_by_key(|server| server.failed_attempts)
                    .map(|server| async_nats::ReconnectToServer {
                        addr: server.addr.clone(),
                        delay: Some(Duration::ZERO),
                    })
            },
        );
        self.connect_with(name, options).await
    }

    async fn connect_with(
        &self,
        name: &str,
        options: async_nats::ConnectOptions,
    ) -> anyhow::Result<Session> {
        let (notices, sender) = Notices::new();
        let mut options = options
            .name(name)
            .connection_timeout(self.timeout)
            .request_timeout(Some(self.timeout))
            .event_callback(move |event| {
                let sender = sender.clone();
                async move { sender.send(event) }
            });
        if let Some(prefix) = &self.inbox_prefix {
            options = options.custom_inbox_prefix(prefix);
        }
        options = self.with_credentials(options).await?;
        options = self.with_tls(options)?;
        let servers = self.server_list();
        if servers.is_empty() {
            bail!("no server URL given (--server or NATS_URL)");
        }
        let addrs = servers
            .iter()
            .map(|url| url.parse::<async_nats::ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| anyhow!("invalid server URL in {:?}: {err}", self.servers))?;
        let client = options
            .connect(addrs)
            .await
            .map_err(|err| self.explain_connect_error(&err))?;
        Ok(Session::new(client, notices))
    }

    async fn with_credentials(
        &self,
        mut options: async_nats::ConnectOptions,
    ) -> anyhow::Result<async_nats::ConnectOptions> {
        if let Some(creds) = &self.creds {
            let text = read_file("creds", creds)?;
            options = options.credentials(&text).map_err(|err| {
                anyhow!("creds {}: not a credentials file: {err}", creds.display())
            })?;
        }
        if let Some(nkey) = &self.nkey {
            let text = read_file("nkey", nkey)?;
            let seed = text
                .lines()
                .map(str::trim)
                .find(|line| line.starts_with("SU"))
                .ok_or_else(|| {
                    anyhow!(
                        "nkey {}: no user seed (a line starting SU) in the file",
                        nkey.display()
                    )
                })?;
            options = options.nkey(seed.to_string());
        }
        match (&self.user, &self.password, &self.token) {
            (Some(user), Some(password), _) => {
                options = options.user_and_password(user.clone(), password.clone())
            }
            (None, Some(password), _) => {
                options = options.user_and_password(String::new(), password.clone())
            }
            (_, None, Some(token)) => options = options.token(token.clone()),
            _ => {}
        }
        Ok(options)
    }

    /// Checks each TLS file before connecting, so a bad file is named with its
    /// fault instead of surfacing as a handshake failure.
    fn with_tls(
        &self,
        mut options: async_nats::ConnectOptions,
    ) -> anyhow::Result<async_nats::ConnectOptions> {
        if !self.tls.any() && !self.tls_first {
            return Ok(options);
        }
        options = options.require_tls(true);
        if self.tls_first {
            options = options.tls_first();
        }
        if let Some(ca) = &self.tls.ca {
            check_certificates("tlsca", ca)?;
            options = options.add_root_certificates(ca.clone());
        }
        match (&self.tls.cert, &self.tls.key) {
            (Some(cert), Some(key)) => {
                check_certificates("tlscert", cert)?;
                check_private_key(key)?;
                options = options.add_client_certificate(cert.clone(), key.clone());
            }
            (Some(_), None) => bail!("--tlscert needs --tlskey: the client certificate has no key"),
            (None, Some(_)) => bail!("--tlskey needs --tlscert: the key has no certificate"),
            (None, None) => {}
        }
        Ok(options)
    }

    /// One sentence for a failed connect: the server, then the reason.
    fn explain_connect_error(&self, err: &async_nats::ConnectError) -> anyhow::Error {
        use async_nats::ConnectErrorKind as Kind;
        let detail = error_chain(err);
        let detail = detail
            .trim_start_matches("IO error: ")
            .trim_start_matches("TLS error: ")
            .to_string();
        let servers = &self.servers;
        match err.kind() {
            Kind::AuthorizationViolation => anyhow!(
                "authorization violation: {servers} refused the credentials{}",
                self.identity_hint()
            ),
            Kind::Authentication => anyhow!("authentication with {servers} failed: {detail}"),
            Kind::TimedOut => anyhow!(
                "timed out connecting to {servers} after {}",
                go_duration(self.timeout)
            ),
            Kind::ServerParse => anyhow!("invalid server URL {servers:?}: {detail}"),
            Kind::Dns => anyhow!("cannot resolve {servers}: {detail}"),
            Kind::Tls | Kind::Io | Kind::MaxReconnects => {
                if let Some(tls) = self.explain_tls(&detail) {
                    anyhow!("TLS connection to {servers} failed: {tls}")
                } else if detail.contains("refused") {
                    anyhow!("could not connect to {servers}: connection refused (is the server running?)")
                } else {
                    anyhow!("could not connect to {servers}: {detail}")
                }
            }
        }
    }

    fn identity_hint(&self) -> String {
        match (
            &self.user,
            &self.token,
            &self.tls.cert,
            &self.nkey,
            &self.creds,
        ) {
            (Some(user), _, _, _, _) => format!(" for user {user:?}"),
            (_, Some(_), _, _, _) => " (token)".to_string(),
            (_, _, Some(cert), _, _) => format!(" of certificate {}", cert.display()),
            (_, _, _, Some(nkey), _) => format!(" of nkey {}", nkey.display()),
            (_, _, _, _, Some(creds)) => format!(" of {}", creds.display()),
            _ => " (no credentials were given)".to_string(),
        }
    }

    fn explain_tls(&self, detail: &str) -> Option<String> {
        let ca = match &self.tls.ca {
            Some(ca) => format!("the CA in {}", ca.display()),
            None => "the system's CAs (pass the server's CA with --tlsca)".to_string(),
        };
        let lower = detail.to_ascii_lowercase();
        if lower.contains("unknownissuer")
            || lower.contains("unknown issuer")
            || lower.contains("badsignature")
        {
            return Some(format!(
                "the server's certificate is not trusted by {ca} ({detail})"
            ));
        }
        if lower.contains("notvalidforname") || lower.contains("not valid for name") {
            return Some(format!(
                "the server's certificate does not name this host ({detail})"
            ));
        }
        if lower.contains("expired") {
            return Some(format!("the server's certificate has expired ({detail})"));
        }
        if lower.contains("certificaterequired") || lower.contains("certificate required") {
            return Some(format!(
                "the server requires a client certificate (--tlscert and --tlskey) ({detail})"
            ));
        }
        // The server's alerts about the client's certificate (rustls sends
        // CertificateUnknown for a self-signed one).
        if lower.contains("badcertificate")
            || lower.contains("certificateunknown")
            || lower.contains("unknownca")
            || lower.contains("unknown ca")
        {
            return Some(format!(
                "the server refused the client certificate ({detail})"
            ));
        }
        if lower.contains("tls") || lower.contains("certificate") || lower.contains("handshake") {
            return Some(detail.to_string());
        }
        None
    }
}

/// The error and its sources joined with ": ".
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(next) = source {
        let text = next.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = next.source();
    }
    parts.join(": ")
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

fn read_file(flag: &str, path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("{flag} {}: cannot read the file", path.display()))
}

fn check_certificates(flag: &str, path: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("{flag} {}: cannot read the file", path.display()))?;
    let mut count = 0;
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        cert.map_err(|err| {
            anyhow!(
                "{flag} {}: not a PEM certificate file: {err:?}",
                path.display()
            )
        })?;
        count += 1;
    }
    if count == 0 {
        bail!(
            "{flag} {}: no certificate in the file (expected PEM \"BEGIN CERTIFICATE\")",
            path.display()
        );
    }
    Ok(())
}

fn check_private_key(path: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("tlskey {}: cannot read the file", path.display()))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| {
        anyhow!(
            "tlskey {}: no private key in the file (expected PEM \"BEGIN PRIVATE KEY\", RSA or EC)",
            path.display()
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_without_password_is_a_token() {
        let flags = ConnectFlags {
            user: Some("s3cr3t".into()),
            ..ConnectFlags::default()
        };
        let connector = Connector::merge(&flags, &ContextSettings::default());
        assert_eq!(connector.token.as_deref(), Some("s3cr3t"));
        assert!(connector.user.is_none());
    }

    #[test]
    fn flags_override_the_context() {
        let context = ContextSettings {
            url: "nats://ctx:4222".into(),
            user: "ctxuser".into(),
            password: "ctxpass".into(),
            ..ContextSettings::default()
        };
        let connector = Connector::merge(&ConnectFlags::default(), &context);
        assert_eq!(connector.servers, "nats://ctx:4222");
        assert_eq!(connector.user.as_deref(), Some("ctxuser"));
        let flags = ConnectFlags {
            server: Some("nats://flag:4222,nats://two:4222".into()),
            ..ConnectFlags::default()
        };
        let connector = Connector::merge(&flags, &context);
        assert_eq!(
            connector.server_list(),
            vec!["nats://flag:4222", "nats://two:4222"]
        );
    }
}
