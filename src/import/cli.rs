//! The `ragline import` command: arguments and the printed summary.

use super::mapping::Mapping;
use super::report::Summary;
use crate::config::Config;
use anyhow::{Context, Result};
use std::path::PathBuf;

/// Which return to import.
#[derive(clap::Subcommand)]
pub enum ImportCommand {
    /// SSDA903 children looked after returns (CSV tables, one directory per
    /// collection year).
    #[command(name = "903")]
    Ssda903(Ssda903Args),
    /// Children in Need census (XML, one file per collection year).
    Cin(CinArgs),
}

/// Arguments common to every return.
#[derive(clap::Args)]
pub struct CommonArgs {
    /// Configuration file (units, validation).
    #[arg(long, default_value = "config/kent.toml")]
    pub config: PathBuf,
    /// Mapping file placing children in units (docs/import.md).
    #[arg(long)]
    pub mapping: PathBuf,
    /// The authority whose returns these are (default: the configured default).
    #[arg(long)]
    pub la: Option<String>,
    /// Output file (JSON Lines events), written whole or not at all.
    #[arg(long)]
    pub out: PathBuf,
    /// Stop at the first bad row instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `ragline import 903`.
#[derive(clap::Args)]
pub struct Ssda903Args {
    /// Directory with one subdirectory per collection year (YYYY, the year
    /// the return ends on 31 March).
    #[arg(long)]
    pub dir: PathBuf,
    /// Import only these collection years (repeatable; default: every year
    /// directory).
    #[arg(long = "year")]
    pub years: Vec<i32>,
    #[command(flatten)]
    common: CommonArgs,
}

/// `ragline import cin`.
#[derive(clap::Args)]
pub struct CinArgs {
    /// A census file (repeatable; read in the order of their collection years).
    #[arg(long = "file", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

/// Runs an import and prints its summary (counts only).
pub fn run(command: ImportCommand) -> Result<()> {
    match command {
        ImportCommand::Ssda903(args) => {
            let common = &args.common;
            let (config, mapping) = setup(common)?;
            let options = super::ssda903::Options {
                config: &config,
                mapping: &mapping,
                dir: args.dir.clone(),
                years: args.years.clone(),
                strict: common.strict,
            };
            let summary = super::ssda903::import(&options, &common.out)?;
            print(common, &summary)
        }
        ImportCommand::Cin(args) => {
            let common = &args.common;
            let (config, mapping) = setup(common)?;
            let options = super::cin::Options {
                config: &config,
                mapping: &mapping,
                files: args.files.clone(),
                strict: common.strict,
            };
            let summary = super::cin::import(&options, &common.out)?;
            print(common, &summary)
        }
    }
}

fn setup(common: &CommonArgs) -> Result<(Config, Mapping)> {
    let config = Config::load(&common.config)?;
    let la = match &common.la {
        Some(id) => config
            .la_by_id(id)
            .with_context(|| format!("--la: '{id}' is not a configured authority"))?,
        None => config.default_la,
    };
    let mapping = Mapping::load(&common.mapping, &config, la)?;
    Ok((config, mapping))
}

fn print(common: &CommonArgs, summary: &Summary) -> Result<()> {
    if common.json {
        println!("{}", serde_json::to_string(summary)?);
    } else {
        println!("imported into {}", common.out.display());
        print!("{summary}");
    }
    Ok(())
}
