"""The plugin inside the real Airflow UI: a real `airflow api-server` (SQLite, the Simple auth manager with
passwords), a DAG run of video_transcription created through the REST API, and headless chromium that logs in,
opens Transcripts in the navigation, a report and a transcript, then the DAG run's Report tab. Assertions on the DOM.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest

from browser import chromium
from conftest import DAG_ID
from report_fixtures import OPTIONS, write_fixture_transcripts
from s3_service import free_ports
from transcription import report
from transcription.store import Store

AIRFLOW = Path(sys.executable).parent / "airflow"
KEYS = ["youtube/aaaaaaaaaaa", "youtube/bbbbbbbbbbb", "youtube/ccccccccccc", "youtube/ddddddddddd",
        "youtube/eeeeeeeeeee"]
STARTUP_S = 90


@dataclasses.dataclass(frozen=True)
class Server:
    url: str
    passwords: dict[str, str]
    run_id: str

    def token(self, user: str) -> str:
        """Logged in through the API, as a script would."""
        answer = httpx.post(f"{self.url}/auth/token", json={"username": user, "password": self.passwords[user]})
        return answer.raise_for_status().json()["access_token"]


def _wait_until_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"airflow api-server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"airflow api-server not ready after {STARTUP_S} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    """A private Airflow: its own home and SQLite database, the DAG serialized, the plugin from ./plugins (conftest
    sets the folder), a viewer and an operator with passwords; one run of the DAG with a report in the store."""
    home = tmp_path_factory.mktemp("airflow-ui")
    store = Store(str(home / "transcripts"))
    passwords = {"viewer": secrets.token_urlsafe(12), "operator": secrets.token_urlsafe(12)}
    (home / "passwords.json").write_text(json.dumps(passwords))
    env = {**os.environ, "AIRFLOW_HOME": str(home), "TRANSCRIPTION_STORE": store.url,
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "viewer:viewer,operator:op",
           "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
           "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
           "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16)}
    for command in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([AIRFLOW, *command], env=env, check=True, capture_output=True, timeout=120)
    url, log = f"http://127.0.0.1:{free_ports(1)[0]}", home / "api-server.log"
    with log.open("wb") as output:
        process = subprocess.Popen([AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1],
                                    "--workers", "1"], env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        _wait_until_ready(url, process, log)
        server = Server(url, passwords, run_id="")
        triggered = httpx.post(f"{url}/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None},
                               headers={"Authorization": f"Bearer {server.token('operator')}"})
        run_id = triggered.raise_for_status().json()["dag_run_id"]
        resolution, results = write_fixture_transcripts(store)  # what the run's report task would have written
        report.write(store, run_id, resolution, results, options=OPTIONS, title="Weekly transcripts")
        yield dataclasses.replace(server, run_id=run_id)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _by(css: str):
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, css


def _until(driver, found, seconds: float = 20):
    """What `found(driver)` returns once it is something. The UI renders after its API calls, and React may replace
    an element between finding and using it: then `found` is tried again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,)).until(found)


def _wait(driver, css: str):
    return _until(driver, lambda d: d.find_elements(*_by(css)))[0]


def _click(driver, locator: tuple[str, str]) -> None:
    _until(driver, lambda d: d.find_element(*locator).click() or True)


def _into_frame(driver, title: str) -> None:
    from selenium.webdriver.support import expected_conditions

    _until(driver, expected_conditions.frame_to_be_available_and_switch_to_it(_by(f'iframe[title="{title}"]')))


@pytest.fixture(scope="module")
def ui(server):
    """Chromium, logged in through Airflow's login page as the viewer: a user who may read, not run, DAGs."""
    with chromium() as driver:
        driver.get(server.url)
        _wait(driver, "input[name=username]").send_keys("viewer")
        assert urllib.parse.urlsplit(driver.current_url).path == "/auth/login"  # the UI asked for a login
        driver.find_element(*_by("input[name=password]")).send_keys(server.passwords["viewer"])
        driver.find_element(*_by("button[type=submit]")).click()
        _wait(driver, 'a[aria-label="Transcripts"]')
        yield driver


def test_the_plugin_refuses_requests_without_a_login(server):
    assert httpx.get(f"{server.url}/transcripts/").status_code == 401
    viewer = {"Authorization": f"Bearer {server.token('viewer')}"}
    assert httpx.get(f"{server.url}/transcripts/", headers=viewer).status_code == 200


@pytest.mark.parametrize("path", ["%2e%2e/passwords.json", "runs/..%2f..%2fpasswords.json", "%252e%252e/passwords.json",
                                  "%2e%2e/airflow.db"])
def test_files_beside_the_store_stay_out_of_reach(server, path):
    """The store is $AIRFLOW_HOME/transcripts here: the passwords and the database lie one level up."""
    response = httpx.get(f"{server.url}/transcripts/store/{path}",
                         headers={"Authorization": f"Bearer {server.token('viewer')}"})
    assert response.status_code == 404 and response.json()["detail"].startswith("not a report or transcript file")


def test_transcripts_in_the_navigation_list_the_run_and_open_its_report(ui, server):
    _click(ui, _by('a[aria-label="Transcripts"]'))
    _into_frame(ui, "Transcripts")
    try:
        rows = _wait(ui, "#runs").find_elements(*_by("tbody tr"))
        assert [row.get_attribute("data-run-id") for row in rows] == [server.run_id]
        cells = [cell.text for cell in rows[0].find_elements(*_by("td"))]
        assert cells[:2] == ["Weekly transcripts", server.run_id] and cells[4:9] == ["5", "3", "0", "1", "1"]
        rows[0].find_element(*_by("a.report")).click()

        _wait(ui, "#results")
        assert ui.find_element(*_by("h1")).text == "Weekly transcripts"
        assert [r.get_attribute("data-key") for r in ui.find_elements(*_by("#results tbody tr"))] == KEYS
        details = ui.find_element(*_by('details[id="youtube/ccccccccccc"]'))
        segment = details.find_element(*_by("p.segment"))
        assert details.get_attribute("open") is None and not segment.is_displayed()
        details.find_element(*_by("summary")).click()
        assert details.get_attribute("open") == "true" and segment.text == "0:00Guten Abend, meine Damen und Herren."

        details.find_element(*_by('a[href$="/transcript.txt"]')).click()  # a relative link out of the report
        assert _wait(ui, "pre").text == "Guten Abend, meine Damen und Herren."
    finally:
        ui.switch_to.default_content()


def test_a_dag_runs_report_tab_shows_that_runs_report(ui, server):
    ui.get(f"{server.url}/dags/{DAG_ID}/runs/{urllib.parse.quote(server.run_id, safe='')}")
    _click(ui, ("xpath", "//a[normalize-space()='Report']"))
    _into_frame(ui, "Report")
    try:
        _wait(ui, "#results")
        assert ui.find_element(*_by("h1")).text == "Weekly transcripts"
        assert ui.find_element(*_by("p.meta code")).text == server.run_id
        assert len(ui.find_elements(*_by("#results tbody tr"))) == len(KEYS)
    finally:
        ui.switch_to.default_content()
