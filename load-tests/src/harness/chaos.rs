//! Faults during a run (`[chaos]` in a scenario, issue 15): several `pitboss run` instances
//! in one consumer group share one CQL store the harness serves (kassandra over TCP,
//! `testkit::cql`), and while the scenario is offered the harness
//!
//! - SIGKILLs an instance at a drawn moment and starts it again after a drawn pause; some
//!   kills are aimed at an instance that was just started again, so that they fall in its
//!   start-up or its recovery (restoring state, replaying its partitions), not only between
//!   commits;
//! - makes an instance leave cleanly (SIGTERM, it must exit 0) and come back: two
//!   rebalances of the group;
//! - takes the store away (port closed, every connection cut) for `store-outage-secs`,
//!   then serves the same data again;
//! - stops the broker and starts it again on the same data (`broker-restarts`; only a broker
//!   the harness started with `--spawn-broker`, Tansu on moto's S3, whose topics and
//!   committed offsets survive the restart).
//!
//! Moments and victims come from the chaos seed (printed in the report and the JSON line),
//! so a failing run's plan can be replayed; the moments are relative to the start of the
//! offered load, so a replay runs the same plan, though not the same interleaving with
//! pitboss's own timers.
//!
//! The harness also acts as the instances' supervisor: an instance that exits without
//! being told to is started again (as Kubernetes would) and counted in
//! `unplanned_exits`, with its log named in the report; the accounting check counts those as
//! a failure.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use pitboss::config::Config;
use pitboss::store::{ScyllaConfig, StoreKind};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use testkit::cql::CqlServer;
use testkit::DurableBroker;

use super::child::PitbossChild;
use crate::scenario::ChaosSpec;

/// One planned fault, at `at` after the start of the offered load.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub at: Duration,
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// SIGKILL instance `instance`, start it again `back_after` later. `in_start_up`: aimed
    /// at the instance's previous restart.
    Kill {
        instance: usize,
        back_after: Duration,
        in_start_up: bool,
    },
    /// SIGTERM instance `instance` (it leaves the group cleanly), start it again
    /// `back_after` later.
    Leave {
        instance: usize,
        back_after: Duration,
    },
    /// The store is unavailable for `length`.
    StoreOutage { length: Duration },
    /// The broker stops, and starts again on the same data `down_for` later.
    BrokerRestart { down_for: Duration },
}

/// The faults of a run of `duration` offered load, in time order. Every fault starts
/// between 5 % and 85 % of the run, so that the instances are all back before the end.
pub fn plan(spec: &ChaosSpec, seed: u64, duration: Duration) -> Vec<Fault> {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0xc4a0_5c4a_05c4_a05c);
    let d = duration.as_secs_f64();
    let (lo, hi) = (0.05 * d, (0.85 * d).max(0.05 * d + 0.001));
    let n = spec.instances.max(1);
    let mut faults = Vec::new();
    // (instance, when it starts again) of the previous kill.
    let mut last_restart: Option<(usize, f64)> = None;
    for _ in 0..spec.kills {
        let back = rng.gen_range(0.5..3.0);
        let (instance, at, in_start_up) = match last_restart {
            // Aimed at an instance that was just started again: within 1.5 s of its start,
            // while it connects, restores its state or replays its partitions.
            Some((i, restart)) if rng.gen_bool(0.5) && restart + 1.5 < hi => {
                (i, restart + rng.gen_range(0.1..1.5), true)
            }
            _ => (rng.gen_range(0..n), rng.gen_range(lo..hi), false),
        };
        last_restart = Some((instance, at + back));
        faults.push(Fault {
            at: Duration::from_secs_f64(at),
            action: Action::Kill {
                instance,
                back_after: Duration::from_secs_f64(back),
                in_start_up,
            },
        });
    }
    for _ in 0..spec.rebalances {
        faults.push(Fault {
            at: Duration::from_secs_f64(rng.gen_range(lo..hi)),
            action: Action::Leave {
                instance: rng.gen_range(0..n),
                back_after: Duration::from_secs_f64(rng.gen_range(1.0..3.0)),
            },
        });
    }
    if spec.store_outage_secs > 0.0 {
        faults.push(Fault {
            at: Duration::from_secs_f64(rng.gen_range(0.15 * d..(0.5 * d).max(0.15 * d + 0.001))),
            action: Action::StoreOutage {
                length: Duration::from_secs_f64(spec.store_outage_secs),
            },
        });
    }
    for _ in 0..spec.broker_restarts {
        faults.push(Fault {
            at: Duration::from_secs_f64(rng.gen_range(lo..hi)),
            action: Action::BrokerRestart {
                down_for: Duration::from_secs_f64(rng.gen_range(1.0..4.0)),
            },
        });
    }
    faults.sort_by_key(|f| f.at);
    faults
}

