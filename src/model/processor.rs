//! The processor: from a clip and a prompt to the model's inputs, as `Qwen2AudioProcessor` does
//! (and the Qwen2.5-Omni and Qwen3-Omni processors for audio and text: the same steps, with their
//! own templates, audio tokens and front ends).
//!
//! The chat template is the checkpoint's own Jinja text, rendered with minijinja (never re-typed);
//! the rendered audio token (`<|AUDIO|>`, `<|audio_pad|>`: the tokenizer's token for
//! `config.json`'s id) is then expanded to the family's count for the clip (`AudioTokenRate`: 25
//! a second, or 13) and the text is tokenized with the checkpoint's `tokenizer.json`. The log-mel
//! features come from the audio layer with the checkpoint's `preprocessor_config.json` (or the
//! `feature_extractor` of its `processor_config.json`), padded to the front end's window or, for
//! Qwen3-Omni, not at all.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tokenizers::Tokenizer;

use super::audio_tokens::AudioTokenRate;
use super::config::read_text;
use super::error::ModelError;
use crate::audio::{LogMel, MelConfig, MelExtractor};

/// transformers' `Qwen2AudioProcessor.default_chat_template`, used when the checkpoint has none.
pub const DEFAULT_CHAT_TEMPLATE: &str = concat!(
    "{% set audio_count = namespace(value=0) %}",
    "{% for message in messages %}",
    "{% if loop.first and message['role'] != 'system' %}",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n",
    "{% endif %}",
    "<|im_start|>{{ message['role'] }}\n",
    "{% if message['content'] is string %}",
    "{{ message['content'] }}<|im_end|>\n",
    "{% else %}",
    "{% for content in message['content'] %}",
    "{% if 'audio' in content or 'audio_url' in content or message['type'] == 'audio' or content['type'] == 'audio' %}",
    "{% set audio_count.value = audio_count.value + 1 %}",
    "Audio {{ audio_count.value }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n",
    "{% elif 'text' in content %}",
    "{{ content['text'] }}",
    "{% endif %}",
    "{% endfor %}",
    "<|im_end|>\n",
    "{% endif %}",
    "{% endfor %}",
    "{% if add_generation_prompt %}",
    "<|im_start|>assistant\n",
    "{% endif %}"
);

/// Special-token strings from `processor_config.json`; without one, the audio token is the
/// tokenizer's token for `config.json`'s audio token id.
#[derive(Debug, Clone, Default, Deserialize)]
struct ProcessorConfig {
    #[serde(default)]
    audio_token: Option<String>,
}

/// The model's inputs for one clip and prompt.
#[derive(Debug, Clone)]
pub struct PreparedInput {
    /// The chat-templated text before audio-token expansion.
    pub rendered: String,
    /// Token ids after expansion: `(seq)`.
    pub input_ids: Vec<u32>,
    /// Positions of the `<|AUDIO|>` tokens: first, one past the last.
    pub audio_span: Range<usize>,
    /// Log-mel features of the full window.
    pub mel: LogMel,
    /// Mel frames that hold audio.
    pub valid_frames: usize,
}

pub struct Processor {
    tokenizer: Tokenizer,
    tokenizer_path: PathBuf,
    template: String,
    template_path: PathBuf,
    audio_token: String,
    audio_token_id: u32,
    /// How many audio tokens a clip becomes, and whether its features are padded.
    audio_tokens: AudioTokenRate,
    extractor: MelExtractor,
    /// Where the front-end settings came from (`None`: Qwen2-Audio's defaults).
    mel_source: Option<PathBuf>,
}

/// `tokenizer_config.json`'s `audio_token` (the named multimodal token transformers' Omni
/// processors read), if the file names one.
fn named_audio_token(dir: &Path) -> Result<Option<String>, ModelError> {
    let path = dir.join("tokenizer_config.json");
    if !path.exists() {
        return Ok(None);
    }
    let value: serde_json::Value =
        serde_json::from_str(&read_text(&path)?).map_err(|e| ModelError::config(&path, e))?;
    Ok(value
        .get("audio_token")
        .and_then(|token| token.as_str())
        .map(str::to_owned))
}

