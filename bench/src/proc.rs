//! Child processes: run to completion with wall time, CPU time and peak RSS
//! (from `wait4`), or kept running under a guard that stops them on drop.
//! Every child gets `PR_SET_PDEATHSIG = SIGKILL`, so it dies with the bench
//! even when the bench itself is killed.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What a finished child did.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Wall-clock seconds from spawn to exit.
    pub wall: f64,
    /// User CPU seconds.
    pub user: f64,
    /// System CPU seconds.
    pub system: f64,
    /// Peak resident set size in bytes.
    pub max_rss_bytes: u64,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Measured {
    /// CPU seconds (user + system).
    pub fn cpu(&self) -> f64 {
        self.user + self.system
    }
}

/// Makes the child die with this process (SIGKILL when the parent goes).
pub fn die_with_parent(command: &mut Command) -> &mut Command {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

fn timeval_seconds(value: libc::timeval) -> f64 {
    value.tv_sec as f64 + value.tv_usec as f64 / 1e6
}

fn reader_thread(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// Runs a command to completion (killed after `timeout`); fails on a
/// non-zero exit, with the tail of its standard error.
pub fn run_measured(command: &mut Command, timeout: Duration) -> Result<Measured> {
    let what = format!("{command:?}");
    let started = Instant::now();
    let mut child = die_with_parent(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let out = reader_thread(child.stdout.take());
    let err = reader_thread(child.stderr.take());
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: plain system call on our own child with valid out-pointers.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            break;
        }
        if reaped < 0 {
            bail!("waiting for {what}: {}", std::io::Error::last_os_error());
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            // SAFETY: as above.
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            bail!("{what} did not finish within {} s", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let wall = started.elapsed().as_secs_f64();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !exited_ok {
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "{what} failed (wait status {status}):\n{}\n{}",
            stdout.lines().rev().take(5).collect::<Vec<_>>().join("\n"),
            tail.join("\n")
        );
    }
    Ok(Measured {
        wall,
        user: timeval_seconds(usage.ru_utime),
        system: timeval_seconds(usage.ru_stime),
        max_rss_bytes: (usage.ru_maxrss as u64) * 1024,
        stdout,
        stderr,
    })
}

/// A long-running child, stopped with SIGTERM (then SIGKILL) when dropped.
pub struct Guard {
    child: Option<Child>,
    name: String,
}

impl Guard {
    /// Spawns a command with its output sent to `log`.
    pub fn spawn(command: &mut Command, name: &str, log: &std::path::Path) -> Result<Guard> {
        let file = std::fs::File::create(log).with_context(|| format!("{}", log.display()))?;
        let child = die_with_parent(command)
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::from(file))
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Guard {
            child: Some(child),
            name: name.to_string(),
        })
    }

    /// Whether the child is still running.
    pub fn running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Sends SIGTERM and waits up to `patience`, then SIGKILL. Returns
    /// whether the child exited successfully by itself.
    pub fn stop(&mut self, patience: Duration) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("bench: {} did not stop on SIGTERM; killing it", self.name);
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

impl Guard {
    /// Kills the child with SIGKILL (`kill -9`: no chance to clean up).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.stop(Duration::from_secs(10));
        }
    }
}

/// Total size in bytes of the files under a directory.
pub fn dir_size(path: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => total += dir_size(&entry.path()),
                Ok(meta) => total += meta.len(),
                Err(_) => {}
            }
        }
    }
    total
}
