"""`auscult.trace` against what the crate writes: the example traces file line for line, pretty
traces that `tests/python_report.rs` wrote with serde_json (every optional field, awkward
floats, a sparse input), the JSON Schema, sidecars, durable writes and batch files."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from auscult import trace as T

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "assets" / "examples" / "traces.jsonl"
DATA = Path(__file__).resolve().parent / "data" / "trace_examples"
SCHEMA = REPO / "schema" / "auscult.trace.schema.json"


def example_lines() -> list[bytes]:
    return EXAMPLES.read_bytes().split(b"\n")[:-1]


def first_example() -> dict:
    return json.loads(example_lines()[0])


def small_arrays(rows: int = 3, layers: int = 2, heads: int = 2, audio: int = 4) -> dict:
    generator = np.random.default_rng(7)
    return {
        "gen.audio_ratio": generator.random((rows, layers, heads), dtype=np.float32),
        "gen.sink_mass": generator.random((rows, layers, heads), dtype=np.float32),
        "gen.audio_map": generator.random((rows, layers, audio), dtype=np.float32),
        "gen.head_maps": generator.random((rows, layers, heads, audio), dtype=np.float32),
    }


def small_trace(rows: int = 3, layers: int = 2, audio: int = 4) -> dict:
    trace = first_example()
    trace["id"] = "small/one ü"
    trace["model"]["layers"] = layers
    trace["model"]["heads"] = 2
    trace["input"]["audio_span"] = [1, 1 + audio]
    trace["generation"]["ids"] = list(range(rows))
    trace["generation"]["piece_offsets"] = list(range(rows))
    trace["steps"] = [{"index": 0, "tokens": [0, rows], "chars": [0, rows], "kind": "other", "text": "abc"}]
    trace["attention"] = None
    return trace


# --- JSON text ------------------------------------------------------------------------------


def test_every_example_line_comes_back_byte_for_byte() -> None:
    lines = example_lines()
    assert len(lines) == 4
    for line in lines:
        assert T.dumps(json.loads(line), pretty=False).encode("utf-8") == line


@pytest.mark.parametrize("name", ["example_0", "every_field"])
def test_pretty_traces_are_serde_json_s(name: str) -> None:
    expected = (DATA / f"{name}.pretty.json").read_bytes()
    assert not expected.endswith(b"\n"), "to_string_pretty writes no final newline"
    assert T.dumps(json.loads(expected)).encode("utf-8") == expected


def test_the_first_example_line_written_pretty_is_rust_s_pretty_form() -> None:
    expected = (DATA / "example_0.pretty.json").read_bytes()
    assert T.dumps(first_example(), pretty=True).encode("utf-8") == expected


def test_compact_lines_with_every_field_and_a_failed_item_are_serde_json_s() -> None:
    lines = (DATA / "every_field.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3
    for line in lines[:-1]:
        assert T.dumps(json.loads(line), pretty=False).encode("utf-8") == line
    failed = json.loads(lines[1])
    assert "audio_path" not in T.canonical_failed(failed)


def test_a_sparse_input_is_filled_ordered_and_written_as_rust_reads_it() -> None:
    given = json.loads((DATA / "sparse.input.json").read_text("utf-8"))
    expected = (DATA / "sparse.pretty.json").read_bytes()
    assert T.dumps(given).encode("utf-8") == expected
    made = T.canonical(given)
    assert list(made)[:4] == ["schema", "id", "created", "auscult_version"]
    assert "an_unknown_key" not in made
    assert made["generation"]["params"]["min_new_tokens"] == 0
    assert made["timings"]["audio_encoder_seconds"] == 0.0
    assert made["attention"] is None and "evidence" not in made
    assert isinstance(made["generation"]["params"]["decoding"]["temperature"], T.F32)


@pytest.mark.parametrize(
    ("value", "single", "text"),
    [
        (0.1, False, "0.1"),
        (1e-5, False, "0.00001"),
        (1e-6, False, "1e-6"),
        (1e16, False, "1e+16"),
        (1e15, False, "1000000000000000.0"),
        (123456.5, False, "123456.5"),
        (-0.0, False, "-0.0"),
        (0.0, False, "0.0"),
        (float("nan"), False, "null"),
        (float("inf"), False, "null"),
        (0.1, True, "0.1"),
        (1e-6, True, "0.000001"),
        (1e-7, True, "1e-7"),
        (1e13, True, "1e+13"),
        (4194304.0, True, "4194304.0"),
    ],
)
def test_floats_are_written_as_serde_json_writes_them(value: float, single: bool, text: str) -> None:
    assert T.format_float(value, single) == text


def test_a_missing_or_mistyped_field_is_named() -> None:
    trace = first_example()
    del trace["generation"]["stop_reason"]
    with pytest.raises(ValueError, match=r"generation\.stop_reason: missing"):
        T.canonical(trace)
    trace = first_example()
    trace["input"]["audio_span"] = [1]
    with pytest.raises(ValueError, match=r"input\.audio_span: expected 2 values"):
        T.canonical(trace)
    trace = first_example()
    trace["generation"]["ids"][0] = 2**32
    with pytest.raises(ValueError, match=r"generation\.ids\[0\]: 4294967296 does not fit in 32 bits"):
        T.canonical(trace)
    trace = first_example()
    trace["steps"][0]["kind"] = "thinking"
    with pytest.raises(ValueError, match=r"steps\[0\]\.kind: 'thinking' is not one of"):
        T.canonical(trace)
    trace = first_example()
    trace["model"]["layers"] = 4.0
    with pytest.raises(ValueError, match=r"model\.layers: expected a non-negative integer"):
        T.canonical(trace)
    trace = first_example()
    trace["labels"]["steps"][0]["source"] = "robot"
    with pytest.raises(ValueError, match=r"labels\.steps\[0\]\.source"):
        T.canonical(trace)


def test_optional_fields_are_left_out_as_serde_skips_them() -> None:
    trace = first_example()
    trace["model"]["quantization"] = None
    trace["generation"]["piece_offsets"] = []
    trace["labels"]["steps"][0]["note"] = None
    trace["evidence"] = {"reliance": [], "interventions": []}
    made = T.canonical(trace)
    assert "quantization" not in made["model"]
    assert "piece_offsets" not in made["generation"]
    assert "note" not in made["labels"]["steps"][0]
    assert made["evidence"] == {"seconds": {}}
    trace["attention"] = None
    assert '"attention": null' in T.dumps(trace)


# --- JSON Schema ----------------------------------------------------------------------------


def test_written_traces_satisfy_the_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text("utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    written = [json.loads(T.dumps(json.loads(line), pretty=False)) for line in example_lines()]
    written += [json.loads(line) for line in (DATA / "every_field.jsonl").read_text("utf-8").splitlines()]
    written.append(json.loads(T.dumps(json.loads((DATA / "sparse.input.json").read_text("utf-8")))))
    for trace in written:
        errors = list(validator.iter_errors(trace))
        assert errors == [], [e.message for e in errors]
    broken = dict(written[0])
    del broken["steps"]
    assert list(validator.iter_errors(broken)), "a trace without steps is not a trace"


# --- Sidecars -------------------------------------------------------------------------------


def test_a_sidecar_round_trips_with_its_schema(tmp_path: Path) -> None:
    from safetensors import safe_open

    arrays = small_arrays()
    arrays["gen.experts"] = np.array([[[1, 2], [T.NO_EXPERT, T.NO_EXPERT]]] * 3, dtype=np.uint16)
    path = tmp_path / "a.attn.safetensors"
    T.write_sidecar(path, arrays)
    read = T.read_sidecar(path)
    assert sorted(read) == sorted(arrays)
    for name in arrays:
        assert read[name].dtype == arrays[name].dtype
        np.testing.assert_array_equal(read[name], arrays[name])
    with safe_open(str(path), framework="numpy") as opened:
        assert opened.metadata() == {"schema": "auscult.attention/1"}
    assert [p.name for p in tmp_path.iterdir()] == ["a.attn.safetensors"]


def test_the_example_sidecars_read_and_fit_their_traces() -> None:
    for trace in T.read_traces(EXAMPLES):
        path = T.sidecar_path(EXAMPLES, trace)
        assert path is not None and path.is_file()
        arrays = T.read_sidecar(path, trace)
        assert arrays["gen.audio_ratio"].shape == (
            trace["attention"]["generated_rows"],
            trace["attention"]["layers"],
            trace["attention"]["heads"],
        )


def write_raw(path: Path, arrays: dict) -> None:
    from safetensors.numpy import save_file

    save_file(arrays, str(path), metadata={"schema": "auscult.attention/1"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.update({"gen.audio_ratio": a["gen.audio_ratio"].reshape(-1)}), "not [rows, layers, heads]"),
        (lambda a: a.update({"gen.sink_mass": a["gen.sink_mass"][:1]}), "gen.sink_mass holds 4 values"),
        (lambda a: a.update({"gen.head_maps": a["gen.head_maps"][:, :, :1]}), "gen.head_maps holds"),
        (lambda a: a.update({"gen.audio_map": a["gen.audio_map"].astype(np.float64)}), "gen.audio_map is F64, not F32"),
        (lambda a: a.update({"gen.experts": np.ones((2, 2, 2), np.uint16)}), "gen.experts has shape [2, 2, 2], not [3 rows, 2 layers, top k]"),
        (lambda a: a.update({"gen.experts": np.ones((3, 2, 2), np.float32)}), "gen.experts is F32, not U16"),
        (lambda a: a.pop("gen.audio_ratio"), "no gen.audio_ratio tensor"),
        (lambda a: a.update({"reliance.actual.log_prob": np.zeros(2, np.float32)}), "reliance.actual.log_prob holds 2 values"),
    ],
)
def test_a_bad_sidecar_is_refused_naming_the_file_and_the_problem(tmp_path: Path, change, message: str) -> None:
    arrays = small_arrays()
    change(arrays)
    path = tmp_path / "bad.attn.safetensors"
    write_raw(path, arrays)
    with pytest.raises(ValueError) as refused:
        T.read_sidecar(path)
    assert str(path) in str(refused.value) and message in str(refused.value), str(refused.value)


def test_a_sidecar_of_another_trace_and_a_file_that_is_not_one_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.attn.safetensors"
    T.write_sidecar(path, small_arrays(rows=3))
    with pytest.raises(ValueError, match=r"other\.attn\.safetensors: does not match its trace \(3 rows"):
        T.read_sidecar(path, small_trace(rows=5))
    garbage = tmp_path / "garbage.attn.safetensors"
    garbage.write_bytes(b"not a safetensors file at all")
    with pytest.raises(ValueError, match=r"garbage\.attn\.safetensors: not a safetensors file"):
        T.read_sidecar(garbage)
    with pytest.raises(ValueError, match=r"missing\.attn\.safetensors: cannot read"):
        T.read_sidecar(tmp_path / "missing.attn.safetensors")


# --- Durable writes, run and batch ----------------------------------------------------------


def test_a_durable_write_replaces_whole_and_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    T.durable_write(path, b"one")
    os.chmod(path, 0o640)
    T.durable_write(path, b"two")
    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o640, "a replaced file keeps its permissions"
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b"old")

    def failing_fsync(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(T.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match=r"t\.json: cannot write"):
        T.durable_write(path, b"new")
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]
    with pytest.raises(OSError, match="cannot write"):
        T.durable_write(tmp_path / "no" / "such" / "folder.json", b"x")


def test_write_run_writes_the_sidecar_beside_and_names_it(tmp_path: Path) -> None:
    out = tmp_path / "clip.json"
    arrays = small_arrays(rows=3, layers=2, audio=4)
    written = T.write_run(out, small_trace(rows=3, layers=2, audio=4), arrays)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.attn.safetensors", "clip.json"]
    assert written["attention"] == {
        "sidecar": "clip.attn.safetensors",
        "layers": 2,
        "heads": 2,
        "audio_tokens": 4,
        "generated_rows": 3,
        "prompt_rows": 0,
        "per_head_maps": True,
    }
    text = out.read_bytes()
    assert text == T.dumps(written).encode("utf-8") and not text.endswith(b"\n")
    back = T.read_traces(out)
    assert back == [written]
    np.testing.assert_array_equal(T.read_sidecar(T.sidecar_path(out, back[0]), back[0])["gen.audio_map"], arrays["gen.audio_map"])
    with pytest.raises(ValueError, match="does not match its trace"):
        T.write_run(tmp_path / "wrong.json", small_trace(rows=4), arrays)
    assert not (tmp_path / "wrong.json").exists() and not (tmp_path / "wrong.attn.safetensors").exists()


def test_sidecar_names_are_rust_s() -> None:
    assert T.run_sidecar_path("out/a.b.json") == Path("out/a.b.attn.safetensors")
    assert T.run_sidecar_path("trace") == Path("trace.attn.safetensors")
    assert T.batch_sidecar_folder("runs/traces.jsonl") == Path("runs/traces.attn")
    assert T.batch_sidecar_name(7, "mmau/item 3?é") == "000007-mmau_item_3__.safetensors"
    assert T.batch_sidecar_name(1234567, "x" * 100) == "1234567-" + "x" * 80 + ".safetensors"


def test_a_batch_appends_lines_with_sidecars_and_closes_a_cut_off_line(tmp_path: Path) -> None:
    traces = tmp_path / "traces.jsonl"
    traces.write_bytes(b'{"schema": "auscult.trace/1", "id": "cut')
    writer = T.BatchWriter(traces)
    trace = small_trace()
    written = writer.append(trace, small_arrays(), index=12)
    assert written["attention"]["sidecar"] == "traces.attn/000012-small_one__.safetensors"
    assert (tmp_path / "traces.attn" / "000012-small_one__.safetensors").is_file()
    failed = {"schema": "auscult.trace/1", "id": "gone", "created": "2026-12-07T00:00:00Z", "error": "no clip"}
    T.append_line(traces, failed)
    lines = traces.read_bytes().split(b"\n")
    assert lines[1] == T.dumps(written, pretty=False).encode("utf-8")
    read = T.read_traces_file(traces)
    assert [line["id"] for line in read.lines] == ["small/one ü", "gone"]
    assert len(read.skipped) == 1 and read.skipped[0].startswith(f"{traces}:1: not JSON ("), read.skipped
    assert T.read_traces(traces, warn=False) == [written]
    arrays = T.read_sidecar(T.sidecar_path(traces, written), written)
    assert arrays["gen.head_maps"].shape == (3, 2, 2, 4)


def test_reading_skips_bad_lines_with_a_warning_and_refuses_another_schema(tmp_path: Path) -> None:
    good = example_lines()[0]
    path = tmp_path / "t.jsonl"
    path.write_bytes(good + b"\n\n{not json}\n" + b'{"schema": "auscult.trace/1", "id": "x"}\n' + good[:50])
    with pytest.warns(UserWarning) as caught:
        traces = T.read_traces(path)
    assert len(traces) == 1
    messages = [str(w.message) for w in caught]
    assert messages[0].startswith(f"{path}:3: not JSON")
    assert messages[1].startswith(f"{path}:4: malformed trace (created: missing)")
    assert messages[2] == f"{path}:5: truncated last line (a run stopped while writing it); skipped"
    other = tmp_path / "other.jsonl"
    other.write_text('{"schema": "auscult.trace/9", "id": "a"}\n')
    with pytest.raises(ValueError, match=r'other\.jsonl:1: trace schema "auscult\.trace/9" is not supported'):
        T.read_traces(other)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(T.read_traces(EXAMPLES)) == 4


def formula_values(seed: int, count: int) -> np.ndarray:
    """`tests/python_report.rs`'s `formula_values`: `((seed + i) % 13) / 8` in float32."""
    return ((seed + np.arange(count)) % 13).astype(np.float32) / np.float32(8.0)


