"""`login`, `logout` and authenticated pull/push against dockyard's registry: htpasswd (Basic),
token auth (Bearer, with per-repository grants) and a Docker credential helper."""

import base64
import json
import os
import stat

import pytest
from test_registry_support import RegistryProcess, bcrypt_line


@pytest.fixture
def dy(dy, tmp_path):
    dy.env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    return dy


def _client(dy, tmp_path, name: str):
    other = type(dy)(tmp_path / name / "root", tmp_path / name / "state")
    other.env = dict(dy.env)
    return other


def _config(tmp_path) -> dict:
    return json.loads((tmp_path / "docker-config" / "config.json").read_text())


@pytest.fixture(scope="module")
def basic_reg(tmp_path_factory):
    base = tmp_path_factory.mktemp("basicreg")
    (base / "htpasswd").write_text(bcrypt_line("alice", "s3cret"))
    r = RegistryProcess(base, {"auth": {"htpasswd": str(base / "htpasswd")}}).start()
    yield r
    assert r.stop() == 0


@pytest.fixture(scope="module")
def token_reg(tmp_path_factory):
    base = tmp_path_factory.mktemp("tokenreg")
    (base / "htpasswd").write_text(bcrypt_line("team", "teampw") + bcrypt_line("ro", "ropw"))
    auth = {
        "htpasswd": str(base / "htpasswd"),
        "token": {"service": "reg-test", "issuer": "reg-test", "key": str(base / "key.pem")},
        "access": [
            {"repository": "team/*", "users": ["team"], "actions": ["pull", "push"]},
            {"repository": "*", "users": ["ro"], "actions": ["pull"]},
        ],
    }
    r = RegistryProcess(base, {"auth": auth}).start()
    yield r
    assert r.stop() == 0


def _host(reg) -> str:
    return f"127.0.0.1:{reg.port}"


def test_basic_auth_login_push_pull_logout(dy, basic_reg, tmp_path, busybox_tar):
    host = _host(basic_reg)
    ref = f"{host}/private/bb:1"
    dy("import", str(busybox_tar), ref)
    p = dy("push", ref, check=False)
    assert p.returncode != 0 and b"unauthorized" in p.stderr.lower()

    p = dy("login", "-u", "alice", "--password-stdin", host, input=b"wrong\n", check=False)
    assert p.returncode != 0 and b"unauthorized" in p.stderr.lower()
    assert not (tmp_path / "docker-config" / "config.json").exists()

    p = dy("login", "-u", "alice", "--password-stdin", host, input=b"s3cret\n")
    assert p.stdout.decode() == "Login Succeeded\n"
    assert b"stored unencrypted" in p.stderr
    cfg_path = tmp_path / "docker-config" / "config.json"
    assert stat.S_IMODE(cfg_path.stat().st_mode) == 0o600
    entry = _config(tmp_path)["auths"][host]
    assert base64.b64decode(entry["auth"]) == b"alice:s3cret"

    assert "Pushed" in dy.out("push", ref)
    other = _client(dy, tmp_path, "b")
    assert f"Status: Downloaded newer image for {ref}" in other.out("pull", ref)

    assert dy.out("logout", host) == f"Removing login credentials for {host}\n"
    assert host not in _config(tmp_path).get("auths", {})
    p = _client(dy, tmp_path, "c")("pull", ref, check=False)
    assert p.returncode != 0 and b"unauthorized" in p.stderr.lower()
    assert dy.out("logout", host) == f"Not logged in to {host}\n"


def test_login_flags_are_checked(dy, basic_reg):
    host = _host(basic_reg)
    p = dy("login", "--password-stdin", host, input=b"x\n", check=False)
    assert p.returncode != 0 and b"Must provide --username with --password-stdin" in p.stderr
    p = dy("login", "-u", "a", "-p", "b", "--password-stdin", host, input=b"x", check=False)
    assert b"mutually exclusive" in p.stderr
    p = dy("login", "-u", "alice", "-p", "s3cret", host)
    assert b"Use --password-stdin" in p.stderr and p.stdout == b"Login Succeeded\n"


