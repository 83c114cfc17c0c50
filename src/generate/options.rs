//! What `ragline generate` is asked for and what it reports.

use crate::calendar::Date;

/// Volume of the history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// About 1/50 of Kent's volumes (a few hundred children a year), for fast tests.
    Small,
    /// Kent's 2017 volumes (`docs/configuration.md`), spread over the leaves like its
    /// activity table.
    Kent,
    /// England: 150 average authorities, each a quarter of Kent's volumes, spread
    /// over the leaves like `Kent` (meant for a configuration of 150 authorities).
    National,
}

/// The volume of an average English authority as a share of Kent's: England's
/// 2017 referrals (~650,000), child protection plans (~51,000) and children in care
/// (~72,700) over its ~150 authorities are 0.24-0.27 of Kent's figures.
pub const AVERAGE_LA_SHARE_OF_KENT: f64 = 0.25;

/// The number of authorities `Scale::National` stands for.
pub const NATIONAL_AUTHORITIES: f64 = 150.0;

/// What to generate.
pub struct GenOptions {
    /// Seed of the random generators: the same seed and options give the same bytes.
    pub seed: u64,
    /// First day of the history (events are dated from here).
    pub start: Date,
    /// Length of the history in calendar months from `start`.
    pub months: u32,
    /// Volume.
    pub scale: Scale,
    /// Wrap the facts in delivery noise (see the module documentation).
    pub messy: bool,
}

/// Counts of what was written.
#[derive(Debug, Default, Clone)]
pub struct GenStats {
    /// Lines written (events, noise and malformed lines).
    pub lines: u64,
    /// Surviving facts (the clean history's events).
    pub facts: u64,
    /// Children with at least one event.
    pub children: u64,
    /// Extra exact copies of lines (messy only).
    pub noise_duplicates: u64,
    /// Superseded earlier revisions of real facts, voided ones included (messy only).
    pub noise_revisions: u64,
    /// Lines of fake events whose highest revision is void (messy only).
    pub noise_voided: u64,
    /// Lines that are not valid events (messy only).
    pub noise_malformed: u64,
}
