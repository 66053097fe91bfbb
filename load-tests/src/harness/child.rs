//! The `pitboss run` the harness starts with `--spawn`: its output goes to log files in the
//! report directory, an early exit is an error naming the end of its log, and it is stopped
//! with SIGTERM, as an operator stops it, and must exit 0.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use testkit::ChildGuard;

/// A `pitboss run` child process; killed on drop if still running.
pub struct PitbossChild {
    child: ChildGuard,
    stderr_log: PathBuf,
}

impl PitbossChild {
    /// `bin --config cfg run`, logging to `out/pitboss.{stdout,stderr}.log`.
    pub fn spawn(bin: &Path, cfg: &Path, out: &Path) -> anyhow::Result<Self> {
        Self::spawn_as(bin, cfg, out, "pitboss")
    }

    /// The same, logging to `out/<name>.{stdout,stderr}.log` (a chaos run's instances and
    /// their incarnations each have their own logs).
    pub fn spawn_as(bin: &Path, cfg: &Path, out: &Path, name: &str) -> anyhow::Result<Self> {
        let stderr_log = out.join(format!("{name}.stderr.log"));
        let stdout_log = out.join(format!("{name}.stdout.log"));
        let child = Command::new(bin)
            .arg("--config")
            .arg(cfg)
            .arg("run")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_log)?)
            .stderr(std::fs::File::create(&stderr_log)?)
            .spawn()
            .with_context(|| format!("starting {} run", bin.display()))?;
        Ok(Self {
            child: ChildGuard(child),
            stderr_log,
        })
    }

    /// The process id of the running `pitboss run` (for reading its memory in `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status if it has exited (reaped), else `None`.
    pub fn exited(&mut self) -> anyhow::Result<Option<std::process::ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// SIGTERM without waiting (see [`PitbossChild::exited`]).
    pub fn sigterm(&self) -> anyhow::Result<()> {
        self.child.sigterm().context("sending SIGTERM to pitboss")
    }

    /// SIGKILL, as a crash or the kernel's OOM killer ends it, and reaps it.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_none() {
            self.child.kill().context("sending SIGKILL to pitboss")?;
            self.child.wait().context("reaping a killed pitboss")?;
        }
        Ok(())
    }

    /// The log it writes its diagnostics to.
    pub fn stderr_log(&self) -> &Path {
        &self.stderr_log
    }

    pub(crate) fn tail(&self) -> String {
        let s = std::fs::read_to_string(&self.stderr_log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// An error if pitboss has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "pitboss exited early ({status}); the end of {}:\n{}",
                self.stderr_log.display(),
                self.tail()
            );
        }
        Ok(())
    }

    /// SIGTERM, then waits for the exit; it must be 0.
    pub fn terminate(&mut self, timeout: Duration) -> anyhow::Result<i32> {
        self.child.sigterm().context("sending SIGTERM to pitboss")?;
        let Some(status) = self.child.wait_timeout(timeout)? else {
            bail!("pitboss did not exit within {timeout:?} of SIGTERM");
        };
        if !status.success() {
            bail!(
                "pitboss did not stop cleanly after SIGTERM ({status}); the end of {}:\n{}",
                self.stderr_log.display(),
                self.tail()
            );
        }
        Ok(status.code().unwrap_or(-1))
    }
}
