"""Trace files as `auscult run` and `auscult batch` write and read them.

A trace is a JSON object (`auscult.trace/1`, `schema/auscult.trace.schema.json`) plus a
safetensors sidecar holding the attention arrays. This module writes both byte for byte as the
Rust crate does:

- `canonical(trace)` orders the keys as the Rust structs declare them, fills in what serde's
  `#[serde(default)]` fills in on reading, drops unknown keys (serde ignores them) and leaves
  out optional fields exactly where `skip_serializing_if` does;
- `dumps(trace)` is `serde_json::to_string_pretty` (what `run` writes, no final newline) and
  `dumps(trace, pretty=False)` is `serde_json::to_string` (one line of a `batch` traces file);
  floats are written as serde_json writes them (`zmij`'s shortest form: `1e-7`, `0.00001`,
  `1e+16`, `-0.0`), the two `f32` fields (a sampler's `temperature` and `top_p`) in their shortest
  float32 form (`0.1`, not `0.10000000149011612`), NaN and infinities as `null`;
- writes are whole or absent (`durable.rs`): a hidden `.auscult-*.partial` file beside the
  target, synced, renamed over it, and the folder synced; the sidecar is written before the
  trace;
- `read_traces` reads a `.json` trace or a `.jsonl` traces file as `auscult report` does: a
  malformed line is skipped with a warning, another schema version refuses the whole file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

TRACE_SCHEMA = "auscult.trace/1"
SIDECAR_SCHEMA = "auscult.attention/1"
#: The id a mixture-of-experts sidecar stores in a dense layer's `experts` row.
NO_EXPERT = 65535

__all__ = [
    "TRACE_SCHEMA",
    "SIDECAR_SCHEMA",
    "NO_EXPERT",
    "F32",
    "format_float",
    "canonical",
    "canonical_failed",
    "attention_record",
    "dumps",
    "loads",
    "durable_write",
    "write_trace",
    "write_run",
    "sidecar_path",
    "run_sidecar_path",
    "batch_sidecar_name",
    "batch_sidecar_folder",
    "append_line",
    "write_lines",
    "BatchWriter",
    "read_trace",
    "read_traces",
    "read_traces_file",
    "TracesFile",
    "read_sidecar",
    "write_sidecar",
    "check_sidecar_against_trace",
]


class F32(float):
    """A float the Rust side stores as `f32`: written in its shortest float32 form."""


# ---------------------------------------------------------------------------------------------
# The Rust structs, field by field: what `canonical` orders, defaults and skips.

_REQUIRED = object()


@dataclass(frozen=True)
class _Field:
    """One serde field: its JSON name, how its value is made canonical, its default when absent
    on reading (`_REQUIRED` when serde has none), and whether serialising skips it."""

    name: str
    convert: Callable[[Any, str], Any]
    default: Any = _REQUIRED
    skip: Callable[[Any], bool] | None = None


def _is_none(value: Any) -> bool:
    return value is None


def _is_empty(value: Any) -> bool:
    return len(value) == 0


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a string, got {value!r}")
    return value


def _unsigned(value: Any, where: str) -> int:
    """A `u64` or `usize` (64 bits where auscult builds)."""
    # serde_json refuses a float (even 3.0) where an integer goes.
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{where}: expected a non-negative integer, got {value!r}")
    value = int(value)
    if value < 0:
        raise ValueError(f"{where}: expected a non-negative integer, got {value}")
    if value > 0xFFFF_FFFF_FFFF_FFFF:
        raise ValueError(f"{where}: {value} does not fit in 64 bits")
    return value


def _u32(value: Any, where: str) -> int:
    value = _unsigned(value, where)
    if value > 0xFFFF_FFFF:
        raise ValueError(f"{where}: {value} does not fit in 32 bits")
    return value


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{where}: expected true or false, got {value!r}")
    return bool(value)


def _f64(value: Any, where: str) -> float | None:
    if value is None:  # serde_json writes a non-finite f64 as null; it reads null back as none
        raise ValueError(f"{where}: expected a number, got null")
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _f32(value: Any, where: str) -> F32:
    return F32(float(np.float32(_f64(value, where))))


def _optional(convert: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def optional(value: Any, where: str) -> Any:
        return None if value is None else convert(value, where)

    return optional


def _list(convert: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def convert_list(value: Any, where: str) -> list[Any]:
        if not isinstance(value, (list, tuple, np.ndarray)):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        return [convert(item, f"{where}[{i}]") for i, item in enumerate(value)]

    return convert_list


def _pair(convert: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    def convert_pair(value: Any, where: str) -> list[Any]:
        items = _list(convert)(value, where)
        if len(items) != 2:
            raise ValueError(f"{where}: expected 2 values, got {len(items)}")
        return items

    return convert_pair


def _enum(*names: str) -> Callable[[Any, str], str]:
    def convert_enum(value: Any, where: str) -> str:
        if value not in names:
            raise ValueError(f"{where}: {value!r} is not one of {', '.join(names)}")
        return value

    return convert_enum


def _struct(fields: list[_Field]) -> Callable[[Any, str], dict[str, Any]]:
    def convert_struct(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: expected an object, got {value!r}")
        return _fill(value, fields, where)

    return convert_struct


def _fill(value: Mapping[str, Any], fields: list[_Field], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields:
        path = f"{where}.{field.name}" if where else field.name
        if field.name in value:
            item = field.convert(value[field.name], path)
        elif field.default is _REQUIRED:
            raise ValueError(f"{path}: missing")
        else:
            default = field.default() if callable(field.default) else field.default
            item = field.convert(default, path) if default is not None else None
        if field.skip is not None and field.skip(item):
            continue
        out[field.name] = item
    return out


def _string_map_of_f64(value: Any, where: str) -> dict[str, float | None]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object, got {value!r}")
    # A BTreeMap: keys in byte order, which is code point order for UTF-8.
    return {
        _string(key, where): _f64(value[key], f"{where}.{key}")
        for key in sorted(value, key=lambda k: str(k).encode("utf-8"))
    }


def _decoding(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object, got {value!r}")
    mode = value.get("mode")
    if mode == "greedy":
        return {"mode": "greedy"}
    if mode == "sample":
        return {"mode": "sample", **_fill(value, _SAMPLE, where)}
    raise ValueError(f"{where}.mode: {mode!r} is not greedy or sample")


_SAMPLE = [
    _Field("temperature", _f32),
    _Field("top_p", _f32),
    _Field("top_k", _unsigned),
    _Field("seed", _unsigned),
]

_STOP_REASON = _enum("stop_token", "max_new_tokens", "cancelled")
_LABEL = _enum("matched", "hallucinated", "misused", "neutral")
_STEP_KIND = _enum("perception", "reasoning", "answer", "review", "other")


def _label_source(value: Any, where: str) -> str:
    text = _string(value, where)
    kind = text.split(":", 1)[0]
    if kind not in ("auto", "judge", "human"):
        raise ValueError(
            f"{where}: label source {text!r} is not auto, judge:<model> or human:<name>"
        )
    return text


_EXPERTS = [_Field("count", _unsigned), _Field("top_k", _unsigned)]

_MODEL = [
    _Field("path", _string),
    _Field("family", _string),
    _Field("config_sha256", _string),
    _Field("dtype", _string),
    _Field("quantization", _optional(_string), None, _is_none),
    _Field("device", _string),
    _Field("layers", _unsigned),
    _Field("heads", _unsigned),
    _Field("kv_heads", _unsigned),
    _Field("experts", _optional(_struct(_EXPERTS)), None, _is_none),
]

_AUDIO = [
    _Field("path", _string),
    _Field("sha256", _string),
    _Field("duration_seconds", _f64),
    _Field("sample_rate", _u32),
    _Field("window_seconds", _f64),
    _Field("truncated", _boolean),
    _Field("seconds_per_audio_token", _f64),
]

_PROMPT = [
    _Field("text", _string),
    _Field("question", _optional(_string), None),
    _Field("choices", _list(_string), list),
    _Field("system", _optional(_string), None),
    _Field("rendered", _string),
]

_INPUT = [_Field("ids", _list(_u32)), _Field("audio_span", _pair(_unsigned))]

_CAPTURE = [
    _Field("enabled", _boolean),
    _Field("per_head_maps", _boolean),
    _Field("prompt", _boolean),
]

_PARAMS = [
    _Field("decoding", _decoding),
    _Field("max_new_tokens", _unsigned),
    _Field("min_new_tokens", _unsigned, 0),
    _Field("stop_ids", _list(_u32)),
    _Field("capture", _struct(_CAPTURE)),
]

_GENERATION = [
    _Field("ids", _list(_u32)),
    _Field("text", _string),
    _Field("piece_offsets", _list(_unsigned), list, _is_empty),
    _Field("stop_reason", _STOP_REASON),
    _Field("params", _struct(_PARAMS)),
]

_STEP = [
    _Field("index", _unsigned),
    _Field("tokens", _pair(_unsigned)),
    _Field("chars", _pair(_unsigned)),
    _Field("kind", _STEP_KIND),
    _Field("text", _string),
]

_BENCHMARK = [
    _Field("id", _string),
    _Field("question", _string),
    _Field("choices", _list(_string)),
    _Field("answer", _string),
    _Field("task", _optional(_string), None),
    _Field("category", _optional(_string), None),
    _Field("sub_category", _optional(_string), None),
    _Field("difficulty", _optional(_string), None),
    _Field("file", _string),
    _Field("file_sha256", _string),
    _Field("index", _unsigned),
]

_ANSWER = [_Field("extracted", _string), _Field("correct", _boolean)]

_STEP_LABEL = [
    _Field("step", _unsigned),
    _Field("event", _string),
    _Field("label", _LABEL),
    _Field("source", _label_source),
    _Field("note", _optional(_string), None, _is_none),
]

_MISSED = [_Field("event", _string), _Field("source", _label_source)]

_LABELS = [
    _Field("steps", _list(_struct(_STEP_LABEL)), list),
    _Field("missed", _list(_struct(_MISSED)), list),
    _Field("targets", _optional(_unsigned), None),
]

_TIMINGS = [
    _Field("load_seconds", _f64),
    _Field("prefill_seconds", _f64),
    _Field("audio_encoder_seconds", _f64, 0.0),
    _Field("decode_seconds", _f64),
    _Field("decode_tokens_per_second", _f64),
]

_ATTENTION = [
    _Field("sidecar", _string),
    _Field("layers", _unsigned),
    _Field("heads", _unsigned),
    _Field("audio_tokens", _unsigned),
    _Field("generated_rows", _unsigned),
    _Field("prompt_rows", _unsigned),
    _Field("per_head_maps", _boolean),
]

_OCCLUSION = [
    _Field("window_seconds", _f64),
    _Field("hop_seconds", _f64),
    _Field("windows", _list(_pair(_f64))),
]

# `Regeneration`, flattened into the two records below at its place.
_REGENERATION = [
    _Field("ids", _list(_u32)),
    _Field("text", _string),
    _Field("stop_reason", _STOP_REASON),
    _Field("answer", _optional(_struct(_ANSWER)), None, _is_none),
]

_COUNTERFACTUAL_ANSWER = [_Field("counterfactual", _string), *_REGENERATION]

_INTERVENTION = [
    _Field("from_step", _unsigned),
    _Field("from_token", _unsigned),
    *_REGENERATION,
    _Field("answer_changed", _boolean),
]

_EVIDENCE = [
    _Field("reliance", _list(_string), list, _is_empty),
    _Field("occlusion", _optional(_struct(_OCCLUSION)), None, _is_none),
    _Field("counterfactual_answer", _optional(_struct(_COUNTERFACTUAL_ANSWER)), None, _is_none),
    _Field("interventions", _list(_struct(_INTERVENTION)), list, _is_empty),
    _Field("seconds", _string_map_of_f64, dict),
]

_TRACE = [
    _Field("schema", _string),
    _Field("id", _string),
    _Field("created", _string),
    _Field("auscult_version", _string),
    _Field("model", _struct(_MODEL)),
    _Field("audio", _struct(_AUDIO)),
    _Field("prompt", _struct(_PROMPT)),
    _Field("input", _struct(_INPUT)),
    _Field("generation", _struct(_GENERATION)),
    _Field("steps", _list(_struct(_STEP))),
    _Field("benchmark", _optional(_struct(_BENCHMARK)), None, _is_none),
    _Field("answer", _optional(_struct(_ANSWER)), None, _is_none),
    _Field("labels", _optional(_struct(_LABELS)), None, _is_none),
    _Field("timings", _struct(_TIMINGS)),
    # `Option<AttentionRecord>` without `skip_serializing_if`: `null` when capture was off. It has
    # no `#[serde(default)]` either, but serde reads a missing `Option` as `None`.
    _Field("attention", _optional(_struct(_ATTENTION)), None),
    _Field("evidence", _optional(_struct(_EVIDENCE)), None, _is_none),
]

_FAILED = [
    _Field("schema", _string),
    _Field("id", _string),
    _Field("created", _string),
    _Field("benchmark", _optional(_struct(_BENCHMARK)), None, _is_none),
    _Field("audio_path", _optional(_string), None, _is_none),
    _Field("error", _string),
]


def canonical(trace: Mapping[str, Any]) -> dict[str, Any]:
    """The trace as the Rust `Trace` struct serialises it after reading `trace`: keys in struct
    order, serde's defaults filled in, unknown keys dropped, optional fields left out where
    `skip_serializing_if` leaves them out, `f32` fields as `F32`. A missing required field or
    a value of the wrong type raises `ValueError` naming the field."""
    return _fill(trace, _TRACE, "")


def canonical_failed(item: Mapping[str, Any]) -> dict[str, Any]:
    """A failed batch item (`FailedItem`: a line with `error`), as `canonical` does a trace."""
    return _fill(item, _FAILED, "")


def _canonical_line(line: Mapping[str, Any]) -> dict[str, Any]:
    return canonical_failed(line) if "error" in line else canonical(line)


# ---------------------------------------------------------------------------------------------
# serde_json's text.


def _shortest_digits(value: float, single: bool) -> tuple[str, int]:
    """The shortest decimal digits that read back as `value` (as a float32 when `single`), and
    the power of ten `k` with value = digits × 10^k (shortest round trip, as `zmij` finds)."""
    if single:
        text = np.format_float_scientific(np.float32(value), unique=True, trim="-")
    else:
        text = repr(float(value))
    mantissa, _, exponent = text.lower().partition("e")
    mantissa = mantissa.lstrip("-")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    power = (int(exponent) if exponent else 0) - len(fraction)
    stripped = digits.rstrip("0")
    power += len(digits) - len(stripped)
    return stripped or "0", power


def format_float(value: float, single: bool = False) -> str:
    """A finite float as serde_json writes it (`zmij::Buffer::format_finite`, the `f64` or, with
    `single`, the `f32` layout: fixed notation for decimal exponents -5..=15, or -6..=12 for
    `f32`, else `d.ddde+N`/`de-N`); non-finite values are `null`."""
    if not math.isfinite(value):
        return "null"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return sign + "0.0"
    digits, k = _shortest_digits(abs(value), single)
    length = len(digits)
    kk = length + k  # the decimal point's place: value = 0.digits × 10^kk
    limit, low = (13, -6) if single else (16, -5)  # scientific exponent kk - 1 in -6..=12, -5..=15
    if 0 <= k and kk <= limit:
        text = digits + "0" * k + ".0"
    elif 0 < kk <= limit:
        text = digits[:kk] + "." + digits[kk:]
    elif low < kk <= 0:
        text = "0." + "0" * (-kk) + digits
    else:
        exponent = kk - 1
        mantissa = digits if length == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    return sign + text


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, np.floating):
        return format_float(float(value), single=value.dtype == np.float32)
    if isinstance(value, float):
        return format_float(value, single=isinstance(value, F32))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as JSON")


def _write(value: Any, pretty: bool, indent: str, out: list[str]) -> None:
    if isinstance(value, Mapping):
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            if pretty:
                out.append("\n" + inner)
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(": " if pretty else ":")
            _write(item, pretty, inner, out)
        if pretty:
            out.append("\n" + indent)
        out.append("}")
    elif isinstance(value, (list, tuple, np.ndarray)):
        if len(value) == 0:
            out.append("[]")
            return
        inner = indent + "  "
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            if pretty:
                out.append("\n" + inner)
            _write(item, pretty, inner, out)
        if pretty:
            out.append("\n" + indent)
        out.append("]")
    else:
        out.append(_scalar(value))


def dumps(trace: Mapping[str, Any], pretty: bool = True) -> str:
    """The trace's text as auscult writes it: `serde_json::to_string_pretty` (a `run` trace file,
    no final newline) or, with `pretty=False`, `serde_json::to_string` (a `batch` line, without
    its newline). The trace is made `canonical` first; a failed item (with `error`) is written
    as `FailedItem`."""
    out: list[str] = []
    _write(_canonical_line(trace), pretty, "", out)
    return "".join(out)


def loads(text: str) -> dict[str, Any]:
    """One trace (or failed item) from its JSON text, as given (not made canonical)."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not an auscult trace (not a JSON object)")
    return value


