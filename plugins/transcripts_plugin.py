"""The transcripts inside the Airflow UI, the way Metaflow's `card view` shows a run's card:

- **Transcripts** in the navigation: every run with a report, newest first, each opening its report;
- a **Report** tab on every DAG run's page: that run's report (for runs of other DAGs it says there is none);
- behind both, the app of `transcription.browse` at /transcripts in the api-server, serving reports and transcripts
  from the store ($TRANSCRIPTION_STORE: a folder or s3://).

Airflow does not authenticate a plugin's FastAPI app: a mounted app inherits none of the core API's dependencies.
This one checks Airflow's own authorization on every request: whoever may read the DAG's runs may read its
transcripts. The UI's iframe carries the login's `_token` cookie (same origin); API clients send a bearer token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow.plugins_manager import AirflowPlugin

DAG_ID = "video_transcription"
URL_PREFIX = "/transcripts"


def create_app() -> Any:
    """The FastAPI app over the environment's store, for users allowed to read runs of the DAG (Airflow's auth
    manager decides: roles with Simple, per-DAG permissions with FAB)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag
    from fastapi import Depends
    from transcription import browse

    may_read_runs = requires_access_dag(method="GET", access_entity=DagAccessEntity.RUN, param_dag_id=DAG_ID)
    return browse.create_app(dag_id=DAG_ID, dependencies=[Depends(may_read_runs)])


class BuiltOnFirstRequest:
    """An ASGI app that builds the real one when the first request comes. Every Airflow process imports the plugins
    (the scheduler, and each task's runner for macros), but only the api-server serves them: the others should not
    pay for importing FastAPI routes and Airflow's security module (a second or so)."""

    def __init__(self, build: Callable[[], Any]):
        self._build, self._app = build, None

    async def __call__(self, scope, receive, send) -> None:
        if self._app is None:
            self._app = self._build()
        await self._app(scope, receive, send)


class TranscriptsPlugin(AirflowPlugin):
    name = "transcripts"
    fastapi_apps = [{"app": BuiltOnFirstRequest(create_app), "url_prefix": URL_PREFIX, "name": "Transcripts"}]
    # Relative hrefs: the UI resolves them against its base URL, so a deployment under a sub-path works too.
    external_views = [
        {"name": "Transcripts", "href": f"{URL_PREFIX[1:]}/", "url_route": "transcripts", "destination": "nav",
         "nav_top_level": True},
        {"name": "Report", "href": f"{URL_PREFIX[1:]}/dags/{{DAG_ID}}/runs/{{RUN_ID}}",
         "url_route": "transcription-report", "destination": "dag_run"},
    ]
