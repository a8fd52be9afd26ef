"""Pure parts of the registry client: challenges, scopes, hosts, credentials files, platform
choice, tag paging and the progress display."""

import base64
import io
import json
import os
import stat

import pytest

from dockyard.errors import InvalidArgument, NotFound
from dockyard.oci.descriptor import Descriptor, Platform
from dockyard.oci.manifest import Index
from dockyard.remote import auth, hosts
from dockyard.remote.credentials import Credentials, CredentialStore
from dockyard.remote.manifests import parse_platform, pick_platform
from dockyard.remote.tags import _next_link

CHALLENGES = [
    (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/busybox:pull"',
        [
            (
                "bearer",
                {
                    "realm": "https://auth.docker.io/token",
                    "service": "registry.docker.io",
                    "scope": "repository:library/busybox:pull",
                },
            )
        ],
    ),
    ('Basic realm="Registry Realm"', [("basic", {"realm": "Registry Realm"})]),
    ("basic realm=plain", [("basic", {"realm": "plain"})]),
    (
        'Bearer realm="a\\"b", error="insufficient_scope" , Basic realm="x"',
        [("bearer", {"realm": 'a"b', "error": "insufficient_scope"}), ("basic", {"realm": "x"})],
    ),
    ("", []),
    ('Bearer realm="unterminated', [("bearer", {"realm": "unterminated"})]),
    # commas and spaces inside quotes, odd spacing and case, unquoted URLs
    (
        'BEARER  Realm = "https://t/x?a=1,2" ,scope="repository:a:pull repository:b:push,pull"',
        [
            (
                "bearer",
                {"realm": "https://t/x?a=1,2", "scope": "repository:a:pull repository:b:push,pull"},
            )
        ],
    ),
    (
        "Bearer realm=https://t/token,service=reg",
        [("bearer", {"realm": "https://t/token", "service": "reg"})],
    ),
    (',, Basic ,realm="r",, ', [("basic", {"realm": "r"})]),
]


@pytest.mark.parametrize(("header", "want"), CHALLENGES)
def test_parse_challenges(header, want):
    got = [(c.scheme, c.params) for c in auth.parse_challenges(header)]
    assert got == want


def test_bearer_is_preferred_and_unknown_schemes_ignored():
    cs = auth.parse_challenges('Negotiate x, Basic realm="r", Bearer realm="https://t"')
    assert auth.pick(cs).scheme == "bearer"
    assert auth.pick(auth.parse_challenges("Negotiate abc")) is None


def test_merge_scopes_unions_actions_per_repository():
    got = auth.merge_scopes(
        ["repository:a:pull", "repository:b:pull", "repository:a:push,pull", "junk"]
    )
    assert got == ["repository:a:pull,push", "repository:b:pull"]


@pytest.mark.parametrize(
    ("domain", "endpoint", "key"),
    [
        ("docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"),
        ("index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"),
        ("quay.io", "quay.io", "quay.io"),
        ("localhost:5000", "localhost:5000", "localhost:5000"),
    ],
)
def test_docker_hub_mapping(domain, endpoint, key):
    assert hosts.endpoint_host(domain) == endpoint
    assert hosts.credential_key(domain) == key
    assert hosts.credential_key("https://index.docker.io/v1/") == "https://index.docker.io/v1/"


def test_scheme_choice_follows_docker():
    assert hosts.base_urls("localhost:5000", False)[0] == ("http://localhost:5000", False)
    assert hosts.base_urls("127.0.0.1:80", False)[0] == ("http://127.0.0.1:80", False)
    assert hosts.base_urls("[::1]:5000", False) == [
        ("http://[::1]:5000", False),
        ("https://[::1]:5000", False),
    ]
    assert hosts.base_urls("reg.example:5000", False) == [("https://reg.example:5000", True)]
    assert hosts.base_urls("reg.example", True) == [
        ("https://reg.example", False),
        ("http://reg.example", False),
    ]
    assert hosts.is_insecure("10.1.2.3:5000", ["10.0.0.0/8"])
    assert hosts.is_insecure("reg.example:5000", ["reg.example:5000"])
    assert hosts.is_insecure("reg.example:5000", ["http://reg.example:5000/"])
    assert not hosts.is_insecure("other:5000", ["reg.example", "10.0.0.0/8", "bad/cidr"])
    assert not hosts.is_loopback("localhost.evil.com:5000")


