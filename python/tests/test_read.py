"""`auscult.metrics` and `auscult.read` against `auscult report`: the five CSV tables byte for
byte for every case `tests/python_report.rs` wrote (selections of layers and heads, bin widths,
a variant with counterfactual answers, a failed item, a bad line and exported labels), the
metrics' definitions on hand-made rows, and the pandas tables."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from auscult import read
from auscult.metrics import AttentionView, MetricError, Selection, sequential_sum
from auscult.trace import read_sidecar, read_traces, sidecar_path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "assets" / "examples" / "traces.jsonl"
REPORTS = Path(__file__).resolve().parent / "data" / "report_examples"
CASES = json.loads((REPORTS / "cases.json").read_text("utf-8"))
TABLES = ["accuracy.csv", "step_decay.csv", "token_decay.csv", "cafe.csv", "heads.csv"]


# --- The report's tables --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_report_tables_are_the_report_s_byte_for_byte(case: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = read.report_tables(
            REPO / case["traces"],
            layers=case["layers"],
            head=case["head"],
            labels=[REPO / path for path in case["labels"]],
            bin_tokens=case["bin_tokens"],
        )
    for name in TABLES:
        expected = (REPORTS / case["name"] / name).read_text("utf-8")
        assert tables[name] == expected, f"{case['name']}/{name}"


def test_the_cases_cover_other_selections_and_the_variant_s_splits() -> None:
    assert {case["name"] for case in CASES} >= {"default", "layers_1_3_head_2", "max_bin_5", "variant"}
    default = (REPORTS / "default" / "step_decay.csv").read_text("utf-8")
    for other in ("layers_1_3_head_2", "max_bin_5"):
        assert (REPORTS / other / "step_decay.csv").read_text("utf-8") != default
    variant = (REPORTS / "variant" / "step_decay.csv").read_text("utf-8")
    assert "\nneeds_audio,0," in variant and "\nanswerable_without_audio,0," in variant
    assert "\ntask:count,0," in variant


def test_the_variant_warns_about_its_bad_line_and_counts_the_failed_item() -> None:
    case = next(case for case in CASES if case["name"] == "variant")
    with pytest.warns(UserWarning, match=r"traces\.jsonl:4: not JSON"):
        loaded = read.load(REPO / case["traces"], labels=[REPO / path for path in case["labels"]])
    assert loaded.failed == 1 and len(loaded.summaries) == 4
    assert loaded.summaries[0].needs_audio is True and loaded.summaries[1].needs_audio is False


def test_numpy_s_own_sums_would_not_give_the_report_s_numbers() -> None:
    """The tables depend on Rust's sequential float32 order: the token values equal a plain
    loop's, and numpy's pairwise sums over the report's 16-token bins would differ."""
    differing = 0
    for trace in read_traces(EXAMPLES):
        arrays = read_sidecar(sidecar_path(EXAMPLES, trace))
        ratio = arrays["gen.audio_ratio"]
        ours = AttentionView.of_trace(trace, arrays).token_values("ratio")
        by_loop = np.array(
            [
                _loop_sum([_loop_sum(list(ratio[t, l])) / np.float32(ratio.shape[2]) for l in range(ratio.shape[1])])
                / np.float32(ratio.shape[1])
                for t in range(ratio.shape[0])
            ],
            dtype=np.float32,
        )
        np.testing.assert_array_equal(ours, by_loop)
        for start in range(0, len(ours), 16):
            chunk = ours[start : start + 16]
            differing += int(np.sum(chunk, dtype=np.float32) != _loop_sum(list(chunk)))
    assert differing > 0


def _loop_sum(values: list) -> np.float32:
    total = np.float32(-0.0)
    for value in values:
        total = np.float32(total + np.float32(value))
    return total


# --- Metrics on hand-made rows (the Rust tests' rows) ----------------------------------------


def hand_rows() -> dict[str, np.ndarray]:
    """Two rows, two layers, two heads, three audio tokens (`trace/metrics.rs`'s tests)."""
    ratio = np.array([0.5, 0.1, 0.3, 0.2, 0.4, 0.0, 0.2, 0.2], np.float32).reshape(2, 2, 2)
    sink = np.array([0.5, 0.8, 0.0, 0.5, 0.2, 1.0, 0.6, 0.0], np.float32).reshape(2, 2, 2)
    head_maps = np.array(
        [0.2, 0.2, 0.1, 0.0, 0.0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.0,
         0.4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.1, 0.0, 0.0, 0.2],
        np.float32,
    ).reshape(2, 2, 2, 3)
    audio_map = (head_maps[:, :, 0] + head_maps[:, :, 1]) / np.float32(2)
    return {"gen.audio_ratio": ratio, "gen.sink_mass": sink, "gen.audio_map": audio_map, "gen.head_maps": head_maps}


