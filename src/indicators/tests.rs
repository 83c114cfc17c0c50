//! Indicator tests live in `tests/indicators.rs` (through the whole engine).
