"""
### Video transcription with OpenAI Whisper

`resolve` expands the inputs (videos, playlists, channels, feeds, URL files) with yt-dlp and records why anything is
skipped → `transcribe` runs once per video (dynamic task mapping) and writes txt/srt/vtt/json to the store →
`report` writes the results table and an HTML page under `runs/<run id>/` in the store.

Daily runs over a playlist or channel only spend compute on new videos: finished transcripts are reused.
`TRANSCRIBER_BACKEND=kubernetes` runs each video in its own pod (GPU node pool) instead of on the worker.
Logic lives in `plugins/transcription`; each task below only unpacks its params.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, TriggerRule, dag, get_current_context, task

from transcription import kubernetes
from transcription.options import DECODINGS, MODELS, TASKS, TranscribeOptions

BACKEND = os.environ.get("TRANSCRIBER_BACKEND", "local")  # where transcription runs: local | kubernetes
DEFAULT_URL = "https://www.youtube.com/watch?v=jNQXAC9IVRw"  # "Me at the zoo": 19 s, the first YouTube video
# Updated by every finished report; the event's extra says where: {"report": URI, "run": URI, "run_id", "status"}.
# Downstream: @dag(schedule=[Asset("video_transcription_report")]), then triggering_asset_events in the context.
REPORT_ASSET = Asset("video_transcription_report")


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["whisper", "transcription"],
    doc_md=__doc__,
    default_args={"retries": 2, "retry_exponential_backoff": True,  # for transient trouble: network, 429, 5xx
                  "retry_delay": timedelta(seconds=int(os.environ.get("TRANSCRIBE_RETRY_DELAY", "60")))},
    params={
        "url": Param(DEFAULT_URL, type=["null", "string"], title="URL",
                     description="A video, playlist, channel or podcast feed: anything yt-dlp can open."),
        "urls": Param([], type="array", items={"type": "string"}, title="More URLs", description="One per line."),
        "url_file": Param(None, type=["null", "string"], title="URL file",
                          description="Path or URI (s3://…) of a text file: one URL per line, # comments."),
        "model": Param("tiny", enum=list(MODELS), title="Whisper model"),
        "task": Param("transcribe", enum=list(TASKS), description="translate: into English."),
        "language": Param("auto", type="string", pattern="^(auto|[a-z]{2,3})$",
                          description="auto (detect), or a language code such as en, de, ja."),
        "decoding": Param("batched", enum=list(DECODINGS),
                          description="batched: many 30-s windows at once, cut in pauses (fast). sequential: "
                                      "whisper's transcribe(), each window conditioned on the text before it."),
        "title": Param("Video transcripts", type="string", title="Report title"),
        "min_count": Param(2, type="integer", minimum=1, title="word2vec min count",
                           description="Words rarer than this are left out of the report's word map."),
        "stopwords": Param([], type="array", items={"type": "string"}, title="More stop words",
                           description="Left out of the report's word cloud and word map, besides English and "
                                       "gensim's stop words: one per line."),
        "max_videos": Param(50, type="integer", minimum=1, maximum=1000, description="Per run, newest first."),
        "max_duration": Param(4 * 3600, type=["null", "integer"], minimum=1, title="Max duration (s)",
                              description="Longer videos are skipped, with the reason. Empty: no limit."),
        "force": Param(False, type="boolean", description="Redo transcripts that are already in the store."),
        "whisper_options": Param({}, type="object", title="Whisper options",
                                 description='More whisper.transcribe options, e.g. {"beam_size": 5}.'),
    },
)
def video_transcription():
    @task
    def resolve(params=None, ti=None) -> list[dict]:
        """The videos to map over; the skip records travel beside them, under the XCom key "skipped"."""
        from airflow.sdk.exceptions import AirflowFailException
        from transcription import engine, sources

        try:  # bad options or inputs fail here, before any GPU time, and without retries: they cannot heal
            engine.check_options(TranscribeOptions.from_params(params))
            inputs = sources.read_inputs(params["url"], params["urls"], params["url_file"])
        except ValueError as e:
            raise AirflowFailException(str(e)) from e
        resolution = sources.resolve(inputs, max_videos=params["max_videos"]).as_dict()
        if not resolution["videos"]:
            reasons = "; ".join(f"{s['source']}: {s['reason']}" for s in resolution["skipped"])
            raise AirflowFailException(f"nothing to transcribe, every input was skipped: {reasons}")
        ti.xcom_push(key="skipped", value=resolution["skipped"])
        return resolution["videos"]

    @task(map_index_template="{{ video_title }}",
          max_active_tis_per_dagrun=int(os.environ.get("TRANSCRIBE_CONCURRENCY", "2")))
    def transcribe(video: dict, params=None, run_id=None) -> dict:
        """In-process, on the Airflow worker. A video that cannot be transcribed is skipped, with its reason."""
        from airflow.sdk.exceptions import AirflowSkipException
        from transcription.errors import Unavailable
        from transcription.pipeline import transcribe_video
        from transcription.store import Store

        get_current_context()["video_title"] = video["title"][:250]  # Airflow stores the map index in 250 chars
        try:
            return transcribe_video(video, TranscribeOptions.from_params(params), store=Store(), run_id=run_id,
                                    force=params["force"], max_duration=params["max_duration"])
        except Unavailable as e:
            raise AirflowSkipException(str(e)) from e

    @task
    def pod_requests(videos: list[dict], params=None, run_id=None) -> list[dict]:
        """Per pod (one video, or $TRANSCRIBER_VIDEOS_PER_POD), its command line and the labels that name it."""
        from transcription.store import Store

        return kubernetes.pod_requests(videos, TranscribeOptions.from_params(params), store=Store().url,
                                       run_id=run_id, force=params["force"], max_duration=params["max_duration"],
                                       per_pod=kubernetes.PodSettings.from_env().videos_per_pod)

    # all_done: failed and skipped videos are listed, not hidden. No retries: the report is cheap to re-run, and
    # what makes it fail (resolve failed, so there is nothing to list) is not healed by waiting.
    @task(trigger_rule=TriggerRule.ALL_DONE, retries=0, outlets=[REPORT_ASSET])
    def report(videos: list, skipped: list, params=None, run_id=None, outlet_events=None) -> str:
        from transcription import report, sources
        from transcription.store import Store

        store = Store()
        resolution = sources.Resolution.from_dict({"videos": videos, "skipped": skipped})
        outcome = report.write(store, run_id, resolution, store.run_results(run_id),
                               options=TranscribeOptions.from_params(params), title=params["title"],
                               min_count=params["min_count"], stopwords=params["stopwords"])
        outlet_events[REPORT_ASSET].extra = {"report": outcome["report"], "run": store.uri(outcome["run"]),
                                             "run_id": run_id, "status": outcome["status"]}
        print(f"Report: {outcome['report']}")
        return outcome["report"]

    videos = resolve()
    if BACKEND == "kubernetes":  # one pod per video on the GPU node pool, running images/transcriber
        transcribed = kubernetes.transcribe_operator().expand_kwargs(pod_requests(videos))
    else:
        transcribed = transcribe.expand(video=videos)
    transcribed >> report(videos, videos["skipped"])


video_transcription()
