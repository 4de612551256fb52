"""Turn what the user typed (URLs, lists, URL files) into individual videos with yt-dlp, downloading no media.

Playlists, channels and podcast feeds are listed with flat extraction, so a channel of 5,000 videos costs one
listing, not 5,000 page loads. Anything that is not a video we can transcribe now becomes a `Skip` with the reason,
never an exception: one bad line must not cost the run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import yt_dlp
from yt_dlp.utils import DownloadError, unsmuggle_url

from transcription.errors import classify

log = logging.getLogger(__name__)

# yt-dlp's live_status values that leave nothing (complete) to transcribe yet.
NOT_READY = {
    "is_upcoming": "upcoming stream or premiere: nothing to transcribe yet",
    "is_live": "live stream in progress: it can be transcribed once it has ended",
    "post_live": "live stream just ended and the site is still processing the recording",
}
MAX_NESTING = 3  # channel → tab → playlist is as deep as real sites go


@dataclasses.dataclass(frozen=True)
class Video:
    extractor: str  # yt-dlp extractor key, lower case: "youtube", "generic", ...
    id: str  # the site's own id (made unique for the generic extractor); with `extractor` it names the video
    url: str  # what yt-dlp downloads (may carry yt-dlp's smuggled data, e.g. a feed's guid)
    title: str
    webpage_url: str  # what a person opens
    duration: float | None = None
    uploader: str | None = None
    upload_date: str | None = None  # YYYYMMDD, as yt-dlp writes it
    live_status: str | None = None
    source: str = ""  # the input line the video came from

    @property
    def key(self) -> str:
        return f"{self.extractor}/{self.id}"


@dataclasses.dataclass(frozen=True)
class Skip:
    source: str  # the input line
    reason: str
    key: str | None = None
    title: str | None = None
    url: str | None = None


@dataclasses.dataclass
class Resolution:
    videos: list[Video]
    skipped: list[Skip]

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        """Plain dicts: what travels through XCom and on the CLI's command line."""
        return {
            "videos": [dataclasses.asdict(v) for v in self.videos],
            "skipped": [dataclasses.asdict(s) for s in self.skipped],
        }

    @classmethod
    def from_dict(cls, data: dict[str, list[dict[str, Any]]]) -> Resolution:
        return cls([Video(**v) for v in data["videos"]], [Skip(**s) for s in data["skipped"]])


def parse_url_lines(text: str) -> list[tuple[int, str]]:
    """(line number, URL) for each line; blank lines and `#` comments (whole-line, or after whitespace) are
    ignored. A `#` right inside a URL is a fragment and stays.
    """
    urls = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if line and not line.startswith("#"):
            urls.append((number, line))
    return urls


def read_inputs(url: str | None = None, urls: Iterable[str] = (), url_file: str | None = None) -> list[str]:
    """Gather the inputs of a run; `url_file` is a local path or any fsspec URI (s3://, https://, ...).

    A line of the file that is not an http(s) URL is passed on as "<file> line N", never as its text: whoever can
    trigger the DAG must not be able to copy a worker's files (airflow.cfg, say) into the report.
    """
    inputs = [u.strip() for u in [url or "", *urls] if u and u.strip()]
    if url_file:
        try:
            with fsspec.open(url_file, "rt", encoding="utf-8-sig") as f:
                text = f.read()
        except FileNotFoundError:
            raise ValueError(f"url_file {url_file!r} does not exist") from None
        for number, line in parse_url_lines(text):
            inputs.append(line if accepted(line) else f"{url_file} line {number}")
    if not inputs:
        raise ValueError("nothing to transcribe: give a url, a list of urls, or a url_file")
    return inputs


def local_files_allowed() -> bool:
    """$TRANSCRIPTION_ALLOW_LOCAL_FILES=1 lets inputs be files on the worker: a deployment's choice, never a
    run's, since whoever can trigger a run could otherwise read the worker's disk."""
    return os.environ.get(ENV_ALLOW_LOCAL_FILES, "").lower() in ("1", "true", "yes")


def accepted(text: str) -> str | None:
    """The URL to hand yt-dlp for an input, or None when inputs of that kind are not allowed."""
    if text.lower().startswith(("http://", "https://")):
        return text
    if local_files_allowed() and (text.startswith("file://") or os.path.isabs(text)):
        return text if text.startswith("file://") else Path(text).as_uri()
    return None


ENV_YTDLP_OPTIONS = "TRANSCRIPTION_YTDLP_OPTIONS"  # JSON: yt-dlp's own options, e.g. sleeps, retries, cookies
ENV_ALLOW_LOCAL_FILES = "TRANSCRIPTION_ALLOW_LOCAL_FILES"


def ydl_options(**overrides: Any) -> dict[str, Any]:
    """Options shared by every yt-dlp call of the project: quiet, messages into Python logging, and the
    deployment's own settings from $TRANSCRIPTION_YTDLP_OPTIONS (sites like YouTube throttle bulk downloads:
    sleep_interval, sleep_interval_requests, retries, extractor_retries, cookiefile, ...)."""
    configured = json.loads(os.environ.get(ENV_YTDLP_OPTIONS) or "{}")
    return {"quiet": True, "no_warnings": False, "noprogress": True, "logger": log,
            "enable_file_urls": local_files_allowed(), **configured, **overrides}