/// Reads `tokenizer.json`; the tokenizers library panics on some malformed files (a `decoder` or
/// `normalizer` of the wrong shape), which comes back as an error here.
fn load_tokenizer(path: &Path) -> Result<Tokenizer, ModelError> {
    let failed = |message: String| ModelError::Tokenizer {
        path: path.to_owned(),
        message: format!("cannot read the tokenizer ({message})"),
    };
    crate::contained::without_panics(|| Tokenizer::from_file(path))
        .map_err(|panic| failed(format!("the tokenizers library gave up on it: {panic}")))?
        .map_err(|error| failed(error.to_string()))
}

impl Processor {
    /// Loads the tokenizer, chat template and front-end settings of a checkpoint directory and
    /// checks that the tokenizer's audio token is the model's `audio_token_index`; a clip becomes
    /// `audio_tokens.count(frames)` of them.
    pub fn load(
        dir: &Path,
        audio_token_index: u32,
        audio_tokens: AudioTokenRate,
    ) -> Result<Self, ModelError> {
        let tokenizer_path = dir.join("tokenizer.json");
        if !tokenizer_path.exists() {
            return Err(ModelError::Io {
                path: tokenizer_path,
                error: std::io::ErrorKind::NotFound.into(),
            });
        }
        let tokenizer = load_tokenizer(&tokenizer_path)?;

        let processor_path = dir.join("processor_config.json");
        let processor: ProcessorConfig = if processor_path.exists() {
            serde_json::from_str(&read_text(&processor_path)?)
                .map_err(|e| ModelError::config(&processor_path, e))?
        } else {
            ProcessorConfig::default()
        };
        // As transformers: the processor's token, else the tokenizer's named `audio_token`
        // (tokenizer_config.json), else the token config.json's id names.
        let named = processor
            .audio_token
            .map_or_else(|| named_audio_token(dir), |token| Ok(Some(token)))?;
        let audio_token = match named {
            Some(token) => token,
            None => tokenizer.id_to_token(audio_token_index).ok_or_else(|| {
                ModelError::Tokenizer {
                    path: tokenizer_path.clone(),
                    message: format!(
                        "the tokenizer has no token {audio_token_index} (config.json's audio token id)"
                    ),
                }
            })?,
        };
        match tokenizer.token_to_id(&audio_token) {
            Some(id) if id == audio_token_index => {}
            Some(id) => {
                return Err(ModelError::Tokenizer {
                    path: tokenizer_path,
                    message: format!(
                        "{audio_token} has id {id}, but config.json's audio_token_index is {audio_token_index}"
                    ),
                })
            }
            None => {
                return Err(ModelError::Tokenizer {
                    path: tokenizer_path,
                    message: format!("the tokenizer has no {audio_token} token"),
                })
            }
        }

        let (template, template_path) = find_chat_template(dir)?;
        let (mel_config, mel_source) = find_front_end(dir)?;
        let mel_path = mel_source
            .clone()
            .unwrap_or_else(|| dir.join("preprocessor_config.json"));
        let extractor =
            MelExtractor::new(mel_config).map_err(|e| ModelError::config(&mel_path, e))?;
        let processor = Self {
            tokenizer,
            tokenizer_path,
            template,
            template_path,
            audio_token,
            audio_token_id: audio_token_index,
            audio_tokens,
            extractor,
            mel_source,
        };
        // A template that cannot render is reported at load, not on the first prompt.
        processor.render("", None)?;
        Ok(processor)
    }

    pub fn mel_config(&self) -> &MelConfig {
        self.extractor.config()
    }

