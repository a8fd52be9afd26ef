"""Identity tokens (Docker's `identitytoken`): `login` against a token-auth registry asks for a
refresh token and stores it instead of the password; pulls and pushes trade it for access
tokens (`grant_type=refresh_token`); a changed password ends it. The registry side: a refresh
token is never an access token, and an access token is never a refresh token."""

import base64
import json

import httpx
import pytest
from test_registry_support import RegistryProcess, bcrypt_line


@pytest.fixture
def dy(dy, tmp_path):
    dy.env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    return dy


@pytest.fixture
def reg(tmp_path):
    base = tmp_path / "reg"
    base.mkdir()
    (base / "htpasswd").write_text(bcrypt_line("team", "teampw"))
    auth = {
        "htpasswd": str(base / "htpasswd"),
        "token": {"service": "id-test", "issuer": "id-test", "key": str(base / "key.pem")},
        "access": [{"repository": "team/*", "users": ["team"], "actions": ["pull", "push"]}],
    }
    r = RegistryProcess(base, {"auth": auth}).start()
    yield r
    assert r.stop() == 0


def _token(reg, **params) -> httpx.Response:
    return httpx.get(f"{reg.url}/auth/token", params={"service": "id-test", **params},
                     auth=("team", "teampw"))  # fmt: skip


def _refresh(reg, token: str, scope: str = "repository:team/app:pull") -> httpx.Response:
    return httpx.post(f"{reg.url}/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": token, "service": "id-test",
        "client_id": "t", "scope": scope})  # fmt: skip


def test_login_stores_the_identity_token_not_the_password(dy, reg, tmp_path, busybox_tar):
    host = f"127.0.0.1:{reg.port}"
    dy("login", "-u", "team", "--password-stdin", host, input=b"teampw\n")
    entry = json.loads((tmp_path / "docker-config" / "config.json").read_text())["auths"][host]
    assert base64.b64decode(entry["auth"]) == b"team:"
    assert entry["identitytoken"].count(".") == 2
    assert "teampw" not in (tmp_path / "docker-config" / "config.json").read_text()

    ref = f"{host}/team/app:1"
    dy("import", str(busybox_tar), ref)
    assert "Pushed" in dy.out("push", ref)
    other = type(dy)(tmp_path / "b" / "root", tmp_path / "b" / "state")
    other.env = dict(dy.env)
    assert other.out("pull", "-q", ref).strip() == ref

    # a new password ends the identity token: one clear line, nothing pulled
    (reg.base / "htpasswd").write_text(bcrypt_line("team", "changed"))
    third = type(dy)(tmp_path / "c" / "root", tmp_path / "c" / "state")
    third.env = dict(dy.env)
    p = third("pull", ref, check=False)
    assert p.returncode != 0
    err = p.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "unauthorized" in err and "password has changed" in err
    assert third.out("images", "-q") == ""


def test_refresh_tokens_and_access_tokens_do_not_stand_in_for_each_other(reg):
    plain = _token(reg, scope="repository:team/app:pull").json()
    assert "refresh_token" not in plain  # only when asked for (offline_token=true)
    got = _token(reg, scope="repository:team/app:pull", offline_token="true").json()
    refresh, access = got["refresh_token"], got["token"]
    # the refresh token is not accepted as a bearer token
    r = httpx.get(
        f"{reg.url}/v2/team/app/tags/list", headers={"Authorization": f"Bearer {refresh}"}
    )
    assert r.status_code == 401
    # the access token is not accepted as a refresh token, nor is a forged one
    assert _refresh(reg, access).status_code == 400
    head, body, sig = refresh.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert _refresh(reg, f"{head}.{forged}.{sig}").status_code == 400
    assert _refresh(reg, "x" * 100).status_code == 400
    # the real one buys an access token within the user's grants, and no refresh token
    r = _refresh(reg, refresh, "repository:team/app:pull,push repository:other/x:pull")
    assert r.status_code == 200 and "refresh_token" not in r.json()
    tok = r.json()["token"]
    body = tok.split(".")[1]
    access_claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert access_claims["sub"] == "team"
    assert access_claims["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]},
        {"type": "repository", "name": "other/x", "actions": []},
    ]
    r = httpx.get(f"{reg.url}/v2/team/app/tags/list", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code in (200, 404)


class _TokenServer:
    """A registry whose token service answers `refresh` as its refresh_token (hostile)."""

    def __init__(self, refresh):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self
        self.refresh = refresh
        self.token_queries: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                port = self.server.server_address[1]
                if self.path.startswith("/token"):
                    outer.token_queries.append(self.path)
                    body = {"token": "access-1", "refresh_token": outer.refresh}
                    return self._send(200, json.dumps(body).encode())
                if self.headers.get("Authorization") == "Bearer access-1":
                    return self._send(200, b"{}")
                challenge = f'Bearer realm="http://127.0.0.1:{port}/token",service="h"'
                self._send(401, b"", {"WWW-Authenticate": challenge})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("refresh", [{"not": "a string"}, "x" * (70 << 10), ""])
def test_a_bad_refresh_token_is_not_stored(dy, tmp_path, refresh):
    srv = _TokenServer(refresh)
    try:
        dy("login", "-u", "me", "--password-stdin", srv.host, input=b"pw\n")
    finally:
        srv.close()
    assert "offline_token=true" in srv.token_queries[0]
    entry = json.loads((tmp_path / "docker-config" / "config.json").read_text())["auths"]
    # nothing usable came back: the password is kept, as Docker does without an identity token
    assert entry[srv.host] == {"auth": base64.b64encode(b"me:pw").decode()}