def resolve(inputs: Iterable[str], *, max_videos: int = 50, ydl_opts: dict[str, Any] | None = None) -> Resolution:
    """Expand inputs into distinct videos; the first `max_videos` are kept, everything else is a recorded skip.

    A playlist is listed one entry past the cap, so that a longer one shows up as an "over max_videos" row.
    """
    opts = ydl_options(extract_flat="in_playlist", playlistend=max_videos + 1, **(ydl_opts or {}))
    videos: dict[str, Video] = {}
    skipped: list[Skip] = []
    with yt_dlp.YoutubeDL(opts) as ydl:
        for source in inputs:
            for item in _expand(ydl, source):
                if isinstance(item, Skip):
                    skipped.append(item)
                elif item.key in videos:
                    first = videos[item.key]
                    skipped.append(_skip(item, f"duplicate of {first.key} (from {first.source})"))
                elif len(videos) >= max_videos:
                    skipped.append(_skip(item, f"over max_videos ({max_videos})"))
                else:
                    videos[item.key] = item
    return Resolution(list(videos.values()), skipped)


def _skip(video: Video, reason: str) -> Skip:
    return Skip(video.source, reason, key=video.key, title=video.title, url=video.webpage_url)


def _expand(ydl: yt_dlp.YoutubeDL, source: str) -> Iterator[Video | Skip]:
    url = accepted(source)
    if not url:
        yield Skip(source, "not an http(s) URL")
        return
    try:
        info = ydl.extract_info(url, download=False)
    except DownloadError as e:
        _raise_if_transient(e)
        yield Skip(source, error_reason(e))
        return
    yield from _walk(ydl, info, source, depth=0)


def _walk(ydl: yt_dlp.YoutubeDL, info: dict[str, Any] | None, source: str, depth: int) -> Iterator[Video | Skip]:
    if info is None:  # yt-dlp's placeholder for a playlist entry it could not read
        yield Skip(source, "unavailable playlist entry")
    elif depth > MAX_NESTING:
        yield Skip(source, f"playlists nested deeper than {MAX_NESTING} levels")
    elif info.get("_type") in ("playlist", "multi_video"):
        for entry in info.get("entries") or ():
            yield from _walk(ydl, entry, source, depth + 1)
    elif info.get("_type") in ("url", "url_transparent") and not _is_flat_video(ydl, info):
        try:
            resolved = ydl.process_ie_result(dict(info), download=False)
        except DownloadError as e:
            _raise_if_transient(e)
            yield Skip(source, error_reason(e), title=info.get("title"), url=info.get("url"))
            return
        yield from _walk(ydl, resolved, source, depth + 1)
    else:
        video = to_video(info, source)
        if video.live_status in NOT_READY:
            yield _skip(video, NOT_READY[video.live_status])
        else:
            yield video


def _is_flat_video(ydl: yt_dlp.YoutubeDL, entry: dict[str, Any]) -> bool:
    """A flat entry that already names one video (YouTube playlists give id, title, duration, live_status)."""
    ie_key = entry.get("ie_key")
    if not (entry.get("id") and ie_key):
        return False
    return ydl.get_info_extractor(ie_key)._RETURN_TYPE == "video"


def to_video(info: dict[str, Any], source: str) -> Video:
    """A yt-dlp info dict (full, or a flat playlist entry) as a `Video`."""
    flat = info.get("_type") in ("url", "url_transparent")
    url = info["url"] if flat else info.get("webpage_url") or info["original_url"]
    webpage_url = unsmuggle_url(url)[0]
    extractor = (info.get("extractor_key") or info.get("ie_key") or "generic").lower()
    video_id = str(info["id"])
    if extractor == "generic":  # a file name or a feed's guid ("1", "episode") is unique nowhere but in its feed
        where = urllib.parse.urlsplit(webpage_url)._replace(query="", fragment="").geturl()
        video_id = f"{video_id}-{hashlib.sha256(where.encode()).hexdigest()[:8]}"
    upload_date = info.get("upload_date")
    timestamp = info.get("timestamp") or info.get("release_timestamp")
    if not upload_date and timestamp:
        upload_date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y%m%d")
    return Video(
        extractor=extractor,
        id=video_id,
        url=url,
        title=info.get("title") or str(info["id"]),
        webpage_url=webpage_url,
        duration=float(info["duration"]) if info.get("duration") else None,
        uploader=info.get("uploader") or info.get("channel"),
        upload_date=upload_date,
        live_status=info.get("live_status"),
        source=source,
    )


def _raise_if_transient(error: DownloadError) -> None:
    """Network trouble or rate limiting while listing: the resolve task fails and Airflow retries it, rather than
    a run that silently lists nothing."""
    if classify(error) == "transient":
        raise error


def error_reason(error: DownloadError) -> str:
    return str(error).removeprefix("ERROR: ").strip()
