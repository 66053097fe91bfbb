//! Publishing each hall's gaming day when it closes, and again when a late event revises it
//! (issue 13, RULES.md H-5), on [`Topic::Reports`](crate::wire::Topic::Reports), with the
//! rows of its machines and the network's day so far (the halls that closed it).
//!
//! The publisher watches the GGR windows the runtime publishes ([`DayPublisher::observe`],
//! through [`DayTee`]). A hall closes its windows in order and publishes one only once a
//! checkpoint holding it is durable (H-2), so when a hall publishes its first window of a
//! new gaming day, every window of the day before is closed and stored: that day is due. A
//! window of an earlier day published later (a late event revised it, H-1) makes its day
//! due again. [`DayPublisher::tick`] reads each due hall day from the store, exactly as the
//! gaming-day report does (H-4), and publishes it unless this process already published
//! that very content.
//!
//! The output's id is named by its content (`wire::output`), so a day published again
//! unchanged (after a restart, or by another instance) has the same id, and a revised day a
//! new one: no id ever has two contents. Its `revision` is the sum of the day's window
//! revisions, which grows with every late correction. A process that starts publishes the
//! day before each hall's first window it sees again, in case its predecessor stopped
//! between that day's close and its publication.
//!
//! With a hall's day, [`DayPublisher::tick`] publishes its machines' rows (one pass over the
//! stored ledger per date and tick, `machines::read_machine_rows`) and then reads the
//! network's day of that date: the sum of the halls whose day the store shows closed, named
//! by its content, published when it differs from the last this process published.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use jiff::civil::Date;
use pitboss_actors::domain::{HallId, Timestamp};
use pitboss_actors::shell::{AckToken, EventSink, Output};
use uuid::Uuid;

use super::{machines, read_hall_day, read_network_day, DayRow, ReportError, Reports};
use crate::gaming_day::DayBounds;
use crate::wire::{
    encode_gaming_day, encode_gaming_day_machine, encode_gaming_day_network,
    GamingDayMachinePayload, GamingDayNetworkPayload, GamingDayPayload, OutputRecord,
};

/// Published days older than this many days before their hall's current day are forgotten
/// (a revision of such a day is still published: it is a new content).
const REMEMBERED_DAYS: i64 = 7;

/// Where published reports go (the Kafka sink in `pitboss run`).
pub type Publish = Box<dyn Fn(OutputRecord) + Send + Sync>;

/// The gaming-day publisher of one process.
pub struct DayPublisher {
    reports: Arc<Reports>,
    /// How far behind its newest window a hall closes its windows (`runtime.ggr-grace-windows`
    /// minutes), ms.
    grace_ms: i64,
    publish: Publish,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Per hall, the gaming day of the newest window it published, and its bounds.
    current: HashMap<HallId, (Date, DayBounds)>,
    /// Hall days to publish (or revise) at the next tick. `true`: the day of the first
    /// window a hall published since this process started (a late window of a closed day,
    /// or the hall's current day), published only if the store shows the day closed (a
    /// window stored past its end and the grace).
    due: BTreeMap<(Date, HallId), bool>,
    /// The id this process last published per hall day.
    published: HashMap<(HallId, Date), Uuid>,
    /// Per hall day, the id of the hall row whose machine rows this process published.
    machines: HashMap<(HallId, Date), Uuid>,
    /// The id this process last published per network day.
    network: HashMap<Date, Uuid>,
    /// Network days to read again (a read failed, or a hall day of them was published).
    network_due: std::collections::BTreeSet<Date>,
}

