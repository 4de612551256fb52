"""The store on a real S3 (radosgw on 127.0.0.1): same layout as a folder, configured by the standard AWS variables
alone, one upload per object with the manifest last, and credentials that never land in what a run writes."""

from __future__ import annotations

import io
import json
import os
import uuid
from pathlib import Path

import pandas as pd
import pytest

from conftest import FAST
from report_fixtures import OPTIONS, _store_transcript, _video
from test_store import RESULT
from transcription import engine, report, sources
from transcription.options import TranscribeOptions
from transcription.results import load_run
from transcription.sources import Resolution
from transcription.store import Store

TRANSCRIPT_SET = ["manifest.json", "transcript.json", "transcript.srt", "transcript.txt", "transcript.vtt"]


@pytest.fixture
def prefix(monkeypatch, s3) -> str:
    """A fresh prefix in the bucket, and a worker's environment: the standard AWS variables and nothing else."""
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    return f"run-{uuid.uuid4().hex[:8]}"


def keys(s3, prefix: str) -> list[str]:
    listing = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=f"{prefix}/")
    return sorted(item["Key"].removeprefix(f"{prefix}/") for item in listing.get("Contents", []))


def read(s3, prefix: str, rel: str) -> bytes:
    return s3.client().get_object(Bucket=s3.bucket, Key=f"{prefix}/{rel}")["Body"].read()


def test_transcript_set_lands_in_the_same_layout_as_a_folder(s3, prefix):
    store = Store(f"s3://{s3.bucket}/{prefix}")  # no storage options: the environment is the configuration
    rel = store.video_dir("generic", "ep-001", "tiny")
    assert store.manifest(rel) is None  # a missing key reads as "not finished", not as an error
    manifest = store.write_transcript(rel, RESULT, {"words": 4})
    assert keys(s3, prefix) == [f"{rel}/{name}" for name in TRANSCRIPT_SET]
    assert read(s3, prefix, f"{rel}/transcript.txt") == b"Hello there.\nGeneral Kenobi.\n"
    assert json.loads(read(s3, prefix, f"{rel}/transcript.json"))["segments"][1]["end"] == 3.25
    assert json.loads(read(s3, prefix, f"{rel}/manifest.json")) == manifest == store.manifest(rel)
    assert store.uri(rel) == f"s3://{s3.bucket}/{prefix}/{rel}"


def test_each_object_is_one_put_and_the_manifest_goes_last(s3, prefix):
    """Recorded from the S3 calls themselves: a reader sees a manifest only when every file it lists is there."""
    store = Store(f"s3://{s3.bucket}/{prefix}")
    rel = store.video_dir("generic", "ep-001", "tiny")
    calls = []

    def record(model, params, **_):
        calls.append((model.name, params.get("Key", "").removeprefix(f"{prefix}/{rel}/")))

    store.fs.s3.meta.events.register("before-parameter-build.s3", record)
    try:
        store.write_transcript(rel, RESULT, {})
        first = [call for call in calls if call[0] not in ("HeadObject", "ListObjectsV2")]
        calls.clear()
        store.write_transcript(rel, {**RESULT, "text": " Rewritten."}, {})
    finally:
        store.fs.s3.meta.events.unregister("before-parameter-build.s3", record)
    assert first == [("PutObject", f"transcript.{fmt}") for fmt in ("txt", "srt", "vtt", "json")] + [
        ("PutObject", "manifest.json")]
    writes = [call for call in calls if call[0] in ("PutObject", "DeleteObjects")]
    assert writes[0] == ("DeleteObjects", "") and writes[1:] == first  # a rewrite retracts the manifest first


def test_interrupted_write_leaves_no_manifest(s3, prefix, monkeypatch):
    store = Store(f"s3://{s3.bucket}/{prefix}")
    rel = store.video_dir("generic", "ep-001", "tiny")
    real_put = store.fs.put_file

    def put_file(local, remote, **kwargs):
        if remote.endswith("transcript.vtt"):
            raise OSError("worker killed")
        return real_put(local, remote, **kwargs)

    monkeypatch.setattr(store.fs, "put_file", put_file)
    with pytest.raises(OSError, match="worker killed"):
        store.write_transcript(rel, RESULT, {})
    assert store.manifest(rel) is None
    assert keys(s3, prefix) == [f"{rel}/transcript.srt", f"{rel}/transcript.txt"]


