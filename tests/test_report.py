"""report: the results table and the HTML page, from transcripts written to a store by the store's own code."""

from __future__ import annotations

import base64
import io

import pandas as pd
import pytest

from report_fixtures import OPTIONS
from transcription import report


def test_table_has_a_row_per_input_video_with_typed_columns(fixture_run):
    store, resolution, results = fixture_run
    table = report.results_table(resolution, results, report.finished(store, results))
    assert list(table.columns) == list(report.COLUMNS)
    assert {c: str(t) for c, t in table.dtypes.items()} == report.COLUMNS
    assert table["status"].tolist() == ["done", "done", "done", "failed", "skipped"]
    assert table["language"].tolist()[:3] == ["en", "en", "de"]
    assert table["words"].tolist()[:3] == [6, 0, 6]
    assert table.loc[0, "realtime_factor"] == pytest.approx(58.5 / 3.0)
    assert table.loc[3, "reason"] == report.TASK_FAILED
    assert table.loc[3, "duration_s"] == 60.0  # from the site's metadata when there is no transcript
    assert pd.isna(table.loc[4, "duration_s"])


def test_written_report_has_every_transcript_and_reason_and_escapes_titles(fixture_run):
    store, resolution, results = fixture_run
    outcome = report.write(store, "scheduled__2026-11-25", resolution, results, options=OPTIONS, title="Weekly")
    assert outcome["status"] == {"done": 3, "failed": 1, "skipped": 1}
    run_dir = store.run_dir("scheduled__2026-11-25")
    page = store.read_text(f"{run_dir}/report.html")
    assert "<script>alert(1)</script>" not in page and "Talk &lt;script&gt;" in page
    for expected in ("Hello &amp; welcome to the talk.", "Guten Abend, meine Damen und Herren.", "(no speech found)",
                     "upcoming stream or premiere", report.TASK_FAILED, "Weekly"):
        assert expected in page
    assert 'href="../../videos/youtube/aaaaaaaaaaa/tiny/transcript.srt"' in page
    assert "Random weights" not in page
    parquet = pd.read_parquet(io.BytesIO(store.fs.cat_file(store.path(f"{run_dir}/results.parquet"))))
    pd.testing.assert_frame_equal(parquet, report.results_table(resolution, results, report.finished(store, results)))
    assert store.manifest(run_dir)["status"] == outcome["status"]
    for name in ("wordcloud.png", "word2vec.png"):  # self-contained: the page carries the same bytes as the files
        png = store.fs.cat_file(store.path(f"{run_dir}/{name}"))
        assert png.startswith(b"\x89PNG") and f"base64,{base64.b64encode(png).decode()}" in page


def test_same_inputs_give_the_same_table_and_figures(fixture_run):
    store, resolution, results = fixture_run
    report.write(store, "a", resolution, results, options=OPTIONS, title="t")
    report.write(store, "b", resolution, results, options=OPTIONS, title="t")
    assert store.read_text("runs/a/results.csv") == store.read_text("runs/b/results.csv")
    for name in ("results.parquet", "wordcloud.png", "word2vec.png"):
        assert store.fs.cat_file(store.path(f"runs/a/{name}")) == store.fs.cat_file(store.path(f"runs/b/{name}"))


@pytest.mark.parametrize(("seconds", "text"), [(0, "0:00"), (59.9, "0:59"), (61, "1:01"), (3725, "1:02:05")])
def test_timestamps(seconds, text):
    assert report.timestamp(seconds) == text
