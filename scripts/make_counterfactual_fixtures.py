#!/usr/bin/env python3
"""Reference fixtures for auscult's counterfactual ("did the audio make it?") quantities.

Run from the repository root (no network needed; nothing comes from a model hub):

    python scripts/make_counterfactual_fixtures.py

It loads the committed tiny checkpoints (it makes no model of its own):

    tests/fixtures/qwen2_audio/tiny_a, tests/fixtures/qwen2_audio/tiny_b
        Qwen2AudioForConditionalGeneration
    tests/fixtures/qwen2_5_omni/thinker
        Qwen2_5OmniThinkerForConditionalGeneration (audio + text only)

and, for every case of each checkpoint's committed cases.json (same clip, same prompt, processed
exactly as make_qwen2_audio_fixtures.py / make_qwen2_5_omni_fixtures.py process them, so the
input ids are the committed ones), teacher-forces the committed greedy continuation
`generated_ids` (T = 24) under the real audio and three counterfactuals:

- silence:  the clip replaced by digital silence of the same number of samples;
- masked:   the real audio, but the <|AUDIO|> keys hidden from the prompt's last row and every
            generated row, in every decoder layer (an explicit 4D additive decoder mask);
- occluded: the real clip with the samples [n//4, n//2) set to 0.0 before the front end;

and stores the logits of the T rows that predict the generated tokens, with the derived
log-probability deltas, KL divergences and top-1 tokens. Everything is written under
tests/fixtures/counterfactual/ (a fresh folder each run), with a README.md that documents it.

Deterministic and re-runnable: the same inputs give byte-identical files (sorted safetensors
headers, float64 reductions, no randomness).
"""

import json
import os

import numpy as np
import torch
import transformers
from safetensors.torch import load_file
from transformers import (
    Qwen2_5OmniProcessor,
    Qwen2_5OmniThinkerForConditionalGeneration,
    Qwen2AudioForConditionalGeneration,
    Qwen2AudioProcessor,
)

# scripts/ is on sys.path when this runs as `python scripts/make_counterfactual_fixtures.py`.
from fixture_support import (
    CLIPS,
    audio_conversation,
    audio_span,
    fresh_dir,
    print_folder_summary,
    process_prompt,
    read_clip_16k,
    save_reference,
)

OUT = os.path.join("tests", "fixtures", "counterfactual")

# (output folder, committed checkpoint folder, kind)
CHECKPOINTS = [
    ("qwen2_audio_tiny_a", os.path.join("tests", "fixtures", "qwen2_audio", "tiny_a"), "qwen2_audio"),
    ("qwen2_audio_tiny_b", os.path.join("tests", "fixtures", "qwen2_audio", "tiny_b"), "qwen2_audio"),
    ("qwen2_5_omni_thinker", os.path.join("tests", "fixtures", "qwen2_5_omni", "thinker"), "qwen2_5_omni"),
]

COUNTERFACTUALS = ("silence", "masked", "occluded")

# The value of a hidden key in the additive decoder masks: what transformers' own eager causal
# mask uses (torch.finfo(float32).min), so the causal-only mask is bit for bit the model's own.
MASK_MIN = torch.finfo(torch.float32).min

# Tolerances of the sanity checks (float32 on CPU).
TOL_SAME_PATH = 1e-5  # causal-only explicit mask vs plain forward; hook path vs 4D mask path
TOL_COMMITTED = 1e-4  # our prompt rows vs the committed case's `logits` (assert); ~1e-5 expected


# ----------------------------------------------------------------------------------------------
# models


