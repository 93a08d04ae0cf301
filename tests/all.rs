//! Every integration test in one binary: each `tests/<name>.rs` (or `tests/<name>/mod.rs`) is a
//! module of it, so the suite links candle once instead of once per file (a cold `cargo test`
//! spent most of its time linking 26 test binaries). Run one file's tests with
//! `cargo test --test all <name>::`.

mod common;

mod architecture;
mod bad_input;
mod batch;
mod counterfactual_parity;
mod decode_formats;
mod demo_eval;
mod demo_model;
mod demo_train;
mod durable_writes;
mod evidence_cli;
mod example_assets;
mod figure;
mod inspect_bad_input;
mod inspector_pty;
mod judge;
mod labelling_pty;
mod labels;
mod live;
mod matcher;
mod mel_parity;
mod memory_check;
mod model_bad_input;
mod model_cli;
mod model_parity;
mod omni_cli;
mod python_made;
mod python_package;
mod python_report;
mod python_steps;
mod quantization_drift;
mod qwen3_omni_parity;
mod report_heads;
mod resampled_parity;
mod shape_real_parity;
mod steps;
mod terminal_loss;
mod trace_format;
