//! What an audit reads from CQL: every state, the whole ledger, every GGR window (or those of
//! a few days, by partition, for the gaming-day report).

use futures::StreamExt;
use pitboss_actors::domain::desk::DeskState;
use pitboss_actors::domain::{EventId, HallId, Timestamp};
use pitboss_actors::shell::ports::BoxFuture;
use pitboss_actors::shell::{LedgerEntry, Movement, Position, Snapshot, StoreError, Stored};
use scylla::value::CqlTimestamp;

use crate::store::audit::{AuditSource, Claim, LedgerSink};
use crate::store::codec::{self, GgrRow};
use crate::store::scylla::backend::{ggr_totals, Cql};
use crate::store::scylla::errors::cql;
use crate::store::scylla::statements::LedgerRow;
use crate::store::writebehind::Backend;

impl AuditSource for Cql {
    fn entities(&self) -> BoxFuture<Result<Vec<Stored>, StoreError>> {
        let me = self.handle();
        Box::pin(async move {
            let mut out = Vec::new();
            for stmt in me.st.scan_states.iter() {
                let mut rows = me
                    .session
                    .execute_iter(stmt.clone(), ())
                    .await
                    .map_err(cql("scanning states"))?
                    .rows_stream::<(Vec<u8>,)>()
                    .map_err(cql("scanning states"))?;
                while let Some(r) = rows.next().await {
                    let (state,) = r.map_err(cql("scanning states"))?;
                    let (snapshot, movements) = codec::decode_record(&state)?;
                    out.push(Stored {
                        snapshot,
                        movements,
                    });
                }
            }
            Ok(out)
        })
    }

    /// The desks table only.
    fn desks(&self) -> BoxFuture<Result<Vec<DeskState>, StoreError>> {
        let me = self.handle();
        Box::pin(async move {
            let mut rows = me
                .session
                .execute_iter(me.st.scan_desks.clone(), ())
                .await
                .map_err(cql("scanning desks"))?
                .rows_stream::<(Vec<u8>,)>()
                .map_err(cql("scanning desks"))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().await {
                let (state,) = r.map_err(cql("scanning desks"))?;
                if let (Snapshot::Desk(d), _) = codec::decode_record(&state)? {
                    out.push(d);
                }
            }
            Ok(out)
        })
    }

    fn scan_ledger(
        &self,
        mut totals: Box<dyn LedgerSink>,
    ) -> BoxFuture<Result<Box<dyn LedgerSink>, StoreError>> {
        let me = self.handle();
        Box::pin(async move {
            let mut rows = me
                .session
                .execute_iter(me.st.scan_ledger.clone(), ())
                .await
                .map_err(cql("scanning the ledger"))?
                .rows_stream::<LedgerRow>()
                .map_err(cql("scanning the ledger"))?;
            while let Some(r) = rows.next().await {
                let (kind, id, n, movement, level, amount, balance, cause, causes, time) =
                    r.map_err(cql("scanning the ledger"))?;
                let key = codec::entity_key(&kind, &id)?;
                let entry = LedgerEntry {
                    n: n as u64,
                    kind: Movement::from_code(&movement).ok_or_else(|| {
                        StoreError::permanent(format!(
                            "scylla: unknown ledger movement {movement:?}"
                        ))
                    })?,
                    level: level as u8,
                    amount,
                    balance,
                    cause: EventId(cause.as_u128()),
                    causes: causes as u32,
                    time: Timestamp(time.0),
                };
                totals.add(&key, &entry);
            }
            Ok(totals)
        })
    }

    fn positions(&self) -> BoxFuture<Result<Vec<Position>, StoreError>> {
        Backend::read_positions(self)
    }

    fn claims(&self) -> BoxFuture<Result<Option<Vec<Claim>>, StoreError>> {
        let me = self.handle();
        Box::pin(async move {
            let mut rows = me
                .session
                .execute_iter(me.st.scan_fences.clone(), ())
                .await
                .map_err(cql("scanning the fences"))?
                .rows_stream::<(String, i32, i64, String)>()
                .map_err(cql("scanning the fences"))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().await {
                let (topic, partition, fence, instance) = r.map_err(cql("scanning the fences"))?;
                out.push(Claim {
                    topic,
                    partition,
                    fence,
                    instance,
                });
            }
            Ok(Some(out))
        })
    }

    fn ggr_rows(&self) -> BoxFuture<Result<Option<Vec<GgrRow>>, StoreError>> {
        let me = self.handle();
        Box::pin(async move {
            let mut rows = me
                .session
                .execute_iter(me.st.scan_ggr.clone(), ())
                .await
                .map_err(cql("scanning GGR"))?
                .rows_stream::<(
                    String,
                    CqlTimestamp,
                    i64,
                    i64,
                    i64,
                    Option<i64>,
                    Option<i64>,
                    i32,
                )>()
                .map_err(cql("scanning GGR"))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().await {
                let (hall, window, bets, wins, games, jackpots, promo, revision) =
                    r.map_err(cql("scanning GGR"))?;
                let (totals, revision) = ggr_totals((bets, wins, games, jackpots, promo, revision));
                out.push(GgrRow {
                    hall: HallId::new(&hall)
                        .map_err(|e| StoreError::permanent(format!("GGR row: {e}")))?,
                    window: Timestamp(window.0),
                    totals,
                    revision,
                });
            }
            Ok(Some(out))
        })
    }

    /// By partition: the stored halls, then each hall's UTC days that `[from, to)` touches
    /// (the table's partition key is hall and UTC day; the rows are filtered here, as the
    /// test server cannot range over a clustering column). A report reads a few days of
    /// every hall, not every window ever stored.
    fn ggr_rows_between(
        &self,
        from: Timestamp,
        to: Timestamp,
        hall: Option<HallId>,
    ) -> BoxFuture<Result<Option<Vec<GgrRow>>, StoreError>> {
        const DAY_MS: i64 = 86_400_000;
        let me = self.handle();
        Box::pin(async move {
            let halls = match hall {
                Some(h) => vec![h],
                None => me.stored_halls().await?.into_iter().map(|h| h.id).collect(),
            };
            let mut out = Vec::new();
            for hall in &halls {
                let mut day = from.0.div_euclid(DAY_MS) * DAY_MS;
                while day < to.0 {
                    let mut rows = me
                        .session
                        .execute_iter(
                            me.st.read_ggr_day.clone(),
                            (hall.as_str(), codec::day_of(Timestamp(day))),
                        )
                        .await
                        .map_err(cql("reading a day of GGR windows"))?
                        .rows_stream::<(CqlTimestamp, i64, i64, i64, Option<i64>, Option<i64>, i32)>()
                        .map_err(cql("reading a day of GGR windows"))?;
                    while let Some(r) = rows.next().await {
                        let (window, bets, wins, games, jackpots, promo, revision) =
                            r.map_err(cql("reading a day of GGR windows"))?;
                        if window.0 < from.0 || window.0 >= to.0 {
                            continue;
                        }
                        let (totals, revision) =
                            ggr_totals((bets, wins, games, jackpots, promo, revision));
                        out.push(GgrRow {
                            hall: hall.clone(),
                            window: Timestamp(window.0),
                            totals,
                            revision,
                        });
                    }
                    day += DAY_MS;
                }
            }
            Ok(Some(out))
        })
    }
}
