//! Parsing a stream cut in two gives the same ops and the same final error as
//! parsing it whole. The first input byte picks the cut (modulo the length of
//! the rest); the rest is the stream.
#![no_main]

use gannet_proto::{Limits, ParseError, Parser};
use libfuzzer_sys::fuzz_target;

/// The ops (as their debug text, which shows every byte) and the final error.
type Outcome = (Vec<String>, Option<ParseError>);

/// Feeds `reads` to a fresh parser the way a connection's read loop would:
/// keep the unconsumed tail, append the next read, parse until it asks for more.
fn run(reads: &[&[u8]]) -> Outcome {
    let mut parser = Parser::new(Limits {
        max_control_line: 64,
        max_payload: 64,
    });
    let mut pending = Vec::new();
    let mut ops = Vec::new();
    for read in reads {
        pending.extend_from_slice(read);
        let mut at = 0;
        loop {
            match parser.parse(&pending[at..]) {
                Ok(Some((op, n))) => {
                    assert!(n > 0 && n <= pending.len() - at);
                    ops.push(format!("{op:?}"));
                    at += n;
                }
                Ok(None) => break,
                Err(e) => return (ops, Some(e)),
            }
        }
        pending.drain(..at);
    }
    (ops, None)
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, stream)) = data.split_first() else {
        return;
    };
    let split = usize::from(pick) % (stream.len() + 1);
    let (head, tail) = stream.split_at(split);
    assert_eq!(run(&[head, tail]), run(&[stream]), "split at {split}");
});
