//! Arbitrary bytes, split at an arbitrary point, into the `cbor` decoder: no panic, the
//! split does not change the outcome, decoded packets re-encode faithfully.
#![no_main]

mod decode_common;

use aemp_proto::Framing;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| decode_common::run(Framing::Cbor, data));
