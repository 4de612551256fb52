"""The Kubernetes launcher: one pod per video (or per few), running the transcriber image's CLI (`transcribe`).

Everything a cluster operator sets comes from environment variables (read when the DAG is parsed), so no code is
edited to deploy. This is the package's one adapter to Airflow, and it imports the provider only when a DAG asks for
the operator. The pod records its result in the store (runs/<run>/results/), like the in-process launcher, rather
than through the xcom sidecar: no second container per pod, no `pods/exec` permission, and the store is where the
report reads transcripts anyway.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Sequence
from typing import Any

from transcription import cli
from transcription.options import TranscribeOptions

GPU_RESOURCE = "nvidia.com/gpu"
APP_LABELS = {"app.kubernetes.io/name": "whisper-transcriber", "app.kubernetes.io/part-of": "whisper-airflow"}


def _env(name: str, default: str) -> str:
    return os.environ.get(f"TRANSCRIBER_{name}", default)


def _flag(name: str, default: bool) -> bool:
    return _env(name, str(default)).lower() in ("1", "true", "yes")


def _json_env(name: str, default: Any) -> Any:
    value = os.environ.get(f"TRANSCRIBER_{name}")
    return json.loads(value) if value else default


@dataclasses.dataclass(frozen=True)
class PodSettings:
    """The pod's shape; each field is $TRANSCRIBER_<FIELD NAME IN CAPITALS>, JSON for the structured ones."""

    namespace: str = "default"
    image: str = "whisper-transcriber:latest"
    image_pull_policy: str = "IfNotPresent"
    image_pull_secrets: tuple[str, ...] = ()
    service_account: str | None = None  # e.g. one with an IAM role for S3 (IRSA, workload identity)
    gpus: int = 1  # 0: the CPU-only variant, for small models or clusters without GPUs
    cpu_request: str = "2"
    cpu_limit: str | None = None
    memory_request: str = "8Gi"
    memory_limit: str = "16Gi"
    node_selector: dict[str, str] = dataclasses.field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] | None = None  # None: tolerate nvidia.com/gpu taints when gpus > 0
    affinity: dict[str, Any] = dataclasses.field(default_factory=dict)
    env_from_secrets: tuple[str, ...] = ()  # Secrets whose keys become env vars (AWS_ACCESS_KEY_ID, ...)
    startup_timeout: int = 900  # seconds: a GPU node pool may have to scale up from zero
    on_finish_action: str = "delete_succeeded_pod"  # failed pods stay for `kubectl describe`
    deferrable: bool = False  # wait in the triggerer instead of a worker slot
    get_logs: bool = True  # stream the pod's log into the task's log (needs pods/log access)
    kubernetes_conn_id: str = "kubernetes_default"
    concurrency: int = 8  # pods at once per DAG run; size it to the GPU node pool
    pool: str | None = None  # an Airflow pool shared by all runs, e.g. sized to the node pool's GPUs
    videos_per_pod: int = 1  # > 1: a pod transcribes several videos, their windows in shared batches (fills a
    # large GPU with short videos; a failure retries the pod's unfinished videos)
    batch_size: int | None = None  # windows per batch ($WHISPER_BATCH_SIZE in the pod); None: from free GPU memory

    @classmethod
    def from_env(cls) -> PodSettings:
        default = cls()
        split = lambda text: tuple(p.strip() for p in text.split(",") if p.strip())  # noqa: E731
        tolerations = _json_env("TOLERATIONS", None)
        return cls(
            namespace=_env("NAMESPACE", default.namespace),
            image=_env("IMAGE", default.image),
            image_pull_policy=_env("IMAGE_PULL_POLICY", default.image_pull_policy),
            image_pull_secrets=split(_env("IMAGE_PULL_SECRETS", "")),
            service_account=_env("SERVICE_ACCOUNT", "") or None,
            gpus=int(_env("GPUS", str(default.gpus))),
            cpu_request=_env("CPU_REQUEST", default.cpu_request),
            cpu_limit=_env("CPU_LIMIT", "") or None,
            memory_request=_env("MEMORY_REQUEST", default.memory_request),
            memory_limit=_env("MEMORY_LIMIT", default.memory_limit),
            node_selector=_json_env("NODE_SELECTOR", {}),
            tolerations=None if tolerations is None else tuple(tolerations),
            affinity=_json_env("AFFINITY", {}),
            env_from_secrets=split(_env("ENV_FROM_SECRETS", "")),
            startup_timeout=int(_env("STARTUP_TIMEOUT", str(default.startup_timeout))),
            on_finish_action=_env("ON_FINISH_ACTION", default.on_finish_action),
            deferrable=_flag("DEFERRABLE", default.deferrable),
            get_logs=_flag("GET_LOGS", default.get_logs),
            kubernetes_conn_id=_env("KUBERNETES_CONN_ID", default.kubernetes_conn_id),
            concurrency=int(_env("CONCURRENCY", str(default.concurrency))),
            pool=_env("POOL", "") or None,
            videos_per_pod=int(_env("VIDEOS_PER_POD", str(default.videos_per_pod))),
            batch_size=int(_env("BATCH_SIZE", "0")) or None,
        )

    def resources(self) -> dict[str, dict[str, str]]:
        requests = {"cpu": self.cpu_request, "memory": self.memory_request}
        limits = {"memory": self.memory_limit} | ({"cpu": self.cpu_limit} if self.cpu_limit else {})
        if self.gpus:
            limits[GPU_RESOURCE] = str(self.gpus)  # extended resources: limits only (requests default to them)
        return {"requests": requests, "limits": limits}

    def pod_tolerations(self) -> list[dict[str, Any]]:
        if self.tolerations is not None:
            return list(self.tolerations)
        return [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}] if self.gpus else []


