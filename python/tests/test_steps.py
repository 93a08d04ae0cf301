"""The steps port (`auscult.steps`) against the crate: every case of `data/steps_cases.json`
(pieces, rule overrides, and the steps the crate's `split_steps` wrote for them) gives exactly
the crate's steps; the example traces' steps and piece offsets come out as the crate wrote them;
rules files overlay the defaults field by field and unknown fields are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import auscult
from auscult.steps import STEP_KINDS, load_rules, overlay_rules, piece_offsets, split_steps
from auscult.text import pieces_at

REPO = Path(__file__).resolve().parents[2]
CASES_FILE = Path(__file__).parent / "data" / "steps_cases.json"
EXAMPLE_TRACES = REPO / "assets" / "examples" / "traces.jsonl"
STEP_KEYS = ["index", "tokens", "chars", "kind", "text"]


def _cases() -> list[dict[str, Any]]:
    return json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]


CASES = _cases()


def _example_traces() -> list[dict[str, Any]]:
    lines = EXAMPLE_TRACES.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_port_gives_the_crate_s_steps(case: dict[str, Any]) -> None:
    steps = split_steps(case["pieces"], case.get("rules"))
    assert steps == case["expected"]
    # The trace's JSON form, keys in the crate's order.
    assert all(list(step) == STEP_KEYS for step in steps)
    assert json.dumps(steps, ensure_ascii=False) == json.dumps(case["expected"], ensure_ascii=False)


def test_the_table_covers_what_the_port_must_get_right() -> None:
    assert len(CASES) >= 250
    kinds = {step["kind"] for case in CASES for step in case["expected"]}
    assert kinds == set(STEP_KINDS)
    # Multi-byte characters split over tokens: empty pieces inside a case with steps.
    assert sum(1 for case in CASES if "" in case["pieces"] and case["expected"]) >= 20
    assert sum(1 for case in CASES if "rules" in case) >= 30
    # Steps whose first token is an empty piece: a cut moved back before a character's tokens.
    moved = [
        case
        for case in CASES
        for step in case["expected"]
        if step["tokens"][0] > 0 and case["pieces"][step["tokens"][0]] == ""
    ]
    assert moved


@pytest.mark.parametrize("case", CASES[:60], ids=[case["name"] for case in CASES[:60]])
def test_piece_offsets_are_where_the_crate_s_steps_start(case: dict[str, Any]) -> None:
    offsets = piece_offsets(case["pieces"])
    assert len(offsets) == len(case["pieces"])
    total = len("".join(case["pieces"]).encode("utf-8"))
    for step in case["expected"]:
        first, end = step["tokens"]
        assert offsets[first] == step["chars"][0]
        assert (offsets[end] if end < len(offsets) else total) == step["chars"][1]


@pytest.mark.parametrize("trace", _example_traces(), ids=lambda trace: trace["id"])
def test_an_example_trace_s_steps_and_offsets_come_back(trace: dict[str, Any]) -> None:
    generation = trace["generation"]
    pieces = pieces_at(generation["text"], generation["piece_offsets"])
    assert len(pieces) == len(generation["ids"])
    assert piece_offsets(pieces) == generation["piece_offsets"]
    assert split_steps(pieces) == trace["steps"]


def test_no_rules_file_gives_the_shipped_defaults() -> None:
    assert load_rules() == auscult.default_step_rules()
    assert overlay_rules({}) == auscult.default_step_rules()


def test_a_rules_file_overlays_the_defaults_field_by_field(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(
        json.dumps({"line_breaks": False, "answer_cues": ["verdict:"], "long_paragraph_chars": 40}),
        encoding="utf-8",
    )
    rules = load_rules(path)
    defaults = auscult.default_step_rules()
    assert rules["line_breaks"] is False
    assert rules["answer_cues"] == ["verdict:"]
    assert rules["long_paragraph_chars"] == 40
    for name in defaults.keys() - {"line_breaks", "answer_cues", "long_paragraph_chars"}:
        assert rules[name] == defaults[name], name
    # One step (no cut at the line break), and the new cue makes it the answer.
    pieces = ["I hear a dog.", "\n", "Verdict: a dog."]
    assert [step["kind"] for step in split_steps(pieces, rules)] == ["answer"]
    assert [step["kind"] for step in split_steps(pieces)] == ["perception", "other"]


def test_a_rules_file_gives_the_crate_s_steps_for_its_overrides(tmp_path: Path) -> None:
    with_rules = [case for case in CASES if "rules" in case]
    for number, case in enumerate(with_rules):
        path = tmp_path / f"rules{number}.json"
        path.write_text(json.dumps(case["rules"]), encoding="utf-8")
        assert split_steps(case["pieces"], load_rules(path)) == case["expected"], case["name"]


@pytest.mark.parametrize(
    ("rules_text", "named"),
    [
        ('{"line_break": false}', "line_break"),
        ('{"tags": true, "colour": "red"}', "colour"),
        ('{"tags": "yes"}', "tags"),
        ('{"long_paragraph_chars": -1}', "long_paragraph_chars"),
        ('{"long_paragraph_chars": 3.5}', "long_paragraph_chars"),
        ('{"long_paragraph_chars": true}', "long_paragraph_chars"),
        ('{"tag_kinds": [["think", "thinking"]]}', "tag_kinds"),
        ('{"tag_kinds": [["think"]]}', "tag_kinds"),
        ('{"perception_cues": "hear"}', "perception_cues"),
        ('{"answer_cues": [1]}', "answer_cues"),
        ('{"tags": null}', "tags"),
        ('{"tags": true, "tags": false}', "tags"),
    ],
)
def test_a_rules_file_with_an_unknown_or_mistyped_field_is_refused(
    tmp_path: Path, rules_text: str, named: str
) -> None:
    path = tmp_path / "rules.json"
    path.write_text(rules_text, encoding="utf-8")
    with pytest.raises(ValueError, match=f"`{named}`"):
        load_rules(path)


def test_rules_as_an_array_give_fields_in_order_as_serde_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text("[false, true, true, true, false, 12]", encoding="utf-8")
    rules = load_rules(path)
    expected = {**auscult.default_step_rules(), "tags": False, "line_breaks": False}
    assert rules == {**expected, "long_paragraph_chars": 12}
    path.write_text("[]", encoding="utf-8")
    assert load_rules(path) == auscult.default_step_rules()
    path.write_text(json.dumps([True] * 5 + [1, [], [], [], [], 1]), encoding="utf-8")
    with pytest.raises(ValueError, match="at most 10"):
        load_rules(path)


def test_rules_that_are_not_an_object_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    for text in ("null", "true", '"tags"'):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match="object"):
            load_rules(path)
    with pytest.raises(ValueError, match="unknown field `tag`"):
        split_steps(["x"], {"tag": True})


def test_the_caller_s_rules_are_not_changed() -> None:
    rules = load_rules()
    before = json.dumps(rules)
    split_steps(["<think>I hear</think>"], rules)
    overlay_rules(rules)["tag_kinds"].append(["x", "other"])
    assert json.dumps(rules) == before