# ---------------------------------------------------------------------------------------------
# Durable writes.


def _folder_of(path: Path) -> Path:
    return path.parent  # `Path("a.json").parent` is `Path(".")`


def _sync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def durable_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Writes `data` to `path` whole, replacing what was there (`durable::write`): a hidden
    `.auscult-*.partial` file in the same folder, synced, given the replaced file's permissions
    (a new file gets 0666 less the umask), renamed over `path`, and the folder synced. A failure
    leaves the old file as it was and no temporary file behind; `OSError` names `path`."""
    path = Path(path)
    folder = _folder_of(path)
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=".auscult-", suffix=".partial", dir=folder)
    except OSError as error:
        raise OSError(error.errno, f"{path}: cannot write ({error.strerror})") from error
    try:
        with os.fdopen(descriptor, "wb") as file:
            try:
                mode = os.stat(path).st_mode & 0o7777
            except FileNotFoundError:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.chmod(temporary, mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError):
            reason = error.strerror or str(error)
            raise OSError(error.errno, f"{path}: cannot write ({reason})") from error
        raise
    try:
        _sync_folder(folder)
    except OSError as error:
        raise OSError(error.errno, f"{path}: cannot write ({error.strerror})") from error


def write_trace(path: str | os.PathLike[str], trace: Mapping[str, Any]) -> None:
    """Writes `trace` as `Trace::write` does: pretty JSON without a final newline, durably."""
    durable_write(Path(path), dumps(trace, pretty=True).encode("utf-8"))


def run_sidecar_path(trace_path: str | os.PathLike[str]) -> Path:
    """`trace.json` → `trace.attn.safetensors` (Rust's `Path::with_extension`)."""
    trace_path = Path(trace_path)
    return trace_path.with_name(trace_path.stem + ".attn.safetensors")


def write_run(
    trace_path: str | os.PathLike[str],
    trace: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray] | None,
) -> dict[str, Any]:
    """Writes a trace as `auscult run --out TRACE_PATH` does: the sidecar `<stem>.attn.safetensors`
    beside it first, then the trace, whose `attention` record describes the arrays and names the
    sidecar's file; without arrays (capture off) `attention` is null and no sidecar is written.
    The arrays are checked against the trace before anything is written. Returns the trace as
    written (canonical)."""
    trace_path = Path(trace_path)
    if trace_path.is_dir():
        raise ValueError(f"{trace_path}: is a directory; give a file name")
    written = dict(trace)
    written["attention"] = None
    if arrays is not None:
        sidecar = run_sidecar_path(trace_path)
        written["attention"] = attention_record(sidecar.name, arrays)
        check_sidecar_against_trace(arrays, written, sidecar)
        write_sidecar(sidecar, arrays)
    written = canonical(written)
    write_trace(trace_path, written)
    return written


