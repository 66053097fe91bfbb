//! Tests of the hall GGR aggregator: deduplicated deltas, one-minute windows closed after a
//! grace period, revisions after late deltas and retention of closed windows.

use pitboss_actors::domain::ggr::{GgrTotals, GgrWindow, HallState, WindowClosed};
use pitboss_actors::domain::time::WINDOW_MS;
use pitboss_actors::domain::{Applied, GgrDelta};
use pitboss_actors::domain::{Carried, EventId, HallId, MachineId, PlayerId, SourceKey, Timestamp};

/// The start of a minute: 2023-11-14T22:13:00Z.
const W0: i64 = 1_699_999_980_000;

fn hall_id() -> HallId {
    HallId::new("H-1").unwrap()
}

fn machine(id: &str) -> SourceKey {
    SourceKey::Machine(MachineId::new(id).unwrap())
}

fn wallet(id: &str) -> SourceKey {
    SourceKey::Wallet(PlayerId::new(id).unwrap())
}

/// The start of window `n` after `W0`.
fn w(n: i64) -> Timestamp {
    Timestamp(W0 + n * WINDOW_MS)
}

/// The input event of a source's delta: distinct for every (source, seq).
fn cause_of(source: &SourceKey, seq: u64) -> EventId {
    let tag = format!("{source:?}")
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(b as u64));
    EventId(((tag as u128) << 64) | seq as u128)
}

fn delta(source: &SourceKey, seq: u64, window: i64, bets: i64, wins: i64, games: i64) -> GgrDelta {
    GgrDelta {
        source: source.clone(),
        seq,
        cause: cause_of(source, seq),
        hall: hall_id(),
        window: w(window),
        bets,
        wins,
        games,
        jackpots: 0,
        promo: 0,
    }
}

fn totals(bets: i64, wins: i64, games: i64) -> GgrTotals {
    GgrTotals {
        bets,
        wins,
        games,
        jackpots: 0,
        promo: 0,
    }
}

fn closed(window: i64, t: GgrTotals, revision: u32) -> WindowClosed {
    WindowClosed {
        hall: hall_id(),
        window: w(window),
        totals: t,
        revision,
        carried: Carried::default(),
    }
}

/// Publications without what they name as their cause (the tests of the totals and
/// revisions; `a_publication_names_the_latest_delta_it_is_the_first_to_include` tests it).
fn bare(v: &[WindowClosed]) -> Vec<WindowClosed> {
    v.iter()
        .map(|c| WindowClosed {
            carried: Carried::default(),
            ..c.clone()
        })
        .collect()
}

fn apply(h: &mut HallState, d: &GgrDelta) -> Applied {
    let r = h.apply(d).expect("delta accepted");
    h.assert_invariants();
    r
}

fn close(h: &mut HallState, grace: i64, all: bool, max: usize) -> Vec<WindowClosed> {
    let mut out = Vec::new();
    h.close_windows(grace, all, max, &mut out);
    h.assert_invariants();
    bare(&out)
}

#[test]
fn window_start_is_the_minute() {
    let table = [
        (W0, W0),
        (W0 + 1, W0),
        (W0 + 59_999, W0),
        (W0 + 60_000, W0 + 60_000),
        (0, 0),
        (-1, -60_000),
        (-60_000, -60_000),
    ];
    for (t, start) in table {
        assert_eq!(Timestamp(t).window_start(), Timestamp(start), "{t}");
    }
}

#[test]
fn ggr_is_bets_minus_wins() {
    assert_eq!(totals(1_000, 300, 2).ggr(), 700);
    assert_eq!(totals(100, 300, 1).ggr(), -200);
    assert_eq!(GgrTotals::default().ggr(), 0);
}

