//! auscult: a terminal inspector for audio-language models.
//!
//! It plays an audio clip, runs the model locally, and shows each step of the model's chain of
//! thought next to how much that step attended to each moment of the audio. This crate is the
//! library behind the `auscult` binary. Data flows one way, up through layers that each use only
//! those below: `audio` → `model` → `trace` (every type a trace file stores) → `benchmark`,
//! `runner` (a clip and a prompt to a filled trace), `example_traces` (hand-made ones) → `cafe` →
//! `report` → `synth` → `truth` → `figure` → `tui` → `cli`, with `durable`, `jsonl`,
//! `tensor_dump`, `contained` and `colour_scale` at the bottom. `docs/architecture.md` draws it
//! and says why; `tests/architecture.rs` fails if a module names one that names it back.

pub mod audio;
pub mod benchmark;
pub mod cafe;
pub mod cli;
pub mod colour_scale;
pub mod contained;
pub mod durable;
pub mod example_traces;
pub mod figure;
pub mod jsonl;
pub mod model;
#[cfg(test)]
mod properties;
pub mod report;
pub mod runner;
pub mod synth;
pub mod tensor_dump;
pub mod trace;
pub mod truth;
pub mod tui;
