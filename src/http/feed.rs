//! The jackpot display feed: a [`TeeSink`] around the processor's sink hands jackpot levels
//! and hits to a [`JackpotFeed`], which publishes them to Server-Sent-Events clients
//! (`/api/jackpots/stream`).
//!
//! - Level updates are throttled per pool: the newest levels of a pool wait in `pending` and
//!   a flusher publishes each pool at most once per `feed-level-interval-ms`.
//! - Hits are published at once.
//! - `emit` never blocks on a client: events go through a bounded tokio broadcast channel. A
//!   client that falls behind loses the oldest events; it is then resynchronised with the
//!   newest levels of every pool and the recent hits it had not seen (kept in a bounded ring),
//!   so what it drops is old level updates.
//!
//! Every event is rendered to its SSE frame once, not once per client.
//!
//! The tee also hands AML cases to the feed's [`CaseBook`], the operator's list of them.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use pitboss_actors::shell::{AckToken, EventSink, LevelView, Output};
use serde::Serialize;
use tokio::sync::broadcast;

use super::cases::CaseBook;
use super::config::HttpConfig;
use super::error::ApiError;
use super::money::{format_minor, minor_digits};
use crate::telemetry;

/// One published feed event.
#[derive(Debug)]
pub struct FeedEvent {
    /// Position in the feed (increases by one per event).
    pub seq: u64,
    /// A hit (else: levels).
    pub is_hit: bool,
    /// The SSE frame (`id:`, `event:`, `data:` lines).
    pub frame: Bytes,
}

/// The `data` of a `levels` event.
#[derive(Serialize)]
struct LevelsData<'a> {
    seq: u64,
    pool: &'a str,
    currency: &'a str,
    digits: u32,
    levels: Vec<LevelData<'a>>,
}

#[derive(Serialize)]
struct LevelData<'a> {
    level: u8,
    name: &'a str,
    amount_minor: i64,
    amount: String,
    hits: u64,
}

/// The `data` of a `hit` event.
#[derive(Serialize)]
struct HitData<'a> {
    seq: u64,
    pool: &'a str,
    level: u8,
    name: &'a str,
    amount_minor: i64,
    amount: String,
    currency: &'a str,
    digits: u32,
    machine: &'a str,
    hit_number: u64,
    cause: String,
}

fn frame(seq: u64, event: &str, data: &impl Serialize) -> Bytes {
    let json = serde_json::to_string(data).expect("feed events serialize");
    Bytes::from(format!("id: {seq}\nevent: {event}\ndata: {json}\n\n"))
}

struct PendingLevels {
    currency: String,
    levels: Vec<LevelView>,
}

struct FeedInner {
    seq: u64,
    /// The last published levels event of each pool.
    latest: BTreeMap<String, Arc<FeedEvent>>,
    /// Levels waiting for the next flush, per pool (only the newest is kept).
    pending: BTreeMap<String, PendingLevels>,
    /// Recent hits, oldest first.
    hits: VecDeque<Arc<FeedEvent>>,
}

/// The feed: latest levels per pool, recent hits, and the broadcast channel to clients.
pub struct JackpotFeed {
    tx: broadcast::Sender<Arc<FeedEvent>>,
    inner: Mutex<FeedInner>,
    clients: AtomicUsize,
    level_interval: Duration,
    recent_hits_max: usize,
    clients_max: usize,
    keepalive: Duration,
    /// The AML cases the tee saw (RULES.md W-11), for `/api/compliance/cases`.
    pub cases: CaseBook,
}

impl JackpotFeed {
    /// A feed with the `[http]` settings.
    pub fn new(cfg: &HttpConfig) -> Arc<Self> {
        let (tx, _) = broadcast::channel(cfg.feed_buffer_len.max(1));
        Arc::new(Self {
            tx,
            inner: Mutex::new(FeedInner {
                seq: 0,
                latest: BTreeMap::new(),
                pending: BTreeMap::new(),
                hits: VecDeque::new(),
            }),
            clients: AtomicUsize::new(0),
            level_interval: Duration::from_millis(cfg.feed_level_interval_ms.max(1)),
            recent_hits_max: cfg.feed_recent_hits_max.max(1),
            clients_max: cfg.feed_clients_max,
            keepalive: Duration::from_millis(cfg.feed_keepalive_ms.max(100)),
            cases: CaseBook::new(cfg.aml_cases_kept),
        })
    }

    /// How often the flusher publishes pending levels.
    pub fn level_interval(&self) -> Duration {
        self.level_interval
    }

