//! What the `ragline` commands do beyond wiring, one module per command
//! (part of the binary, not of the library).

pub(crate) mod replay;
