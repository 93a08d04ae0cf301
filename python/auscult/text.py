"""Generated text token by token, as auscult's runner streams it: a port of the crate's
`model::TextStream`.

Each generated id adds a piece of text: the prefix of ids decoded so far (special tokens left
out, with `tokenizers`, the library auscult links) minus what earlier pieces gave. While the
prefix ends inside a multi-byte character (byte-level BPE spreads one over several tokens: the
decoded text then ends in U+FFFD, or it no longer extends the text given out so far) the piece
is empty; the character arrives whole with the token that completes it. What is still held
back at the end joins the last piece. The pieces' concatenation is the generated text, and a
trace's `generation.piece_offsets` are where they start (`auscult.steps.piece_offsets`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = ["Decoder", "TextStream", "pieces_at", "pieces_of"]

_REPLACEMENT_CHARACTER = "\ufffd"


class Decoder(Protocol):
    """What the stream needs of a `tokenizers.Tokenizer`."""

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str: ...


def _is_char_boundary(data: bytes, at: int) -> bool:
    """Rust's `str::is_char_boundary` on UTF-8 `data`."""
    if at == 0 or at == len(data):
        return True
    return at < len(data) and data[at] & 0xC0 != 0x80


class TextStream:
    """Decodes generated ids one at a time into text pieces (the crate's `TextStream`)."""

    def __init__(self, tokenizer: Decoder, skip_special_tokens: bool = True) -> None:
        self.tokenizer = tokenizer
        self.skip_special_tokens = skip_special_tokens
        self.ids: list[int] = []
        self.emitted_bytes = 0

    def _decoded(self) -> bytes:
        text = self.tokenizer.decode(self.ids, skip_special_tokens=self.skip_special_tokens)
        return text.encode("utf-8")

    def _take_from(self, data: bytes) -> str:
        piece = data[self.emitted_bytes :].decode("utf-8")
        self.emitted_bytes = len(data)
        return piece

    def push(self, token_id: int) -> str:
        """The text `token_id` adds (empty while a character is incomplete)."""
        self.ids.append(int(token_id))
        data = self._decoded()
        if (
            data.endswith(_REPLACEMENT_CHARACTER.encode("utf-8"))
            or len(data) < self.emitted_bytes
            or not _is_char_boundary(data, self.emitted_bytes)
        ):
            return ""
        return self._take_from(data)

    def finish(self) -> str:
        """What is still held back at the end of the generation (an incomplete character
        comes out as U+FFFD, as the decoder gives it)."""
        data = self._decoded()
        if len(data) < self.emitted_bytes or not _is_char_boundary(data, self.emitted_bytes):
            return ""
        return self._take_from(data)


def pieces_of(
    tokenizer: Decoder, ids: Sequence[int], skip_special_tokens: bool = True
) -> list[str]:
    """One piece per id, as auscult's runner records them: each id's `TextStream.push`, with
    `finish()`'s tail joined to the last piece."""
    stream = TextStream(tokenizer, skip_special_tokens)
    pieces = [stream.push(token_id) for token_id in ids]
    tail = stream.finish()
    if pieces:
        pieces[-1] += tail
    return pieces


def pieces_at(text: str, offsets: Sequence[int]) -> list[str]:
    """A trace's pieces back from its `generation.text` and `generation.piece_offsets` (UTF-8
    byte offsets): piece `k` runs to the next offset, the last one to the text's end."""
    data = text.encode("utf-8")
    ends = [*offsets[1:], len(data)]
    pieces = []
    for start, end in zip(offsets, ends):
        if not (0 <= start <= end <= len(data)):
            raise ValueError(
                f"piece offsets {start}..{end} are outside the text's {len(data)} bytes"
            )
        try:
            pieces.append(data[start:end].decode("utf-8"))
        except UnicodeDecodeError as error:
            raise ValueError(f"piece offsets {start}..{end} cut a character") from error
    return pieces
