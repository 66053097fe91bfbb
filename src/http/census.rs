//! The census: every few seconds, the state of every live machine and hall, summed up per
//! hall (GGR, machines by status) for the operator view, `/api/halls`, `/api/machines` and
//! the `pitboss_machines` / `pitboss_hall_*` gauges.
//!
//! A machine that goes quiet is passivated after a while; its status cannot have changed
//! since (it received no event), so the census keeps the last status it saw for every
//! machine (bounded by `census-machines-max`). That is how a machine that went offline and
//! stopped talking stays counted as offline. Reads go through `Runtime::inspect`, which
//! never starts an actor.
//!
//! After a restart no actor is live, so the census starts from the stored states instead
//! ([`Census::seed`], once, before its first round): every stored machine with its last
//! status and every stored hall, within the same bounds. Without it, a hall or machine
//! that received nothing since the restart (typically the offline, tilted and door-open
//! ones) would be missing from the APIs and its gauges would be absent.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use pitboss_actors::domain::machine::{MachineState, MachineStatus};
use pitboss_actors::domain::{HallId, MachineId};
use pitboss_actors::shell::{HallEntity, MachineEntity, Runtime, Snapshot};
use serde::Serialize;

use super::config::HttpConfig;
use super::money::format_minor;
use crate::clock::now_ms;
use crate::telemetry;

/// Machine statuses, each machine counted in exactly one.
pub const STATUSES: [&str; 4] = ["online", "offline", "door_open", "tilt"];

/// A machine's status: offline if not communicating, else tilt, else door open, else online.
pub fn status_of(s: &MachineStatus) -> &'static str {
    if !s.online {
        "offline"
    } else if s.tilt.is_some() {
        "tilt"
    } else if s.door_open {
        "door_open"
    } else {
        "online"
    }
}

/// One machine in the census.
#[derive(Clone, Debug, Serialize)]
pub struct MachineBrief {
    /// The machine.
    pub id: String,
    pub hall: String,
    /// One of [`STATUSES`].
    pub status: &'static str,
    /// Credits, minor units.
    pub credits_minor: i64,
    /// Event time of its last event, ms since the epoch.
    pub last_event_time_ms: i64,
    /// Its actor is live (else: last state seen before it was passivated).
    pub live: bool,
}

fn brief(m: &MachineState, live: bool) -> MachineBrief {
    MachineBrief {
        id: m.id.to_string(),
        hall: m.profile.hall.to_string(),
        status: status_of(&m.status),
        credits_minor: m.credits,
        last_event_time_ms: m.last_event_time.0,
        live,
    }
}

/// Machines of a hall by status.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StatusCounts {
    /// Online, no fault.
    pub online: u64,
    /// Not communicating.
    pub offline: u64,
    /// A door open.
    pub door_open: u64,
    /// In tilt.
    pub tilt: u64,
    /// All of them.
    pub total: u64,
}

/// One hall in the census.
#[derive(Clone, Debug, Serialize)]
pub struct HallSummary {
    /// The hall.
    pub id: String,
    /// The network's currency.
    pub currency: String,
    /// All-time bets, minor units.
    pub bets_minor: i64,
    /// All-time wins, minor units.
    pub wins_minor: i64,
    /// All-time GGR, minor units.
    pub ggr_minor: i64,
    /// All-time GGR, formatted.
    pub ggr: String,
    /// All-time jackpots paid to the hall's machines (progressive and mystery), minor units.
    pub jackpots_minor: i64,
    /// All-time net win (bets - wins - jackpots, RULES.md H-1), minor units.
    pub net_win_minor: i64,
    /// GGR of the newest one-minute window, minor units.
    pub ggr_last_window_minor: i64,
    /// Games played.
    pub games: i64,
    /// Machines by status.
    pub machines: StatusCounts,
}

/// The latest census.
#[derive(Clone, Debug, Default)]
pub struct CensusSnapshot {
    /// When it was taken, ms since the epoch (0: not yet).
    pub at_ms: i64,
    /// Halls by id.
    pub halls: BTreeMap<String, HallSummary>,
    /// Machines, by hall then id.
    pub machines: Vec<MachineBrief>,
}

/// The census and what it remembers between rounds.
pub struct Census {
    snapshot: RwLock<Arc<CensusSnapshot>>,
    machines: Mutex<HashMap<MachineId, MachineBrief>>,
    halls: Mutex<BTreeSet<HallId>>,
    machines_max: usize,
    halls_max: usize,
}

impl Census {
    pub fn new(cfg: &HttpConfig) -> Self {
        Self {
            snapshot: RwLock::new(Arc::new(CensusSnapshot::default())),
            machines: Mutex::new(HashMap::new()),
            halls: Mutex::new(BTreeSet::new()),
            machines_max: cfg.census_machines_max,
            halls_max: cfg.census_halls_max,
        }
    }

    pub fn snapshot(&self) -> Arc<CensusSnapshot> {
        self.snapshot.read().expect("census lock").clone()
    }

