use std::collections::{BTreeMap, BTreeSet, HashMap};

use pitboss::wire::{self, OutputEvent};

use super::{Expected, Rec};

/// The output records, decoded and grouped, with the checks every test makes.
pub struct Outputs {
    /// Every record, in (topic, partition, offset) order.
    pub recs: Vec<Rec>,
}

fn header<'a>(r: &'a Rec, name: &str) -> Option<&'a [u8]> {
    r.headers
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.as_deref())
}

impl Outputs {
    /// Decodes every record and checks the envelope against the headers; checks that every
    /// copy of an output id carries the same bytes (GGR windows included: RULES.md H-2).
    pub fn new(recs: Vec<Rec>) -> Self {
        Self::checked(recs, true)
    }

    /// Like [`Outputs::new`], for runs whose store keeps nothing across a restart
    /// (`store.kind = "memory"`): the second run starts every hall from zero, so a GGR window
    /// published by the first run is published again, from zero, under its id (RULES.md
    /// H-2 needs a durable store). Every other output keeps one content per id.
    pub fn without_durable_state(recs: Vec<Rec>) -> Self {
        Self::checked(recs, false)
    }

    fn checked(mut recs: Vec<Rec>, ggr_one_content: bool) -> Self {
        recs.sort_by(|a, b| {
            (&a.topic, a.partition, a.offset).cmp(&(&b.topic, b.partition, b.offset))
        });
        let mut by_id: HashMap<String, &Rec> = HashMap::new();
        for r in &recs {
            let ev = wire::decode_output(&r.payload).unwrap_or_else(|e| {
                panic!(
                    "{}/{}@{} does not decode: {e}",
                    r.topic, r.partition, r.offset
                )
            });
            assert_eq!(
                header(r, "pitboss-schema-version"),
                Some(wire::SCHEMA_VERSION.to_string().as_bytes()),
                "schema version header"
            );
            assert_eq!(
                header(r, "pitboss-output-id"),
                Some(ev.output_id().as_bytes()),
                "output id header"
            );
            let cause = match &ev {
                OutputEvent::Wallet(e) => e.cause_event_id.as_deref(),
                OutputEvent::Alert(e) => e.cause_event_id.as_deref(),
                OutputEvent::Refused(e) => e.cause_event_id.as_deref(),
                OutputEvent::JackpotHit(e) => e.cause_event_id.as_deref(),
                OutputEvent::Voucher(e) => e.cause_event_id.as_deref(),
                OutputEvent::RatedSession(e) => e.cause_event_id.as_deref(),
                OutputEvent::Transfer(e) => e.cause_event_id.as_deref(),
                OutputEvent::AmlCase(e) => e.cause_event_id.as_deref(),
                OutputEvent::Shift(e) => e.cause_event_id.as_deref(),
                _ => None,
            };
            if matches!(ev, OutputEvent::Ggr(_) | OutputEvent::JackpotLevels(_)) {
                // An aggregate names the latest input it is the first to include, and how
                // many, in the headers only (its payload names none).
                let text = |name: &str| header(r, name).map(|v| std::str::from_utf8(v).unwrap());
                let count: u32 = text("pitboss-cause-count")
                    .expect("an aggregate counts what it carries")
                    .parse()
                    .expect("the count is a number");
                let named = text("pitboss-cause-event-id");
                assert_eq!(
                    named.is_some(),
                    count > 0,
                    "a cause exactly when it carries some"
                );
                if let Some(id) = named {
                    uuid::Uuid::parse_str(id).expect("the cause is an event id");
                }
                assert_eq!(cause, None);
            } else {
                assert_eq!(
                    header(r, "pitboss-cause-event-id"),
                    cause.map(str::as_bytes),
                    "cause header"
                );
                assert_eq!(header(r, "pitboss-cause-count"), None, "no count");
            }
            if !ggr_one_content && matches!(ev, OutputEvent::Ggr(_)) {
                continue;
            }
            if let Some(first) = by_id.get(ev.output_id()) {
                assert_eq!(
                    first.payload,
                    r.payload,
                    "output {} has two different contents ({}/{}@{} and @{}):\n{:?}\n{:?}",
                    ev.output_id(),
                    r.topic,
                    r.partition,
                    first.offset,
                    r.offset,
                    wire::decode_output(&first.payload),
                    ev
                );
            } else {
                by_id.insert(ev.output_id().to_string(), r);
            }
        }
        Self { recs }
    }

