//! Village and township figures, exit readiness and the data-quality (疑点) list.

pub mod overview;
pub mod quality;
pub mod readiness;
pub mod stats;
