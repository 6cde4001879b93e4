//! Village and township figures and the data-quality (疑点) list.

pub mod overview;
pub mod quality;
pub mod stats;
