//! Sync: the hybrid logical clock, the op, and (in `changeset`) the files stations exchange.

pub mod changeset;
pub mod county;
pub mod digest;
pub mod exchange;
pub mod hlc;
pub mod op;
mod read_ahead;
pub mod relay;
pub mod review;
pub mod seal;
pub mod signing;
pub mod stream;
pub mod trust;

pub use hlc::{Hlc, HlcClock};
pub use op::{Op, OpId};
