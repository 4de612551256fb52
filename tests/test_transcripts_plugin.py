"""The Airflow UI plugin over HTTP, in Airflow's own api-server app (in process): the index of runs, reports and
transcripts served from the store with their links working, nothing else served, and Airflow's authorization in
front of all of it. The same in a real browser inside the real UI: test_transcripts_browser.py."""

from __future__ import annotations

import html.parser
import io
import secrets
import subprocess
import sys
import urllib.parse
import uuid

import pandas as pd
import pytest

from conftest import DAG_ID, ROOT
from report_fixtures import OPTIONS, write_fixture_transcripts
from transcription import report
from transcription.store import Store

PREFIX = "/transcripts"
OLDER, NEWER = "scheduled__2026-11-24T00:00:00+00:00", "manual__2026-11-25T10:00:00+00:00"
TRANSCRIPT_TYPES = {"txt": "text/plain; charset=utf-8", "srt": "application/x-subrip; charset=utf-8",
                    "vtt": "text/vtt; charset=utf-8", "json": "application/json"}


@pytest.fixture(scope="module")
def airflow_app(metadata_db):
    """Airflow's api-server app as `airflow api-server` builds it: plugins from ./plugins, Simple auth manager."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_urlsafe(64))  # else a short one, with warnings
        yield TestClient(create_app(apps="core"))


def token(role: str | None) -> str:
    """A JWT as Airflow's login issues it, for a user with this Simple auth manager role (None: no permission)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=f"{role}-user", role=role))


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    """Two reports of the fixture videos, the newer written first."""
    store = Store(str(tmp_path_factory.mktemp("store")))
    resolution, results = write_fixture_transcripts(store)
    for run_id, created in ((NEWER, "2026-11-25T10:00:00+00:00"), (OLDER, "2026-11-24T00:00:00+00:00")):
        report.write(store, run_id, resolution, results, options=OPTIONS, title=f"Report of {run_id}")
        store.write_manifest(store.run_dir(run_id), {**store.manifest(store.run_dir(run_id)), "created": created})
    return store


@pytest.fixture
def client(airflow_app, monkeypatch, store):
    """A viewer's client; the api-server's environment names the store."""
    monkeypatch.setenv("TRANSCRIPTION_STORE", store.url)
    airflow_app.headers["Authorization"] = f"Bearer {token('viewer')}"
    yield airflow_app
    airflow_app.headers.pop("Authorization", None)
    airflow_app.cookies.clear()


class _Links(html.parser.HTMLParser):
    def __init__(self, page: str):
        super().__init__()
        self.hrefs: list[tuple[str, str]] = []  # (class, href) of each link
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append((dict(attrs).get("class", ""), dict(attrs)["href"]))


def links(page: str, css_class: str = "") -> list[str]:
    return [href for cls, href in _Links(page).hrefs if cls == css_class or not css_class]


