//! libFuzzer entry point; the target and its oracle live in `cairn_fuzz::validator_block`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_fuzz::validator_block(data));
