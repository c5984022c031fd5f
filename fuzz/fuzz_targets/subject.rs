//! Subject checks never panic and agree with each other: a valid publish
//! subject is a valid subscribe subject without wildcard tokens, and the tokens
//! join back into the subject.
#![no_main]

use gannet_proto::subject::{
    is_literal, is_valid_publish_subject, is_valid_queue_name, is_valid_subscribe_subject, tokens,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let subscribe = is_valid_subscribe_subject(data);
    let publish = is_valid_publish_subject(data);
    let literal = is_literal(data);
    let _ = is_valid_queue_name(data);
    if publish {
        assert!(
            subscribe,
            "a valid publish subject must be a valid subscribe subject"
        );
    }
    assert_eq!(publish, subscribe && literal);
    let parts: Vec<&[u8]> = tokens(data).collect();
    assert_eq!(parts.join(&b'.'), data);
    if subscribe {
        assert!(parts.iter().all(|t| !t.is_empty()));
    }
});
