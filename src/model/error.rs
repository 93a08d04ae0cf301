//! Errors from loading a checkpoint and running the model. Each names the file it is about, so
//! the binary can print it as one line.

use std::path::PathBuf;

use super::family::supported_model_types;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },

    #[error(
        "{}: model_type {found:?} is not supported (supported: {})",
        path.display(),
        supported_model_types()
    )]
    UnsupportedModelType { path: PathBuf, found: String },

    #[error("{}: {message}", path.display())]
    Weights { path: PathBuf, message: String },

    #[error("{}: {message}", path.display())]
    Tokenizer { path: PathBuf, message: String },

    #[error("{}: chat template: {message}", path.display())]
    Template { path: PathBuf, message: String },

    #[error("{0}")]
    Input(String),

    #[error("model: {0}")]
    Candle(#[from] candle_core::Error),
}

impl ModelError {
    pub fn config(path: &std::path::Path, message: impl ToString) -> Self {
        Self::Config {
            path: path.to_owned(),
            message: message.to_string(),
        }
    }

    pub fn weights(path: &std::path::Path, message: impl ToString) -> Self {
        Self::Weights {
            path: path.to_owned(),
            message: message.to_string(),
        }
    }
}
