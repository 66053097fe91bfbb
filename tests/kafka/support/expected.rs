use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use pitboss::config::Config;
use pitboss::direct::Direct;
use pitboss::pipeline::{Inflight, Ingest, SourcePos};
use pitboss::rng::KeyedHitPoints;
use pitboss::wire;
use pitboss_actors::shell::{MemorySink, MemoryStore, Output, Runtime, Snapshot};

/// What a scenario must produce, from the reference processor and an in-process actor run
/// over the same messages.
#[derive(Debug, Default)]
pub struct Expected {
    /// Per hall: bets, wins, games (all time).
    pub halls: BTreeMap<String, (i64, i64, i64)>,
    /// Final balance per player.
    pub balances: BTreeMap<String, i64>,
    /// Output ids of wallet changes, alerts and refusals.
    pub wallet_ids: BTreeSet<String>,
    pub alert_ids: BTreeMap<String, &'static str>,
    pub refused_ids: BTreeSet<String>,
    /// Output ids of voucher answers, facts and expiries (lapsed holds left out), and the
    /// alerts that depend on the order of two input partitions, with their kinds (RULES.md V,
    /// W-9): see [`super::Outputs::check`].
    pub voucher_ids: BTreeSet<String>,
    pub crossing_alerts: BTreeMap<String, &'static str>,
    /// Messages rejected at the wire.
    pub rejected: usize,
}

/// Computes the expectations. Call inside an actix system (it runs the actors in process).
pub async fn expected(cfg: &Config, msgs: &[(String, Vec<u8>)]) -> Expected {
    let rc = cfg.runtime_config().expect("runtime config");
    let mut d = Direct::new(rc.clone(), &cfg.runtime.hit_point_secret);
    for (_, b) in msgs {
        if let Ok(input) = wire::decode_input(b) {
            d.apply(input);
        }
    }
    let mut e = Expected::default();
    for s in d.snapshots() {
        match s {
            Snapshot::Hall(h) => {
                e.halls.insert(
                    h.id.to_string(),
                    (h.totals.bets, h.totals.wins, h.totals.games),
                );
            }
            Snapshot::Wallet(w) => {
                e.balances.insert(w.id.to_string(), w.balance);
            }
            _ => {}
        }
    }
    let sink = Arc::new(MemorySink::default());
    let rt = Runtime::start(
        rc,
        sink.clone(),
        Arc::new(MemoryStore::default()),
        Arc::new(KeyedHitPoints::new(&cfg.runtime.hit_point_secret)),
        Arc::new(pitboss_actors::shell::SystemClock),
    );
    let ingest = Ingest::new(rt.clone());
    let inflight = Inflight::new(4096);
    for (i, chunk) in msgs.chunks(64).enumerate() {
        let ack = inflight.begin(chunk.len(), |_| {}).await;
        for (j, (k, b)) in chunk.iter().enumerate() {
            let pos = SourcePos {
                partition: 0,
                offset: (i * 64 + j) as i64,
            };
            ingest.process(b, Some(k.as_bytes()), pos, &ack).await;
        }
    }
    inflight.drained().await;
    rt.quiesce().await;
    for o in sink.take() {
        let id = wire::encode_output(&o).id.to_string();
        match o {
            Output::Wallet { .. } => {
                e.wallet_ids.insert(id);
            }
            Output::Alert { alert, .. } if super::outputs::cross_partition(alert.code()) => {
                e.crossing_alerts.insert(id, alert.code());
            }
            Output::Alert { alert, .. } => {
                e.alert_ids.insert(id, alert.code());
            }
            Output::Voucher { note, .. }
                if note.op != pitboss_actors::domain::VoucherOpKind::Release =>
            {
                e.voucher_ids.insert(id);
            }
            Output::Refused { .. } => {
                e.refused_ids.insert(id);
            }
            Output::Rejected { .. } => e.rejected += 1,
            _ => {}
        }
    }
    rt.stop();
    e
}
