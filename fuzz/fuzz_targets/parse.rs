//! The parser never panics, never loops, and always consumes what it reports,
//! on any input, under the default limits and under tiny ones.
#![no_main]

use gannet_proto::{Limits, Parser};
use libfuzzer_sys::fuzz_target;

/// Limits small enough for short inputs to pass them.
const TINY: Limits = Limits {
    max_control_line: 16,
    max_payload: 16,
};

fn parse_all(limits: Limits, data: &[u8]) {
    let mut parser = Parser::new(limits);
    let mut at = 0;
    while let Ok(Some((_, n))) = parser.parse(&data[at..]) {
        assert!(
            n > 0 && n <= data.len() - at,
            "consumed {n} of {}",
            data.len() - at
        );
        at += n;
    }
}

fuzz_target!(|data: &[u8]| {
    parse_all(Limits::default(), data);
    parse_all(TINY, data);
});