    fn decoded(&self) -> impl Iterator<Item = (&Rec, OutputEvent<'_>)> {
        self.recs
            .iter()
            .map(|r| (r, wire::decode_output(&r.payload).expect("checked")))
    }

    /// Per hall: bets, wins and games summed over windows, each window taken from its last
    /// publication in the log.
    pub fn ggr_by_hall(&self) -> BTreeMap<String, (i64, i64, i64)> {
        let mut last: BTreeMap<(String, i64), (i64, i64, i64)> = BTreeMap::new();
        for (_, ev) in self.decoded() {
            if let OutputEvent::Ggr(g) = ev {
                let p = &g.payload;
                // Records are in log order: a later one replaces an earlier one.
                last.insert(
                    (p.hall.to_string(), p.window_start),
                    (p.bets, p.wins, p.games),
                );
            }
        }
        let mut out: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
        for ((hall, _), (b, w, g)) in last {
            let e = out.entry(hall).or_default();
            e.0 += b;
            e.1 += w;
            e.2 += g;
        }
        out
    }

    /// GGR publications with a revision above 0 (windows revised after late events).
    pub fn ggr_revisions(&self) -> usize {
        self.decoded()
            .filter(|(_, ev)| matches!(ev, OutputEvent::Ggr(g) if g.payload.revision > 0))
            .count()
    }

    /// Distinct ids of one kind.
    pub fn ids(&self, kind: &str) -> BTreeSet<String> {
        self.decoded()
            .filter(|(_, ev)| ev.kind() == kind)
            .map(|(_, ev)| ev.output_id().to_string())
            .collect()
    }

    /// Final balance per player (last applied wallet answer in the log, a republished
    /// repeat aside: its id was seen before and its balance is the one reported then).
    pub fn balances(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for (_, ev) in self.decoded() {
            if let OutputEvent::Wallet(w) = ev {
                if seen.insert(w.output_id.to_string()) {
                    if let Some(b) = w.payload.balance {
                        out.insert(w.payload.player.to_string(), b);
                    }
                }
            }
        }
        out
    }

    /// Distinct jackpot hits: count and total amount.
    pub fn hits(&self) -> (u64, i64) {
        let mut seen = BTreeMap::new();
        for (_, ev) in self.decoded() {
            if let OutputEvent::JackpotHit(h) = ev {
                seen.insert(h.output_id.to_string(), h.payload.amount);
            }
        }
        (seen.len() as u64, seen.values().sum())
    }

    /// Distinct jackpot hits, as the model checker reads them.
    pub fn hit_rows(&self) -> Vec<pitboss::model_check::HitRow> {
        let mut seen = BTreeMap::new();
        for (_, ev) in self.decoded() {
            if let OutputEvent::JackpotHit(h) = ev {
                let p = &h.payload;
                seen.insert(
                    h.output_id.to_string(),
                    pitboss::model_check::HitRow {
                        pool: p.pool.to_string(),
                        level: p.level,
                        number: p.hit_number,
                        machine: p.machine.to_string(),
                        amount: p.amount,
                    },
                );
            }
        }
        seen.into_values().collect()
    }

    /// Distinct rejections: (reason, code, original, original_len, partition, offset).
    pub fn rejections(&self) -> BTreeMap<String, (String, String, Vec<u8>, u64, i32, i64)> {
        let mut out = BTreeMap::new();
        for (_, ev) in self.decoded() {
            if let OutputEvent::Rejected(r) = ev {
                let p = &r.payload;
                out.insert(
                    r.output_id.to_string(),
                    (
                        p.reason.to_string(),
                        p.reason_code.to_string(),
                        p.original.0.to_vec(),
                        p.original_len,
                        p.partition,
                        p.offset,
                    ),
                );
            }
        }
        out
    }

