//! Shared helpers of the black-box tests live in the test files themselves.
