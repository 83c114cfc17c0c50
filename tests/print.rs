//! The committee pack on paper (`docs/committee-pack.md`, "Printing"):
//! headless Chromium prints the exception report of a generated history to
//! PDF, and poppler's `pdftoppm` turns the PDF back into pixels.
//!
//! Chromium is found by `RAGLINE_CHROMIUM`, pdftoppm by `RAGLINE_PDFTOPPM`
//! (both set by `scripts/test.sh`), else on the `PATH`. Without them the
//! test returns at once, saying so; under CI (`CI=true`) it fails instead.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "common/run.rs"]
mod run;
use run::ragline;
#[path = "common/tools.rs"]
mod tools;

/// The RGB pixels of a PNG: (width, height, pixels).
fn pixels(path: &Path) -> (usize, usize, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    let pixels = buffer[..info.buffer_size()]
        .chunks(channels)
        .map(|pixel| [pixel[0], pixel[1], pixel[2]])
        .collect();
    (info.width as usize, info.height as usize, pixels)
}

#[test]
fn the_exception_report_prints_one_a4_landscape_page_per_exception_in_colour() {
    let Some(chromium) = tools::optional_tool("RAGLINE_CHROMIUM", "chromium") else {
        return;
    };
    let Some(pdftoppm) = tools::optional_tool("RAGLINE_PDFTOPPM", "pdftoppm") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let file = |name: &str| directory.path().join(name).display().to_string();
    let input = file("history.jsonl");
    ragline(&[
        "generate", "--seed", "11", "--months", "18", "--scale", "small", "--start", "2016-04",
        "--out", &input,
    ]);
    let state = file("state");
    ragline(&[
        "replay",
        "--input",
        &input,
        "--state",
        &state,
        "--dead-letters",
        &file("dead.jsonl"),
    ]);
    let report = |format: &str| {
        ragline(&[
            "report",
            "--state",
            &state,
            "--month",
            "2017-06",
            "--view",
            "exceptions",
            "--format",
            format,
        ])
    };
    // The number of exceptions, from the JSON view.
    let pages: Value = serde_json::from_str(&report("json")).unwrap();
    let exceptions = pages["pages"].as_array().unwrap().len();
    assert!(exceptions >= 3, "{exceptions} exceptions");
    assert_eq!(pages["pages"][0]["rag"], "red");
    let html = file("exceptions.html");
    let text = report("html");
    // A browser's print dialog drops background colours unless the page
    // asks to keep them; headless Chromium prints them either way, so the
    // pixels below show the colours reach the PDF, and this that a print
    // dialog keeps them too.
    assert!(text.contains("print-color-adjust:exact"));
    std::fs::write(&html, text).unwrap();

    let pdf = file("exceptions.pdf");
    let status = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", file("profile")))
        .arg(format!("--print-to-pdf={pdf}"))
        .arg(format!("file://{html}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "chromium --print-to-pdf");

    // Every page of the PDF to a small PNG: one per exception.
    let all = file("all");
    let status = Command::new(&pdftoppm)
        .args(["-r", "10", "-png", &pdf, &all])
        .status()
        .unwrap();
    assert!(status.success(), "pdftoppm");
    let printed = std::fs::read_dir(directory.path())
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("all-") && name.ends_with(".png")
        })
        .count();
    assert_eq!(printed, exceptions, "one printed page per exception");

    // The first page at 50 dpi: A4 landscape (297 x 210 mm is 585 x 413
    // pixels), with the red rating of its exception in the heading area
    // (the top quarter), printed in colour.
    let first = file("first");
    let status = Command::new(&pdftoppm)
        .args([
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            "-png",
            &pdf,
            &first,
        ])
        .status()
        .unwrap();
    assert!(status.success(), "pdftoppm page 1");
    let (width, height, pixels) = pixels(Path::new(&format!("{first}.png")));
    assert!(
        (584..=586).contains(&width) && (412..=414).contains(&height),
        "A4 landscape: {width} x {height}"
    );
    let close = |a: u8, b: u8| (i32::from(a) - i32::from(b)).abs() <= 24;
    let red = pixels[..width * height / 4]
        .iter()
        .filter(|[r, g, b]| close(*r, 0xc0) && close(*g, 0) && close(*b, 0))
        .count();
    assert!(
        red >= 50,
        "{red} red pixels in the heading area of the first page"
    );
}
