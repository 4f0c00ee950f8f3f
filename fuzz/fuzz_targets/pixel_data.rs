#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| dimse_fuzz::pixel_data(data));
