"""Reasoning steps by auscult's own rules: a port of the crate's `trace::split_steps`.

A generation's text pieces (one per generated token, see `auscult.text`) are cut into steps
where the rules say (structural tags, "Step N" markers, list items, line breaks, blank lines,
sentence ends inside long paragraphs); every cut then moves to a token boundary, each step's
text is trimmed, and each step gets a kind (perception, reasoning, answer, review, other).

The rules are data: `step_rules.default.json` is the crate's `StepRules::default()` (a Rust test
keeps it equal), and a user's rules file overlays it field by field, refusing unknown fields as
the crate's `#[serde(default, deny_unknown_fields)]` does.

The port keeps Rust's semantics where Python's differ: offsets are UTF-8 bytes, the text is
searched as bytes, whitespace is Unicode `White_Space` (Rust's `char::is_whitespace`, which
`str.isspace` is not), "alphanumeric" is `Alphabetic` or a number (Rust's
`char::is_alphanumeric`, which `str.isalnum` is not), and a number is what Rust's
`str::parse::<f64>` accepts. `python/tests/data/steps_cases.json`, written by the crate, pins
the steps both sides must give.
"""

from __future__ import annotations

import copy
import json
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from os import PathLike
from typing import Any

import regex

__all__ = [
    "STEP_KINDS",
    "load_rules",
    "overlay_rules",
    "piece_offsets",
    "split_steps",
]

StepRules = dict[str, Any]
Step = dict[str, Any]

#: The serde names of the crate's `StepKind`, in its declaration order.
STEP_KINDS = ("perception", "reasoning", "answer", "review", "other")

_BOOL_FIELDS = ("tags", "step_markers", "list_items", "blank_lines", "line_breaks")
_WORD_LIST_FIELDS = ("perception_cues", "inference_openers", "answer_cues")
# In the declaration order of the crate's `StepRules`.
_RULE_FIELDS = (
    *_BOOL_FIELDS,
    "long_paragraph_chars",
    "tag_kinds",
    *_WORD_LIST_FIELDS,
)

# Rust's `char::is_whitespace` and `char::is_alphanumeric`.
_WHITE_SPACE = regex.compile(r"\p{White_Space}")
_NOT_WORD_CHARACTER = regex.compile(r"[^\p{Alphabetic}\p{N}.]")
# What Rust's `str::parse::<f64>` accepts, signs aside (a word here has none): ASCII digits
# only and no underscores, unlike Python's `float`.
_RUST_FLOAT = re.compile(
    r"(?:inf|infinity|nan|(?:[0-9]+|[0-9]+\.[0-9]*|[0-9]*\.[0-9]+)(?:e[+-]?[0-9]+)?)",
    re.ASCII | re.IGNORECASE,
)
_SECOND_UNITS = frozenset(("s", "sec", "secs", "second", "seconds"))
_TAG_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_STEP_MARKER_ENDS = tuple(bytes([b]) for b in b":.* )-")
_CJK_SENTENCE_ENDS = frozenset("。！？")
_LATIN_SENTENCE_ENDS = frozenset(".!?")


# --- rules -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _default_rules_text() -> str:
    return resources.files(__package__).joinpath("step_rules.default.json").read_text("utf-8")


def _default_rules() -> StepRules:
    return json.loads(_default_rules_text())


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate field `{key}`")
        seen[key] = value
    return seen


def _is_list(value: Any) -> bool:
    """A JSON array as Python may hold one: a list or a tuple."""
    return isinstance(value, (list, tuple))


def _checked_field(name: str, value: Any) -> Any:
    """`value` if it has the type serde reads field `name` as, else a ValueError naming it."""
    if name in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise ValueError(f"field `{name}`: expected a boolean, found {value!r}")
        return value
    if name == "long_paragraph_chars":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"field `{name}`: expected a non-negative integer, found {value!r}")
        return value
    if name == "tag_kinds":
        if not _is_list(value):
            raise ValueError(f"field `{name}`: expected a list of [tag, kind], found {value!r}")
        pairs = []
        for pair in value:
            if (
                not _is_list(pair)
                or len(pair) != 2
                or not isinstance(pair[0], str)
                or pair[1] not in STEP_KINDS
            ):
                raise ValueError(
                    f"field `{name}`: expected [tag, kind] with kind one of "
                    f"{', '.join(STEP_KINDS)}, found {pair!r}"
                )
            pairs.append([pair[0], pair[1]])
        return pairs
    if name in _WORD_LIST_FIELDS:
        if not _is_list(value) or not all(isinstance(word, str) for word in value):
            raise ValueError(f"field `{name}`: expected a list of strings, found {value!r}")
        return list(value)
    raise ValueError(
        f"unknown field `{name}`, expected one of {', '.join(f'`{f}`' for f in _RULE_FIELDS)}"
    )


