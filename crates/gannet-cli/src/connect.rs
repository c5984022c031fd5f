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
        let targets = self.targets()?;
        options = self
            .with_credentials(options, targets.credentials.as_ref())
            .await?;
        options = self.with_tls(options)?;
        let client = options
            .connect(targets.addrs)
            .await
            .map_err(|err| self.explain_connect_error(&err, targets.credentials.as_ref()))?;
        Ok(Session::new(client, notices))
    }

    /// The server list as async-nats takes it. async-nats sends only the
    /// credentials set on its options and ignores a URL's userinfo, so the
    /// userinfo is taken out of each URL here and returned beside the
    /// addresses. The addresses keep no secret, and a server the cluster
    /// advertises compares equal to the one given.
    fn targets(&self) -> anyhow::Result<Targets> {
        let servers = self.server_list();
        if servers.is_empty() {
            bail!("no server URL given (--server or NATS_URL)");
        }
        let invalid = || format!("invalid server URL in {:?}", self.redacted_servers());
        let mut addrs = Vec::with_capacity(servers.len());
        let mut credentials: Option<UrlCredentials> = None;
        for url in &servers {
            let (bare, found) = split_userinfo(url).with_context(invalid)?;
            let addr = bare
                .parse::<async_nats::ServerAddr>()
                .map_err(|err| anyhow!("{}: {err}", invalid()))?;
            addrs.push(addr);
            match (&credentials, found) {
                (_, None) => {}
                (None, found) => credentials = found,
                (Some(first), Some(other)) if *first == other => {}
                (Some(_), Some(_)) => bail!(
                    "the server URLs in {:?} carry different credentials; one connection sends \
                     the same ones to every server of the list, so write the same in each URL",
                    self.redacted_servers()
                ),
            }
        }
        Ok(Targets { addrs, credentials })
    }

    /// The server list as it may be shown, passwords and tokens masked.
    fn redacted_servers(&self) -> String {
        redact_servers(&self.servers)
    }

    /// Sets the credentials on the options. As in nats.go (and so natscli),
    /// credentials written in the server URL replace --user, --password,
    /// --token and --nkey (and their context values); a --creds JWT is still
    /// sent beside them.
    async fn with_credentials(
        &self,
        mut options: async_nats::ConnectOptions,
        from_url: Option<&UrlCredentials>,
    ) -> anyhow::Result<async_nats::ConnectOptions> {
        if let Some(creds) = &self.creds {
            let text = read_file("creds", creds)?;
            options = options.credentials(&text).map_err(|err| {
                anyhow!("creds {}: not a credentials file: {err}", creds.display())
            })?;
        }
        match from_url {
            Some(UrlCredentials::UserPassword { user, password }) => {
                return Ok(options.user_and_password(user.clone(), password.clone()));
            }
            Some(UrlCredentials::Token(token)) => return Ok(options.token(token.clone())),
            None => {}
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
    fn explain_connect_error(
        &self,
        err: &async_nats::ConnectError,
        from_url: Option<&UrlCredentials>,
    ) -> anyhow::Error {
        use async_nats::ConnectErrorKind as Kind;
        let detail = error_chain(err);
        let detail = detail
            .trim_start_matches("IO error: ")
            .trim_start_matches("TLS error: ")
            .to_string();
        let servers = &self.redacted_servers();
        match err.kind() {
            Kind::AuthorizationViolation => anyhow!(
                "authorization violation: {servers} refused the credentials{}",
                self.identity_hint(from_url)
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

    /// Whose credentials were refused, without any secret.
    fn identity_hint(&self, from_url: Option<&UrlCredentials>) -> String {
        match from_url {
            Some(UrlCredentials::UserPassword { user, .. }) => {
                return format!(" for user {user:?} (from the server URL)");
            }
            Some(UrlCredentials::Token(_)) => return " (token from the server URL)".to_string(),
            None => {}
        }
        match (
            &self.user,
            &self.token,
            &self.tls.cert,
            &self.nkey,
            &self.creds,
        ) {
            (Some(user), _, _, _, _) => format!(" for user {user:?}"),
            (_, Some(_), _, _, _) => " (token)".to_string(),
            _ if self.password.is_some() => " (password without a user)".to_string(),
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

/// Credentials written in a server URL, decoded: `nats://user:password@host`
/// or `nats://token@host`.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
enum UrlCredentials {
    UserPassword { user: String, password: String },
    Token(String),
}

/// What async-nats connects to: the addresses without userinfo, and the
/// credentials that userinfo carried.
struct Targets {
    addrs: Vec<async_nats::ServerAddr>,
    credentials: Option<UrlCredentials>,
}

/// Takes the userinfo off one server URL, reading it as Go's `url.Parse` (and
/// so nats.go) does: the authority ends at the first `/`, `?` or `#`, the
/// userinfo is what precedes its last `@`, and the first `:` in the userinfo
/// separates the user from the password. Without a `:` the userinfo is a
/// token. Returns the URL without userinfo and the decoded credentials; an
/// empty userinfo (`nats://@host`) carries none.
fn split_userinfo(url: &str) -> anyhow::Result<(String, Option<UrlCredentials>)> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("nats", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return Ok((url.to_string(), None));
    };
    let (userinfo, host) = (&rest[..at], &rest[at + 1..]);
    let bare = format!("{scheme}://{host}");
    if userinfo.is_empty() {
        return Ok((bare, None));
    }
    // The error names no part of the userinfo: it may hold the secret.
    let decode = |text: &str| {
        percent_decode(text).ok_or_else(|| {
            anyhow!("the credentials in a URL have a bad %-escape or are not UTF-8 once decoded")
        })
    };
    let credentials = match userinfo.split_once(':') {
        Some((user, password)) => UrlCredentials::UserPassword {
            user: decode(user)?,
            password: decode(password)?,
        },
        None => UrlCredentials::Token(decode(userinfo)?),
    };
    Ok((bare, Some(credentials)))
}

/// Decodes `%XX` escapes; `None` for a `%` not followed by two hex digits or
/// for bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            let hex = std::str::from_utf8(hex).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

/// A comma-separated server list fit to show: in each URL the password, or a
/// lone token, becomes `xxxxx`, as Go's `url.Redacted` masks passwords. Everything
/// before the last `@` counts as userinfo, so even a URL that does not parse
/// shows no secret.
pub fn redact_servers(servers: &str) -> String {
    servers
        .split(',')
        .map(redact_url)
        .collect::<Vec<_>>()
        .join(",")
}

fn redact_url(item: &str) -> String {
    // Spaces around a list item stay as they were.
    let url = item.trim_start();
    let lead = &item[..item.len() - url.len()];
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    match rest.rfind('@') {
        Some(at) if at > 0 => {
            let masked = match rest[..at].split_once(':') {
                Some((user, _)) => format!("{user}:xxxxx"),
                None => "xxxxx".to_string(),
            };
            format!("{lead}{scheme}{masked}{}", &rest[at..])
        }
        _ => item.to_string(),
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

    fn user_password(user: &str, password: &str) -> Option<UrlCredentials> {
        Some(UrlCredentials::UserPassword {
            user: user.into(),
            password: password.into(),
        })
    }

    #[test]
    fn userinfo_is_split_off_as_go_reads_it() {
        let split = |url: &str| split_userinfo(url).ok();
        assert_eq!(
            split("nats://a:b@h:4222"),
            Some(("nats://h:4222".into(), user_password("a", "b")))
        );
        assert_eq!(
            split("tls://tok@h"),
            Some(("tls://h".into(), Some(UrlCredentials::Token("tok".into()))))
        );
        // No scheme: nats:// as async-nats assumes.
        assert_eq!(
            split("a:b@h:4222"),
            Some(("nats://h:4222".into(), user_password("a", "b")))
        );
        // The first ':' ends the user, the last '@' the userinfo; an empty
        // password is still a password.
        assert_eq!(
            split("nats://a:b:c@d@h"),
            Some(("nats://h".into(), user_password("a", "b:c@d")))
        );
        assert_eq!(
            split("nats://a:@h"),
            Some(("nats://h".into(), user_password("a", "")))
        );
        assert_eq!(
            split("nats://%61:p%2Fq%40@h"),
            Some(("nats://h".into(), user_password("a", "p/q@")))
        );
        assert_eq!(split("nats://h:4222"), Some(("nats://h:4222".into(), None)));
        assert_eq!(split("nats://@h"), Some(("nats://h".into(), None)));
        assert!(split("nats://a:%zz@h").is_none());
        assert!(split("nats://a:%4@h").is_none());
    }

    #[test]
    fn secrets_are_masked_for_display() {
        assert_eq!(
            redact_servers("nats://a:b@h:1, tok@h:2,nats://h:3"),
            "nats://a:xxxxx@h:1, xxxxx@h:2,nats://h:3"
        );
        // Even when the URL would not parse.
        assert_eq!(redact_servers("nats://a:p/q@h"), "nats://a:xxxxx@h");
        assert_eq!(redact_servers("nats://@h"), "nats://@h");
    }

    #[test]
    fn url_credentials_are_taken_out_of_the_addresses() {
        let flags = ConnectFlags {
            server: Some("nats://a:b@h1:4222,nats://h2:4222".into()),
            ..ConnectFlags::default()
        };
        let targets = Connector::merge(&flags, &ContextSettings::default())
            .targets()
            .ok()
            .map(|t| {
                let urls: Vec<String> =
                    t.addrs.iter().map(|a| a.as_url_str().to_string()).collect();
                (urls, t.credentials)
            });
        assert_eq!(
            targets,
            Some((
                vec!["nats://h1:4222".to_string(), "nats://h2:4222".to_string()],
                user_password("a", "b")
            ))
        );
        let flags = ConnectFlags {
            server: Some("nats://a:b@h1,nats://a:c@h2".into()),
            ..ConnectFlags::default()
        };
        let err = Connector::merge(&flags, &ContextSettings::default())
            .targets()
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("different credentials"), "{err}");
        assert!(err.contains("nats://a:xxxxx@h1,nats://a:xxxxx@h2"), "{err}");
    }
}