def test_ratio_by_head_and_layer_selection() -> None:
    view = AttentionView(hand_rows(), 10)
    assert view.token_value("ratio", 0) == pytest.approx(0.275, abs=1e-6)
    assert view.token_value("ratio", 0, Selection(heads="max")) == pytest.approx(0.4, abs=1e-6)
    assert view.token_value("ratio", 1, Selection((1,), 1)) == pytest.approx(0.2, abs=1e-6)
    assert view.span_value("ratio", (0, 2)) == pytest.approx(0.2375, abs=1e-6)
    assert view.span_value("ratio", (1, 1)) is None
    assert view.token_values("ratio").dtype == np.float32


def test_sink_correction_and_focus_with_their_zero_rules() -> None:
    view = AttentionView(hand_rows(), 10)
    assert view.token_value("sink_corrected", 0, Selection((0,), 0)) == pytest.approx(1.0)
    assert view.token_value("sink_corrected", 0, Selection((0,), 1)) == pytest.approx(0.5)
    assert view.token_value("sink_corrected", 1, Selection((0,), 1)) == 0.0, "sink mass 1: zero"
    assert view.token_value("focus", 0, Selection((0,), 0)) == pytest.approx(7 / 3, abs=1e-6)
    assert view.token_value("focus", 1, Selection((0,), 0)) == pytest.approx(16 / 9, abs=1e-6)
    crowded = AttentionView(hand_rows(), 3)
    assert crowded.token_value("focus", 0, Selection((0,), 0)) == 0.0, "no position besides the audio"
    saturated = hand_rows()
    saturated["gen.audio_ratio"][0, 0, 0] = 1.0
    assert AttentionView(saturated, 10).token_value("focus", 0, Selection((0,), 0)) == 0.0


def test_maps_by_selection() -> None:
    view = AttentionView(hand_rows(), 10)
    np.testing.assert_allclose(view.token_map(0), [0.1, 0.1, 0.075], atol=1e-6)
    np.testing.assert_array_equal(view.token_map(1, Selection((0,), "max")), np.array([0.4, 0, 0], np.float32))
    np.testing.assert_allclose(view.span_map((0, 2), Selection((1,), 1)), [0.05, 0.05, 0.1], atol=1e-6)
    every = view.span_head_maps((0, 2))
    for layer in range(2):
        for head in range(2):
            np.testing.assert_array_equal(every[layer, head], view.span_map((0, 2), Selection((layer,), head)))


def test_bad_selections_raise_rust_s_messages() -> None:
    view = AttentionView(hand_rows(), 10)
    with pytest.raises(MetricError, match=r"^layer 2 does not exist \(the model has 2\)$"):
        view.token_values("ratio", Selection((2,)))
    with pytest.raises(MetricError, match=r"^head 5 does not exist \(the model has 2\)$"):
        view.token_values("ratio", Selection(heads=5))
    with pytest.raises(MetricError, match=r"^token 9 is outside the 2 captured rows$"):
        view.token_value("ratio", 9)
    with pytest.raises(MetricError, match=r"^token 2 is outside the 2 captured rows$"):
        view.span_value("ratio", (1, 4))
    with pytest.raises(MetricError, match=r"^token 3 is outside the 2 captured rows$"):
        view.span_map((3, 4))
    no_maps = hand_rows()
    del no_maps["gen.head_maps"]
    with pytest.raises(MetricError, match="per-head audio maps were not captured"):
        AttentionView(no_maps, 10).token_map(0, Selection(heads="max"))


def test_sequential_sum_adds_left_to_right_in_float32() -> None:
    values = np.array([1e8, 1.0, -1e8, 1.0], np.float32)
    assert sequential_sum(values) == np.float32(1.0)  # (1e8 + 1) rounds back to 1e8
    assert sequential_sum(np.zeros((2, 0), np.float32), axis=1).tolist() == [-0.0, -0.0]


# --- pandas tables --------------------------------------------------------------------------


def test_read_steps_has_a_row_per_step_with_the_report_s_values() -> None:
    pytest.importorskip("pandas")
    frame = read.read_steps(EXAMPLES)
    traces = read_traces(EXAMPLES)
    assert len(frame) == sum(len(t["steps"]) for t in traces) == 32
    for column in ["trace", "file", "step", "kind", "text", "token_start", "token_end", "byte_start",
                   "byte_end", "ratio", "sink_corrected", "focus", "correct", "task", "category",
                   "difficulty", "generated_tokens", "labels", "label:auto", "label"]:
        assert column in frame.columns, column
    assert frame["ratio"].dtype == np.float32
    # Step 0's mean over the four traces is step_decay.csv's first point.
    first = frame[frame["step"] == 0]["ratio"].astype(np.float64)
    mean = 0.0
    for value in first:
        mean += value
    expected = (REPORTS / "default" / "step_decay.csv").read_text("utf-8").splitlines()[1].split(",")
    assert f"{mean / 4:.6f}" == expected[2]
    row = frame.iloc[1]
    assert row["trace"] == "synth-30064771072" and row["kind"] == "perception"
    assert row["label:auto"] == "matched" and row["label"] == "matched"
    assert row["labels"][0]["source"] == "auto"


