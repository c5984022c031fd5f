//! JetStream's request parsers and checks (stream and consumer
//! configurations, pull requests, acknowledgements, TTLs, headers) answer
//! any input with a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gannet_server::jetstream::fuzzing::requests(data);
});
