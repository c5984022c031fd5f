//! The route (and leaf and gateway) parser never panics, always consumes
//! what it reports, and gives the same ops and final error whether the
//! stream arrives whole or cut in two (the first input byte picks the cut),
//! under the default limits and tiny ones.
#![no_main]

use gannet_proto::route::{RouteParseError, RouteParser};
use libfuzzer_sys::fuzz_target;

type Outcome = (Vec<String>, Option<RouteParseError>);

/// Feeds `reads` the way a route connection's read loop does: the unconsumed
/// tail is kept and the next read appended.
fn run(limits: (usize, usize), reads: &[&[u8]]) -> Outcome {
    let mut parser = RouteParser::new(limits.0, limits.1);
    let mut pending = Vec::new();
    let mut ops = Vec::new();
    for read in reads {
        pending.extend_from_slice(read);
        let mut at = 0;
        loop {
            match parser.parse(&pending[at..]) {
                Ok(Some((op, n))) => {
                    assert!(n > 0 && n <= pending.len() - at, "consumed {n}");
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
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let cut = if stream.is_empty() {
        0
    } else {
        usize::from(cut) % stream.len()
    };
    for limits in [(4096, 1 << 20), (16, 16)] {
        let whole = run(limits, &[stream]);
        let split = run(limits, &[&stream[..cut], &stream[cut..]]);
        assert_eq!(whole, split, "cut at {cut}");
    }
});