impl DayPublisher {
    /// A publisher reading from `reports`' store and handing records to `publish`; halls
    /// close their windows `grace_windows` windows behind their newest.
    pub fn new(reports: Arc<Reports>, grace_windows: i64, publish: Publish) -> Self {
        Self {
            reports,
            grace_ms: grace_windows.max(0) * pitboss_actors::domain::time::WINDOW_MS,
            publish,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A hall published the GGR window starting at `window`: marks the days this closes or
    /// revises as due. Cheap for a window of the hall's current day (a bounds check).
    pub fn observe(&self, hall: &HallId, window: Timestamp) {
        let mut s = self.lock();
        let current = s.current.get(hall).copied();
        if let Some((_, b)) = current {
            if window.0 >= b.start_ms && window.0 < b.end_ms {
                return;
            }
        }
        let rule = self.reports.days.rule(hall.as_str());
        let day = rule.day_of(window.0).and_then(|d| Ok((d, rule.bounds(d)?)));
        let (date, bounds) = match day {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(%hall, window = window.0, error = %e, "no gaming day for a GGR window");
                return;
            }
        };
        match current {
            None => {
                if let Ok(before) = date.yesterday() {
                    s.make_due(before, hall, false);
                }
                s.make_due(date, hall, true);
                s.current.insert(hall.clone(), (date, bounds));
            }
            Some((cur, _)) if date > cur => {
                s.make_due(cur, hall, false);
                s.current.insert(hall.clone(), (date, bounds));
            }
            Some(_) => s.make_due(date, hall, false),
        }
    }

    /// Hall days due and not yet read (those the store must show closed included).
    pub fn due(&self) -> usize {
        self.lock().due.len()
    }

    /// Reads every due hall day from the store and publishes those whose content this
    /// process has not published yet; returns how many it published. A day the store
    /// cannot be read for stays due (the next tick tries again); a day without data (a
    /// hall's first day) is dropped.
    pub async fn tick(&self) -> usize {
        let due = std::mem::take(&mut self.lock().due);
        let mut sent = 0;
        // Per date, the halls whose machine rows are to be published, with their row's id.
        let mut machines: BTreeMap<Date, Vec<(HallId, Uuid)>> = BTreeMap::new();
        for ((date, hall), if_closed) in due {
            let text = date.to_string();
            let r = &self.reports;
            let read = read_hall_day(&*r.source, &r.days, &text, hall.as_str(), &r.currency).await;
            let row = match read {
                Ok((row, newest)) => {
                    let end = r.days.rule(hall.as_str()).bounds(date).map(|b| b.end_ms);
                    if if_closed && end.is_ok_and(|end| newest < end + self.grace_ms) {
                        continue;
                    }
                    row
                }
                Err(ReportError::NoData(_)) => continue,
                Err(e) => {
                    tracing::warn!(%hall, date = %text, error = %e, "gaming-day report not read; trying again at the next tick");
                    self.lock().make_due(date, &hall, if_closed);
                    continue;
                }
            };
            let rec = encode_gaming_day(&payload(&row, &text, &r.currency));
            let mut s = self.lock();
            if s.machines.get(&(hall.clone(), date)) != Some(&rec.id) {
                machines
                    .entry(date)
                    .or_default()
                    .push((hall.clone(), rec.id));
            }
            if s.published.get(&(hall.clone(), date)) == Some(&rec.id) {
                continue;
            }
            s.published.insert((hall.clone(), date), rec.id);
            s.network_due.insert(date);
            drop(s);
            tracing::info!(%hall, date = %text, revision = row.revisions, "gaming-day report published");
            (self.publish)(rec);
            sent += 1;
        }
        for (date, halls) in machines {
            self.publish_machines(date, halls).await;
        }
        let network_due = std::mem::take(&mut self.lock().network_due);
        for date in network_due {
            self.publish_network(date).await;
        }
        self.forget_old();
        sent
    }

    /// Publishes the machine rows of `halls`' days of `date` (one pass over the stored
    /// ledger), each hall's after its row; a read that fails makes those hall days due again.
    async fn publish_machines(&self, date: Date, halls: Vec<(HallId, Uuid)>) {
        let text = date.to_string();
        let r = &self.reports;
        let rows = match machines::read_machine_rows(&*r.source, &r.days, &text, None, &r.holds)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(date = %text, error = %e, "gaming-day machine rows not read; trying again at the next tick");
                let mut s = self.lock();
                for (hall, _) in &halls {
                    s.make_due(date, hall, false);
                }
                return;
            }
        };
        for (hall, row_id) in halls {
            for m in rows.iter().filter(|m| m.hall == hall.as_str()) {
                (self.publish)(encode_gaming_day_machine(&machine_payload(
                    m,
                    &text,
                    &r.currency,
                )));
            }
            self.lock().machines.insert((hall, date), row_id);
        }
    }

    /// Publishes the network's day of `date` so far, unless this process published that
    /// content last; a read that fails keeps it due.
    async fn publish_network(&self, date: Date) {
        let text = date.to_string();
        let r = &self.reports;
        let read = read_network_day(&*r.source, &r.days, &text, &r.currency, self.grace_ms).await;
        let (row, closed, open) = match read {
            Ok(Some(n)) if n.1 > 0 => n,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(date = %text, error = %e, "network gaming day not read; trying again at the next tick");
                self.lock().network_due.insert(date);
                return;
            }
        };
        let rec =
            encode_gaming_day_network(&network_payload(&row, &text, &r.currency, closed, open));
        let mut s = self.lock();
        if s.network.get(&date) == Some(&rec.id) {
            return;
        }
        s.network.insert(date, rec.id);
        drop(s);
        tracing::info!(date = %text, halls_closed = closed, halls_open = open, "network gaming day published");
        (self.publish)(rec);
    }

    fn forget_old(&self) {
        let mut s = self.lock();
        let State {
            current,
            published,
            machines,
            network,
            ..
        } = &mut *s;
        let recent = |hall: &HallId, date: &Date| {
            current.get(hall).is_none_or(|(cur, _)| {
                cur.since(*date)
                    .map(|span| span.get_days() <= REMEMBERED_DAYS as i32)
                    .unwrap_or(true)
            })
        };
        published.retain(|(hall, date), _| recent(hall, date));
        machines.retain(|(hall, date), _| recent(hall, date));
        // The network's days as long as some hall's current day is that recent.
        let newest = current.values().map(|(d, _)| *d).max();
        network.retain(|date, _| {
            newest.is_none_or(|cur| {
                cur.since(*date)
                    .map(|span| span.get_days() <= REMEMBERED_DAYS as i32)
                    .unwrap_or(true)
            })
        });
    }
}