def overlay_rules(overrides: Mapping[str, Any] | Sequence[Any] | None = None) -> StepRules:
    """The default rules with `overrides`' fields in place of theirs, as the crate reads a
    partial rules file: fields left out keep their defaults; an unknown field or a value of
    the wrong type is a ValueError naming the field.

    Like the crate (serde reads a struct from a JSON array too), an array gives the first
    fields in declaration order (`[false]` turns `tags` off)."""
    if overrides is None:
        return _default_rules()
    return _overlaid(overrides)


def _overlaid(overrides: Any) -> StepRules:
    """`overlay_rules` of what a rules file holds (where `null` is refused, as serde does)."""
    if _is_list(overrides):
        if len(overrides) > len(_RULE_FIELDS):
            raise ValueError(
                f"step rules as an array hold at most {len(_RULE_FIELDS)} fields, "
                f"found {len(overrides)}"
            )
        overrides = dict(zip(_RULE_FIELDS, overrides))
    if not isinstance(overrides, Mapping):
        raise ValueError(f"step rules must be a JSON object, found {overrides!r}")
    rules = _default_rules()
    for name, value in overrides.items():
        rules[name] = _checked_field(name, copy.deepcopy(value))
    return rules


def load_rules(path: str | PathLike[str] | None = None) -> StepRules:
    """The rules in the JSON file at `path` (what `auscult run --step-rules FILE` reads), over
    the defaults; the defaults when `path` is None."""
    if path is None:
        return _default_rules()
    with open(path, encoding="utf-8") as file:
        text = file.read()
    try:
        overrides = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error
    try:
        return _overlaid(overrides)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


# --- Rust string semantics on UTF-8 bytes ------------------------------------------------------


def _is_whitespace(character: str) -> bool:
    return _WHITE_SPACE.match(character) is not None


def _char_length(lead: int) -> int:
    """UTF-8 length of the character whose first byte is `lead`."""
    if lead < 0x80:
        return 1
    if lead < 0xE0:
        return 2
    if lead < 0xF0:
        return 3
    return 4


def _leading_white_space(data: bytes, start: int = 0) -> int:
    """Bytes of White_Space at `data[start:]`'s start (what Rust's `trim_start` removes)."""
    at = start
    while at < len(data):
        width = _char_length(data[at])
        if not _is_whitespace(data[at : at + width].decode("utf-8")):
            break
        at += width
    return at - start


def _trimmed_end(data: bytes) -> int:
    """The byte length of `data` less its trailing White_Space (Rust's `trim_end().len()`)."""
    end = len(data)
    while end > 0:
        start = end - 1
        while start > 0 and data[start] & 0xC0 == 0x80:
            start -= 1
        if not _is_whitespace(data[start:end].decode("utf-8")):
            break
        end = start
    return end


def _trim(text: str) -> str:
    """Rust's `str::trim`: White_Space off both ends."""
    data = text.encode("utf-8")
    start = _leading_white_space(data)
    end = _trimmed_end(data)
    return data[start:end].decode("utf-8") if start < end else ""


def _parses_as_float(word: str) -> bool:
    return _RUST_FLOAT.fullmatch(word) is not None


def _ascii_digits(data: bytes) -> int:
    count = 0
    while count < len(data) and 0x30 <= data[count] <= 0x39:
        count += 1
    return count


# --- cuts --------------------------------------------------------------------------------------


def _is_step_marker(line: bytes) -> bool:
    """"Step 3:", "step 3.", "**Step 3**", "Step 3 -"."""
    line = line.lstrip(b"*# ")
    if len(line) < 5 or line[:5].lower() != b"step ":
        return False
    rest = line[5:]
    digits = _ascii_digits(rest)
    return digits > 0 and rest[digits:].startswith(_STEP_MARKER_ENDS)


