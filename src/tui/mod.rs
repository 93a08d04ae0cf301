//! The inspector: a terminal UI over traces (issue 5). Built so far: its state and the one
//! `update(state, action)` that changes it, and the key table that drives both dispatch and the
//! help overlay. Rendering and the terminal loop come next; everything here is tested without a
//! terminal.

pub mod keys;
pub mod state;
