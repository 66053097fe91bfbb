//! pitboss's own silence detection (RULES.md M-11): a machine pitboss has not heard from for
//! `http.machine-silence-secs` of wall-clock time is silent, and a hall whose known machines
//! are all silent is offline; the next event of a silent machine clears both.
//!
//! Fed by the census: a machine is *heard* when the census sees its effect number move (it
//! applied a new event), and known from the store at start (heard then, at the start). The
//! machines waiting to fall silent are ordered by when they were last heard, so a round
//! costs what changed and what fell silent, not what is known. The wall clock is passed in.

use std::collections::{BTreeSet, HashMap};

/// What a round found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// Nothing heard from the machine for the silence time.
    Silent {
        machine: String,
        hall: String,
        /// The time of its last event (booked), ms since the epoch.
        last_event_ms: i64,
        /// Wall-clock time since it was last heard, ms.
        silent_ms: i64,
    },
    /// A silent machine was heard again.
    Back {
        machine: String,
        hall: String,
        /// The time of the last event before its silence (names the silence).
        silent_since_event_ms: i64,
    },
    /// Every known machine of the hall is silent; `machine` made it so.
    LocationOffline {
        hall: String,
        machine: String,
        last_event_ms: i64,
        machines: u64,
    },
    /// A machine of an offline hall was heard again.
    LocationOnline {
        hall: String,
        machine: String,
        silent_since_event_ms: i64,
    },
}

struct Heard {
    hall: String,
    /// Wall clock when last heard.
    at_ms: i64,
    /// Its effect number then.
    effect_seq: u64,
    /// The booked time of its last event.
    last_event_ms: i64,
    silent: bool,
}

#[derive(Default)]
struct HallCount {
    machines: u64,
    silent: u64,
    offline: bool,
}

/// The silence tracker.
pub struct Silence {
    after_ms: i64,
    heard: HashMap<String, Heard>,
    /// Machines not silent, by when they were last heard.
    due: BTreeSet<(i64, String)>,
    halls: HashMap<String, HallCount>,
}

impl Silence {
    /// Machines fall silent after `after_ms` without an event (0: never).
    pub fn new(after_ms: i64) -> Self {
        Self {
            after_ms,
            heard: HashMap::new(),
            due: BTreeSet::new(),
            halls: HashMap::new(),
        }
    }

    /// Whether detection is on.
    pub fn enabled(&self) -> bool {
        self.after_ms > 0
    }

    /// A machine as the store holds it, at start: known, heard `now_ms` unless already known.
    pub fn known(
        &mut self,
        machine: &str,
        hall: &str,
        effect_seq: u64,
        last_event_ms: i64,
        now_ms: i64,
    ) {
        if self.enabled() && !self.heard.contains_key(machine) {
            self.insert(machine, hall, effect_seq, last_event_ms, now_ms);
        }
    }

    /// A machine the census read: heard if its effect number moved (or it is new).
    pub fn seen(
        &mut self,
        machine: &str,
        hall: &str,
        effect_seq: u64,
        last_event_ms: i64,
        now_ms: i64,
        out: &mut Vec<Found>,
    ) {
        if !self.enabled() {
            return;
        }
        let Some(h) = self.heard.get(machine) else {
            self.insert(machine, hall, effect_seq, last_event_ms, now_ms);
            return;
        };
        if h.effect_seq == effect_seq {
            return;
        }
        let (old_hall, was_silent, since, at) =
            (h.hall.clone(), h.silent, h.last_event_ms, h.at_ms);
        if was_silent {
            out.push(Found::Back {
                machine: machine.to_owned(),
                hall: old_hall.clone(),
                silent_since_event_ms: since,
            });
            let c = self.halls.entry(old_hall.clone()).or_default();
            c.silent -= 1;
            if c.offline {
                c.offline = false;
                out.push(Found::LocationOnline {
                    hall: old_hall.clone(),
                    machine: machine.to_owned(),
                    silent_since_event_ms: since,
                });
            }
        } else {
            self.due.remove(&(at, machine.to_owned()));
        }
        self.halls.entry(old_hall).or_default().machines -= 1;
        self.heard.remove(machine);
        self.insert(machine, hall, effect_seq, last_event_ms, now_ms);
    }

