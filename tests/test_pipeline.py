"""The per-video step and the CLI (the transcriber image's entrypoint): real download, real whisper, local store."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import FAST, ROOT
from transcription import audio, engine, pipeline, sources
from transcription.options import TranscribeOptions
from transcription.store import Store

OPTIONS = TranscribeOptions(whisper_options=FAST)


@pytest.fixture
def episode(podcast):
    return sources.resolve([podcast.feed_url]).videos[0]


def test_transcribe_video_writes_the_transcript_set_and_a_manifest(model_env, episode, checkpoint):
    store = Store()
    result = pipeline.transcribe_video(dataclasses.asdict(episode), OPTIONS, store=store)
    label = engine.model_spec("tiny").label
    assert result["status"] == "done" and result["key"] == episode.key
    assert result["transcript"] == f"videos/generic/{episode.id}/{OPTIONS.variant(label)}"
    manifest = store.manifest(result["transcript"])
    assert manifest["video"]["title"] == episode.title
    assert manifest["model"] == {"label": label, "source": str(checkpoint), "random_weights": True,
                                 "requested": "tiny"}
    assert manifest["options"]["whisper_options"] == FAST
    assert 4.0 < manifest["duration"] < 8.0  # the espeak sentence, measured from the decoded audio
    assert set(manifest["timings"]) == {"download_s", "decode_audio_s", "load_model_s", "transcribe_s", "total_s"}
    assert (model_env / result["transcript"] / "transcript.vtt").read_text().startswith("WEBVTT")


def test_a_run_records_each_outcome_for_its_report(model_env, podcast):
    store = Store()
    videos = sources.resolve([podcast.feed_url]).videos
    results = [pipeline.transcribe_video(v, OPTIONS, store=store, run_id="scheduled__2026-11-25") for v in videos]
    pipeline.transcribe_video(videos[0], OPTIONS, store=store, run_id="another run")
    assert store.run_results("scheduled__2026-11-25") == sorted(results, key=lambda r: r["key"])
    assert [r["status"] for r in store.run_results("another run")] == ["cached"]


def test_finished_transcript_is_reused_without_download(model_env, episode, monkeypatch):
    store = Store()
    first = pipeline.transcribe_video(episode, OPTIONS, store=store)
    monkeypatch.setattr(audio, "download", lambda *a, **k: pytest.fail("a cached video must not be downloaded"))
    again = pipeline.transcribe_video(episode, OPTIONS, store=store)
    assert again == {**first, "status": "cached"}


def test_force_redoes_a_finished_transcript(model_env, episode, monkeypatch):
    store = Store()
    pipeline.transcribe_video(episode, OPTIONS, store=store)
    downloads = []
    real_download = audio.download
    monkeypatch.setattr(audio, "download", lambda *a, **k: downloads.append(a) or real_download(*a, **k))
    forced = pipeline.transcribe_video(episode, OPTIONS, store=store, force=True)
    assert forced["status"] == "done" and len(downloads) == 1


def test_options_that_change_the_output_get_their_own_folder(model_env, episode):
    store = Store()
    plain = pipeline.transcribe_video(episode, OPTIONS, store=store)
    german = pipeline.transcribe_video(episode, dataclasses.replace(OPTIONS, language="de"), store=store)
    assert german["status"] == "done" and german["language"] == "de"
    assert german["transcript"] != plain["transcript"]


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "transcription", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, check=False)


def test_cli_transcribe_is_the_same_call_as_the_local_task(model_env, episode):
    video = json.dumps(dataclasses.asdict(episode))
    done = _cli("transcribe", "--video", video, "--whisper-options", json.dumps(FAST), env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    from_cli = json.loads(done.stdout)
    assert from_cli["status"] == "done"
    # The in-process call with the same arguments finds exactly what the CLI wrote.
    assert pipeline.transcribe_video(episode, OPTIONS, store=Store()) == {**from_cli, "status": "cached"}


def test_cli_run_transcribes_a_feed_and_reports_skips(model_env, podcast):
    done = _cli("run", podcast.feed_url, f"{podcast.base_url}/gone.mp3", "--title", "CLI run", "--run-id", "r1",
                "--whisper-options", json.dumps(FAST), env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == {"done": 3, "skipped": 1}
    table = pd.read_parquet(model_env / "runs/r1/results.parquet")
    assert table["status"].tolist() == ["done", "done", "done", "skipped"]
    assert "CLI run" in (model_env / "runs/r1/report.html").read_text()


def test_cli_run_exit_code_reports_failed_videos(model_env, podcast, faults):
    """Without Airflow there is nobody to retry: a transient error fails its video, and the exit code says so."""
    (podcast.directory / "noise.mp3").write_bytes(b"this is not audio")
    done = _cli("run", f"{faults}/flaky/2/ep-001.mp3", f"{podcast.base_url}/noise.mp3", "--run-id", "bad",
                "--whisper-options", json.dumps(FAST), env=dict(os.environ))
    assert done.returncode == 1
    assert json.loads(done.stdout)["status"] == {"failed": 1, "skipped": 1}
    table = pd.read_csv(model_env / "runs/bad/results.csv").set_index("title")
    assert table.loc["ep-001", "status"] == "failed" and "503" in table.loc["ep-001", "reason"]
    assert table.loc["noise", "status"] == "skipped" and "not audio" in table.loc["noise", "reason"]


@pytest.mark.parametrize(("text", "words"), [
    ("Hello there, general Kenobi.", 4),
    ("我们喜欢人工智能。", 9),  # characters: Chinese has no spaces to count
    ("東京でコンピューターを買った", 14),
    ("Привет, мир — 2026", 4),
    ("", 0),
])
def test_words_are_counted_in_scripts_with_and_without_spaces(text, words):
    assert pipeline.word_count(text) == words
