//! The machine (EGM) state machine: credits, meters, sequence check, play session, status.
//!
//! Money enters a machine by cash in (bills, tickets, cashless) and leaves by cash out
//! (tickets, cashless, handpay). Bets move credits to the house, wins move them back.
//! Jackpot awards are paid by the pool as a handpay: they pass the `jackpot_paid` meter and
//! leave the system without touching the credits.

use super::error::{DomainError, SessionError, Subject};
use super::ids::{EventId, HallId, MachineId, PlayerId, PoolId, SourceKey};
use super::kinds::{MachineOp, Total};
use super::money::{add, Amount, Currency};
use super::time::Timestamp;

pub use super::applied::Applied;
pub use super::ggr::GgrDelta;

/// How money entered a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CashInKind {
    /// A banknote in the bill validator.
    Bill,
    /// A TITO ticket redeemed at this machine.
    Ticket,
    /// An electronic transfer from a cashless account.
    Cashless,
}

/// How money left a machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CashOutKind {
    /// A TITO ticket printed by this machine.
    Ticket,
    /// An electronic transfer to a cashless account.
    Cashless,
    /// Paid by hand by an attendant.
    Handpay,
}

/// A significant (non-money) event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignificantEvent {
    /// A cabinet door opened.
    DoorOpen,
    /// A cabinet door closed.
    DoorClose,
    /// A tilt (fault) with the machine's code.
    Tilt(u32),
    /// The tilt was cleared.
    TiltClear,
    /// The machine lost communication with its host (reported by the hall gateway).
    CommsLost,
    /// Communication restored.
    CommsRestored,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MachineCommand {
    /// A wager: credits to the house, contributions to the machine's pools.
    Bet(Amount),
    /// A payout of the game in progress.
    Win(Amount),
    /// The game in progress ended.
    GameEnd,
    /// Money entered.
    CashIn(CashInKind, Amount),
    /// Money left.
    CashOut(CashOutKind, Amount),
    /// A player inserted a player card.
    CardIn(PlayerId),
    /// The player removed the card.
    CardOut,
    /// The machine reports a progressive hit on a level of a pool; the pool decides the amount.
    JackpotHit {
        pool: PoolId,
        /// The level index.
        level: u8,
    },
    Significant(SignificantEvent),
}

/// What the envelope of an input event tells the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventMeta {
    pub event_id: EventId,
    /// The source's sequence number.
    pub seq: u64,
    /// When the event happened at the source.
    pub time: Timestamp,
}

/// Meters, as G2S and SAS keep them. They never go backwards.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meters {
    /// Total wagered.
    pub coin_in: i64,
    /// Total won by games (not jackpots).
    pub coin_out: i64,
    /// Games played (counted at game end).
    pub games_played: i64,
    /// Games that paid something.
    pub games_won: i64,
    /// Bills accepted.
    pub bills_in: i64,
    /// Tickets redeemed.
    pub tickets_in: i64,
    /// Tickets printed.
    pub tickets_out: i64,
    /// Cashless transfers in.
    pub cashless_in: i64,
    /// Cashless transfers out.
    pub cashless_out: i64,
    /// Cash outs paid by hand (not jackpots).
    pub handpaid: i64,
    /// Jackpot awards paid (by hand) for hits on this machine.
    pub jackpot_paid: i64,
    /// Times a door was opened.
    pub doors_opened: i64,
}

impl Meters {
    /// Total cash in (bills, tickets, cashless).
    pub fn cash_in(&self) -> i64 {
        self.bills_in + self.tickets_in + self.cashless_in
    }

    /// Total cash out (tickets, cashless, handpay); jackpot awards excluded.
    pub fn cash_out(&self) -> i64 {
        self.tickets_out + self.cashless_out + self.handpaid
    }

    /// True when every meter is at least the one in `earlier`.
    pub fn dominates(&self, earlier: &Meters) -> bool {
        let a = self.as_array();
        let b = earlier.as_array();
        a.iter().zip(b.iter()).all(|(x, y)| x >= y)
    }

