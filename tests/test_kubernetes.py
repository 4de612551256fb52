"""The Kubernetes backend: the pods the DAG renders, in full, built by the provider's own pod-building code."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import threading

import pandas as pd
import pytest

from conftest import FAST, ROOT
from transcription import cli, kubernetes, offline
from transcription.options import TranscribeOptions
from transcription.store import Store

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
    "TRANSCRIBER_GET_LOGS": "false",
    "TRANSCRIBER_BATCH_SIZE": "24",
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
    from kubernetes.client import ApiClient

    operator = mapped.operator_class(task_id=mapped.task_id, **mapped.partial_kwargs, **request)
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

    assert issubclass(transcribe_task.operator_class, KubernetesPodOperator)
    assert not {"arguments", "labels", "annotations"} & set(transcribe_task.operator_class.template_fields)
    assert transcribe_task.max_active_tis_per_dagrun == 4
    assert transcribe_task.upstream_task_ids == {"pod_requests"}


@pytest.mark.parametrize("video", VIDEOS, ids=["youtube", "hostile-title"])
def test_rendered_pod_in_full(transcribe_task, video):
    request = kubernetes.pod_request([video], OPTIONS, store="s3://transcripts/whisper", run_id="manual__1", force=True)
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
    assert container["env"] == [{"name": "WHISPER_BATCH_SIZE", "value": "24"}]
    assert spec["serviceAccountName"] == "transcriber"
    assert spec["imagePullSecrets"] == [{"name": "registry-creds"}]
    assert spec["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["restartPolicy"] == "Never"
    assert SECRET not in json.dumps(pod)  # credentials reach the pod through the Secret, never the spec


def test_pod_arguments_are_the_local_call(transcribe_task):
    """One code path, two launchers: the pod's command line parses back into the in-process call's arguments."""
    for video in VIDEOS:
        request = kubernetes.pod_request([video], OPTIONS, store="s3://b/p", run_id="manual__1", force=True)
        args = cli.parser().parse_args(request["arguments"])
        assert args.command == "transcribe" and args.videos == [video]
        assert cli.options_from(args) == OPTIONS
        assert (args.store, args.run_id, args.force) == ("s3://b/p", "manual__1", True)
    plain = cli.parser().parse_args(cli.transcribe_arguments([VIDEOS[0]], TranscribeOptions(), store="/s"))
    assert cli.options_from(plain) == TranscribeOptions() and not plain.force and plain.run_id is None


def _namespace(core_api, name: str) -> None:
    """The namespace on the session's API server, whichever test asks first."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        core_api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    except ApiException as e:
        if e.status != 409:  # 409: it exists
            raise


def test_a_pod_can_take_several_videos(transcribe_task, core_api):
    """TRANSCRIBER_VIDEOS_PER_POD: the videos go to one transcriber call, which batches their windows together."""
    videos = [*VIDEOS, {**VIDEOS[0], "id": "another", "title": "Another"}]
    requests = kubernetes.pod_requests(videos, OPTIONS, store="s3://b/p", run_id="manual__1", force=False, per_pod=2)
    assert [cli.parser().parse_args(r["arguments"]).videos for r in requests] == [videos[:2], videos[2:]]
    grouped = requests[0]
    assert grouped["annotations"] == {"whisper-airflow/title": "Me at the zoo (+1 more)",
                                      "whisper-airflow/videos": f"youtube/jNQXAC9IVRw generic/{VIDEOS[1]['id']}"}
    assert grouped["labels"]["whisper-airflow/videos"] == "2" and "whisper-airflow/video-id" not in grouped["labels"]
    assert requests[1]["labels"]["whisper-airflow/video-id"] == "another"  # a pod of one is labelled as ever
    _namespace(core_api, "transcription")
    accepted = core_api.create_namespaced_pod("transcription", render(transcribe_task, grouped), dry_run="All")
    assert accepted.spec.containers[0].args == grouped["arguments"]


def test_label_values_are_valid_kubernetes_labels():
    import re

    for text in ["Ep 1: \"Intro\"~3f2a19c0", "x" * 100, "-leading.and.trailing-", "jNQXAC9IVRw"]:
        value = kubernetes.label_value(text)
        assert re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?", value), value


