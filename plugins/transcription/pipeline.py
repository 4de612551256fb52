"""The steps of a run as plain functions: the DAG's tasks, the transcriber image and the CLI all call these."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import socket
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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
    video = Video(**video) if isinstance(video, dict) else video
    try:
        result = _transcribe_video(video, options, store=store, force=force, max_duration=max_duration)
    except Unavailable as e:
        if run_id:
            store.write_result(run_id, skipped(video, str(e)))
        raise
    if run_id:
        store.write_result(run_id, result)
    return result


def _transcribe_video(
    video: Video, options: TranscribeOptions, *, store: Store, force: bool, max_duration: float | None
) -> dict[str, Any]:
    import whisper

    from transcription import audio, engine  # lazy: torch and whisper only where a model runs

    options = engine.check_options(options)
    spec = engine.model_spec(options.model)
    rel_dir = store.video_dir(video.extractor, video.id, options.variant(spec.label))
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
    model = engine.load_model(spec.source)
    loaded = time.perf_counter()
    result = engine.transcribe(model, samples, options)
    finished = time.perf_counter()

    duration = len(samples) / audio.SAMPLE_RATE
    text = result["text"].strip()
    manifest = store.write_transcript(rel_dir, result, {
        "video": dataclasses.asdict(video),
        "model": {**dataclasses.asdict(spec), "requested": options.model},
        "options": options.as_dict(),
        "language": result["language"],
        "duration": duration,
        "segments": len(result["segments"]),
        "words": len(text.split()),
        "characters": len(text),
        "timings": {
            "download_s": downloaded - started,
            "decode_audio_s": decoded - downloaded,
            "load_model_s": loaded - decoded,
            "transcribe_s": finished - loaded,
            "total_s": finished - started,
        },
        "engine": {"whisper": whisper.__version__, "device": str(model.device), "host": socket.gethostname()},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })
    log.info("%s: %.0f s of %s audio transcribed in %.1f s → %s", video.key, duration, result["language"],
             finished - loaded, store.uri(rel_dir))
    return summary(manifest, rel_dir, "done")


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
