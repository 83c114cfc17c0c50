//! `ragline replay`: a file or the input topic into a state, with a summary.

use crate::{load_config, serve_until_signal, ReplayArgs};
use anyhow::{bail, Context, Result};
use ragline::pipeline::{BatchOutcome, Engine, Mode, RebuildOptions};
use ragline::sink::files::FileSink;
use ragline::source::file::FileSource;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Lines read and decoded at a time by a bulk rebuild: a batch's lines
/// and decoded events are held only until they are partitioned, so small
/// batches reuse the same memory (warm in cache) instead of faulting in
/// hundreds of megabytes of fresh pages.
const REBUILD_FEED_LINES: usize = 1 << 15;

/// `ragline replay --input FILE`: a bulk rebuild into an empty state, batch
/// by batch otherwise; prints a summary.
pub(crate) fn from_file(args: ReplayArgs) -> Result<()> {
    let config = load_config(&args.config)?;
    let open = || -> Result<Engine> {
        let mut engine = match Engine::open(Arc::clone(&config), &args.state, Mode::Replay) {
            // Only a whole replay makes that state whole: start it again.
            Err(ragline::pipeline::EngineError::InterruptedRebuild { .. }) => {
                eprintln!(
                    "ragline: a bulk rebuild into {} stopped before it finished; starting it again",
                    args.state.display()
                );
                ragline::store::empty_directory(&args.state)
                    .with_context(|| format!("emptying {}", args.state.display()))?;
                Engine::open(Arc::clone(&config), &args.state, Mode::Replay)?
            }
            opened => opened?,
        };
        engine.set_emit_outputs(args.outputs.is_some() || args.serve);
        engine.set_validation_today(Some(ragline::live::system_today()));
        Ok(engine)
    };
    let replayed = replay_file(&args, open)?;
    let FileReplay {
        engine,
        mut total,
        elapsed,
        input,
        dead_letters,
        replayed_batch_by_batch,
    } = replayed;
    let rate = total.consumed as f64 / elapsed.max(1e-9);
    let rejected: BTreeMap<&str, u64> = total
        .rejected
        .iter()
        .map(|(code, count)| (code.as_str(), *count))
        .collect();
    let rejected_total: u64 = rejected.values().sum();
    total.months_closed.sort_unstable();
    let clock = engine.clock();
    if args.json {
        let summary = serde_json::json!({
            "input": input.display().to_string(),
            "state": args.state.display().to_string(),
            "messages": total.consumed,
            "applied": total.applied,
            "duplicates": total.duplicates,
            "rejected": rejected_total,
            "rejected_by_reason": rejected,
            "months_closed": total.months_closed.len(),
            "first_month_closed": total.months_closed.first().map(|month| month.to_string()),
            "last_month_closed": clock.last_closed.map(|month| month.to_string()),
            "restatements": total.restatements,
            "current_date": clock.current().map(|date| date.to_string()),
            "elapsed_seconds": elapsed,
            "events_per_second": rate,
            "dead_letters": dead_letters.display().to_string(),
            "replayed_batch_by_batch": replayed_batch_by_batch,
            "phase_seconds": ragline::pipeline::PHASES.iter().zip(total.phase_seconds).map(|(name, seconds)| (name.to_string(), serde_json::json!(seconds))).collect::<serde_json::Map<_, _>>(),
        });
        println!("{summary}");
    } else {
        println!("replayed {} into {}", input.display(), args.state.display());
        println!("  messages        {:>12}", total.consumed);
        println!("  applied         {:>12}", total.applied);
        println!("  duplicates      {:>12}", total.duplicates);
        println!(
            "  rejected        {:>12}  -> {}",
            rejected_total,
            dead_letters.display()
        );
        for (code, count) in &rejected {
            println!("    {code:<22}{count:>8}");
        }
        match (total.months_closed.first(), clock.last_closed) {
            (Some(first), Some(last)) => println!(
                "  months closed   {:>12}  ({first} .. {last})",
                total.months_closed.len()
            ),
            _ => println!("  months closed   {:>12}", 0),
        }
        println!("  restatements    {:>12}", total.restatements);
        if let Some(current) = clock.current() {
            println!("  current date    {:>12}", current.to_string());
        }
        println!("  elapsed         {elapsed:>10.2} s  ({rate:.0} events/s)");
        let phases: Vec<String> = ragline::pipeline::PHASES
            .iter()
            .zip(total.phase_seconds)
            .map(|(name, seconds)| format!("{name} {seconds:.2}"))
            .collect();
        println!("  phases (s)      {}", phases.join(", "));
    }
    if args.serve {
        serve_until_signal(ragline::live::Shared::new(engine, true))?;
    }
    Ok(())
}

