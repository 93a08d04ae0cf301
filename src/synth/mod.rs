//! Synthetic auditory reasoning tasks whose ground truth is known exactly: clips built from a
//! small event vocabulary (`events`), questions in benchmark form with reasoning targets in a
//! controlled phrasing (`question`, `phrasing`), the exact CAFE checker (`checker`), the prompts that ask them (`prompts`), the
//! word-level tokenizer over their text (`tokenizer`), and the demo model's checkpoint directory
//! (`demo_checkpoint`). They are what the bundled demo model learns from and is evaluated on.

pub mod benchmark_file;
pub mod checker;
pub mod demo_checkpoint;
pub mod evaluation;
pub mod events;
pub mod phrasing;
pub mod prompts;
pub mod question;
pub mod tokenizer;
pub mod training;
