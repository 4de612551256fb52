"""Deployment files, checked offline (no Docker engine in CI): docker-compose.yaml and its Kubernetes override against
the Compose Specification's JSON schema and against what the stack must do; the transcriber Dockerfile statically
(non-root, entrypoint, CUDA torch pin, baked models, and an image requirement list that covers every module the
CLI imports); .dockerignore with Docker's own matching rules.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import re
import shlex
import sys
import urllib.parse
from pathlib import Path

import jsonschema
import pytest
import yaml
from dockerfile_parse import DockerfileParser
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yaml"
KUBERNETES_OVERRIDE = ROOT / "docker-compose.kubernetes.yaml"
TRANSCRIBER = ROOT / "images" / "transcriber"
DOCKERFILES = [TRANSCRIBER / "Dockerfile", ROOT / "images" / "airflow" / "Dockerfile"]
AIRFLOW_COMPONENTS = {  # service → the `airflow` command it runs
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}
AIRFLOW_SERVICES = [*AIRFLOW_COMPONENTS, "airflow-init"]


# -- Compose: interpolation as `docker compose` does it, for the forms these files use -----------------------------
_VARIABLE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?-)([^}]*))?\}|(\w+))")


def interpolate(value, env: dict[str, str]):
    """${VAR}, ${VAR:-default}, ${VAR-default}, $VAR and $$ (a literal $), through the whole document."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def replace(m: re.Match) -> str:
        dollar, name, op, default, bare = m.groups()
        if dollar:
            return "$"
        if bare:
            return env.get(bare, "")
        if op == ":-" and not env.get(name):
            return default
        if op == "-" and name not in env:
            return default
        return env.get(name, "")

    return _VARIABLE.sub(replace, value)


