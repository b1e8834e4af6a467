#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| voucherify_fuzz::token_json(data));