    /// What the checkpoint lacked and Qwen2-Audio's defaults stood in for: the front-end
    /// settings, the chat template.
    pub fn defaults_used(&self) -> Vec<&'static str> {
        let mut used = Vec::new();
        if self.mel_source.is_none() {
            used.push("preprocessor_config.json (front-end settings)");
        }
        if self.template == DEFAULT_CHAT_TEMPLATE {
            used.push("a chat template");
        }
        used
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Renders the conversation: an optional system turn, then a user turn holding the audio and
    /// then `prompt` verbatim, then the assistant's generation prompt.
    pub fn render(&self, prompt: &str, system: Option<&str>) -> Result<String, ModelError> {
        let mut messages = Vec::new();
        if let Some(system) = system {
            messages.push(serde_json::json!({"role": "system", "content": system}));
        }
        messages.push(serde_json::json!({
            "role": "user",
            "content": [
                {"type": "audio", "audio_url": "audio"},
                {"type": "text", "text": prompt},
            ],
        }));
        let mut env = minijinja::Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function(
            "raise_exception",
            |message: String| -> Result<String, minijinja::Error> {
                Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    message,
                ))
            },
        );
        let template_error = |e: minijinja::Error| ModelError::Template {
            path: self.template_path.clone(),
            message: e.to_string(),
        };
        let template = env
            .template_from_str(&self.template)
            .map_err(template_error)?;
        template
            .render(minijinja::context! {
                messages => minijinja::Value::from(minijinja::value::Serde(&messages)),
                add_generation_prompt => true,
            })
            .map_err(template_error)
    }

    /// Builds the model inputs for a clip (mono samples at the model's rate) and a prompt.
    pub fn prepare(
        &self,
        samples: &[f32],
        prompt: &str,
        system: Option<&str>,
    ) -> Result<PreparedInput, ModelError> {
        let rendered = self.render(prompt, system)?;
        self.prepare_rendered(samples, rendered)
    }

    /// The inputs `input` was prepared with, for other samples (a counterfactual clip).
    pub fn prepare_like(
        &self,
        samples: &[f32],
        input: &PreparedInput,
    ) -> Result<PreparedInput, ModelError> {
        self.prepare_rendered(samples, input.rendered.clone())
    }

    /// The inputs for a clip and an already templated prompt.
    fn prepare_rendered(
        &self,
        samples: &[f32],
        rendered: String,
    ) -> Result<PreparedInput, ModelError> {
        let occurrences = rendered.matches(&self.audio_token).count();
        if occurrences != 1 {
            return Err(ModelError::Template {
                path: self.template_path.clone(),
                message: format!(
                    "the rendered prompt holds {occurrences} {} tokens; one clip needs exactly one",
                    self.audio_token
                ),
            });
        }
        let mel = if self.audio_tokens.pads_to_window() {
            self.extractor.extract(samples)
        } else {
            let config = self.extractor.config();
            if samples.len() < config.n_fft {
                return Err(ModelError::Input(format!(
                    "the clip is {} samples ({:.1} ms) long; this model's front end, which does \
                     not pad, needs at least one FFT window of {} samples ({:.0} ms)",
                    samples.len(),
                    samples.len() as f64 * 1000.0 / f64::from(config.sampling_rate),
                    config.n_fft,
                    config.n_fft as f64 * 1000.0 / f64::from(config.sampling_rate),
                )));
            }
            self.extractor.extract_unpadded(samples)
        };
        let valid_frames = mel.mask.iter().filter(|&&m| m != 0).count();
        let n_audio = self.audio_tokens.count(valid_frames);
        let expanded = rendered.replace(&self.audio_token, &self.audio_token.repeat(n_audio));
        let encoding = self
            .tokenizer
            .encode(expanded.as_str(), true)
            .map_err(|e| ModelError::Tokenizer {
                path: self.tokenizer_path.clone(),
                message: format!("cannot tokenize the prompt ({e})"),
            })?;
        let input_ids = encoding.get_ids().to_vec();
        let audio_span = contiguous_span(&input_ids, self.audio_token_id).ok_or_else(|| {
            ModelError::Tokenizer {
                path: self.tokenizer_path.clone(),
                message: format!(
                    "the {} tokens are not one contiguous run after tokenizing",
                    self.audio_token
                ),
            }
        })?;
        if audio_span.len() != n_audio {
            return Err(ModelError::Tokenizer {
                path: self.tokenizer_path.clone(),
                message: format!(
                    "{n_audio} {} tokens expected after tokenizing, found {}",
                    self.audio_token,
                    audio_span.len()
                ),
            });
        }
        Ok(PreparedInput {
            rendered,
            input_ids,
            audio_span,
            mel,
            valid_frames,
        })
    }

    /// Text of generated ids, special tokens left out.
    pub fn decode(&self, ids: &[u32]) -> Result<String, ModelError> {
        self.tokenizer
            .decode(ids, true)
            .map_err(|e| ModelError::Tokenizer {
                path: self.tokenizer_path.clone(),
                message: format!("cannot decode ids ({e})"),
            })
    }
}

/// Decodes generated ids one at a time into text pieces whose concatenation is the decoded
/// text, holding back a piece while it ends inside a multi-byte character (byte-level BPE).
pub struct TextStream<'a> {
    processor: &'a Processor,
    ids: Vec<u32>,
    emitted: usize,
}

