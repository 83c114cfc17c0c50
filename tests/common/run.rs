//! Runs the `ragline` binary of this build (for the command-line tests).

use std::process::Command;

/// Runs `ragline args` in the crate directory; panics with its output when
/// it fails, returns its standard output.
pub fn ragline(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_ragline"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("ragline runs");
    assert!(
        output.status.success(),
        "ragline {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}
