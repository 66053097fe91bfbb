//! The AML case book (issue 13, RULES.md W-11): the cases on `pitboss.compliance` and their
//! closing by the compliance officers, for the operator page, `GET /api/compliance/cases`
//! and `POST /api/admin/compliance/cases/{id}/close`.
//!
//! The compliance topic is the record: every case is there, with its evidence, under its
//! deterministic output id, and every closing after its case (same key, the player). The
//! book is the operator's view of it: the newest `aml-cases-kept` cases, newest first, each
//! once (a replay after a crash opens the same case with the same id again; the book keeps
//! one), each open or closed (by whom, when, why). `pitboss run` feeds it from the topic,
//! read from its beginning ([`CaseBook::offer`]), so every instance lists every case and a
//! restarted one lists them again, closings included; the demo (no Kafka) feeds it from its
//! output tee ([`CaseBook::record`], [`TeeSink`](super::TeeSink)).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use pitboss_actors::shell::Output;
use serde::Serialize;

use crate::wire::{decode_output, AmlCasePayload, OutputEvent};

/// One cash move a case cites.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvidenceBrief {
    /// The input event.
    pub event_id: String,
    pub amount_minor: i64,
    /// ms since the epoch.
    pub time_ms: i64,
    /// `in` or `out`.
    pub direction: &'static str,
    /// The machine, absent for the wallet itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
}

/// One case, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseBrief {
    /// The output id on `pitboss.compliance`.
    pub id: String,
    pub player: String,
    /// `log`, `report` or `structuring`.
    pub case: &'static str,
    /// `in` or `out`.
    pub direction: &'static str,
    /// The start of the player's local day counted, ms since the epoch.
    pub day_ms: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// The day's total that way when it opened (structuring: the near-threshold cash-ins').
    pub total_minor: i64,
    pub threshold_minor: i64,
    /// The moves that make it, oldest first.
    pub evidence: Vec<EvidenceBrief>,
    /// Moves of the day that way beyond those cited.
    pub left_out: u32,
    /// When the newest cited move happened, ms since the epoch.
    pub at_ms: i64,
    /// `open` or `closed`.
    pub status: &'static str,
    /// Its closing, once closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<Closing>,
}

/// How a case was closed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Closing {
    /// The `aml_case_closed` output's id.
    pub id: String,
    pub reason: String,
    /// The admin key's name.
    pub operator: String,
    /// ms since the epoch.
    pub at_ms: i64,
}

/// The stable names of a case's kind and direction, as the wire writes them.
fn kind_name(s: &str) -> Option<&'static str> {
    ["log", "report", "structuring"]
        .into_iter()
        .find(|k| *k == s)
}

fn dir_name(s: &str) -> Option<&'static str> {
    ["in", "out"].into_iter().find(|d| *d == s)
}

impl CaseBrief {
    /// From the case as the topic holds it; `None` for a kind or direction this build does
    /// not know.
    fn of_payload(id: String, c: &AmlCasePayload<'_>) -> Option<Self> {
        let mut evidence = Vec::with_capacity(c.evidence.len());
        for m in &c.evidence {
            evidence.push(EvidenceBrief {
                event_id: m.event_id.to_string(),
                amount_minor: m.amount,
                time_ms: m.time,
                direction: dir_name(&m.direction)?,
                machine: m.machine.as_ref().map(|x| x.to_string()),
            });
        }
        Some(Self {
            id,
            player: c.player.to_string(),
            case: kind_name(&c.case)?,
            direction: dir_name(&c.direction)?,
            day_ms: c.day,
            currency: c.currency.to_string(),
            total_minor: c.total,
            threshold_minor: c.threshold,
            at_ms: evidence.last().map_or(c.day, |e| e.time_ms),
            evidence,
            left_out: c.left_out,
            status: "open",
            closed: None,
        })
    }
}

/// Which cases a page lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Open,
    Closed,
    All,
}