def load_compose(path: Path, env: dict[str, str] | None = None) -> dict:
    return interpolate(yaml.safe_load(path.read_text()), env or {})


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def bind_mounts(service: dict) -> dict[str, str]:
    """container path → host path, for the short `host:container[:mode]` syntax."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        mounts[target] = source
    return mounts


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose(COMPOSE)


@pytest.fixture(scope="module")
def compose_validator():
    schema = json.loads((ROOT / "tests" / "fixtures" / "compose-spec.json").read_text())
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)


@pytest.mark.parametrize("path", [COMPOSE, KUBERNETES_OVERRIDE], ids=lambda p: p.name)
def test_compose_files_follow_the_compose_specification(path, compose_validator):
    raw = yaml.safe_load(path.read_text())
    errors = [*compose_validator.iter_errors(raw), *compose_validator.iter_errors(interpolate(raw, {}))]
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_vendored_schema_rejects_what_compose_rejects(compose_validator, compose):
    """The schema is real, not a permissive stand-in: a misspelt key and a bad depends_on condition both fail."""
    broken = json.loads(json.dumps(compose))
    broken["services"]["postgres"]["healthcheck"]["intervall"] = "5s"
    assert not compose_validator.is_valid(broken)
    broken = json.loads(json.dumps(compose))
    broken["services"]["airflow-scheduler"]["depends_on"]["postgres"]["condition"] = "service_ready"
    assert not compose_validator.is_valid(broken)


def test_airflow_runs_every_component_of_airflow_3_on_the_local_executor(compose):
    services = compose["services"]
    for name, command in AIRFLOW_COMPONENTS.items():
        assert services[name]["command"] == command
        assert environment(services[name])["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert services[name]["build"]["dockerfile"] == "images/airflow/Dockerfile"
    assert (ROOT / services["airflow-scheduler"]["build"]["context"] / "images/airflow/Dockerfile").is_file()
    init = services["airflow-init"]
    assert environment(init)["_AIRFLOW_DB_MIGRATE"] == "true"
    assert environment(init)["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert environment(init)["_AIRFLOW_WWW_USER_USERNAME"] and environment(init)["_AIRFLOW_WWW_USER_PASSWORD"]


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_every_airflow_service_mounts_the_dags_and_plugins_of_this_repository(compose, service):
    mounts = bind_mounts(compose["services"][service])
    assert (ROOT / mounts["/opt/airflow/dags"]).resolve() == ROOT / "dags"
    assert (ROOT / mounts["/opt/airflow/plugins"]).resolve() == ROOT / "plugins"
    assert (ROOT / mounts["/opt/airflow/plugins"] / "transcription" / "pipeline.py").is_file()


def test_postgres_is_the_metadata_database(compose):
    services = compose["services"]
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")
    pg = environment(postgres)
    for service in AIRFLOW_SERVICES:
        url = urllib.parse.urlsplit(environment(services[service])["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert url.scheme.startswith("postgresql")
        assert (url.hostname, url.username, url.password, url.path.lstrip("/")) == (
            "postgres", pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])


@pytest.mark.parametrize("env", [{}, {"MINIO_ROOT_USER": "someone", "MINIO_ROOT_PASSWORD": "a-long-secret"}],
                         ids=["defaults", "from-.env"])
def test_the_transcript_store_is_a_bucket_that_minio_creates(env):
    services = load_compose(COMPOSE, env)["services"]
    minio = environment(services["minio"])
    store = urllib.parse.urlsplit(environment(services["airflow-scheduler"])["TRANSCRIPTION_STORE"])
    assert store.scheme == "s3" and store.netloc
    bucket = store.netloc

    creator = services["minio-create-bucket"]
    assert creator["depends_on"]["minio"]["condition"] == "service_healthy"
    script = " ".join(creator["command"])
    assert re.search(rf"mc mb (--ignore-existing )?local/{re.escape(bucket)}\b", script)
    assert "mc alias set local http://minio:9000 " in script

    for service in AIRFLOW_SERVICES:
        worker = environment(services[service])
        assert worker["TRANSCRIPTION_STORE"] == f"s3://{bucket}{store.path}"
        assert worker["AWS_ENDPOINT_URL"] == "http://minio:9000"
        assert (worker["AWS_ACCESS_KEY_ID"], worker["AWS_SECRET_ACCESS_KEY"]) == (
            minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"])
        depends = services[service]["depends_on"]
        assert depends["minio-create-bucket"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
    assert services["minio"]["command"][:2] == ["server", "/data"]


def test_the_store_reaches_minio_path_style_with_the_compose_environment(monkeypatch, compose):
    """s3fs takes the endpoint from AWS_ENDPOINT_URL and addresses MinIO path-style (http://minio:9000/bucket/key):
    MinIO without a configured domain serves no virtual-hosted buckets. A signed URL shows it without a server."""
    from transcription.store import Store

    worker = environment(compose["services"]["airflow-scheduler"])
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    for name in ("TRANSCRIPTION_STORE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, worker[name])
    store = Store(skip_instance_cache=True)
    assert store.uri() == worker["TRANSCRIPTION_STORE"]
    url = urllib.parse.urlsplit(store.fs.url(store.path("videos/youtube/x/tiny/manifest.json")))
    bucket_and_prefix = worker["TRANSCRIPTION_STORE"].removeprefix("s3://")
    assert f"{url.scheme}://{url.netloc}" == "http://minio:9000"
    assert url.path == f"/{bucket_and_prefix}/videos/youtube/x/tiny/manifest.json"
    assert dict(urllib.parse.parse_qsl(url.query))["AWSAccessKeyId"] == worker["AWS_ACCESS_KEY_ID"]


def test_services_start_in_order_behind_healthchecks(compose):
    services = compose["services"]
    for name in [*AIRFLOW_COMPONENTS, "postgres", "minio"]:
        assert services[name]["healthcheck"]["test"], name
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], (name, dependency)
            if rule["condition"] == "service_completed_successfully":  # one-shots must not be restarted
                assert services[dependency].get("restart", "no") == "no", (name, dependency)
    for name in AIRFLOW_COMPONENTS:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"
    # the dag-processor's and triggerer's checks name their own job type
    assert "DagProcessorJob" in " ".join(services["airflow-dag-processor"]["healthcheck"]["test"])
    assert "TriggererJob" in " ".join(services["airflow-triggerer"]["healthcheck"]["test"])


def test_transcription_runs_in_process_unless_the_kubernetes_override_is_added(compose):
    override = load_compose(KUBERNETES_OVERRIDE)
    for name in AIRFLOW_COMPONENTS:
        assert environment(compose["services"][name])["TRANSCRIBER_BACKEND"] == "local"
        assert "KUBECONFIG" not in environment(compose["services"][name])
    assert set(override["services"]) == set(AIRFLOW_COMPONENTS)  # the init service needs no cluster
    for name, service in override["services"].items():
        env = environment(service)
        assert env["TRANSCRIBER_BACKEND"] == "kubernetes"
        mounts = {volume.split(":")[1]: volume for volume in service["volumes"]}
        assert env["KUBECONFIG"] in mounts, name
        source, _, mode = mounts[env["KUBECONFIG"]].split(":")
        assert source == "~/.kube/config" and mode == "ro"
    custom = load_compose(KUBERNETES_OVERRIDE, {"KUBECONFIG_FILE": "/srv/kind.yaml"})
    assert bind_mounts(custom["services"]["airflow-scheduler"])["/opt/airflow/.kube/config"] == "/srv/kind.yaml"


def test_kubernetes_override_sets_what_the_dag_reads(monkeypatch):
    """The override's TRANSCRIBER_* variables are the ones PodSettings reads, and reach the rendered pod."""
    from transcription.kubernetes import PodSettings

    env = environment(load_compose(KUBERNETES_OVERRIDE, {"TRANSCRIBER_IMAGE": "registry.test/t:7"})[
        "services"]["airflow-dag-processor"])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = PodSettings.from_env()
    assert settings.image == "registry.test/t:7" and settings.env_from_secrets == ("whisper-s3",)
    assert settings.gpus == 1 and settings.namespace == "default"


# -- The transcriber image ------------------------------------------------------------------------------------------
def instructions(path: Path) -> list[tuple[str, str]]:
    return [(i["instruction"], i["value"]) for i in DockerfileParser(path=str(path)).structure
            if i["instruction"] != "COMMENT"]


def arg_defaults(path: Path) -> dict[str, str]:
    defaults = {}
    for instruction, value in instructions(path):
        if instruction == "ARG" and "=" in value:
            name, default = value.split("=", 1)
            defaults[name] = shlex.split(default)[0] if default.strip() else ""
    return defaults


def runs(path: Path) -> list[str]:
    return [value for instruction, value in instructions(path) if instruction == "RUN"]


def pip_installs(path: Path) -> list[list[str]]:
    """The argument lists of every `pip install` in the Dockerfile's RUN instructions."""
    found = []
    for run in runs(path):
        for command in re.split(r"&&|;", run):
            words = shlex.split(command.replace("\\\n", " "))
            if words[:2] == ["pip", "install"]:
                found.append(words[2:])
    return found


def image_requirements() -> dict[str, Requirement]:
    requirements = {}
    for line in (TRANSCRIBER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            requirements[canonicalize_name(requirement.name)] = requirement
    return requirements


def pinned(requirement: Requirement) -> str:
    (spec,) = requirement.specifier
    assert spec.operator == "==", requirement
    return spec.version


DOCKERFILE = TRANSCRIBER / "Dockerfile"


def test_the_image_is_cuda_based_and_its_torch_is_the_cuda_build_of_2_13_0():
    args = arg_defaults(DOCKERFILE)
    assert [value for kind, value in instructions(DOCKERFILE) if kind == "FROM"] == ["${CUDA_BASE_IMAGE}"]
    base_image = DockerfileParser(path=str(DOCKERFILE)).baseimage  # the ARG's default, substituted
    assert base_image == args["CUDA_BASE_IMAGE"]
    base = re.fullmatch(r"nvidia/cuda:(\d+)\.(\d+)\.\d+-(base|runtime|cudnn-runtime)-ubuntu(\d\d\.\d\d)", base_image)
    assert base and base[4] >= "22.04", args["CUDA_BASE_IMAGE"]
    version = re.fullmatch(r"2\.13\.0\+cu(\d+)", args["TORCH_VERSION"])
    assert version, args["TORCH_VERSION"]
    assert args["TORCH_INDEX_URL"] == f"https://download.pytorch.org/whl/cu{version[1]}"
    assert version[1][:-1] == base[1], "the base image's CUDA major must match torch's cuXXX build"
    torch_installs = [a for a in pip_installs(DOCKERFILE) if "torch==${TORCH_VERSION}" in a]
    assert torch_installs and all("--index-url" not in a or a[a.index("--index-url") + 1] == "$TORCH_INDEX_URL"
                                  for a in torch_installs)
    assert any("--index-url" in a for a in torch_installs)
    # the same torch as the rest of the project, and no other pin of it in the image's list
    constraints = pins(ROOT / "constraints.txt")
    assert constraints["torch"] == "2.13.0"
    assert "torch" not in image_requirements()


def test_the_image_runs_the_transcription_cli_as_a_non_root_user():
    steps = instructions(DOCKERFILE)
    kinds = [kind for kind, _ in steps]
    entrypoint = kinds.index("ENTRYPOINT")
    users = [value for kind, value in steps[:entrypoint] if kind == "USER"]
    assert users, "no USER before ENTRYPOINT: the image would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and user.isdigit(), "numeric, so that runAsNonRoot can check it"
    assert json.loads(steps[entrypoint][1]) in (["python", "-m", "transcription"], ["transcription"])
    assert "WORKDIR" in kinds
    env = " ".join(value for kind, value in steps if kind == "ENV")
    assert "PYTHONUNBUFFERED=1" in env
    assert re.search(r"WHISPER_CACHE_DIR=/opt/\S+", env)
    # the home and the model folder belong to that user (install -d -o UID)
    assert any(re.search(rf"install -d -o {user} -g {user} /opt/whisper-models", run) for run in runs(DOCKERFILE))


def test_whisper_models_named_at_build_time_are_baked_into_the_cache_dir():
    steps = instructions(DOCKERFILE)
    assert "WHISPER_MODELS" in arg_defaults(DOCKERFILE) and arg_defaults(DOCKERFILE)["WHISPER_MODELS"] == ""
    arg_at = steps.index(("ARG", 'WHISPER_MODELS=""'))
    bake = [value for kind, value in steps[arg_at:] if kind == "RUN" and "bake_models.py" in value]
    assert bake and "$WHISPER_CACHE_DIR" in bake[0] and "$WHISPER_MODELS" in bake[0]
    assert steps.index(("USER", "10001:10001")) < arg_at, "baked as the user: no chown layer of gigabytes"


def test_bake_models_uses_whispers_own_download_once_per_model(monkeypatch, tmp_path):
    import whisper

    spec = importlib.util.spec_from_file_location("bake_models", TRANSCRIBER / "bake_models.py")
    bake_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bake_models)
    calls = []
    monkeypatch.setattr(whisper, "_download",
                        lambda url, root, in_memory: calls.append((url, root, in_memory)) or f"{root}/x.pt")
    bake_models.bake(str(tmp_path), ["turbo", "tiny", "turbo"])
    assert calls == [(whisper._MODELS["turbo"], str(tmp_path), False), (whisper._MODELS["tiny"], str(tmp_path), False)]
    with pytest.raises(SystemExit, match="unknown whisper model.*large-v9"):
        bake_models.bake(str(tmp_path), ["large-v9"])
    bake_models.bake(str(tmp_path), [])  # the default: nothing baked, nothing downloaded
    assert len(calls) == 2


def test_ffmpeg_and_a_javascript_runtime_for_yt_dlp_are_installed():
    assert any(re.search(r"apt-get install[^&]*\bffmpeg\b", run) for run in runs(DOCKERFILE))
    requirements = image_requirements()
    assert int(pinned(requirements["deno"]).split(".")[0]) >= 2  # yt-dlp's YouTube support needs Deno >= 2
    assert "deno" in requirements["yt-dlp"].extras and "default" in requirements["yt-dlp"].extras
    assert "yt-dlp-ejs" in requirements  # the challenge solver that the runtime executes
    assert any("deno --version" in run for run in runs(DOCKERFILE))


def test_airflow_stays_out_of_the_transcriber_image():
    installs = pip_installs(DOCKERFILE)
    assert installs
    for args in installs:
        for i, arg in enumerate(args):
            if arg == "-r":
                assert args[i + 1].endswith("requirements-transcriber.txt"), args  # never the bundle's list
    package = [args for args in installs if "/tmp/build/src" in args]
    assert package and "--no-deps" in package[0]
    assert not [name for name in image_requirements() if name.startswith("apache-airflow")]


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            found[canonicalize_name(requirement.name)] = pinned(requirement)
    return found


def test_image_requirements_are_pinned_to_the_projects_versions():
    constraints = pins(ROOT / "constraints.txt")
    for name, requirement in image_requirements().items():
        assert pinned(requirement) == constraints.get(name), name
    # yt-dlp pins its own helpers (its `pin` and `pin-deno` extras): the project follows those pins.
    yt_dlp_pins = {}
    for line in importlib.metadata.requires("yt-dlp"):
        requirement = Requirement(line)
        if requirement.marker and any(requirement.marker.evaluate({"extra": e}) for e in ("pin", "pin-deno")):
            yt_dlp_pins[canonicalize_name(requirement.name)] = pinned(requirement)
    helpers = {"yt-dlp-ejs", "deno", "brotli", "mutagen", "pycryptodomex"}
    assert {name: constraints[name] for name in helpers} == {name: yt_dlp_pins[name] for name in helpers}
    assert importlib.metadata.version("yt-dlp") == pinned(image_requirements()["yt-dlp"])


# -- Every module the CLI imports is in the image -------------------------------------------------------------------
PACKAGE = ROOT / "plugins" / "transcription"


def imports_of(path: Path) -> set[str]:
    """Absolute imports anywhere in a module, function-level ones included (the CLI imports lazily)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module)
            if node.module == "transcription":  # from transcription import report, sources
                found.update(f"transcription.{alias.name}" for alias in node.names)
    return found


def cli_import_graph() -> tuple[set[str], set[str]]:
    """(package modules reachable from `python -m transcription`, top-level names of everything else they import)."""
    seen, external, todo = set(), set(), ["transcription.__main__"]  # the ENTRYPOINT
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = PACKAGE / (module.removeprefix("transcription").strip(".").replace(".", "/") or "__init__")
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        for imported in imports_of(path):
            if imported == "transcription" or imported.startswith("transcription."):
                if (PACKAGE / f"{imported.removeprefix('transcription.')}.py").is_file() or imported == "transcription":
                    todo.append(imported)
            else:
                external.add(imported.split(".")[0])
    return seen, external - set(sys.stdlib_module_names)


def test_every_module_the_cli_imports_is_provided_by_the_image():
    modules, external = cli_import_graph()
    # the walk itself: it must reach the report through pipeline's top-level import, and see the heavy imports
    assert {f"transcription.{m}" for m in ("pipeline", "engine", "audio", "report", "figures")} <= modules
    assert {"whisper", "torch", "yt_dlp", "fsspec", "numpy"} <= external

    distributions = set(image_requirements()) | {"torch"}  # torch: its own layer, from the PyTorch CUDA index
    provided = {module for module, dists in importlib.metadata.packages_distributions().items()
                if any(canonicalize_name(d) in distributions for d in dists)}
    missing = external - provided
    assert not missing, f"imported by the CLI but not in images/transcriber/requirements.txt: {sorted(missing)}"
    # and nothing there is dead weight: each distribution is imported, or is a runtime plugin named on purpose
    used = {canonicalize_name(d) for module in external
            for d in importlib.metadata.packages_distributions().get(module, [])}
    runtime_only = {"s3fs", "yt-dlp-ejs", "deno", "brotli", "mutagen", "pycryptodomex"}
    assert set(image_requirements()) - used <= runtime_only


# -- .dockerignore, with Docker's matching rules ----------------------------------------------------------------------
def dockerignore_patterns() -> list[tuple[bool, re.Pattern]]:
    """(is_exception, regex) per line, as moby's patternmatcher reads them."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        regex, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex, i = regex + pattern[i:end + 1], end + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        patterns.append((exception, re.compile(regex)))
    return patterns


def ignored(path: str) -> bool:
    """Excluded from the build context: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    verdict = False
    for exception, regex in dockerignore_patterns():
        if any(regex.fullmatch(c) for c in candidates):
            verdict = not exception
    return verdict


@pytest.mark.parametrize("path", [
    ".venv/bin/python", ".git", ".git/HEAD", "transcripts/videos/youtube/x/tiny/manifest.json",
    ".demo/airflow/airflow.cfg", ".demo/dags-test.log", ".pytest_cache/v/cache/nodeids",
    "tests/__pycache__/test_store.cpython-311-pytest-9.2.0.pyc",
    "plugins/transcription/__pycache__/cli.cpython-311.pyc",
    "tests/test_store.py", ".env", "random-mini.pt", ".airflow/airflow.db",
])
def test_dockerignore_keeps_out(path):
    assert ignored(path)


def copied_sources(dockerfile: Path) -> list[str]:
    sources = []
    for kind, value in instructions(dockerfile):
        if kind in ("COPY", "ADD"):
            words = [w for w in shlex.split(value) if not w.startswith("--")]
            sources += words[:-1]
    return sources


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_everything_a_dockerfile_copies_is_in_the_build_context(dockerfile):
    sources = copied_sources(dockerfile)
    assert sources
    for source in sources:
        path = ROOT / source
        assert path.exists(), source
        files = [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts] if path.is_dir() \
            else [path]
        assert files, source
        for file in files:
            assert not ignored(file.relative_to(ROOT).as_posix()), file
    if dockerfile == DOCKERFILE:  # the package's templates travel with it (package data)
        assert "plugins/transcription" in sources and list((PACKAGE / "templates").glob("*.j2"))
