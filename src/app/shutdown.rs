//! Shutdown: one button, pressed by a signal (the binary) or by a test, watched by whatever
//! runs (the demo's loop, the Kafka processor). Taken from outside, as mini-redis'
//! `server::run` takes its shutdown future.

use tokio::sync::watch;

/// Watches the button of a [`shutdown_channel`]. Dropping the button counts as pressing it:
/// nobody is left who could stop the run cleanly later.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// Whether shutdown was asked for (never blocks).
    pub fn is_requested(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }

    /// Resolves once shutdown is asked for. Cancel-safe (usable in `select!`).
    pub async fn requested(&mut self) {
        loop {
            if *self.0.borrow_and_update() {
                return;
            }
            if self.0.changed().await.is_err() {
                return;
            }
        }
    }
}

/// A shutdown button (`send(true)` stops the run cleanly) and what watches it.
pub fn shutdown_channel() -> (watch::Sender<bool>, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (tx, Shutdown(rx))
}

/// Presses `button` on SIGINT or SIGTERM. A thread with its own small runtime, so it works
/// whichever runtime the command uses.
pub fn stop_on_signals(button: watch::Sender<bool>) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("signal runtime");
        rt.block_on(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        });
        tracing::info!("signal received: shutting down");
        let _ = button.send(true);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn pressing_or_dropping_the_button_requests_shutdown() {
        let (button, mut s) = shutdown_channel();
        assert!(!s.is_requested());
        button.send(true).unwrap();
        assert!(s.is_requested());
        s.requested().await;

        let (button, mut s) = shutdown_channel();
        drop(button);
        assert!(s.is_requested());
        s.requested().await;
    }
}