def _is_list_item(line: bytes) -> bool:
    """"- item", "* item", "• item", "1. item", "2) item"."""
    if line.startswith((b"- ", b"* ", "• ".encode("utf-8"))):
        return True
    digits = _ascii_digits(line)
    return 0 < digits < 4 and line[digits:].startswith((b". ", b") "))


def _sentence_ends(paragraph: bytes) -> list[int]:
    """Byte offsets just after sentence ends: `.`, `!`, `?` then whitespace, or a CJK full
    stop; each moved past the whitespace that follows."""
    ends = []
    limit = _trimmed_end(paragraph)
    at = 0
    while at < len(paragraph):
        end = at + _char_length(paragraph[at])
        character = paragraph[at:end].decode("utf-8")
        if character in _CJK_SENTENCE_ENDS:
            cut = True
        elif character in _LATIN_SENTENCE_ENDS:
            cut = end < len(paragraph) and _is_whitespace(
                paragraph[end : end + _char_length(paragraph[end])].decode("utf-8")
            )
        else:
            cut = False
        if cut and end < limit:
            ends.append(end + _leading_white_space(paragraph, end))
        at = end
    return ends


def _sort_cuts(cuts: list[tuple[int, str | None]]) -> list[tuple[int, str | None]]:
    """Cuts by position; of cuts at one position the last made wins."""
    ordered: list[tuple[int, str | None]] = []
    for cut in sorted(cuts, key=lambda c: c[0]):
        if ordered and ordered[-1][0] == cut[0]:
            ordered[-1] = cut
        else:
            ordered.append(cut)
    return ordered


def _segment_text(data: bytes, rules: StepRules) -> list[tuple[int, str | None]]:
    """Where `data` (UTF-8) is cut, the first cut at 0, each with the innermost tag in force
    after it (the crate's `cuts::segment_text`)."""
    cuts: list[tuple[int, str | None]] = [(0, None)]
    open_tags: list[str] = []
    breaks = [i + 1 for i, byte in enumerate(data) if byte == 0x0A]
    line_starts = [at for at in [0, *breaks] if at < len(data)]

    if rules["tags"]:
        search = 0
        while (at := data.find(b"<", search)) >= 0:
            close = data.find(b">", at)
            if close < 0:
                break
            inner = data[at + 1 : close]
            end = close + 1
            search = end
            closing = inner.startswith(b"/")
            name_bytes = inner[1:] if closing else inner
            if not name_bytes or not all(b in _TAG_NAME_BYTES for b in name_bytes):
                continue
            name = name_bytes.decode("ascii")
            if closing:
                if name in open_tags:
                    del open_tags[len(open_tags) - 1 - open_tags[::-1].index(name) :]
                cuts.append((end, open_tags[-1] if open_tags else None))
            else:
                open_tags.append(name)
                cuts.append((at, name))

    tag_cuts = list(cuts)

    def tag_at(at: int) -> str | None:
        for position, tag in reversed(tag_cuts):
            if position <= at:
                return tag
        return None

    extra: list[int] = []
    for line in line_starts:
        rest = data[line:]
        trimmed = rest.lstrip(b" \t")
        indent = len(rest) - len(trimmed)
        marked = (rules["step_markers"] and _is_step_marker(trimmed)) or (
            rules["list_items"] and _is_list_item(trimmed)
        )
        if marked or (rules["line_breaks"] and line > 0):
            extra.append(line + indent)
    if rules["blank_lines"]:
        search = 0
        while (at := data.find(b"\n\n", search)) >= 0:
            extra.append(at + _leading_white_space(data, at))
            search = at + 2
    # Inline "Step N:" that does not start a line; ASCII case folding keeps offsets.
    if rules["step_markers"]:
        folded = data.lower()
        starts_of_lines = set(line_starts)
        last = len(data) - 5
        search = 1
        while (at := folded.find(b"step ", search)) >= 0 and at <= last:
            if _is_step_marker(data[at:]) and at not in starts_of_lines:
                extra.append(at)
            search = at + 1
    cuts.extend((at, tag_at(at)) for at in extra)
    cuts = _sort_cuts(cuts)

    limit = rules["long_paragraph_chars"]
    if limit > 0:
        more: list[tuple[int, str | None]] = []
        for i, (start, tag) in enumerate(cuts):
            end = cuts[i + 1][0] if i + 1 < len(cuts) else len(data)
            paragraph = data[start:end]
            if len(paragraph.decode("utf-8")) > limit:
                more.extend((start + at, tag) for at in _sentence_ends(paragraph))
        cuts = _sort_cuts(cuts + more)
    return cuts


