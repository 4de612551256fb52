"""Fixture transcripts for the report's tests, written by the store's own code: an English one, a silent one (no
segments), a German one whose segment whisper's signals flag as suspect, a video whose task failed and a skipped
premiere; titles with markup."""

from __future__ import annotations

import pytest
from transcription.options import TranscribeOptions
from transcription.sources import Resolution, Skip, Video
from transcription.store import Store

OPTIONS = TranscribeOptions()


def _video(video_id: str, title: str) -> Video:
    url = f"https://www.youtube.com/watch?v={video_id}"
    return Video("youtube", video_id, url, title, url, duration=60.0, uploader="chan", upload_date="20261101")


def _store_transcript(store: Store, video: Video, text: str, language: str, suspect: tuple[str, ...] = ()) -> dict:
    flags = {"suspect": list(suspect)} if suspect else {}
    segment = {"id": 0, "seek": 0, "start": 0.0, "end": 2.0, "text": f" {text}", "tokens": [], **flags}
    segments = [segment] if text else []
    rel = store.video_dir(video.extractor, video.id, "tiny")
    store.write_transcript(rel, {"text": text, "segments": segments, "language": language}, {
        "video": video.__dict__, "model": {"label": "tiny", "random_weights": False}, "options": OPTIONS.as_dict(),
        "language": language, "duration": 58.5, "words": len(text.split()), "characters": len(text),
        "timings": {"transcribe_s": 3.0},
    })
    return {"key": video.key, "status": "done", "transcript": rel}


def write_fixture_transcripts(store: Store) -> tuple[Resolution, list[dict | None]]:
    """The fixture videos' transcripts, written into `store`; the run's resolution and its tasks' results."""
    english = _video("aaaaaaaaaaa", "Talk <script>alert(1)</script>")
    silent = _video("bbbbbbbbbbb", "Silent film")
    german = _video("ccccccccccc", "Nachrichten")
    crashed = _video("ddddddddddd", "Crashed")
    results = [
        _store_transcript(store, english, "Hello & welcome to the talk.", "en"),
        _store_transcript(store, silent, "", "en"),
        _store_transcript(store, german, "Guten Abend, meine Damen und Herren.", "de", suspect=("repetitive",)),
        None,  # the task of `crashed` failed: it returned nothing
    ]
    skipped = [Skip("https://www.youtube.com/playlist?list=PL1", "upcoming stream or premiere: nothing to "
                    "transcribe yet", key="youtube/eeeeeeeeeee", title="Premiere")]
    return Resolution([english, silent, german, crashed], skipped), results


@pytest.fixture
def fixture_run(tmp_path):
    store = Store(str(tmp_path))
    return store, *write_fixture_transcripts(store)