    /// Takes a jackpot output (others are ignored). Never blocks on clients.
    pub fn publish(&self, output: &Output) {
        match output {
            Output::JackpotLevels {
                pool,
                currency,
                levels,
                ..
            } => {
                let mut inner = self.inner.lock().expect("feed lock");
                inner.pending.insert(
                    pool.to_string(),
                    PendingLevels {
                        currency: currency.as_str().to_string(),
                        levels: levels.clone(),
                    },
                );
            }
            Output::JackpotHit { hit, currency } => {
                let mut inner = self.inner.lock().expect("feed lock");
                inner.seq += 1;
                let seq = inner.seq;
                let cur = currency.as_str();
                let data = HitData {
                    seq,
                    pool: hit.pool.as_str(),
                    level: hit.level,
                    name: &hit.name,
                    amount_minor: hit.amount.minor(),
                    amount: format_minor(hit.amount.minor(), cur),
                    currency: cur,
                    digits: minor_digits(cur),
                    machine: hit.machine.as_str(),
                    hit_number: hit.hit_number,
                    cause: hit.cause.to_string(),
                };
                let ev = Arc::new(FeedEvent {
                    seq,
                    is_hit: true,
                    frame: frame(seq, "hit", &data),
                });
                inner.hits.push_back(ev.clone());
                while inner.hits.len() > self.recent_hits_max {
                    inner.hits.pop_front();
                }
                // Sent under the lock so the channel's order is the order of `seq`.
                let _ = self.tx.send(ev);
            }
            _ => {}
        }
    }

    /// Publishes the pending levels of every pool (the flusher calls it every interval).
    pub fn flush_levels(&self) {
        let mut inner = self.inner.lock().expect("feed lock");
        let pending = std::mem::take(&mut inner.pending);
        for (pool, p) in pending {
            inner.seq += 1;
            let seq = inner.seq;
            let data = LevelsData {
                seq,
                pool: &pool,
                currency: &p.currency,
                digits: minor_digits(&p.currency),
                levels: p
                    .levels
                    .iter()
                    .map(|l| LevelData {
                        level: l.level,
                        name: &l.name,
                        amount_minor: l.amount,
                        amount: format_minor(l.amount, &p.currency),
                        hits: l.hits,
                    })
                    .collect(),
            };
            let ev = Arc::new(FeedEvent {
                seq,
                is_hit: false,
                frame: frame(seq, "levels", &data),
            });
            inner.latest.insert(pool, ev.clone());
            let _ = self.tx.send(ev);
        }
    }

    /// A receiver, and what a client needs first: the latest levels of every pool, and the
    /// feed position they reflect (events up to it are in the snapshot or older).
    fn subscribe(
        &self,
    ) -> (
        broadcast::Receiver<Arc<FeedEvent>>,
        Vec<Arc<FeedEvent>>,
        u64,
    ) {
        let inner = self.inner.lock().expect("feed lock");
        let rx = self.tx.subscribe();
        (rx, inner.latest.values().cloned().collect(), inner.seq)
    }

    /// After a client fell behind: the latest levels and the hits after `last_hit`.
    fn resync(&self, last_hit: u64) -> (Vec<Arc<FeedEvent>>, u64) {
        let inner = self.inner.lock().expect("feed lock");
        let mut out: Vec<Arc<FeedEvent>> = inner.latest.values().cloned().collect();
        out.extend(inner.hits.iter().filter(|h| h.seq > last_hit).cloned());
        (out, inner.seq)
    }

    /// Clients connected now.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }
}

/// An [`EventSink`] that forwards everything to `inner`, counts it in the metrics, and
/// hands jackpot levels and hits to the feed.
pub struct TeeSink {
    inner: Arc<dyn EventSink>,
    feed: Arc<JackpotFeed>,
}

impl TeeSink {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn EventSink>, feed: Arc<JackpotFeed>) -> Self {
        Self { inner, feed }
    }
}

impl EventSink for TeeSink {
    fn emit(&self, output: Output, ack: &AckToken) {
        telemetry::output_emitted(&output);
        if matches!(
            output,
            Output::JackpotLevels { .. } | Output::JackpotHit { .. }
        ) {
            self.feed.publish(&output);
        } else if matches!(output, Output::AmlCase { .. }) {
            self.feed.cases.record(&output);
        }
        self.inner.emit(output, ack);
    }
}

struct ClientGuard(Arc<JackpotFeed>);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        let n = self.0.clients.fetch_sub(1, Ordering::Relaxed) - 1;
        telemetry::feed_clients(n);
    }
}

struct Client {
    feed: Arc<JackpotFeed>,
    rx: broadcast::Receiver<Arc<FeedEvent>>,
    queue: VecDeque<Bytes>,
    /// Events at or below this position were sent (or superseded by what was sent).
    high: u64,
    last_hit: u64,
    keepalive: tokio::time::Interval,
    _guard: ClientGuard,
}

