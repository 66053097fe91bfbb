//! The AML case book (issue 13, RULES.md W-11): the cases this process's wallets opened, as the
//! output tee ([`TeeSink`](super::TeeSink)) saw them go to `pitboss.compliance`, for the
//! operator page and `GET /api/compliance/cases`.
//!
//! The compliance topic is the record: every case is there, with its evidence, under its
//! deterministic output id. The book is the operator's view of it: the newest
//! `aml-cases-kept` cases this process opened since it started, newest first, each once (a
//! replay after a crash opens the same case with the same id again; the book keeps one). A
//! restarted process starts with an empty book, and with several instances each lists the
//! cases of the wallets it owns.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use pitboss_actors::domain::aml::AmlCase;
use pitboss_actors::shell::Output;
use serde::Serialize;

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
}

impl CaseBrief {
    fn new(id: String, c: &AmlCase) -> Self {
        let evidence: Vec<EvidenceBrief> = c
            .evidence
            .iter()
            .map(|m| EvidenceBrief {
                event_id: m.cause.to_string(),
                amount_minor: m.amount,
                time_ms: m.at.0,
                direction: m.dir.name(),
                machine: m.machine.as_ref().map(|x| x.to_string()),
            })
            .collect();
        Self {
            id,
            player: c.player.to_string(),
            case: c.kind.name(),
            direction: c.dir.name(),
            day_ms: c.day.0,
            currency: c.currency.as_str().to_string(),
            total_minor: c.total,
            threshold_minor: c.threshold,
            at_ms: evidence.last().map_or(c.day.0, |e| e.time_ms),
            evidence,
            left_out: c.left_out,
        }
    }
}

/// A page of the book.
#[derive(Clone, Debug, Serialize)]
pub struct CasePage {
    /// Cases in the book (of the filter).
    pub total: usize,
    /// Cases opened since the start, evicted ones included.
    pub opened: u64,
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
}

impl CaseBook {
    /// A book of at most `max` cases (at least one).
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Takes an AML case output (others are ignored).
    pub fn record(&self, output: &Output) {
        let Output::AmlCase { case } = output else {
            return;
        };
        let id = crate::wire::output::encode_output(output).id.to_string();
        let mut inner = self.inner.lock().expect("case book lock");
        if inner.by_id.contains_key(&id) {
            return;
        }
        inner.opened += 1;
        inner
            .by_id
            .insert(id.clone(), CaseBrief::new(id.clone(), case));
        inner.order.push_back(id);
        while inner.order.len() > self.max {
            if let Some(old) = inner.order.pop_front() {
                inner.by_id.remove(&old);
            }
        }
    }

    /// The newest `limit` cases, of one player if asked.
    pub fn page(&self, player: Option<&str>, limit: usize) -> CasePage {
        let inner = self.inner.lock().expect("case book lock");
        let mut total = 0;
        let mut cases = Vec::new();
        for id in inner.order.iter().rev() {
            let c = &inner.by_id[id];
            if player.is_some_and(|p| p != c.player) {
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
            cases,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitboss_actors::domain::aml::{CaseKind, CashDir, CashMove};
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
        let p = book.page(None, 10);
        assert_eq!((p.total, p.opened), (1, 1));
        assert_eq!(p.cases[0].case, "log");
        assert_eq!(p.cases[0].at_ms, 60_000);
        assert_eq!(p.cases[0].evidence[0].amount_minor, 300_000);
        book.record(&case("P-2", CaseKind::Report, 0));
        book.record(&case("P-3", CaseKind::Log, 86_400_000));
        let p = book.page(None, 10);
        assert_eq!(p.opened, 3);
        let players: Vec<_> = p.cases.iter().map(|c| c.player.as_str()).collect();
        assert_eq!(players, ["P-3", "P-2"], "newest first, the oldest evicted");
        let p = book.page(Some("P-2"), 10);
        assert_eq!((p.total, p.cases.len()), (1, 1));
        assert_eq!(book.page(None, 1).cases.len(), 1);
        assert_eq!(book.page(None, 1).total, 2);
    }
}
