//! Compressed answers: what a request's `Accept-Encoding` header asks for,
//! and the body and `Content-Encoding` header the server then sends. The
//! system account's monitoring replies and message-trace events honour it,
//! as nats-server's do: `snappy` (or `s2`) is looked for first, then `gzip`,
//! in any case; a value naming neither gets the body as it is, marked
//! `identity`. Snappy is the framed format, the stream nats-server's s2
//! writer makes in its snappy-compatible mode, so any snappy reader takes it.
use std::io::Write;

/// The header a requester names the encodings it reads in.
pub(crate) const ACCEPT_ENCODING: &str = "Accept-Encoding";

/// How an answer's body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Encoding {
    /// Nothing was asked: the body as it is, with no header.
    #[default]
    Plain,
    Gzip,
    Snappy,
    /// Something this server does not write was asked: the body as it is,
    /// marked `Content-Encoding: identity`.
    Identity,
}

impl Encoding {
    /// What an `Accept-Encoding` value asks for.
    pub(crate) fn asked(value: Option<&str>) -> Encoding {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Encoding::Plain;
        };
        let value = value.to_ascii_lowercase();
        if value.contains("snappy") || value.contains("s2") {
            Encoding::Snappy
        } else if value.contains("gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    /// `body` encoded, and the header block that says how (`None`: sent as
    /// it is, without headers). An empty body is never encoded.
    pub(crate) fn apply(self, body: Vec<u8>) -> (Option<Vec<u8>>, Vec<u8>) {
        if body.is_empty() {
            return (None, body);
        }
        let (name, encoded) = match self {
            Encoding::Plain => return (None, body),
            Encoding::Identity => ("identity", Ok(body)),
            Encoding::Gzip => ("gzip", gzip(&body).map_err(|e| (e, body))),
            Encoding::Snappy => ("snappy", snappy(&body).map_err(|e| (e, body))),
        };
        match encoded {
            Ok(out) => (
                Some(format!("NATS/1.0\r\nContent-Encoding: {name}\r\n\r\n").into_bytes()),
                out,
            ),
            Err((e, body)) => {
                // Writing into memory does not fail; if it ever did, the
                // plain body still answers.
                tracing::warn!("Could not compress a reply with {name}: {e}");
                (None, body)
            }
        }
    }
}

fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut w = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4 + 32),
        flate2::Compression::default(),
    );
    w.write_all(body)?;
    w.finish()
}

fn snappy(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut w = snap::write::FrameEncoder::new(Vec::with_capacity(body.len() / 2 + 32));
    w.write_all(body)?;
    w.into_inner().map_err(|e| e.into_error())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn snappy_is_looked_for_first_then_gzip_in_any_case() {
        assert_eq!(Encoding::asked(None), Encoding::Plain);
        assert_eq!(Encoding::asked(Some("")), Encoding::Plain);
        assert_eq!(Encoding::asked(Some("GZIP, Snappy")), Encoding::Snappy);
        assert_eq!(Encoding::asked(Some("s2")), Encoding::Snappy);
        assert_eq!(Encoding::asked(Some("deflate, gzip")), Encoding::Gzip);
        assert_eq!(Encoding::asked(Some("br")), Encoding::Identity);
    }

    #[test]
    fn each_encoding_reads_back_and_names_itself() {
        let body = br#"{"server":{"name":"n"},"data":{"x":"yyyyyyyyyyyyyyyyyyyyyyyy"}}"#.to_vec();

        let (headers, out) = Encoding::Gzip.apply(body.clone());
        assert_eq!(
            headers.as_deref(),
            Some(&b"NATS/1.0\r\nContent-Encoding: gzip\r\n\r\n"[..])
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&out[..])
            .read_to_end(&mut back)
            .expect("gzip");
        assert_eq!(back, body);

        let (headers, out) = Encoding::Snappy.apply(body.clone());
        assert!(headers.is_some_and(|h| h.ends_with(b"Content-Encoding: snappy\r\n\r\n")));
        let mut back = Vec::new();
        snap::read::FrameDecoder::new(&out[..])
            .read_to_end(&mut back)
            .expect("snappy");
        assert_eq!(back, body);

        let (headers, out) = Encoding::Identity.apply(body.clone());
        assert!(headers.is_some_and(|h| h.ends_with(b"Content-Encoding: identity\r\n\r\n")));
        assert_eq!(out, body);

        assert_eq!(Encoding::Plain.apply(body.clone()), (None, body));
        assert_eq!(Encoding::Gzip.apply(Vec::new()), (None, Vec::new()));
    }
}
