//! Validation of what users type and import: resident IDs, phones, codes, cross-field checks.
//!
//! Every check is a pure function from a record (and, where the clock matters, today's date) to a
//! list of [`Issue`]s. Nothing here reads the store or the clock: the store decides when to call
//! which check and whether an `Error` blocks a save. An empty optional field is never an issue;
//! a field is only "required" where the forms or the county's import insist on it.
//!
//! Architecture Invariant: checks never drop or rewrite data. A duplicate ID or a strange income
//! is reported so that a person can look at it; only the person fixes it.
//!
//! Rule ids are stable English identifiers (the UI and reports may count and filter by them);
//! messages are Chinese, name the field's form label and quote the offending value.

pub mod phone;
pub mod resident_id;

#[cfg(test)]
mod tests;
