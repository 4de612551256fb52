"""A real S3 for the tests: Ceph's radosgw on 127.0.0.1 (tests/services/ceph-s3.sh), started once per session.

Fresh ports and random keys each session: parallel runs do not collide, and a leaked secret cannot pass for chance.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import subprocess
from pathlib import Path

import boto3
import pytest

SCRIPT = Path(__file__).resolve().parent / "services" / "ceph-s3.sh"


@dataclasses.dataclass(frozen=True)
class S3:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    @property
    def env(self) -> dict[str, str]:
        """How a worker is configured: the standard AWS variables, which botocore (under s3fs) reads itself."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_DEFAULT_REGION": self.region}

    def client(self):
        """A boto3 client of its own, independent of the store's s3fs."""
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name=self.region)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.fixture(scope="session")
def s3(tmp_path_factory) -> S3:
    """Endpoint, keys, an empty bucket. No Ceph packages: the S3 tests fail, never skip (`make test` installs them)."""
    directory = tmp_path_factory.mktemp("ceph")
    rgw_port, mon_port = free_ports(2)
    access_key, secret_key = f"test-{secrets.token_hex(4)}", secrets.token_urlsafe(30)
    try:
        cluster = subprocess.run(
            [SCRIPT, "start", str(directory), str(rgw_port), str(mon_port)], capture_output=True, text=True,
            check=False, timeout=180, env={**os.environ, "S3_ACCESS_KEY": access_key, "S3_SECRET_KEY": secret_key},
        )
        if cluster.returncode:
            raise RuntimeError(f"{SCRIPT.name} start failed ({cluster.returncode}): {cluster.stderr}")
        service = S3(cluster.stdout.strip(), "transcripts", access_key, secret_key)
        service.client().create_bucket(Bucket=service.bucket)
        yield service
    finally:
        subprocess.run([SCRIPT, "stop", str(directory)], check=True, timeout=60)
