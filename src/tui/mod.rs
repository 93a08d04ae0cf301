//! The inspector: a terminal UI over traces. `state` holds what is shown and its one
//! `update(state, action)`; `keys` is the key table that drives dispatch and the help overlay;
//! `view` draws the state into a buffer; `app` is the terminal loop. All but `app` are tested
//! without a terminal.

pub mod app;
pub mod keys;
pub mod state;
pub mod view;
