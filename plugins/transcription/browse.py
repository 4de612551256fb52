"""Past runs over HTTP: an index of the runs with a report, and the store's reports and transcripts served under one
prefix, so that a report's relative links (`../../videos/…/transcript.txt`) resolve as they do in the store itself.

    /                              the runs with a report, newest first
    /store/<path in the store>     runs/<run>/report.html, results.csv, …; videos/…/transcript.txt, …
    /dags/<dag id>/runs/<run id>   redirects to that run's report (the Airflow UI's per-run tab opens this)

A FastAPI app with no Airflow in it: `plugins/transcripts_plugin.py` mounts it in Airflow's api-server and puts
Airflow's authorization in front of it. The store is read through fsspec, so a folder and s3:// serve alike. Only
the files the pipeline writes are served, recognised by their place in the layout: nothing else under the store's
root (per-video launcher records, partial files), and nothing outside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import jinja2
from fastapi import FastAPI, HTTPException, Request
from fastapi.params import Depends
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from transcription import results
from transcription.store import Store

# A path segment as Store's path_part writes it; "." and ".." are no names it writes.
_SEGMENT = r"(?!\.\.?/)[A-Za-z0-9._+~-]+"
SERVED = re.compile(
    rf"runs/{_SEGMENT}/(?:report\.html|results\.csv|results\.parquet|manifest\.json|[a-z0-9_]+\.png)"
    rf"|videos/{_SEGMENT}/{_SEGMENT}/{_SEGMENT}/(?:transcript\.(?:txt|srt|vtt|json)|manifest\.json)"
)
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
    "json": "application/json", "png": "image/png", "txt": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8", "vtt": "text/vtt; charset=utf-8",
}

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("transcription", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)


def create_app(store: Store | None = None, *, dag_id: str, dependencies: Sequence[Depends] = ()) -> FastAPI:
    """The app over `store`, or over the store the environment names at each request ($TRANSCRIPTION_STORE, as
    the workers read it). `dag_id`: the DAG whose runs write the reports. `dependencies` guard every route.

    No OpenAPI schema or docs pages: FastAPI serves those without the app's dependencies, so they would be public.
    """
    app = FastAPI(title="Transcripts", dependencies=list(dependencies), openapi_url=None, docs_url=None,
                  redoc_url=None)

    def current() -> Store:
        return store or Store()

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        """The runs with a report, newest first: what each asked for and what became of its videos."""
        here = current()
        runs = [{**manifest, "dir": here.run_dir(manifest["run_id"]), "videos": sum(manifest["status"].values())}
                for manifest in results.manifests(here)]
        return _templates.get_template("runs.html.j2").render(runs=runs, store=here.uri())

    @app.get("/store/{path:path}")
    def file(path: str) -> Response:
        """A file the pipeline wrote, with its content type. Paths arrive decoded (`%2e%2e` is `..` here)."""
        if not SERVED.fullmatch(path):
            raise HTTPException(404, f"not a report or transcript file: {path}")
        here = current()
        try:
            data = here.fs.cat_file(here.path(path))
        except FileNotFoundError:
            raise HTTPException(404, f"not in the store: {path}") from None
        return Response(data, media_type=CONTENT_TYPES[path.rsplit(".", 1)[1]],
                        headers={"X-Content-Type-Options": "nosniff"})

    @app.get("/dags/{run_dag_id}/runs/{run_id:path}", response_class=HTMLResponse)
    def run_report(run_dag_id: str, run_id: str, request: Request) -> Response:
        """The report of one DAG run, where its links work; a page saying why when there is none."""
        mounted_at = request.scope.get("root_path", "")  # where the app is, e.g. /transcripts: url_for cannot tell
        if run_dag_id != dag_id:
            return _page("no_report.html.j2", 404, index=f"{mounted_at}/", run_id=run_id,
                         reason=f"Transcription reports are written by the {dag_id} DAG, not by {run_dag_id}.")
        here = current()
        run_dir = here.run_dir(run_id)
        if here.manifest(run_dir) is None:
            return _page("no_report.html.j2", 404, index=f"{mounted_at}/", run_id=run_id,
                         reason="This run has no report yet: its report task writes one when the run's videos are "
                                "done, and a run whose inputs gave no video has none.")
        return RedirectResponse(f"{mounted_at}/store/{run_dir}/report.html")

    return app


def _page(template: str, status: int, **context: Any) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(template).render(**context), status_code=status)