def test_index_lists_the_runs_newest_first_with_their_counts(client):
    page = client.get(f"{PREFIX}/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text.count("<tr data-run-id=") == 2
    assert page.text.index(f'data-run-id="{NEWER}"') < page.text.index(f'data-run-id="{OLDER}"')
    row = page.text.split(f'data-run-id="{NEWER}"')[1].split("</tr>")[0]
    counts = [cell.split("<")[0] for cell in row.split('<td class="number">')[1:]]
    assert counts == ["5", "3", "0", "1", "1"]  # videos, done, cached, skipped, failed
    assert ">Report of manual__2026-11-25T10:00:00+00:00</a>" in row and "<td>tiny</td>" in row
    reports = links(page.text, "report")
    assert reports == [f"store/{Store.run_dir(NEWER)}/report.html", f"store/{Store.run_dir(OLDER)}/report.html"]
    opened = client.get(urllib.parse.urljoin(str(page.url), reports[0]))
    assert opened.status_code == 200 and "<title>Report of manual__2026-11-25T10:00:00+00:00</title>" in opened.text


def test_an_empty_store_says_so(client, monkeypatch, tmp_path):
    monkeypatch.setenv("TRANSCRIPTION_STORE", str(tmp_path / "empty"))
    page = client.get(f"{PREFIX}/")
    assert page.status_code == 200 and "0 runs with a report" in page.text and 'id="empty"' in page.text


def test_the_reports_transcript_links_resolve_to_the_store_files(client, store):
    url = f"http://testserver{PREFIX}/store/{Store.run_dir(NEWER)}/report.html"
    page = client.get(url)
    hrefs = [href for href in links(page.text) if href.startswith("../")]
    assert len(hrefs) == 3 * 4  # three videos with a transcript, four formats each
    for href in hrefs:
        file = client.get(urllib.parse.urljoin(url, href))
        rel = href.removeprefix("../../")
        assert file.status_code == 200, href
        assert file.headers["content-type"] == TRANSCRIPT_TYPES[rel.rsplit(".", 1)[1]]
        assert file.headers["x-content-type-options"] == "nosniff"
        assert file.content == store.fs.cat_file(store.path(rel))


def test_the_runs_table_figures_and_manifest_are_served_with_their_types(client, store):
    run = f"{PREFIX}/store/{Store.run_dir(OLDER)}"
    parquet = client.get(f"{run}/results.parquet")
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert pd.read_parquet(io.BytesIO(parquet.content))["status"].tolist() == ["done"] * 3 + ["failed", "skipped"]
    assert client.get(f"{run}/results.csv").headers["content-type"] == "text/csv; charset=utf-8"
    png = client.get(f"{run}/wordcloud.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert client.get(f"{run}/manifest.json").json() == store.manifest(Store.run_dir(OLDER))


@pytest.mark.parametrize("path", [
    "%2e%2e/%2e%2e/secret.txt",  # encoded traversal: arrives decoded, as ../../secret.txt
    "runs/%2e%2e/%2e%2e/secret.txt",
    "runs/..%2f..%2fsecret.txt",
    "runs/%252e%252e/report.html",  # encoded twice
    "/etc/passwd",  # absolute
    "%2fetc%2fpasswd",
    "videos/youtube/aaaaaaaaaaa/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "runs/{run}/results/youtube/aaaaaaaaaaa.json",  # in the store, but not a report's file
    "runs/{run}/report.html.partial-0123",
    "runs/{run}",
    "secret.txt",
])
def test_only_the_stores_report_and_transcript_files_are_served(client, store, path):
    store.write("secret.txt", "not for the browser")
    store.fs.pipe_file(store.path(f"{Store.run_dir(NEWER)}/report.html.partial-0123"), b"half")
    response = client.get(f"{PREFIX}/store/{path.format(run=Store.run_dir(NEWER))}")
    assert response.status_code == 404  # refused by the app itself, not merely missing from the store
    assert response.json()["detail"].startswith("not a report or transcript file: ")


def test_a_file_the_layout_allows_but_the_store_lacks_is_404(client):
    response = client.get(f"{PREFIX}/store/runs/nope/report.html")
    assert response.status_code == 404 and response.json() == {"detail": "not in the store: runs/nope/report.html"}


def test_a_dag_runs_report_tab_redirects_to_its_report(client):
    response = client.get(f"{PREFIX}/dags/{DAG_ID}/runs/{urllib.parse.quote(NEWER, safe='')}",
                          follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == f"{PREFIX}/store/{Store.run_dir(NEWER)}/report.html"
    assert "~" in Store.run_dir(NEWER)  # the run id is not path-safe: the app maps it as the store did
    assert client.get(response.headers["location"]).text.count(f"<code>{NEWER}</code>") == 1


def test_a_run_without_a_report_and_another_dags_run_say_why(client):
    response = client.get(f"{PREFIX}/dags/{DAG_ID}/runs/manual__unknown")
    assert response.status_code == 404 and "This run has no report yet" in response.text
    assert f'<a href="{PREFIX}/">All runs with a report</a>' in response.text
    other = client.get(f"{PREFIX}/dags/another_dag/runs/{urllib.parse.quote(NEWER, safe='')}")
    assert other.status_code == 404
    assert f"written by the {DAG_ID} DAG, not by another_dag" in other.text  # a run id is unique per DAG only


@pytest.mark.parametrize(("path", "allowed"), [
    ("/", 200), (f"/store/{Store.run_dir(NEWER)}/report.html", 200), (f"/dags/{DAG_ID}/runs/x", 404),
])
def test_airflow_authorization_guards_every_route(client, path, allowed):
    client.headers.pop("Authorization")
    assert client.get(f"{PREFIX}{path}").status_code == 401  # no credentials
    client.headers["Authorization"] = "Bearer not-a-jwt"
    assert client.get(f"{PREFIX}{path}").status_code == 403
    client.headers["Authorization"] = f"Bearer {token(None)}"  # signed, but the user may read no DAG
    assert client.get(f"{PREFIX}{path}").status_code == 403
    client.headers["Authorization"] = f"Bearer {token('viewer')}"
    assert client.get(f"{PREFIX}{path}").status_code == allowed


def test_the_uis_session_cookie_is_enough(client):
    """What the UI's iframe sends: no header, the `_token` cookie that Airflow's login set."""
    client.headers.pop("Authorization")
    client.cookies.set("_token", token("viewer"))
    assert client.get(f"{PREFIX}/").status_code == 200


def test_the_question_asked_is_reading_the_dags_runs(client, monkeypatch):
    """What a per-DAG auth manager (FAB, Keycloak) is asked: may this user read runs of video_transcription."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity

    manager, asked = get_auth_manager(), []
    real = manager.is_authorized_dag
    monkeypatch.setattr(manager, "is_authorized_dag", lambda **kwargs: asked.append(kwargs) or real(**kwargs))
    assert client.get(f"{PREFIX}/").status_code == 200
    assert [(a["method"], a["access_entity"], a["details"].id) for a in asked] == [("GET", DagAccessEntity.RUN, DAG_ID)]


def test_no_public_schema_or_docs(client):
    client.headers.pop("Authorization")
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(f"{PREFIX}{path}").status_code == 404


def test_airflow_lists_the_plugin_its_app_and_views(client, dagbag):
    import transcripts_plugin

    plugins = {p["name"]: p for p in client.get("/api/v2/plugins").json()["plugins"]}
    plugin = plugins["transcripts"]
    assert plugin["source"] == "$PLUGINS_FOLDER/transcripts_plugin.py"
    assert [(a["url_prefix"], a["name"]) for a in plugin["fastapi_apps"]] == [(PREFIX, "Transcripts")]
    views = {view["destination"]: view for view in plugin["external_views"]}
    assert views["nav"]["href"] == "transcripts/" and views["nav"]["name"] == "Transcripts"
    assert views["dag_run"]["href"] == "transcripts/dags/{DAG_ID}/runs/{RUN_ID}"  # the UI fills both in
    assert transcripts_plugin.DAG_ID == DAG_ID and DAG_ID in dagbag.dag_ids


def test_importing_the_plugin_stays_light():
    """Every Airflow process imports the plugins (task runners too): neither the app nor Airflow's API security
    module, nor torch, may come with it."""
    code = ("import sys, transcripts_plugin; print(sorted(m for m in ('fastapi', 'transcription.browse', 'torch', "
            "'airflow.api_fastapi.core_api.security', 'pandas') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "plugins", capture_output=True, text=True,
                            check=True).stdout.strip().splitlines()[-1]
    assert loaded == "[]"


def test_an_s3_store_is_served_alike(client, monkeypatch, s3):
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    store = Store(f"s3://{s3.bucket}/ui-{uuid.uuid4().hex[:8]}")
    resolution, results = write_fixture_transcripts(store)
    report.write(store, NEWER, resolution, results, options=OPTIONS, title="On S3")
    monkeypatch.setenv("TRANSCRIPTION_STORE", store.url)

    page = client.get(f"{PREFIX}/")
    assert f"<code>{store.uri()}</code>" in page.text
    assert links(page.text, "report") == [f"store/{Store.run_dir(NEWER)}/report.html"]
    url = f"http://testserver{PREFIX}/store/{Store.run_dir(NEWER)}/report.html"
    opened = client.get(url)
    assert opened.status_code == 200 and "<title>On S3</title>" in opened.text
    txt = next(href for href in links(opened.text) if href.endswith("ccccccccccc/tiny/transcript.txt"))
    assert client.get(urllib.parse.urljoin(url, txt)).text == store.read_text(txt.removeprefix("../../"))