    fn as_array(&self) -> [i64; 12] {
        [
            self.coin_in,
            self.coin_out,
            self.games_played,
            self.games_won,
            self.bills_in,
            self.tickets_in,
            self.tickets_out,
            self.cashless_in,
            self.cashless_out,
            self.handpaid,
            self.jackpot_paid,
            self.doors_opened,
        ]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineStatus {
    /// Communicating with its host.
    pub online: bool,
    pub door_open: bool,
    /// In tilt, with the tilt code.
    pub tilt: Option<u32>,
}

impl Default for MachineStatus {
    fn default() -> Self {
        Self {
            online: true,
            door_open: false,
            tilt: None,
        }
    }
}

/// Static facts about a machine that the core needs: where it is and what it plays for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineProfile {
    /// The hall the machine stands in.
    pub hall: HallId,
    pub currency: Currency,
    /// Pools the machine contributes to (and may claim hits of).
    pub pools: Vec<PoolId>,
    /// Cash in at or above this amount raises an AML review alert (0 = never).
    pub large_cash_in_alert_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineState {
    pub id: MachineId,
    /// Hall, currency and pools.
    pub profile: MachineProfile,
    /// Credits on the machine, in minor units.
    pub credits: i64,
    pub meters: Meters,
    /// The last sequence number seen from this machine.
    pub last_seq: Option<u64>,
    pub status: MachineStatus,
    /// The carded-in player, if any.
    pub session: Option<PlayerId>,
    /// A game has been bet on and has not ended.
    pub game_open: bool,
    /// The open game paid something.
    pub game_won: bool,
    /// Event time of the last event applied.
    pub last_event_time: Timestamp,
    /// The last jackpot award applied per pool level (replay deduplication).
    pub awards: Vec<AwardMark>,
}

/// The last hit number of a pool level paid to a machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwardMark {
    pub pool: PoolId,
    /// The level index.
    pub level: u8,
    /// The pool level's hit number.
    pub hit_number: u64,
}

/// Something the machine's actor must do after an apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MachineEffect {
    /// Add to the hall's GGR window.
    Ggr(GgrDelta),
    /// A bet to contribute to a pool.
    Contribute { pool: PoolId, bet: Amount },
    /// A claimed progressive hit for the pool to pay.
    ClaimHit {
        pool: PoolId,
        /// The level index.
        level: u8,
    },
    /// An alert for the operators.
    Alert(Alert),
}

/// Operator alerts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Alert {
    /// Sequence numbers skipped.
    SequenceGap {
        machine: MachineId,
        /// The number expected.
        expected: u64,
        /// The number received.
        got: u64,
    },
    /// A large cash in for AML review.
    LargeCashIn { machine: MachineId, amount: i64 },
    /// A cabinet door opened.
    DoorOpen { machine: MachineId },
    /// The machine tilted.
    Tilt { machine: MachineId, code: u32 },
    /// The machine lost communication.
    CommsLost { machine: MachineId },
}

impl MachineState {
    /// A new machine with no credits and zero meters.
    pub fn new(id: MachineId, profile: MachineProfile) -> Self {
        Self {
            id,
            profile,
            credits: 0,
            meters: Meters::default(),
            last_seq: None,
            status: MachineStatus::default(),
            session: None,
            game_open: false,
            game_won: false,
            last_event_time: Timestamp::default(),
            awards: Vec::new(),
        }
    }

    /// Applies one input event, sent from `hall`.
    ///
    /// An event from another hall than the machine's is refused before anything else: it
    /// changes nothing, not even the sequence number (a machine does not move between halls;
    /// its profile and pools come from its hall). Then the sequence check: a number at or
    /// below the last one seen is a repeat and changes nothing. Otherwise the number is
    /// recorded even when the command is refused, so a refused command is refused once and
    /// its redelivery is recognised as a repeat. A refused command leaves every other part of
    /// the state unchanged.
    pub fn apply(
        &mut self,
        hall: &HallId,
        meta: &EventMeta,
        cmd: &MachineCommand,
        currency: Option<Currency>,
        fx: &mut Vec<MachineEffect>,
    ) -> Result<Applied, DomainError> {
        if *hall != self.profile.hall {
            return Err(DomainError::WrongHall {
                machine: self.id.to_string(),
                hall: self.profile.hall.to_string(),
                named: hall.to_string(),
            });
        }
        if let Some(last) = self.last_seq {
            if meta.seq <= last {
                return Ok(Applied::Duplicate);
            }
            if meta.seq > last + 1 {
                fx.push(MachineEffect::Alert(Alert::SequenceGap {
                    machine: self.id.clone(),
                    expected: last + 1,
                    got: meta.seq,
                }));
            }
        }
        self.last_seq = Some(meta.seq);
        if let Some(c) = currency {
            if c != self.profile.currency {
                return Err(DomainError::WrongCurrency {
                    entity: Subject::Machine(self.id.to_string()),
                    expected: self.profile.currency.to_string(),
                    got: c.to_string(),
                });
            }
        }
        self.apply_command(meta, cmd, fx)?;
        // Only once the command is applied: a refused command leaves the time alone too.
        if meta.time > self.last_event_time {
            self.last_event_time = meta.time;
        }
        Ok(Applied::Done)
    }