def test_report_is_browsable_from_the_bucket(s3, prefix):
    store = Store(f"s3://{s3.bucket}/{prefix}")
    video = _video("aaaaaaaaaaa", "A talk")
    results = [_store_transcript(store, video, "Hello and welcome to the talk.", "en")]
    outcome = report.write(store, "manual__1", Resolution([video], []), results, options=OPTIONS, title="On S3")
    assert outcome["report"] == f"s3://{s3.bucket}/{prefix}/runs/manual__1/report.html"
    run = [key.removeprefix("runs/manual__1/") for key in keys(s3, prefix) if key.startswith("runs/")]
    assert sorted(run) == ["manifest.json", "report.html", "results.csv", "results.parquet", "word2vec.png",
                           "wordcloud.png"]
    table = pd.read_parquet(io.BytesIO(read(s3, prefix, "runs/manual__1/results.parquet")))
    assert table["status"].tolist() == ["done"] and table["words"].tolist() == [6]
    client = s3.client()
    content_type = {name: client.head_object(Bucket=s3.bucket, Key=f"{prefix}/runs/manual__1/{name}")["ContentType"]
                    for name in ("report.html", "wordcloud.png", "manifest.json")}
    assert content_type == {"report.html": "text/html", "wordcloud.png": "image/png",
                            "manifest.json": "application/json"}  # a browser opens the page, not a download
    assert "Hello and welcome to the talk." in read(s3, prefix, "runs/manual__1/report.html").decode()
    loaded = load_run(store.url)  # the Python client reads it back from the bucket
    assert loaded.run_id == "manual__1" and loaded.report == outcome["report"]
    assert loaded.transcript("aaaaaaaaaaa")["segments"][0]["text"].strip() == "Hello and welcome to the talk."


def test_dag_run_end_to_end_on_s3(metadata_db, dag, model_env, podcast, s3, prefix, monkeypatch, capfd):
    monkeypatch.setenv("TRANSCRIPTION_STORE", f"s3://{s3.bucket}/{prefix}")
    run = dag.test(run_conf={"url": podcast.feed_url, "title": "On S3", "whisper_options": FAST})
    assert run.state == "success"

    variant = TranscribeOptions(whisper_options=FAST).variant(engine.model_spec("tiny").label)
    stored = keys(s3, prefix)
    for episode, video in zip(podcast.episodes, sources.resolve([podcast.feed_url]).videos, strict=True):
        folder = Store.video_dir(video.extractor, video.id, variant)
        assert [key.removeprefix(f"{folder}/") for key in stored if key.startswith(f"{folder}/")] == TRANSCRIPT_SET
        assert json.loads(read(s3, prefix, f"{folder}/manifest.json"))["video"]["title"] == episode.title
    run_dir = Store.run_dir(run.run_id)
    table = pd.read_parquet(io.BytesIO(read(s3, prefix, f"{run_dir}/results.parquet")))
    assert table["status"].tolist() == ["done"] * 3
    assert "On S3" in read(s3, prefix, f"{run_dir}/report.html").decode()
    assert not model_env.exists()  # nothing went to the local default instead

    # The secret reached the workers through their environment only: nothing the run wrote repeats it, neither the
    # bucket nor Airflow's database (conf, XComs, rendered fields) nor the tasks' logs. The feed's URL, which the run
    # did pass around, shows that the search looks where the run's data lands.
    bucket = b"".join(read(s3, prefix, key) for key in stored)
    airflow = b"".join(path.read_bytes() for path in Path(os.environ["AIRFLOW_HOME"]).rglob("*") if path.is_file())
    logs = capfd.readouterr().out.encode()
    for written in (bucket, airflow, logs):
        assert s3.secret_key.encode() not in written and podcast.feed_url.encode() in written
