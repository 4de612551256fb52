"""What a run asks of Whisper. Kept free of heavy imports: the DAG file imports it at parse time."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

# whisper.available_models() minus the superseded large-v1/v2 and the aliases; tests check it stays a subset.
MODELS = (
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en", "large-v3", "turbo",
)
TASKS = ("transcribe", "translate")
# batched: windows cut in pauses, decoded many at once (fast; each window on its own). sequential: whisper.transcribe,
# one window at a time, each conditioned on the text before it. See transcription.batched.
DECODINGS = ("batched", "sequential")


@dataclasses.dataclass(frozen=True)
class TranscribeOptions:
    """Everything that changes a transcript's content, so it also names the transcript's folder in the store."""

    model: str = "tiny"
    task: str = "transcribe"
    language: str | None = None  # None: whisper detects it
    decoding: str = DECODINGS[0]
    whisper_options: dict[str, Any] = dataclasses.field(default_factory=dict)  # extra whisper.transcribe kwargs

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TranscribeOptions:
        language = params.get("language") or "auto"
        return cls(
            model=params.get("model") or cls.model,
            task=params.get("task") or cls.task,
            language=None if language == "auto" else language,
            decoding=params.get("decoding") or cls.decoding,
            whisper_options=dict(params.get("whisper_options") or {}),
        )

    def variant(self, model_label: str) -> str:
        """Folder name of a transcript: `tiny`, `small-translate`, `large-v3-de`, `turbo-sequential-3f2a19c0`, ..."""
        parts = [model_label]
        if self.task != "transcribe":
            parts.append(self.task)
        if self.decoding != DECODINGS[0]:
            parts.append(self.decoding)
        if self.language:
            parts.append(self.language)
        if self.whisper_options:
            canonical = json.dumps(self.whisper_options, sort_keys=True, separators=(",", ":"))
            parts.append(hashlib.sha256(canonical.encode()).hexdigest()[:8])
        return "-".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
