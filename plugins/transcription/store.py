"""The artifact store: one browsable layout on any fsspec filesystem (a local folder by default, s3:// in production).

    videos/<extractor>/<video id>/<variant>/transcript.{txt,srt,vtt,json}, manifest.json
    runs/<run id>/manifest.json, results.parquet, results.csv, report.html, figures, results/ (per-video outcomes)

Ids, never titles, make paths. A video's manifest is written last: its presence means the transcript is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

ENV_STORE = "TRANSCRIPTION_STORE"
TRANSCRIPT_FORMATS = ("txt", "srt", "vtt", "json")
MANIFEST = "manifest.json"


def default_url() -> str:
    """$TRANSCRIPTION_STORE, else `transcripts/` under $AIRFLOW_HOME (Airflow's own default: ~/airflow)."""
    home = Path(os.environ.get("AIRFLOW_HOME", "~/airflow")).expanduser()
    return os.environ.get(ENV_STORE) or str(home / "transcripts")


def path_part(name: str) -> str:
    """A name that is safe as one path segment everywhere: no separators, no `..`, bounded length.

    A name that had to change gets `~` and a hash of the original; `~` never survives unchanged, so a changed name
    can collide neither with another changed name nor with a name that was already safe.
    """
    safe = re.sub(r"[^A-Za-z0-9._+-]", "_", name)
    if safe != name or safe.strip(".") == "" or len(safe) > 100:
        safe = f"{safe.strip('.')[:80]}~{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return safe


class Store:
    def __init__(self, url: str | None = None, **storage_options: Any):
        self.url = url or default_url()
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **storage_options)

    # -- layout: paths relative to the root -------------------------------------------------------------------
    @staticmethod
    def video_dir(extractor: str, video_id: str, variant: str) -> str:
        return f"videos/{path_part(extractor)}/{path_part(video_id)}/{path_part(variant)}"

    @staticmethod
    def run_dir(run_id: str) -> str:
        return f"runs/{path_part(run_id)}"

    def result_path(self, run_id: str, key: str) -> str:
        """Where a launcher records one video's outcome in a run: runs/<run>/results/<extractor>/<id>.json."""
        return f"{self.run_dir(run_id)}/results/{'/'.join(path_part(p) for p in key.split('/', 1))}.json"

    def path(self, rel: str) -> str:
        return f"{self.root.rstrip('/')}/{rel}"

    def uri(self, rel: str = "") -> str:
        """Where a person finds `rel`: file:///..., s3://bucket/..."""
        return self.fs.unstrip_protocol(self.path(rel) if rel else self.root)

    # -- reading ----------------------------------------------------------------------------------------------
    def read_text(self, rel: str) -> str:
        return self.fs.cat_file(self.path(rel)).decode("utf-8")

    def run_results(self, run_id: str) -> list[dict[str, Any]]:
        """The outcomes the launchers of a run recorded, whichever launcher and wherever it ran."""
        pattern = self.path(f"{self.run_dir(run_id)}/results/*/*.json")
        return [json.loads(self.fs.cat_file(p)) for p in sorted(self.fs.glob(pattern))]

    def manifest(self, rel_dir: str) -> dict[str, Any] | None:
        """The manifest of a finished transcript or run; None while it is unfinished or absent."""
        try:
            return json.loads(self.read_text(f"{rel_dir}/{MANIFEST}"))
        except FileNotFoundError:
            return None

    # -- writing: every object appears whole or not at all ----------------------------------------------------
    def put(self, local: Path, rel: str) -> None:
        """Locally: copy to a partial file, then rename it. On S3 one upload is already all or nothing (a single PUT;
        a multipart upload appears only when completed), and s3fs sets the content type from the file's name."""
        target = self.path(rel)
        if not isinstance(self.fs, LocalFileSystem):
            self.fs.put_file(str(local), target)
            return
        self.fs.makedirs(os.path.dirname(target), exist_ok=True)
        partial = f"{target}.partial-{uuid.uuid4().hex}"
        try:
            self.fs.put_file(str(local), partial)
            self.fs.mv(partial, target)
        except BaseException:
            if self.fs.exists(partial):
                self.fs.rm(partial)
            raise

    def write(self, rel: str, data: bytes | str) -> None:
        """Through a local file of the same name: from bytes alone, S3 would serve report.html as binary."""
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / rel.rsplit("/", 1)[-1]
            local.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
            self.put(local, rel)

    def write_result(self, run_id: str, result: dict[str, Any]) -> None:
        self.write(self.result_path(run_id, result["key"]), json.dumps(result))

    def write_manifest(self, rel_dir: str, manifest: dict[str, Any]) -> None:
        self.write(f"{rel_dir}/{MANIFEST}", json.dumps(manifest, indent=2, ensure_ascii=False, default=str))

    def write_transcript(self, rel_dir: str, result: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
        """Whisper's own writers produce txt/srt/vtt/json; the manifest, listing them, goes last.

        An existing manifest is retracted first: while files are being replaced, the folder is not "done".
        """
        from whisper.utils import get_writer  # lazy: reading the store needs no torch

        if self.fs.exists(manifest_path := self.path(f"{rel_dir}/{MANIFEST}")):
            self.fs.rm(manifest_path)
        with tempfile.TemporaryDirectory() as tmp:
            for fmt in TRANSCRIPT_FORMATS:
                get_writer(fmt, tmp)(result, "transcript", {})
            for fmt in TRANSCRIPT_FORMATS:
                self.put(Path(tmp) / f"transcript.{fmt}", f"{rel_dir}/transcript.{fmt}")
        manifest = {**manifest, "artifacts": {fmt: f"transcript.{fmt}" for fmt in TRANSCRIPT_FORMATS}}
        self.write_manifest(rel_dir, manifest)
        return manifest
