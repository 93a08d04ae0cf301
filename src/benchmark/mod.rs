//! Benchmarks: the prompts they are asked with and how their answers are extracted and scored.

pub mod answer;
pub mod prompt;
pub mod records;
