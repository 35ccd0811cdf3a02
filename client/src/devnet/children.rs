//! The devnet's child processes: spawning with a log each, supervision,
//! ordered shutdown, and bounded waits with a progress line.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::{POLL, STOP_GRACE, TAIL_LINES};

/// A child's part in the devnet: the order it stops in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Validator,
    Node,
    Gateway,
}

/// One child process and its log.
#[derive(Debug)]
pub(super) struct Proc {
    pub(super) role: Role,
    pub(super) name: String,
    pub(super) child: Child,
    pub(super) log: PathBuf,
    /// How it exited, once seen.
    pub(super) exited: Option<String>,
}

impl Proc {
    /// Records the exit if it happened; true once it has.
    pub(super) fn poll_exited(&mut self) -> bool {
        if self.exited.is_some() {
            return true;
        }
        match self.child.try_wait() {
            Ok(Some(status)) => self.exited = Some(status.to_string()),
            Ok(None) => return false,
            Err(e) => self.exited = Some(format!("unknown: {e}")),
        }
        true
    }

    /// Asks it to stop (SIGTERM), as an operator's `kill` would.
    pub(super) fn terminate(&mut self) {
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        #[cfg(not(unix))]
        {
            let _ = self.child.kill();
        }
    }

    /// What to say when it exited on its own.
    pub(super) fn report(&self) -> String {
        format!(
            "{} exited ({}); the last {TAIL_LINES} lines of {}:\n{}",
            self.name,
            self.exited.as_deref().unwrap_or("?"),
            self.log.display(),
            tail(&self.log, TAIL_LINES)
        )
    }
}

/// The last `n` lines of a log, indented.
pub(super) fn tail(path: &Path, n: usize) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(n);
    lines
        .iter()
        .skip(skip)
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every child the devnet started; stops them when dropped.
#[derive(Debug, Default)]
pub(super) struct Children {
    pub(super) procs: Vec<Proc>,
}

impl Children {
    /// Starts `cmd` in its own process group, stdout and stderr appended
    /// to `log`.
    pub(super) fn spawn(
        &mut self,
        role: Role,
        name: String,
        cmd: &mut Command,
        log: PathBuf,
    ) -> Result<()> {
        let line = command_line(cmd);
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        writeln!(out, "--- cairn devnet starts: {line}")
            .with_context(|| format!("writing {}", log.display()))?;
        let err = out
            .try_clone()
            .with_context(|| format!("opening {}", log.display()))?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt as _;
            cmd.process_group(0);
        }
        let child = cmd.spawn().with_context(|| format!("starting {line}"))?;
        self.procs.push(Proc {
            role,
            name,
            child,
            log,
            exited: None,
        });
        Ok(())
    }

    /// Reports of the children that exited since the last call.
    pub(super) fn reap(&mut self) -> Vec<String> {
        let mut reports = Vec::new();
        for p in &mut self.procs {
            if p.exited.is_none() && p.poll_exited() {
                reports.push(p.report());
            }
        }
        reports
    }

    /// Stops the gateway, then the nodes, then the validators: SIGTERM,
    /// then SIGKILL for any still running after [`STOP_GRACE`].
    pub(super) fn stop(&mut self) {
        for (role, what) in [
            (Role::Gateway, "the gateway"),
            (Role::Node, "the storage nodes"),
            (Role::Validator, "the validators"),
        ] {
            for p in &mut self.procs {
                p.poll_exited();
            }
            let mut running: Vec<&mut Proc> = self
                .procs
                .iter_mut()
                .filter(|p| p.role == role && p.exited.is_none())
                .collect();
            if running.is_empty() {
                continue;
            }
            eprintln!("stopping {what}");
            for p in running.iter_mut() {
                p.terminate();
            }
            let deadline = Instant::now() + STOP_GRACE;
            while !running.is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                running.retain_mut(|p| !p.poll_exited());
            }
            for p in running {
                eprintln!(
                    "{} did not stop within {} s; killing it",
                    p.name,
                    STOP_GRACE.as_secs()
                );
                let _ = p.child.kill();
                p.exited = Some(match p.child.wait() {
                    Ok(status) => status.to_string(),
                    Err(e) => format!("unknown: {e}"),
                });
            }
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A command as a shell would show it (without its environment, which may
/// hold the S3 secret).
pub(super) fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|s| s.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A bounded wait with a progress line on stderr (rewritten in place on a
/// terminal); it fails early if a child exits.
#[derive(Debug)]
pub(super) struct Waiting {
    pub(super) what: String,
    /// The logs to read when it fails.
    pub(super) logs: String,
    pub(super) started: Instant,
    pub(super) timeout: Duration,
    pub(super) tty: bool,
}

impl Waiting {
    pub(super) fn start(
        what: impl Into<String>,
        timeout: Duration,
        logs: impl Into<String>,
    ) -> Self {
        let w = Self {
            what: what.into(),
            logs: logs.into(),
            started: Instant::now(),
            timeout,
            tty: std::io::stderr().is_terminal(),
        };
        if !w.tty {
            eprintln!("{} ...", w.what);
        }
        w
    }

    /// One more round: fails if a child exited or the time is up, else
    /// shows `status` and sleeps [`POLL`].
    pub(super) async fn tick(&self, children: &mut Children, status: &str) -> Result<()> {
        let exited = children.reap();
        if !exited.is_empty() {
            self.end_line();
            bail!("{}: {}", self.what, exited.join("\n"));
        }
        let elapsed = self.started.elapsed();
        if elapsed >= self.timeout {
            self.end_line();
            bail!(
                "{}: not done after {} s ({status}); see {}",
                self.what,
                self.timeout.as_secs(),
                self.logs
            );
        }
        if self.tty {
            eprint!("\r{}: {status} ({} s)\x1b[K", self.what, elapsed.as_secs());
            let _ = std::io::stderr().flush();
        }
        tokio::time::sleep(POLL).await;
        Ok(())
    }

    pub(super) fn done(&self, status: &str) {
        let secs = self.started.elapsed().as_secs_f64();
        if self.tty {
            eprintln!("\r{}: {status} ({secs:.1} s)\x1b[K", self.what);
        } else {
            eprintln!("{}: {status} ({secs:.1} s)", self.what);
        }
    }

    pub(super) fn end_line(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

/// Resolves on Ctrl-C, SIGTERM or SIGHUP (a closed terminal), so the
/// children, in their own process groups, are always stopped.
pub(super) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
            _ = hup.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
