"""results: past runs read back from the store, as written by report.write from fixture transcripts."""

from __future__ import annotations

import pandas as pd
import pytest

from report_fixtures import OPTIONS
from transcription import report, results
from transcription.store import Store


def _backdate(store: Store, run_id: str, created: str) -> None:
    manifest = store.manifest(store.run_dir(run_id))
    store.write_manifest(store.run_dir(run_id), {**manifest, "created": created})


@pytest.fixture
def three_runs(fixture_run):
    """Three reports of the same videos, written out of order: "middle" is older than "newest" but written last."""
    store, resolution, results_ = fixture_run
    for run_id, created in [("newest", "2026-11-25T00:00:00+00:00"), ("oldest", "2026-11-23T00:00:00+00:00"),
                            ("middle", "2026-11-24T00:00:00+00:00")]:
        report.write(store, run_id, resolution, results_, options=OPTIONS, title=run_id)
        _backdate(store, run_id, created)
    return store, resolution, results_


def test_runs_are_listed_newest_first_by_creation(three_runs):
    store, _, _ = three_runs
    assert results.runs(store) == ["newest", "middle", "oldest"]
    assert results.runs(store.url) == ["newest", "middle", "oldest"]  # a URL works as well as a Store


def test_a_run_being_reported_is_not_listed(three_runs):
    store, _, _ = three_runs
    store.fs.rm(store.path("runs/newest/manifest.json"))  # the manifest is written last: no manifest, no report yet
    assert results.runs(store) == ["middle", "oldest"]
    assert results.load_run(store).run_id == "middle"


def test_latest_run_has_the_table_and_manifest_the_report_wrote(three_runs):
    store, resolution, results_ = three_runs
    run = results.load_run(store)
    assert run.run_id == "newest" and run.manifest["title"] == "newest"
    expected = report.results_table(resolution, results_, report.finished(store, results_))
    pd.testing.assert_frame_equal(run.table, expected)
    assert {c: str(t) for c, t in run.table.dtypes.items()} == report.COLUMNS
    assert run.report == store.uri("runs/newest/report.html")
    assert results.load_run(store, "oldest").manifest["title"] == "oldest"


def test_transcript_by_key_or_by_bare_id(three_runs):
    store, _, _ = three_runs
    run = results.load_run(store, "middle")
    by_key = run.transcript("youtube/ccccccccccc")
    assert by_key["language"] == "de" and by_key["segments"][0]["text"].strip().startswith("Guten Abend")
    assert run.transcript("ccccccccccc") == by_key
    assert run.transcript("bbbbbbbbbbb")["segments"] == []  # a silent video has a transcript with no segments


def test_unknown_run_names_the_runs_there_are(three_runs):
    store, _, _ = three_runs
    with pytest.raises(results.ResultsError, match=r"no run 'nope'.*newest, middle, oldest"):
        results.load_run(store, "nope")


def test_no_runs_yet(tmp_path):
    assert results.runs(str(tmp_path)) == []
    with pytest.raises(results.ResultsError, match="no runs with a report yet"):
        results.load_run(str(tmp_path))


def test_unknown_video_and_videos_without_a_transcript(three_runs):
    run = results.load_run(three_runs[0])
    with pytest.raises(results.ResultsError, match=r"'zzz' is not a video of run 'newest'.*youtube/aaaaaaaaaaa"):
        run.transcript("zzz")
    with pytest.raises(results.ResultsError, match=r"no transcript.*failed \(the transcribe task failed"):
        run.transcript("youtube/ddddddddddd")
    with pytest.raises(results.ResultsError, match=r"no transcript.*skipped \(upcoming stream"):
        run.transcript("youtube/eeeeeeeeeee")


def test_ambiguous_bare_id(fixture_run):
    store, resolution, results_ = fixture_run
    report.write(store, "r", resolution, results_, options=OPTIONS, title="t")
    loaded = results.load_run(store, "r")
    twin = loaded.table.iloc[[0]].assign(key="vimeo/aaaaaaaaaaa", extractor="vimeo")
    doubled = results.RunResults(store, "r", loaded.manifest, pd.concat([loaded.table, twin], ignore_index=True))
    with pytest.raises(results.ResultsError, match="matches several videos"):
        doubled.transcript("aaaaaaaaaaa")
    assert doubled.transcript("vimeo/aaaaaaaaaaa")["language"] == "en"  # the key is never ambiguous
