"""Docker's token auth flow against the built-in issuer, per-repository grants, and forged
or stale tokens, on a real registry process."""

import base64
import json
import os

import httpx
import pytest
from test_registry_support import Client, RegistryProcess, bcrypt_line, parse_challenge, sha256


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    base = tmp_path_factory.mktemp("tokenreg")
    (base / "htpasswd").write_text(
        bcrypt_line("admin", "adminpw") + bcrypt_line("team", "teampw") + bcrypt_line("ro", "ropw")
    )
    auth = {
        "htpasswd": str(base / "htpasswd"),
        "anonymous_pull": True,
        "token": {"service": "dockyard-test", "issuer": "dockyard-test", "key": str(base / "key.pem"), "expiration": 120},
        "access": [
            {"repository": "*", "users": ["admin"], "actions": ["*"]},
            {"repository": "team/*", "users": ["team"], "actions": ["pull", "push"]},
            {"repository": "*", "users": ["ro"], "actions": ["pull"]},
        ],
    }  # fmt: skip
    s = RegistryProcess(base, {"auth": auth}).start()
    yield s
    assert s.stop() == 0


def _basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def _token(reg, user=None, pw=None, scopes=()):
    headers = _basic(user, pw) if user else {}
    params = [("service", "dockyard-test")] + [("scope", s) for s in scopes]
    return httpx.get(f"{reg.url}/auth/token", params=params, headers=headers, verify=False)


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _access(token: str) -> dict:
    return {(a["type"], a["name"]): sorted(a["actions"]) for a in _claims(token)["access"]}


def test_ping_challenges_with_bearer_realm(reg):
    r = httpx.get(f"{reg.url}/v2/", verify=False)
    assert r.status_code == 401
    params = parse_challenge(r.headers["WWW-Authenticate"])
    assert r.headers["WWW-Authenticate"].startswith("Bearer ")
    assert params["realm"] == f"{reg.url}/auth/token"
    assert params["service"] == "dockyard-test"


def test_token_grants_are_the_intersection_of_request_and_rules(reg):
    scopes = ["repository:team/app:pull,push,delete", "repository:other/app:pull,push"]
    t = _token(reg, "team", "teampw", scopes).json()["token"]
    assert _access(t) == {("repository", "team/app"): ["pull", "push"],
                          ("repository", "other/app"): []}  # fmt: skip
    claims = _claims(t)
    assert claims["sub"] == "team" and claims["aud"] == "dockyard-test"
    t = _token(reg, "ro", "ropw", scopes).json()["token"]
    assert _access(t) == {
        ("repository", "team/app"): ["pull"],
        ("repository", "other/app"): ["pull"],
    }
    anon = _token(reg, scopes=scopes).json()
    assert _access(anon["token"])[("repository", "team/app")] == ["pull"]
    assert anon["expires_in"] == 120 and anon["access_token"] == anon["token"]


def test_one_scope_parameter_may_hold_several(reg):
    """A mount's challenge lists two scopes in one value; a client may ask with it as is."""
    both = "repository:team/app:pull,push repository:team/base:pull"
    t = _token(reg, "team", "teampw", [both]).json()["token"]
    assert _access(t) == {("repository", "team/app"): ["pull", "push"],
                          ("repository", "team/base"): ["pull"]}  # fmt: skip


def test_token_endpoint_refuses_bad_credentials(reg):
    r = _token(reg, "team", "nope", ["repository:team/app:pull"])
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Basic ")
    r = httpx.get(f"{reg.url}/auth/token", params={"service": "elsewhere"}, verify=False)
    assert r.status_code == 400


def test_oauth2_password_grant(reg):
    r = httpx.post(f"{reg.url}/auth/token", verify=False, data={
        "grant_type": "password", "username": "team", "password": "teampw",
        "service": "dockyard-test", "scope": "repository:team/app:pull,push"})  # fmt: skip
    assert r.status_code == 200
    assert _access(r.json()["access_token"]) == {("repository", "team/app"): ["pull", "push"]}
    r = httpx.post(f"{reg.url}/auth/token", verify=False,
                   data={"grant_type": "refresh_token", "refresh_token": "x"})  # fmt: skip
    assert r.status_code == 400