/// What [`replay_file`] did.
struct FileReplay {
    /// The state replayed into.
    engine: Engine,
    /// What the replay read, applied and rejected.
    total: BatchOutcome,
    /// Seconds from the first line read to the last flush.
    elapsed: f64,
    /// The input file.
    input: std::path::PathBuf,
    /// The dead-letter file.
    dead_letters: std::path::PathBuf,
    /// The bulk rebuild failed inside ragline, so the state was emptied and
    /// the file replayed batch by batch.
    replayed_batch_by_batch: bool,
}

/// Replays `args.input` into the state that `open` opens: in bulk into an
/// empty state (unless `--batch` or `--incremental`), batch by batch
/// otherwise, resuming after the last line a state already holds. A bulk
/// rebuild that panics inside ragline empties the state, opens it again and
/// replays batch by batch.
fn replay_file(args: &ReplayArgs, open: impl Fn() -> Result<Engine>) -> Result<FileReplay> {
    let mut engine = open()?;
    let batch_size = args
        .batch
        .unwrap_or(engine.config().processing.replay_batch_events)
        .max(1);
    let dead_letters = args
        .dead_letters
        .clone()
        .unwrap_or_else(|| args.state.join("dead-letters.jsonl"));
    let input = args.input.clone().context("--input is required")?;
    let mut source =
        FileSource::open(&input).with_context(|| format!("--input {}", input.display()))?;
    // A state that already holds lines of this file (a replay that was
    // stopped, or the file has grown) resumes after the last line applied.
    let resume_after = engine.file_position(&input.display().to_string());
    if let Some(line) = resume_after {
        source
            .skip_lines(line)
            .with_context(|| format!("reading {}", input.display()))?;
        eprintln!(
            "ragline: {} already holds {} up to line {line}; resuming after it",
            args.state.display(),
            input.display()
        );
    }
    let mut sink = FileSink::new(
        &dead_letters,
        args.outputs.as_deref(),
        resume_after.is_some(),
    )?;
    // A progress bar on a terminal (events/s and time left, by bytes of
    // the file); nothing in pipes or with --json.
    let progress =
        (!args.json && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
            let bar = indicatif::ProgressBar::new(source.progress().1);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "replay {bar:30} {percent:>3}% {msg} (about {eta} left)",
                )
                .expect("a valid template"),
            );
            bar
        });
    let started = Instant::now();
    let checkpoint_every =
        std::time::Duration::from_secs(engine.config().processing.replay_checkpoint_seconds);
    let mut last_checkpoint = Instant::now();
    let mut total = BatchOutcome::default();
    // Into an empty state the whole history is known before anything is
    // folded: the bulk rebuild folds each child once.
    let bulk = engine.is_fresh() && args.batch.is_none() && !args.incremental;
    let mut rebuilt = false;
    let mut replayed_batch_by_batch = false;
    if bulk {
        let options = RebuildOptions {
            events_in_memory: engine.config().processing.rebuild_events_in_memory,
            spill_dir: args.state.join("rebuild-spill"),
        };
        let attempt =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<BatchOutcome> {
                let mut rebuild = engine.begin_rebuild(options)?;
                loop {
                    let batch = source
                        .next_batch(REBUILD_FEED_LINES)
                        .with_context(|| format!("reading {}", input.display()))?;
                    if batch.is_empty() {
                        break;
                    }
                    if rebuild.consumed() == 0 {
                        // The file's size over the bytes per line so far.
                        let (read, size) = source.progress();
                        let per_line = read / (batch.len() as u64).max(1);
                        rebuild.expect_messages(size / per_line.max(1));
                    }
                    rebuild.feed(&batch)?;
                    sink.drain(rebuild.engine())?;
                    if let Some(bar) = &progress {
                        bar.set_position(source.progress().0);
                        let rate =
                            rebuild.consumed() as f64 / started.elapsed().as_secs_f64().max(1e-9);
                        bar.set_message(format!("{} events read, {rate:.0}/s", rebuild.consumed()));
                    }
                }
                if let Some(bar) = &progress {
                    bar.set_message("folding and closing months");
                }
                Ok(rebuild.finish()?)
            }));
        match attempt {
            Ok(outcome) => {
                total.absorb(outcome?);
                sink.drain(&engine)?;
                rebuilt = true;
            }
            Err(_) => {
                drop(sink);
                drop(engine);
                empty_for_batches(&args.state)?;
                engine = open()?;
                replayed_batch_by_batch = true;
                sink = FileSink::new(&dead_letters, args.outputs.as_deref(), false)?;
                source = FileSource::open(&input)
                    .with_context(|| format!("--input {}", input.display()))?;
            }
        }
    }
    if !rebuilt {
        loop {
            let batch = source
                .next_batch(batch_size)
                .with_context(|| format!("reading {}", input.display()))?;
            if batch.is_empty() {
                break;
            }
            total.absorb(engine.run_batch(&batch, None)?);
            sink.drain(&engine)?;
            if let Some(bar) = &progress {
                bar.set_position(source.progress().0);
                let rate = total.consumed as f64 / started.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!("{} events, {rate:.0}/s", total.consumed));
            }
            // Replay writes without the write-ahead log: a checkpoint bounds
            // what a crash loses (a later replay resumes after it).
            if last_checkpoint.elapsed() >= checkpoint_every {
                engine.flush()?;
                last_checkpoint = Instant::now();
            }
        }
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    engine.flush()?;
    let elapsed = started.elapsed().as_secs_f64();
    Ok(FileReplay {
        engine,
        total,
        elapsed,
        input,
        dead_letters,
        replayed_batch_by_batch,
    })
}

