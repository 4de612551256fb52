"""report: the results table and the HTML page, from transcripts written to a store by the store's own code."""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest

from report_fixtures import OPTIONS, _store_transcript, _video
from transcription import figures, report
from transcription.sources import Resolution, Video
from transcription.store import Store


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


@pytest.mark.parametrize(("extractor", "video_id", "url", "expected"), [
    ("youtube", "jNQXAC9IVRw", "https://www.youtube.com/watch?v=jNQXAC9IVRw",
     "https://www.youtube.com/watch?v=jNQXAC9IVRw&t=83s"),
    ("youtube", "jNQXAC9IVRw", "https://youtu.be/jNQXAC9IVRw", "https://www.youtube.com/watch?v=jNQXAC9IVRw&t=83s"),
    ("generic", "ep-1-3f2a19c0", "http://127.0.0.1:8000/ep-1.MP3?sig=x", "http://127.0.0.1:8000/ep-1.MP3?sig=x#t=83"),
    ("generic", "talk-0c1d2e3f", "https://cdn.example.org/talk.webm#t=10", "https://cdn.example.org/talk.webm#t=83"),
    ("generic", "page-0c1d2e3f", "https://example.org/episodes/1", None),  # a web page: no way to seek
    ("vimeo", "76979871", "https://vimeo.com/76979871", None),
    ("generic", "local", "file:///srv/talk.mp3", None),  # not a link a reader of the report can open
])
def test_moment_urls(extractor, video_id, url, expected):
    assert report.moment_url(extractor, video_id, url, 83.9) == expected


def test_page_links_each_segment_to_its_moment_where_the_site_supports_it(fixture_run):
    store, resolution, results = fixture_run
    direct = Video("generic", "ep-1-3f2a19c0", "http://127.0.0.1:8000/ep-1.mp3", "Direct file",
                   "http://127.0.0.1:8000/ep-1.mp3")
    page = Video("generic", "page-0c1d2e3f", "https://example.org/episodes/1", "A web page",
                 "https://example.org/episodes/1")
    resolution = Resolution([*resolution.videos, direct, page], resolution.skipped)
    results = [*results, _store_transcript(store, direct, "Direct words.", "en"),
               _store_transcript(store, page, "Page words.", "en")]
    report.write(store, "r", resolution, results, options=OPTIONS, title="t")
    html = store.read_text("runs/r/report.html")
    segments = {re.sub(r"<time>.*</time>|<[^>]+>", "", p.split("</p>")[0]): p
                for p in re.split(r'<p class="segment[^>]*>', html)[1:]}
    youtube = '<a href="https://www.youtube.com/watch?v=aaaaaaaaaaa&amp;t=0s"><time>0:00</time></a>'
    assert segments["Hello &amp; welcome to the talk."].startswith(youtube)  # & escaped inside the attribute
    assert segments["Direct words."].startswith('<a href="http://127.0.0.1:8000/ep-1.mp3#t=0"><time>')
    assert segments["Page words."].startswith("<time>0:00</time>")  # plain text, no link
    assert len(segments) == 4  # the silent video has none


def test_segments_whisper_flags_as_suspect_are_marked(fixture_run):
    """A segment whose no-speech, compression or log-probability signal crossed whisper's threshold is shown as
    such (greyed, with the reason), not hidden: it may be a hallucination, or real speech in a noisy room."""
    store, resolution, results = fixture_run
    report.write(store, "r", resolution, results, options=OPTIONS, title="t")
    html = store.read_text("runs/r/report.html")
    marked = re.findall(r'<p class="segment suspect" title="([^"]*)">.*?</p>', html)
    assert marked == ["Possibly not speech (whisper: repetitive)"]
    assert "Guten Abend" in html.split('<p class="segment suspect"')[1].split("</p>")[0]


def test_page_is_interactive_and_self_contained(fixture_run):
    store, resolution, results = fixture_run
    report.write(store, "r", resolution, results, options=OPTIONS, title="t")
    html = store.read_text("runs/r/report.html")
    assert html.count('<details class="transcript"') == 3 and html.count("<summary>") == 3
    assert '<details class="transcript" id="youtube/ccccccccccc">' in html
    assert '<input id="filter"' in html and html.count("<script>") == 1
    assert "<script src" not in html and "<link" not in html and "http://" not in html.split("<script>")[1]
    # summary: audio hours, words, and why videos were not transcribed
    assert "0.05 hours of audio transcribed · 12 words." in html  # 3 × 58.5 s; 6 + 0 + 6 words
    reasons = html.split('<ul id="reasons">')[1].split("</ul>")[0]
    assert f"1 failed: {report.TASK_FAILED}" in reasons
    assert "1 skipped: upcoming stream or premiere: nothing to transcribe yet" in reasons


def test_reasons_are_counted_most_frequent_first():
    table = pd.DataFrame({"status": ["skipped", "done", "skipped", "failed", "skipped"],
                          "reason": ["live", None, "duplicate", None, "live"]}).astype("string")
    assert report.not_transcribed(table) == [("skipped", "live", 2), ("skipped", "duplicate", 1),
                                             ("failed", "no reason recorded", 1)]


def test_extra_stopwords_leave_the_figures_and_are_recorded(fixture_run):
    store, resolution, results = fixture_run
    every_word = ["hello", "Welcome", "talk", " guten ", "abend", "meine", "damen", "und", "herren", ""]
    report.write(store, "all", resolution, results, options=OPTIONS, title="t", stopwords=every_word)
    report.write(store, "none", resolution, results, options=OPTIONS, title="t")
    nothing_left = figures.word_cloud([])  # what the cloud of a run without words looks like
    assert store.fs.cat_file(store.path("runs/all/wordcloud.png")) == nothing_left
    assert store.fs.cat_file(store.path("runs/none/wordcloud.png")) != nothing_left
    assert store.manifest("runs/all")["stopwords"] == ["abend", "damen", "guten", "hello", "herren", "meine", "talk",
                                                       "und", "welcome"]
    assert store.manifest("runs/none")["stopwords"] == []


def test_figures_show_the_words_of_chinese_and_japanese_transcripts(tmp_path):
    store = Store(str(tmp_path))
    chinese, japanese = _video("zzzzzzzzzzz", "新闻"), _video("jjjjjjjjjjj", "ニュース")
    results = [_store_transcript(store, chinese, "我的朋友在北京。", "zh"),
               _store_transcript(store, japanese, "東京でコンピューターを買いました。", "ja")]
    report.write(store, "r", Resolution([chinese, japanese], []), results, options=OPTIONS, title="t",
                 stopwords=["在北"])
    expected = [["朋友", "友在", "北京"], ["東京", "コンピューター"]]  # words and bigrams, not one token per clause
    assert store.fs.cat_file(store.path("runs/r/wordcloud.png")) == figures.word_cloud(expected)
    assert "我的朋友在北京。" in store.read_text("runs/r/report.html")
    assert store.manifest("runs/r")["stopwords"] == ["在北"]
