//! Fuzz target `pipeline_input`: see `bp_fuzz_model::pipeline_input` for the jobs and the
//! one-pass results they are checked against.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bp_fuzz_model::pipeline_input::run(data));
