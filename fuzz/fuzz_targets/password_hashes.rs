#![no_main]

#[path = "../../core/tests/support/parser_checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::password_hashes(data));