#[test]
fn deltas_add_up_per_window_and_in_total() {
    let mut h = HallState::new(hall_id());
    let m1 = machine("M-1");
    let m2 = machine("M-2");
    let p1 = wallet("P-1");
    // (delta, window it lands in, window totals after)
    let table = [
        (delta(&m1, 1, 0, 100, 0, 0), totals(100, 0, 0)),
        (delta(&m1, 2, 0, 0, 40, 0), totals(100, 40, 0)),
        (delta(&m1, 3, 0, 0, 0, 1), totals(100, 40, 1)),
        (delta(&m2, 1, 0, 50, 0, 0), totals(150, 40, 1)),
        (delta(&p1, 1, 1, 500, 0, 0), totals(500, 0, 0)),
        (delta(&p1, 2, 1, 0, 900, 0), totals(500, 900, 0)),
        // A rolled-back bet arrives as negative bets.
        (delta(&p1, 3, 1, -200, 0, 0), totals(300, 900, 0)),
        (delta(&m2, 2, 2, 10, 0, 0), totals(10, 0, 0)),
    ];
    for (d, want) in &table {
        assert_eq!(apply(&mut h, d), Applied::Done, "{d:?}");
        assert_eq!(h.windows[&d.window].totals, *want, "{d:?}");
    }
    assert_eq!(h.totals, totals(460, 940, 1));
    assert_eq!(h.totals.ggr(), -480);
    assert_eq!(h.watermark, w(2));
    assert_eq!(h.windows.len(), 3);
    let sum = h
        .windows
        .values()
        .fold(GgrTotals::default(), |a, x| GgrTotals {
            bets: a.bets + x.totals.bets,
            wins: a.wins + x.totals.wins,
            games: a.games + x.totals.games,
            jackpots: a.jackpots + x.totals.jackpots,
            promo: a.promo + x.totals.promo,
        });
    assert_eq!(sum, h.totals, "the windows add up to the all-time totals");
    assert_eq!(h.last_seq[&m1].seq, 3);
    assert_eq!(h.last_seq[&m2].seq, 2);
    assert_eq!(h.last_seq[&p1].seq, 3);
    // Each source was heard at the hall's watermark of its last delta (H-3).
    assert_eq!(h.last_seq[&m1].heard, w(0));
    assert_eq!(h.last_seq[&p1].heard, w(1));
    assert_eq!(h.last_seq[&m2].heard, w(2));
}

/// RULES.md H-3: a source silent for longer than the expiry (in the hall's booked time) is
/// forgotten; one heard from since is kept; a forgotten source that comes back with its next
/// sequence number is applied as a new source.
#[test]
fn sources_silent_longer_than_the_expiry_are_forgotten() {
    const HOUR: i64 = 3_600_000;
    let mut h = HallState::new(hall_id());
    let (m1, p1, p2) = (machine("M-1"), wallet("P-1"), wallet("P-2"));
    let at = |source: &SourceKey, seq: u64, ms: i64| GgrDelta {
        window: Timestamp(ms),
        ..delta(source, seq, 0, 10, 0, 0)
    };
    assert_eq!(apply(&mut h, &at(&p1, 1, 0)), Applied::Done);
    assert_eq!(apply(&mut h, &at(&p2, 1, 0)), Applied::Done);
    assert_eq!(apply(&mut h, &at(&m1, 1, 100 * HOUR)), Applied::Done);
    // P-2 is heard from again, but in an old window: heard at the hall's watermark.
    assert_eq!(apply(&mut h, &at(&p2, 2, 0)), Applied::Done);
    assert_eq!(
        h.expire_sources(100 * HOUR),
        0,
        "P-1 silent exactly 100 h: kept"
    );
    assert_eq!(apply(&mut h, &at(&m1, 2, 100 * HOUR + 1)), Applied::Done);
    assert_eq!(h.expire_sources(100 * HOUR), 1, "P-1 silent 100 h and 1 ms");
    assert!(!h.last_seq.contains_key(&p1));
    assert_eq!(h.last_seq[&p2].seq, 2);
    assert_eq!(h.last_seq[&m1].seq, 2);
    let totals = h.totals.clone();
    // P-1 comes back with its next sequence number: applied once, remembered again.
    assert_eq!(apply(&mut h, &at(&p1, 2, 100 * HOUR)), Applied::Done);
    assert_eq!(apply(&mut h, &at(&p1, 2, 100 * HOUR)), Applied::Duplicate);
    assert_eq!(h.totals.bets, totals.bets + 10);
}

#[test]
fn a_delta_is_applied_once_per_source_and_sequence() {
    let mut h = HallState::new(hall_id());
    let m1 = machine("M-1");
    apply(&mut h, &delta(&m1, 5, 0, 100, 0, 0));
    apply(&mut h, &delta(&m1, 7, 0, 0, 30, 1));
    let snapshot = h.clone();
    // Redeliveries and anything older: duplicates, whatever they carry, whatever the window.
    for d in [
        delta(&m1, 7, 0, 0, 30, 1),
        delta(&m1, 5, 0, 100, 0, 0),
        delta(&m1, 6, 0, 999, 0, 0),
        delta(&m1, 1, 9, 1, 1, 1),
        delta(&m1, 0, -5, 1, 1, 1),
    ] {
        assert_eq!(apply(&mut h, &d), Applied::Duplicate, "{d:?}");
    }
    assert_eq!(h, snapshot);
    // The same numbers from other sources are theirs: the machine M-2, and a wallet with the
    // same text id (a different kind of source).
    assert_eq!(
        apply(&mut h, &delta(&machine("M-2"), 7, 0, 1, 0, 0)),
        Applied::Done
    );
    assert_eq!(
        apply(&mut h, &delta(&wallet("M-1"), 7, 0, 1, 0, 0)),
        Applied::Done
    );
    assert_eq!(h.totals, totals(102, 30, 1));
}