impl State {
    /// Makes a hall day due; `if_closed` only if nothing asked for it unconditionally.
    fn make_due(&mut self, date: Date, hall: &HallId, if_closed: bool) {
        let e = self.due.entry((date, hall.clone())).or_insert(if_closed);
        *e &= if_closed;
    }
}

/// The wire form of the network's row: `closed` halls summed, `open` ones not yet.
fn network_payload<'a>(
    row: &DayRow,
    date: &'a str,
    currency: &'a str,
    closed: u64,
    open: u64,
) -> GamingDayNetworkPayload<'a> {
    GamingDayNetworkPayload {
        date: date.into(),
        halls_closed: closed,
        halls_open: open,
        handle: row.handle_minor,
        wins: row.wins_minor,
        jackpots: row.jackpots_minor,
        promo: row.promo_minor,
        ggr: row.ggr_minor,
        net_win: row.net_win_minor,
        games: row.games,
        windows: row.windows,
        revision: row.revisions,
        currency: currency.into(),
    }
}

/// The wire form of a machine row.
fn machine_payload<'a>(
    m: &'a machines::MachineDayRow,
    date: &'a str,
    currency: &'a str,
) -> GamingDayMachinePayload<'a> {
    GamingDayMachinePayload {
        machine: m.machine.as_str().into(),
        hall: m.hall.as_str().into(),
        date: date.into(),
        coin_in: m.coin_in_minor,
        coin_out: m.coin_out_minor,
        handpaid_wins: m.handpaid_wins_minor,
        jackpots: m.jackpots_minor,
        promo_played: m.promo_played_minor,
        ggr: m.ggr_minor,
        net_win: m.net_win_minor,
        bills_in: m.bills_in_minor,
        tickets_in: m.tickets_in_minor,
        drop: m.drop_minor,
        tickets_out: m.tickets_out_minor,
        cashless_in: m.cashless_in_minor,
        cashless_out: m.cashless_out_minor,
        handpays: m.handpays_minor,
        restricted_in: m.restricted_in_minor,
        nonrestricted_in: m.nonrestricted_in_minor,
        theoretical_hold_percent: m.theoretical_hold_percent.as_str().into(),
        theoretical_win: m.theoretical_win_minor,
        hold_percent: m.hold_percent.as_str().into(),
        games: m.games,
        movements: m.movements,
        currency: currency.into(),
    }
}

