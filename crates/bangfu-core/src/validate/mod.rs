//! Validation of what users type and import: resident IDs, phones, codes, cross-field checks.
