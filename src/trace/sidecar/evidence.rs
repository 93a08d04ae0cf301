//! The sidecar's evidence arrays: what `model::reliance` measured for the generated tokens
//! (`T` of them, the rows of `gen.*`).
//!
//! - `reliance.actual.log_prob` F32 `[T]`: `log p(y_t | audio, prompt, y_<t)`, teacher-forced
//! - `reliance.actual.top1` I64 `[T]`: that row's most likely token
//! - `reliance.<counterfactual>.delta` F32 `[T]`: `log p(y_t | audio) − log p(y_t | counterfactual)`
//! - `reliance.<counterfactual>.kl` F32 `[T]`: `KL(p(· | audio) ‖ p(· | counterfactual))`, nats
//! - `reliance.<counterfactual>.top1` I64 `[T]`: the counterfactual's top-1 (a flip where it
//!   differs from `reliance.actual.top1`)
//! - `occlusion.delta`, `occlusion.kl` F32 `[T, windows]`: the same with one window of the clip
//!   zeroed (the windows, in seconds, are in the trace's `evidence.occlusion.windows`)
//!
//! `<counterfactual>` is `silence` or `masked`.

use anyhow::{bail, Result};

use crate::model::{ActualRows, ComparedRows, Counterfactual, Evidence, OcclusionRows};
use crate::tensor_dump::{Dump, DumpTensor};

const ACTUAL_LOG_PROB: &str = "reliance.actual.log_prob";

fn ids_i64(ids: &[u32]) -> Vec<i64> {
    ids.iter().map(|&id| i64::from(id)).collect()
}

/// Appends `evidence`'s arrays to `tensors`.
pub fn push_evidence(tensors: &mut Vec<(String, DumpTensor)>, evidence: &Evidence) {
    let t = evidence.tokens();
    let actual = &evidence.actual;
    tensors.push((
        ACTUAL_LOG_PROB.into(),
        DumpTensor::f32(vec![t], &actual.log_prob),
    ));
    tensors.push((
        "reliance.actual.top1".into(),
        DumpTensor::i64(vec![t], &ids_i64(&actual.top1)),
    ));
    for (counterfactual, rows) in &evidence.counterfactuals {
        let name = |array: &str| format!("reliance.{counterfactual}.{array}");
        tensors.push((name("delta"), DumpTensor::f32(vec![t], &rows.delta)));
        tensors.push((name("kl"), DumpTensor::f32(vec![t], &rows.kl)));
        tensors.push((name("top1"), DumpTensor::i64(vec![t], &ids_i64(&rows.top1))));
    }
    if let Some(occlusion) = &evidence.occlusion {
        let shape = vec![occlusion.tokens, occlusion.windows];
        tensors.push((
            "occlusion.delta".into(),
            DumpTensor::f32(shape.clone(), &occlusion.delta),
        ));
        tensors.push(("occlusion.kl".into(), DumpTensor::f32(shape, &occlusion.kl)));
    }
}

/// The evidence arrays of a sidecar whose `gen.*` hold `tokens` rows, if it has any; arrays of
/// another length are refused, naming the file.
pub fn read_evidence(dump: &Dump, tokens: usize, file: &str) -> Result<Option<Evidence>> {
    if !dump.has(ACTUAL_LOG_PROB) {
        return Ok(None);
    }
    let floats = |name: &str, len: usize| -> Result<Vec<f32>> {
        let values = dump.f32(name)?;
        if values.len() != len {
            bail!(
                "{file}: {name} holds {} values; the sidecar's {tokens} generated tokens need {len}",
                values.len()
            );
        }
        Ok(values)
    };
    let ids = |name: &str| -> Result<Vec<u32>> {
        let values = dump.i64(name)?;
        if values.len() != tokens {
            bail!(
                "{file}: {name} holds {} ids; the sidecar's {tokens} generated tokens need {tokens}",
                values.len()
            );
        }
        Ok(values.iter().map(|&id| id.max(0) as u32).collect())
    };
    let actual = ActualRows {
        log_prob: floats(ACTUAL_LOG_PROB, tokens)?,
        top1: ids("reliance.actual.top1")?,
    };
    let mut counterfactuals = Vec::new();
    for counterfactual in Counterfactual::ALL {
        let name = |array: &str| format!("reliance.{counterfactual}.{array}");
        if !dump.has(&name("delta")) {
            continue;
        }
        counterfactuals.push((
            counterfactual,
            ComparedRows {
                delta: floats(&name("delta"), tokens)?,
                kl: floats(&name("kl"), tokens)?,
                top1: ids(&name("top1"))?,
            },
        ));
    }
    let occlusion = if dump.has("occlusion.delta") {
        let shape = dump.shape("occlusion.delta")?;
        let &[rows, windows] = shape.as_slice() else {
            bail!("{file}: occlusion.delta has shape {shape:?}, not [tokens, windows]");
        };
        if rows != tokens {
            bail!("{file}: occlusion.delta has {rows} rows; the sidecar has {tokens} generated tokens");
        }
        Some(OcclusionRows {
            tokens,
            windows,
            delta: floats("occlusion.delta", tokens * windows)?,
            kl: floats("occlusion.kl", tokens * windows)?,
        })
    } else {
        None
    };
    Ok(Some(Evidence {
        actual,
        counterfactuals,
        occlusion,
    }))
}
