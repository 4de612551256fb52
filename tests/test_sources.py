"""resolve: real yt-dlp against a feed and media on 127.0.0.1; YouTube shapes through yt-dlp's own processing."""

from __future__ import annotations

import pytest
import yt_dlp

from transcription import sources
from transcription.sources import parse_url_lines, read_inputs, resolve


def test_url_lines_skip_comments_and_blanks_but_keep_fragments():
    text = "# my channels\n\nhttps://a.test/v1  # first\n   \nhttps://a.test/v2#t=30\n\t# indented comment\n"
    assert parse_url_lines(text) == [(3, "https://a.test/v1"), (5, "https://a.test/v2#t=30")]


def test_inputs_combine_url_list_and_file(tmp_path):
    url_file = tmp_path / "urls.txt"
    url_file.write_text("\ufeff# list saved with a byte-order mark\nhttps://a.test/3\n\nhttps://a.test/4\n")
    inputs = read_inputs("https://a.test/1", [" https://a.test/2 ", ""], str(url_file))
    assert inputs == ["https://a.test/1", "https://a.test/2", "https://a.test/3", "https://a.test/4"]


def test_url_file_lines_that_are_no_urls_are_named_not_echoed(tmp_path):
    secrets = tmp_path / "airflow.cfg"
    secrets.write_text("[database]\nsql_alchemy_conn = postgresql://airflow:hunter2@db/airflow\n")
    resolution = resolve(read_inputs(url_file=str(secrets)))
    assert resolution.videos == []
    assert [(s.source, s.reason) for s in resolution.skipped] == [
        (f"{secrets} line 1", "not an http(s) URL"), (f"{secrets} line 2", "not an http(s) URL")]
    assert "hunter2" not in repr(resolution)


def test_missing_url_file_and_empty_input_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_inputs(url_file=str(tmp_path / "nope.txt"))
    with pytest.raises(ValueError, match="nothing to transcribe"):
        read_inputs(None, [], None)


def _ids(videos) -> list[str]:
    """Generic ids are the feed's guid (or the file name) plus a hash of where the media lives."""
    return [v.id.rsplit("-", 1)[0] for v in videos]


def test_feed_resolves_to_its_episodes(podcast):
    resolution = resolve([podcast.feed_url])
    assert resolution.skipped == []
    assert _ids(resolution.videos) == [e.guid for e in podcast.episodes]
    assert [v.title for v in resolution.videos] == [e.title for e in podcast.episodes]
    first = resolution.videos[0]
    assert first.extractor == "generic" and first.key == f"generic/{first.id}"
    assert first.upload_date == "20261101"
    assert first.webpage_url == f"{podcast.base_url}/ep-001.mp3"
    assert first.source == podcast.feed_url
    # The URL handed to the transcribe step keeps the feed's guid when yt-dlp opens it again.
    with yt_dlp.YoutubeDL({"quiet": True}) as ydl:
        assert ydl.extract_info(first.url, download=False)["id"] == "ep-001"


def test_same_guid_or_file_name_elsewhere_is_another_video(podcast, tmp_path):
    """Feeds number their episodes 1, 2, 3 and files are called episode.mp3: such ids name nothing globally."""
    for folder in ("a", "b"):
        (podcast.directory / folder).mkdir(exist_ok=True)
        (podcast.directory / folder / "episode.mp3").write_bytes((podcast.directory / "ep-001.mp3").read_bytes())
    resolution = resolve([f"{podcast.base_url}/a/episode.mp3", f"{podcast.base_url}/b/episode.mp3"])
    assert resolution.skipped == []
    assert len({v.key for v in resolution.videos}) == 2 and _ids(resolution.videos) == ["episode", "episode"]
    # ...while the same media reached twice is one video, query strings (tracking, tokens) aside.
    again = resolve([f"{podcast.base_url}/a/episode.mp3", f"{podcast.base_url}/a/episode.mp3?utm=x"])
    assert len(again.videos) == 1 and again.skipped[0].reason.startswith("duplicate of")


def test_file_with_playlist_line_duplicates_and_bad_entries(podcast, tmp_path):
    url_file = tmp_path / "urls.txt"
    url_file.write_text(
        f"# a feed, one of its episodes again, a dead link and something that is no URL\n"
        f"{podcast.feed_url}\n{podcast.base_url}/ep-002.mp3\n{podcast.base_url}/gone.mp3\nftp://a.test/x\n"
    )
    resolution = resolve(read_inputs(url_file=str(url_file)))
    assert _ids(resolution.videos) == ["ep-001", "ep-002", "ep-003"]
    second = resolution.videos[1]
    reasons = {s.source: s.reason for s in resolution.skipped}
    assert reasons[f"{podcast.base_url}/ep-002.mp3"] == f"duplicate of {second.key} (from {podcast.feed_url})"
    assert "404" in reasons[f"{podcast.base_url}/gone.mp3"]
    assert reasons[f"{url_file} line 5"] == "not an http(s) URL"


def test_max_videos_keeps_the_first_and_shows_that_there_is_more(podcast):
    resolution = resolve([podcast.feed_url], max_videos=2)
    assert _ids(resolution.videos) == ["ep-001", "ep-002"]
    assert [(s.title, s.reason) for s in resolution.skipped] == [("Guten Morgen", "over max_videos (2)")]
    one = resolve([podcast.feed_url, f"{podcast.base_url}/ep-003.mp3"], max_videos=1)
    assert [s.reason for s in one.skipped] == ["over max_videos (1)"] * 2


