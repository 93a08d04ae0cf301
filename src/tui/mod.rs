//! The inspector: a terminal UI over traces. `state` holds what is shown and its one
//! `update(state, action)`; `action` names what keys and the mouse can ask for; `keys` is the key
//! table that drives dispatch and the help overlay; `filter` picks the examples of a traces file;
//! `layout` places each part for a terminal size; `mouse` resolves clicks with that layout;
//! `palette` and `spectrogram` turn values and the clip into colours; `view` draws the state into
//! a buffer; `clip` loads each example's clip; `live` runs the model in a worker thread, and
//! `model_worker` keeps a model loaded for the evidence asked from the inspector; `config`
//! reads the user's settings; `terminal` sets up and always restores the terminal; `app` is the
//! loop. All but `app` and `terminal` are tested without a terminal.

pub mod action;
pub mod app;
pub mod clip;
pub mod config;
pub mod filter;
pub mod keys;
pub mod layout;
pub mod live;
pub mod model_worker;
pub mod mouse;
pub mod palette;
pub mod spectrogram;
pub mod state;
pub mod terminal;
pub mod view;