def attention_record(sidecar_name: str, arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The `attention` record of `arrays` (`Trace::record_attention`)."""
    ratio = np.asarray(arrays["gen.audio_ratio"])
    audio_map = np.asarray(arrays["gen.audio_map"])
    if ratio.ndim != 3 or audio_map.ndim != 3:
        raise ValueError("gen.audio_ratio and gen.audio_map must be [rows, layers, ·]")
    prompt = arrays.get("prompt.audio_ratio")
    return {
        "sidecar": sidecar_name,
        "layers": int(ratio.shape[1]),
        "heads": int(ratio.shape[2]),
        "audio_tokens": int(audio_map.shape[2]),
        "generated_rows": int(ratio.shape[0]),
        "prompt_rows": 0 if prompt is None else int(np.asarray(prompt).shape[0]),
        "per_head_maps": "gen.head_maps" in arrays,
    }


# ---------------------------------------------------------------------------------------------
# Traces files (JSON Lines), as `batch` writes them.


def batch_sidecar_folder(traces_path: str | os.PathLike[str]) -> Path:
    """`traces.jsonl` → `traces.attn/` (the sidecars' folder beside a batch's traces file)."""
    traces_path = Path(traces_path)
    return traces_path.with_name(traces_path.stem + ".attn")


def batch_sidecar_name(index: int, item_id: str) -> str:
    """A benchmark item's sidecar file name (`cli/batch.rs`): `<index:06>-<id>.safetensors`, the
    id's characters other than ASCII letters, digits, `-`, `_` and `.` as `_`, at most 80 of
    them."""
    safe = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in item_id)
    return f"{index:06d}-{safe[:80]}.safetensors"


def _open_for_append(path: Path) -> Any:
    existed = path.exists()
    needs_newline = existed and path.stat().st_size > 0 and not _ends_with_newline(path)
    file = open(path, "ab")
    if not existed:
        _sync_folder(_folder_of(path))
    if needs_newline:
        file.write(b"\n")
    return file


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as file:
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b"\n"


def append_line(path: str | os.PathLike[str], trace: Mapping[str, Any]) -> None:
    """Appends one trace (or failed item) to a traces file as `batch` does: compact JSON and a
    newline, synced before returning; a file is created (its name made durable), and a last line
    a killed run cut off is closed with a newline first (readers skip it)."""
    path = Path(path)
    line = (dumps(trace, pretty=False) + "\n").encode("utf-8")
    with _open_for_append(path) as file:
        file.write(line)
        file.flush()
        if hasattr(os, "fdatasync"):
            os.fdatasync(file.fileno())
        else:
            os.fsync(file.fileno())


def write_lines(path: str | os.PathLike[str], traces: list[Mapping[str, Any]]) -> None:
    """Writes a whole traces file at once (each line as `append_line` writes it), durably."""
    text = "".join(dumps(trace, pretty=False) + "\n" for trace in traces)
    durable_write(Path(path), text.encode("utf-8"))


class BatchWriter:
    """Appends traces to a `batch` traces file with their sidecars in the folder beside it:
    `traces.jsonl`, sidecars in `traces.attn/<index:06>-<id>.safetensors` (the index is the
    benchmark record's, else the line's), written before the line."""

    def __init__(self, traces_path: str | os.PathLike[str]) -> None:
        self.path = Path(traces_path)
        self.folder = batch_sidecar_folder(self.path)

    def append(
        self,
        trace: Mapping[str, Any],
        arrays: Mapping[str, np.ndarray] | None = None,
        index: int | None = None,
    ) -> dict[str, Any]:
        written = dict(trace)
        if arrays is not None:
            if index is None:
                benchmark = trace.get("benchmark")
                if benchmark is None:
                    raise ValueError("a trace without a benchmark record needs index=")
                index = int(benchmark["index"])
            name = batch_sidecar_name(index, str(trace["id"]))
            self.folder.mkdir(parents=True, exist_ok=True)
            relative = f"{self.folder.name}/{name}"
            written["attention"] = attention_record(relative, arrays)
            check_sidecar_against_trace(arrays, written, self.folder / name)
            write_sidecar(self.folder / name, arrays)
        written = canonical(written)
        append_line(self.path, written)
        return written


# ---------------------------------------------------------------------------------------------
# Reading.


@dataclass
class TracesFile:
    """What reading a traces file found: every valid line (traces and failed items, in file
    order) and `path:line: problem; skipped` for each line left out."""

    lines: list[dict[str, Any]]
    skipped: list[str]

    def finished(self) -> list[dict[str, Any]]:
        """The finished traces (failed items left out)."""
        return [line for line in self.lines if "error" not in line]

    def failed(self) -> list[dict[str, Any]]:
        return [line for line in self.lines if "error" in line]


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(
            f"{path}: not a trace (not JSON text); traces are the .json files `auscult run` "
            "writes and the .jsonl files of `auscult batch`"
        ) from None


def _check_schema(value: Any) -> str | None:
    """Why `value` is not a trace line of this schema (`None` when it is)."""
    schema = value.get("schema") if isinstance(value, dict) else None
    if isinstance(schema, str):
        if schema == TRACE_SCHEMA:
            return None
        return (
            f"trace schema {json.dumps(schema)} is not supported by this auscult "
            f"(it reads {TRACE_SCHEMA})"
        )
    return 'not an auscult trace (no "schema" field)'


def _rust_lines(text: str) -> list[str]:
    """`str::lines`: split at `\\n`, a final `\\r` of each line dropped, no empty last line."""
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_traces_file(path: str | os.PathLike[str]) -> TracesFile:
    """Reads a traces file (JSON Lines) as `trace::read_traces` does: blank lines ignored, a line
    that is not JSON, not a trace or malformed is listed in `skipped` (a cut-off last line as
    such); another schema version refuses the whole file (`ValueError` naming the line)."""
    path = Path(path)
    text = _read_text(path)
    ends_cleanly = text.endswith("\n") or not text
    lines = _rust_lines(text)
    found = TracesFile([], [])
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        reason = None
        try:
            value = json.loads(line)
        except ValueError as error:
            reason = f"not JSON ({error})"
        else:
            reason = _check_schema(value)
            if reason is not None and reason.startswith("trace schema"):
                raise ValueError(f"{path}:{number}: {reason}")
            if reason is None:
                try:
                    found.lines.append(_canonical_line(value))
                except ValueError as error:
                    what = "failed item" if "error" in value else "trace"
                    reason = f"malformed {what} ({error})"
        if reason is not None:
            if number == len(lines) and not ends_cleanly:
                reason = "truncated last line (a run stopped while writing it)"
            found.skipped.append(f"{path}:{number}: {reason}; skipped")
    return found


def read_trace(path: str | os.PathLike[str]) -> dict[str, Any]:
    """One `run` trace (`Trace::read`), canonical; `ValueError` names the file and the problem."""
    path = Path(path)
    text = _read_text(path)
    try:
        value = json.loads(text)
    except ValueError:
        raise ValueError(f"{path}: not JSON") from None
    reason = _check_schema(value)
    if reason is not None:
        raise ValueError(f"{path}: {reason}")
    try:
        return canonical(value)
    except ValueError as error:
        raise ValueError(f"{path}: malformed trace ({error})") from None


def read_traces(path: str | os.PathLike[str], warn: bool = True) -> list[dict[str, Any]]:
    """The finished traces of a `.json` trace or a traces file, canonical, as `auscult report`
    reads them: skipped lines are reported with `warnings.warn` (unless `warn` is false) and
    failed items left out."""
    path = Path(path)
    if path.suffix == ".json":
        return [read_trace(path)]
    found = read_traces_file(path)
    if warn:
        for line in found.skipped:
            warnings.warn(line, stacklevel=2)
    return found.finished()


# ---------------------------------------------------------------------------------------------
# Sidecars.


def sidecar_path(trace_file: str | os.PathLike[str], trace: Mapping[str, Any]) -> Path | None:
    """Where `trace`'s sidecar is: its `attention.sidecar` relative to the folder of the file
    the trace was read from; `None` when capture was off."""
    record = trace.get("attention")
    if record is None:
        return None
    return Path(trace_file).parent / record["sidecar"]


_ROW_GROUPS = ("gen", "prompt")


def _validate_rows(
    arrays: Mapping[str, np.ndarray], prefix: str, file: str
) -> tuple[int, ...] | None:
    """`read_rows` of `sidecar/mod.rs`: the group's arrays agree with each other. Returns
    `(rows, layers, heads, audio tokens)`, or `None` without `<prefix>.audio_ratio`."""
    name = f"{prefix}.audio_ratio"
    if name not in arrays:
        return None
    map_name = f"{prefix}.audio_map"
    for required in (name, f"{prefix}.sink_mass", map_name):
        if required not in arrays:
            raise ValueError(f"{file}: no tensor named {required}")
    for array in ("audio_ratio", "sink_mass", "audio_map", "head_maps"):
        full = f"{prefix}.{array}"
        if full in arrays and arrays[full].dtype != np.float32:
            raise ValueError(f"{file}: tensor {full} is {_dtype_name(arrays[full])}, not F32")
    shape = arrays[name].shape
    map_shape = arrays[map_name].shape
    if len(shape) != 3:
        raise ValueError(f"{file}: {name} has shape {list(shape)}, not [rows, layers, heads]")
    if len(map_shape) != 3:
        raise ValueError(
            f"{file}: {map_name} has shape {list(map_shape)}, not [rows, layers, audio tokens]"
        )
    rows, layers, heads = (int(n) for n in shape)
    audio_tokens = int(map_shape[2])
    experts = f"{prefix}.experts"
    if experts in arrays:
        ids = arrays[experts]
        if ids.dtype != np.uint16:
            raise ValueError(f"{file}: tensor {experts} is {_dtype_name(ids)}, not U16")
        if not (ids.ndim == 3 and ids.shape[:2] == (rows, layers) and ids.shape[2] > 0):
            raise ValueError(
                f"{file}: {experts} has shape {list(ids.shape)}, not [{rows} rows, {layers} "
                "layers, top k]"
            )
    per_head = rows * layers * heads
    head_maps = arrays.get(f"{prefix}.head_maps")
    expected = [
        ("sink_mass", arrays[f"{prefix}.sink_mass"].size, per_head),
        ("audio_map", arrays[map_name].size, rows * layers * audio_tokens),
        (
            "head_maps",
            0 if head_maps is None else head_maps.size,
            0 if head_maps is None else per_head * audio_tokens,
        ),
    ]
    for array, found, wanted in expected:
        if found != wanted:
            raise ValueError(
                f"{file}: {prefix}.{array} holds {found} values; [{rows} rows, {layers} layers, "
                f"{heads} heads, {audio_tokens} audio tokens] need {wanted}"
            )
    return rows, layers, heads, audio_tokens


def _dtype_name(array: np.ndarray) -> str:
    names = {
        np.dtype(np.float32): "F32",
        np.dtype(np.float64): "F64",
        np.dtype(np.float16): "F16",
        np.dtype(np.int64): "I64",
        np.dtype(np.int32): "I32",
        np.dtype(np.uint16): "U16",
        np.dtype(np.uint8): "U8",
    }
    return names.get(array.dtype, str(array.dtype))


def _validate_evidence(arrays: Mapping[str, np.ndarray], tokens: int, file: str) -> None:
    """`read_evidence` of `sidecar/evidence.rs`: every reliance array one value per token."""
    if "reliance.actual.log_prob" not in arrays:
        return
    for name, array in arrays.items():
        if not name.startswith("reliance."):
            continue
        ids = name.endswith(".top1")
        wanted_dtype = np.int64 if ids else np.float32
        if array.dtype != wanted_dtype:
            raise ValueError(
                f"{file}: tensor {name} is {_dtype_name(array)}, not {'I64' if ids else 'F32'}"
            )
        if array.size != tokens:
            what = "ids" if ids else "values"
            raise ValueError(
                f"{file}: {name} holds {array.size} {what}; the sidecar's {tokens} generated "
                f"tokens need {tokens}"
            )
    if "occlusion.delta" in arrays:
        shape = arrays["occlusion.delta"].shape
        if len(shape) != 2:
            raise ValueError(
                f"{file}: occlusion.delta has shape {list(shape)}, not [tokens, windows]"
            )
        if shape[0] != tokens:
            raise ValueError(
                f"{file}: occlusion.delta has {shape[0]} rows; the sidecar has {tokens} "
                "generated tokens"
            )
        kl = arrays.get("occlusion.kl")
        if kl is None or kl.size != shape[0] * shape[1]:
            found = 0 if kl is None else kl.size
            raise ValueError(
                f"{file}: occlusion.kl holds {found} values; the sidecar's {tokens} generated "
                f"tokens need {shape[0] * shape[1]}"
            )


def _validate_sidecar(arrays: Mapping[str, np.ndarray], file: str) -> tuple[int, ...]:
    generated = _validate_rows(arrays, "gen", file)
    if generated is None:
        raise ValueError(f"{file}: no gen.audio_ratio tensor")
    _validate_evidence(arrays, generated[0], file)
    _validate_rows(arrays, "prompt", file)
    return generated


def check_sidecar_against_trace(
    arrays: Mapping[str, np.ndarray], trace: Mapping[str, Any], file: str | os.PathLike[str]
) -> None:
    """Refuses (`ValueError` naming `file`) arrays that are not the trace's: another number of
    rows than generated tokens, of layers than the model's or of audio tokens than the audio
    span (`report`'s check), or not what the trace's `attention` record says."""
    file = str(file)
    rows, layers, heads, audio_tokens = _validate_sidecar(arrays, file)
    span = trace["input"]["audio_span"]
    wanted = (len(trace["generation"]["ids"]), trace["model"]["layers"], span[1] - span[0])
    if (rows, layers, audio_tokens) != wanted:
        raise ValueError(
            f"{file}: does not match its trace ({rows} rows, {layers} layers, {audio_tokens} "
            f"audio tokens; the trace has {wanted[0]} tokens, {wanted[1]} layers, {wanted[2]} "
            "audio tokens)"
        )
    record = trace.get("attention")
    if record is None:
        return
    prompt = arrays.get("prompt.audio_ratio")
    found = {
        "layers": layers,
        "heads": heads,
        "audio_tokens": audio_tokens,
        "generated_rows": rows,
        "prompt_rows": 0 if prompt is None else int(prompt.shape[0]),
        "per_head_maps": "gen.head_maps" in arrays,
    }
    for key, value in found.items():
        if key in record and record[key] != value:
            raise ValueError(
                f"{file}: has {key} {value}, the trace's attention record {record[key]}"
            )


def read_sidecar(
    path: str | os.PathLike[str], trace: Mapping[str, Any] | None = None
) -> dict[str, np.ndarray]:
    """A sidecar's arrays by name (`gen.audio_ratio` …), checked as Rust's `read_sidecar` checks
    them (the schema in the metadata, dtypes, shapes that agree); with `trace`, also against the
    trace (`check_sidecar_against_trace`). Problems raise `ValueError` naming the file."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    path = Path(path)
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{file}: cannot read ({error.strerror})") from None
    try:
        arrays = load(data)
        metadata = _metadata(data)
    except (SafetensorError, ValueError, json.JSONDecodeError) as error:
        raise ValueError(f"{file}: not a safetensors file ({error})") from None
    schema = metadata.get("schema")
    if schema is not None and schema != SIDECAR_SCHEMA:
        raise ValueError(f"{file}: sidecar schema {schema!r} is not {SIDECAR_SCHEMA}")
    if trace is None:
        _validate_sidecar(arrays, file)
    else:
        check_sidecar_against_trace(arrays, trace, file)
    return arrays


def _metadata(data: bytes) -> dict[str, str]:
    if len(data) < 8:
        raise ValueError("shorter than its header")
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    return header.get("__metadata__") or {}


def write_sidecar(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Writes a sidecar as `write_sidecar` does: metadata `{"schema": "auscult.attention/1"}`,
    durably. The arrays are checked first (`ValueError` naming the file), as a reader would."""
    from safetensors.numpy import save

    path = Path(path)
    tensors = {name: np.ascontiguousarray(array) for name, array in arrays.items()}
    _validate_sidecar(tensors, str(path))
    durable_write(path, save(tensors, metadata={"schema": SIDECAR_SCHEMA}))