/// What the faults came to, for the report and the JSON line.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ChaosReport {
    /// The chaos seed.
    pub seed: u64,
    pub instances: usize,
    /// SIGKILLs sent to a running instance.
    pub kills: u32,
    /// Of those, kills within 1.5 s of the instance's start (start-up or recovery).
    pub kills_in_start_up: u32,
    /// Clean leaves and returns (each a rebalance out and one back in).
    pub rebalances: u32,
    /// Seconds the store was unavailable.
    pub store_outage_secs: f64,
    /// Broker restarts (stopped, started again on the same data).
    pub broker_restarts: u32,
    /// Instances that exited without being told to (each started again), apart from the
    /// refusals below.
    pub unplanned_exits: u32,
    /// Starts refused because the store could not be reached (`pitboss run` exits with
    /// "opening the Scylla store" while the store is down; its supervisor starts it again).
    pub start_refusals: u32,
    /// Instances that stopped because the store fenced their checkpoint off: they had lost
    /// their partitions while stalled (past the group's `max.poll.interval.ms`),
    /// and stopping is what keeps their late writes off the new owner's state (README,
    /// "Running several instances"); their supervisor starts them again.
    pub fenced_exits: u32,
    /// What happened, in order: "12.345 s kill chaos-1", ...
    pub log: Vec<String>,
    /// The logs of the unplanned exits.
    pub unplanned_logs: Vec<String>,
}

/// The shared CQL store of a chaos run: a kassandra server on a loopback port, and the
/// runtime that serves it.
pub struct SharedStore {
    rt: tokio::runtime::Runtime,
    server: Mutex<CqlServer>,
}

impl SharedStore {
    pub fn start() -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("chaos-cql")
            .enable_all()
            .build()
            .context("a runtime for the CQL server")?;
        let server = rt.block_on(CqlServer::start());
        Ok(Self {
            rt,
            server: Mutex::new(server),
        })
    }

    /// `cfg`'s store: this server, keyspace `pitboss`, as the tests configure kassandra.
    pub fn configure(&self, cfg: &mut Config) {
        let addr = self.server.lock().unwrap_or_else(|p| p.into_inner()).addr;
        cfg.store.kind = StoreKind::Scylla;
        cfg.store.scylla = ScyllaConfig {
            nodes: vec![addr.to_string()],
            keyspace: "pitboss".into(),
            replication: "{'class': 'SimpleStrategy', 'replication_factor': 1}".into(),
            consistency: "one".into(),
            // kassandra answers the driver's metadata queries wrongly.
            refresh_metadata_on_schema_agreement: false,
            request_timeout_ms: 2000,
            instance: "pitboss-load".into(),
            ..ScyllaConfig::default()
        };
    }

    /// Runs `f` on the server's runtime (for the store's own client calls: migrate, the
    /// stored state, the audit).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    fn stop(&self) {
        self.server.lock().unwrap_or_else(|p| p.into_inner()).stop();
    }

    fn restart(&self) {
        let mut s = self.server.lock().unwrap_or_else(|p| p.into_inner());
        self.rt.block_on(s.restart());
    }
}

