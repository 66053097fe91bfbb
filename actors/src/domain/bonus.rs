//! A wallet's bonus account (RULES.md W-12): promotional money the player may only stake,
//! with a wagering requirement that turns it into cash and an expiry that ends it.

use super::time::Timestamp;

/// Which of cash and bonus pays a bet first (`runtime.wallet-bets-draw`, RULES.md W-12).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BetsDraw {
    /// The cash above zero pays first, then the bonus, then the credit line (the default).
    #[default]
    CashFirst,
    /// The bonus pays first, then the cash, then the credit line.
    BonusFirst,
}

impl BetsDraw {
    /// The configuration's name.
    pub fn name(self) -> &'static str {
        match self {
            BetsDraw::CashFirst => "cash-first",
            BetsDraw::BonusFirst => "bonus-first",
        }
    }

    /// The draw order of a configuration name, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        [BetsDraw::CashFirst, BetsDraw::BonusFirst]
            .into_iter()
            .find(|d| d.name() == name)
    }
}

/// The largest wagering multiple an award may ask for (RULES.md W-12).
pub const WAGERING_MAX: u32 = 100;

/// A wallet's bonus account (W-12). The totals count the bonus parts only: a bet's bonus
/// part in `staked`, a win's in `won`, a refund's in `refunded`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bonus {
    /// The bonus balance: stakeable, never paid out.
    pub balance: i64,
    /// What the player must still stake before the bonus becomes cash.
    pub wagering_left: i64,
    /// When the bonus expires (a balance at or after it is gone).
    pub expires: Timestamp,
    pub awarded: i64,
    pub staked: i64,
    pub won: i64,
    pub refunded: i64,
    /// Moved to the cash balance once its wagering was met.
    pub converted: i64,
    pub expired: i64,
    /// Paid to machines as restricted credits by acknowledged transfers (W-10, W-12).
    pub to_machines: i64,
}

/// A bet's draw on the accounts: what cash (the credit line included) and the bonus pay.
pub fn split(amount: i64, cash: i64, bonus: i64, draw: BetsDraw) -> (i64, i64) {
    let bonus_part = match draw {
        BetsDraw::CashFirst => (amount - cash.max(0).min(amount)).min(bonus.max(0)),
        BetsDraw::BonusFirst => amount.min(bonus.max(0)),
    };
    (amount - bonus_part, bonus_part)
}

/// A win's bonus part: the win split as its bet was, rounded down (W-12).
pub fn win_part(win: i64, bet: i64, bet_bonus: i64) -> i64 {
    if bet <= 0 || bet_bonus <= 0 {
        return 0;
    }
    let part = i128::from(win) * i128::from(bet_bonus) / i128::from(bet);
    i64::try_from(part).unwrap_or(win).min(win)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cash_first_draws_cash_above_zero_then_bonus_then_credit() {
        assert_eq!(split(100, 60, 30, BetsDraw::CashFirst), (70, 30));
        assert_eq!(split(100, 60, 50, BetsDraw::CashFirst), (60, 40));
        assert_eq!(split(100, -20, 50, BetsDraw::CashFirst), (50, 50));
        assert_eq!(split(100, 200, 50, BetsDraw::CashFirst), (100, 0));
        assert_eq!(split(100, 200, 50, BetsDraw::BonusFirst), (50, 50));
        assert_eq!(split(100, 0, 500, BetsDraw::BonusFirst), (0, 100));
    }

    #[test]
    fn a_win_is_split_as_its_bet_rounded_down() {
        assert_eq!(win_part(100, 30, 10), 33);
        assert_eq!(win_part(100, 30, 0), 0);
        assert_eq!(win_part(100, 30, 30), 100);
        assert_eq!(win_part(i64::MAX, 3, 2), 6_148_914_691_236_517_204);
    }
}
