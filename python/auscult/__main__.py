"""`python -m auscult run`: `auscult run` for any transformers audio model, writing the same trace.

    python -m auscult run --model DIR --audio CLIP.wav --prompt "What do you hear?" --out T.json

The model is loaded from a local folder with the class its `config.json` names (`architectures`;
the Omni layouts generate with their `thinker`) and its own processor; nothing is downloaded. The
trace and its sidecar (`T.attn.safetensors`) are written whole or not at all; `auscult inspect
T.json` opens them. Errors are one line naming what is wrong, with exit status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from .families import generating_module, read_config

__all__ = ["main", "load_model"]

_DTYPES = ("f32", "bf16", "f16")


def load_model(model_dir: Path, dtype: str = "f32", device: str = "cpu") -> tuple[Any, Any, float]:
    """Loads the generating model and its processor from a local folder, offline.

    Returns `(model, processor, load seconds)`.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers

    started = time.perf_counter()
    config_path = model_dir / "config.json"
    config = read_config(config_path)
    architectures = config.get("architectures") or []
    model_class = next(
        (getattr(transformers, name) for name in architectures if hasattr(transformers, name)), None
    )
    if model_class is None:
        raise ValueError(
            f"{config_path}: names no model class this transformers has (architectures "
            f"{architectures}); load the model yourself and call auscult.generate.run_example"
        )
    torch_dtype = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}[dtype]
    model = model_class.from_pretrained(model_dir, dtype=torch_dtype, local_files_only=True)
    model = generating_module(config.get("model_type", ""), model).to(device).eval()
    processor = transformers.AutoProcessor.from_pretrained(model_dir, local_files_only=True)
    return model, processor, time.perf_counter() - started


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m auscult", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one generation, written as a trace and its sidecar")
    run.add_argument("--model", type=Path, required=True, metavar="DIR", help="checkpoint folder")
    run.add_argument("--audio", type=Path, required=True, metavar="FILE", help="the clip")
    run.add_argument("--prompt", required=True, metavar="TEXT", help="the user turn after the audio")
    run.add_argument("--system", metavar="TEXT", help="a system turn (the template's default when absent)")
    run.add_argument("--out", type=Path, required=True, metavar="TRACE.json")
    run.add_argument("--max-new-tokens", type=int, default=256, metavar="N")
    run.add_argument("--min-new-tokens", type=int, default=0, metavar="N")
    run.add_argument("--temperature", type=float, metavar="T", help="sample instead of greedy")
    run.add_argument("--top-p", type=float, default=1.0, metavar="P")
    run.add_argument("--top-k", type=int, default=0, metavar="K")
    run.add_argument("--seed", type=int, default=0, metavar="S")
    run.add_argument("--per-head-maps", action="store_true", help="also keep each head's audio map")
    run.add_argument(
        "--attention",
        choices=("sdpa", "eager"),
        default="sdpa",
        help="what computes the attention output (the captured rows are the same)",
    )
    run.add_argument("--dtype", choices=_DTYPES, default="f32")
    run.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, …")
    run.add_argument("--step-rules", type=Path, metavar="FILE.json", help="auscult step rules")
    return parser


def _check_inputs(args: argparse.Namespace) -> None:
    """What can be refused from the arguments and file names alone, before anything loads."""
    from .trace import run_sidecar_path

    if not args.model.is_dir():
        raise ValueError(f"{args.model}: not a folder (--model takes a checkpoint folder)")
    for name in ("config.json", "tokenizer.json"):
        if not (args.model / name).is_file():
            raise ValueError(f"{args.model / name}: no such file (the checkpoint needs its {name})")
    read_config(args.model / "config.json")
    if not args.audio.is_file():
        raise ValueError(f"{args.audio}: no such file (the clip)")
    if args.out.is_dir():
        raise ValueError(f"{args.out}: --out is a directory; give a file name")
    if args.out.suffix != ".json":
        raise ValueError(f"{args.out}: the trace is written as JSON; name it ….json")
    if not args.out.resolve().parent.is_dir():
        raise ValueError(f"{args.out.parent}: no such folder for --out")
    for target in (args.out, run_sidecar_path(args.out)):
        if target.exists() and target.resolve() == args.audio.resolve():
            raise ValueError(f"{target}: would overwrite the clip")
    if args.max_new_tokens < 1:
        raise ValueError("--max-new-tokens must be at least 1")
    if args.min_new_tokens < 0:
        raise ValueError("--min-new-tokens must be at least 0")
    if args.temperature is not None and not args.temperature > 0:
        raise ValueError(f"--temperature must be a positive number, got {args.temperature}")
    if not 0 < args.top_p <= 1:
        raise ValueError(f"--top-p must be in (0, 1], got {args.top_p}")
    if args.top_k < 0:
        raise ValueError(f"--top-k must be 0 (every token) or more, got {args.top_k}")
    if args.step_rules is not None and not args.step_rules.is_file():
        raise ValueError(f"{args.step_rules}: no such file (--step-rules)")


def _run(args: argparse.Namespace) -> None:
    from .audio import check_clip
    from .steps import load_rules
    from .trace import write_run

    _check_inputs(args)
    try:
        rules = load_rules(args.step_rules)
    except ValueError as error:
        raise ValueError(f"{args.step_rules}: not valid step rules ({error})") from None
    check_clip(args.audio)  # from its header: a bad clip is named before the model loads
    try:
        import torch

        from .capture import CaptureError
        from .generate import Greedy, Sample, run_example
    except ImportError as error:
        raise ImportError(
            f"python -m auscult run needs the capture extra ({error}): pip install 'auscult[capture]'"
        ) from None
    try:
        torch.device(args.device)
    except RuntimeError:
        raise ValueError(f"--device {args.device}: not a device torch knows (cpu, cuda, cuda:1, …)") from None

    decoding = (
        Greedy()
        if args.temperature is None
        else Sample(args.temperature, args.top_p, args.top_k, args.seed)
    )
    model, processor, load_seconds = load_model(args.model, args.dtype, args.device)
    try:
        result = run_example(
            model,
            processor,
            args.model,
            args.audio,
            args.prompt,
            system=args.system,
            max_new_tokens=args.max_new_tokens,
            min_new_tokens=args.min_new_tokens,
            decoding=decoding,
            per_head_maps=args.per_head_maps,
            attention=args.attention,
            step_rules=rules,
            load_seconds=load_seconds,
        )
    except CaptureError as error:
        raise ValueError(f"{args.model}: {error}") from None
    audio = result.trace["audio"]
    if audio["truncated"]:
        print(
            f"warning: {args.audio}: the clip is {audio['duration_seconds']:.2f} s long; the model "
            f"heard only the first {audio['window_seconds']:g} s",
            file=sys.stderr,
        )
    write_run(args.out, result.trace, result.arrays)
    generation = result.trace["generation"]
    print(
        f"{args.out}: {len(generation['ids'])} tokens, {len(result.trace['steps'])} steps, "
        f"stopped on {generation['stop_reason'].replace('_', ' ')}"
    )


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        # "[Errno 2] …" is str(OSError); say the file and the reason.
        where = f"{error.filename}: " if error.filename else ""
        return where + error.strerror
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    # Before transformers is imported: nothing is downloaded, whatever the environment says.
    os.environ["HF_HUB_OFFLINE"] = "1"
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            _run(args)
    except (ValueError, OSError, RuntimeError, ImportError) as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
