//! The demo model's tokenizer: a word-level vocabulary over the synthetic tasks' text, with
//! byte-level pre-tokenization and decoding (as GPT-2 and Qwen do), so spaces, newlines and
//! numbers round-trip exactly, plus the chat and audio special tokens. It is written as a
//! standard `tokenizer.json` that Hugging Face `tokenizers` and transformers read.
//!
//! The JSON is assembled here rather than through the `tokenizers` builder API, whose word-level
//! vocabulary takes a hash map type the crate does not re-export; `tokenizers` then parses it
//! back, which checks it.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use serde_json::json;
use strum::IntoEnumIterator;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer, Tokenizer};

use super::prompts::PromptStyle;
use super::question::Item;

/// Items whose text makes the demo vocabulary: enough that fresh items have no unknown word.
pub const VOCABULARY_SEEDS: std::ops::Range<u64> = 0..2000;

/// The unknown-word token: id 0.
pub const UNKNOWN: &str = "<unk>";

/// Special tokens, in id order after the unknown token: the chat markers and the audio markers
/// of the Qwen2-Audio chat template.
pub const SPECIAL_TOKENS: [&str; 6] = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|audio_bos|>",
    "<|AUDIO|>",
    "<|audio_eos|>",
];

/// What the model reads and writes for an item asked in `style`, as the default chat template
/// renders it (the audio markers stand for the clip).
pub fn chat_text(item: &Item, style: PromptStyle) -> String {
    format!(
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n\
         Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n{}<|im_end|>\n<|im_start|>assistant\n{}<|im_end|>\n",
        style.user_prompt(item),
        style.target_text(item)
    )
}

/// The byte-level pieces of `text` outside its special tokens.
fn pieces(text: &str) -> Result<Vec<String>> {
    let mut plain = vec![text.to_owned()];
    for special in SPECIAL_TOKENS {
        plain = plain
            .iter()
            .flat_map(|part| part.split(special).map(str::to_owned).collect::<Vec<_>>())
            .collect();
    }
    let pre_tokenizer = ByteLevel::new(false, true, true);
    let mut pieces = Vec::new();
    for part in plain.iter().filter(|p| !p.is_empty()) {
        let mut split = PreTokenizedString::from(part.as_str());
        pre_tokenizer
            .pre_tokenize(&mut split)
            .map_err(|e| anyhow::anyhow!("pre-tokenizing {part:?}: {e}"))?;
        pieces.extend(
            split
                .get_splits(OffsetReferential::Original, OffsetType::Byte)
                .into_iter()
                .map(|(piece, _, _)| piece.to_owned()),
        );
    }
    Ok(pieces)
}

/// A tokenizer whose vocabulary is every piece of `groups`' texts: after the special tokens,
/// the first group's pieces in sorted order, then the pieces each later group adds, sorted. A
/// group added later leaves the earlier ids as they were, so a model trained on the earlier
/// vocabulary keeps its embeddings (`demo train --from`).
pub fn build_tokenizer(groups: &[Vec<String>]) -> Result<Tokenizer> {
    let mut vocab = serde_json::Map::new();
    vocab.insert(UNKNOWN.to_owned(), json!(0));
    for (i, special) in SPECIAL_TOKENS.iter().enumerate() {
        vocab.insert((*special).to_owned(), json!(i + 1));
    }
    for texts in groups {
        let mut words = BTreeSet::new();
        for text in texts {
            words.extend(pieces(text)?);
        }
        for word in words {
            let id = vocab.len();
            vocab.entry(word).or_insert(json!(id));
        }
    }
    let added: Vec<serde_json::Value> = std::iter::once(UNKNOWN)
        .chain(SPECIAL_TOKENS)
        .enumerate()
        .map(|(id, content)| {
            json!({"id": id, "content": content, "single_word": false, "lstrip": false,
                   "rstrip": false, "normalized": false, "special": true})
        })
        .collect();
    let byte_level = json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                            "use_regex": true});
    let file = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": null,
        "pre_tokenizer": byte_level,
        "post_processor": null,
        "decoder": byte_level,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": UNKNOWN},
    });
    file.to_string()
        .parse::<Tokenizer>()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the built tokenizer does not parse")
}

/// The demo tokenizer: the vocabulary of the items of `seeds` asked in every prompt style (the
/// demo's own first, then what the R1-AQA prompts add), which with a few thousand seeds covers
/// every word the phrasing can produce (the tests check fresh seeds).
pub fn demo_tokenizer(seeds: std::ops::Range<u64>) -> Result<Tokenizer> {
    let groups: Vec<Vec<String>> = PromptStyle::iter()
        .map(|style| {
            seeds
                .clone()
                .map(|seed| chat_text(&Item::generate(seed), style))
                .collect()
        })
        .collect();
    build_tokenizer(&groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_items_round_trip_without_unknown_words() {
        let tokenizer = demo_tokenizer(0..2000).unwrap();
        let vocab = tokenizer.get_vocab_size(true);
        assert!(vocab < 400, "a small vocabulary: {vocab}");
        for (i, special) in std::iter::once(UNKNOWN).chain(SPECIAL_TOKENS).enumerate() {
            assert_eq!(tokenizer.token_to_id(special), Some(i as u32), "{special}");
        }
        for (seed, style) in (1_000_000..1_000_300).zip(PromptStyle::iter().cycle()) {
            let text = chat_text(&Item::generate(seed), style);
            let encoding = tokenizer.encode(text.as_str(), false).unwrap();
            let ids = encoding.get_ids();
            assert!(!ids.contains(&0), "an unknown word in seed {seed}: {text}");
            let audio = tokenizer.token_to_id("<|AUDIO|>").unwrap();
            assert_eq!(ids.iter().filter(|&&id| id == audio).count(), 1);
            assert_eq!(tokenizer.decode(ids, false).unwrap(), text, "seed {seed}");
        }
        // Words split as expected: numbers by digit runs and points, newlines on their own.
        let encoding = tokenizer.encode("Sound 2 at 1.1 s:", false).unwrap();
        assert_eq!(
            encoding.get_tokens(),
            &["Sound", "Ġ2", "Ġat", "Ġ1", ".", "1", "Ġs", ":"]
        );
    }
}