#[test]
fn windows_close_after_the_grace_period() {
    let mut h = HallState::new(hall_id());
    let m = machine("M-1");
    apply(&mut h, &delta(&m, 1, 0, 100, 0, 1));
    apply(&mut h, &delta(&m, 2, 1, 200, 50, 1));
    // Watermark at window 1: with one window of grace nothing closes yet.
    assert_eq!(close(&mut h, 1, false, 100), vec![]);
    // With no grace, window 0 closes as soon as the hall's time reaches window 1.
    let mut h0 = h.clone();
    assert_eq!(
        close(&mut h0, 0, false, 100),
        vec![closed(0, totals(100, 0, 1), 0)]
    );

    apply(&mut h, &delta(&m, 3, 2, 300, 0, 1));
    // Watermark at window 2: window 0 is a full window of grace behind, so it closes; window 1
    // is within the grace period.
    assert_eq!(
        close(&mut h, 1, false, 100),
        vec![closed(0, totals(100, 0, 1), 0)]
    );
    assert!(h.windows[&w(0)].closed);
    assert!(!h.windows[&w(1)].closed);
    // A closed window is published once.
    assert_eq!(close(&mut h, 1, false, 100), vec![]);

    // Time jumps: every window more than the grace behind closes, in window order.
    apply(&mut h, &delta(&m, 4, 10, 1, 0, 0));
    assert_eq!(
        close(&mut h, 2, false, 100),
        vec![
            closed(1, totals(200, 50, 1), 0),
            closed(2, totals(300, 0, 1), 0)
        ]
    );
    assert!(!h.windows[&w(10)].closed);
    // Closing all (shutdown, flush) publishes the open ones regardless of grace.
    assert_eq!(
        close(&mut h, 2, true, 100),
        vec![closed(10, totals(1, 0, 0), 0)]
    );
    assert_eq!(close(&mut h, 0, true, 100), vec![]);
}

#[test]
fn late_delta_reopens_a_closed_window_and_the_next_close_publishes_a_revision() {
    let mut h = HallState::new(hall_id());
    let m1 = machine("M-1");
    let m2 = machine("M-2");
    apply(&mut h, &delta(&m1, 1, 0, 100, 0, 1));
    apply(&mut h, &delta(&m1, 2, 3, 10, 0, 0));
    assert_eq!(
        close(&mut h, 1, false, 100),
        vec![closed(0, totals(100, 0, 1), 0)]
    );

    // A late delta from another machine for window 0.
    apply(&mut h, &delta(&m2, 1, 0, 50, 20, 1));
    assert_eq!(
        h.windows[&w(0)],
        GgrWindow {
            totals: totals(150, 20, 2),
            revision: 1,
            closed: false,
            carried: Carried {
                latest: Some(cause_of(&m2, 1)),
                count: 1,
            },
        }
    );
    assert_eq!(
        h.watermark,
        w(3),
        "a late delta does not move the watermark back"
    );
    // A second late delta before the close is part of the same revision.
    apply(&mut h, &delta(&m2, 2, 0, 5, 0, 0));
    assert_eq!(h.windows[&w(0)].revision, 1);
    assert_eq!(
        close(&mut h, 1, false, 100),
        vec![closed(0, totals(155, 20, 2), 1)]
    );
    // Another late delta: revision 2.
    apply(&mut h, &delta(&m2, 3, 0, 0, 5, 0));
    assert_eq!(
        close(&mut h, 1, false, 100),
        vec![closed(0, totals(155, 25, 2), 2)]
    );
    // Its redelivery reopens nothing.
    assert_eq!(
        apply(&mut h, &delta(&m2, 3, 0, 0, 5, 0)),
        Applied::Duplicate
    );
    assert_eq!(close(&mut h, 1, false, 100), vec![]);
    assert_eq!(h.totals, totals(165, 25, 2));
}

