//! Integration tests: one test binary, one module per area (faster to link than many).

mod verify;
