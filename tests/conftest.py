"""Shared fixtures: a random-weight whisper checkpoint, espeak-ng speech served as a podcast feed from 127.0.0.1,
a private Airflow home (SQLite) set up before anything imports Airflow, the parsed DAG, and a real S3 (radosgw).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="airflow-home-")
os.environ.update({
    "AIRFLOW_HOME": _AIRFLOW_HOME,
    "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
})
for name in ("WHISPER_MODEL", "WHISPER_CACHE_DIR", "WHISPER_BATCH_SIZE", "TRANSCRIPTION_STORE",
             *(n for n in os.environ if n[:4] == "AWS_")):
    os.environ.pop(name, None)  # the developer's own settings must not leak into tests

from kube_service import core_api, kubeconfig  # noqa: E402, F401  (session fixtures)
from report_fixtures import fixture_run  # noqa: E402, F401
from s3_service import s3  # noqa: E402, F401
from transcription import offline  # noqa: E402

DAG_ID = "video_transcription"

# Greedy decoding without fallbacks: random weights would otherwise retry every window at six temperatures, and
# run each to the 224-token limit (they rarely say "end of text"): 32 tokens are plenty for structure and plumbing.
FAST = {
    "temperature": 0, "condition_on_previous_text": False, "compression_ratio_threshold": None,
    "logprob_threshold": None, "no_speech_threshold": None, "sample_len": 32,
}


@dataclasses.dataclass(frozen=True)
class Podcast:
    base_url: str
    feed_url: str
    directory: Path
    episodes: tuple[offline.Episode, ...]


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    return offline.make_random_checkpoint(tmp_path_factory.mktemp("models") / "random-mini.pt")


@pytest.fixture(scope="session")
def podcast(tmp_path_factory) -> Podcast:
    directory = tmp_path_factory.mktemp("podcast")
    with offline.serve(directory) as base_url:
        feed_url = offline.write_podcast(directory, base_url)
        yield Podcast(base_url, feed_url, directory, offline.DEMO_EPISODES)


class _FaultyHandler(offline._QuietHandler):
    """/status/<code>/<path> answers <code>; /flaky/<n>/<path> answers the n-th request for it with 503 and
    serves <path> otherwise."""

    requests: dict[str, int] = {}

    def send_head(self):
        parts = self.path.split("/")
        if parts[1] == "status":
            self.send_error(int(parts[2]))
            return None
        if parts[1] == "flaky":
            self.requests[self.path] = count = self.requests.get(self.path, 0) + 1
            if count == int(parts[2]):
                self.send_error(503)
                return None
            self.path = "/" + "/".join(parts[3:])
        return super().send_head()


@pytest.fixture(scope="session")
def faults(podcast) -> str:
    """The podcast's files behind a server that fails on demand; yields its base URL."""
    with offline.serve(podcast.directory, handler_class=_FaultyHandler) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def metadata_db():
    """A real Airflow metadata database (SQLite in the private AIRFLOW_HOME), for dag.test()."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture
def model_env(monkeypatch, checkpoint, tmp_path) -> Path:
    """The random checkpoint as the run's model, and an empty local store; returns the store's folder."""
    monkeypatch.setenv("WHISPER_MODEL", str(checkpoint))
    monkeypatch.setenv("TRANSCRIPTION_STORE", str(tmp_path / "store"))
    return tmp_path / "store"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"), safe_mode=False)


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags[DAG_ID]
