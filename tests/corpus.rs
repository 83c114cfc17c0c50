//! The event contract two ways: the JSON Schemas in `schemas/` and the Rust
//! decoder must agree on every example of `tests/corpus/`.

use ragline::config::Config;
use ragline::event::{decode, schema};
use serde_json::Value;
use std::path::Path;

fn kent() -> Config {
    Config::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/kent.toml"
    )))
    .expect("default config")
}

fn lines(name: &str) -> Vec<String> {
    let path = format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .expect("corpus file")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn every_valid_example_decodes_and_passes_the_schema() {
    let config = kent();
    let validator = schema::validator().expect("schemas compile");
    let valid = lines("valid.jsonl");
    assert!(valid.len() >= 29 * 3);
    for line in valid {
        let event = decode(&config, line.as_bytes())
            .unwrap_or_else(|rejection| panic!("{line}\n  rejected: {rejection}"));
        let instance: Value = serde_json::from_str(&line).unwrap();
        assert!(validator.is_valid(&instance), "schema refuses {line}");
        assert_eq!(event.body.type_name(), instance["type"].as_str().unwrap());
    }
}

#[test]
fn every_invalid_example_is_rejected_for_the_stated_reason() {
    let config = kent();
    let validator = schema::validator().expect("schemas compile");
    let cases: Vec<Value> = lines("invalid.jsonl")
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(cases.len() >= 80);
    for case in cases {
        let name = case["case"].as_str().unwrap();
        let raw = case["raw"].as_str().unwrap();
        let rejection = match decode(&config, raw.as_bytes()) {
            Ok(event) => panic!("{name}: accepted as {event:?}"),
            Err(rejection) => rejection,
        };
        assert_eq!(
            rejection.code.as_str(),
            case["code"].as_str().unwrap(),
            "{name}: {rejection}"
        );
        assert_eq!(
            rejection.field.as_deref(),
            case["field"].as_str(),
            "{name}: {rejection}"
        );
        // The schemas reject exactly the cases they can express.
        match (serde_json::from_str::<Value>(raw), &case["schema_rejects"]) {
            (Err(_), Value::Null) => {}
            (Ok(instance), Value::Bool(rejects)) => {
                assert_eq!(
                    !validator.is_valid(&instance),
                    *rejects,
                    "{name}: schema disagrees"
                )
            }
            (parsed, expected) => panic!("{name}: parsed {parsed:?} but schema_rejects {expected}"),
        }
    }
}

#[test]
fn the_schema_files_cover_every_event_type() {
    for event_type in ragline::event::EVENT_TYPES {
        let name = format!("{event_type}.schema.json");
        assert!(
            schema::SCHEMAS.iter().any(|(file, _)| *file == name),
            "no schema for {event_type}"
        );
        let on_disk =
            std::fs::read_to_string(format!("{}/schemas/{name}", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        let embedded = schema::SCHEMAS
            .iter()
            .find(|(file, _)| *file == name)
            .unwrap()
            .1;
        assert_eq!(on_disk, embedded);
    }
}
