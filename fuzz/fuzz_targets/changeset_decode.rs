//! Fuzzes the changeset decoder: any bytes must be refused cleanly or decode to ops that
//! encode back to an equivalent file; never a panic, never unbounded memory.
#![no_main]

use bangfu_core::sync::changeset::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((header, ops)) = decode(data) {
        let again = encode(header.clone(), &ops);
        let (header2, ops2) = decode(&again).expect("a decoded file re-encodes");
        assert_eq!(ops, ops2);
        assert_eq!(header.op_count, header2.op_count);
    }
});
