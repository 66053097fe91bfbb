//! A wallet's state as stored, with its idempotency window.

use std::collections::VecDeque;

use pitboss_actors::domain::wallet::{TxKind, TxRecord, WalletState, WalletTotals};
use pitboss_actors::domain::{DomainError, PlayerId, TxId, WalletOpKind};
use pitboss_actors::shell::StoreError;
use serde::{Deserialize, Serialize};

use crate::store::codec::fields::{currency, id, unknown};
use crate::store::codec::refusal::DomainErrorDto;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TxKindDto {
    Other(String),
    Bet { amount: i64, rolled_back: bool },
    Rollback,
    Tombstone,
}

#[derive(Serialize, Deserialize)]
struct TxDto {
    tx: String,
    kind: TxKindDto,
    outcome: Result<i64, DomainErrorDto>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct WalletDto {
    id: String,
    currency: String,
    balance: i64,
    credit_line: i64,
    deposits: i64,
    withdrawals: i64,
    bets: i64,
    wins: i64,
    refunds: i64,
    ops: u64,
    window_len: usize,
    /// The idempotency window, oldest first.
    window: Vec<TxDto>,
}

impl TryFrom<&WalletState> for WalletDto {
    type Error = StoreError;

    fn try_from(w: &WalletState) -> Result<Self, StoreError> {
        let window = w
            .window_order
            .iter()
            .map(|tx| {
                let rec = w.window.get(tx).ok_or_else(|| {
                    StoreError::permanent(format!(
                        "wallet {}: transaction {tx} is in the window order but not in the window",
                        w.id
                    ))
                })?;
                Ok(TxDto {
                    tx: tx.to_string(),
                    kind: match &rec.kind {
                        TxKind::Deposit => TxKindDto::Other(WalletOpKind::Deposit.name().into()),
                        TxKind::Withdrawal => {
                            TxKindDto::Other(WalletOpKind::Withdrawal.name().into())
                        }
                        TxKind::Win => TxKindDto::Other(WalletOpKind::Win.name().into()),
                        TxKind::Bet {
                            amount,
                            rolled_back,
                        } => TxKindDto::Bet {
                            amount: *amount,
                            rolled_back: *rolled_back,
                        },
                        TxKind::Rollback => TxKindDto::Rollback,
                        TxKind::Tombstone => TxKindDto::Tombstone,
                    },
                    outcome: rec.outcome.as_ref().map(|b| *b).map_err(Into::into),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        if w.window.len() != w.window_order.len() {
            return Err(StoreError::permanent(format!(
                "wallet {}: window holds {} transactions but its order {}",
                w.id,
                w.window.len(),
                w.window_order.len()
            )));
        }
        let t = &w.totals;
        Ok(Self {
            id: w.id.to_string(),
            currency: w.currency.to_string(),
            balance: w.balance,
            credit_line: w.credit_line,
            deposits: t.deposits,
            withdrawals: t.withdrawals,
            bets: t.bets,
            wins: t.wins,
            refunds: t.refunds,
            ops: w.ops,
            window_len: w.window_len,
            window,
        })
    }
}

impl TryFrom<WalletDto> for WalletState {
    type Error = StoreError;

    fn try_from(d: WalletDto) -> Result<Self, StoreError> {
        let mut order = VecDeque::with_capacity(d.window.len());
        let mut window = pitboss_actors::domain::FastMap::default();
        for t in d.window {
            let tx = id!(TxId, t.tx)?;
            let kind = match t.kind {
                TxKindDto::Other(k) => match WalletOpKind::from_name(&k) {
                    Some(WalletOpKind::Deposit) => TxKind::Deposit,
                    Some(WalletOpKind::Withdrawal) => TxKind::Withdrawal,
                    Some(WalletOpKind::Win) => TxKind::Win,
                    _ => return Err(unknown("transaction kind", &k)),
                },
                TxKindDto::Bet {
                    amount,
                    rolled_back,
                } => TxKind::Bet {
                    amount,
                    rolled_back,
                },
                TxKindDto::Rollback => TxKind::Rollback,
                TxKindDto::Tombstone => TxKind::Tombstone,
            };
            let outcome = match t.outcome {
                Ok(balance) => Ok(balance),
                Err(e) => Err(DomainError::try_from(e)?),
            };
            let rec = TxRecord { kind, outcome };
            if window.insert(tx.clone(), rec).is_some() {
                return Err(StoreError::permanent(format!(
                    "wallet {}: transaction {tx} appears twice in the stored window",
                    d.id
                )));
            }
            order.push_back(tx);
        }
        Ok(WalletState {
            id: id!(PlayerId, d.id)?,
            currency: currency(&d.currency)?,
            balance: d.balance,
            credit_line: d.credit_line,
            totals: WalletTotals {
                deposits: d.deposits,
                withdrawals: d.withdrawals,
                bets: d.bets,
                wins: d.wins,
                refunds: d.refunds,
            },
            ops: d.ops,
            window_len: d.window_len,
            window_order: order,
            window,
        })
    }
}