impl Status {
    /// `open`, `closed` or `all`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Status::Open),
            "closed" => Some(Status::Closed),
            "all" => Some(Status::All),
            _ => None,
        }
    }

    fn admits(self, c: &CaseBrief) -> bool {
        match self {
            Status::All => true,
            Status::Open => c.closed.is_none(),
            Status::Closed => c.closed.is_some(),
        }
    }
}

/// A page of the book.
#[derive(Clone, Debug, Serialize)]
pub struct CasePage {
    /// Cases in the book (of the filter).
    pub total: usize,
    /// Cases the book took since the start, evicted ones included.
    pub opened: u64,
    /// Of those, closings it took.
    pub closed: u64,
    /// Newest first.
    pub cases: Vec<CaseBrief>,
}

/// The newest cases, by output id.
pub struct CaseBook {
    max: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_id: BTreeMap<String, CaseBrief>,
    /// Ids, oldest first.
    order: VecDeque<String>,
    opened: u64,
    closed: u64,
}

impl CaseBook {
    /// A book of at most `max` cases (at least one).
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes an AML case output of this process's runtime (others are ignored), as the
    /// topic will hold it.
    pub fn record(&self, output: &Output) {
        if matches!(output, Output::AmlCase { .. }) {
            self.offer(&crate::wire::output::encode_output(output).bytes);
        }
    }

    /// Takes a record of the compliance topic: a case, or a case's closing (others, and
    /// what does not decode, are ignored).
    pub fn offer(&self, bytes: &[u8]) {
        match decode_output(bytes) {
            Ok(OutputEvent::AmlCase(e)) => {
                let id = e.output_id.to_string();
                if self.lock().by_id.contains_key(&id) {
                    return;
                }
                if let Some(c) = CaseBrief::of_payload(id, &e.payload) {
                    self.insert(c);
                }
            }
            Ok(OutputEvent::AmlCaseClosed(e)) => {
                let p = e.payload;
                self.close(
                    &p.case_id,
                    Closing {
                        id: e.output_id.to_string(),
                        reason: p.reason.to_string(),
                        operator: p.operator.to_string(),
                        at_ms: p.closed_at,
                    },
                );
            }
            _ => {}
        }
    }

    fn insert(&self, case: CaseBrief) {
        let mut inner = self.lock();
        inner.opened += 1;
        let id = case.id.clone();
        inner.by_id.insert(id.clone(), case);
        inner.order.push_back(id);
        while inner.order.len() > self.max {
            if let Some(old) = inner.order.pop_front() {
                inner.by_id.remove(&old);
            }
        }
    }

    /// Closes case `id` if the book has it open; whether it did. A case closed already
    /// keeps its first closing.
    pub fn close(&self, id: &str, closing: Closing) -> bool {
        let mut inner = self.lock();
        let Some(c) = inner.by_id.get_mut(id) else {
            return false;
        };
        if c.closed.is_some() {
            return false;
        }
        c.status = "closed";
        c.closed = Some(closing);
        inner.closed += 1;
        true
    }

    /// Case `id`, if the book has it.
    pub fn get(&self, id: &str) -> Option<CaseBrief> {
        self.lock().by_id.get(id).cloned()
    }

