//! The decoder on raw bytes (`ragline::harness::decode_bytes`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

static CONFIG: OnceLock<Arc<ragline::config::Config>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let config = CONFIG.get_or_init(ragline::harness::config);
    ragline::harness::decode_bytes(config, data);
});
