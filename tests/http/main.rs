//! Integration tests of the HTTP side against a running `pitboss demo` and real peers from
//! Debian: the APIs, Prometheus scraping the metrics, the jackpot page in a headless
//! Chromium, and the deployment files checked with promtool. `scripts/test` installs the
//! peers; without them these tests fail, never skip.

mod support;

mod api;
mod browser;
mod census_restart;
mod deploy;
mod openapi;
mod prometheus;
mod transfer_sweep;
mod voucher_sweep;