#[test]
fn closed_windows_beyond_the_retention_are_forgotten_oldest_first() {
    let mut h = HallState::new(hall_id());
    let m = machine("M-1");
    for i in 0..6u64 {
        apply(&mut h, &delta(&m, i + 1, i as i64, 10, 0, 1));
    }
    // Watermark at window 5, grace 1: windows 0..=3 close; keep at most 3 windows.
    let out = close(&mut h, 1, false, 3);
    assert_eq!(
        out.iter().map(|c| c.window).collect::<Vec<_>>(),
        [w(0), w(1), w(2), w(3)]
    );
    assert_eq!(
        h.windows.keys().copied().collect::<Vec<_>>(),
        [w(3), w(4), w(5)]
    );
    // Open windows are never dropped, even above the retention: the oldest open one stops it.
    let out = close(&mut h, 1, false, 0);
    assert!(out.is_empty());
    assert_eq!(
        h.windows.keys().copied().collect::<Vec<_>>(),
        [w(4), w(5)],
        "only the closed window 3 could go"
    );
    // All-time totals are kept whatever the retention.
    assert_eq!(h.totals, totals(60, 0, 6));
    // Once everything is closed, a retention of 0 forgets every window.
    close(&mut h, 0, true, 0);
    assert!(h.windows.is_empty());
    assert_eq!(h.totals, totals(60, 0, 6));
}

#[test]
fn open_window_older_than_closed_ones_blocks_retention() {
    let mut h = HallState::new(hall_id());
    let m = machine("M-1");
    apply(&mut h, &delta(&m, 1, 0, 1, 0, 0));
    apply(&mut h, &delta(&m, 2, 1, 1, 0, 0));
    apply(&mut h, &delta(&m, 3, 5, 1, 0, 0));
    close(&mut h, 1, false, 10);
    // A late delta reopens window 0; retention cannot drop it, nor anything after it.
    apply(&mut h, &delta(&m, 4, 0, 1, 0, 0));
    close(&mut h, 100, false, 1);
    assert_eq!(
        h.windows.keys().copied().collect::<Vec<_>>(),
        [w(0), w(1), w(5)]
    );
    assert!(!h.windows[&w(0)].closed);
    assert_eq!(h.windows[&w(0)].revision, 1);
}

#[test]
fn overflowing_delta_is_refused_and_changes_nothing() {
    let mut h = HallState::new(hall_id());
    let m = machine("M-1");
    apply(&mut h, &delta(&m, 1, 0, i64::MAX - 10, 0, 0));
    let before = h.clone();
    let err = h.apply(&delta(&m, 2, 0, 11, 0, 0)).unwrap_err();
    assert_eq!(err.to_string(), "GGR bets would overflow");
    assert_eq!(h, before);
}

#[test]
fn jackpots_count_in_net_win_not_in_ggr() {
    // RULES.md H-1: bet 100, a progressive paid 5,000: GGR +100, net win -4,900.
    let mut h = HallState::new(hall_id());
    let m = SourceKey::Machine(MachineId::new("M-1").unwrap());
    h.apply(&delta(&m, 1, 0, 100, 0, 0)).unwrap();
    h.apply(&GgrDelta {
        jackpots: 5_000,
        ..delta(&m, 2, 0, 0, 0, 0)
    })
    .unwrap();
    let t = &h.windows[&w(0)].totals;
    assert_eq!((t.ggr(), t.jackpots, t.net_win()), (100, 5_000, -4_900));
    assert_eq!(h.totals.net_win(), -4_900);
}

/// RULES.md H-2: closed windows wait in the outbox; a window leaves memory only once its
/// publication was released (a durable checkpoint held it), and its eviction is remembered.
#[test]
fn the_outbox_holds_publications_and_windows_leave_memory_only_once_published() {
    let mut h = HallState::new(hall_id());
    let m = machine("M-1");
    for n in 0..4 {
        apply(&mut h, &delta(&m, n as u64 + 1, n, 100, 0, 1));
    }
    // Grace 0 closes windows 0..=2 (3 is the newest); at most 1 window in memory.
    assert!(h.close_into_outbox(0, false, 1));
    assert!(!h.close_into_outbox(0, false, 1), "nothing new to close");
    assert_eq!(
        bare(&h.outbox),
        vec![
            closed(0, totals(100, 0, 1), 0),
            closed(1, totals(100, 0, 1), 0),
            closed(2, totals(100, 0, 1), 0),
        ]
    );
    assert_eq!(
        h.windows.len(),
        4,
        "nothing leaves memory before it is published"
    );
    assert_eq!(h.evicted_upto, None);
    // The checkpoint held the first two: they are published; window 2 waits.
    let out = bare(&h.release(2, 1));
    assert_eq!(
        out,
        vec![
            closed(0, totals(100, 0, 1), 0),
            closed(1, totals(100, 0, 1), 0)
        ]
    );
    assert_eq!(bare(&h.outbox), vec![closed(2, totals(100, 0, 1), 0)]);
    assert_eq!(
        h.windows.keys().copied().collect::<Vec<_>>(),
        vec![w(2), w(3)]
    );
    assert_eq!(h.evicted_upto, Some(w(1)));
    h.assert_invariants();
}

