//! The wallet state machine: a player's balance for online play (seamless wallet).
//!
//! Every command carries a transaction id and is applied at most once: a repeat within the
//! idempotency window returns the first answer (success or refusal) and changes nothing.

use std::collections::VecDeque;

use super::FastMap;

use super::error::{DomainError, Subject};
use super::ggr::GgrDelta;
use super::ids::{EventId, HallId, PlayerId, SourceKey, TxId};
use super::kinds::{Total, WalletOpKind};
use super::money::{add, Amount, Currency};
use super::time::Timestamp;

/// What a wallet command asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalletOp {
    /// Money in from outside (payment provider, cash desk).
    Deposit(Amount),
    /// Money out to the player.
    Withdraw(Amount),
    /// A wager (debit).
    Bet(Amount),
    /// A payout (credit), optionally naming the bet it settles.
    Win {
        /// The amount won.
        amount: Amount,
        /// The bet settled, if the game server says.
        bet_tx: Option<TxId>,
    },
    /// Cancel a bet: refund it if it was applied, or refuse it in advance if it was not.
    Rollback {
        /// The bet to cancel.
        bet_tx: TxId,
    },
}

impl WalletOp {
    /// Which operation, without its amount.
    pub fn kind(&self) -> WalletOpKind {
        match self {
            WalletOp::Deposit(_) => WalletOpKind::Deposit,
            WalletOp::Withdraw(_) => WalletOpKind::Withdrawal,
            WalletOp::Bet(_) => WalletOpKind::Bet,
            WalletOp::Win { .. } => WalletOpKind::Win,
            WalletOp::Rollback { .. } => WalletOpKind::Rollback,
        }
    }
}

/// A wallet command: an operation under a transaction id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletCommand {
    /// The idempotency key.
    pub tx: TxId,
    /// The operation.
    pub op: WalletOp,
}

/// What the envelope tells the wallet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletMeta {
    /// The input event's id.
    pub event_id: EventId,
    /// Event time.
    pub time: Timestamp,
    /// The hall (online brand) whose GGR the wallet's bets and wins count in.
    pub hall: HallId,
}

/// Running totals of a wallet, for reconciliation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WalletTotals {
    pub deposits: i64,
    /// Withdrawn.
    pub withdrawals: i64,
    /// Wagered (gross, before rollbacks).
    pub bets: i64,
    /// Won.
    pub wins: i64,
    /// Refunded by rollbacks.
    pub refunds: i64,
}

/// The kind of a remembered transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxKind {
    Deposit,
    Withdrawal,
    Win,
    /// A bet, with its amount and whether it has been rolled back.
    Bet {
        /// The amount wagered.
        amount: i64,
        /// Refunded by a rollback.
        rolled_back: bool,
    },
    /// A rollback, applied under its own transaction id.
    Rollback,
    /// A rollback arrived before its bet: the bet will be refused.
    Tombstone,
}

/// A remembered transaction and the answer it got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRecord {
    /// What it was.
    pub kind: TxKind,
    /// The first answer: the balance after it, or why it was refused.
    pub outcome: Result<i64, DomainError>,
}

/// The answer to a wallet command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletReply {
    /// The balance after the command (or at its first application, for a repeat).
    pub balance: i64,
    /// True when this was a repeat and nothing changed.
    pub repeat: bool,
}