def test_rendered_pods_pass_a_real_api_servers_validation(transcribe_task, core_api):
    """Server-side dry run: the API server validates and defaults each pod as if creating it, and stores nothing."""
    from kubernetes.client.exceptions import ApiException

    _namespace(core_api, "transcription")
    for video in VIDEOS:
        request = kubernetes.pod_request([video], OPTIONS, store="s3://b/p", run_id="manual__1", force=False)
        pod = render(transcribe_task, request)
        accepted = core_api.create_namespaced_pod("transcription", pod, dry_run="All")
        assert accepted.spec.containers[0].args == request["arguments"]
        assert accepted.spec.containers[0].resources.limits["nvidia.com/gpu"] == "1"
        assert accepted.metadata.annotations["whisper-airflow/title"] == video["title"]
    assert core_api.list_namespaced_pod("transcription").items == []
    # The check is real: the same server refuses a pod whose label breaks Kubernetes' rules.
    pod["metadata"]["labels"]["whisper-airflow/video-id"] = "not a label value!"
    with pytest.raises(ApiException) as refused:
        core_api.create_namespaced_pod("transcription", pod, dry_run="All")
    assert refused.value.status == 422


class Kubelet(threading.Thread):
    """Plays the kubelet the loopback cluster lacks: registers a GPU node, binds each new pod of a namespace to
    it, runs the pod's container command with this project's CLI on this machine, and reports the outcome in the
    pod's status, as a kubelet would."""

    NODE = "gpu-node-0"

    def __init__(self, api, namespace: str, env: dict[str, str]):
        super().__init__(daemon=True)
        self.api, self.namespace, self.env = api, namespace, env
        self.stopped = threading.Event()
        self.pods: dict[str, list[str]] = {}  # pod name → the arguments it ran with
        self.labels: dict[str, dict[str, str]] = {}

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            for pod in self.api.list_namespaced_pod(self.namespace).items:
                if not pod.spec.node_name and not pod.metadata.deletion_timestamp:
                    self.launch(pod)

    def launch(self, pod) -> None:
        from kubernetes import client

        name, (container,) = pod.metadata.name, pod.spec.containers
        self.api.create_namespaced_binding(self.namespace, client.V1Binding(
            metadata=client.V1ObjectMeta(name=name),
            target=client.V1ObjectReference(api_version="v1", kind="Node", name=self.NODE)), _preload_content=False)
        started = dt.datetime.now(dt.UTC).isoformat()
        self.report(pod, "Running", {"running": {"startedAt": started}})
        self.pods[name], self.labels[name] = container.args, pod.metadata.labels
        env = {**self.env, **{e.name: e.value for e in container.env or ()}}
        done = subprocess.run([sys.executable, "-m", "transcription", *container.args], env=env, check=False)
        self.report(pod, "Succeeded" if done.returncode == 0 else "Failed", {"terminated": {
            "exitCode": done.returncode, "reason": "Completed" if done.returncode == 0 else "Error",
            "startedAt": started, "finishedAt": dt.datetime.now(dt.UTC).isoformat()}})

    def report(self, pod, phase: str, state: dict) -> None:
        container = pod.spec.containers[0]
        self.api.patch_namespaced_pod_status(pod.metadata.name, self.namespace, {"status": {
            "phase": phase, "containerStatuses": [{
                "name": container.name, "image": container.image, "imageID": "", "restartCount": 0,
                "ready": phase == "Running", "state": state}]}})


@pytest.fixture
def cluster_run(metadata_db, k8s_env, monkeypatch, core_api, kubeconfig, model_env):
    """Runs the DAG with pods on the real API server, this test playing kubelet: conf → (DAG run, kubelet)."""
    from airflow.dag_processing.dagbag import DagBag
    from kubernetes import client

    def run(namespace: str, conf: dict):
        core_api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        with contextlib.suppress(client.exceptions.ApiException):  # 409: an earlier test registered it
            core_api.create_node(client.V1Node(metadata=client.V1ObjectMeta(name=Kubelet.NODE)))
        monkeypatch.setenv("TRANSCRIBER_NAMESPACE", namespace)
        monkeypatch.setenv("TRANSCRIPTION_STORE", str(model_env))  # the "pods" run here: a local folder serves
        monkeypatch.setenv("AIRFLOW_CONN_KUBERNETES_DEFAULT", json.dumps(
            {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}))
        kubelet = Kubelet(core_api, namespace, env=dict(os.environ))
        kubelet.start()
        try:
            dag = DagBag(dag_folder=str(ROOT / "dags"), safe_mode=False).dags["video_transcription"]
            return dag.test(run_conf=conf), kubelet
        finally:
            kubelet.stopped.set()
            kubelet.join()

    return run