/// One instance: its configuration file and, while it runs, its process.
struct Instance {
    name: String,
    cfg: PathBuf,
    child: Option<PitbossChild>,
    /// When its current process started.
    started: Instant,
    incarnation: u32,
    /// When to start it again (after a kill or a leave).
    back_at: Option<Instant>,
    /// Told to leave (SIGTERM sent): by when it must have exited 0, and how long after that
    /// it comes back.
    leaving: Option<(Instant, Duration)>,
}

impl Instance {
    /// Its process is gone (killed, left, or exited): started again `back_after` from now.
    fn gone(&mut self, back_after: Duration) {
        self.child = None;
        self.leaving = None;
        self.back_at = Some(Instant::now() + back_after);
    }

    /// It runs and was not told to leave: a victim for the next fault.
    fn up(&self) -> bool {
        self.child.is_some() && self.leaving.is_none()
    }
}

/// How long an instance told to leave may take to exit (it may have to wait for the store).
const LEAVE_TIMEOUT: Duration = Duration::from_secs(120);

/// How long an instance must have run to be told to leave.
const LEAVE_MIN_UP: Duration = Duration::from_secs(5);

/// The instances and the fault thread.
pub struct Chaos {
    handle: Option<JoinHandle<anyhow::Result<Ended>>>,
    stop: Arc<AtomicBool>,
    /// Tells the fault thread when the offered load started (dropped unsent: no faults).
    t0: Option<mpsc::Sender<Instant>>,
}

/// What the fault thread hands back: the instances, and what it did.
type Ended = (Vec<Instance>, ChaosReport);

impl Chaos {
    /// Starts every instance (configuration files `cfgs`, logs in `out`) and returns once
    /// they run; the faults start with [`Chaos::begin`].
    pub fn start(
        bin: &Path,
        cfgs: Vec<PathBuf>,
        out: &Path,
        store: Arc<SharedStore>,
        broker: Option<Arc<Mutex<DurableBroker>>>,
        faults: Vec<Fault>,
        seed: u64,
    ) -> anyhow::Result<Self> {
        let mut instances = Vec::new();
        for (i, cfg) in cfgs.into_iter().enumerate() {
            let name = format!("chaos-{i}");
            let child = PitbossChild::spawn_as(bin, &cfg, out, &format!("{name}.0"))?;
            instances.push(Instance {
                name,
                cfg,
                child: Some(child),
                started: Instant::now(),
                incarnation: 0,
                back_at: None,
                leaving: None,
            });
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (t0, t0_rx) = mpsc::channel();
        let (bin, out, stop2) = (bin.to_path_buf(), out.to_path_buf(), stop.clone());
        let report = ChaosReport {
            seed,
            instances: instances.len(),
            ..ChaosReport::default()
        };
        let handle = std::thread::Builder::new()
            .name("chaos".into())
            .spawn(move || {
                let mut r = Runner {
                    bin,
                    out,
                    instances,
                    store,
                    broker,
                    report,
                    store_back: None,
                    store_up_at: None,
                    broker_back: None,
                    broker_stopping: None,
                };
                // The faults' moments count from the start of the offered load; no start,
                // no faults.
                let res = match t0_rx.recv() {
                    Ok(t0) => r.run(t0, faults, &stop2),
                    Err(_) => Ok(()),
                };
                // Whatever happened, hand the instances back (a failed run still stops them).
                res.map(|()| (r.instances, r.report))
            })
            .context("starting the chaos thread")?;
        Ok(Self {
            handle: Some(handle),
            stop,
            t0: Some(t0),
        })
    }

    /// The offered load starts now: the faults' moments count from here.
    pub fn begin(&self) {
        if let Some(t0) = &self.t0 {
            let _ = t0.send(Instant::now());
        }
    }

    /// Waits until every fault has happened and every instance runs again.
    pub fn settle(mut self) -> anyhow::Result<Settled> {
        self.stop.store(true, Ordering::SeqCst);
        self.t0 = None;
        let h = self.handle.take().ok_or_else(|| anyhow!("settled twice"))?;
        let (instances, report) = h
            .join()
            .map_err(|_| anyhow!("the chaos thread panicked"))??;
        Ok(Settled { instances, report })
    }
}

/// Every instance running again after the faults.
pub struct Settled {
    instances: Vec<Instance>,
    pub report: ChaosReport,
}

impl Settled {
    /// Stops every instance with SIGTERM; each must exit 0.
    pub fn stop_all(&mut self, timeout: Duration) -> anyhow::Result<()> {
        for inst in &mut self.instances {
            if let Some(c) = inst.child.as_mut() {
                c.terminate(timeout)
                    .with_context(|| format!("stopping {}", inst.name))?;
            }
            inst.child = None;
        }
        Ok(())
    }

