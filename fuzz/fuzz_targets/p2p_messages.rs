//! libFuzzer entry point; the target and its oracle live in `cairn_fuzz::p2p_messages`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_fuzz::p2p_messages(data));
