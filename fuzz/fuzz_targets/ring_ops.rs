//! Fuzz target `ring_ops`: see `bp_fuzz_model::ring_ops` for the operations and
//! the model they are checked against.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bp_fuzz_model::ring_ops::run(data));