    /// An error naming the instance if one has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        for inst in &mut self.instances {
            if let Some(c) = inst.child.as_mut() {
                c.check_running()
                    .with_context(|| format!("{} after the faults", inst.name))?;
            }
        }
        Ok(())
    }
}

struct Runner {
    bin: PathBuf,
    out: PathBuf,
    instances: Vec<Instance>,
    store: Arc<SharedStore>,
    /// The broker the harness started (`--spawn-broker`), the one a restart stops.
    broker: Option<Arc<Mutex<DurableBroker>>>,
    report: ChaosReport,
    /// While the store is down: when it comes back.
    store_back: Option<Instant>,
    /// When the store last came back.
    store_up_at: Option<Instant>,
    /// While the broker is down: when it starts again.
    broker_back: Option<Instant>,
    /// While the broker is stopping: when it was sent SIGTERM, and its pause once gone.
    broker_stopping: Option<(Instant, Duration)>,
}

impl Runner {
    fn note(&mut self, t0: Instant, what: String) {
        let line = format!("{:8.3} s {what}", t0.elapsed().as_secs_f64());
        eprintln!("pitboss-load chaos: {line}");
        self.report.log.push(line);
    }

    fn run(&mut self, t0: Instant, faults: Vec<Fault>, stop: &AtomicBool) -> anyhow::Result<()> {
        let mut pending: VecDeque<Fault> = faults.into();
        loop {
            let now = Instant::now();
            let recently_down = self.store_back.is_some()
                || self
                    .store_up_at
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(5));
            self.supervise(t0, recently_down)?;
            if self.store_back.is_some_and(|b| now >= b) {
                self.store.restart();
                self.store_back = None;
                self.store_up_at = Some(Instant::now());
                self.note(t0, "store back".into());
            }
            if let Some((sent, down_for)) = self.broker_stopping {
                // SIGKILL once it has had 10 s to exit.
                let late = sent.elapsed() > Duration::from_secs(10);
                if self
                    .broker()?
                    .stopped(late)
                    .map_err(|e| anyhow!("stopping the broker: {e}"))?
                {
                    self.broker_stopping = None;
                    self.broker_back = Some(Instant::now() + down_for);
                    self.note(
                        t0,
                        format!(
                            "broker stopped ({:.2} s after SIGTERM{}), back in {:.2} s",
                            sent.elapsed().as_secs_f64(),
                            if late { ", SIGKILLed" } else { "" },
                            down_for.as_secs_f64()
                        ),
                    );
                }
            }
            if self.broker_back.is_some_and(|b| now >= b) {
                self.broker()?
                    .start_again()
                    .map_err(|e| anyhow!("starting the broker again: {e}"))?;
                self.broker_back = None;
                self.note(t0, "broker back".into());
            }
            self.start_due(t0, now)?;
            if let Some(f) = pending.front().filter(|f| t0 + f.at <= now) {
                if self.apply(t0, &f.action)? {
                    pending.pop_front();
                    continue;
                }
                // Nothing runs to take the fault: try again shortly.
            } else if stop.load(Ordering::SeqCst)
                && pending.is_empty()
                && self.store_back.is_none()
                && self.broker_back.is_none()
                && self.broker_stopping.is_none()
                && self.instances.iter().all(Instance::up)
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Applies a fault; `false` if no instance runs to take it (a kill or a leave goes to
    /// the planned victim, or to the next instance that runs if it is down).
    fn apply(&mut self, t0: Instant, action: &Action) -> anyhow::Result<bool> {
        match action {
            Action::Kill {
                instance,
                back_after,
                in_start_up,
            } => {
                let Some(i) = self.running_from(*instance, Duration::ZERO) else {
                    return Ok(false);
                };
                let inst = &mut self.instances[i];
                let since_start = inst.started.elapsed();
                if let Some(c) = inst.child.as_mut() {
                    c.kill()?;
                }
                inst.gone(*back_after);
                let name = inst.name.clone();
                self.report.kills += 1;
                if since_start < Duration::from_millis(1500) {
                    self.report.kills_in_start_up += 1;
                }
                let aimed = if *in_start_up {
                    ", aimed at its start-up"
                } else {
                    ""
                };
                self.note(
                    t0,
                    format!(
                        "SIGKILL {name} ({:.2} s after its start{aimed}), back in {:.2} s",
                        since_start.as_secs_f64(),
                        back_after.as_secs_f64()
                    ),
                );
            }
            Action::Leave {
                instance,
                back_after,
            } => {
                // A member of the group: a SIGTERM in the first moments of a start would
                // end a process that has not set up its shutdown yet (a kill, not a leave).
                let Some(i) = self.running_from(*instance, LEAVE_MIN_UP) else {
                    return Ok(false);
                };
                // Not waited for here: the faults go on while it leaves (it may wait for
                // the store); `supervise` sees it exit.
                let inst = &mut self.instances[i];
                if let Some(c) = inst.child.as_ref() {
                    c.sigterm()?;
                }
                inst.leaving = Some((Instant::now() + LEAVE_TIMEOUT, *back_after));
                let name = inst.name.clone();
                self.report.rebalances += 1;
                self.note(t0, format!("SIGTERM {name} (leaving the group)"));
            }
            Action::StoreOutage { length } => {
                if self.store_back.is_some() {
                    bail!("two store outages at once in the plan");
                }
                self.store.stop();
                self.store_back = Some(Instant::now() + *length);
                self.report.store_outage_secs += length.as_secs_f64();
                self.note(t0, format!("store down for {:.1} s", length.as_secs_f64()));
            }
            Action::BrokerRestart { down_for } => {
                if self.broker_back.is_some() || self.broker_stopping.is_some() {
                    // One restart at a time: this one follows the current one's end.
                    return Ok(false);
                }
                // Tansu may take seconds to exit: the other faults go on meanwhile, and
                // the pause counts from its exit.
                self.broker()?
                    .begin_stop()
                    .map_err(|e| anyhow!("stopping the broker: {e}"))?;
                self.broker_stopping = Some((Instant::now(), *down_for));
                self.report.broker_restarts += 1;
                self.note(t0, "SIGTERM the broker".into());
            }
        }
        Ok(true)
    }

    fn broker(&self) -> anyhow::Result<std::sync::MutexGuard<'_, DurableBroker>> {
        let b = self.broker.as_ref().ok_or_else(|| {
            anyhow!("the plan restarts the broker, and the harness did not start it")
        })?;
        Ok(b.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The first running instance from `i` on (wrapping) that has run for `min_up`, if any.
    fn running_from(&self, i: usize, min_up: Duration) -> Option<usize> {
        let n = self.instances.len();
        (0..n)
            .map(|k| (i + k) % n)
            .find(|k| self.instances[*k].up() && self.instances[*k].started.elapsed() >= min_up)
    }

    /// Starts every instance whose pause is over.
    fn start_due(&mut self, t0: Instant, now: Instant) -> anyhow::Result<()> {
        for k in 0..self.instances.len() {
            let inst = &mut self.instances[k];
            if inst.child.is_none() && inst.back_at.is_some_and(|b| now >= b) {
                inst.incarnation += 1;
                let log = format!("{}.{}", inst.name, inst.incarnation);
                inst.child = Some(PitbossChild::spawn_as(
                    &self.bin, &inst.cfg, &self.out, &log,
                )?);
                inst.started = Instant::now();
                inst.back_at = None;
                let name = inst.name.clone();
                self.note(t0, format!("started {name} again (log {log})"));
            }
        }
        Ok(())
    }

    /// An instance that exited on its own is counted and started again after a second.
    /// `store_down`: the store is down, or was within the last few seconds (a start that
    /// began then may still be failing its connection).
    fn supervise(&mut self, t0: Instant, store_down: bool) -> anyhow::Result<()> {
        for k in 0..self.instances.len() {
            let inst = &mut self.instances[k];
            let Some(c) = inst.child.as_mut() else {
                continue;
            };
            if let Some((deadline, back_after)) = inst.leaving {
                match c.exited()? {
                    Some(status) if status.success() => {
                        inst.gone(back_after);
                        let name = inst.name.clone();
                        self.note(
                            t0,
                            format!(
                                "{name} left cleanly (exit 0), back in {:.2} s",
                                back_after.as_secs_f64()
                            ),
                        );
                    }
                    Some(status) => bail!(
                        "{} did not leave cleanly after SIGTERM ({status}); the end of {}:\n{}",
                        inst.name,
                        c.stderr_log().display(),
                        c.tail()
                    ),
                    None if Instant::now() > deadline => bail!(
                        "{} did not exit within {LEAVE_TIMEOUT:?} of SIGTERM; the end of {}:\n{}",
                        inst.name,
                        c.stderr_log().display(),
                        c.tail()
                    ),
                    None => {}
                }
                continue;
            }
            if let Some(status) = c.exited()? {
                let log = c.stderr_log().display().to_string();
                let stderr = std::fs::read_to_string(c.stderr_log()).unwrap_or_default();
                let refused = store_down && stderr.contains("Error: opening the Scylla store");
                let fenced = stderr.contains("is fenced off");
                inst.gone(Duration::from_secs(1));
                let name = inst.name.clone();
                if fenced {
                    self.report.fenced_exits += 1;
                    self.note(
                        t0,
                        format!(
                            "{name} stopped: its checkpoint was fenced off ({status}); see {log}"
                        ),
                    );
                } else if refused {
                    self.report.start_refusals += 1;
                    self.note(
                        t0,
                        format!("{name} refused to start: the store is down ({status})"),
                    );
                } else {
                    self.report.unplanned_exits += 1;
                    self.report.unplanned_logs.push(log.clone());
                    self.note(
                        t0,
                        format!("{name} exited on its own ({status}); see {log}"),
                    );
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ChaosSpec {
        ChaosSpec {
            instances: 3,
            kills: 6,
            rebalances: 1,
            store_outage_secs: 10.0,
            broker_restarts: 1,
            seed: 0,
        }
    }

    /// The plan is the seed's: the same seed, the same faults; every fault within the
    /// run's 5 % to 85 %; as many kills and leaves as asked, one outage; some kills aimed
    /// at a start-up.
    #[test]
    fn a_plan_is_drawn_from_its_seed() {
        let d = Duration::from_secs(60);
        let a = plan(&spec(), 7, d);
        assert_eq!(a, plan(&spec(), 7, d));
        assert_ne!(a, plan(&spec(), 8, d));
        let count = |kind: fn(&Action) -> bool| a.iter().filter(|f| kind(&f.action)).count();
        let kills = count(|x| matches!(x, Action::Kill { .. }));
        let leaves = count(|x| matches!(x, Action::Leave { .. }));
        let outages = count(|x| matches!(x, Action::StoreOutage { .. }));
        let restarts = count(|x| matches!(x, Action::BrokerRestart { .. }));
        assert_eq!((kills, leaves, outages, restarts), (6, 1, 1, 1));
        assert!(a.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(a
            .iter()
            .all(|f| f.at >= Duration::from_secs(3) && f.at <= Duration::from_secs(51)));
        let aimed = (0..50u64)
            .flat_map(|s| plan(&spec(), s, d))
            .filter(|f| {
                matches!(
                    f.action,
                    Action::Kill {
                        in_start_up: true,
                        ..
                    }
                )
            })
            .count();
        assert!(aimed > 0, "some kills fall in a start-up");
    }
}
