"""The DAG: its shape and params, and whole runs through `dag.test()` on a real (SQLite) Airflow metadata DB."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import srt
import webvtt

from conftest import DAG_ID, FAST
from transcription import audio, engine, offline, sources
from transcription.options import MODELS, TranscribeOptions
from transcription.store import Store

def test_bundle_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert list(dagbag.dag_ids) == [DAG_ID]


def test_daily_one_run_at_a_time_no_catchup(dag):
    assert dag.schedule == "@daily" and dag.timetable.expression == "0 0 * * *"
    assert dag.catchup is False and dag.max_active_runs == 1


def test_flow_is_resolve_then_mapped_transcribe_then_report(dag):
    from airflow.sdk import TriggerRule

    assert set(dag.task_ids) == {"resolve", "transcribe", "report"}
    assert dag.get_task("transcribe").upstream_task_ids == {"resolve"}
    report = dag.get_task("report")
    assert report.upstream_task_ids == {"resolve", "transcribe"}
    assert report.trigger_rule == TriggerRule.ALL_DONE
    assert dag.get_task("transcribe").map_index_template == "{{ video_title }}"


def test_params_form(dag):
    params = dag.params
    assert set(params) == {"url", "urls", "url_file", "model", "task", "language", "decoding", "title", "min_count",
                           "stopwords", "max_videos", "max_duration", "force", "whisper_options"}
    assert params.get_param("stopwords").resolve(["Jingle", "podcast"]) == ["Jingle", "podcast"]
    assert params.get_param("model").schema["enum"] == list(MODELS)
    assert params.get_param("task").schema["enum"] == ["transcribe", "translate"]
    resolved = params.validate()  # the defaults must be valid: the schedule runs with them
    assert resolved["model"] == "tiny" and resolved["language"] == "auto" and resolved["url"].startswith("https://")


@pytest.mark.parametrize(("name", "value"), [
    ("model", "huge"), ("task", "summarize"), ("language", "English please"), ("max_videos", 0),
    ("min_count", 0), ("urls", "not a list"), ("max_duration", 0), ("stopwords", "jingle"), ("stopwords", [1]),
])
def test_bad_param_values_are_refused(dag, name, value):
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        dag.params.get_param(name).resolve(value)


def test_dag_run_end_to_end_and_again(metadata_db, dag, model_env, podcast, monkeypatch):
    hostile = offline.Episode("hostile", "{{ 7 * 7 }} stays text", "Templates are not code.")
    hostile_feed = offline.write_podcast(podcast.directory / "hostile-local", f"{podcast.base_url}/hostile-local",
                                         [hostile])
    conf = {"url": podcast.feed_url, "urls": [f"{podcast.base_url}/gone.mp3", hostile_feed], "title": "End to end",
            "whisper_options": FAST}
    calls = {"download": 0, "load_model": 0}
    for module, name in ((audio, "download"), (engine, "load_model")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name, **k: calls.update(
            {_name: calls[_name] + 1}) or _real(*a, **k))
    run = dag.test(run_conf=conf)
    assert run.state == "success"

    store = Store()
    variant = TranscribeOptions(whisper_options=FAST).variant(engine.model_spec("tiny").label)
    for episode, video in zip(podcast.episodes, sources.resolve([podcast.feed_url]).videos, strict=True):
        folder = model_env / store.video_dir(video.extractor, video.id, variant)
        result = json.loads((folder / "transcript.json").read_text())
        assert {"text", "segments", "language"} <= set(result)
        cues = list(srt.parse((folder / "transcript.srt").read_text()))
        assert len(cues) == len(result["segments"])
        assert len(webvtt.read(str(folder / "transcript.vtt"))) == len(result["segments"])
        assert json.loads((folder / "manifest.json").read_text())["video"]["title"] == episode.title

    mapped = sorted(ti.rendered_map_index for ti in run.get_task_instances() if ti.task_id == "transcribe")
    # The grid names each mapped task by its video, and a title is never evaluated as a template ("49").
    assert mapped == sorted([e.title for e in podcast.episodes] + [hostile.title])

    run_dir = model_env / store.run_dir(run.run_id)
    table = pd.read_parquet(run_dir / "results.parquet")
    assert table["status"].tolist() == ["done"] * 4 + ["skipped"]
    assert table["title"].tolist()[:4] == [e.title for e in podcast.episodes] + [hostile.title]
    assert table.loc[:3, "duration_s"].gt(1).all() and table.loc[:3, "words"].notna().all()
    assert "404" in table.loc[4, "reason"]
    page = (run_dir / "report.html").read_text()
    assert "End to end" in page and "Random weights — not speech" in page
    assert all(e.title.replace("&", "&amp;") in page for e in podcast.episodes)

    # The same input again: every transcript is reused, with no download and no model load (counted).
    assert calls == {"download": 4, "load_model": 4}  # the counters see the first run's work
    calls.update(download=0, load_model=0)
    again = dag.test(run_conf=conf)
    assert again.state == "success" and again.run_id != run.run_id
    assert calls == {"download": 0, "load_model": 0}
    second = pd.read_parquet(model_env / store.run_dir(again.run_id) / "results.parquet")
    assert second["status"].tolist() == ["cached"] * 4 + ["skipped"]
    same = [c for c in second.columns if c != "status"]  # the same report content, but for done → cached
    pd.testing.assert_frame_equal(second[same], table[same])


def test_bad_options_fail_the_run_at_resolve(metadata_db, dag, model_env, podcast):
    run = dag.test(run_conf={"url": podcast.feed_url, "whisper_options": {"gpu": True}})
    assert run.state == "failed"
    resolve = next(ti for ti in run.get_task_instances() if ti.task_id == "resolve")
    assert resolve.state == "failed" and resolve.try_number == 1  # no retries for input that cannot heal
    assert {ti.task_id: ti.state for ti in run.get_task_instances()}["report"] == "failed"
    assert not (model_env / "videos").exists()


def test_report_updates_an_asset_that_says_where_the_report_is(metadata_db, dag, model_env, podcast):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.sdk import Asset
    from airflow.utils.session import create_session
    from sqlalchemy import select

    assert dag.get_task("report").outlets == [Asset("video_transcription_report")]
    # Every input param is given: an earlier dag.test()'s conf otherwise carries over into this run.
    conf = {"url": f"{podcast.base_url}/ep-001.mp3", "urls": [], "url_file": None, "whisper_options": FAST,
            "stopwords": ["Jingle"]}
    run = dag.test(run_conf=conf)
    assert run.state == "success"
    with create_session() as session:
        events = session.execute(
            select(AssetEvent.extra, AssetEvent.source_task_id, AssetModel.name)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id).where(AssetEvent.source_run_id == run.run_id)
        ).all()
    assert len(events) == 1
    extra, task_id, name = events[0]
    assert (task_id, name) == ("report", "video_transcription_report")
    store = Store()
    run_dir = store.run_dir(run.run_id)
    assert extra == {"report": store.uri(f"{run_dir}/report.html"), "run": store.uri(run_dir), "run_id": run.run_id,
                     "status": {"done": 1}}
    assert extra["report"].startswith("file://") and (model_env / run_dir / "report.html").is_file()
    assert store.manifest(run_dir)["stopwords"] == ["jingle"]  # the param reaches the report
