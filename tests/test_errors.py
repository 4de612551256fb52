"""Error classes: what cannot heal is a recorded skip, what can is retried, against real failures on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yt_dlp
from yt_dlp.utils import DownloadError

from conftest import FAST, ROOT
from transcription import audio, cli, offline, pipeline, sources
from transcription.errors import Unavailable, classify
from transcription.options import TranscribeOptions
from transcription.sources import Video
from transcription.store import Store

OPTIONS = TranscribeOptions(whisper_options=FAST)


def _error(url: str) -> DownloadError:
    with pytest.raises(DownloadError) as raised, yt_dlp.YoutubeDL({"quiet": True, "no_warnings": True}) as ydl:
        ydl.extract_info(url, download=True)
    return raised.value


@pytest.mark.parametrize(("path", "kind"), [
    ("/status/404/ep-001.mp3", "permanent"), ("/status/410/ep-001.mp3", "permanent"),
    ("/status/503/ep-001.mp3", "transient"), ("/status/429/ep-001.mp3", "transient"),
    ("/status/403/ep-001.mp3", "transient"),  # YouTube's answer to a stale download URL: a retry re-extracts it
])
def test_http_errors_are_sorted_by_status(faults, path, kind):
    assert classify(_error(faults + path)) == kind


def test_unsupported_pages_are_permanent_and_a_dead_host_transient(podcast):
    (podcast.directory / "page.html").write_text("<html><body>No media here.</body></html>")
    assert classify(_error(f"{podcast.base_url}/page.html")) == "permanent"
    assert classify(_error("http://127.0.0.1:9/nothing-listens.mp3")) == "transient"


def _video(url: str, video_id: str = "fault", duration: float | None = None) -> Video:
    return Video("generic", video_id, url, video_id, url, duration=duration)


def test_a_video_gone_since_it_was_listed_is_skipped_with_the_reason(model_env, faults):
    store = Store()
    with pytest.raises(Unavailable, match="404"):
        pipeline.transcribe_video(_video(f"{faults}/status/404/x.mp3"), OPTIONS, store=store, run_id="r")
    (result,) = store.run_results("r")
    assert result["key"] == "generic/fault" and result["status"] == "skipped" and "404" in result["reason"]


def test_media_that_is_not_audio_is_skipped(model_env, podcast):
    (podcast.directory / "noise.mp3").write_bytes(b"this is not audio at all")
    with pytest.raises(Unavailable, match="not audio that ffmpeg can decode"):
        pipeline.transcribe_video(_video(f"{podcast.base_url}/noise.mp3", "noise"), OPTIONS, store=Store())


def test_too_long_is_known_before_downloading_when_the_site_says_so(model_env, podcast, monkeypatch):
    monkeypatch.setattr(audio, "download", lambda *a, **k: pytest.fail("no download for a video known too long"))
    long = _video(f"{podcast.base_url}/ep-001.mp3", "long", duration=7200.0)
    with pytest.raises(Unavailable, match=r"longer than max_duration \(3600 s\)"):
        pipeline.transcribe_video(long, OPTIONS, store=Store(), max_duration=3600)


def test_too_long_is_measured_when_the_site_does_not_say(model_env, podcast):
    unknown = _video(f"{podcast.base_url}/ep-001.mp3", "unmeasured")  # 5 s of speech, no duration in metadata
    with pytest.raises(Unavailable, match=r"longer than max_duration \(2 s\)"):
        pipeline.transcribe_video(unknown, OPTIONS, store=Store(), max_duration=2)
    assert pipeline.transcribe_video(unknown, OPTIONS, store=Store(), max_duration=60)["status"] == "done"


def test_transient_errors_propagate_for_airflow_to_retry(model_env, faults):
    flaky = _video(f"{faults}/flaky/1/ep-002.mp3", "flaky")
    with pytest.raises(DownloadError, match="503"):
        pipeline.transcribe_video(flaky, OPTIONS, store=Store())
    assert pipeline.transcribe_video(flaky, OPTIONS, store=Store())["status"] == "done"  # the retry


def test_listing_fails_on_transient_errors_but_skips_permanent_ones(faults):
    with pytest.raises(DownloadError, match="503"):
        sources.resolve([f"{faults}/status/503/feed.xml"])
    resolution = sources.resolve([f"{faults}/status/404/feed.xml"])
    assert resolution.videos == [] and "404" in resolution.skipped[0].reason


def test_cli_exit_code_says_skipped(model_env, podcast):
    video = json.dumps(dataclasses.asdict(_video(f"{podcast.base_url}/ep-001.mp3", "long", duration=7200.0)))
    done = subprocess.run([sys.executable, "-m", "transcription", "transcribe", "--video", video,
                           "--max-duration", "60", "--run-id", "r"], capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ), check=False)
    assert done.returncode == cli.EXIT_UNAVAILABLE, done.stderr
    assert json.loads(done.stdout) == {"key": "generic/long", "status": "skipped",
                                       "reason": "longer than max_duration (60 s)"}
    assert Store().run_results("r") == [{"key": "generic/long", "status": "skipped",
                                          "reason": "longer than max_duration (60 s)"}]


def test_no_stray_files_from_failed_downloads(model_env, faults):
    before = set(Path(tempfile.gettempdir()).glob("transcription-*"))
    with pytest.raises(DownloadError):
        pipeline.transcribe_video(_video(f"{faults}/status/500/x.mp3", "five-hundred"), OPTIONS, store=Store())
    assert set(Path(tempfile.gettempdir()).glob("transcription-*")) == before


def test_a_daily_run_over_mixed_input_succeeds_and_says_why_for_each(metadata_db, model_env, podcast, faults,
                                                                     monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("TRANSCRIBE_RETRY_DELAY", "1")
    dag = DagBag(dag_folder=str(ROOT / "dags"), safe_mode=False).dags["video_transcription"]
    base = podcast.base_url
    (podcast.directory / "noise.mp3").write_bytes(b"this is not audio at all")
    (podcast.directory / "page.html").write_text("<html><body>No media here.</body></html>")
    offline.speak("This episode goes on and on, far longer than anybody asked for, and then some more. " * 3,
                  podcast.directory / "long.mp3")  # about 15 s: the espeak episodes are 4 to 6 s
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono",
                    "-t", "3", str(podcast.directory / "silence.mp3")], check=True)
    premiere = "https://www.youtube.com/watch?v=PREMIERE001"  # YouTube cannot be reached: its answer, as yt-dlp
    real_extract = yt_dlp.YoutubeDL.extract_info  # gives it for an upcoming premiere, stands in for the network
    monkeypatch.setattr(yt_dlp.YoutubeDL, "extract_info", lambda self, url, *a, **k: {
        "id": "PREMIERE001", "title": "Premiere tomorrow", "extractor": "youtube", "extractor_key": "Youtube",
        "webpage_url": premiere, "original_url": premiere, "duration": None, "live_status": "is_upcoming",
        "release_timestamp": 1795000000, "uploader": "Some Channel",
    } if url == premiere else real_extract(self, url, *a, **k))
    urls = [
        premiere,
        podcast.feed_url,  # the feed itself is the `url` param; all of it again is three duplicates
        f"{base}/ep-002.mp3", f"{base}/gone.mp3", f"{base}/page.html", f"{base}/noise.mp3", f"{base}/long.mp3",
        f"{faults}/flaky/2/ep-003.mp3",  # listed fine, then a 503 on the transcribe task's first try
        "ftp://example.com/x.mp3", f"{base}/silence.mp3", f"{faults}/status/410/removed.mp3", f"{base}/ep-001.mp3",
    ]
    run = dag.test(run_conf={"url": podcast.feed_url, "urls": urls, "max_duration": 6, "whisper_options": FAST})
    assert run.state == "success"

    table = pd.read_parquet(model_env / Store().run_dir(run.run_id) / "results.parquet")
    status = {}  # url → (status, reason) of its first row: videos come before the skip rows
    for row in table.fillna({"reason": ""}).itertuples():
        status.setdefault(row.url, (row.status, row.reason))
    assert [status[f"{base}/ep-00{n}.mp3"][0] for n in (1, 2, 3)] == ["done"] * 3
    assert status[f"{faults}/flaky/2/ep-003.mp3"] == ("done", "")  # retried, then transcribed
    assert status[f"{base}/silence.mp3"] == ("done", "")
    assert status[f"{base}/noise.mp3"][0] == "skipped" and "not audio" in status[f"{base}/noise.mp3"][1]
    assert status[f"{base}/long.mp3"] == ("skipped", "longer than max_duration (6 s)")
    reasons = table.loc[table["status"] == "skipped", "reason"].tolist()
    assert sum(r.startswith("duplicate of") for r in reasons) == 5  # the feed's three again, and two episodes
    assert any("404" in r for r in reasons) and any("410" in r for r in reasons)
    assert "not an http(s) URL" in reasons and any(r.startswith("Unsupported URL") for r in reasons)
    assert status[premiere] == ("skipped", sources.NOT_READY["is_upcoming"])
    states = {ti.rendered_map_index: ti for ti in run.get_task_instances() if ti.task_id == "transcribe"}
    assert states["noise"].state == states["long"].state == "skipped"
    assert states["ep-003"].state == "success" and states["ep-003"].try_number == 2
    page = (model_env / Store().run_dir(run.run_id) / "report.html").read_text()
    assert "longer than max_duration (6 s)" in page and "not an http(s) URL" in page


def test_a_run_with_nothing_to_transcribe_fails_and_says_why(metadata_db, dag, model_env, podcast):
    run = dag.test(run_conf={"url": f"{podcast.base_url}/gone.mp3", "urls": ["ftp://example.com/x"]})
    assert run.state == "failed"
    resolve = next(ti for ti in run.get_task_instances() if ti.task_id == "resolve")
    assert resolve.state == "failed" and resolve.try_number == 1


def test_sigkill_mid_run_loses_nothing_finished_and_shows_nothing_half_done(model_env, podcast):
    args = [sys.executable, "-m", "transcription", "run", podcast.feed_url, "--whisper-options", json.dumps(FAST)]
    manifests = lambda: {m.parent for m in model_env.glob("videos/*/*/*/manifest.json")}  # noqa: E731
    process = subprocess.Popen([*args, "--run-id", "killed"], cwd=ROOT, env=dict(os.environ),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not manifests() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)  # the first video is done; the next one is under way
    assert process.wait() == -signal.SIGKILL
    finished = manifests()
    assert 1 <= len(finished) < 3
    for folder in finished:  # whatever a manifest vouches for is whole
        assert json.loads((folder / "transcript.json").read_text())["segments"] is not None
        assert (folder / "transcript.vtt").read_text().startswith("WEBVTT")
        assert all((folder / f"transcript.{fmt}").stat().st_size for fmt in ("txt", "srt", "vtt", "json"))

    rerun = subprocess.run([*args, "--run-id", "again"], cwd=ROOT, env=dict(os.environ), capture_output=True,
                           text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    results = json.loads((model_env / "runs/again/manifest.json").read_text())["results"]
    assert {model_env / r["transcript"]: r["status"] for r in results} == {
        model_env / r["transcript"]: "cached" if model_env / r["transcript"] in finished else "done" for r in results}
    assert sum(r["status"] == "done" for r in results) == 3 - len(finished)  # only the unfinished are redone
