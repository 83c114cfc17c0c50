//! System tools the tests use as independent routes: `sha256sum` for
//! hashes, `openssl` for test certificates, Chromium and poppler's
//! `pdftoppm` for printed pages.

#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// SHA-256 of some bytes by the system's `sha256sum`, independent of
/// ragline's.
pub fn sha256sum(bytes: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum (coreutils)");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// A test tool: the path in the environment variable `variable`, else
/// `name` on the `PATH`. Missing, `None` (the test returns early, saying
/// so), except under CI (`CI=true`), where a missing tool fails the test:
/// `scripts/test.sh` installs them.
pub fn optional_tool(variable: &str, name: &str) -> Option<PathBuf> {
    let found = std::env::var(variable)
        .ok()
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|directory| directory.join(name))
                    .find(|path| path.is_file())
            })
        });
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!("CI=true but {name} is missing (set {variable}, or install it: scripts/test.sh does)");
        }
        eprintln!("{name} not found ({variable} unset and not on the PATH): test not run");
    }
    found
}

/// Runs openssl in `directory`.
fn openssl(directory: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(directory)
        .output()
        .expect("openssl (Debian package openssl, installed by scripts/setup.sh)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A test CA `{name}-ca.pem` and, signed by it, a certificate for
/// 127.0.0.1: returns (certificate, key), `{name}-server.pem` and
/// `{name}-server.key`.
pub fn certificates(directory: &Path, name: &str) -> (PathBuf, PathBuf) {
    let file = |suffix: &str| format!("{name}-{suffix}");
    std::fs::write(
        directory.join(file("san.cnf")),
        "subjectAltName=IP:127.0.0.1\n",
    )
    .unwrap();
    let subject = format!("/CN=ragline test CA {name}");
    openssl(
        directory,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &subject,
            "-keyout",
            &file("ca.key"),
            "-out",
            &file("ca.pem"),
        ],
    );
    openssl(
        directory,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &file("server.key"),
            "-out",
            &file("server.csr"),
        ],
    );
    openssl(
        directory,
        &[
            "x509",
            "-req",
            "-in",
            &file("server.csr"),
            "-CA",
            &file("ca.pem"),
            "-CAkey",
            &file("ca.key"),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &file("san.cnf"),
            "-out",
            &file("server.pem"),
        ],
    );
    (
        directory.join(file("server.pem")),
        directory.join(file("server.key")),
    )
}
