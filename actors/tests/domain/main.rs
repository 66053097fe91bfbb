//! The domain's tests in one binary: table-driven tests of each state machine, property
//! tests of the invariants, and the architecture rule that keeps the core pure. One binary
//! because each test binary is linked on its own, and linking dominates a test build on
//! two cores; a new test file becomes a module here.

mod architecture;
mod bonus_table;
mod desk_table;
mod ggr_table;
mod jackpot_table;
mod machine_table;
mod properties;
mod voucher_table;
mod wallet_table;