impl<'a> TextStream<'a> {
    pub fn new(processor: &'a Processor) -> Self {
        Self {
            processor,
            ids: Vec::new(),
            emitted: 0,
        }
    }

    /// The text `id` adds (empty while a character is incomplete).
    pub fn push(&mut self, id: u32) -> Result<String, ModelError> {
        self.ids.push(id);
        let text = self.processor.decode(&self.ids)?;
        if text.ends_with('\u{FFFD}')
            || text.len() < self.emitted
            || !text.is_char_boundary(self.emitted)
        {
            return Ok(String::new());
        }
        let piece = text[self.emitted..].to_owned();
        self.emitted = text.len();
        Ok(piece)
    }

    /// What is still held back at the end of the generation.
    pub fn finish(&mut self) -> Result<String, ModelError> {
        let text = self.processor.decode(&self.ids)?;
        if text.len() < self.emitted || !text.is_char_boundary(self.emitted) {
            return Ok(String::new());
        }
        let piece = text[self.emitted..].to_owned();
        self.emitted = text.len();
        Ok(piece)
    }
}

/// The one run of `id` in `ids`, or `None` when it is absent or split.
fn contiguous_span(ids: &[u32], id: u32) -> Option<Range<usize>> {
    let start = ids.iter().position(|&t| t == id)?;
    let len = ids[start..].iter().take_while(|&&t| t == id).count();
    let end = start + len;
    if ids[end..].contains(&id) {
        return None;
    }
    Some(start..end)
}

/// The front-end settings: `preprocessor_config.json`, else the `feature_extractor` part of
/// `processor_config.json` (what transformers 5's `save_pretrained` writes instead), else
/// Qwen2-Audio's defaults (`None` as the source).
fn find_front_end(dir: &Path) -> Result<(MelConfig, Option<PathBuf>), ModelError> {
    let flat = dir.join("preprocessor_config.json");
    if flat.exists() {
        let config =
            MelConfig::from_preprocessor_config(&flat).map_err(|e| ModelError::config(&flat, e))?;
        return Ok((config, Some(flat)));
    }
    let nested = dir.join("processor_config.json");
    if nested.exists() {
        let value: serde_json::Value = serde_json::from_str(&read_text(&nested)?)
            .map_err(|e| ModelError::config(&nested, e))?;
        if let Some(settings) = value.get("feature_extractor") {
            let config: MelConfig = serde_json::from_value(settings.clone())
                .map_err(|e| ModelError::config(&nested, format!("feature_extractor: {e}")))?;
            config
                .validate()
                .map_err(|e| ModelError::config(&nested, format!("feature_extractor: {e}")))?;
            return Ok((config, Some(nested)));
        }
    }
    Ok((MelConfig::default(), None))
}

/// The checkpoint's chat template: `chat_template.jinja`, `chat_template.json`, then
/// `tokenizer_config.json`'s `chat_template`; the processor's default when none has one.
fn find_chat_template(dir: &Path) -> Result<(String, PathBuf), ModelError> {
    let jinja = dir.join("chat_template.jinja");
    if jinja.exists() {
        return Ok((read_text(&jinja)?, jinja));
    }
    for name in ["chat_template.json", "tokenizer_config.json"] {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(&read_text(&path)?).map_err(|e| ModelError::config(&path, e))?;
        match value.get("chat_template") {
            Some(serde_json::Value::String(text)) => return Ok((text.clone(), path)),
            // A list of named templates: the one called "default".
            Some(serde_json::Value::Array(named)) => {
                let default = named
                    .iter()
                    .find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"));
                if let Some(text) = default
                    .and_then(|t| t.get("template"))
                    .and_then(|t| t.as_str())
                {
                    return Ok((text.to_owned(), path));
                }
            }
            _ => {}
        }
    }
    Ok((
        DEFAULT_CHAT_TEMPLATE.to_owned(),
        PathBuf::from("(default chat template)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_span_must_be_one_run() {
        assert_eq!(contiguous_span(&[1, 5, 5, 5, 2], 5), Some(1..4));
        assert_eq!(contiguous_span(&[1, 5, 2, 5], 5), None);
        assert_eq!(contiguous_span(&[1, 2], 5), None);
    }
}