/// After a bulk rebuild failed inside ragline (a defect, not the input):
/// says so and empties the state, to replay again batch by batch, where
/// the one message whose handling fails is set aside.
fn empty_for_batches(state: &std::path::Path) -> Result<()> {
    eprintln!("ragline: the bulk rebuild failed inside ragline; replaying again batch by batch");
    ragline::store::empty_directory(state).with_context(|| format!("emptying {}", state.display()))
}

/// `ragline replay --from-topic`: rebuilds a fresh state from the input
/// topic and stops once caught up.
pub(crate) fn from_topic(args: ReplayArgs) -> Result<()> {
    let config = load_config(&args.config)?;
    if args.state.exists()
        && std::fs::read_dir(&args.state)
            .map(|mut entries| entries.next().is_some())
            .unwrap_or(false)
    {
        bail!(
            "--state {}: replay --from-topic rebuilds into a fresh (empty) state directory",
            args.state.display()
        );
    }
    let config = match args.batch {
        Some(events) => {
            let mut config = (*config).clone();
            config.processing.replay_batch_events = events.max(1);
            Arc::new(config)
        }
        None => config,
    };
    let topic = config.kafka.input_topic.clone();
    let started = Instant::now();
    // The state is empty: the bulk rebuild folds each child once, unless
    // batches were asked for.
    let bulk = (args.batch.is_none() && !args.incremental).then(|| RebuildOptions {
        events_in_memory: config.processing.rebuild_events_in_memory,
        spill_dir: args.state.join("rebuild-spill"),
    });
    let replayed = ragline::live::replay_topic(&args.state, bulk, || {
        ragline::live::open(Arc::clone(&config), &args.state, Mode::Replay)
    })?;
    let (shared, summary) = (replayed.shared, replayed.summary);
    let elapsed = started.elapsed().as_secs_f64();
    let engine = shared.engine.lock().expect("the loop has finished");
    engine.flush()?;
    let clock = engine.clock();
    let summary_json = serde_json::json!({
        "input": format!("kafka:{topic}"),
        "state": args.state.display().to_string(),
        "messages": summary.consumed,
        "applied": summary.applied,
        "rejected": summary.rejected,
        "outputs_delivered": summary.delivered,
        "complete": summary.stopped_short.is_empty(),
        "replayed_batch_by_batch": replayed.replayed_batch_by_batch,
        "stopped_short": summary.stopped_short.iter().map(|short| serde_json::json!({
            "partition": short.partition,
            "next_offset": short.high_watermark - short.lag,
            "high_watermark": short.high_watermark,
        })).collect::<Vec<_>>(),
        "last_month_closed": clock.last_closed.map(|month| month.to_string()),
        "current_date": clock.current().map(|date| date.to_string()),
        "elapsed_seconds": elapsed,
        "events_per_second": summary.consumed as f64 / elapsed.max(1e-9),
    });
    if args.json {
        println!("{summary_json}");
    } else {
        println!("{}", serde_json::to_string_pretty(&summary_json)?);
    }
    if !summary.stopped_short.is_empty() {
        eprintln!(
            "ragline: nothing arrived from the input topic for {} s (processing.replay_idle_seconds) while {} partition(s) were short of the high watermark found at start (stopped_short above); the state holds where each stopped, and `ragline run` reads on from there",
            config.processing.replay_idle_seconds,
            summary.stopped_short.len()
        );
    }
    Ok(())
}