def every_array() -> dict[str, np.ndarray]:
    """The arrays of `every_array.attn.safetensors`, rebuilt from the Rust test's formulas."""
    layers, heads, audio = 2, 2, 4
    arrays: dict[str, np.ndarray] = {}
    for prefix, seed, rows, with_maps in (("gen", 0, 3, True), ("prompt", 10, 5, False)):
        arrays[f"{prefix}.audio_ratio"] = formula_values(seed, rows * layers * heads).reshape(rows, layers, heads)
        arrays[f"{prefix}.sink_mass"] = formula_values(seed + 1, rows * layers * heads).reshape(rows, layers, heads)
        arrays[f"{prefix}.audio_map"] = formula_values(seed + 2, rows * layers * audio).reshape(rows, layers, audio)
        if with_maps:
            arrays[f"{prefix}.head_maps"] = formula_values(seed + 3, rows * layers * heads * audio).reshape(
                rows, layers, heads, audio
            )
    ids = np.arange(3 * layers * 2)
    arrays["gen.experts"] = np.where(ids % 5 == 4, T.NO_EXPERT, ids).astype(np.uint16).reshape(3, layers, 2)
    arrays["reliance.actual.log_prob"] = formula_values(20, 3)
    arrays["reliance.actual.top1"] = np.array([4, 0, 70000], np.int64)
    arrays["reliance.silence.delta"] = formula_values(21, 3)
    arrays["reliance.silence.kl"] = formula_values(22, 3)
    arrays["reliance.silence.top1"] = np.array([1, 2, 3], np.int64)
    arrays["occlusion.delta"] = formula_values(23, 6).reshape(3, 2)
    arrays["occlusion.kl"] = formula_values(24, 6).reshape(3, 2)
    return arrays


def test_a_sidecar_with_every_array_reads_and_writes_as_the_crate_s(tmp_path: Path) -> None:
    rust_made = DATA / "every_array.attn.safetensors"
    expected = every_array()
    read = T.read_sidecar(rust_made)
    assert sorted(read) == sorted(expected)
    for name, array in expected.items():
        assert read[name].dtype == array.dtype and read[name].shape == array.shape, name
        np.testing.assert_array_equal(read[name], array)
    ours = tmp_path / "every_array.attn.safetensors"
    T.write_sidecar(ours, expected)
    assert ours.read_bytes() == rust_made.read_bytes()


def test_the_example_sidecars_written_again_are_byte_for_byte_the_crate_s(tmp_path: Path) -> None:
    for trace in T.read_traces(EXAMPLES):
        original = T.sidecar_path(EXAMPLES, trace)
        again = tmp_path / original.name
        T.write_sidecar(again, T.read_sidecar(original, trace))
        assert again.read_bytes() == original.read_bytes(), original.name
