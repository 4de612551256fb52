"""The run's report: a results table of every input video (pandas → parquet + csv), a word cloud and a word2vec
map of all transcripts, and one self-contained HTML page (figures embedded) that opens straight from the store.

Built from the store's manifests rather than from what the tasks returned, so it reads the same whichever launcher
ran the transcriptions, and a transcript finished by an earlier run is reported like a new one.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import urllib.parse
from collections import Counter
from collections.abc import Iterable
from typing import Any

import jinja2
import pandas as pd

from transcription import figures
from transcription.options import TranscribeOptions
from transcription.sources import Resolution
from transcription.store import Store

# One row per input video, skipped ones included; nullable dtypes keep parquet and csv faithful.
COLUMNS = {
    "key": "string", "extractor": "string", "video_id": "string", "title": "string", "url": "string",
    "uploader": "string", "upload_date": "string", "duration_s": "Float64", "model": "string", "task": "string",
    "language": "string", "words": "Int64", "characters": "Int64", "transcribe_s": "Float64",
    "realtime_factor": "Float64", "status": "string", "reason": "string", "transcript": "string",
}
TASK_FAILED = "the transcribe task failed: its log in Airflow says why"
# Direct media files: browsers play these themselves and seek to a W3C Media Fragment (`#t=123`).
MEDIA_EXTENSIONS = (".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".wav", ".flac", ".mp4", ".m4v", ".webm",
                    ".ogv", ".mov")

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("transcription", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)


def finished(store: Store, results: list[dict[str, Any] | None]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Video key → (transcript folder, manifest) for every video whose task reported a transcript."""
    found = {}
    for result in results:
        if result and "transcript" in result and (manifest := store.manifest(result["transcript"])):
            found[result["key"]] = (result["transcript"], manifest)
    return found


def results_table(
    resolution: Resolution,
    results: list[dict[str, Any] | None],
    transcripts: dict[str, tuple[str, dict[str, Any]]],
) -> pd.DataFrame:
    by_key = {r["key"]: r for r in results if r}
    rows = []
    for video in resolution.videos:
        result = by_key.get(video.key) or {"status": "failed", "reason": TASK_FAILED}
        row = {
            "key": video.key, "extractor": video.extractor, "video_id": video.id, "title": video.title,
            "url": video.webpage_url, "uploader": video.uploader, "upload_date": video.upload_date,
            "duration_s": video.duration, "status": result["status"], "reason": result.get("reason"),
        }
        if video.key in transcripts:
            folder, manifest = transcripts[video.key]
            transcribe_s = manifest["timings"]["transcribe_s"]
            row |= {
                "duration_s": manifest["duration"], "model": manifest["model"]["label"],
                "task": manifest["options"]["task"], "language": manifest["language"], "words": manifest["words"],
                "characters": manifest["characters"], "transcribe_s": transcribe_s,
                "realtime_factor": manifest["duration"] / transcribe_s if transcribe_s else None,
                "transcript": folder,
            }
        rows.append(row)
    for skip in resolution.skipped:
        rows.append({"key": skip.key, "title": skip.title, "url": skip.url or skip.source, "status": "skipped",
                     "reason": skip.reason})
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(COLUMNS)


def write(
    store: Store,
    run_id: str,
    resolution: Resolution,
    results: list[dict[str, Any] | None],
    *,
    options: TranscribeOptions,
    title: str,
    min_count: int = 2,
    stopwords: Iterable[str] = (),
) -> dict[str, Any]:
    """Write table, figures, page and the run's manifest (last) under runs/<run id>/; return where they are.

    `stopwords`: words left out of the figures besides English and gensim's (a channel's name, its jingle)."""
    done = finished(store, results)
    table = results_table(resolution, results, done)
    run_dir = store.run_dir(run_id)
    parquet = io.BytesIO()
    table.to_parquet(parquet, index=False)
    store.write(f"{run_dir}/results.parquet", parquet.getvalue())
    store.write(f"{run_dir}/results.csv", table.to_csv(index=False))

    segments = {key: json.loads(store.read_text(f"{folder}/transcript.json"))["segments"]
                for key, (folder, _) in done.items()}
    sources = {v.key: (v.extractor, v.id, v.webpage_url) for v in resolution.videos}  # not the table: duplicate
    # skips share a video's key, with nothing else filled in
    shown = {key: [{"start": s["start"], "text": s["text"].strip(), "href": moment_url(*sources[key], s["start"]),
                    "suspect": s.get("suspect", [])} for s in video] for key, video in segments.items()}
    extra_stopwords = sorted({w.strip().lower() for w in stopwords if w.strip()})
    stop = figures.stopwords(extra_stopwords)
    sentences = [words for video in segments.values() for segment in video
                 if (words := figures.tokenize(segment["text"], stop))]
    pngs = {"wordcloud.png": figures.word_cloud(sentences), "word2vec.png": figures.word_map(sentences, min_count)}
    for name, png in pngs.items():
        store.write(f"{run_dir}/{name}", png)

    status = {s: int(n) for s, n in table["status"].value_counts().items()}
    random_weights = any(manifest["model"]["random_weights"] for _, manifest in done.values())
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    html = _templates.get_template("report.html.j2").render(
        title=title, run_id=run_id, created=created, options=options, segments=shown, status=status,
        rows=table.astype(object).where(table.notna(), None).to_dict("records"), random_weights=random_weights,
        root="../../", figures={name: base64.b64encode(png).decode("ascii") for name, png in pngs.items()},
        hours=table.loc[table["status"].isin(["done", "cached"]), "duration_s"].sum() / 3600,
        words=int(table["words"].sum()), reasons=not_transcribed(table),
    )
    store.write(f"{run_dir}/report.html", html)

    manifest = {
        "run_id": run_id, "title": title, "created": created, "options": options.as_dict(), "status": status,
        "random_weights": random_weights, "skipped": resolution.as_dict()["skipped"],
        "results": [r for r in results if r], "min_count": min_count, "stopwords": extra_stopwords,
        "artifacts": ["results.parquet", "results.csv", *pngs, "report.html"],
    }
    store.write_manifest(run_dir, manifest)
    return {"run": run_dir, "report": store.uri(f"{run_dir}/report.html"), "status": status}


def not_transcribed(table: pd.DataFrame) -> list[tuple[str, str, int]]:
    """(status, reason, how many videos) for the skipped and failed ones, most frequent first, then by reason."""
    missing = table[table["status"].isin(["skipped", "failed"])]
    counts = Counter(zip(missing["status"], missing["reason"].fillna("no reason recorded"), strict=True))
    return sorted(((status, reason, n) for (status, reason), n in counts.items()), key=lambda t: (-t[2], t[1]))


def moment_url(extractor: str | None, video_id: str | None, url: str | None, seconds: float) -> str | None:
    """A link to `seconds` into the source, where the site supports one: YouTube's `&t=…s`, a Media Fragment
    (`#t=…`) for a direct audio or video file; None elsewhere (the page then shows the timestamp as plain text)."""
    second = int(seconds)
    if extractor == "youtube" and video_id:
        return f"https://www.youtube.com/watch?v={urllib.parse.quote(video_id, safe='')}&t={second}s"
    if url:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("http", "https") and parts.path.lower().endswith(MEDIA_EXTENSIONS):
            return parts._replace(fragment=f"t={second}").geturl()
    return None


def timestamp(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


_templates.filters["timestamp"] = timestamp
