//! The repository carries its own contract: every reference to a page of
//! `docs/`, every cited decision and every relative Markdown link resolves
//! inside the repository, and nothing points to a specification kept
//! elsewhere.
//!
//! The test reads the repository's text files (`git ls-files`, or the
//! directory tree without `target/`, `.git/` and `out/` when git is not
//! available) and fails when
//! - a reference `docs/<name>.md`, optionally followed by `#anchor`, names a
//!   page that does not exist or a heading that the page does not have;
//! - a relative link in a Markdown file names a missing file or heading, or
//!   leaves the repository;
//! - a decision is cited as `decision D<n>` and `docs/decisions.md` has no
//!   heading `## D<n> ...`, or is cited in another form (a bare `D<n>`): the
//!   one citation form is "decision D<n>", on one line;
//! - a file names the shared folder of a neighbouring checkout, or a Markdown
//!   file in a `spec` folder.
//!
//! A second test feeds the checker made-up text with one broken reference of
//! each kind, so that the first cannot pass by finding nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One broken reference.
#[derive(Debug)]
struct Problem {
    file: String,
    line: usize,
    what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.what)
    }
}

/// How many references of each kind a scan checked.
#[derive(Debug, Default)]
struct Tally {
    pages: usize,
    decisions: usize,
    links: usize,
}

/// What references may point at.
struct Targets {
    /// The pages of `docs/` by file name, with the anchors of their headings.
    pages: BTreeMap<String, BTreeSet<String>>,
    /// Every n with a heading `## D<n> ...` in `docs/decisions.md`.
    decisions: BTreeSet<u32>,
}

impl Targets {
    fn load() -> Targets {
        let docs = Path::new(ROOT).join("docs");
        let mut pages = BTreeMap::new();
        for entry in std::fs::read_dir(&docs).expect("docs/ exists") {
            let path = entry.expect("readable docs/ entry").path();
            if path.extension().is_some_and(|extension| extension == "md") {
                let text = std::fs::read_to_string(&path).expect("readable page");
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                pages.insert(name, anchors(&text));
            }
        }
        let decisions = std::fs::read_to_string(docs.join("decisions.md"))
            .map(|text| decision_headings(&text))
            .unwrap_or_default();
        Targets { pages, decisions }
    }
}

/// The anchor a heading gets: lower case, spaces to `-`, letters, digits,
/// `-` and `_` kept, everything else dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown text's headings (outside code fences); a
/// repeated heading gets `-1`, `-2`, ... as it would when rendered.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut found = BTreeSet::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            let base = slug(&line[hashes..]);
            let count = seen.entry(base.clone()).or_insert(0);
            found.insert(if *count == 0 {
                base
            } else {
                format!("{base}-{count}")
            });
            *count += 1;
        }
    }
    found
}

/// The numbers of the headings `## D<n> <title>`.
fn decision_headings(markdown: &str) -> BTreeSet<u32> {
    markdown
        .lines()
        .filter_map(|line| line.strip_prefix("## D"))
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let after = &rest[digits.len()..];
            (!digits.is_empty() && after.starts_with(' '))
                .then(|| digits.parse().ok())
                .flatten()
        })
        .collect()
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_name(c: char) -> bool {
    is_word(c) || c == '-'
}