def label_value(text: str) -> str:
    """A Kubernetes label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:63].strip("._-")


def pod_requests(videos: Sequence[dict[str, Any]], options: TranscribeOptions, *, per_pod: int = 1,
                 **call: Any) -> list[dict[str, Any]]:
    """The mapped pods' keyword arguments: `per_pod` videos each, in the order given; `call`: pod_request's."""
    return [pod_request(videos[i:i + per_pod], options, **call) for i in range(0, len(videos), per_pod)]


def pod_request(
    videos: Sequence[dict[str, Any]],
    options: TranscribeOptions,
    *,
    store: str,
    run_id: str,
    force: bool,
    max_duration: float | None = None,
) -> dict[str, Any]:
    """One mapped pod's own keyword arguments: the CLI call, and labels/annotations that name its video(s).

    The operator does not render these fields as templates (see TranscriberPodOperator): a title such as
    "{{ conn.aws.password }}" stays text. Labels are all here, not partly in `partial()`: the two would collide.
    """
    first, more = videos[0], len(videos) - 1
    if more:
        labels = {"whisper-airflow/videos": str(len(videos))}
        annotations = {"whisper-airflow/title": f"{first['title']} (+{more} more)",
                       "whisper-airflow/videos": " ".join(f"{v['extractor']}/{v['id']}" for v in videos)}
    else:
        labels = {"whisper-airflow/extractor": label_value(first["extractor"]),
                  "whisper-airflow/video-id": label_value(first["id"])}
        annotations = {"whisper-airflow/title": first["title"], "whisper-airflow/url": first["webpage_url"]}
    return {
        "arguments": cli.transcribe_arguments(videos, options, store=store, run_id=run_id, force=force,
                                              max_duration=max_duration),
        "labels": {**APP_LABELS, **labels},
        "annotations": annotations,
    }


def transcribe_operator(settings: PodSettings | None = None, **task_args: Any):
    """The mapped transcribe step as KubernetesPodOperator.partial(...): expand it with `pod_request` dicts."""
    from kubernetes.client import models as k8s

    from transcription.kubernetes_operator import TranscriberPodOperator

    settings = settings or PodSettings.from_env()
    return TranscriberPodOperator.partial(
        task_id="transcribe",
        name="transcribe",  # + a random suffix per pod
        namespace=settings.namespace,
        image=settings.image,
        image_pull_policy=settings.image_pull_policy,
        image_pull_secrets=[k8s.V1LocalObjectReference(name=s) for s in settings.image_pull_secrets],
        service_account_name=settings.service_account,
        container_resources=k8s.V1ResourceRequirements(**settings.resources()),
        node_selector=settings.node_selector,
        tolerations=[k8s.V1Toleration(**t) for t in settings.pod_tolerations()],
        affinity=settings.affinity or None,
        env_from=[k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name=s)) for s in settings.env_from_secrets],
        env_vars=[k8s.V1EnvVar(name="WHISPER_BATCH_SIZE", value=str(settings.batch_size))] if settings.batch_size
        else None,
        startup_timeout_seconds=settings.startup_timeout,
        on_finish_action=settings.on_finish_action,
        deferrable=settings.deferrable,
        kubernetes_conn_id=settings.kubernetes_conn_id,
        do_xcom_push=False,
        skip_on_exit_code=cli.EXIT_UNAVAILABLE,  # the video cannot be transcribed: skipped, not retried
        get_logs=settings.get_logs,
        max_active_tis_per_dagrun=settings.concurrency,
        pool=settings.pool or "default_pool",
        map_index_template="{{ task.annotations['whisper-airflow/title'][:250] }}",
        **task_args,
    )
