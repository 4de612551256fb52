"""One video → its audio as 16 kHz mono samples: yt-dlp downloads, whisper's ffmpeg loader decodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import whisper
import yt_dlp
from yt_dlp.utils import DownloadError

from transcription.errors import Unavailable, classify
from transcription.sources import error_reason, ydl_options

SAMPLE_RATE = whisper.audio.SAMPLE_RATE


def download(url: str, workdir: Path, *, ydl_opts: dict[str, Any] | None = None) -> Path:
    """Fetch the best audio-only format (the best whole file where the site has none) into `workdir`."""
    opts = ydl_options(
        format="bestaudio/best",
        outtmpl=str(workdir / "audio.%(ext)s"),  # ids and titles never become local paths
        noplaylist=True,
        **(ydl_opts or {}),
    )
    try:
        with yt_dlp.YoutubeDL(opts) as ydl:
            info = ydl.extract_info(url, download=True)
    except DownloadError as e:
        if classify(e) == "permanent":
            raise Unavailable(error_reason(e)) from e
        raise  # transient: Airflow retries; unknown: fails loudly after the retries
    return Path(info["requested_downloads"][0]["filepath"])


def load(path: Path) -> np.ndarray:
    """Decode any container/codec ffmpeg knows into float32 samples at whisper's rate."""
    try:
        samples = whisper.load_audio(str(path))
    except RuntimeError as e:  # whisper's wrapper around ffmpeg's failure; its last line says why
        raise Unavailable(f"not audio that ffmpeg can decode: {str(e).strip().splitlines()[-1]}") from e
    if not len(samples):
        raise Unavailable("the media has no audio")
    return samples
