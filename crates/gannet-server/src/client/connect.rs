//! The options a client sends in CONNECT, with the reference's defaults, and the
//! checks that close a connection (nats-server's `clientOpts` in `client.go`).
use serde::Deserialize;

/// A client's CONNECT options. Omitted `verbose`, `pedantic` and `echo` default to
/// true, as in the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    pub verbose: bool,
    pub pedantic: bool,
    pub echo: bool,
    pub tls_required: bool,
    pub user: Option<String>,
    pub pass: Option<String>,
    pub auth_token: Option<String>,
    pub nkey: Option<String>,
    pub sig: Option<String>,
    pub jwt: Option<String>,
    pub name: String,
    pub lang: String,
    pub version: String,
    pub protocol: i64,
    pub headers: bool,
    pub no_responders: bool,
}

/// CONNECT as sent: any field may be missing or `null` (clients send `"name":null`),
/// which leaves the default in place, as Go's JSON decoding does in the reference.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawConnect {
    verbose: Option<bool>,
    pedantic: Option<bool>,
    echo: Option<bool>,
    tls_required: Option<bool>,
    user: Option<String>,
    pass: Option<String>,
    auth_token: Option<String>,
    nkey: Option<String>,
    sig: Option<String>,
    jwt: Option<String>,
    name: Option<String>,
    lang: Option<String>,
    version: Option<String>,
    protocol: Option<i64>,
    headers: Option<bool>,
    no_responders: Option<bool>,
}

impl From<RawConnect> for ConnectOptions {
    fn from(r: RawConnect) -> Self {
        ConnectOptions {
            verbose: r.verbose.unwrap_or(true),
            pedantic: r.pedantic.unwrap_or(true),
            echo: r.echo.unwrap_or(true),
            tls_required: r.tls_required.unwrap_or(false),
            user: r.user,
            pass: r.pass,
            auth_token: r.auth_token,
            nkey: r.nkey,
            sig: r.sig,
            jwt: r.jwt,
            name: r.name.unwrap_or_default(),
            lang: r.lang.unwrap_or_default(),
            version: r.version.unwrap_or_default(),
            protocol: r.protocol.unwrap_or(0),
            headers: r.headers.unwrap_or(false),
            no_responders: r.no_responders.unwrap_or(false),
        }
    }
}

impl Default for ConnectOptions {
    fn default() -> Self {
        RawConnect::default().into()
    }
}

/// Why a CONNECT was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// Not JSON, or no JSON at all: the reference closes without `-ERR`.
    #[error("invalid CONNECT JSON: {0}")]
    BadJson(String),
    #[error("invalid client protocol")]
    InvalidProtocol,
    #[error("no responders requires headers support")]
    NoRespondersWithoutHeaders,
}

impl ConnectError {
    /// The `-ERR` text sent before closing, if the reference sends one.
    pub fn client_error(&self) -> Option<&'static str> {
        match self {
            ConnectError::BadJson(_) => None,
            ConnectError::InvalidProtocol => Some("invalid client protocol"),
            ConnectError::NoRespondersWithoutHeaders => {
                Some("no responders requires headers support")
            }
        }
    }
}

impl ConnectOptions {
    /// Parses and checks the JSON of a CONNECT line.
    pub fn parse(json: &[u8]) -> Result<ConnectOptions, ConnectError> {
        // An array would fill the fields in order; Go refuses it.
        if json.trim_ascii_start().starts_with(b"[") {
            return Err(ConnectError::BadJson("an array, not an object".to_string()));
        }
        // `null` is no options at all, as Go reads it into an empty struct.
        let raw: Option<RawConnect> =
            serde_json::from_slice(json).map_err(|e| ConnectError::BadJson(e.to_string()))?;
        let opts = ConnectOptions::from(raw.unwrap_or_default());
        if !(0..=1).contains(&opts.protocol) {
            return Err(ConnectError::InvalidProtocol);
        }
        if opts.no_responders && !opts.headers {
            return Err(ConnectError::NoRespondersWithoutHeaders);
        }
        Ok(opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_is_no_options_and_other_documents_are_refused() {
        let o = ConnectOptions::parse(b" null").unwrap();
        assert!(o.verbose && o.pedantic && o.echo && o.user.is_none());
        for bad in [&b"[]"[..], b" [true]", b"\"x\"", b"1", b""] {
            assert!(
                matches!(ConnectOptions::parse(bad), Err(ConnectError::BadJson(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn omitted_flags_default_to_true() {
        let o = ConnectOptions::parse(b"{}").unwrap();
        assert!(o.verbose && o.pedantic && o.echo);
        assert!(!o.headers && !o.no_responders);
    }

    #[test]
    fn null_fields_keep_their_defaults() {
        let o = ConnectOptions::parse(
            br#"{"verbose":false,"name":null,"user_jwt":null,"echo":null,"headers":true}"#,
        )
        .unwrap();
        assert!(!o.verbose && o.echo && o.headers);
        assert_eq!(o.name, "");
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let o = ConnectOptions::parse(br#"{"foo":1,"verbose":false,"name":"x"}"#).unwrap();
        assert!(!o.verbose);
        assert_eq!(o.name, "x");
    }

    #[test]
    fn bad_json_and_empty_json_close_silently() {
        for bad in [&b""[..], b"{bad json}", b"[1]"] {
            let e = ConnectOptions::parse(bad).unwrap_err();
            assert_eq!(e.client_error(), None, "{bad:?}");
        }
    }

    #[test]
    fn protocol_other_than_zero_or_one_is_refused() {
        let e = ConnectOptions::parse(br#"{"protocol":2}"#).unwrap_err();
        assert_eq!(e.client_error(), Some("invalid client protocol"));
        assert!(ConnectOptions::parse(br#"{"protocol":1}"#).is_ok());
    }

    #[test]
    fn no_responders_needs_headers() {
        let e = ConnectOptions::parse(br#"{"no_responders":true}"#).unwrap_err();
        assert_eq!(
            e.client_error(),
            Some("no responders requires headers support")
        );
        assert!(ConnectOptions::parse(br#"{"no_responders":true,"headers":true}"#).is_ok());
    }
}
