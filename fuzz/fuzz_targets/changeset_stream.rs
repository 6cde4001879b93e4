//! Fuzzes the op-stream parser behind the checksums: any bytes are refused cleanly or parse
//! into ops that encode back to the same stream.
#![no_main]

use bangfu_core::sync::changeset::{decode_stream_unchecked, encode_stream};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ops) = decode_stream_unchecked(data) {
        let again = encode_stream(&ops);
        let back = decode_stream_unchecked(&again).expect("an encoded stream decodes");
        // Compared as bytes: a NaN value is not equal to itself but encodes the same.
        assert_eq!(encode_stream(&back), again);
    }
});