    fn insert(
        &mut self,
        machine: &str,
        hall: &str,
        effect_seq: u64,
        last_event_ms: i64,
        now_ms: i64,
    ) {
        self.halls.entry(hall.to_owned()).or_default().machines += 1;
        self.heard.insert(
            machine.to_owned(),
            Heard {
                hall: hall.to_owned(),
                at_ms: now_ms,
                effect_seq,
                last_event_ms,
                silent: false,
            },
        );
        self.due.insert((now_ms, machine.to_owned()));
    }

    /// The machines that fell silent by `now_ms`, and the halls that went offline with them.
    pub fn tick(&mut self, now_ms: i64, out: &mut Vec<Found>) {
        if !self.enabled() {
            return;
        }
        while let Some((at, machine)) = self.due.first().cloned() {
            if at + self.after_ms > now_ms {
                break;
            }
            self.due.pop_first();
            let h = self
                .heard
                .get_mut(&machine)
                .expect("a due machine is known");
            h.silent = true;
            out.push(Found::Silent {
                machine: machine.clone(),
                hall: h.hall.clone(),
                last_event_ms: h.last_event_ms,
                silent_ms: now_ms - at,
            });
            let c = self.halls.entry(h.hall.clone()).or_default();
            c.silent += 1;
            if c.silent == c.machines && !c.offline {
                c.offline = true;
                out.push(Found::LocationOffline {
                    hall: h.hall.clone(),
                    machine,
                    last_event_ms: h.last_event_ms,
                    machines: c.machines,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn machines_fall_silent_halls_go_offline_and_the_next_event_clears_both() {
        let mut s = Silence::new(15 * MIN);
        let mut out = Vec::new();
        s.known("M-1", "H-1", 10, 1_000, 0);
        s.seen("M-2", "H-1", 3, 2_000, 0, &mut out);
        s.seen("M-3", "H-2", 1, 3_000, 0, &mut out);
        // M-2 plays on; M-1 and M-3 go quiet.
        s.seen("M-2", "H-1", 4, 4_000, 10 * MIN, &mut out);
        s.seen("M-1", "H-1", 10, 1_000, 12 * MIN, &mut out); // read again, nothing new
        s.tick(15 * MIN - 1, &mut out);
        assert!(out.is_empty(), "{out:?}");
        s.tick(15 * MIN, &mut out);
        assert_eq!(
            out,
            vec![
                Found::Silent {
                    machine: "M-1".into(),
                    hall: "H-1".into(),
                    last_event_ms: 1_000,
                    silent_ms: 15 * MIN,
                },
                Found::Silent {
                    machine: "M-3".into(),
                    hall: "H-2".into(),
                    last_event_ms: 3_000,
                    silent_ms: 15 * MIN,
                },
                // M-3 was H-2's only machine.
                Found::LocationOffline {
                    hall: "H-2".into(),
                    machine: "M-3".into(),
                    last_event_ms: 3_000,
                    machines: 1,
                },
            ]
        );
        out.clear();
        // Silent once, not again.
        s.tick(40 * MIN, &mut out);
        assert_eq!(
            out,
            vec![
                Found::Silent {
                    machine: "M-2".into(),
                    hall: "H-1".into(),
                    last_event_ms: 4_000,
                    silent_ms: 30 * MIN,
                },
                Found::LocationOffline {
                    hall: "H-1".into(),
                    machine: "M-2".into(),
                    last_event_ms: 4_000,
                    machines: 2,
                },
            ]
        );
        out.clear();
        s.tick(90 * MIN, &mut out);
        assert!(out.is_empty());
        // M-1 speaks again: it and its hall are back; its next silence is counted anew.
        s.seen("M-1", "H-1", 11, 95 * MIN, 95 * MIN, &mut out);
        assert_eq!(
            out,
            vec![
                Found::Back {
                    machine: "M-1".into(),
                    hall: "H-1".into(),
                    silent_since_event_ms: 1_000,
                },
                Found::LocationOnline {
                    hall: "H-1".into(),
                    machine: "M-1".into(),
                    silent_since_event_ms: 1_000,
                },
            ]
        );
        out.clear();
        s.tick(110 * MIN, &mut out);
        assert_eq!(out.len(), 2, "silent again, and H-1 offline again: {out:?}");
    }

    #[test]
    fn zero_turns_it_off() {
        let mut s = Silence::new(0);
        let mut out = Vec::new();
        s.seen("M-1", "H-1", 1, 0, 0, &mut out);
        s.tick(i64::MAX / 2, &mut out);
        assert!(out.is_empty());
    }
}