    fn ggr(&self, meta: &EventMeta, bets: i64, wins: i64, games: i64) -> MachineEffect {
        MachineEffect::Ggr(GgrDelta {
            source: SourceKey::Machine(self.id.clone()),
            seq: meta.seq,
            hall: self.profile.hall.clone(),
            window: meta.time.window_start(),
            bets,
            wins,
            games,
        })
    }

    fn apply_command(
        &mut self,
        meta: &EventMeta,
        cmd: &MachineCommand,
        fx: &mut Vec<MachineEffect>,
    ) -> Result<(), DomainError> {
        match cmd {
            MachineCommand::Bet(amount) => {
                let a = amount.minor();
                if a > self.credits {
                    return Err(DomainError::InsufficientCredits {
                        what: MachineOp::Bet,
                        amount: a,
                        credits: self.credits,
                        machine: self.id.to_string(),
                    });
                }
                let coin_in = add(self.meters.coin_in, a, Total::CoinInMeter)?;
                self.credits -= a;
                self.meters.coin_in = coin_in;
                if !self.game_open {
                    self.game_open = true;
                    self.game_won = false;
                }
                fx.push(self.ggr(meta, a, 0, 0));
                for pool in &self.profile.pools {
                    fx.push(MachineEffect::Contribute {
                        pool: pool.clone(),
                        bet: *amount,
                    });
                }
            }
            MachineCommand::Win(amount) => {
                if !self.game_open {
                    return Err(DomainError::NoGameInProgress {
                        what: MachineOp::Win,
                        machine: self.id.to_string(),
                    });
                }
                let a = amount.minor();
                let credits = add(self.credits, a, Total::Credits)?;
                let coin_out = add(self.meters.coin_out, a, Total::CoinOutMeter)?;
                self.credits = credits;
                self.meters.coin_out = coin_out;
                self.game_won = true;
                fx.push(self.ggr(meta, 0, a, 0));
            }
            MachineCommand::GameEnd => {
                if !self.game_open {
                    return Err(DomainError::NoGameInProgress {
                        what: MachineOp::GameEnd,
                        machine: self.id.to_string(),
                    });
                }
                self.meters.games_played += 1;
                if self.game_won {
                    self.meters.games_won += 1;
                }
                self.game_open = false;
                self.game_won = false;
                fx.push(self.ggr(meta, 0, 0, 1));
            }
            MachineCommand::CashIn(kind, amount) => {
                let a = amount.minor();
                let credits = add(self.credits, a, Total::Credits)?;
                let meter = match kind {
                    CashInKind::Bill => &mut self.meters.bills_in,
                    CashInKind::Ticket => &mut self.meters.tickets_in,
                    CashInKind::Cashless => &mut self.meters.cashless_in,
                };
                *meter = add(*meter, a, Total::CashInMeter)?;
                self.credits = credits;
                let threshold = self.profile.large_cash_in_alert_minor;
                if threshold > 0 && a >= threshold {
                    fx.push(MachineEffect::Alert(Alert::LargeCashIn {
                        machine: self.id.clone(),
                        amount: a,
                    }));
                }
            }
            MachineCommand::CashOut(kind, amount) => {
                let a = amount.minor();
                if a > self.credits {
                    return Err(DomainError::InsufficientCredits {
                        what: MachineOp::CashOut,
                        amount: a,
                        credits: self.credits,
                        machine: self.id.to_string(),
                    });
                }
                let meter = match kind {
                    CashOutKind::Ticket => &mut self.meters.tickets_out,
                    CashOutKind::Cashless => &mut self.meters.cashless_out,
                    CashOutKind::Handpay => &mut self.meters.handpaid,
                };
                *meter = add(*meter, a, Total::CashOutMeter)?;
                self.credits -= a;
            }
            MachineCommand::CardIn(player) => {
                if let Some(current) = &self.session {
                    if current != player {
                        return Err(DomainError::Session(SessionError::CardInWhileCarded {
                            machine: self.id.to_string(),
                            player: player.to_string(),
                            current: current.to_string(),
                        }));
                    }
                }
                self.session = Some(player.clone());
            }
            MachineCommand::CardOut => {
                if self.session.take().is_none() {
                    return Err(DomainError::Session(SessionError::CardOutWithNoPlayer {
                        machine: self.id.to_string(),
                    }));
                }
            }
            MachineCommand::JackpotHit { pool, level } => {
                if !self.profile.pools.contains(pool) {
                    return Err(DomainError::PoolNotLinked {
                        machine: self.id.to_string(),
                        pool: pool.to_string(),
                    });
                }
                fx.push(MachineEffect::ClaimHit {
                    pool: pool.clone(),
                    level: *level,
                });
            }
            MachineCommand::Significant(ev) => self.apply_significant(*ev, fx),
        }
        Ok(())
    }

