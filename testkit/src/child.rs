//! A child process that ends with its owner: a failing test (a panic unwinds through the
//! guard) leaves no `pitboss run`, broker or browser driver behind.

use std::io;
use std::ops::{Deref, DerefMut};
use std::process::{Child, ExitStatus};
use std::time::Duration;

/// Kills (SIGKILL) the child on drop if it is still running. Derefs to the [`Child`], so a
/// test can still `kill`, `wait` or read its pipes.
pub struct ChildGuard(pub Child);

impl ChildGuard {
    /// Asks the child to stop (SIGTERM), as an operator's `kill` or Kubernetes would.
    pub fn sigterm(&self) -> io::Result<()> {
        let pid = libc::pid_t::try_from(self.0.id())
            .map_err(|_| io::Error::other("the child's pid does not fit pid_t"))?;
        // SAFETY: kill(2) has no memory effects; the pid is our own child's, not reaped yet
        // (`self.0` still owns it), so it cannot name another process.
        if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Waits up to `timeout` for the child to exit; `None` if it is still running then.
    pub fn wait_timeout(&mut self, timeout: Duration) -> io::Result<Option<ExitStatus>> {
        crate::wait::poll_until(timeout, Duration::from_millis(20), || {
            self.0.try_wait().transpose()
        })
        .transpose()
    }
}

impl Deref for ChildGuard {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for ChildGuard {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
