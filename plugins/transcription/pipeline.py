"""The steps of a run as plain functions: the DAG's tasks, the transcriber image and the CLI all call these."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import socket
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import regex

from transcription import sources
from transcription.errors import Unavailable
from transcription.options import TranscribeOptions
from transcription.sources import Video
from transcription.store import Store

log = logging.getLogger(__name__)


def transcribe_video(
    video: Video | dict[str, Any],
    options: TranscribeOptions,
    *,
    store: Store,
    force: bool = False,
    run_id: str | None = None,
    max_duration: float | None = None,
) -> dict[str, Any]:
    """Download, transcribe and store one video; a finished transcript in the store is reused, not redone.

    Returns a small summary, also recorded under the run (when given) for its report; the transcript itself
    stays in the store. A video that cannot be transcribed raises `Unavailable`, after recording why.
    """
    [result] = transcribe_videos([video], options, store=store, force=force, run_id=run_id,
                                 max_duration=max_duration)
    if result["status"] == "skipped":
        raise Unavailable(result["reason"])
    return result


@dataclasses.dataclass
class _Downloaded:
    """A video's audio, waiting for the model."""

    video: Video
    rel_dir: str
    samples: Any  # np.ndarray, 16 kHz mono
    timings: dict[str, float]


def transcribe_videos(
    videos: Sequence[Video | dict[str, Any]],
    options: TranscribeOptions,
    *,
    store: Store,
    force: bool = False,
    run_id: str | None = None,
    max_duration: float | None = None,
) -> list[dict[str, Any]]:
    """Several videos in one process, their windows decoded in shared batches: short videos fill a GPU together.

    A summary per video, in order; one that cannot be transcribed is a recorded `skipped` summary and the others
    go on. Any other error propagates (Airflow retries the task): transcripts already written stay, and come back
    as `cached` on the retry.
    """
    from transcription import engine  # lazy: torch and whisper only where a model runs

    options = engine.check_options(options)
    spec = engine.model_spec(options.model)
    results: list[dict[str, Any] | None] = []
    waiting: list[tuple[int, _Downloaded]] = []
    for video in (Video(**v) if isinstance(v, dict) else v for v in videos):
        try:
            outcome = _download(video, options, spec.label, store=store, force=force, max_duration=max_duration)
        except Unavailable as e:
            outcome = skipped(video, str(e))
        if isinstance(outcome, _Downloaded):
            waiting.append((len(results), outcome))
            results.append(None)
        else:
            results.append(_record(store, run_id, outcome))
    if waiting:
        started = time.perf_counter()
        model = engine.load_model(spec.source)
        loaded = time.perf_counter()
        transcripts = engine.transcribe_many(model, [d.samples for _, d in waiting], options)
        elapsed = time.perf_counter() - loaded
        total_audio = sum(len(d.samples) for _, d in waiting) or 1
        for (i, downloaded), transcript in zip(waiting, transcripts, strict=True):
            share = len(downloaded.samples) / total_audio  # videos decoded together share the time by length
            timings = {**downloaded.timings, "load_model_s": loaded - started, "transcribe_s": elapsed * share}
            results[i] = _record(store, run_id, _write(store, downloaded, transcript, spec, options, model, timings,
                                                       batch_videos=len(waiting)))
    return results


def _record(store: Store, run_id: str | None, result: dict[str, Any]) -> dict[str, Any]:
    if run_id:
        store.write_result(run_id, result)
    return result


def _download(video: Video, options: TranscribeOptions, model_label: str, *, store: Store, force: bool,
              max_duration: float | None) -> _Downloaded | dict[str, Any]:
    """The video's audio, or the summary of its finished transcript when the store has one."""
    from transcription import audio

    rel_dir = store.video_dir(video.extractor, video.id, options.variant(model_label))
    if not force and (manifest := store.manifest(rel_dir)):
        log.info("%s is already transcribed at %s", video.key, store.uri(rel_dir))
        return summary(manifest, rel_dir, "cached")

    too_long = f"longer than max_duration ({max_duration:.0f} s)" if max_duration else ""
    if max_duration and (video.duration or 0) > max_duration:  # the site said so: no download needed to know
        raise Unavailable(too_long)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="transcription-") as tmp:
        media = audio.download(video.url, Path(tmp))
        downloaded = time.perf_counter()
        samples = audio.load(media)
    decoded = time.perf_counter()
    if max_duration and len(samples) / audio.SAMPLE_RATE > max_duration:
        raise Unavailable(too_long)
    return _Downloaded(video, rel_dir, samples, {"download_s": downloaded - started,
                                                  "decode_audio_s": decoded - downloaded})


