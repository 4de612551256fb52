"""Whisper models: which checkpoint, loaded once per process, and transcription with a run's options."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import os
import urllib.error
from pathlib import Path
from typing import Any

import numpy as np
import torch
import whisper
from whisper.tokenizer import LANGUAGES, TO_LANGUAGE_CODE

from transcription import batched, windows
from transcription.options import DECODINGS, TASKS, TranscribeOptions

log = logging.getLogger(__name__)

ENV_MODEL = "WHISPER_MODEL"  # a local checkpoint file used instead of downloading the `model` param
ENV_CACHE = "WHISPER_CACHE_DIR"  # where named models are downloaded to, or baked into an image

# whisper.transcribe keyword arguments a run may set (the `whisper` CLI's decoding flags, and sample_len: the most
# tokens per window). task, language and fp16 are not among them: the first two are options of their own, fp16
# follows the device.
WHISPER_OPTIONS = frozenset({
    "sample_len", "temperature", "best_of", "beam_size", "patience", "length_penalty", "suppress_tokens",
    "initial_prompt", "carry_initial_prompt", "condition_on_previous_text", "compression_ratio_threshold",
    "logprob_threshold", "no_speech_threshold", "word_timestamps", "prepend_punctuations", "append_punctuations", "clip_timestamps",
    "hallucination_silence_threshold",
})

SUSPECT = {  # flag: (segment field, whisper.transcribe option whose threshold it is compared with, too high?)
    "no_speech": ("no_speech_prob", "no_speech_threshold", True),
    "repetitive": ("compression_ratio", "compression_ratio_threshold", True),
    "improbable": ("avg_logprob", "logprob_threshold", False),
}


class ModelUnavailable(RuntimeError):
    """The weights could not be had; the message says how to supply them."""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    label: str  # names the model in the store and the report: "tiny", or "<file stem>-<sha256 prefix>"
    source: str  # what whisper.load_model gets: a model name or a checkpoint path
    random_weights: bool = False  # a checkpoint from `make-checkpoint`: its output is not speech


def model_spec(name: str) -> ModelSpec:
    """The model a run will use: the named one, or the local checkpoint that $WHISPER_MODEL points at."""
    path = os.environ.get(ENV_MODEL)
    if not path:
        return ModelSpec(name, name)
    if not os.path.isfile(path):
        raise ModelUnavailable(f"{ENV_MODEL}={path!r} is not a file: point it at a whisper checkpoint (.pt)")
    stat = os.stat(path)
    digest, random_weights = _inspect_checkpoint(os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    return ModelSpec(f"{Path(path).stem}-{digest}", path, random_weights)


@functools.cache
def _inspect_checkpoint(path: str, size: int, mtime_ns: int) -> tuple[str, bool]:
    """Content hash (two files called model.pt must not share transcripts) and the random-weights mark, once per
    process and version of the file."""
    log.warning("%s is set: using the checkpoint %s instead of the model named in the run", ENV_MODEL, path)
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()[:8]
    checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)  # mmap: reads no weights
    return digest, bool(checkpoint.get("random_weights"))


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


@functools.cache
def load_model(source: str) -> whisper.Whisper:
    """One load per process and model: a pod or worker transcribing several videos pays it once.

    On a GPU the weights are made fp16 once; whisper would otherwise cast each fp32 matrix at every use.
    """
    try:
        model = whisper.load_model(source, device=device(), download_root=os.environ.get(ENV_CACHE))
        return model.half() if model.device.type == "cuda" else model
    except (urllib.error.URLError, ConnectionError, TimeoutError) as e:  # not other OSErrors: a read-only cache
        # folder must say so, not "cannot download"
        root = os.environ.get(ENV_CACHE) or "~/.cache/whisper"
        raise ModelUnavailable(
            f"cannot download the whisper model {source!r}: {e}. Whisper fetches weights from "
            f"openaipublic.azureedge.net on first use. Without access to it, put the official checkpoint at "
            f"{root}/{source}.pt (${ENV_CACHE} sets that folder), or set {ENV_MODEL}=/path/to/checkpoint.pt. "
            f"For a smoke run without any weights, `python -m transcription make-checkpoint random-mini.pt` "
            f"writes random ones (their output is not speech)."
        ) from e


def check_options(options: TranscribeOptions) -> TranscribeOptions:
    """Fail before any download or GPU time is spent; language names become codes ("German" → "de")."""
    if options.model not in whisper.available_models():
        raise ValueError(f"unknown model {options.model!r}; whisper has {', '.join(whisper.available_models())}")
    if options.task not in TASKS:
        raise ValueError(f"unknown task {options.task!r}; use one of {', '.join(TASKS)}")
    if options.decoding not in DECODINGS:
        raise ValueError(f"unknown decoding {options.decoding!r}; use one of {', '.join(DECODINGS)}")
    language = options.language
    if language:
        language = TO_LANGUAGE_CODE.get(language.lower(), language.lower())
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {options.language!r}; use 'auto' or a code such as en, de, ja")
    if options.model.endswith(".en") and (options.task == "translate" or language not in (None, "en")):
        raise ValueError(f"{options.model} is English-only: it cannot translate or transcribe {language!r}")
    unknown = set(options.whisper_options) - WHISPER_OPTIONS
    if unknown:
        raise ValueError(
            f"unknown whisper_options {sorted(unknown)}; allowed: {', '.join(sorted(WHISPER_OPTIONS))}"
        )
    if options.decoding == "batched":
        batched.check(options.whisper_options)
    return dataclasses.replace(options, language=language)


def transcribe(model: whisper.Whisper, audio: np.ndarray, options: TranscribeOptions) -> dict[str, Any]:
    return transcribe_many(model, [audio], options)[0]


def transcribe_many(model: whisper.Whisper, audios: list[np.ndarray], options: TranscribeOptions
                    ) -> list[dict[str, Any]]:
    """Whisper's result (`text`, `segments`, `language`) for each recording, by the run's decoding.

    Both paths skip what has no speech energy (`transcription.windows`), keep timestamps inside the audio (whisper
    can overrun its end) and mark segments that whisper's own signals make suspect (see `flag_suspects`).
    """
    if options.decoding == "batched":
        results = batched.transcribe(model, audios, options)
    else:
        results = [_sequential(model, audio, options) for audio in audios]
    for audio, result in zip(audios, results, strict=True):
        duration = len(audio) / whisper.audio.SAMPLE_RATE
        for item in [*result["segments"], *(w for s in result["segments"] for w in s.get("words", ()))]:
            item["start"] = min(max(item["start"], 0.0), duration)
            item["end"] = min(max(item["end"], item["start"]), duration)
        flag_suspects(result["segments"], options.whisper_options)
    return results


def _sequential(model: whisper.Whisper, audio: np.ndarray, options: TranscribeOptions) -> dict[str, Any]:
    """whisper.transcribe with the run's options, over the stretches with speech (unless clip_timestamps says)."""
    plan = windows.plan(audio)
    if not plan:
        return {"text": "", "segments": [], "language": options.language}
    kwargs = {"clip_timestamps": [t for w in plan for t in w.seconds], **options.whisper_options}
    return whisper.transcribe(model, audio, task=options.task, language=options.language,
                              fp16=model.device.type == "cuda", verbose=None, **kwargs)


def flag_suspects(segments: list[dict[str, Any]], whisper_options: dict[str, Any]) -> None:
    """Mark segments with `suspect: [...]` where whisper's own signals point at hallucinated text (music, noise,
    loops): the run's thresholds, or whisper's defaults where the run turned them off."""
    for segment in segments:
        flags = []
        for flag, (field, option, too_high) in SUSPECT.items():
            threshold = whisper_options.get(option)
            threshold = batched.DEFAULTS[option] if threshold is None else threshold
            if (segment[field] > threshold) if too_high else (segment[field] < threshold):
                flags.append(flag)
        if flags:
            segment["suspect"] = flags
