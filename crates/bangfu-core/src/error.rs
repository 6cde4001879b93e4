//! How core errors reach people: a stable kind for code and a Chinese message for the user.

/// An error a village worker may see. `kind` is stable English for code and logs;
/// `message_zh` is what the screen shows.
pub trait UserFacing {
    fn kind(&self) -> &'static str;
    fn message_zh(&self) -> String;
}