/// Something the wallet's actor must do after an apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WalletEffect {
    /// Add to the hall's GGR.
    Ggr(GgrDelta),
    /// Publish the balance change.
    Changed {
        /// The transaction.
        tx: TxId,
        /// The operation.
        kind: WalletOpKind,
        /// Signed change of the balance.
        delta: i64,
        /// The balance after.
        balance: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletState {
    pub id: PlayerId,
    /// The wallet's currency (fixed by the first command).
    pub currency: Currency,
    /// Balance in minor units.
    pub balance: i64,
    /// How far below zero the balance may go (0 = no credit).
    pub credit_line: i64,
    /// Running totals.
    pub totals: WalletTotals,
    /// Count of applied money operations; sequences the wallet's GGR deltas.
    pub ops: u64,
    /// How many transaction ids are remembered.
    pub window_len: usize,
    /// Remembered transaction ids, oldest first.
    pub window_order: VecDeque<TxId>,
    /// Remembered transactions.
    pub window: FastMap<TxId, TxRecord>,
}

impl WalletState {
    /// An empty wallet.
    pub fn new(id: PlayerId, currency: Currency, credit_line: i64, window_len: usize) -> Self {
        Self {
            id,
            currency,
            balance: 0,
            credit_line: credit_line.max(0),
            totals: WalletTotals::default(),
            ops: 0,
            window_len: window_len.max(1),
            window_order: VecDeque::new(),
            window: FastMap::default(),
        }
    }

    fn remember(&mut self, tx: TxId, record: TxRecord) {
        if self.window.insert(tx.clone(), record).is_none() {
            self.window_order.push_back(tx);
        }
        while self.window_order.len() > self.window_len {
            if let Some(old) = self.window_order.pop_front() {
                self.window.remove(&old);
            }
        }
    }

    /// Applies a command. A repeated transaction id returns the first answer unchanged.
    pub fn apply(
        &mut self,
        meta: &WalletMeta,
        cmd: &WalletCommand,
        currency: Currency,
        fx: &mut Vec<WalletEffect>,
    ) -> Result<WalletReply, DomainError> {
        if let Some(rec) = self.window.get(&cmd.tx) {
            return match (&rec.kind, &cmd.op) {
                // A bet whose id holds a tombstone: refused, every time.
                (TxKind::Tombstone, WalletOp::Bet(_)) => Err(DomainError::BetRolledBack {
                    tx: cmd.tx.to_string(),
                    player: self.id.to_string(),
                }),
                (TxKind::Tombstone, _) => Err(DomainError::TxIdReused {
                    tx: cmd.tx.to_string(),
                    player: self.id.to_string(),
                }),
                _ => rec.outcome.clone().map(|balance| WalletReply {
                    balance,
                    repeat: true,
                }),
            };
        }
        if currency != self.currency {
            let err = DomainError::WrongCurrency {
                entity: Subject::Wallet(self.id.to_string()),
                expected: self.currency.to_string(),
                got: currency.to_string(),
            };
            return Err(err);
        }
        let result = self.apply_new(meta, cmd, fx);
        let kind = match &cmd.op {
            WalletOp::Bet(a) => TxKind::Bet {
                amount: a.minor(),
                rolled_back: false,
            },
            WalletOp::Rollback { .. } => TxKind::Rollback,
            WalletOp::Deposit(_) => TxKind::Deposit,
            WalletOp::Withdraw(_) => TxKind::Withdrawal,
            WalletOp::Win { .. } => TxKind::Win,
        };
        self.remember(
            cmd.tx.clone(),
            TxRecord {
                kind,
                outcome: result.clone(),
            },
        );
        result.map(|balance| WalletReply {
            balance,
            repeat: false,
        })
    }

    fn available(&self) -> i64 {
        self.balance + self.credit_line
    }

    fn ggr(&self, meta: &WalletMeta, bets: i64, wins: i64) -> WalletEffect {
        WalletEffect::Ggr(GgrDelta {
            source: SourceKey::Wallet(self.id.clone()),
            seq: self.ops,
            hall: meta.hall.clone(),
            window: meta.time.window_start(),
            bets,
            wins,
            games: 0,
            jackpots: 0,
        })
    }

    fn changed(&self, tx: &TxId, kind: WalletOpKind, delta: i64) -> WalletEffect {
        WalletEffect::Changed {
            tx: tx.clone(),
            kind,
            delta,
            balance: self.balance,
        }
    }

    fn apply_new(
        &mut self,
        meta: &WalletMeta,
        cmd: &WalletCommand,
        fx: &mut Vec<WalletEffect>,
    ) -> Result<i64, DomainError> {
        match &cmd.op {
            WalletOp::Deposit(a) => {
                let balance = add(self.balance, a.minor(), Total::WalletBalance)?;
                let deposits = add(self.totals.deposits, a.minor(), Total::WalletDeposits)?;
                self.balance = balance;
                self.totals.deposits = deposits;
                self.ops += 1;
                fx.push(self.changed(&cmd.tx, WalletOpKind::Deposit, a.minor()));
            }
            WalletOp::Withdraw(a) | WalletOp::Bet(a) => {
                let is_bet = matches!(cmd.op, WalletOp::Bet(_));
                let what = if is_bet {
                    WalletOpKind::Bet
                } else {
                    WalletOpKind::Withdrawal
                };
                if a.minor() > self.available() {
                    return Err(DomainError::InsufficientFunds {
                        what,
                        amount: a.minor(),
                        available: self.available(),
                        player: self.id.to_string(),
                    });
                }
                let total = if is_bet {
                    &mut self.totals.bets
                } else {
                    &mut self.totals.withdrawals
                };
                *total = add(*total, a.minor(), Total::WalletTotals)?;
                self.balance -= a.minor();
                self.ops += 1;
                if is_bet {
                    fx.push(self.ggr(meta, a.minor(), 0));
                }
                fx.push(self.changed(&cmd.tx, what, -a.minor()));
            }
            WalletOp::Win { amount, .. } => {
                let balance = add(self.balance, amount.minor(), Total::WalletBalance)?;
                let wins = add(self.totals.wins, amount.minor(), Total::WalletWins)?;
                self.balance = balance;
                self.totals.wins = wins;
                self.ops += 1;
                fx.push(self.ggr(meta, 0, amount.minor()));
                fx.push(self.changed(&cmd.tx, WalletOpKind::Win, amount.minor()));
            }
            WalletOp::Rollback { bet_tx } => {
                let refund = match self.window.get_mut(bet_tx) {
                    None => {
                        // The bet has not arrived (or is older than the window): leave a
                        // tombstone so the bet is refused if it turns up late.
                        self.remember(
                            bet_tx.clone(),
                            TxRecord {
                                kind: TxKind::Tombstone,
                                outcome: Ok(self.balance),
                            },
                        );
                        0
                    }
                    Some(rec) => match &mut rec.kind {
                        TxKind::Bet {
                            amount,
                            rolled_back,
                        } => {
                            if *rolled_back || rec.outcome.is_err() {
                                0
                            } else {
                                *rolled_back = true;
                                *amount
                            }
                        }
                        TxKind::Tombstone => 0,
                        _ => {
                            return Err(DomainError::RollbackOfNonBet {
                                tx: cmd.tx.to_string(),
                                bet_tx: bet_tx.to_string(),
                                player: self.id.to_string(),
                            })
                        }
                    },
                };
                if refund > 0 {
                    self.balance += refund;
                    self.totals.refunds += refund;
                    self.ops += 1;
                    fx.push(self.ggr(meta, -refund, 0));
                    fx.push(self.changed(&cmd.tx, WalletOpKind::Rollback, refund));
                }
            }
        }
        Ok(self.balance)
    }

    /// Checks the wallet's invariants; panics on a broken one.
    pub fn assert_invariants(&self) {
        let t = &self.totals;
        let expected = t.deposits - t.withdrawals - t.bets + t.wins + t.refunds;
        assert_eq!(
            self.balance, expected,
            "wallet {}: balance {} != deposits - withdrawals - bets + wins + refunds = {}",
            self.id, self.balance, expected
        );
        assert!(
            self.balance >= -self.credit_line,
            "wallet {}: balance {} below credit line {}",
            self.id,
            self.balance,
            self.credit_line
        );
        assert!(self.window_order.len() <= self.window_len);
        assert_eq!(self.window_order.len(), self.window.len());
    }
}