class Model:
    """One loaded checkpoint: the model, its processor, and the parts the checks hook."""

    def __init__(self, ckpt_dir, kind):
        self.kind = kind
        if kind == "qwen2_audio":
            self.model = Qwen2AudioForConditionalGeneration.from_pretrained(
                ckpt_dir, attn_implementation="eager", dtype=torch.float32
            ).eval()
            self.processor = Qwen2AudioProcessor.from_pretrained(ckpt_dir)
            inner = self.model.model
            self.audio_token_id = self.model.config.audio_token_index
            # the module whose output replaces the <|AUDIO|> embeddings
            self.audio_out_module = inner.multi_modal_projector
        else:
            self.model = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
                ckpt_dir, attn_implementation="eager", dtype=torch.float32
            ).eval()
            self.processor = Qwen2_5OmniProcessor.from_pretrained(ckpt_dir)
            inner = self.model.model
            self.audio_token_id = self.model.config.audio_token_id
            self.audio_out_module = inner.audio_tower
        assert self.processor.tokenizer.convert_tokens_to_ids("<|AUDIO|>") == self.audio_token_id
        self.decoder = inner.language_model
        self.decoder_attn = [layer.self_attn for layer in self.decoder.layers]
        assert self.model.config._attn_implementation == "eager"

    def forward(self, base, ids, mask=None, position_ids=None, output_attentions=False, capture=None):
        """Teacher-forced forward over `ids` (1D) with the audio of `base` (the processor's
        output). `mask`: None (a 2D all-ones attention mask, the model builds its causal mask) or
        a 4D float additive mask (1, 1, L, L) passed as `attention_mask` (transformers returns a
        4D mask as-is). `capture`: a dict that gets the audio module's output ("audio") and the
        position ids the decoder got ("position_ids")."""
        L = ids.numel()
        kwargs = dict(
            input_ids=ids[None],
            attention_mask=torch.ones(1, L, dtype=torch.int64) if mask is None else mask,
            input_features=base["input_features"],
            feature_attention_mask=base["feature_attention_mask"],
            use_cache=False,
            output_attentions=output_attentions,
        )
        if position_ids is not None:
            kwargs["position_ids"] = position_ids
        hooks = []
        if capture is not None:

            def audio_hook(_m, _args, out):
                out = out.last_hidden_state if hasattr(out, "last_hidden_state") else out
                capture["audio"] = out.detach().clone()

            def decoder_hook(_m, _args, kw):
                p = kw.get("position_ids")
                capture["position_ids"] = None if p is None else p.detach().clone()

            hooks.append(self.audio_out_module.register_forward_hook(audio_hook))
            hooks.append(self.decoder.register_forward_pre_hook(decoder_hook, with_kwargs=True))
        if self.kind == "qwen2_5_omni":
            self.model.model.rope_deltas = None  # recompute M-RoPE positions for this sequence
        try:
            with torch.no_grad():
                out = self.model(**kwargs)
        finally:
            for h in hooks:
                h.remove()
        return out

    def forward_with_attention_hook(self, base, ids, extra, position_ids=None):
        """Independent second path for the masked counterfactual: the plain forward (2D mask,
        the model's own causal mask), with a forward pre-hook on every decoder self-attention
        module that sets the mask it is given to MASK_MIN where `extra` (bool, L x L) is True.
        The audio encoder's attention modules are not hooked."""

        def pre_hook(_m, args, kw):
            m = kw["attention_mask"]
            assert m is not None and m.dim() == 4 and m.dtype == torch.float32, (None if m is None else m.shape)
            kw["attention_mask"] = m.masked_fill(extra[None, None], MASK_MIN)
            return args, kw

        hooks = [a.register_forward_pre_hook(pre_hook, with_kwargs=True) for a in self.decoder_attn]
        try:
            return self.forward(base, ids, position_ids=position_ids)
        finally:
            for h in hooks:
                h.remove()


def causal_hidden(L):
    """bool (L, L): True where a key is causally hidden from a query row (column > row)."""
    return torch.ones(L, L, dtype=torch.bool).triu(1)


def audio_hidden(L, P, span):
    """bool (L, L): True where the masked counterfactual hides a key beyond causality: query
    rows >= P-1 (the prompt's last row and every generated row), key columns in the audio span."""
    hidden = torch.zeros(L, L, dtype=torch.bool)
    hidden[P - 1:, span[0]:span[1]] = True
    return hidden


def additive(hidden):
    """The (1, 1, L, L) float32 additive mask of a bool `hidden`: 0 allowed, MASK_MIN hidden."""
    m = torch.zeros(hidden.shape, dtype=torch.float32).masked_fill(hidden, MASK_MIN)
    return m[None, None]


# ----------------------------------------------------------------------------------------------
# cases