    /// Adds the machines and halls of `states` (the store's, at start) that the census does
    /// not know yet, within its bounds; what it already saw of a live actor is newer and is
    /// kept. Other entities are ignored.
    pub fn seed(&self, states: &[Snapshot]) {
        let mut machines = self.machines.lock().expect("census lock");
        let mut halls = self.halls.lock().expect("census lock");
        for s in states {
            match s {
                Snapshot::Machine(m) => {
                    if machines.len() < self.machines_max && !machines.contains_key(&m.id) {
                        machines.insert(m.id.clone(), brief(m, false));
                    }
                    if halls.len() < self.halls_max {
                        halls.insert(m.profile.hall.clone());
                    }
                }
                Snapshot::Hall(h) if halls.len() < self.halls_max => {
                    halls.insert(h.id.clone());
                }
                _ => {}
            }
        }
    }

    /// [`Census::seed`] from the runtime's store. Returns false if the store could not be
    /// read (the caller tries again at its next round).
    pub async fn seed_from_store(&self, rt: &Runtime) -> bool {
        match rt.store.all().await {
            Ok(states) => {
                self.seed(&states);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "census: the stored states could not be read; retrying");
                false
            }
        }
    }

    /// Takes a census of the runtime's live machines and halls.
    pub async fn run(&self, rt: &Runtime) {
        const CHUNK: usize = 1024;
        let ids = rt.live_machine_ids();
        let mut seen = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let futs = chunk.iter().map(|id| rt.inspect::<MachineEntity>(id));
            for s in futures::future::join_all(futs).await.into_iter().flatten() {
                if let Some(Snapshot::Machine(m)) = s {
                    seen.push(brief(&m, true));
                }
            }
        }
        let live: BTreeSet<String> = seen.iter().map(|m| m.id.clone()).collect();
        let machines: Vec<MachineBrief> = {
            let mut known = self.machines.lock().expect("census lock");
            for b in seen {
                let Ok(id) = MachineId::new(&b.id) else {
                    continue;
                };
                if known.len() < self.machines_max || known.contains_key(&id) {
                    known.insert(id, b);
                }
            }
            let mut all: Vec<MachineBrief> = known
                .values()
                .map(|b| MachineBrief {
                    live: live.contains(&b.id),
                    ..b.clone()
                })
                .collect();
            all.sort_by(|a, b| (&a.hall, &a.id).cmp(&(&b.hall, &b.id)));
            all
        };
        let hall_ids: Vec<HallId> = {
            let mut halls = self.halls.lock().expect("census lock");
            let candidates = rt
                .live_hall_ids()
                .into_iter()
                .chain(machines.iter().filter_map(|m| HallId::new(&m.hall).ok()));
            for h in candidates {
                if halls.len() < self.halls_max {
                    halls.insert(h);
                }
            }
            halls.iter().cloned().collect()
        };
        let cur = rt.config.currency.as_str().to_string();
        let mut summaries: BTreeMap<String, HallSummary> = BTreeMap::new();
        for chunk in hall_ids.chunks(CHUNK) {
            let futs = chunk.iter().map(|id| rt.inspect::<HallEntity>(id));
            for (id, s) in chunk.iter().zip(futures::future::join_all(futs).await) {
                let (bets, wins, jackpots, games, last) = match s {
                    Ok(Some(Snapshot::Hall(h))) => (
                        h.totals.bets,
                        h.totals.wins,
                        h.totals.jackpots,
                        h.totals.games,
                        h.windows.values().next_back().map_or(0, |w| w.totals.ggr()),
                    ),
                    _ => (0, 0, 0, 0, 0),
                };
                summaries.insert(
                    id.to_string(),
                    HallSummary {
                        id: id.to_string(),
                        currency: cur.clone(),
                        bets_minor: bets,
                        wins_minor: wins,
                        ggr_minor: bets - wins,
                        ggr: format_minor(bets - wins, &cur),
                        jackpots_minor: jackpots,
                        net_win_minor: bets - wins - jackpots,
                        ggr_last_window_minor: last,
                        games,
                        machines: StatusCounts::default(),
                    },
                );
            }
        }
        for m in &machines {
            let Some(h) = summaries.get_mut(&m.hall) else {
                continue;
            };
            let c = &mut h.machines;
            c.total += 1;
            match m.status {
                "offline" => c.offline += 1,
                "tilt" => c.tilt += 1,
                "door_open" => c.door_open += 1,
                _ => c.online += 1,
            }
        }
        for h in summaries.values() {
            telemetry::hall_totals(&h.id, h.bets_minor, h.wins_minor, h.jackpots_minor);
            let c = &h.machines;
            telemetry::machines_by_status(&h.id, c.online, c.offline, c.door_open, c.tilt);
        }
        let snap = CensusSnapshot {
            at_ms: now_ms(),
            halls: summaries,
            machines,
        };
        *self.snapshot.write().expect("census lock") = Arc::new(snap);
    }
}