def test_token_auth_with_per_repository_grants(dy, token_reg, tmp_path, busybox_tar):
    host = _host(token_reg)
    ref = f"{host}/team/app:1"
    dy("import", str(busybox_tar), ref)
    p = dy("login", "-u", "team", "--password-stdin", host, input=b"nope\n", check=False)
    assert p.returncode != 0 and b"unauthorized" in p.stderr.lower()
    dy("login", "-u", "team", "--password-stdin", host, input=b"teampw\n")
    assert "Pushed" in dy.out("push", ref)
    # a second repository of the same registry: the token is widened for the mount source
    dy("tag", ref, f"{host}/team/other:1")
    assert "Mounted from team/app" in dy.out("push", f"{host}/team/other:1")
    # outside the user's grants, a push is refused with one clear line
    dy("tag", ref, f"{host}/elsewhere/app:1")
    p = dy("push", f"{host}/elsewhere/app:1", check=False)
    assert p.returncode != 0
    err = p.stderr.decode().strip().splitlines()
    assert len(err) == 1 and ("denied" in err[0] or "unauthorized" in err[0])

    reader = _client(dy, tmp_path, "ro")
    reader.env["DOCKER_CONFIG"] = str(tmp_path / "ro-config")
    reader("login", "-u", "ro", "--password-stdin", host, input=b"ropw\n")
    out = reader.out("pull", ref)
    assert out.splitlines()[-1] == ref
    assert json.loads(reader.out("image", "inspect", ref))[0]["RepoDigests"][0].startswith(
        f"{host}/team/app@sha256:"
    )


HELPER = """#!/usr/bin/env python3
import json, os, sys
path = os.environ["HELPER_STORE"]
db = json.load(open(path)) if os.path.exists(path) else {}
action = sys.argv[1]
data = sys.stdin.read()
if action == "store":
    obj = json.loads(data)
    db[obj["ServerURL"]] = [obj["Username"], obj["Secret"]]
elif action == "get":
    if data.strip() not in db:
        print("credentials not found in native keychain")
        sys.exit(1)
    user, secret = db[data.strip()]
    print(json.dumps({"ServerURL": data.strip(), "Username": user, "Secret": secret}))
elif action == "erase":
    db.pop(data.strip(), None)
json.dump(db, open(path, "w"))
"""


def test_credential_helper_holds_the_secret(dy, basic_reg, tmp_path, busybox_tar):
    host = _host(basic_reg)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    helper = bindir / "docker-credential-testhelper"
    helper.write_text(HELPER)
    helper.chmod(0o755)
    store = tmp_path / "helper.json"
    dy.env["PATH"] = f"{bindir}:{os.environ['PATH']}"
    dy.env["HELPER_STORE"] = str(store)
    cfg_dir = tmp_path / "docker-config"
    cfg_dir.mkdir()
    (cfg_dir / "config.json").write_text(json.dumps({"credsStore": "testhelper", "x": 1}))

    p = dy("login", "-u", "alice", "--password-stdin", host, input=b"s3cret\n")
    assert b"unencrypted" not in p.stderr
    cfg = _config(tmp_path)
    assert cfg["x"] == 1 and cfg["auths"][host] == {}  # no secret in the file
    assert json.loads(store.read_text()) == {host: ["alice", "s3cret"]}

    ref = f"{host}/helped/bb:1"
    dy("import", str(busybox_tar), ref)
    assert "Pushed" in dy.out("push", ref)
    dy("logout", host)
    assert json.loads(store.read_text()) == {}
    p = dy("push", ref, check=False)
    assert p.returncode != 0 and b"unauthorized" in p.stderr.lower()


def test_tls_registry_on_loopback(dy, tmp_path, busybox_tar):
    from test_registry_interop import _self_signed

    cert, key = _self_signed(tmp_path)
    tls = {"tls": {"cert": str(cert), "key": str(key)}}
    server = RegistryProcess(tmp_path / "tlsreg", tls, scheme="https").start()
    try:
        ref = f"127.0.0.1:{server.port}/secure/bb:1"
        image_id = dy.out("import", str(busybox_tar), ref).strip()
        assert "Pushed" in dy.out("push", ref)
        other = _client(dy, tmp_path, "b")
        other("pull", ref)
        assert json.loads(other.out("image", "inspect", ref))[0]["Id"] == image_id
    finally:
        assert server.stop() == 0
