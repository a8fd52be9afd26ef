"""The token issuer: ES256 JWTs that verify, and every kind of bad token refused."""

import base64
import json

import pytest

from dockyard.errors import PermissionDenied
from dockyard.registry.config import TokenConfig
from dockyard.registry.tokens import TokenIssuer, token_allows

ACCESS = [{"type": "repository", "name": "team/app", "actions": ["pull", "push"]}]


@pytest.fixture
def issuer(tmp_path):
    return TokenIssuer(TokenConfig(issuer="iss", service="svc", key=str(tmp_path / "k.pem")))


def _parts(token):
    return token.split(".")


def _dec(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _enc(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_issue_and_verify(issuer):
    tok = issuer.issue("alice", ACCESS, now=1_900_000_000)
    header = _dec(_parts(tok)[0])
    assert header["alg"] == "ES256" and len(header["kid"].split(":")) == 12
    claims = issuer.verify(tok, now=1_900_000_010)
    assert claims["sub"] == "alice" and claims["aud"] == "svc" and claims["iss"] == "iss"
    assert token_allows(claims, "repository", "team/app", "push")
    assert not token_allows(claims, "repository", "team/app", "delete")
    assert not token_allows(claims, "repository", "team/other", "pull")


def test_key_file_is_created_private_and_reused(tmp_path, issuer):
    key = tmp_path / "k.pem"
    assert key.stat().st_mode & 0o077 == 0
    again = TokenIssuer(TokenConfig(issuer="iss", service="svc", key=str(key)))
    assert again.verify(issuer.issue("bob", ACCESS))["sub"] == "bob"


def test_expired_and_not_yet_valid(issuer):
    tok = issuer.issue("alice", ACCESS, now=1_900_000_000)
    with pytest.raises(PermissionDenied, match="expired"):
        issuer.verify(tok, now=1_900_000_000 + 300 + 61)
    with pytest.raises(PermissionDenied):
        issuer.verify(tok, now=1_900_000_000 - 120)


def test_tampered_claims_fail_the_signature(issuer):
    h, c, s = _parts(issuer.issue("alice", ACCESS))
    claims = _dec(c)
    claims["access"][0]["actions"].append("delete")
    with pytest.raises(PermissionDenied, match="signature"):
        issuer.verify(f"{h}.{_enc(claims)}.{s}")


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384"])
def test_other_algorithms_are_refused(issuer, alg):
    h, c, s = _parts(issuer.issue("alice", ACCESS))
    header = _dec(h)
    header["alg"] = alg
    with pytest.raises(PermissionDenied):
        issuer.verify(f"{_enc(header)}.{c}.{s}")
    with pytest.raises(PermissionDenied):
        issuer.verify(f"{_enc(header)}.{c}.")


def test_other_key_service_or_issuer(issuer, tmp_path):
    stranger = TokenIssuer(TokenConfig(issuer="iss", service="svc"))
    with pytest.raises(PermissionDenied, match="signature"):
        issuer.verify(stranger.issue("alice", ACCESS))
    key = str(tmp_path / "k.pem")
    for cfg in (TokenConfig(issuer="iss", service="other", key=key),
                TokenConfig(issuer="other", service="svc", key=key)):  # fmt: skip
        with pytest.raises(PermissionDenied, match="another service"):
            issuer.verify(TokenIssuer(cfg).issue("alice", ACCESS))


@pytest.mark.parametrize("junk", ["", "a.b", "a.b.c", "....", "x" * 70000, "e30.e30.e30"])
def test_malformed(issuer, junk):
    with pytest.raises(PermissionDenied):
        issuer.verify(junk)


def test_a_non_ec_key_file_is_refused(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p = tmp_path / "rsa.pem"
    p.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))  # fmt: skip
    with pytest.raises(PermissionDenied, match="P-256"):
        TokenIssuer(TokenConfig(key=str(p)))
