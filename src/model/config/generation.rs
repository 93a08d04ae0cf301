//! `generation_config.json`: the ids that end a generation, and the one-or-many reading of stop
//! ids that it shares with `config.json` (an id alone, a list, or null).

use std::path::Path;

use serde::Deserialize;

use super::read_text;
use crate::model::error::ModelError;

/// `generation_config.json`: the ids that end a generation. Missing file: no stop ids from it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GenerationConfig {
    #[serde(default, deserialize_with = "one_or_many")]
    pub eos_token_id: Vec<u32>,
}

impl GenerationConfig {
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        if !path.exists() {
            return Ok(Self::default());
        }
        let text = read_text(path)?;
        serde_json::from_str(&text).map_err(|e| ModelError::config(path, e))
    }
}

/// Stop ids written as one id, a list of ids, or null (none).
pub(super) fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(u32),
        Many(Vec<u32>),
        None,
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        Some(OneOrMany::One(id)) => vec![id],
        Some(OneOrMany::Many(ids)) => ids,
        Some(OneOrMany::None) | None => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eos_may_be_one_id_or_a_list() {
        let one: GenerationConfig = serde_json::from_str(r#"{"eos_token_id": 7}"#).unwrap();
        assert_eq!(one.eos_token_id, vec![7]);
        let many: GenerationConfig = serde_json::from_str(r#"{"eos_token_id": [7, 8]}"#).unwrap();
        assert_eq!(many.eos_token_id, vec![7, 8]);
    }
}
