//! Black-box tests of the hub over loopback: convergence of several villages through one hub,
//! cut connections and a killed hub, tokens, and what a village may never see.

// Test code: a failed setup step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

mod hub {
    mod access;
    mod archive;
    mod batching;
    mod convergence;
    mod county_list;
    mod county_settings;
    mod enrolment;
    mod hardening;
    mod load;
    mod moves;
    mod operations;
    mod processes;
    mod reenrol;
    mod resilience;
    mod signatures;
    mod snapshot;
    mod team;
    mod tls;
    mod updates;
}