#[cfg(test)]
#[path = "../../tests/common/poison.rs"]
mod poison;

#[cfg(test)]
mod tests {
    use super::*;
    use poison::{with_poison, POISON};
    use ragline::config::Config;
    use ragline::generate::{generate, GenOptions, GenUnit, Scale};

    /// A defect that makes the bulk rebuild panic (a fault injected at one
    /// event) does not stop a file replay: the state is emptied and the
    /// file replayed batch by batch, where the one line whose handling
    /// fails is dead-lettered (`internal_error`) and every other event
    /// counts, as in a replay of the file without that line.
    #[test]
    fn a_bulk_rebuild_that_fails_inside_ragline_is_replayed_batch_by_batch() {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/kent.toml"));
        let config = Arc::new(Config::load(path).unwrap());
        let options = GenOptions {
            seed: 5,
            start: ragline::calendar::Date::from_ymd(2016, 4, 1).unwrap(),
            months: 6,
            scale: Scale::Small,
            messy: false,
        };
        let mut history = Vec::new();
        generate(&options, &GenUnit::leaves_of(&config), &mut history).unwrap();
        let lines: Vec<Vec<u8>> = history
            .split(|byte| *byte == b'\n')
            .filter(|line| !line.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        let poisoned = with_poison(&lines);
        let directory = tempfile::tempdir().unwrap();
        let input = directory.path().join("events.jsonl");
        std::fs::write(&input, poisoned.join(&b'\n')).unwrap();
        let state = directory.path().join("state");
        let args = ReplayArgs {
            config: path.to_path_buf(),
            input: Some(input),
            from_topic: false,
            state: state.clone(),
            dead_letters: None,
            outputs: None,
            batch: None,
            incremental: false,
            json: true,
            serve: false,
        };
        let replayed = replay_file(&args, || {
            let mut engine = Engine::open(Arc::clone(&config), &state, Mode::Replay)?;
            engine.set_fault_injector(Some(Box::new(|event| event.id == POISON)));
            Ok(engine)
        })
        .unwrap();
        assert!(replayed.replayed_batch_by_batch);
        assert_eq!(replayed.total.consumed as usize, poisoned.len());
        assert_eq!(replayed.total.applied as usize, lines.len());
        let rejected: Vec<(&str, u64)> = replayed
            .total
            .rejected
            .iter()
            .map(|(code, count)| (code.as_str(), *count))
            .collect();
        assert_eq!(rejected, [("internal_error", 1)]);
        let letters = std::fs::read_to_string(&replayed.dead_letters).unwrap();
        assert_eq!(letters.lines().count(), 1, "{letters}");
        assert!(letters.contains("internal_error"), "{letters}");

        let clean = tempfile::tempdir().unwrap();
        let mut expected = Engine::open(Arc::clone(&config), clean.path(), Mode::Replay).unwrap();
        let messages = ragline::event::RawMessage::file_lines("file", lines.iter().cloned());
        expected.run_batch(&messages, None).unwrap();
        let units = config.unit_indices();
        for month in ["2016-06", "2016-08"] {
            let month = ragline::calendar::Month::parse(month).unwrap();
            assert_eq!(
                ragline::report::report_json(&replayed.engine.reader(), &units, month),
                ragline::report::report_json(&expected.reader(), &units, month),
                "{month}"
            );
        }
    }
}
