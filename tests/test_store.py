"""store: layout, path safety, whisper's writers, and the manifest as the only mark of a finished transcript."""

from __future__ import annotations

import json

import pytest
import srt
import webvtt

from transcription.store import Store, path_part

RESULT = {
    "text": " Hello there. General Kenobi.",
    "language": "en",
    "segments": [
        {"id": 0, "seek": 0, "start": 0.0, "end": 1.5, "text": " Hello there.", "tokens": [1, 2]},
        {"id": 1, "seek": 0, "start": 1.5, "end": 3.25, "text": " General Kenobi.", "tokens": [3]},
    ],
}


@pytest.mark.parametrize("name", ["../../etc", "a/b", "..", ".", "", "x" * 300, "a\\b", "con:name", "ok id"])
def test_unsafe_names_become_one_harmless_segment(name):
    part = path_part(name)
    assert "/" not in part and "\\" not in part and part.strip(".") and len(part) <= 100
    assert part != path_part(name + "!")  # distinct names stay distinct
    assert path_part(part) != part  # a changed name can never be some other, already safe, name


def test_safe_names_are_kept():
    assert path_part("jNQXAC9IVRw") == "jNQXAC9IVRw"
    assert path_part("large-v3-translate") == "large-v3-translate"


def test_layout_is_browsable(tmp_path):
    store = Store(str(tmp_path))
    assert store.video_dir("youtube", "jNQXAC9IVRw", "tiny") == "videos/youtube/jNQXAC9IVRw/tiny"
    assert store.run_dir("manual_1") == "runs/manual_1"
    assert store.uri("videos") == f"file://{tmp_path}/videos"


def test_transcript_files_come_from_whispers_writers_and_the_manifest_lists_them(tmp_path):
    store = Store(str(tmp_path))
    rel = store.video_dir("generic", "ep-001", "tiny")
    manifest = store.write_transcript(rel, RESULT, {"words": 4})
    assert manifest["artifacts"] == {f: f"transcript.{f}" for f in ("txt", "srt", "vtt", "json")}
    assert store.manifest(rel) == manifest
    folder = tmp_path / rel
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json", "transcript.json", "transcript.srt", "transcript.txt", "transcript.vtt"]
    assert (folder / "transcript.txt").read_text() == "Hello there.\nGeneral Kenobi.\n"
    assert json.loads((folder / "transcript.json").read_text())["segments"][1]["end"] == 3.25
    subtitles = list(srt.parse((folder / "transcript.srt").read_text()))
    assert [(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in subtitles] == [
        (0.0, 1.5, "Hello there."), (1.5, 3.25, "General Kenobi.")]
    captions = webvtt.read(str(folder / "transcript.vtt"))
    assert [(c.start, c.end, c.text) for c in captions] == [
        ("00:00:00.000", "00:00:01.500", "Hello there."), ("00:00:01.500", "00:00:03.250", "General Kenobi.")]


def test_interrupted_write_leaves_no_manifest_and_no_partial_files(tmp_path, monkeypatch):
    store = Store(str(tmp_path))
    rel = store.video_dir("generic", "ep-001", "tiny")
    real_put = store.fs.put_file

    def put_file(local, remote, **kwargs):
        if "transcript.vtt" in remote:  # the disk fills up halfway through this file
            with open(remote, "wb") as half:
                half.write(b"WEBVTT\n\n00:00")
            raise OSError("disk full")
        return real_put(local, remote, **kwargs)

    monkeypatch.setattr(store.fs, "put_file", put_file)
    with pytest.raises(OSError, match="disk full"):
        store.write_transcript(rel, RESULT, {})
    assert store.manifest(rel) is None
    assert sorted(p.name for p in (tmp_path / rel).iterdir()) == ["transcript.srt", "transcript.txt"]


def test_rewriting_a_transcript_retracts_its_manifest_first(tmp_path, monkeypatch):
    """A forced redo that dies halfway must not leave the old manifest vouching for a mix of old and new files."""
    store = Store(str(tmp_path))
    rel = store.video_dir("generic", "ep-001", "tiny")
    store.write_transcript(rel, RESULT, {"words": 4})
    monkeypatch.setattr(store.fs, "put_file", lambda *a, **k: (_ for _ in ()).throw(OSError("worker killed")))
    with pytest.raises(OSError, match="worker killed"):
        store.write_transcript(rel, {**RESULT, "text": "new"}, {"words": 1})
    assert store.manifest(rel) is None
