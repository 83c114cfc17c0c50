//! Importing the statutory returns a council already has as ragline events:
//! the SSDA903 children looked after return and the Children in Need census
//! (docs/import.md). The output is a JSON Lines file for `ragline replay`.

pub mod cin;
pub mod cli;
pub mod error;
pub mod ids;
pub mod mapping;
pub mod output;
pub mod report;
pub mod ssda903;
pub mod versions;

pub use error::ImportError;
pub use report::Summary;