/// The wire form of a hall row.
fn payload<'a>(row: &'a DayRow, date: &'a str, currency: &'a str) -> GamingDayPayload<'a> {
    GamingDayPayload {
        hall: row.hall.as_str().into(),
        date: date.into(),
        time_zone: row.time_zone.as_str().into(),
        day_start: row.day_start.as_str().into(),
        day_end: row.day_end.as_str().into(),
        minutes: row.minutes,
        handle: row.handle_minor,
        wins: row.wins_minor,
        jackpots: row.jackpots_minor,
        promo: row.promo_minor,
        ggr: row.ggr_minor,
        net_win: row.net_win_minor,
        games: row.games,
        windows: row.windows,
        revision: row.revisions,
        currency: currency.into(),
    }
}

/// Passes every output on to `inner`, and shows the publisher each GGR window.
pub struct DayTee {
    inner: Arc<dyn EventSink>,
    publisher: Arc<DayPublisher>,
}

impl DayTee {
    pub fn new(inner: Arc<dyn EventSink>, publisher: Arc<DayPublisher>) -> Self {
        Self { inner, publisher }
    }
}

impl EventSink for DayTee {
    fn emit(&self, output: Output, ack: &AckToken) {
        if let Output::Ggr { window, .. } = &output {
            self.publisher.observe(&window.hall, window.window);
        }
        self.inner.emit(output, ack);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gaming_day::{GamingDaySection, GamingDays};
    use crate::store::codec::GgrRow;
    use crate::store::{AuditSource, LedgerSink};
    use crate::wire::{decode_output, OutputEvent};
    use pitboss_actors::domain::ggr::GgrTotals;
    use pitboss_actors::shell::ports::BoxFuture;
    use pitboss_actors::shell::{StoreError, Stored};

    /// GGR windows held in memory, as a store would hold them; reads fail while `down`.
    #[derive(Default)]
    struct Rows {
        rows: Mutex<Vec<GgrRow>>,
        down: std::sync::atomic::AtomicBool,
    }

    impl AuditSource for Rows {
        fn entities(&self) -> BoxFuture<Result<Vec<Stored>, StoreError>> {
            Box::pin(async { Ok(Vec::new()) })
        }
        fn scan_ledger(
            &self,
            sink: Box<dyn LedgerSink>,
        ) -> BoxFuture<Result<Box<dyn LedgerSink>, StoreError>> {
            Box::pin(async move { Ok(sink) })
        }
        fn ggr_rows(&self) -> BoxFuture<Result<Option<Vec<GgrRow>>, StoreError>> {
            let down = self.down.load(std::sync::atomic::Ordering::Relaxed);
            let rows = self.rows.lock().unwrap().clone();
            Box::pin(async move {
                if down {
                    return Err(StoreError::transient("the store is down"));
                }
                Ok(Some(rows))
            })
        }
    }

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    fn hall() -> HallId {
        HallId::new("H-1").unwrap()
    }

    /// Vienna, rolling over at 06:00 (05:00Z in winter).
    fn publisher() -> (Arc<Rows>, Arc<Mutex<Vec<OutputRecord>>>, DayPublisher) {
        let rows = Arc::new(Rows::default());
        let sent = Arc::new(Mutex::new(Vec::new()));
        let days = GamingDays::new(&GamingDaySection {
            time_zone: "Europe/Vienna".into(),
            start: "06:00".into(),
            ..GamingDaySection::default()
        })
        .unwrap();
        let reports = Arc::new(Reports {
            source: rows.clone(),
            days,
            currency: "EUR".into(),
            holds: Default::default(),
            patron_time_zone: "UTC".into(),
            aml: Default::default(),
        });
        let out = sent.clone();
        let p = DayPublisher::new(reports, 2, Box::new(move |r| out.lock().unwrap().push(r)));
        (rows, sent, p)
    }

    fn store(rows: &Rows, at: &str, bets: i64, wins: i64, revision: u32) {
        store_in(rows, &hall(), at, bets, wins, revision);
    }

    fn store_in(rows: &Rows, hall: &HallId, at: &str, bets: i64, wins: i64, revision: u32) {
        let row = GgrRow {
            hall: hall.clone(),
            window: Timestamp(ms(at)),
            totals: GgrTotals {
                bets,
                wins,
                games: 1,
                jackpots: 0,
                promo: 0,
            },
            revision,
        };
        let mut v = rows.rows.lock().unwrap();
        v.retain(|r| !(r.hall == row.hall && r.window == row.window));
        v.push(row);
    }

    /// The halls' days published: date, revision, handle, GGR.
    fn days_sent(sent: &Mutex<Vec<OutputRecord>>) -> Vec<(String, u64, i64, i64)> {
        sent.lock()
            .unwrap()
            .iter()
            .filter_map(|r| match decode_output(&r.bytes).unwrap() {
                OutputEvent::GamingDay(e) => Some((
                    e.payload.date.to_string(),
                    e.payload.revision,
                    e.payload.handle,
                    e.payload.ggr,
                )),
                OutputEvent::GamingDayNetwork(_) => None,
                other => panic!("{}", other.kind()),
            })
            .collect()
    }

    /// The network's days published: date, halls closed, halls open, handle, revision.
    fn networks_sent(sent: &Mutex<Vec<OutputRecord>>) -> Vec<(String, u64, u64, i64, u64)> {
        sent.lock()
            .unwrap()
            .iter()
            .filter_map(|r| match decode_output(&r.bytes).unwrap() {
                OutputEvent::GamingDayNetwork(e) => Some((
                    e.payload.date.to_string(),
                    e.payload.halls_closed,
                    e.payload.halls_open,
                    e.payload.handle,
                    e.payload.revision,
                )),
                _ => None,
            })
            .collect()
    }

    fn block<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// RULES.md H-5: a day is published when its hall publishes a window of the next day,
    /// once; a late window revises it under a new id; a store that cannot be read keeps the
    /// day due; a new process publishes the day before its first window again, under the
    /// same id when nothing changed.
    #[test]
    fn a_day_is_published_at_its_close_and_at_each_revision() {
        let (rows, sent, p) = publisher();
        // 3 November 2026 in Vienna: 05:00Z to 05:00Z the next day.
        store(&rows, "2026-11-03T05:00:00Z", 1_000, 600, 0);
        store(&rows, "2026-11-04T04:59:00Z", 500, 0, 0);
        store(&rows, "2026-11-04T05:00:00Z", 7_000, 0, 0); // the 4th
        p.observe(&hall(), Timestamp(ms("2026-11-03T05:00:00Z")));
        p.observe(&hall(), Timestamp(ms("2026-11-04T04:59:00Z")));
        // The day before the first window seen: no data, nothing published.
        assert_eq!(block(p.tick()), 0);
        assert_eq!(p.due(), 0);
        p.observe(&hall(), Timestamp(ms("2026-11-04T05:00:00Z")));
        assert_eq!(p.due(), 1);
        assert_eq!(block(p.tick()), 1);
        assert_eq!(days_sent(&sent), [("2026-11-03".into(), 0, 1_500, 900)]);
        // Windows of the current day make nothing due.
        p.observe(&hall(), Timestamp(ms("2026-11-04T12:00:00Z")));
        assert_eq!(p.due(), 0);

        // A late event revises a window of the 3rd: the store cannot be read at first.
        store(&rows, "2026-11-03T05:00:00Z", 1_200, 600, 1);
        p.observe(&hall(), Timestamp(ms("2026-11-03T05:00:00Z")));
        rows.down.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(block(p.tick()), 0);
        assert_eq!(p.due(), 1, "still due");
        rows.down.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(block(p.tick()), 1);
        // The same day seen again unchanged: not published twice.
        p.observe(&hall(), Timestamp(ms("2026-11-03T05:00:00Z")));
        assert_eq!(block(p.tick()), 0);
        let got = days_sent(&sent);
        assert_eq!(got[1], ("2026-11-03".into(), 1, 1_700, 1_100));
        let ids: Vec<_> = sent.lock().unwrap().iter().map(|r| r.id).collect();
        assert_ne!(ids[0], ids[1]);

        // Another process: its first window is of the 4th, so it publishes the 3rd again, the
        // same content under the same id.
        let (rows2, sent2, p2) = publisher();
        *rows2.rows.lock().unwrap() = rows.rows.lock().unwrap().clone();
        p2.observe(&hall(), Timestamp(ms("2026-11-04T12:01:00Z")));
        assert_eq!(block(p2.tick()), 1);
        assert_eq!(sent2.lock().unwrap()[0], sent.lock().unwrap()[1]);

        // A process whose first window is a late one of the 3rd publishes the 3rd's
        // revision only if the store shows the 3rd closed (a window stored past its end and
        // the grace): a hall's current day is never published early. Otherwise the hall's
        // next window of the 4th makes the 3rd due.
        store(&rows, "2026-11-03T06:00:00Z", 50, 0, 1);
        let (rows3, sent3, p3) = publisher();
        *rows3.rows.lock().unwrap() = rows.rows.lock().unwrap().clone();
        p3.observe(&hall(), Timestamp(ms("2026-11-03T06:00:00Z")));
        assert_eq!(
            block(p3.tick()),
            0,
            "the newest stored window is within the grace"
        );
        p3.observe(&hall(), Timestamp(ms("2026-11-04T05:01:00Z")));
        assert_eq!(block(p3.tick()), 1);
        let revised = ("2026-11-03".into(), 2, 1_750, 1_150);
        assert_eq!(days_sent(&sent3), std::slice::from_ref(&revised));

        store(&rows, "2026-11-04T05:02:00Z", 10, 0, 0);
        let (rows4, sent4, p4) = publisher();
        *rows4.rows.lock().unwrap() = rows.rows.lock().unwrap().clone();
        p4.observe(&hall(), Timestamp(ms("2026-11-03T06:00:00Z")));
        assert_eq!(block(p4.tick()), 1);
        assert_eq!(days_sent(&sent4), [revised]);
    }

    /// RULES.md H-5: the network's day is published with each hall day that closes, summing
    /// the halls that closed it (and counting those that have not), under a new id each time
    /// its content changes; a hall day published again unchanged publishes no network row.
    #[test]
    fn the_networks_day_sums_the_halls_that_closed_it_as_they_close() {
        let (rows, sent, p) = publisher();
        let h2 = HallId::new("H-2").unwrap();
        store(&rows, "2026-11-03T06:00:00Z", 1_000, 600, 0);
        store_in(&rows, &h2, "2026-11-03T07:00:00Z", 300, 100, 0);
        // Hall 1 closes the 3rd; hall 2 has not.
        store(&rows, "2026-11-04T05:10:00Z", 10, 0, 0);
        p.observe(&hall(), Timestamp(ms("2026-11-04T05:10:00Z")));
        assert_eq!(block(p.tick()), 1);
        assert_eq!(
            networks_sent(&sent),
            [("2026-11-03".into(), 1, 1, 1_000, 0)]
        );
        // Hall 2 closes it too: the network's day holds both.
        store_in(&rows, &h2, "2026-11-04T05:20:00Z", 10, 0, 0);
        p.observe(&h2, Timestamp(ms("2026-11-04T05:20:00Z")));
        assert_eq!(block(p.tick()), 1);
        assert_eq!(
            networks_sent(&sent)[1],
            ("2026-11-03".into(), 2, 0, 1_300, 0)
        );
        // A late revision of hall 2's day revises the network's under a new id.
        store_in(&rows, &h2, "2026-11-03T07:00:00Z", 350, 100, 1);
        p.observe(&h2, Timestamp(ms("2026-11-03T07:00:00Z")));
        rows.down.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(block(p.tick()), 0, "the store is down: nothing read");
        rows.down.store(false, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(block(p.tick()), 1);
        let nets = networks_sent(&sent);
        assert_eq!(nets.len(), 3, "{nets:?}");
        assert_eq!(nets[2], ("2026-11-03".into(), 2, 0, 1_350, 1));
        let ids: std::collections::HashSet<_> = sent.lock().unwrap().iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), sent.lock().unwrap().len(), "no id twice");
        // Seen again unchanged: nothing more.
        p.observe(&h2, Timestamp(ms("2026-11-03T07:00:00Z")));
        assert_eq!(block(p.tick()), 0);
        assert_eq!(networks_sent(&sent).len(), 3);
        // Every network record is keyed by the network.
        assert!(sent
            .lock()
            .unwrap()
            .iter()
            .filter(|r| matches!(
                decode_output(&r.bytes),
                Ok(OutputEvent::GamingDayNetwork(_))
            ))
            .all(|r| r.key == "NETWORK"));
    }
}