def _youtube_entry(video_id: str, title: str, live_status: str | None, duration: float | None = 212.0) -> dict:
    """A flat playlist entry as yt-dlp's YoutubeTab extractor yields it (yt-dlp 2026.10)."""
    return {
        "_type": "url", "ie_key": "Youtube", "id": video_id, "url": f"https://www.youtube.com/watch?v={video_id}",
        "title": title, "description": None, "duration": duration, "channel_id": "UCxyz", "channel": "Some Channel",
        "channel_url": "https://www.youtube.com/channel/UCxyz", "uploader": "Some Channel", "uploader_id": "@some",
        "uploader_url": "https://www.youtube.com/@some", "thumbnails": [], "timestamp": None,
        "release_timestamp": 1795000000 if live_status == "is_upcoming" else None, "availability": None,
        "view_count": 1234, "live_status": live_status,
    }


@pytest.fixture
def youtube_playlist(monkeypatch):
    """YouTube cannot be reached: yt-dlp's network step answers with a playlist of the real shape; everything
    after it (entry handling, flat-entry typing via the extractor registry) is yt-dlp's own code."""
    playlist = {
        "_type": "playlist", "id": "PLdemo", "title": "Demo playlist", "webpage_url":
        "https://www.youtube.com/playlist?list=PLdemo", "extractor": "youtube:tab", "extractor_key": "YoutubeTab",
        "entries": [
            _youtube_entry("aaaaaaaaaaa", "A normal upload", "not_live"),
            _youtube_entry("bbbbbbbbbbb", "Premiere next week", "is_upcoming", duration=None),
            _youtube_entry("ccccccccccc", "Streaming now", "is_live", duration=None),
            _youtube_entry("ddddddddddd", "Old stream, recorded", "was_live", duration=3600.0),
            _youtube_entry("aaaaaaaaaaa", "A normal upload", "not_live"),
        ],
    }
    real = yt_dlp.YoutubeDL.extract_info

    def extract_info(self, url, *args, **kwargs):
        if url == playlist["webpage_url"]:
            return self.process_ie_result(dict(playlist), download=False)
        return real(self, url, *args, **kwargs)

    monkeypatch.setattr(yt_dlp.YoutubeDL, "extract_info", extract_info)
    return playlist


def test_youtube_live_and_upcoming_are_skipped_with_reasons(youtube_playlist):
    resolution = resolve([youtube_playlist["webpage_url"]])
    assert [(v.key, v.live_status) for v in resolution.videos] == [
        ("youtube/aaaaaaaaaaa", "not_live"), ("youtube/ddddddddddd", "was_live")]
    assert resolution.videos[0].url == "https://www.youtube.com/watch?v=aaaaaaaaaaa"
    assert resolution.videos[0].duration == 212.0 and resolution.videos[0].uploader == "Some Channel"
    skipped = {s.key: s.reason for s in resolution.skipped}
    assert skipped == {
        "youtube/bbbbbbbbbbb": sources.NOT_READY["is_upcoming"],
        "youtube/ccccccccccc": sources.NOT_READY["is_live"],
        "youtube/aaaaaaaaaaa": f"duplicate of youtube/aaaaaaaaaaa (from {youtube_playlist['webpage_url']})",
    }


def test_full_youtube_info_dict_becomes_a_video():
    info = {
        "id": "jNQXAC9IVRw", "title": "Me at the zoo", "extractor": "youtube", "extractor_key": "Youtube",
        "webpage_url": "https://www.youtube.com/watch?v=jNQXAC9IVRw", "original_url": "https://youtu.be/jNQXAC9IVRw",
        "duration": 19, "uploader": "jawed", "upload_date": "20050424", "live_status": "not_live",
    }
    video = sources.to_video(info, "https://youtu.be/jNQXAC9IVRw")
    assert video == sources.Video(
        extractor="youtube", id="jNQXAC9IVRw", url="https://www.youtube.com/watch?v=jNQXAC9IVRw",
        title="Me at the zoo", webpage_url="https://www.youtube.com/watch?v=jNQXAC9IVRw", duration=19.0,
        uploader="jawed", upload_date="20050424", live_status="not_live", source="https://youtu.be/jNQXAC9IVRw",
    )


def test_resolution_round_trips_through_plain_dicts(podcast):
    resolution = resolve([podcast.feed_url, f"{podcast.base_url}/gone.mp3"])
    assert sources.Resolution.from_dict(resolution.as_dict()) == resolution


def test_deployment_sets_yt_dlp_options(podcast, monkeypatch):
    monkeypatch.setenv(sources.ENV_YTDLP_OPTIONS, '{"playlist_items": "2:3", "sleep_interval_requests": 0.01}')
    assert sources.ydl_options(noplaylist=True)["sleep_interval_requests"] == 0.01
    assert _ids(resolve([podcast.feed_url]).videos) == ["ep-002", "ep-003"]  # yt-dlp itself applied them


def test_local_files_only_when_the_deployment_allows_them(podcast, monkeypatch, model_env):
    from transcription import pipeline
    from transcription.options import TranscribeOptions
    from transcription.store import Store

    path = str(podcast.directory / "ep-001.mp3")
    assert [s.reason for s in resolve([path, f"file://{path}"]).skipped] == ["not an http(s) URL"] * 2
    monkeypatch.setenv(sources.ENV_ALLOW_LOCAL_FILES, "1")
    (video,) = resolve([path]).videos
    assert video.url == f"file://{path}" and video.id.startswith("ep-001-")
    options = TranscribeOptions(whisper_options={"temperature": 0, "condition_on_previous_text": False})
    assert pipeline.transcribe_video(video, options, store=Store())["status"] == "done"  # yt-dlp reads it too