def test_credentials_file_round_trip(tmp_path):
    store = CredentialStore(str(tmp_path / "cfg"))
    assert not store.get("reg:5000")
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.json").write_text(json.dumps({"psFormat": "x", "auths": {}}))
    store.store("reg:5000", Credentials("u", "p:w"))
    obj = json.loads((tmp_path / "cfg" / "config.json").read_text())
    assert obj["psFormat"] == "x"
    assert base64.b64decode(obj["auths"]["reg:5000"]["auth"]) == b"u:p:w"
    assert stat.S_IMODE(os.stat(tmp_path / "cfg" / "config.json").st_mode) == 0o600
    assert store.get("reg:5000") == Credentials("u", "p:w")
    assert store.get("https://reg:5000/v1/") == Credentials("u", "p:w")
    assert store.erase("reg:5000") and not store.erase("reg:5000")
    assert not store.get("reg:5000")


def test_credentials_written_by_docker_are_read(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"auths": {
        "https://index.docker.io/v1/": {"auth": base64.b64encode(b"me:pw").decode()},
        "http://reg:5000": {"auth": base64.b64encode(b"a:b").decode(), "identitytoken": "t"},
    }}))  # fmt: skip
    store = CredentialStore(str(tmp_path))
    assert store.get("https://index.docker.io/v1/") == Credentials("me", "pw")
    assert store.get("reg:5000") == Credentials("a", "b", "t")


@pytest.mark.parametrize("bad", ["{", "[]", '{"auths": {"r": {"auth": "!!!"}}}'])
def test_broken_config_is_a_clear_error(tmp_path, bad):
    (tmp_path / "config.json").write_text(bad)
    with pytest.raises(InvalidArgument):
        CredentialStore(str(tmp_path)).get("r")


def _index(*plats):
    return Index(
        tuple(
            Descriptor(
                "application/vnd.oci.image.manifest.v1+json", "sha256:" + f"{i:064x}", 1, platform=p
            )
            for i, p in enumerate(plats, 1)
        )
    )


def test_platform_selection():
    idx = _index(
        Platform("linux", "arm", "v6"),
        Platform("linux", "arm", "v7"),
        Platform("linux", "arm64", "v8"),
        Platform("linux", "amd64"),
        Platform("windows", "amd64"),
    )
    assert pick_platform(idx, ("linux", "amd64", "")).platform == Platform("linux", "amd64")
    assert pick_platform(idx, ("linux", "arm", "v7")).platform.variant == "v7"
    assert pick_platform(idx, ("linux", "arm64", "")).platform.variant == "v8"
    assert pick_platform(idx, ("windows", "amd64", "")).platform.os == "windows"
    with pytest.raises(NotFound, match="linux/s390x"):
        pick_platform(idx, ("linux", "s390x", ""))
    assert parse_platform("linux/aarch64") == ("linux", "arm64", "")
    assert parse_platform("arm/v7") == ("arm", "v7", "")
    with pytest.raises(InvalidArgument):
        parse_platform("linux//")


def test_tag_paging_link():
    assert _next_link('</v2/x/tags/list?n=2&last=b>; rel="next"') == "/v2/x/tags/list?n=2&last=b"
    assert _next_link("") == ""
    assert _next_link('<http://x>; rel="prev"') == ""


def test_progress_plain_and_terminal():
    from dockyard.cli.commands.pull import ProgressPrinter
    from dockyard.services.distribution import Progress

    out = io.StringIO()
    p = ProgressPrinter(out, tty=False)
    p(Progress("", "latest: Pulling from library/busybox"))
    p(Progress("abc", "Pulling fs layer"))
    p(Progress("abc", "Downloading", 5, 10))
    p(Progress("abc", "Download complete"))
    p(Progress("abc", "Pull complete"))
    assert out.getvalue().splitlines() == [
        "latest: Pulling from library/busybox",
        "abc: Pulling fs layer",
        "abc: Download complete",
        "abc: Pull complete",
    ]
    out = io.StringIO()
    p = ProgressPrinter(out, tty=True)
    p(Progress("a", "Pulling fs layer"))
    p(Progress("b", "Pulling fs layer"))
    p(Progress("a", "Downloading", 5, 10))
    text = out.getvalue()
    assert text == (
        "\n\x1b[1A\x1b[2K\ra: Pulling fs layer \r\x1b[1B"
        "\n\x1b[1A\x1b[2K\rb: Pulling fs layer \r\x1b[1B"
        "\x1b[2A\x1b[2K\ra: Downloading [=========================>"
        + " " * 25
        + "]       5B/10B\r\x1b[2B"
    )
