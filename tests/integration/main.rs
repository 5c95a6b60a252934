//! Integration tests: one test binary (faster to link than many), one module per subject.

mod reports;
