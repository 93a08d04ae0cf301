"""The Python package on a family auscult does not run natively: AudioFlamingo3.

Builds a tiny AudioFlamingo3 checkpoint (`audioflamingo3`, transformers'
`AudioFlamingo3ForConditionalGeneration`) that carries the bundled demo model's weights, runs the
package on a bundled clip, and writes the trace and its sidecar to
`python/examples/audioflamingo3/`, which `auscult inspect` opens. The checkpoint itself is built
in a temporary folder and not kept.

Why the demo model's weights: a random AudioFlamingo3 writes random tokens, which show nothing of
what the inspector is for. AudioFlamingo3's encoder is Whisper's with the same parameter names as
Qwen2-Audio's, its decoder is Qwen2, so both take the demo model's weights as they are. Only its
projector differs (`linear_2(gelu(linear_1(x)))` where Qwen2-Audio has one linear `W x + b`);
with `linear_1 = [I; −I]` and `linear_2 = [W, −W]` (bias b) it computes
`W (gelu(x) − gelu(−x)) + b = W x + b`, since gelu(x) − gelu(−x) = x·Φ(x) + x·Φ(−x) = x. The
processor is AudioFlamingo3's own (its 8-s windows, its token count), with the demo model's
tokenizer, chat template and audio token. The script checks that the model generates what the
demo model generates in transformers on the same input ids.

Run from the repository root with the capture extra installed (torch, transformers >= 5.25):

    python scripts/make_python_demo.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import transformers as T  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from auscult.generate import run_example  # noqa: E402
from auscult.trace import write_run  # noqa: E402

DEMO = Path("assets/demo-model")
CLIP = "assets/examples/clips/synth-30064771072.wav"
PROMPT = "How many sounds are there? Choose one: 1; 3; 4; 6."
OUT = Path("python/examples/audioflamingo3/synth-30064771072.json")
#: The checkpoint's name in the trace: it is built in a temporary folder and not kept, and that
#: folder's path would name this machine.
MODEL_NAME = "audioflamingo3-demo"


def build(folder: Path) -> None:
    """Saves the AudioFlamingo3 checkpoint with the demo model's weights in `folder`."""
    demo_config = T.AutoConfig.from_pretrained(DEMO)
    audio, text = demo_config.audio_config, demo_config.text_config
    tokenizer = T.AutoTokenizer.from_pretrained(DEMO)
    demo_processor = T.AutoProcessor.from_pretrained(DEMO)
    audio_token = demo_processor.audio_token
    config = T.AudioFlamingo3Config(
        audio_config=dict(
            model_type="audioflamingo3_encoder",
            num_mel_bins=audio.num_mel_bins,
            num_hidden_layers=audio.encoder_layers,
            num_attention_heads=audio.encoder_attention_heads,
            intermediate_size=audio.encoder_ffn_dim,
            hidden_size=audio.d_model,
            max_source_positions=audio.max_source_positions,
        ),
        text_config=text.to_dict(),
        audio_token_id=tokenizer.convert_tokens_to_ids(audio_token),
        projector_hidden_act="gelu",
        projector_bias=True,
    )
    model = T.AudioFlamingo3ForConditionalGeneration(config).eval()
    demo = load_file(str(DEMO / "model.safetensors"))
    weights: dict[str, torch.Tensor] = {}
    for name, tensor in demo.items():
        if name.startswith("audio_tower."):
            weights[name] = tensor
        elif name.startswith("language_model.model."):
            weights["language_model." + name.removeprefix("language_model.model.")] = tensor
        elif name == "language_model.lm_head.weight":
            weights["lm_head.weight"] = tensor
    projection, bias = demo["multi_modal_projector.linear.weight"], demo["multi_modal_projector.linear.bias"]
    identity = torch.eye(audio.d_model)
    weights["multi_modal_projector.linear_1.weight"] = torch.cat([identity, -identity])
    weights["multi_modal_projector.linear_1.bias"] = torch.zeros(2 * audio.d_model)
    weights["multi_modal_projector.linear_2.weight"] = torch.cat([projection, -projection], dim=1)
    weights["multi_modal_projector.linear_2.bias"] = bias
    own = model.state_dict()
    renamed = {}
    for name, tensor in weights.items():
        matches = [key for key in own if key == name or key.endswith("." + name)]
        if len(matches) != 1:
            raise SystemExit(f"no single AudioFlamingo3 parameter for the demo's {name}: {matches}")
        renamed[matches[0]] = tensor
    missing = sorted(set(own) - set(renamed))
    if missing:
        raise SystemExit(f"AudioFlamingo3 parameters the demo model does not give: {missing}")
    if 2 * audio.d_model != text.hidden_size:
        raise SystemExit("the projector trick needs the text width to be twice the audio width")
    model.load_state_dict(renamed, strict=True)
    model.generation_config = T.GenerationConfig(
        do_sample=False, eos_token_id=demo_config.text_config.eos_token_id, pad_token_id=text.pad_token_id
    )
    extractor = demo_processor.feature_extractor
    processor = T.AudioFlamingo3Processor(
        feature_extractor=extractor,
        tokenizer=tokenizer,
        chat_template=demo_processor.chat_template,
        audio_token=audio_token,
        max_audio_len=extractor.chunk_length,
    )
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    # generation_config.json's stop ids are the demo's (auscult reads them there).
    T.GenerationConfig.from_pretrained(DEMO).save_pretrained(folder)


def demo_generation(rendered: str, tokens: int) -> list[int]:
    """The demo model's own greedy tokens in transformers for the same rendered prompt and clip."""
    from auscult.audio import load_clip

    processor = T.AutoProcessor.from_pretrained(DEMO)
    model = T.Qwen2AudioForConditionalGeneration.from_pretrained(DEMO, dtype=torch.float32).eval()
    clip = load_clip(CLIP, processor.feature_extractor.sampling_rate)
    inputs = processor(text=rendered, audio=[clip.samples], sampling_rate=clip.sample_rate, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, do_sample=False, max_new_tokens=tokens)
    return out[0, inputs["input_ids"].shape[1] :].tolist()


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "audioflamingo3-demo"
        build(folder)
        model = T.AudioFlamingo3ForConditionalGeneration.from_pretrained(folder, dtype=torch.float32).eval()
        processor = T.AutoProcessor.from_pretrained(folder)
        print(f"built: {type(model).__name__}, processor {type(processor).__name__}")
        result = run_example(model, processor, folder, CLIP, PROMPT, max_new_tokens=256, attention="sdpa")
        trace = result.trace
        generated = trace["generation"]["ids"]
        print(
            f"AudioFlamingo3: {len(trace['input']['ids'])} prompt ids, audio span "
            f"{trace['input']['audio_span']}, {len(generated)} generated, {len(trace['steps'])} steps"
        )
        reference = demo_generation(trace["prompt"]["rendered"], len(generated))
        if reference != generated:
            print(f"the demo model in transformers generates other ids: {reference[:12]}…; not written")
            return 1
        print("the demo model (Qwen2-Audio) in transformers on the same prompt: the same ids")
    trace["model"]["path"] = MODEL_NAME
    OUT.parent.mkdir(parents=True, exist_ok=True)
    write_run(OUT, trace, result.arrays)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