    fn apply_significant(&mut self, ev: SignificantEvent, fx: &mut Vec<MachineEffect>) {
        match ev {
            SignificantEvent::DoorOpen => {
                if !self.status.door_open {
                    self.meters.doors_opened += 1;
                    fx.push(MachineEffect::Alert(Alert::DoorOpen {
                        machine: self.id.clone(),
                    }));
                }
                self.status.door_open = true;
            }
            SignificantEvent::DoorClose => self.status.door_open = false,
            SignificantEvent::Tilt(code) => {
                self.status.tilt = Some(code);
                fx.push(MachineEffect::Alert(Alert::Tilt {
                    machine: self.id.clone(),
                    code,
                }));
            }
            SignificantEvent::TiltClear => self.status.tilt = None,
            SignificantEvent::CommsLost => {
                if self.status.online {
                    fx.push(MachineEffect::Alert(Alert::CommsLost {
                        machine: self.id.clone(),
                    }));
                }
                self.status.online = false;
            }
            SignificantEvent::CommsRestored => self.status.online = true,
        }
    }

    /// Records a jackpot award paid (by hand) for a hit on this machine.
    ///
    /// Awards come from the pool actor, not from the machine's event stream, so they carry
    /// the pool level's hit number: hit numbers of one level only grow, and a number at or
    /// below the last one recorded for that level is a replay and changes nothing.
    pub fn apply_award(
        &mut self,
        pool: &PoolId,
        level: u8,
        hit_number: u64,
        amount: Amount,
    ) -> Result<Applied, DomainError> {
        let mark = self
            .awards
            .iter_mut()
            .find(|m| &m.pool == pool && m.level == level);
        if let Some(m) = &mark {
            if hit_number <= m.hit_number {
                return Ok(Applied::Duplicate);
            }
        }
        let paid = add(
            self.meters.jackpot_paid,
            amount.minor(),
            Total::JackpotPaidMeter,
        )?;
        self.meters.jackpot_paid = paid;
        match mark {
            Some(m) => m.hit_number = hit_number,
            None => self.awards.push(AwardMark {
                pool: pool.clone(),
                level,
                hit_number,
            }),
        }
        Ok(Applied::Done)
    }

    /// Checks the machine's invariants; panics on a broken one (a bug, not an error).
    pub fn assert_invariants(&self) {
        let expected = self.meters.cash_in() - self.meters.cash_out() - self.meters.coin_in
            + self.meters.coin_out;
        assert_eq!(
            self.credits, expected,
            "machine {}: credits {} != cash in - cash out - bets + wins = {}",
            self.id, self.credits, expected
        );
        assert!(self.credits >= 0, "machine {}: negative credits", self.id);
        assert!(
            self.meters.dominates(&Meters::default()),
            "machine {}: negative meter",
            self.id
        );
        assert!(self.meters.games_won <= self.meters.games_played);
    }
}