def test_dag_runs_pods_on_a_real_api_server(cluster_run, core_api, model_env, podcast):
    namespace = "whisper-e2e"
    hostile = offline.Episode("hostile", "{{ 7 * 7 }} stays text", "Templates are not code.")
    hostile_feed = offline.write_podcast(podcast.directory / "hostile", f"{podcast.base_url}/hostile", [hostile])
    (podcast.directory / "not-audio.mp3").write_bytes(b"this is not audio at all")
    run, kubelet = cluster_run(namespace, {"url": podcast.feed_url, "whisper_options": FAST,
                                           "urls": [hostile_feed, f"{podcast.base_url}/not-audio.mp3"]})

    assert run.state == "success"
    assert len(kubelet.pods) == 5  # one pod per video, labelled with its DAG run and its video
    for labels in kubelet.labels.values():
        assert labels["dag_id"] == "video_transcription" and labels["task_id"] == "transcribe"
        assert labels["run_id"].startswith("manual__")  # the provider sanitises the run id into a label value
        assert labels["whisper-airflow/extractor"] == "generic" and labels["app.kubernetes.io/part-of"]
    table = pd.read_parquet(model_env / Store().run_dir(run.run_id) / "results.parquet")
    assert table["status"].tolist() == ["done"] * 4 + ["skipped"]
    assert "not audio" in table["reason"].iloc[4]  # the pod recorded why, in the store
    assert all((model_env / folder / "transcript.vtt").exists() for folder in table["transcript"].dropna())
    # Pods that succeeded were deleted (on_finish_action); the one that could not transcribe stays for a look.
    (left,) = core_api.list_namespaced_pod(namespace).items
    assert left.status.container_statuses[0].state.terminated.exit_code == cli.EXIT_UNAVAILABLE
    states = {ti.rendered_map_index: ti.state for ti in run.get_task_instances() if ti.task_id == "transcribe"}
    assert states == {**{e.title: "success" for e in podcast.episodes}, hostile.title: "success",
                      "not-audio": "skipped"}  # exit code 99: skipped, not failed and retried
    # A title is data all the way into the pod: Airflow did not render it as a template (it would read "49").
    (hostile_args,) = [args for args in kubelet.pods.values() if "hostile" in args[2]]
    assert json.loads(hostile_args[2])["title"] == hostile.title


def test_pods_of_several_videos_batch_them_together(cluster_run, monkeypatch, model_env, podcast):
    monkeypatch.setenv("TRANSCRIBER_VIDEOS_PER_POD", "3")
    (podcast.directory / "not-audio.mp3").write_bytes(b"this is not audio at all")
    run, kubelet = cluster_run("whisper-grouped", {"url": podcast.feed_url, "whisper_options": FAST, "force": True,
                                                   "urls": [f"{podcast.base_url}/not-audio.mp3"]})
    assert run.state == "success"
    assert sorted(labels["whisper-airflow/videos"] if "whisper-airflow/videos" in labels else "1"
                  for labels in kubelet.labels.values()) == ["1", "3"]  # 4 videos: a pod of 3, a pod of 1
    table = pd.read_parquet(model_env / Store().run_dir(run.run_id) / "results.parquet")
    assert table["status"].tolist() == ["done"] * 3 + ["skipped"]
    manifests = [json.loads((model_env / folder / "manifest.json").read_text()) for folder in table["transcript"][:3]]
    assert [m["engine"]["batch_videos"] for m in manifests] == [3, 3, 3]  # decoded in shared batches
    states = {ti.rendered_map_index: ti.state for ti in run.get_task_instances() if ti.task_id == "transcribe"}
    assert states == {f"{podcast.episodes[0].title} (+2 more)": "success", "not-audio": "skipped"}