def _write(store: Store, downloaded: _Downloaded, result: dict[str, Any], spec, options: TranscribeOptions,
           model, timings: dict[str, float], *, batch_videos: int) -> dict[str, Any]:
    """The transcript and its manifest (last) into the store; returns the video's summary."""
    import whisper

    video, rel_dir = downloaded.video, downloaded.rel_dir
    duration = len(downloaded.samples) / whisper.audio.SAMPLE_RATE
    text = result["text"].strip()
    manifest = store.write_transcript(rel_dir, result, {
        "video": dataclasses.asdict(video),
        "model": {**dataclasses.asdict(spec), "requested": options.model},
        "options": options.as_dict(),
        "language": result["language"],
        "duration": duration,
        "segments": len(result["segments"]),
        "suspect_segments": sum(1 for s in result["segments"] if s.get("suspect")),
        "words": word_count(text),
        "characters": len(text),
        "timings": {**timings, "total_s": sum(timings.values())},
        "engine": {"whisper": whisper.__version__, "device": str(model.device), "host": socket.gethostname(),
                   "decoding": options.decoding, "batch_videos": batch_videos},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })
    log.info("%s: %.0f s of %s audio transcribed in %.1f s → %s", video.key, duration, result["language"],
             timings["transcribe_s"], store.uri(rel_dir))
    return summary(manifest, rel_dir, "done")


# Scripts written without spaces: each character counts as a word, the usual measure for Chinese and Japanese text
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_WORD = regex.compile(rf"[{_UNSPACED}]|[^\s{_UNSPACED}]+")


def word_count(text: str) -> int:
    """Words as a reader counts them: whitespace-separated runs, and characters of scripts without spaces (a
    Chinese transcript would otherwise count one "word" per clause)."""
    return len(_WORD.findall(text))


def summary(manifest: dict[str, Any], rel_dir: str, status: str) -> dict[str, Any]:
    return {
        "key": f"{manifest['video']['extractor']}/{manifest['video']['id']}",
        "status": status,
        "transcript": rel_dir,
        "language": manifest["language"],
        "duration": manifest["duration"],
        "words": manifest["words"],
    }


def skipped(video: Video, reason: str) -> dict[str, Any]:
    return {"key": video.key, "status": "skipped", "reason": reason}


def failure(video: Video, error: BaseException) -> dict[str, Any]:
    return {"key": video.key, "status": "failed", "reason": f"{type(error).__name__}: {error}"}


def run(
    inputs: Iterable[str],
    options: TranscribeOptions,
    *,
    store: Store,
    run_id: str | None = None,
    title: str = "Video transcripts",
    max_videos: int = 50,
    force: bool = False,
    min_count: int = 2,
    max_duration: float | None = None,
) -> dict[str, Any]:
    """A whole run without Airflow: resolve, transcribe each video in turn, report. One failure costs one video."""
    from transcription import engine, report  # lazy: the transcriber image runs `transcribe` without the report

    engine.check_options(options)
    run_id = run_id or "cli__" + dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H-%M-%S")
    resolution = sources.resolve(inputs, max_videos=max_videos)
    results = []
    for video in resolution.videos:
        try:
            results.append(transcribe_video(video, options, store=store, force=force, max_duration=max_duration))
        except Unavailable as e:
            results.append(skipped(video, str(e)))
        except Exception as e:  # noqa: BLE001 — recorded in the report and the exit code, logged with traceback
            log.exception("%s failed", video.key)
            results.append(failure(video, e))
    return report.write(store, run_id, resolution, results, options=options, title=title, min_count=min_count)