def process(m, clip_name, prompt, system, samples):
    """The committed scripts' processing: chat template + processor with the samples."""
    text, inputs, _ = process_prompt(m.processor, audio_conversation(clip_name, prompt, system), samples)
    return text, inputs


def rows(out, P, T):
    """The T rows that predict the generated tokens: positions P-1 .. P+T-2, float32."""
    logits = out.logits[0]
    assert logits.shape[0] == P + T - 1, logits.shape
    return logits[P - 1:P - 1 + T].float().contiguous()


def derived(actual, counter, g):
    """float64 per-row delta, KL(actual || counter) and top-1 of `counter` (T rows)."""
    la = torch.log_softmax(actual.double(), dim=-1)
    lc = torch.log_softmax(counter.double(), dim=-1)
    idx = g[:, None]
    delta = (la.gather(1, idx) - lc.gather(1, idx))[:, 0]
    kl = (la.exp() * (la - lc)).sum(-1)
    return delta, kl, counter.argmax(-1).to(torch.int64)


def run_case(m, ckpt_dir, case, committed):
    clip_path = case["clip"]
    clip_name = os.path.basename(clip_path)
    assert os.path.dirname(clip_path) == CLIPS, clip_path
    prompt = case["prompt"]
    system = case.get("system_prompt")  # Qwen2.5-Omni cases only; None: the template's default
    samples = read_clip_16k(clip_path)
    n = len(samples)

    # -- actual ---------------------------------------------------------------------------------
    text, base = process(m, clip_name, prompt, system, samples)
    assert text == case["rendered_prompt"]
    input_ids = base["input_ids"][0].to(torch.int64)
    assert torch.equal(input_ids, committed["input_ids"]), "input ids differ from the committed case"
    features_diff = float((base["input_features"][0] - committed["input_features"]).abs().max())
    assert torch.equal(base["feature_attention_mask"][0].to(torch.int64), committed["feature_attention_mask"])
    span, n_audio = audio_span(input_ids, m.audio_token_id)
    assert span == case["audio_span"] == committed["audio_span"].tolist(), (span, case["audio_span"])
    g = committed["generated_ids"]
    assert g.tolist() == case["generated_ids"]
    P, T = input_ids.numel(), g.numel()
    L = P + T - 1
    ids = torch.cat([input_ids, g[:-1]])

    cap = {}
    out = m.forward(base, ids, capture=cap)
    full = out.logits[0].float()
    actual = rows(out, P, T)
    # The committed `logits` are a forward over the prompt alone: causal, so our first P rows.
    committed_last_row_diff = float((actual[0] - committed["logits"][P - 1]).abs().max())
    committed_prompt_rows_diff = float((full[:P] - committed["logits"]).abs().max())
    assert committed_last_row_diff < TOL_COMMITTED and committed_prompt_rows_diff < TOL_COMMITTED, (
        committed_last_row_diff,
        committed_prompt_rows_diff,
    )
    position_ids = cap["position_ids"]
    positions_note = None
    if m.kind == "qwen2_5_omni":
        # The M-RoPE positions get_rope_index gave the whole teacher-forced sequence; a 4D
        # attention mask cannot go through get_rope_index, so the masked runs get them explicitly.
        assert position_ids.shape == (3, 1, L), position_ids.shape
        streams_equal = bool(torch.equal(position_ids[0], position_ids[1]) and torch.equal(position_ids[0], position_ids[2]))
        is_arange = bool(torch.equal(position_ids[0, 0], torch.arange(L)))
        committed_prefix = bool(torch.equal(position_ids[:, 0, :P], committed["position_ids"]))
        assert committed_prefix, "M-RoPE positions of the prompt differ from the committed ones"
        positions_note = f"3 streams equal {streams_equal}, 0..L-1 {is_arange}, prompt part = committed {committed_prefix}"
    else:
        assert position_ids is None  # Qwen2-Audio: the decoder makes 0..L-1 itself

    # actual.top1 must be the greedy continuation (min_new_tokens could only have changed it
    # at an eos step: first_eos_index_in_generated).
    actual_top1 = actual.argmax(-1).to(torch.int64)
    top1_mismatch = [t for t in range(T) if int(actual_top1[t]) != int(g[t])]
    if top1_mismatch:
        eos = case["first_eos_index_in_generated"]
        print(f"  WARNING actual.top1 != generated_ids at steps {top1_mismatch} (first eos index {eos})")
        assert eos is not None and min(top1_mismatch) >= eos, "top-1 mismatch not explained by eos suppression"

    # -- silence --------------------------------------------------------------------------------
    silence_samples = np.zeros(n, dtype=np.float32)
    _, sil = process(m, clip_name, prompt, system, silence_samples)
    assert torch.equal(sil["input_ids"][0].to(torch.int64), input_ids), "silence changed the input ids"
    assert torch.equal(sil["feature_attention_mask"], base["feature_attention_mask"])
    silence = rows(m.forward(sil, ids, position_ids=position_ids), P, T)
    # Only the frames that hold the (silent) clip: the padding after them is the same for every
    # clip, and the full window would be most of this folder's size.
    valid_frames = int(sil["feature_attention_mask"][0].sum())
    silence_features = sil["input_features"][0][:, :valid_frames].float().contiguous()

    # -- masked ---------------------------------------------------------------------------------
    # 4D additive mask over the decoder, passed as `attention_mask`. First the causal part alone:
    # it must give the plain forward's logits (proves the 4D mask is what the decoder uses).
    causal = causal_hidden(L)
    hidden = audio_hidden(L, P, span)
    cap_causal = {}
    out_causal = m.forward(base, ids, mask=additive(causal), position_ids=position_ids, capture=cap_causal)
    causal_only_diff = float((out_causal.logits[0].float() - full).abs().max())
    assert causal_only_diff < TOL_SAME_PATH, causal_only_diff
    cap_masked = {}
    out_masked = m.forward(
        base, ids, mask=additive(causal | hidden), position_ids=position_ids, output_attentions=True, capture=cap_masked
    )
    masked_full = out_masked.logits[0].float()
    masked = rows(out_masked, P, T)
    # The audio module's output is untouched by the decoder mask.
    assert torch.equal(cap_masked["audio"], cap["audio"]), "the decoder mask reached the audio encoder"
    # Every decoder layer's attention probabilities: 0 exactly on the hidden cells, and the
    # prompt's rows after the audio still attend to it.
    n_layers = len(out_masked.attentions)
    assert n_layers == len(m.decoder_attn)
    hidden_prob_max = max(float(a[0][:, hidden].abs().max()) for a in out_masked.attentions)
    assert hidden_prob_max == 0.0, hidden_prob_max
    if span[1] < P - 1:
        seen = min(float(a[0][:, span[1]:P - 1, span[0]:span[1]].sum(-1).min()) for a in out_masked.attentions)
        assert seen > 0.0, seen
    # The rows before P-1 are the plain forward's (nothing hidden from them).
    prefix_diff = float((masked_full[:P - 1] - full[:P - 1]).abs().max())
    assert prefix_diff < TOL_SAME_PATH, prefix_diff
    masked_vs_actual = float((masked - actual).abs().max())
    assert masked_vs_actual > 1e-3, "the masked logits equal the actual ones"
    # Independent second path: hook every decoder self-attention and mask there.
    hooked = rows(m.forward_with_attention_hook(base, ids, hidden, position_ids=position_ids), P, T)
    hook_path_diff = float((hooked - masked).abs().max())
    assert hook_path_diff < TOL_SAME_PATH, hook_path_diff

    # -- occluded -------------------------------------------------------------------------------
    window = [n // 4, n // 2]
    occ_samples = samples.copy()
    occ_samples[window[0]:window[1]] = 0.0
    _, occ = process(m, clip_name, prompt, system, occ_samples)
    assert torch.equal(occ["input_ids"][0].to(torch.int64), input_ids), "occlusion changed the input ids"
    occluded = rows(m.forward(occ, ids, position_ids=position_ids), P, T)
    occluded_features_changed = not torch.equal(occ["input_features"], base["input_features"])

    # -- derived --------------------------------------------------------------------------------
    la = torch.log_softmax(actual.double(), dim=-1)
    tensors = {
        "input_ids": input_ids.contiguous(),
        "audio_span": torch.tensor(span, dtype=torch.int64),
        "generated_ids": g.to(torch.int64).contiguous(),
        "actual_logits": actual,
        "silence_logits": silence,
        "masked_logits": masked,
        "occluded_logits": occluded,
        "silence_input_features": silence_features,
        "occluded_window": torch.tensor(window, dtype=torch.int64),
        "actual.log_prob": la.gather(1, g[:, None])[:, 0].float().contiguous(),
        "actual.top1": actual_top1.contiguous(),
    }
    stats = {}
    for name, logits in (("silence", silence), ("masked", masked), ("occluded", occluded)):
        delta, kl, top1 = derived(actual, logits, g)
        tensors[f"{name}.delta"] = delta.float().contiguous()
        tensors[f"{name}.kl"] = kl.float().contiguous()
        tensors[f"{name}.top1"] = top1.contiguous()
        stats[name] = {
            "delta_mean": float(delta.mean()),
            "delta_max": float(delta.max()),
            "delta_min": float(delta.min()),
            "kl_mean": float(kl.mean()),
            "kl_max": float(kl.max()),
            "flips": int((top1 != actual_top1).sum()),
            "max_abs_logit_diff": float((logits - actual).abs().max()),
        }

    checks = {
        "P": P,
        "T": T,
        "L": L,
        "audio_tokens": n_audio,
        "n_samples": n,
        "input_features_vs_committed": features_diff,
        "committed_last_row_diff": committed_last_row_diff,
        "committed_prompt_rows_diff": committed_prompt_rows_diff,
        "causal_only_mask_diff": causal_only_diff,
        "masked_prefix_rows_diff": prefix_diff,
        "hook_path_diff": hook_path_diff,
        "hidden_attention_prob_max": hidden_prob_max,
        "masked_vs_actual_max": masked_vs_actual,
        "top1_mismatch": top1_mismatch,
        "silence_features_min": float(silence_features.min()),
        "silence_features_max": float(silence_features.max()),
        "occluded_features_changed": occluded_features_changed,
        "positions": positions_note,
    }
    meta = {
        "checkpoint": ckpt_dir,
        "committed_case": os.path.join(ckpt_dir, case["file"]),
        "clip": clip_path,
        "prompt": prompt,
        "rendered_prompt": text,
        "P": str(P),
        "T": str(T),
        "audio_span": json.dumps(span),
        "n_samples": str(n),
        "occluded_window": json.dumps(window),
        "masked_rows": f"{P - 1}..{L - 1}",
        "first_eos_index_in_generated": str(case["first_eos_index_in_generated"]),
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "committed_last_row_max_abs_diff": f"{committed_last_row_diff:.3g}",
    }
    if m.kind == "qwen2_5_omni":
        meta["system_prompt"] = "" if system is None else system
    return tensors, meta, stats, checks


# ----------------------------------------------------------------------------------------------
# main


def main():
    if not os.path.isdir(CLIPS):
        raise SystemExit("run from the repository root (tests/fixtures/audio/mel not found)")
    torch.manual_seed(0)  # nothing here is random; for safety only
    fresh_dir(OUT)
    report = {}
    for out_name, ckpt_dir, kind in CHECKPOINTS:
        m = Model(ckpt_dir, kind)
        with open(os.path.join(ckpt_dir, "cases.json")) as f:
            info = json.load(f)
        out_dir = os.path.join(OUT, out_name)
        os.makedirs(out_dir)
        report[out_name] = {"checkpoint": ckpt_dir, "kind": kind, "vocab_size": info["vocab_size"], "cases": []}
        for k, case in enumerate(info["cases"]):
            assert case["file"] == f"case_{k}.safetensors"
            committed = load_file(os.path.join(ckpt_dir, case["file"]))
            tensors, meta, stats, checks = run_case(m, ckpt_dir, case, committed)
            save_reference(tensors, os.path.join(out_dir, case["file"]), meta)
            shapes = {n: [str(v.dtype).replace("torch.", ""), list(v.shape)] for n, v in sorted(tensors.items())}
            report[out_name]["cases"].append(
                {"file": case["file"], "case": case, "stats": stats, "checks": checks, "shapes": shapes}
            )
            s = stats
            print(
                f"{out_name} {case['file']}: P {checks['P']} T {checks['T']} audio {checks['audio_tokens']} | "
                f"committed last row {checks['committed_last_row_diff']:.2e}, prompt rows "
                f"{checks['committed_prompt_rows_diff']:.2e}, features {checks['input_features_vs_committed']:.2e} | "
                f"causal-only {checks['causal_only_mask_diff']:.2e}, hook path {checks['hook_path_diff']:.2e}, "
                f"masked vs actual {checks['masked_vs_actual_max']:.3f}"
            )
            for c in COUNTERFACTUALS:
                print(
                    f"    {c:8s} delta mean {s[c]['delta_mean']:+.4f} max {s[c]['delta_max']:+.4f}  "
                    f"kl mean {s[c]['kl_mean']:.4f} max {s[c]['kl_max']:.4f}  flips {s[c]['flips']}"
                )
            if checks["positions"]:
                print(f"    positions: {checks['positions']}")
            if not checks["occluded_features_changed"]:
                print("    NOTE occluded window lies outside the feature window: occluded == actual")
    write_readme(report)
    print_folder_summary(OUT)


def fmt(x):
    return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def write_readme(report):
    lines = [
        "# Counterfactual reference fixtures",
        "",
        "Made by `scripts/make_counterfactual_fixtures.py` (run from the repository root with",
        "`python scripts/make_counterfactual_fixtures.py`; deterministic, makes this folder anew",
        "each run). Nothing comes from a model hub and no model is made here: the script loads the",
        "committed tiny checkpoints and their committed reference cases.",
        "",
        f"Versions: transformers {transformers.__version__}, torch {torch.__version__}, numpy {np.__version__}.",
        "",
        "| folder | checkpoint | class |",
        "|---|---|---|",
    ]
    for name, r in report.items():
        cls = (
            "Qwen2AudioForConditionalGeneration"
            if r["kind"] == "qwen2_audio"
            else "Qwen2_5OmniThinkerForConditionalGeneration"
        )
        lines.append(f"| `{name}/` | `{r['checkpoint']}` | `{cls}` |")
    lines += [
        "",
        "Each model is loaded with `from_pretrained(dir, attn_implementation=\"eager\",",
        "dtype=float32)`, eval mode, with its processor (`Qwen2AudioProcessor` /",
        "`Qwen2_5OmniProcessor`) from the same folder.",
        "",
        "## Cases",
        "",
        "One `case_k.safetensors` per case of the checkpoint's committed `cases.json`, same k. The",
        "clip (`tests/fixtures/audio/mel/*.wav`, soundfile, float32) and the prompt (and, for",
        "Qwen2.5-Omni, the system prompt) are processed exactly as the scripts that made the",
        "checkpoints do (`fixture_support.process_prompt` on `audio_conversation(...)`); the script",
        "asserts that the rendered prompt, `input_ids`, `feature_attention_mask` and `audio_span`",
        "equal the committed ones. `generated_ids` is the committed greedy continuation (T = 24).",
        "",
        "## Definitions",
        "",
        "- P = prompt length, g = `generated_ids` (T tokens). Teacher-forced sequence:",
        "  `input_ids ++ g[:-1]`, L = P + T - 1 tokens, one forward pass (`use_cache=False`). The T",
        "  rows at positions P-1 .. P+T-2 give the next-token distributions of g[0] .. g[T-1]; every",
        "  `*_logits` tensor holds those rows only.",
        "- **actual**: the real clip.",
        "- **silence**: the clip replaced by `np.zeros(len(samples), float32)` through the same",
        "  processor (asserted: same `input_ids`, same `feature_attention_mask`). For digital silence",
        "  the Whisper log-mel is one constant, (log10(1e-10) + 4) / 4 = -1.5, in every cell.",
        "- **masked**: the real features; the `<|AUDIO|>` keys (positions `audio_span[0]` ..",
        "  `audio_span[1]`-1) hidden from every query row at position >= P-1 (the prompt's last row",
        "  and every generated row), in every decoder layer and head. Every other row attends",
        "  causally as usual: the prompt's rows still see the audio, so the hidden states of the",
        "  prompt's text after the audio (and their keys/values) still carry it. The audio encoder",
        "  is not affected (checked).",
        "- **occluded**: the real clip with samples `[n//4, n//2)` set to 0.0 before the front end,",
        "  n = `len(samples)` (the whole file, before the feature extractor truncates it to its",
        "  window). `occluded_window` holds those two sample indices.",
        "",
        "Derived values are computed in float64 from the stored float32 logits (cast up, so they",
        "can be recomputed from this file alone) and stored as float32 (`top1` as I64); `la`, `lc` =",
        "float64 log-softmax of the actual and the counterfactual row:",
        "",
        "- `actual.log_prob[t]` = la[t, g[t]]; `actual.top1[t]` = argmax of the actual row",
        "  (checked equal to g[t] for every t: the committed continuation is greedy; a mismatch is",
        "  allowed only from a step where min_new_tokens suppressed an eos, and is listed under",
        "  Notes below).",
        "- `c.delta[t]` = la[t, g[t]] - lc[t, g[t]] (positive: the counterfactual makes the",
        "  generated token less likely, i.e. the token relied on the audio).",
        "- `c.kl[t]` = KL(p_actual || p_c) = sum_v p_actual(v) (la[t, v] - lc[t, v]).",
        "- `c.top1[t]` = argmax of the counterfactual row (I64); a flip is `c.top1[t] != actual.top1[t]`.",
        "",
        "## How the masked mask is applied",
        "",
        "An explicit 4D float additive mask `(1, 1, L, L)` is passed to the model as",
        "`attention_mask`: 0 where a key is visible, `torch.finfo(float32).min` where it is hidden",
        "(causally, column > row; or row >= P-1 and column in the audio span). transformers 5's",
        "`create_causal_mask` returns a 4D mask as-is (`_preprocess_mask_arguments`: \"If the mask is",
        "already 4D, simply return as-is\"), and the eager attention adds it to the scores of every",
        "decoder layer. Neither model passes `attention_mask` to its audio encoder (Qwen2-Audio",
        "builds the encoder's mask from `feature_attention_mask`; the Omni thinker's audio tower",
        "gets only the features and their lengths).",
        "",
        "Qwen2.5-Omni: the thinker computes its M-RoPE position ids from `input_ids` and a *2D*",
        "`attention_mask` (`get_rope_index`), which a 4D mask cannot feed; so every run after the",
        "actual one gets `position_ids` explicitly: the (3, 1, L) ids the actual forward's decoder",
        "received (captured with a pre-hook). For these audio-only prompts they are 0..L-1 in all",
        "three streams, and their prompt part equals the committed case's `position_ids` (checked).",
        "`rope_deltas` is reset before every forward.",
        "",
        "Checks the script asserts for every case:",
        "",
        "- the causal-only 4D mask gives the plain forward's logits (all L rows, max |diff| < 1e-5;",
        "  in practice 0, since the mask is bit for bit the one transformers builds): the 4D mask is",
        "  really what the decoder uses;",
        "- the masked logits differ from the actual ones (max |diff| > 1e-3);",
        "- with `output_attentions=True`, every decoder layer's attention probability on the hidden",
        "  cells is exactly 0, and the prompt's rows between the audio and P-1 still put weight on",
        "  the audio;",
        "- the masked run's rows before P-1 equal the plain forward's;",
        "- the audio module's output (Qwen2-Audio: `multi_modal_projector`; Omni: `audio_tower`) is",
        "  identical with and without the mask;",
        "- a second, independent path (a forward pre-hook on every decoder `self_attn` that sets the",
        "  mask the model built itself to `finfo.min` on the hidden cells; the audio encoder's",
        "  attention is not hooked) gives the same masked logits (max |diff| < 1e-5).",
        "",
        "## Tensors",
        "",
        "`{folder}/case_k.safetensors` (written with `fixture_support.save_reference`: sorted",
        "header, read back and checked):",
        "",
        "| name | dtype | shape |",
        "|---|---|---|",
        "| `input_ids` | I64 | [P] |",
        "| `audio_span` | I64 | [2] (first `<|AUDIO|>` position, one past the last) |",
        "| `generated_ids` | I64 | [T] |",
        "| `actual_logits`, `silence_logits`, `masked_logits`, `occluded_logits` | F32 | [T, vocab_size] |",
        "| `silence_input_features` | F32 | [n_mels, valid frames]: the silent clip's frames (the padding after them left out) |",
        "| `occluded_window` | I64 | [2] (sample indices, [n//4, n//2)) |",
        "| `actual.log_prob` | F32 | [T] |",
        "| `actual.top1` | I64 | [T] |",
        "| `silence.delta`, `masked.delta`, `occluded.delta` | F32 | [T] |",
        "| `silence.kl`, `masked.kl`, `occluded.kl` | F32 | [T] |",
        "| `silence.top1`, `masked.top1`, `occluded.top1` | I64 | [T] |",
        "",
        "Metadata (strings): `checkpoint`, `committed_case`, `clip`, `prompt`, `system_prompt`",
        "(Omni only; empty: the template's default), `rendered_prompt`, `P`, `T`, `audio_span`,",
        "`n_samples`, `occluded_window`, `masked_rows`, `first_eos_index_in_generated`,",
        "`transformers`, `torch`, `numpy`, `committed_last_row_max_abs_diff`.",
        "",
        "`silence_input_features` is the processor's output for the silent clip, cut to the frames",
        "`feature_attention_mask` marks (asserted equal to the committed case's); the window's",
        "padding after them is left out to keep this folder small.",
        "",
        "## Per case",
        "",
        "`last row`: max |actual_logits[0] - committed `logits`[P-1]|; `prompt rows`: max |diff| of",
        "our forward's first P rows against the committed `logits` [P, vocab] (the committed logits",
        "are a forward over the prompt alone); `features`: max |diff| of our `input_features`",
        "against the committed ones. δ = delta, flips = top-1 flips out of T.",
        "",
        "| folder | case | clip | P | T | audio tokens | last row | prompt rows | features | causal-only mask | hook path |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in report.items():
        for c in r["cases"]:
            ch = c["checks"]
            clip = os.path.basename(c["case"]["clip"])
            lines.append(
                f"| {name} | {c['file']} | {clip} | {ch['P']} | {ch['T']} | {ch['audio_tokens']} | "
                f"{fmt(ch['committed_last_row_diff'])} | {fmt(ch['committed_prompt_rows_diff'])} | "
                f"{fmt(ch['input_features_vs_committed'])} | {fmt(ch['causal_only_mask_diff'])} | "
                f"{fmt(ch['hook_path_diff'])} |"
            )
    lines += [
        "",
        "| folder | case | counterfactual | δ mean | δ max | δ min | KL mean | KL max | flips | max abs logit diff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in report.items():
        for c in r["cases"]:
            for cf in COUNTERFACTUALS:
                s = c["stats"][cf]
                lines.append(
                    f"| {name} | {c['file']} | {cf} | {s['delta_mean']:+.4f} | {s['delta_max']:+.4f} | "
                    f"{s['delta_min']:+.4f} | {s['kl_mean']:.4f} | {s['kl_max']:.4f} | {s['flips']}/{c['checks']['T']} | "
                    f"{fmt(s['max_abs_logit_diff'])} |"
                )
    notes = []
    for name, r in report.items():
        for c in r["cases"]:
            ch = c["checks"]
            if not ch["occluded_features_changed"]:
                clip = os.path.basename(c["case"]["clip"])
                notes.append(
                    f"- `{name}/{c['file']}` ({clip}, {ch['n_samples']} samples = "
                    f"{ch['n_samples'] / 16000:g} s): the occluded window [n//4, n//2) lies wholly past"
                    " the feature extractor's window (the clip is truncated to it), so the occluded"
                    " features, logits and derived values equal the actual ones (δ = KL = 0, no flips)."
                )
            if ch["top1_mismatch"]:
                notes.append(
                    f"- `{name}/{c['file']}`: actual.top1 differs from generated_ids at steps"
                    f" {ch['top1_mismatch']} (eos suppressed by min_new_tokens)."
                )
    if notes:
        lines += ["", "Notes:", ""] + notes
    lines.append("")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
