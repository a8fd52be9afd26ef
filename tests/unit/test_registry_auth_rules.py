"""htpasswd checking (bcrypt only) and the per-repository grant rules."""

import base64

import pytest

from dockyard.registry.auth import Authorizer, Htpasswd, parse_basic, parse_scope
from dockyard.registry.config import AccessRule, AuthConfig


@pytest.fixture
def htpasswd(tmp_path):
    import bcrypt

    h = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()
    p = tmp_path / "htpasswd"
    p.write_text(
        f"# comment\nalice:{h}\nold:{h.replace('$2b$', '$2y$')}\n"
        "md5:$apr1$abcdefgh$0123456789abcdefghijkl\nplain:pw\n"
    )
    return p


def test_bcrypt_users(htpasswd):
    h = Htpasswd(str(htpasswd))
    assert h.verify("alice", "pw")
    assert h.verify("old", "pw")  # $2y$ from `htpasswd -B`
    assert not h.verify("alice", "wrong")
    assert not h.verify("nobody", "pw")
    assert not h.verify("alice", "pw" + "x" * 80)


def test_weak_schemes_are_refused(htpasswd):
    h = Htpasswd(str(htpasswd))
    assert not h.verify("plain", "pw")
    assert not h.verify("md5", "anything")


def test_file_changes_are_picked_up(htpasswd):
    h = Htpasswd(str(htpasswd))
    htpasswd.write_text(htpasswd.read_text().replace("alice:", "carol:") + "\n")
    assert h.verify("carol", "pw") and not h.verify("alice", "pw")


def test_grants():
    cfg = AuthConfig(htpasswd="/x", anonymous_pull=True, access=(
        AccessRule("team/*", ("alice",), ("pull", "push")),
        AccessRule("*", ("*",), ("pull",)),
    ))  # fmt: skip
    a = Authorizer.__new__(Authorizer)
    a.cfg, a.htpasswd = cfg, None
    assert a.granted("alice", "team/app") == {"pull", "push"}
    assert a.granted("alice", "other") == {"pull"}
    assert a.granted("bob", "team/app") == {"pull"}
    assert a.granted("", "team/app") == {"pull"}
    a.cfg = AuthConfig(htpasswd="/x")
    assert a.granted("", "x") == set()
    assert a.granted("anyone", "x") == {"pull", "push", "delete"}  # no rules: all for users


def test_parse_basic_and_scope():
    enc = base64.b64encode(b"u:p:w").decode()
    assert parse_basic(f"Basic {enc}") == ("u", "p:w")
    assert parse_basic("Bearer x") is None
    assert parse_basic("Basic !!!") is None
    assert parse_basic("Basic " + base64.b64encode(b"nocolon").decode()) is None
    assert parse_scope("repository:a/b:pull,push") == ("repository", "a/b", ["pull", "push"])
    assert parse_scope("registry:catalog:*") == ("registry", "catalog", ["*"])
    assert parse_scope("garbage") is None
