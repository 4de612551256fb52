"""The Kubernetes backend: the pods the DAG renders, in full, built by the provider's own pod-building code."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT
from transcription import cli, kubernetes
from transcription.options import TranscribeOptions

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"  # a credential the Airflow worker holds; pods must never see it
SETTINGS_ENV = {
    "TRANSCRIBER_BACKEND": "kubernetes",
    "TRANSCRIBER_NAMESPACE": "transcription",
    "TRANSCRIBER_IMAGE": "registry.example.com/whisper-transcriber:1.2.3",
    "TRANSCRIBER_IMAGE_PULL_POLICY": "Always",
    "TRANSCRIBER_IMAGE_PULL_SECRETS": "registry-creds",
    "TRANSCRIBER_SERVICE_ACCOUNT": "transcriber",
    "TRANSCRIBER_GPUS": "1",
    "TRANSCRIBER_CPU_REQUEST": "4",
    "TRANSCRIBER_MEMORY_REQUEST": "12Gi",
    "TRANSCRIBER_MEMORY_LIMIT": "24Gi",
    "TRANSCRIBER_NODE_SELECTOR": json.dumps({"cloud.google.com/gke-accelerator": "nvidia-l4"}),
    "TRANSCRIBER_ENV_FROM_SECRETS": "whisper-s3",
    "TRANSCRIBER_STARTUP_TIMEOUT": "1200",
    "TRANSCRIBER_CONCURRENCY": "4",
    "TRANSCRIPTION_STORE": "s3://transcripts/whisper",
    "AWS_SECRET_ACCESS_KEY": SECRET,
}
VIDEOS = [
    {"extractor": "youtube", "id": "jNQXAC9IVRw", "url": "https://www.youtube.com/watch?v=jNQXAC9IVRw",
     "title": "Me at the zoo", "webpage_url": "https://www.youtube.com/watch?v=jNQXAC9IVRw", "duration": 19.0,
     "uploader": "jawed", "upload_date": "20050424", "live_status": "not_live", "source": "https://youtu.be/x"},
    {"extractor": "generic", "id": "Ep 1: \"Intro\"~3f2a19c0", "url": "https://cdn.test/ep1.mp3",
     "title": "{{ conn.aws_default.password }} <b>", "webpage_url": "https://cdn.test/ep1.mp3", "duration": None,
     "uploader": None, "upload_date": None, "live_status": None, "source": "https://cdn.test/feed.xml"},
]
OPTIONS = TranscribeOptions(model="large-v3", task="translate", language="de", whisper_options={"beam_size": 5})


@pytest.fixture
def k8s_env(monkeypatch):
    for name, value in SETTINGS_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def transcribe_task(k8s_env):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"), safe_mode=False)
    assert bag.import_errors == {}
    return bag.dags["video_transcription"].get_task("transcribe")


def render(mapped, request: dict) -> dict:
    """The pod one mapped instance creates, as the JSON the API server receives."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import ApiClient

    operator = KubernetesPodOperator(task_id=mapped.task_id, **mapped.partial_kwargs, **request)
    return ApiClient().sanitize_for_serialization(operator.build_pod_request_obj(dry_run=True))


def test_settings_come_from_the_environment(k8s_env):
    settings = kubernetes.PodSettings.from_env()
    assert settings.image == "registry.example.com/whisper-transcriber:1.2.3"
    assert settings.image_pull_secrets == ("registry-creds",) and settings.env_from_secrets == ("whisper-s3",)
    assert settings.resources() == {"requests": {"cpu": "4", "memory": "12Gi"},
                                    "limits": {"memory": "24Gi", "nvidia.com/gpu": "1"}}
    assert settings.pod_tolerations() == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_cpu_only_variant_asks_for_no_gpu(monkeypatch, k8s_env):
    monkeypatch.setenv("TRANSCRIBER_GPUS", "0")
    settings = kubernetes.PodSettings.from_env()
    assert "nvidia.com/gpu" not in settings.resources()["limits"] and settings.pod_tolerations() == []


def test_dag_switches_to_one_pod_per_video(transcribe_task):
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    assert transcribe_task.operator_class is KubernetesPodOperator or issubclass(
        transcribe_task.operator_class, KubernetesPodOperator)
    assert transcribe_task.max_active_tis_per_dagrun == 4
    assert transcribe_task.upstream_task_ids == {"pod_requests"}


@pytest.mark.parametrize("video", VIDEOS, ids=["youtube", "hostile-title"])
def test_rendered_pod_in_full(transcribe_task, video):
    request = kubernetes.pod_request(video, OPTIONS, store="s3://transcripts/whisper", run_id="manual__1", force=True)
    pod = render(transcribe_task, request)
    spec, (container,) = pod["spec"], pod["spec"]["containers"]  # one container: no xcom sidecar

    assert pod["metadata"]["namespace"] == "transcription"
    assert pod["metadata"]["name"].startswith("transcribe-")
    labels = pod["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "whisper-transcriber"
    assert labels["whisper-airflow/extractor"] == video["extractor"]
    assert labels["whisper-airflow/video-id"] == kubernetes.label_value(video["id"])
    assert pod["metadata"]["annotations"] == {"whisper-airflow/title": video["title"],
                                              "whisper-airflow/url": video["webpage_url"]}

    assert container["image"] == "registry.example.com/whisper-transcriber:1.2.3"
    assert container["imagePullPolicy"] == "Always"
    assert container["args"] == request["arguments"]
    assert container["resources"] == {"requests": {"cpu": "4", "memory": "12Gi"},
                                      "limits": {"memory": "24Gi", "nvidia.com/gpu": "1"}}
    assert container["envFrom"] == [{"secretRef": {"name": "whisper-s3"}}]
    assert spec["serviceAccountName"] == "transcriber"
    assert spec["imagePullSecrets"] == [{"name": "registry-creds"}]
    assert spec["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["restartPolicy"] == "Never"
    assert SECRET not in json.dumps(pod)  # credentials reach the pod through the Secret, never the spec


def test_pod_arguments_are_the_local_call(transcribe_task):
    """One code path, two launchers: the pod's command line parses back into the in-process call's arguments."""
    for video in VIDEOS:
        request = kubernetes.pod_request(video, OPTIONS, store="s3://b/p", run_id="manual__1", force=True)
        args = cli.parser().parse_args(request["arguments"])
        assert args.command == "transcribe" and args.video == video
        assert cli.options_from(args) == OPTIONS
        assert (args.store, args.run_id, args.force) == ("s3://b/p", "manual__1", True)
    plain = cli.parser().parse_args(cli.transcribe_arguments(VIDEOS[0], TranscribeOptions(), store="/s"))
    assert cli.options_from(plain) == TranscribeOptions() and not plain.force and plain.run_id is None


def test_label_values_are_valid_kubernetes_labels():
    import re

    for text in ["Ep 1: \"Intro\"~3f2a19c0", "x" * 100, "-leading.and.trailing-", "jNQXAC9IVRw"]:
        value = kubernetes.label_value(text)
        assert re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", value), value
