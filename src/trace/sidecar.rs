//! The attention sidecar: `<trace stem>.attn.safetensors` beside the trace JSON.
//!
//! Tensors (all F32, row-major):
//! - `gen.audio_ratio`, `gen.sink_mass` `[generated tokens, layers, heads]`
//! - `gen.audio_map` `[generated tokens, layers, audio tokens]` (mean over heads)
//! - `gen.head_maps` `[generated tokens, layers, heads, audio tokens]` (only with per-head maps)
//! - `prompt.*`, the same for prompt tokens (only with prompt capture)
//!
//! Readable from Python with `safetensors.numpy.load_file`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::model::AttentionRows;
use crate::tensor_dump::{Dump, DumpTensor};

/// Schema id in the sidecar's metadata.
pub const SIDECAR_SCHEMA: &str = "auscult.attention/1";

/// `trace.json` → `trace.attn.safetensors`.
pub fn sidecar_path(trace_path: &Path) -> PathBuf {
    trace_path.with_extension("attn.safetensors")
}

/// The arrays of a sidecar, by group.
#[derive(Debug, Clone, PartialEq)]
pub struct SidecarArrays {
    pub generated: AttentionRows,
    pub prompt: Option<AttentionRows>,
}

fn push_rows(tensors: &mut Vec<(String, DumpTensor)>, prefix: &str, rows: &AttentionRows) {
    let (t, l, h, a) = (rows.rows, rows.layers, rows.heads, rows.audio_tokens);
    tensors.push((
        format!("{prefix}.audio_ratio"),
        DumpTensor::f32(vec![t, l, h], &rows.audio_ratio),
    ));
    tensors.push((
        format!("{prefix}.sink_mass"),
        DumpTensor::f32(vec![t, l, h], &rows.sink_mass),
    ));
    tensors.push((
        format!("{prefix}.audio_map"),
        DumpTensor::f32(vec![t, l, a], &rows.audio_map),
    ));
    if let Some(maps) = &rows.head_maps {
        tensors.push((
            format!("{prefix}.head_maps"),
            DumpTensor::f32(vec![t, l, h, a], maps),
        ));
    }
}

pub fn write_sidecar(path: &Path, arrays: &SidecarArrays) -> Result<()> {
    let mut tensors = Vec::new();
    push_rows(&mut tensors, "gen", &arrays.generated);
    if let Some(prompt) = &arrays.prompt {
        push_rows(&mut tensors, "prompt", prompt);
    }
    let metadata = HashMap::from([("schema".to_owned(), SIDECAR_SCHEMA.to_owned())]);
    crate::tensor_dump::write_dump(path, &tensors, metadata)
}

fn read_rows(dump: &Dump, prefix: &str) -> Result<Option<AttentionRows>> {
    let name = format!("{prefix}.audio_ratio");
    if !dump.has(&name) {
        return Ok(None);
    }
    let shape = dump.shape(&name)?;
    let map_shape = dump.shape(&format!("{prefix}.audio_map"))?;
    let head_maps_name = format!("{prefix}.head_maps");
    Ok(Some(AttentionRows {
        rows: shape[0],
        layers: shape[1],
        heads: shape[2],
        audio_tokens: map_shape[2],
        audio_ratio: dump.f32(&name)?,
        sink_mass: dump.f32(&format!("{prefix}.sink_mass"))?,
        audio_map: dump.f32(&format!("{prefix}.audio_map"))?,
        head_maps: if dump.has(&head_maps_name) {
            Some(dump.f32(&head_maps_name)?)
        } else {
            None
        },
    }))
}

pub fn read_sidecar(path: &Path) -> Result<SidecarArrays> {
    let dump = Dump::read(path)?;
    let generated = read_rows(&dump, "gen")?
        .with_context(|| format!("{}: no gen.audio_ratio tensor", path.display()))?;
    Ok(SidecarArrays {
        generated,
        prompt: read_rows(&dump, "prompt")?,
    })
}
