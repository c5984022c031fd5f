//! TLS for client connections (nats-server's `tls` options in `opts.go` and the
//! handshake in `client.go`): builds the rustls server configuration from the
//! `tls { }` options — certificate chain and key in PEM (RSA, ECDSA or Ed25519),
//! a CA bundle with any number of roots for client certificates, client
//! certificate verification, the minimum version — and names exactly what went
//! wrong when it cannot.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gannet_config::options::TlsOptions;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("error loading certificate file {path}: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("error loading key file {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("error loading CA file {path}: {reason}")]
    Ca { path: PathBuf, reason: String },
    #[error("client certificate verification needs a CA file (tls.ca_file or --tlscacert)")]
    VerifyWithoutCa,
    #[error("unsupported TLS min_version {0:?} (use \"1.2\" or \"1.3\")")]
    MinVersion(String),
    #[error("invalid TLS configuration: {0}")]
    Rustls(String),
}

/// Whether the options ask for client certificates.
pub fn requires_client_certs(opts: &TlsOptions) -> bool {
    opts.verify || opts.verify_and_map || opts.enable_cert_authorization
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no certificate found".to_string());
    }
    Ok(certs)
}

/// The roots of `ca_file` (required).
fn load_roots(opts: &TlsOptions) -> Result<RootCertStore, TlsError> {
    let ca = opts.ca_file.as_ref().ok_or(TlsError::VerifyWithoutCa)?;
    let mut roots = RootCertStore::empty();
    let certs = load_certs(ca).map_err(|reason| TlsError::Ca {
        path: ca.clone(),
        reason,
    })?;
    for cert in certs {
        roots.add(cert).map_err(|e| TlsError::Ca {
            path: ca.clone(),
            reason: e.to_string(),
        })?;
    }
    Ok(roots)
}

/// Builds the rustls configuration for the client listener.
pub fn server_config(opts: &TlsOptions) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = load_certs(&opts.cert_file).map_err(|reason| TlsError::Certificate {
        path: opts.cert_file.clone(),
        reason,
    })?;
    let key = PrivateKeyDer::from_pem_file(&opts.key_file).map_err(|e| TlsError::Key {
        path: opts.key_file.clone(),
        reason: e.to_string(),
    })?;
    let versions: &[&'static rustls::SupportedProtocolVersion] = match opts.min_version.as_deref() {
        None | Some("1.2") => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Some("1.3") => &[&rustls::version::TLS13],
        Some(other) => return Err(TlsError::MinVersion(other.to_string())),
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| TlsError::Rustls(e.to_string()))?;
    let builder = if requires_client_certs(opts) {
        let roots = load_roots(opts)?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| TlsError::Rustls(e.to_string()))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Key {
            path: opts.key_file.clone(),
            reason: e.to_string(),
        })?;
    Ok(Arc::new(config))
}

/// Builds the rustls configuration for dialing routes: the peer's certificate
/// must chain to `ca_file` (the system has no other roots for routes) and
/// name the host dialed; our own certificate goes along for peers that verify.
pub fn route_client_config(opts: &TlsOptions) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = load_certs(&opts.cert_file).map_err(|reason| TlsError::Certificate {
        path: opts.cert_file.clone(),
        reason,
    })?;
    let key = PrivateKeyDer::from_pem_file(&opts.key_file).map_err(|e| TlsError::Key {
        path: opts.key_file.clone(),
        reason: e.to_string(),
    })?;
    let roots = load_roots(opts)?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Rustls(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| TlsError::Key {
            path: opts.key_file.clone(),
            reason: e.to_string(),
        })?;
    Ok(Arc::new(config))
}

/// The TLS of a server-to-server link (routes, gateways), from one
/// `tls { }` block: what it dials with and what it accepts with.
#[derive(Debug, Default, Clone)]
pub(crate) struct LinkTls {
    pub(crate) client: Option<Arc<rustls::ClientConfig>>,
    pub(crate) server: Option<Arc<ServerConfig>>,
}

impl LinkTls {
    /// `block` loaded (none: plain connections).
    pub(crate) fn of(block: Option<&TlsOptions>) -> Result<LinkTls, TlsError> {
        Ok(match block {
            Some(t) => LinkTls {
                client: Some(route_client_config(t)?),
                server: Some(server_config(t)?),
            },
            None => LinkTls::default(),
        })
    }
}

/// A [`LinkTls`] that a reload may replace: connections made from then on
/// take the new one.
#[derive(Debug, Default)]
pub(crate) struct SwappableTls(std::sync::RwLock<LinkTls>);

impl SwappableTls {
    pub(crate) fn new(tls: LinkTls) -> SwappableTls {
        SwappableTls(std::sync::RwLock::new(tls))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, LinkTls> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// What a dialed connection starts with.
    pub(crate) fn client(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.read().client.clone()
    }

    /// What an accepted connection starts with.
    pub(crate) fn server(&self) -> Option<Arc<ServerConfig>> {
        self.read().server.clone()
    }

    pub(crate) fn set(&self, tls: LinkTls) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = tls;
    }
}

/// Builds the rustls configuration for a leaf connecting to its hub: the
/// hub's certificate must chain to `ca_file`; the leaf's own certificate goes
/// along when `cert_file` and `key_file` are given (a hub that verifies asks
/// for it).
pub fn leaf_client_config(opts: &TlsOptions) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    if !opts.cert_file.as_os_str().is_empty() {
        return route_client_config(opts);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = load_roots(opts)?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Rustls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