impl Client {
    fn enqueue(&mut self, events: Vec<Arc<FeedEvent>>, high: u64) {
        for e in events {
            if e.is_hit {
                self.last_hit = self.last_hit.max(e.seq);
            }
            self.queue.push_back(e.frame.clone());
        }
        self.high = self.high.max(high);
    }

    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        loop {
            if let Some(b) = self.queue.pop_front() {
                return Some((Ok(b), self));
            }
            tokio::select! {
                r = self.rx.recv() => match r {
                    Ok(ev) => {
                        if ev.seq <= self.high {
                            continue;
                        }
                        self.high = ev.seq;
                        if ev.is_hit {
                            self.last_hit = ev.seq;
                        }
                        return Some((Ok(ev.frame.clone()), self));
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        telemetry::feed_lagged();
                        let (events, high) = self.feed.resync(self.last_hit);
                        self.enqueue(events, high);
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.keepalive.tick() => {
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), self));
                }
            }
        }
    }
}

/// `GET /api/jackpots/stream`: Server-Sent Events. First the latest levels of every pool,
/// then `levels` events (throttled per pool) and `hit` events (at once), each with an `id:`
/// (the feed position) and JSON `data:`.
pub async fn stream(feed: web::Data<JackpotFeed>) -> Result<HttpResponse, ApiError> {
    let feed = feed.into_inner();
    let n = feed.clients.fetch_add(1, Ordering::Relaxed) + 1;
    let guard = ClientGuard(feed.clone());
    if n > feed.clients_max {
        return Err(ApiError {
            status: actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            message: format!("too many feed clients (at most {})", feed.clients_max),
        });
    }
    telemetry::feed_clients(n);
    let (rx, snapshot, high) = feed.subscribe();
    let mut keepalive = tokio::time::interval(feed.keepalive);
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    keepalive.reset();
    let mut client = Client {
        feed: feed.clone(),
        rx,
        queue: VecDeque::from([Bytes::from_static(b"retry: 2000\n\n")]),
        high: 0,
        last_hit: 0,
        keepalive,
        _guard: guard,
    };
    // Hits before the connection are not replayed: a display shows hits as they happen.
    client.last_hit = high;
    client.enqueue(snapshot, high);
    let body = futures::stream::unfold(client, Client::next);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pitboss_actors::domain::jackpot::JackpotHit;
    use pitboss_actors::domain::{Amount, Currency, EventId, MachineId, PoolId};

    fn levels(pool: &str, amount: i64) -> Output {
        Output::JackpotLevels {
            pool: PoolId::new(pool).unwrap(),
            currency: Currency::new("EUR").unwrap(),
            levels: vec![LevelView {
                level: 0,
                name: "mini".into(),
                amount,
                hits: 0,
            }],
            carried: Default::default(),
        }
    }

    fn hit(n: u64) -> Output {
        Output::JackpotHit {
            hit: JackpotHit {
                pool: PoolId::new("P").unwrap(),
                level: 0,
                name: "mini".into(),
                amount: Amount::new(12345).unwrap(),
                machine: MachineId::new("M-1").unwrap(),
                hit_number: n,
                cause: EventId(n as u128),
            },
            currency: Currency::new("EUR").unwrap(),
        }
    }

    fn text(e: &FeedEvent) -> String {
        String::from_utf8(e.frame.to_vec()).unwrap()
    }

    #[test]
    fn levels_are_throttled_per_pool_and_hits_are_immediate() {
        let feed = JackpotFeed::new(&HttpConfig::default());
        let mut rx = feed.tx.subscribe();
        for a in 100..110 {
            feed.publish(&levels("P", a));
        }
        feed.publish(&levels("Q", 7));
        assert!(rx.try_recv().is_err(), "levels wait for the flusher");
        feed.publish(&hit(1));
        let h = rx.try_recv().unwrap();
        assert!(h.is_hit);
        assert!(text(&h).contains("event: hit\n"), "{}", text(&h));
        assert!(text(&h).contains("\"amount\":\"123.45\""), "{}", text(&h));
        feed.flush_levels();
        let p = rx.try_recv().unwrap();
        let q = rx.try_recv().unwrap();
        assert!(rx.try_recv().is_err(), "one update per pool per interval");
        assert!(
            text(&p).contains("\"amount_minor\":109"),
            "only the newest: {}",
            text(&p)
        );
        assert!(text(&q).contains("\"pool\":\"Q\""));
        feed.flush_levels();
        assert!(rx.try_recv().is_err(), "nothing new, nothing sent");
    }

    #[test]
    fn a_lagging_client_never_blocks_and_resyncs_with_latest_levels_and_missed_hits() {
        let cfg = HttpConfig {
            feed_buffer_len: 4,
            ..HttpConfig::default()
        };
        let feed = JackpotFeed::new(&cfg);
        let (mut rx, _, _) = feed.subscribe();
        for i in 0..100 {
            feed.publish(&levels("P", i));
            feed.flush_levels();
        }
        feed.publish(&hit(1));
        assert!(matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
        let (events, high) = feed.resync(0);
        assert_eq!(high, 101);
        assert_eq!(events.len(), 2, "latest levels of P and the missed hit");
        assert!(text(&events[0]).contains("\"amount_minor\":99"));
        assert!(events[1].is_hit);
    }
}