def test_push_needs_a_token_with_push(reg):
    pull_only = _token(reg, "team", "teampw", ["repository:team/app:pull"]).json()["token"]
    r = httpx.post(f"{reg.url}/v2/team/app/blobs/uploads/", verify=False,
                   headers={"Authorization": f"Bearer {pull_only}"})  # fmt: skip
    assert r.status_code == 401
    params = parse_challenge(r.headers["WWW-Authenticate"])
    assert params["scope"] == "repository:team/app:pull,push"
    assert params["error"] == "insufficient_scope"
    c = Client(reg.url, "team", "teampw")
    assert c.push_blob("team/app", b"layer") == sha256(b"layer")
    # Outside its grants the user cannot get a useful token at all.
    r = c.post("/v2/other/app/blobs/uploads/")
    assert r.status_code == 401


def _forge(header: dict, claims: dict, sig: bytes = b"") -> str:
    enc = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc(header)}.{enc(claims)}." + base64.urlsafe_b64encode(sig).rstrip(b"=").decode()


def test_forged_and_stale_tokens_are_refused(reg):
    from dockyard.registry.config import TokenConfig
    from dockyard.registry.tokens import TokenIssuer

    access = [{"type": "repository", "name": "victim", "actions": ["pull", "push", "delete"]}]
    real = _claims(_token(reg, "ro", "ropw", ["repository:victim:pull"]).json()["token"])
    real["access"] = access
    key = str(reg.base / "key.pem")
    same_key = TokenIssuer(TokenConfig(issuer="dockyard-test", service="dockyard-test", key=key))
    other_key = TokenIssuer(TokenConfig(issuer="dockyard-test", service="dockyard-test"))
    wrong_service = TokenIssuer(TokenConfig(issuer="dockyard-test", service="other", key=key))
    forged = [
        _forge({"alg": "none", "typ": "JWT"}, real),
        _forge({"alg": "HS256", "typ": "JWT"}, real, os.urandom(32)),
        other_key.issue("admin", access),
        wrong_service.issue("admin", access),
        same_key.issue("admin", access, now=1_000_000_000),  # long expired
        "not-a-jwt",
    ]
    for tok in forged:
        r = httpx.post(f"{reg.url}/v2/victim/blobs/uploads/", verify=False,
                       headers={"Authorization": f"Bearer {tok}"})  # fmt: skip
        assert r.status_code == 401, tok
    # A token signed with the configured key and valid now is accepted.
    r = httpx.post(f"{reg.url}/v2/victim/blobs/uploads/", verify=False,
                   headers={"Authorization": f"Bearer {same_key.issue('admin', access)}"})  # fmt: skip
    assert r.status_code == 202


def test_catalog_lists_only_what_the_user_may_pull(reg):
    admin = Client(reg.url, "admin", "adminpw")
    admin.push_blob("team/visible", b"v")
    admin.push_blob("secret/hidden", b"h")
    team = Client(reg.url, "team", "teampw")
    repos = team.get("/v2/_catalog").json()["repositories"]
    assert "team/visible" in repos and "secret/hidden" not in repos
    assert "secret/hidden" in admin.get("/v2/_catalog").json()["repositories"]


def test_mount_needs_pull_on_the_source(reg):
    admin = Client(reg.url, "admin", "adminpw")
    digest = admin.push_blob("secret/hidden", b"confidential layer")
    team = Client(reg.url, "team", "teampw")
    auth = team.auth_header("repository:team/app:pull,push", "repository:secret/hidden:pull")
    r = team.post("/v2/team/app/blobs/uploads/", params={"mount": digest, "from": "secret/hidden"},
                  headers=auth)  # fmt: skip
    assert r.status_code == 202  # no mount: the client must upload the bytes itself
    r = team.post("/v2/team/app/blobs/uploads/", params={"mount": digest}, headers=auth)
    assert r.status_code == 202
    assert team.head(f"/v2/team/app/blobs/{digest}").status_code == 404


def test_anonymous_pull_without_any_token(reg):
    admin = Client(reg.url, "admin", "adminpw")
    digest = admin.push_blob("public/app", b"public")
    r = httpx.get(f"{reg.url}/v2/public/app/blobs/{digest}", verify=False)
    assert r.status_code == 200 and r.content == b"public"
    r = httpx.delete(f"{reg.url}/v2/public/app/blobs/{digest}", verify=False)
    assert r.status_code == 401


def test_signing_key_survives_a_restart(reg):
    t = _token(reg, "admin", "adminpw", ["repository:team/app:pull"]).json()["token"]
    reg.stop()
    reg.start()
    r = httpx.get(f"{reg.url}/v2/team/app/tags/list", headers={"Authorization": f"Bearer {t}"},
                  verify=False)  # fmt: skip
    assert r.status_code in (200, 404)
    assert r.status_code != 401