/// Checks one file's text; `file` is its path from the repository root.
fn check_text(
    file: &str,
    text: &str,
    targets: &Targets,
    link_anchors: &mut HashMap<PathBuf, BTreeSet<String>>,
    tally: &mut Tally,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let shared_folder = concat!("..", "/shared");
    let shared_spec = concat!("shared", "/spec");
    let spec_folder = concat!("spec", "/");
    let is_markdown = file.ends_with(".md");
    for (index, line) in text.lines().enumerate() {
        let mut report = |what: String| {
            problems.push(Problem {
                file: file.to_string(),
                line: index + 1,
                what,
            })
        };

        // (a) docs/<name>.md, with an optional #anchor.
        for (at, _) in line.match_indices("docs/") {
            if line[..at].chars().next_back().is_some_and(is_name) {
                continue;
            }
            let rest = &line[at + "docs/".len()..];
            let name_length = rest.find(|c: char| !is_name(c)).unwrap_or(rest.len());
            let after_name = &rest[name_length..];
            if name_length == 0 || !after_name.starts_with(".md") {
                continue;
            }
            let after = &after_name[".md".len()..];
            if after.starts_with(is_word) {
                continue;
            }
            let name = format!("{}.md", &rest[..name_length]);
            tally.pages += 1;
            let Some(page_anchors) = targets.pages.get(&name) else {
                report(format!("docs/{name} does not exist"));
                continue;
            };
            if let Some(anchor) = after.strip_prefix('#') {
                let anchor: String = anchor.chars().take_while(|c| is_name(*c)).collect();
                if !page_anchors.contains(&anchor) {
                    report(format!("docs/{name} has no heading #{anchor}"));
                }
            }
        }

        // (b) decisions: `decision D<n>` must name a heading; a bare `D<n>`
        // is a citation in the wrong form (headings of docs/decisions.md
        // excepted).
        let heading_of_decisions = file == "docs/decisions.md" && line.starts_with('#');
        for (at, _) in line.match_indices('D') {
            if line[..at].chars().next_back().is_some_and(is_word) {
                continue;
            }
            let digits: String = line[at + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let after = &line[at + 1 + digits.len()..];
            if digits.is_empty() || after.starts_with(is_word) {
                continue;
            }
            if line[..at].to_ascii_lowercase().ends_with("decision ") {
                tally.decisions += 1;
                let number: u32 = digits.parse().unwrap_or(u32::MAX);
                if !targets.decisions.contains(&number) {
                    report(format!(
                        "decision D{digits} has no heading in docs/decisions.md"
                    ));
                }
            } else if !heading_of_decisions {
                report(format!(
                    "D{digits} cited without the word \"decision\" before it on the same line: write \"decision D{digits}\""
                ));
            }
        }

        // (c) nothing outside the repository.
        if line.contains(shared_folder) || line.contains(shared_spec) {
            report("names the shared folder of another checkout".to_string());
        }
        for (at, _) in line.match_indices(spec_folder) {
            let path: String = line[at..]
                .chars()
                .take_while(|c| is_name(*c) || *c == '/' || *c == '.')
                .collect();
            if path.contains(".md") {
                report(format!("names {path}, which is not in the repository"));
            }
        }

        // Relative links of Markdown files.
        if is_markdown {
            for (at, _) in line.match_indices("](") {
                let rest = &line[at + 2..];
                let Some(end) = rest.find(')') else { continue };
                let target = &rest[..end];
                if target.is_empty()
                    || target.contains(char::is_whitespace)
                    || target.contains("://")
                    || target.starts_with("mailto:")
                {
                    continue;
                }
                tally.links += 1;
                let (path, anchor) = match target.split_once('#') {
                    Some((path, anchor)) => (path, Some(anchor)),
                    None => (target, None),
                };
                let base = Path::new(ROOT).join(file);
                let joined = if path.is_empty() {
                    base.clone()
                } else {
                    base.parent().unwrap_or(Path::new(ROOT)).join(path)
                };
                let Ok(resolved) = joined.canonicalize() else {
                    report(format!("link to {target}: no such file"));
                    continue;
                };
                let root = Path::new(ROOT).canonicalize().expect("the root exists");
                if !resolved.starts_with(&root) {
                    report(format!("link to {target} leaves the repository"));
                    continue;
                }
                if let Some(anchor) = anchor {
                    if resolved
                        .extension()
                        .is_some_and(|extension| extension == "md")
                    {
                        let found = link_anchors.entry(resolved.clone()).or_insert_with(|| {
                            anchors(&std::fs::read_to_string(&resolved).unwrap_or_default())
                        });
                        if !found.contains(anchor) {
                            report(format!("link to {target}: no heading #{anchor}"));
                        }
                    }
                }
            }
        }
    }
    problems
}

/// The repository's files, relative to the root: tracked and untracked but
/// not ignored, from git; without git, every file outside `target/`,
/// `.git/` and `out/`.
fn repository_files() -> Vec<String> {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(ROOT)
        .output();
    if let Ok(output) = listed {
        if output.status.success() && !output.stdout.is_empty() {
            return output
                .stdout
                .split(|byte| *byte == 0)
                .filter(|name| !name.is_empty())
                .map(|name| String::from_utf8_lossy(name).to_string())
                .collect();
        }
    }
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::from(ROOT)];
    while let Some(directory) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | ".git" | "out") {
                    stack.push(path);
                }
            } else if let Ok(relative) = path.strip_prefix(ROOT) {
                files.push(relative.to_string_lossy().to_string());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_documentation_reference_resolves_inside_the_repository() {
    let targets = Targets::load();
    assert_eq!(
        targets.decisions,
        (1..=42).collect::<BTreeSet<u32>>(),
        "docs/decisions.md must have one heading per decision, from decision D1 to decision D42"
    );
    let mut link_anchors = HashMap::new();
    let mut tally = Tally::default();
    let mut problems = Vec::new();
    let mut text_files = 0;
    for file in repository_files() {
        let Ok(bytes) = std::fs::read(Path::new(ROOT).join(&file)) else {
            continue; // listed by git but deleted in the working tree
        };
        if bytes.contains(&0) {
            continue;
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        text_files += 1;
        problems.extend(check_text(
            &file,
            &text,
            &targets,
            &mut link_anchors,
            &mut tally,
        ));
    }
    // A walk that found nothing would prove nothing.
    assert!(text_files >= 100, "only {text_files} text files found");
    assert!(tally.pages >= 20, "only {} docs/ references", tally.pages);
    assert!(
        tally.decisions >= 50,
        "only {} decision citations",
        tally.decisions
    );
    assert!(tally.links >= 10, "only {} Markdown links", tally.links);
    let listing: Vec<String> = problems.iter().map(Problem::to_string).collect();
    assert!(
        problems.is_empty(),
        "{} broken references:\n{}",
        problems.len(),
        listing.join("\n")
    );
}

#[test]
fn the_checker_reports_each_kind_of_broken_reference() {
    let targets = Targets::load();
    // A page of docs/ that does not exist: links resolve next to it.
    let page = format!("{}/made-up.md", "docs");
    let check = |file: &str, text: &str| {
        let mut tally = Tally::default();
        let problems = check_text(file, text, &targets, &mut HashMap::new(), &mut tally);
        (problems, tally)
    };

    // References that resolve: no problem, and every one is counted.
    let good = [
        format!("See {}/events.md and {}/scorecard.md.", "docs", "docs"),
        format!(
            "The age rule is decision D{} ({}/decisions.md#d14-age-in-whole-years).",
            14, "docs"
        ),
        format!(
            "[the decisions]({}.md#d{}-rounding-for-rag)",
            "decisions", 23
        ),
    ]
    .join("\n");
    let (problems, tally) = check(&page, &good);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!((tally.pages, tally.decisions, tally.links), (3, 1, 1));

    // One broken reference per line, each reported on its own line.
    let broken = [
        format!("See {}/nowhere.md.", "docs"),
        format!("See {}/events.md#no-such-heading.", "docs"),
        format!("As decision D{} says.", 99),
        format!("As ruled in (D{}).", 14),
        format!("As decision\nD{} says.", 14),
        format!("The contract is in {}/{}/{}/.", "..", "shared", "spec"),
        format!("See {}/{}.md.", "spec", "events"),
        format!("[gone]({}.md)", "nowhere"),
        format!("[gone]({}.md#no-such-heading)", "events"),
        format!("[away]({}/{}/README.md)", "..", ".."),
    ]
    .join("\n");
    let (problems, _) = check(&page, &broken);
    let lines: BTreeSet<usize> = problems.iter().map(|problem| problem.line).collect();
    assert_eq!(
        lines,
        (1..=11)
            .filter(|line| *line != 5)
            .collect::<BTreeSet<usize>>(),
        "{problems:#?}"
    );

    // The same text outside Markdown: links are not checked there.
    let (problems, _) = check("src/made_up.rs", &broken);
    assert_eq!(problems.len(), 7, "{problems:#?}");
}
