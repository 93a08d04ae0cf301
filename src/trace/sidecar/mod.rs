//! The attention sidecar: `<trace stem>.attn.safetensors` beside the trace JSON.
//!
//! Tensors (all F32, row-major):
//! - `gen.audio_ratio`, `gen.sink_mass` `[generated tokens, layers, heads]`
//! - `gen.audio_map` `[generated tokens, layers, audio tokens]` (mean over heads)
//! - `gen.head_maps` `[generated tokens, layers, heads, audio tokens]` (only with per-head maps)
//! - `prompt.*`, the same for prompt tokens (only with prompt capture)
//! - `reliance.*` and `occlusion.*`, the causal evidence (only when measured: `evidence`)
//!
//! Readable from Python with `safetensors.numpy.load_file`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::model::{AttentionRows, Evidence};
use crate::tensor_dump::{Dump, DumpTensor};

mod evidence;

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
    /// Reliance and occlusion of the generated tokens, when measured.
    pub evidence: Option<Evidence>,
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
    if let Some(measured) = &arrays.evidence {
        if measured.tokens() != arrays.generated.rows {
            bail!(
                "{}: evidence for {} tokens cannot go beside attention rows for {}",
                path.display(),
                measured.tokens(),
                arrays.generated.rows
            );
        }
        evidence::push_evidence(&mut tensors, measured);
    }
    let metadata = HashMap::from([("schema".to_owned(), SIDECAR_SCHEMA.to_owned())]);
    crate::tensor_dump::write_dump(path, &tensors, metadata)
}

fn read_rows(dump: &Dump, prefix: &str, path: &Path) -> Result<Option<AttentionRows>> {
    let file = path.display();
    let name = format!("{prefix}.audio_ratio");
    if !dump.has(&name) {
        return Ok(None);
    }
    let shape = dump.shape(&name)?;
    let map_name = format!("{prefix}.audio_map");
    let map_shape = dump.shape(&map_name)?;
    let &[rows, layers, heads] = shape.as_slice() else {
        bail!("{file}: {name} has shape {shape:?}, not [rows, layers, heads]");
    };
    let &[_, _, audio_tokens] = map_shape.as_slice() else {
        bail!("{file}: {map_name} has shape {map_shape:?}, not [rows, layers, audio tokens]");
    };
    let head_maps_name = format!("{prefix}.head_maps");
    let arrays = AttentionRows {
        rows,
        layers,
        heads,
        audio_tokens,
        audio_ratio: dump.f32(&name)?,
        sink_mass: dump.f32(&format!("{prefix}.sink_mass"))?,
        audio_map: dump.f32(&map_name)?,
        head_maps: if dump.has(&head_maps_name) {
            Some(dump.f32(&head_maps_name)?)
        } else {
            None
        },
        experts: None,
        top_k: 0,
    };
    // Every array must hold what the shapes say, or the metrics would index past its end.
    let per_head = rows * layers * heads;
    let expected = [
        ("sink_mass", arrays.sink_mass.len(), per_head),
        (
            "audio_map",
            arrays.audio_map.len(),
            rows * layers * audio_tokens,
        ),
        (
            "head_maps",
            arrays.head_maps.as_ref().map_or(0, Vec::len),
            arrays
                .head_maps
                .as_ref()
                .map_or(0, |_| per_head * audio_tokens),
        ),
    ];
    for (array, found, wanted) in expected {
        if found != wanted {
            bail!(
                "{file}: {prefix}.{array} holds {found} values; [{rows} rows, {layers} layers, \
                 {heads} heads, {audio_tokens} audio tokens] need {wanted}"
            );
        }
    }
    Ok(Some(arrays))
}

pub fn read_sidecar(path: &Path) -> Result<SidecarArrays> {
    let dump = Dump::read(path)?;
    let generated = read_rows(&dump, "gen", path)?
        .with_context(|| format!("{}: no gen.audio_ratio tensor", path.display()))?;
    let evidence = evidence::read_evidence(&dump, generated.rows, &path.display().to_string())?;
    Ok(SidecarArrays {
        generated,
        prompt: read_rows(&dump, "prompt", path)?,
        evidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> AttentionRows {
        AttentionRows {
            rows: 2,
            layers: 1,
            heads: 2,
            audio_tokens: 3,
            audio_ratio: vec![0.1; 4],
            sink_mass: vec![0.2; 4],
            audio_map: vec![0.01; 6],
            head_maps: Some(vec![0.02; 12]),
            experts: None,
            top_k: 0,
        }
    }

    fn write(path: &Path, tensors: &[(String, DumpTensor)]) {
        let metadata = HashMap::from([("schema".to_owned(), SIDECAR_SCHEMA.to_owned())]);
        crate::tensor_dump::write_dump(path, tensors, metadata).unwrap();
    }

    #[test]
    fn sidecars_round_trip_and_bad_shapes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.attn.safetensors");
        let arrays = SidecarArrays {
            generated: rows(),
            prompt: None,
            evidence: None,
        };
        write_sidecar(&good, &arrays).unwrap();
        assert_eq!(read_sidecar(&good).unwrap(), arrays);

        // A flat audio_ratio (rank 1), and a sink_mass shorter than the shapes say.
        let mut tensors = Vec::new();
        push_rows(&mut tensors, "gen", &rows());
        tensors[0].1 = DumpTensor::f32(vec![4], &[0.1; 4]);
        let flat = dir.path().join("flat.attn.safetensors");
        write(&flat, &tensors);
        let error = format!("{:#}", read_sidecar(&flat).unwrap_err());
        assert!(
            error.contains("flat.attn.safetensors") && error.contains("not [rows, layers, heads]"),
            "{error}"
        );
        let mut tensors = Vec::new();
        push_rows(&mut tensors, "gen", &rows());
        tensors[1].1 = DumpTensor::f32(vec![1, 1, 2], &[0.2; 2]);
        let short = dir.path().join("short.attn.safetensors");
        write(&short, &tensors);
        let error = format!("{:#}", read_sidecar(&short).unwrap_err());
        assert!(
            error.contains("short.attn.safetensors")
                && error.contains("gen.sink_mass holds 2 values"),
            "{error}"
        );
    }
}