# --- kinds -------------------------------------------------------------------------------------


def _names_seconds(words: Sequence[str]) -> bool:
    """"0.4 s", "2 seconds", "1.5 sec", "2s": a number followed by a unit of seconds."""
    if any(
        _parses_as_float(number) and unit in _SECOND_UNITS
        for number, unit in zip(words, words[1:])
    ):
        return True
    return any(
        word.endswith("s") and len(word) > 1 and _parses_as_float(word[:-1]) for word in words
    )


def _describes_audio(lower: str, rules: StepRules) -> bool:
    """A lower-cased step naming a perception cue or a time in seconds, and not opening as a
    conclusion."""
    words = [w.rstrip(".") for w in _NOT_WORD_CHARACTER.split(lower)]
    words = [w for w in words if w]
    tag_names = {tag for tag, _ in rules["tag_kinds"]}
    skipped = 0
    while skipped < len(words) and (
        words[skipped] in tag_names or words[skipped] == "step" or _parses_as_float(words[skipped])
    ):
        skipped += 1
    opening = " ".join(words[skipped : skipped + 3])
    for opener in rules["inference_openers"]:
        opener = opener.lower()
        if opening == opener or opening.startswith(opener + " "):
            return False
    if any(cue.lower() in words for cue in rules["perception_cues"]):
        return True
    return _names_seconds(words)


def _kind_of(text: str, tag: str | None, rules: StepRules) -> str:
    lower = text.lower()
    if tag is not None:
        # Rust's `eq_ignore_ascii_case`: bytes.lower() folds ASCII letters only.
        folded = tag.encode("utf-8").lower()
        kind = next(
            (k for t, k in rules["tag_kinds"] if t.encode("utf-8").lower() == folded), "other"
        )
        if kind == "reasoning" and _describes_audio(lower, rules):
            return "perception"
        return kind
    if any(cue.lower() in lower for cue in rules["answer_cues"]):
        return "answer"
    if _describes_audio(lower, rules):
        return "perception"
    return "other"


# --- steps -------------------------------------------------------------------------------------


def piece_offsets(pieces: Sequence[str]) -> list[int]:
    """The UTF-8 byte offset where each piece starts in the pieces' concatenation (a trace's
    `generation.piece_offsets`)."""
    offsets = []
    end = 0
    for piece in pieces:
        offsets.append(end)
        end += len(piece.encode("utf-8"))
    return offsets


def _token_at(starts: Sequence[int], at: int) -> int:
    """The token a cut at byte `at` goes before: the first that ends after it, moved back over
    the empty pieces just before it (the first tokens of the same multi-byte character)."""
    tokens = len(starts) - 1
    token = min(bisect_right(starts, at, 1) - 1, tokens)
    while token > 0 and starts[token - 1] == starts[token]:
        token -= 1
    return token


def split_steps(pieces: Sequence[str], rules: Mapping[str, Any] | None = None) -> list[Step]:
    """The steps of a generation whose token `k` adds text `pieces[k]`, as the crate's
    `split_steps` gives them, in a trace's JSON form: `{"index", "tokens": [first, end],
    "chars": [byte start, byte end], "kind", "text"}`. `rules` are fields over the defaults
    (`load_rules`' result, or a part of one); None: the defaults."""
    rules = overlay_rules(rules)
    data = "".join(pieces).encode("utf-8")
    # Token k covers data[starts[k]:starts[k + 1]].
    starts = [*piece_offsets(pieces), len(data)]

    segments = _segment_text(data, rules)
    token_cuts = [0, *(_token_at(starts, start) for start, _ in segments[1:]), len(pieces)]

    steps: list[Step] = []
    for i, (first, end) in enumerate(zip(token_cuts, token_cuts[1:])):
        if end <= first:
            continue
        byte_start, byte_end = starts[first], starts[end]
        text = _trim(data[byte_start:byte_end].decode("utf-8"))
        if not text:
            continue
        enclosing = segments[min(i, len(segments) - 1)][1]
        steps.append(
            {
                "index": len(steps),
                "tokens": [first, end],
                "chars": [byte_start, byte_end],
                "kind": _kind_of(text, enclosing, rules),
                "text": text,
            }
        )
    return steps
