"""Past runs' results from Python, without Airflow: the table, the run's manifest and each video's transcript.

    from transcription import results
    results.runs("s3://bucket/whisper-airflow")        # run ids, newest first
    run = results.load_run("s3://bucket/whisper-airflow")  # or load_run(store, "scheduled__2026-11-25T00:00:00+00:00")
    run.table                                          # pandas DataFrame: one row per input video (results.parquet)
    run.transcript("youtube/jNQXAC9IVRw")["segments"]  # whisper's JSON; a bare video id works when it is unambiguous

Read from the store only (what the report task wrote), so it works from a notebook that reaches the bucket.
"""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pandas as pd

from transcription.store import MANIFEST, Store

LATEST = "latest"


class ResultsError(LookupError):
    """A run or video that is not in the store; the message says what is there instead."""


def _store(store: Store | str | None) -> Store:
    return store if isinstance(store, Store) else Store(store)


def manifests(store: Store | str | None = None) -> list[dict[str, Any]]:
    """Manifests of the runs with a report, newest first (by `created`, then by run id). The manifest is written
    last, so a run being reported is not listed. Fetched in one batch: s3fs reads them concurrently."""
    store = _store(store)
    paths = store.fs.glob(store.path(f"runs/*/{MANIFEST}"))
    found = [json.loads(data) for data in store.fs.cat(paths).values()] if paths else []
    return sorted(found, key=lambda m: (m["created"], m["run_id"]), reverse=True)


def runs(store: Store | str | None = None) -> list[str]:
    """Ids of the runs with a report, newest first (by the manifest's `created`, then by run id)."""
    return [m["run_id"] for m in manifests(store)]


@dataclasses.dataclass(frozen=True)
class RunResults:
    store: Store
    run_id: str
    manifest: dict[str, Any]
    table: pd.DataFrame  # the columns of transcription.report.COLUMNS, with their dtypes

    @property
    def report(self) -> str:
        """The URI of the run's report.html."""
        return self.store.uri(f"{self.store.run_dir(self.run_id)}/report.html")

    def row(self, video: str) -> pd.Series:
        """The table's row of a video, by key (`youtube/jNQXAC9IVRw`) or, when only one video has it, by id."""
        rows = self.table[self.table["key"] == video]
        if rows.empty:
            rows = self.table[self.table["video_id"] == video]
        if len(rows) != 1:
            known = ", ".join(self.table["key"].dropna())
            problem = "matches several videos" if len(rows) else "is not a video of"
            raise ResultsError(f"{video!r} {problem} run {self.run_id!r}; its videos: {known or 'none'}")
        return rows.iloc[0]

    def transcript(self, video: str) -> dict[str, Any]:
        """Whisper's JSON (`text`, `segments` with `start`/`end`/`text`, `language`) of one video of this run."""
        row = self.row(video)
        if pd.isna(row["transcript"]):
            raise ResultsError(f"{row['key']!r} has no transcript in run {self.run_id!r}: {row['status']}"
                               + (f" ({row['reason']})" if pd.notna(row["reason"]) else ""))
        return json.loads(self.store.read_text(f"{row['transcript']}/transcript.json"))


def load_run(store: Store | str | None = None, run_id: str = LATEST) -> RunResults:
    """One run's results; `latest` is the newest run with a report. `store`: a Store, a URL, or the default store."""
    store = _store(store)
    if run_id == LATEST:
        ids = runs(store)
        if not ids:
            raise ResultsError(f"no runs with a report yet in {store.uri()}")
        run_id = ids[0]
    run_dir = store.run_dir(run_id)
    manifest = store.manifest(run_dir)
    if manifest is None:
        known = runs(store)
        raise ResultsError(f"no run {run_id!r} with a report in {store.uri()}; runs: "
                           + (", ".join(known[:10]) + (" …" if len(known) > 10 else "") if known else "none"))
    table = pd.read_parquet(io.BytesIO(store.fs.cat_file(store.path(f"{run_dir}/results.parquet"))))
    return RunResults(store, run_id, manifest, table)
