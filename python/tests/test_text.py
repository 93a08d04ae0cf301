"""The `TextStream` port (`auscult.text`) against the crate: for every case of
`data/text_stream_cases.json` (ids, and what the crate's processor and `TextStream` gave for them
with the tiny_a fixture's tokenizer) the `tokenizers` library decodes the ids to the same text and
the port gives the same pieces, empty ones for tokens that end inside a character included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tokenizers import Tokenizer

from auscult.steps import piece_offsets
from auscult.text import TextStream, pieces_at, pieces_of

REPO = Path(__file__).resolve().parents[2]
TABLE = json.loads(
    (Path(__file__).parent / "data" / "text_stream_cases.json").read_text(encoding="utf-8")
)
CASES: list[dict[str, Any]] = TABLE["cases"]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer.from_file(str(REPO / TABLE["tokenizer"]))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_port_gives_the_crate_s_pieces(tokenizer: Tokenizer, case: dict[str, Any]) -> None:
    assert tokenizer.decode(case["ids"], skip_special_tokens=True) == case["text"]
    pieces = pieces_of(tokenizer, case["ids"])
    assert pieces == case["pieces"]
    assert len(pieces) == len(case["ids"])


def test_the_table_splits_characters_over_tokens() -> None:
    held_back = sum(piece == "" for case in CASES for piece in case["pieces"])
    assert held_back >= 100
    # A character cut short at the end comes out of `finish()` as U+FFFD.
    assert any(case["pieces"] and case["pieces"][-1].endswith("\ufffd") for case in CASES)


def test_push_holds_a_character_back_until_it_is_whole(tokenizer: Tokenizer) -> None:
    ids = tokenizer.encode("音", add_special_tokens=False).ids
    assert len(ids) > 1
    stream = TextStream(tokenizer)
    given = [stream.push(token_id) for token_id in ids]
    assert given == [""] * (len(ids) - 1) + ["音"]
    assert stream.finish() == ""


def test_special_tokens_can_be_kept(tokenizer: Tokenizer) -> None:
    ids = [483, *tokenizer.encode("a tone", add_special_tokens=False).ids, 482]
    kept = pieces_of(tokenizer, ids, skip_special_tokens=False)
    assert "".join(kept) == tokenizer.decode(ids, skip_special_tokens=False)
    assert kept[0] == "<|AUDIO|>"
    assert "".join(pieces_of(tokenizer, ids)) == "a tone"


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_pieces_come_back_from_their_offsets(case: dict[str, Any]) -> None:
    pieces = case["pieces"]
    text = "".join(pieces)
    assert pieces_at(text, piece_offsets(pieces)) == pieces


def test_offsets_that_cut_a_character_are_refused() -> None:
    with pytest.raises(ValueError, match="cut a character"):
        pieces_at("音频", [0, 1])
    with pytest.raises(ValueError, match="outside"):
        pieces_at("ab", [0, 3])


class ScriptedDecoder:
    """A decoder whose text for each prefix length is given: byte-level BPE never shrinks its
    text or moves a character over the emitted end, so the Rust-written table cannot reach
    the stream's checks for those; this can."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return self.texts[len(ids) - 1] if ids else ""


def test_a_piece_is_empty_while_the_text_is_shorter_than_what_was_given() -> None:
    decoder = ScriptedDecoder(["ab", "a", "abc"])
    assert pieces_of(decoder, [1, 2, 3]) == ["ab", "", "c"]


def test_a_piece_is_empty_while_the_given_end_falls_inside_a_character() -> None:
    # "a音": byte 2 is inside 音, so nothing more is given, not even by finish().
    decoder = ScriptedDecoder(["ab", "a音", "a音c"])
    assert pieces_of(decoder, [1, 2, 3]) == ["ab", "", ""]
    # A text ending in U+FFFD is held back by push but given by finish.
    decoder = ScriptedDecoder(["a", "a\ufffd"])
    assert pieces_of(decoder, [1, 2]) == ["a", "\ufffd"]
