//! Loading any configuration text never panics (errors are fine).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = gannet_config::load_str(text, std::path::Path::new("fuzz.conf"));
    }
});
