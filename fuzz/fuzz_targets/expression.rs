#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| tern_forms::fuzzing::expression(data));
