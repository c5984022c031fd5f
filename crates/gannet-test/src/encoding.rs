//! Reading a compressed message body: what a server sent with
//! `Content-Encoding: gzip` or `snappy` (framed), as a client decodes it.
use std::io::Read;

/// `payload` decoded as `encoding` (a `Content-Encoding` value) says: gzip,
/// framed snappy, or as it is for anything else. Panics on a body that does
/// not decode.
pub fn decoded(encoding: Option<&str>, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    match encoding {
        Some("gzip") => {
            flate2::read::GzDecoder::new(payload)
                .read_to_end(&mut body)
                .expect("a gzip body");
        }
        Some("snappy") => {
            snap::read::FrameDecoder::new(payload)
                .read_to_end(&mut body)
                .expect("a framed snappy body");
        }
        _ => body = payload.to_vec(),
    }
    body
}
