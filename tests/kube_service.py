"""A real kube-apiserver (with etcd) on 127.0.0.1 for the session, built once per machine and cached.

It has no scheduler and no kubelet: tests that need pods to run play the kubelet themselves.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parent / "services"


def _free_port_pair() -> int:
    """A free port whose successor is free too (etcd listens on both)."""
    while True:
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port


@pytest.fixture(scope="session")
def kubeconfig(tmp_path_factory) -> Path:
    build = subprocess.run([SERVICES / "kube-apiserver-build.sh"], check=True, capture_output=True, text=True)
    binary = build.stdout.strip().splitlines()[-1]
    folder = tmp_path_factory.mktemp("kube-apiserver")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = SERVICES / "kube-apiserver.sh"
    try:
        subprocess.run([script, "start", folder, binary, str(port), str(_free_port_pair())], check=True)
        yield folder / "kubeconfig"
    finally:
        subprocess.run([script, "stop", folder], check=False)


@pytest.fixture(scope="session")
def core_api(kubeconfig):
    from kubernetes import client, config

    return client.CoreV1Api(config.new_client_from_config(str(kubeconfig)))