    /// The ids of the alerts that depend on the order of two input partitions (with their
    /// kinds), or of the others.
    fn alerts(&self, crossing: bool) -> BTreeMap<String, String> {
        self.decoded()
            .filter_map(|(_, ev)| match ev {
                OutputEvent::Alert(a) if cross_partition(&a.payload.kind) == crossing => {
                    Some((a.output_id.to_string(), a.payload.kind.to_string()))
                }
                _ => None,
            })
            .collect()
    }

    /// Everything the in-process run of the same input published, by id: GGR, wallets,
    /// alerts, refusals, and the vouchers' answers, ticket facts and expiries.
    ///
    /// A voucher's messages come from several partitions (its commands through its own, a
    /// machine's ticket-in through the machine's), and an open-loop generator does not wait
    /// for the authorisation a real gateway waits for: a ticket-in can reach the voucher
    /// before the redemption request produced before it, or even before the print that
    /// issued it (a backlog read partition by partition). The voucher's alerts and lapsed
    /// holds then differ from the in-process run's; its answers, facts and expiries are
    /// published under the same ids. Only those are compared here.
    pub fn check(&self, e: &Expected) {
        self.check_others(e);
        let released = |ev: &OutputEvent<'_>| matches!(ev, OutputEvent::Voucher(v) if v.payload.op == "release");
        let vouchers: BTreeSet<String> = self
            .decoded()
            .filter(|(_, ev)| ev.kind() == "voucher" && !released(ev))
            .map(|(_, ev)| ev.output_id().to_string())
            .collect();
        assert_eq!(vouchers, e.voucher_ids, "voucher outputs");
        // Voucher alerts depend on that order (a ticket-in ahead of its print is
        // `voucher_credit_unbacked`; README.md, limits), and so does a self-excluded
        // player's card-in (the machine's partition against the wallet's: RULES.md W-9), and
        // a shift's (a desk's partition against the internal topic: D-5, D-10): they are
        // published and decode (above); which ones is not compared with the in-process run.
        let _ = &e.crossing_alerts;
    }

    fn check_others(&self, e: &Expected) {
        if self.ggr_by_hall() != e.halls {
            // Show the windows as published, to tell a missing window from a wrong one.
            for (r, ev) in self.decoded() {
                if let OutputEvent::Ggr(g) = ev {
                    eprintln!("{}@{} {:?}", r.partition, r.offset, g.payload);
                }
            }
        }
        assert_eq!(
            self.ggr_by_hall(),
            e.halls,
            "GGR per hall (bets, wins, games)"
        );
        assert_eq!(self.ids("wallet"), e.wallet_ids, "wallet outputs");
        assert_eq!(self.balances(), e.balances, "final wallet balances");
        // By id, with the kind beside it, so a difference names the rule that raised it.
        let alerts = self.alerts(false);
        let published_only: Vec<_> = alerts
            .iter()
            .filter(|(id, _)| !e.alert_ids.contains_key(*id))
            .collect();
        let expected_only: Vec<_> = e
            .alert_ids
            .iter()
            .filter(|(id, _)| !alerts.contains_key(*id))
            .collect();
        assert!(
            published_only.is_empty() && expected_only.is_empty(),
            "alerts published but not expected: {published_only:?}; expected but not published: {expected_only:?}"
        );
        assert_eq!(self.ids("refused"), e.refused_ids, "refusals");
    }
}

/// Alerts whose occurrence depends on the order in which two input partitions are read: a
/// voucher's (its commands against a machine's tickets, RULES.md V), a self-excluded
/// player's card-in (the machine's card-in against the wallet's exclusion, W-9) and a desk's
/// shift alerts (a wallet's cash at the cage or a ticket redeemed reaches the desk through
/// the internal topic, its shift's opening and closing through the desk's own partition,
/// D-5, D-10: a close read first shows a variance that the late booking revises away, an
/// operation read before its shift's opening is unshifted cash). The stored state of every
/// desk is compared exactly with the reference's all the same (the crash tests' `compare`).
pub fn cross_partition(kind: &str) -> bool {
    kind.starts_with("voucher_")
        || matches!(
            kind,
            "self_excluded_card_in" | "shift_variance" | "desk_cash_without_shift"
        )
}