/// RULES.md H-2: a late delta for a window that left memory needs it read back; with the
/// stored window put back, the delta revises it (next revision, full totals).
#[test]
fn a_late_delta_for_an_evicted_window_revises_the_stored_window() {
    let mut h = HallState::new(hall_id());
    let m = machine("M-1");
    let p = wallet("P-1");
    for n in 0..3 {
        apply(&mut h, &delta(&m, n as u64 + 1, n, 100, 10, 1));
    }
    h.close_into_outbox(0, false, 1);
    h.release(2, 1);
    assert_eq!(h.evicted_upto, Some(w(1)));
    let late = delta(&p, 1, 0, 40, 0, 1);
    assert!(h.needs_recall(&late));
    assert!(
        !h.needs_recall(&delta(&p, 1, 2, 40, 0, 1)),
        "window 2 is in memory"
    );
    assert!(
        !h.needs_recall(&delta(&m, 1, 0, 40, 0, 1)),
        "a repeat needs nothing"
    );
    h.recalled(w(0), Some((totals(100, 10, 1), 0)));
    assert_eq!(apply(&mut h, &late), Applied::Done);
    h.close_into_outbox(0, false, 1);
    assert_eq!(bare(&h.outbox), vec![closed(0, totals(140, 10, 2), 1)]);
    // A window the store never held starts at revision 0.
    let mut h2 = HallState::new(hall_id());
    h2.evicted_upto = Some(w(5));
    let d = delta(&p, 1, 3, 40, 0, 1);
    assert!(h2.needs_recall(&d));
    h2.recalled(w(3), None);
    apply(&mut h2, &d);
    apply(&mut h2, &delta(&p, 2, 9, 1, 0, 0));
    h2.close_into_outbox(0, false, 10);
    assert_eq!(bare(&h2.outbox), vec![closed(3, totals(40, 0, 1), 0)]);
}

/// A publication names the cause of the latest delta it is the first to include, and how
/// many it includes that no earlier publication did; a revision counts only the late deltas.
#[test]
fn a_publication_names_the_latest_delta_it_is_the_first_to_include() {
    let mut h = HallState::new(hall_id());
    let m1 = machine("M-1");
    let m2 = machine("M-2");
    apply(&mut h, &delta(&m1, 1, 0, 100, 0, 1));
    apply(&mut h, &delta(&m2, 1, 0, 50, 0, 1));
    apply(&mut h, &delta(&m1, 2, 0, 10, 0, 0));
    // A repeat is no new delta.
    assert_eq!(
        apply(&mut h, &delta(&m2, 1, 0, 50, 0, 1)),
        Applied::Duplicate
    );
    apply(&mut h, &delta(&m2, 2, 2, 1, 0, 0));
    let mut out = Vec::new();
    h.close_windows(1, false, 100, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].carried.latest, Some(cause_of(&m1, 2)));
    assert_eq!(out[0].carried.count, 3);
    // A late delta: the revision names it and counts it alone.
    apply(&mut h, &delta(&m2, 3, 0, 5, 0, 0));
    let mut out = Vec::new();
    h.close_windows(1, false, 100, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].revision, out[0].carried.latest, out[0].carried.count),
        (1, Some(cause_of(&m2, 3)), 1)
    );
    // Closing everything publishes window 2 with its one delta.
    let mut out = Vec::new();
    h.close_windows(1, true, 100, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].window, out[0].carried.latest, out[0].carried.count),
        (w(2), Some(cause_of(&m2, 2)), 1)
    );
    // A recalled window names nothing until a delta revises it.
    let mut h2 = HallState::new(hall_id());
    h2.recalled(w(0), Some((totals(1, 0, 0), 0)));
    assert_eq!(
        (
            h2.windows[&w(0)].carried.latest,
            h2.windows[&w(0)].carried.count
        ),
        (None, 0)
    );
}
