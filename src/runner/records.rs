//! The model's generation values as the trace records them: `model`'s runtime types
//! (`GenerateOptions`, `StoppedBy`, `Timings`) become `trace`'s stored ones here, so the model
//! knows nothing of the format and a change to either side is made in one conversion. (The
//! captured attention rows are stored as the model returns them: `trace::sidecar` writes
//! `model::AttentionRows`.)

use crate::model::{GenerateOptions, Sampling, StoppedBy, Timings};
use crate::trace::{CaptureSettings, Decoding, GenerationParams, StopReason, TraceTimings};

/// The settings a run generated with.
pub fn params_record(options: &GenerateOptions) -> GenerationParams {
    GenerationParams {
        decoding: match options.sampling {
            Sampling::Greedy => Decoding::Greedy,
            Sampling::Sample {
                temperature,
                top_p,
                top_k,
                seed,
            } => Decoding::Sample {
                temperature,
                top_p,
                top_k,
                seed,
            },
        },
        max_new_tokens: options.max_new_tokens,
        min_new_tokens: options.min_new_tokens,
        stop_ids: options.stop_ids.clone(),
        capture: CaptureSettings {
            enabled: options.capture.enabled,
            per_head_maps: options.capture.per_head_maps,
            prompt: options.capture.prompt,
        },
    }
}

/// Why the run stopped.
pub fn stop_record(stopped_by: StoppedBy) -> StopReason {
    match stopped_by {
        StoppedBy::StopToken => StopReason::StopToken,
        StoppedBy::MaxNewTokens => StopReason::MaxNewTokens,
        StoppedBy::Cancelled => StopReason::Cancelled,
    }
}

/// The run's timings: loading, then the generation's prefill and decode.
pub fn timings_record(load_seconds: f64, timings: &Timings) -> TraceTimings {
    TraceTimings {
        load_seconds,
        prefill_seconds: timings.prefill_seconds,
        audio_encoder_seconds: 0.0,
        decode_seconds: timings.decode_seconds,
        decode_tokens_per_second: timings.decode_tokens_per_second,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CaptureOptions;

    /// Every field of the options reaches the record (a new field must be added to both).
    #[test]
    fn the_record_keeps_every_setting() {
        let options = GenerateOptions {
            sampling: Sampling::Sample {
                temperature: 0.7,
                top_p: 0.9,
                top_k: 20,
                seed: 3,
            },
            max_new_tokens: 12,
            min_new_tokens: 2,
            stop_ids: vec![5, 6],
            capture: CaptureOptions {
                enabled: true,
                per_head_maps: true,
                prompt: false,
            },
        };
        let record = serde_json::to_value(params_record(&options)).unwrap();
        assert_eq!(
            record,
            serde_json::json!({
                "decoding": {"mode": "sample", "temperature": 0.7f32, "top_p": 0.9f32, "top_k": 20, "seed": 3},
                "max_new_tokens": 12, "min_new_tokens": 2, "stop_ids": [5, 6],
                "capture": {"enabled": true, "per_head_maps": true, "prompt": false}
            })
        );
        assert_eq!(stop_record(StoppedBy::Cancelled), StopReason::Cancelled);
    }
}
