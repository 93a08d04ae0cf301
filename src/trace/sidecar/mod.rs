//! The attention sidecar: `<trace stem>.attn.safetensors` beside the trace JSON.
//!
//! Tensors (F32 unless said otherwise, row-major):
//! - `gen.audio_ratio`, `gen.sink_mass` `[generated tokens, layers, heads]`
//! - `gen.audio_map` `[generated tokens, layers, audio tokens]` (mean over heads)
//! - `gen.head_maps` `[generated tokens, layers, heads, audio tokens]` (only with per-head maps)
//! - `gen.experts` U16 `[generated tokens, layers, top k]`: the experts a mixture-of-experts
//!   decoder's router chose, most probable first, 65535 (`NO_EXPERT`) in a dense layer (only for
//!   such a decoder; the trace's `model.experts` says how many there are)
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
    if let Some(experts) = &rows.experts {
        tensors.push((
            format!("{prefix}.experts"),
            DumpTensor::u16(vec![t, l, rows.top_k], experts),
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
    let (experts, top_k) = read_experts(dump, prefix, rows, layers, path)?;
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
        experts,
        top_k,
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

/// `{prefix}.experts` and its top k, when the sidecar has it (a mixture-of-experts decoder's);
/// a shape other than `[rows, layers, k]` is refused, naming the file and the array.
fn read_experts(
    dump: &Dump,
    prefix: &str,
    rows: usize,
    layers: usize,
    path: &Path,
) -> Result<(Option<Vec<u16>>, usize)> {
    let name = format!("{prefix}.experts");
    if !dump.has(&name) {
        return Ok((None, 0));
    }
    let shape = dump.shape(&name)?;
    let top_k = match shape.as_slice() {
        &[r, l, k] if (r, l) == (rows, layers) && k > 0 => k,
        _ => bail!(
            "{}: {name} has shape {shape:?}, not [{rows} rows, {layers} layers, top k]",
            path.display()
        ),
    };
    Ok((Some(dump.u16(&name)?), top_k))
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
    use crate::model::capture::NO_EXPERT;

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

    /// `rows()` from a mixture-of-experts decoder with top 2: one layer, two rows.
    fn routed_rows() -> AttentionRows {
        AttentionRows {
            experts: Some(vec![17, 3, 120, 17]),
            top_k: 2,
            ..rows()
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

    #[test]
    fn expert_ids_round_trip_as_two_bytes_each_and_dense_sidecars_stay_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("moe.attn.safetensors");
        let prompt = AttentionRows {
            experts: Some(vec![5, NO_EXPERT, 9, NO_EXPERT]),
            ..routed_rows()
        };
        let arrays = SidecarArrays {
            generated: routed_rows(),
            prompt: Some(prompt),
            evidence: None,
        };
        write_sidecar(&path, &arrays).unwrap();
        assert_eq!(read_sidecar(&path).unwrap(), arrays);
        let dump = Dump::read(&path).unwrap();
        assert_eq!(dump.shape("gen.experts").unwrap(), vec![2, 1, 2]);
        assert_eq!(dump.u16("prompt.experts").unwrap()[1], NO_EXPERT);

        // A dense decoder's sidecar has no experts array and reads back without ids.
        let dense = dir.path().join("dense.attn.safetensors");
        let arrays = SidecarArrays {
            generated: rows(),
            prompt: None,
            evidence: None,
        };
        write_sidecar(&dense, &arrays).unwrap();
        assert!(!Dump::read(&dense).unwrap().has("gen.experts"));
        let read = read_sidecar(&dense).unwrap();
        assert_eq!((read.generated.experts, read.generated.top_k), (None, 0));
    }

    #[test]
    fn expert_ids_of_the_wrong_shape_are_refused_naming_the_file_and_the_array() {
        let dir = tempfile::tempdir().unwrap();
        let wrong = [
            ("rows", vec![3, 1, 2], vec![1u16; 6]),
            ("layers", vec![2, 2, 2], vec![1; 8]),
            ("rank", vec![2, 2], vec![1; 4]),
            ("empty", vec![2, 1, 0], vec![]),
        ];
        for (what, shape, ids) in wrong {
            let mut tensors = Vec::new();
            push_rows(&mut tensors, "gen", &rows());
            tensors.push(("gen.experts".into(), DumpTensor::u16(shape, &ids)));
            let path = dir.path().join(format!("{what}.attn.safetensors"));
            write(&path, &tensors);
            let error = format!("{:#}", read_sidecar(&path).unwrap_err());
            assert!(
                error.contains(&format!("{what}.attn.safetensors"))
                    && error.contains("gen.experts has shape")
                    && error.contains("not [2 rows, 1 layers, top k]")
                    && !error.contains('\n'),
                "{what}: {error}"
            );
        }
        // Ids stored as floats are refused too.
        let mut tensors = Vec::new();
        push_rows(&mut tensors, "gen", &rows());
        tensors.push((
            "gen.experts".into(),
            DumpTensor::f32(vec![2, 1, 2], &[1.0; 4]),
        ));
        let path = dir.path().join("floats.attn.safetensors");
        write(&path, &tensors);
        let error = format!("{:#}", read_sidecar(&path).unwrap_err());
        assert!(
            error.contains("floats.attn.safetensors") && error.contains("gen.experts is F32"),
            "{error}"
        );
    }
}
