"""Whisper over many 30-second windows at once, with openai-whisper's own batched `decode`.

`whisper.transcribe` decodes one window at a time, each conditioned on the text before it, so a GPU multiplies
[1 × d] activations by each weight matrix for every token. Here the windows are planned up front, cut in pauses
(`transcription.windows`), and encoded and decoded in batches: the same weights serve a whole batch per step. The
trade-off: a window does not see the text of the one before (an `initial_prompt` is given to every window), which
also means an error cannot run on from window to window; the sequential path remains as `decoding="sequential"`.

The language, when not given, is detected over up to LANGUAGE_WINDOWS windows spread over the whole recording
rather than whisper's first 30 s only (a music intro or an English greeting decides it otherwise).
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import whisper
from whisper.audio import HOP_LENGTH, N_FRAMES, N_SAMPLES
from whisper.decoding import DecodingOptions, DecodingResult
from whisper.timing import add_word_timestamps
from whisper.tokenizer import Tokenizer, get_tokenizer

from transcription import windows
from transcription.options import TranscribeOptions

log = logging.getLogger(__name__)

ENV_BATCH_SIZE = "WHISPER_BATCH_SIZE"  # windows per batch; unset: as many as the free memory holds, up to MAX
MAX_BATCH_SIZE = 64
LANGUAGE_WINDOWS = 8
TIME_PRECISION = 0.02  # seconds per timestamp token: whisper's input stride (2 mel frames) × 10 ms
# whisper.transcribe's defaults (temperature fallback, thresholds, punctuation), so both paths mean the same by them
DEFAULTS = {name: p.default for name, p in inspect.signature(whisper.transcribe).parameters.items()
            if p.default is not inspect.Parameter.empty}
SEQUENTIAL_ONLY = ("condition_on_previous_text", "carry_initial_prompt", "clip_timestamps",
                   "hallucination_silence_threshold")


@dataclasses.dataclass
class _Window:
    audio: int  # index into the batch of recordings
    span: windows.Window
    features: torch.Tensor | None = None  # encoder output, kept from language detection to decoding


def check(options: dict[str, Any]) -> None:
    """Options that only make sense when each window sees the text before it."""
    bad = [k for k in SEQUENTIAL_ONLY if options.get(k) not in (None, False, "0")]
    if bad:
        raise ValueError(f"whisper_options {bad} need decoding='sequential' (the batched path decodes each window "
                         f"on its own, without the text before it)")


def batch_size(model: whisper.Whisper) -> int:
    """$WHISPER_BATCH_SIZE, else as many windows as half the free memory holds (the decoder's caches dominate).

    Bigger is better up to that point, on a CPU too: one decoding step of small models costs about the same for
    1 window as for 16 (it is bound by per-step overhead, not arithmetic).
    """
    if os.environ.get(ENV_BATCH_SIZE):
        return max(1, int(os.environ[ENV_BATCH_SIZE]))
    if model.device.type == "cuda":
        free, itemsize = torch.cuda.mem_get_info(model.device)[0], 2  # fp16
    else:
        free, itemsize = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), 4
    d = model.dims
    per_window = itemsize * (
        2 * d.n_text_layer * (d.n_audio_ctx + d.n_text_ctx) * d.n_text_state  # cross- and self-attention caches
        + 8 * 2 * d.n_audio_ctx * d.n_audio_state  # encoder activations (the first conv runs at twice n_audio_ctx)
    )
    return int(np.clip(free // 2 // per_window, 1, MAX_BATCH_SIZE))


def _batches(todo: list[_Window], size: int) -> list[list[_Window]]:
    """Batches of at most `size`, as even as can be (9 windows at 8: 5 + 4, not 8 + 1, since a batch costs about as
    much as its slowest window), longest windows together (more speech, more tokens to decode)."""
    todo = sorted(todo, key=lambda w: w.span.start - w.span.end)
    count = -(-len(todo) // size)
    edges = [round(i * len(todo) / count) for i in range(count + 1)]
    return [todo[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def transcribe(model: whisper.Whisper, audios: Sequence[np.ndarray], options: TranscribeOptions,
               size: int | None = None) -> list[dict[str, Any]]:
    """Transcribe several recordings (16 kHz mono float32) together: windows of all of them share batches.

    Returns whisper.transcribe's result shape for each: `text`, `segments`, `language`, and `language_probs`
    when the language was detected.
    """
    check(options.whisper_options)
    opts = {**DEFAULTS, **options.whisper_options}
    size = size or batch_size(model)
    fp16 = model.device.type == "cuda"
    plan = [_Window(i, span) for i, audio in enumerate(audios) for span in windows.plan(audio)]
    languages = _languages(model, audios, plan, options.language, size, fp16)
    segments: list[list[dict[str, Any]]] = [[] for _ in audios]
    for language in sorted({languages[w.audio][0] for w in plan}):
        tokenizer = get_tokenizer(model.is_multilingual, num_languages=model.num_languages, language=language,
                                  task=options.task)
        todo = [w for w in plan if languages[w.audio][0] == language]
        for n, batch in enumerate(_batches(todo, size), 1):
            features = _encode(model, audios, batch, fp16)
            for w, result in zip(batch, _decode(model, features, tokenizer, opts, fp16), strict=True):
                w.features = None  # decoded: let the memory go
                if _no_speech(result, opts):
                    continue
                found = _segments(result, w.span, tokenizer)
                if opts["word_timestamps"] and found:
                    add_word_timestamps(
                        segments=found, model=model, tokenizer=tokenizer,
                        mel=_mel(model, audios[w.audio], w.span).to(features.dtype),
                        num_frames=(w.span.end - w.span.start) // HOP_LENGTH,
                        prepend_punctuations=opts["prepend_punctuations"],
                        append_punctuations=opts["append_punctuations"],
                        last_speech_timestamp=w.span.seconds[0],
                    )
                segments[w.audio].extend(found)
            log.debug("%s: decoded batch %d (%d windows)", language, n, len(batch))
    return [_result(segs, *languages[i]) for i, segs in enumerate(segments)]


def _languages(model, audios, plan, language, size, fp16) -> list[tuple[str, dict[str, float] | None]]:
    """The language of each recording, with the mean probabilities over its sampled windows when detected."""
    if language or not model.is_multilingual:
        return [(language or "en", None)] * len(audios)
    samples = []
    for i in range(len(audios)):
        own = [w for w in plan if w.audio == i]
        picks = np.unique(np.linspace(0, len(own) - 1, min(len(own), LANGUAGE_WINDOWS)).round().astype(int))
        samples += [own[p] for p in picks]
    probs: dict[int, list[dict[str, float]]] = {i: [] for i in range(len(audios))}
    for start in range(0, len(samples), size):
        batch = samples[start:start + size]
        features = _encode(model, audios, batch, fp16)
        for w, feature in zip(batch, features, strict=True):
            w.features = feature  # decoding reuses it: each window is encoded once
        for w, p in zip(batch, model.detect_language(features)[1], strict=True):
            probs[w.audio].append(p)
    detected = []
    for i in range(len(audios)):
        if not probs[i]:  # no speech at all: nothing to detect, nothing will be decoded
            detected.append((None, None))
            continue
        mean = {code: float(np.mean([p[code] for p in probs[i]])) for code in probs[i][0]}
        best = max(mean, key=mean.get)
        log.info("language: %s (%.2f over %d windows)", best, mean[best], len(probs[i]))
        detected.append((best, dict(sorted(mean.items(), key=lambda kv: -kv[1])[:5])))
    return detected


def _mel(model: whisper.Whisper, audio: np.ndarray, span: windows.Window) -> torch.Tensor:
    """Log-mel of one window, padded with silence to 30 s as whisper pads the end of a recording."""
    chunk = torch.from_numpy(np.ascontiguousarray(audio[span.start:span.end], dtype=np.float32))
    mel = whisper.log_mel_spectrogram(chunk, model.dims.n_mels, padding=N_SAMPLES - len(chunk), device=model.device)
    return whisper.pad_or_trim(mel, N_FRAMES)


def _encode(model, audios: Sequence[np.ndarray], batch: list[_Window], fp16: bool) -> torch.Tensor:
    """Encoder output for a batch; windows encoded before (for language detection) are not encoded again."""
    todo, encoded = [w for w in batch if w.features is None], iter(())
    if todo:
        mels = torch.stack([_mel(model, audios[w.audio], w.span) for w in todo])
        with torch.no_grad():
            encoded = iter(model.encoder(mels.to(torch.float16 if fp16 else torch.float32)))
    return torch.stack([next(encoded) if w.features is None else w.features for w in batch])


def _decode(model, features: torch.Tensor, tokenizer: Tokenizer, opts: dict[str, Any],
            fp16: bool) -> list[DecodingResult]:
    """whisper.decode on the batch, then again at each next temperature for the windows whose output whisper's
    thresholds reject (too repetitive, too improbable), as whisper.transcribe does window by window."""
    temperatures = opts["temperature"]
    temperatures = [temperatures] if isinstance(temperatures, int | float) else list(temperatures)
    prompt = opts["initial_prompt"]
    common = {
        "task": tokenizer.task, "language": tokenizer.language, "fp16": fp16, "sample_len": opts.get("sample_len"),
        "length_penalty": opts.get("length_penalty"), "suppress_tokens": opts.get("suppress_tokens", "-1"),
        "prompt": tokenizer.encode(" " + prompt.strip()) if prompt else None,
    }
    results: list[DecodingResult | None] = [None] * len(features)
    pending = list(range(len(features)))
    for t in temperatures:
        search = {"best_of": opts.get("best_of")} if t > 0 else {
            "beam_size": opts.get("beam_size"), "patience": opts.get("patience")}
        decoded = whisper.decode(model, features[pending], DecodingOptions(**common, **search, temperature=t))
        for i, result in zip(pending, decoded, strict=True):
            results[i] = result
        pending = [i for i in pending if _needs_fallback(results[i], opts)]
        if not pending:
            break
    return results


def _needs_fallback(result: DecodingResult, opts: dict[str, Any]) -> bool:
    """whisper.transcribe's rule: retry too repetitive or too improbable output, unless the window is silence."""
    ratio, logprob, no_speech = (opts[k] for k in ("compression_ratio_threshold", "logprob_threshold",
                                                    "no_speech_threshold"))
    low_logprob = logprob is not None and result.avg_logprob < logprob
    if no_speech is not None and result.no_speech_prob > no_speech and low_logprob:
        return False
    return (ratio is not None and result.compression_ratio > ratio) or low_logprob


def _no_speech(result: DecodingResult, opts: dict[str, Any]) -> bool:
    """whisper.transcribe's rule for skipping a window: probably no speech, and not confidently decoded."""
    threshold, logprob = opts["no_speech_threshold"], opts["logprob_threshold"]
    return (threshold is not None and result.no_speech_prob > threshold
            and not (logprob is not None and result.avg_logprob > logprob))


def _segments(result: DecodingResult, span: windows.Window, tokenizer: Tokenizer) -> list[dict[str, Any]]:
    """Split a window's tokens into segments at each pair of timestamp tokens, as whisper.transcribe does.

    Times are absolute (the window's start added) and kept inside the window. Text after the last timestamp pair
    is a segment to the window's end: no next window re-decodes it, as the sequential path would.
    """
    offset, end = span.seconds
    begin = tokenizer.timestamp_begin
    tokens = result.tokens
    cuts = [i for i in range(1, len(tokens)) if tokens[i - 1] >= begin and tokens[i] >= begin]
    segments = []
    for first, last in zip([0, *cuts], [*cuts, len(tokens)], strict=True):
        piece = tokens[first:last]
        text = [t for t in piece if t < tokenizer.eot]
        if not text:
            continue
        start = offset + (piece[0] - begin) * TIME_PRECISION if piece[0] >= begin else offset
        stop = offset + (piece[-1] - begin) * TIME_PRECISION if piece[-1] >= begin and len(piece) > 1 else end
        start = min(max(start, offset), end)
        segments.append({
            "seek": span.start // HOP_LENGTH, "start": round(start, 3), "end": round(min(max(stop, start), end), 3),
            "text": tokenizer.decode(text), "tokens": piece, "temperature": result.temperature,
            "avg_logprob": result.avg_logprob, "compression_ratio": result.compression_ratio,
            "no_speech_prob": result.no_speech_prob,
        })
    return segments


def _result(segments: list[dict[str, Any]], language: str | None,
            probs: dict[str, float] | None) -> dict[str, Any]:
    segments = sorted(segments, key=lambda s: s["start"])
    for i, segment in enumerate(segments):
        segment["id"] = i
    result = {"text": "".join(s["text"] for s in segments), "segments": segments, "language": language}
    if probs:
        result["language_probs"] = probs
    return result
