"""dockyard's reference grammar against the real docker CLI's (it parses before it dials).

`docker pull REF` against a socket that does not exist refuses a bad reference with its parser's
message, and only a good one gets as far as "Cannot connect". Both must agree with
`dockyard.reference.parse_normalized`, message for message.
"""

import shutil
import subprocess

import pytest

from dockyard.errors import InvalidArgument
from dockyard.reference import parse_normalized

DOCKER = shutil.which("docker", path="/usr/local/bin:/usr/bin")

REFS = [
    "busybox",
    "busybox:latest",
    "library/busybox:1.36",
    "docker.io/library/busybox",
    "index.docker.io/me/app:v1",
    "localhost/app",
    "localhost:5000/team/app:2",
    "127.0.0.1:5000/a_b/c-d/e.f:tag_1",
    "[::1]:5000/app:x",
    "example.com/a/b/c/d",
    "busybox@sha256:" + "a" * 64,
    "busybox:1@sha256:" + "b" * 64,
    "Busybox",
    "me/App",
    "busybox:",
    ":tag",
    "busybox@sha256:abc",
    "a//b",
    "a/b/",
    "-a",
    "a..b",
    "a__b",
    "a___b",
    "a-_b",
    "busybox:" + "t" * 128,
    "busybox:" + "t" * 129,
    "a" * 64,
    "x/" + "a" * 254,
    "example.com:notaport/a",
    "busybox@SHA256:" + "a" * 64,
    "UPPER.example.com/a",
]


def _docker(ref: str) -> str:
    p = subprocess.run(
        [DOCKER, "-H", "unix:///nonexistent-dockyard-test.sock", "pull", "--", ref],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert p.returncode != 0
    return p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""


@pytest.mark.parametrize("ref", REFS)
def test_reference_parsing_matches_the_docker_cli(ref):
    if DOCKER is None:
        pytest.fail("the docker CLI is not installed (scripts/install.sh installs docker.io)")
    theirs = _docker(ref)
    try:
        parse_normalized(ref)
    except InvalidArgument as e:
        assert theirs == str(e), (ref, theirs)
    else:
        assert "Cannot connect" in theirs or "failed to connect" in theirs, (ref, theirs)