    /// The newest `limit` cases of `status`, of one player if asked.
    pub fn page(&self, player: Option<&str>, status: Status, limit: usize) -> CasePage {
        let inner = self.lock();
        let mut total = 0;
        let mut cases = Vec::new();
        for id in inner.order.iter().rev() {
            let c = &inner.by_id[id];
            if player.is_some_and(|p| p != c.player) || !status.admits(c) {
                continue;
            }
            total += 1;
            if cases.len() < limit {
                cases.push(c.clone());
            }
        }
        CasePage {
            total,
            opened: inner.opened,
            closed: inner.closed,
            cases,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitboss_actors::domain::aml::{AmlCase, CaseKind, CashDir, CashMove};
    use pitboss_actors::domain::{Currency, EventId, PlayerId, Timestamp};

    fn case(player: &str, kind: CaseKind, day: i64) -> Output {
        Output::AmlCase {
            case: Box::new(AmlCase {
                player: PlayerId::new(player).unwrap(),
                currency: Currency::new("EUR").unwrap(),
                kind,
                dir: CashDir::In,
                day: Timestamp(day),
                total: 300_000,
                threshold: 300_000,
                evidence: vec![CashMove {
                    cause: EventId(7),
                    amount: 300_000,
                    at: Timestamp(day + 60_000),
                    dir: CashDir::In,
                    machine: None,
                }],
                left_out: 0,
            }),
        }
    }

    #[test]
    fn the_book_keeps_each_case_once_newest_first_and_evicts_the_oldest() {
        let book = CaseBook::new(2);
        book.record(&case("P-1", CaseKind::Log, 0));
        book.record(&case("P-1", CaseKind::Log, 0)); // a replay: the same id
        let p = book.page(None, Status::All, 10);
        assert_eq!((p.total, p.opened), (1, 1));
        assert_eq!(p.cases[0].case, "log");
        assert_eq!(p.cases[0].at_ms, 60_000);
        assert_eq!(p.cases[0].evidence[0].amount_minor, 300_000);
        book.record(&case("P-2", CaseKind::Report, 0));
        book.record(&case("P-3", CaseKind::Log, 86_400_000));
        let p = book.page(None, Status::All, 10);
        assert_eq!(p.opened, 3);
        let players: Vec<_> = p.cases.iter().map(|c| c.player.as_str()).collect();
        assert_eq!(players, ["P-3", "P-2"], "newest first, the oldest evicted");
        let p = book.page(Some("P-2"), Status::All, 10);
        assert_eq!((p.total, p.cases.len()), (1, 1));
        assert_eq!(book.page(None, Status::All, 1).cases.len(), 1);
        assert_eq!(book.page(None, Status::All, 1).total, 2);
    }

    /// The topic's records build the same book as the tee's outputs, and a closing closes
    /// its case once (the first closing stands), whichever instance reads it.
    #[test]
    fn the_topic_builds_the_book_and_a_closing_closes_its_case_once() {
        let (tee, topic) = (CaseBook::new(10), CaseBook::new(10));
        let out = case("P-1", CaseKind::Report, 0);
        tee.record(&out);
        let rec = crate::wire::encode_output(&out);
        topic.offer(&rec.bytes);
        topic.offer(&rec.bytes); // read twice (a replayed case): one case
        let (a, b) = (
            tee.page(None, Status::All, 10),
            topic.page(None, Status::All, 10),
        );
        assert_eq!(a.cases, b.cases);
        assert_eq!(b.total, 1);
        let id = rec.id.to_string();
        assert_eq!(topic.get(&id).unwrap().status, "open");

        let closing = |reason: &str, at: i64| crate::wire::AmlCaseClosedPayload {
            case_id: id.clone().into(),
            player: "P-1".into(),
            reason: reason.to_owned().into(),
            operator: "compliance-1".into(),
            closed_at: at,
        };
        let first = crate::wire::encode_case_closed(&closing("documented", 5));
        topic.offer(&first.bytes);
        let later = crate::wire::encode_case_closed(&closing("again", 6));
        assert_ne!(later.id, first.id);
        topic.offer(&later.bytes);
        let c = topic.get(&id).unwrap();
        assert_eq!(c.status, "closed");
        let closed = c.closed.unwrap();
        assert_eq!(
            (closed.reason.as_str(), closed.at_ms, closed.id),
            ("documented", 5, first.id.to_string())
        );
        assert_eq!(topic.page(None, Status::Open, 10).total, 0);
        assert_eq!(topic.page(None, Status::Closed, 10).total, 1);
        assert_eq!(topic.page(None, Status::All, 10).closed, 1);
        // A closing of a case the book does not hold changes nothing.
        assert!(!tee.close("no-such-case", c_closing()));
    }

    fn c_closing() -> Closing {
        Closing {
            id: "x".into(),
            reason: "r".into(),
            operator: "o".into(),
            at_ms: 0,
        }
    }
}
