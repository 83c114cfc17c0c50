//! Report views that must agree with each other: the UASC-impact view (with
//! and without UASC children), the generated reference table.

use ragline::calendar::Month;
use ragline::config::{Config, UnitIdx};
use ragline::event::RawMessage;
use ragline::generate::{generate, GenOptions, GenUnit, Scale};
use ragline::indicators::Catalogue;
use ragline::pipeline::{Engine, Mode};
use ragline::report;
use std::path::Path;
use std::sync::Arc;

fn kent_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/kent.toml")).unwrap()
}

fn history(config: &Config) -> Vec<RawMessage> {
    let leaves = GenUnit::leaves_of(config);
    let options = GenOptions {
        seed: 5,
        start: ragline::calendar::Date::from_ymd(2016, 4, 1).unwrap(),
        months: 20,
        scale: Scale::Small,
        messy: false,
    };
    let mut bytes = Vec::new();
    generate(&options, &leaves, &mut bytes).unwrap();
    RawMessage::file_lines(
        "generated",
        bytes
            .split(|byte| *byte == b'\n')
            .filter(|line| !line.is_empty()),
    )
}

#[test]
fn with_uasc_equals_without_plus_uasc_only_for_every_pair_and_unit() {
    // The default configuration plus a UASC-only entry for every pair.
    let base = Config::parse(&kent_text(), Path::new("kent.toml")).unwrap();
    let base_catalogue = Catalogue::from_config(&base).unwrap();
    let probe = Engine::open(
        Arc::new(base.clone()),
        tempfile::tempdir().unwrap().path(),
        Mode::Replay,
    )
    .unwrap();
    let pairs = report::uasc_pairs(&probe.reader());
    drop(probe);
    assert!(
        pairs.len() >= 12,
        "the default configuration pairs every children-in-care indicator"
    );
    let mut text = kent_text();
    text = text.replace("[calendar]", &{
        let mut extra = String::new();
        for pair in &pairs {
            extra.push_str(&format!(
                "[[indicator]]\nid = \"{}~ONLY\"\nbase = \"{}\"\nuasc = \"only\"\n\n",
                pair.base, pair.base
            ));
        }
        extra + "[calendar]"
    });
    let config = Arc::new(Config::parse(&text, Path::new("kent+only.toml")).unwrap());
    let directory = tempfile::tempdir().unwrap();
    let mut engine = Engine::open(config.clone(), directory.path(), Mode::Replay).unwrap();
    let messages = history(&config);
    for chunk in messages.chunks(4000) {
        engine.run_batch(chunk, None).unwrap();
    }
    let reader = engine.reader();
    let mut uasc_seen = 0;
    for month in ["2016-09", "2017-03", "2017-11"] {
        let month = Month::parse(month).unwrap();
        for unit in report::uasc_view_units(&reader, None) {
            let lines = report::uasc_lines(&reader, unit, month);
            assert_eq!(lines.len(), pairs.len());
            for line in lines {
                let only = engine
                    .catalogue()
                    .slot_of(&format!("{}~ONLY", line.pair.base))
                    .unwrap();
                let only = reader.month_row(only, unit, month).now.reading;
                let including = line.including.now.reading;
                let excluding = line.excluding.now.reading;
                assert_eq!(
                    including.num,
                    excluding.num + only.num,
                    "{} {month}",
                    line.pair.base
                );
                assert_eq!(
                    including.den,
                    excluding.den + only.den,
                    "{} {month}",
                    line.pair.base
                );
                uasc_seen += only.num + only.den;
            }
        }
        // The JSON view reports exactly these numbers.
        let view = report::uasc_view_json(&reader, &[UnitIdx(0)], month);
        let cic_n = &view["kent"]["CIC-N"];
        let including = cic_n["including"]["num"].as_i64().unwrap();
        let excluding = cic_n["excluding"]["num"].as_i64().unwrap();
        let uasc_n = reader
            .month_row(
                engine.catalogue().slot_of("UASC-N").unwrap(),
                UnitIdx(0),
                month,
            )
            .now
            .reading
            .num;
        assert_eq!(including - excluding, uasc_n, "{month}");
        assert_eq!(
            cic_n["difference"].as_f64().unwrap(),
            (including - excluding) as f64
        );
    }
    assert!(uasc_seen > 0, "the history has UASC children in care");
    assert_eq!(
        base_catalogue.reported().count() + pairs.len(),
        engine.catalogue().reported().count()
    );
}

#[test]
fn the_reference_table_in_docs_is_generated_from_the_code() {
    let config = Config::parse(&kent_text(), Path::new("config/kent.toml")).unwrap();
    let catalogue = Catalogue::from_config(&config).unwrap();
    let generated = report::reference_document(&config, &catalogue);
    let on_disk =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/indicators.md"))
            .unwrap();
    assert_eq!(
        on_disk, generated,
        "docs/indicators.md is stale: run `ragline catalogue > docs/indicators.md`"
    );
    for indicator in ragline::indicators::REGISTRY
        .iter()
        .filter(|indicator| !indicator.id.starts_with('_'))
    {
        assert!(
            on_disk.contains(&format!("| {} |", indicator.id)),
            "{} missing",
            indicator.id
        );
    }
}