def test_labels_of_a_person_outrank_the_automatic_ones_in_read_steps() -> None:
    pytest.importorskip("pandas")
    case = next(case for case in CASES if case["name"] == "variant")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = read.read_steps(REPO / case["traces"], labels=[REPO / path for path in case["labels"]])
    row = frame[(frame["trace"] == "synth-30064771072") & (frame["step"] == 1)].iloc[0]
    assert row["label:auto"] == "matched"
    assert row["label:human:ann"] == "hallucinated"
    assert row["label"] == "hallucinated"
    assert any(label["note"] == 'no chirp, "a click"' for label in row["labels"])


def test_read_tokens_gives_every_generated_token_and_its_piece() -> None:
    pytest.importorskip("pandas")
    frame = read.read_tokens(EXAMPLES, layers=[1], head=0)
    traces = read_traces(EXAMPLES)
    assert len(frame) == sum(len(t["generation"]["ids"]) for t in traces)
    first = frame[frame["trace"] == traces[0]["id"]]
    assert "".join(first["piece"]) == traces[0]["generation"]["text"]
    arrays = read_sidecar(sidecar_path(EXAMPLES, traces[0]))
    np.testing.assert_array_equal(first["ratio"].to_numpy(), arrays["gen.audio_ratio"][:, 1, 0])


def test_read_maps_gives_each_step_s_map_and_its_time_axis() -> None:
    trace = read_traces(EXAMPLES)[0]
    maps, seconds = read.read_maps(trace, sidecar_path(EXAMPLES, trace))
    assert maps.shape == (len(trace["steps"]), trace["attention"]["audio_tokens"]) and maps.dtype == np.float32
    assert seconds[1] == pytest.approx(trace["audio"]["seconds_per_audio_token"])
    arrays = read_sidecar(sidecar_path(EXAMPLES, trace))
    start, end = trace["steps"][2]["tokens"]
    np.testing.assert_allclose(maps[2], arrays["gen.audio_map"][start:end].mean(axis=(0, 1)), rtol=1e-5)


def test_table_frames_read_back() -> None:
    pytest.importorskip("pandas")
    frame = read.table_frame(read.heads(EXAMPLES))
    assert len(frame) == 16 and list(frame.columns)[:3] == ["layer", "head", "mean_audio_ratio"]
    assert frame["peak_in_event_share"].isna().all(), "no per-head maps: the peak is not measured"


def formula_head_map(rows: int, layers: int, heads: int, audio: int) -> np.ndarray:
    """`tests/python_report.rs`'s `formula_head_map` for every (row, layer, head, audio token)."""
    t, l, h, j = np.meshgrid(np.arange(rows), np.arange(layers), np.arange(heads), np.arange(audio), indexing="ij")
    return (((t * 7 + l * 3 + h * 5 + j * 11) % 17).astype(np.float32) / np.float32(17.0)).astype(np.float32)


def test_the_heads_peak_in_event_ranking_is_the_report_s(tmp_path: Path) -> None:
    """With per-head maps and the synthetic items' event spans (written by the Rust test), the
    heads ranked by where their maps peak, byte for byte."""
    from auscult.trace import write_sidecar

    traces = tmp_path / "traces.jsonl"
    traces.write_bytes(EXAMPLES.read_bytes())
    for trace in read_traces(EXAMPLES):
        arrays = dict(read_sidecar(sidecar_path(EXAMPLES, trace)))
        rows, layers, heads = arrays["gen.audio_ratio"].shape
        arrays["gen.head_maps"] = formula_head_map(rows, layers, heads, arrays["gen.audio_map"].shape[2])
        target = sidecar_path(traces, trace)
        target.parent.mkdir(exist_ok=True)
        write_sidecar(target, arrays)
    spans = json.loads((REPORTS / "head_maps" / "event_spans.json").read_text("utf-8"))
    table = read.heads(traces, event_spans=lambda trace: spans[trace["id"]])
    assert table == (REPORTS / "head_maps" / "heads.csv").read_text("utf-8")
    assert table.splitlines()[1].endswith(",13"), "the ranking rests on the peaks"
    without = read.heads(traces)
    assert without.splitlines()[1].endswith(",,"), "no event spans: the peak is not measured"
