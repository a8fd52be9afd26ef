"""The built-in token issuer of Docker's token auth: ES256-signed JWTs with access claims.

A token carries `access: [{"type": "repository", "name": ..., "actions": [...]}]`; the
registry accepts it only with a valid ES256 signature by its own key, the configured issuer
and audience (service), and a current validity window. No other algorithm is accepted.
"""

import os

from dockyard.errors import PermissionDenied
from dockyard.registry.config import TokenConfig
from dockyard.registry.fsutil import write_atomic

_LEEWAY = 60  # seconds of clock skew tolerated on nbf/exp
REFRESH_LIFETIME = 30 * 86400  # identity tokens from `docker login`; a password change ends them


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _load_or_create_key(path: str):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if path and os.path.exists(path):
        with open(path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise PermissionDenied(f"token key {path}: expected an EC P-256 private key")
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    if path:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_atomic(path, pem)
    return key


def _key_id(public_key) -> str:
    """libtrust's key ID (what Docker's registry expects in `kid`): base32 of the SPKI hash."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(b32[i : i + 4] for i in range(0, 48, 4))


class TokenIssuer:
    def __init__(self, cfg: TokenConfig):
        self.cfg = cfg
        self._key = _load_or_create_key(cfg.key)
        self._public = self._key.public_key()
        self._kid = _key_id(self._public)

    def refresh_audience(self) -> str:
        """The audience of refresh tokens: never the service's, so that one is never taken
        for an access token."""
        return self.cfg.service + "#refresh"

    def issue(
        self,
        subject: str,
        access: list[dict],
        now: float | None = None,
        *,
        refresh_stamp: str = "",
    ) -> str:
        """An access token; with `refresh_stamp` (see auth.Authorizer.stamp) a refresh token
        (an identity token, for `grant_type=refresh_token`) valid for REFRESH_LIFETIME."""
        import hashlib
        import json
        import time

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, utils

        now = int(time.time() if now is None else now)
        header = {"alg": "ES256", "typ": "JWT", "kid": self._kid}
        claims = {
            "iss": self.cfg.issuer,
            "sub": subject,
            "aud": self.refresh_audience() if refresh_stamp else self.cfg.service,
            "exp": now + (REFRESH_LIFETIME if refresh_stamp else self.cfg.expiration),
            "nbf": now - 1,
            "iat": now,
            "jti": hashlib.sha256(os.urandom(32)).hexdigest()[:32],
            "access": access,
        }
        if refresh_stamp:
            claims["pwd"] = refresh_stamp
        signing_input = (
            _b64(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64(json.dumps(claims, separators=(",", ":")).encode())
        ).encode()
        der = self._key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        r, s = utils.decode_dss_signature(der)
        return signing_input.decode() + "." + _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def verify(self, token: str, now: float | None = None, *, refresh: bool = False) -> dict:
        """The claims of a token this issuer signed and that is valid now; else PermissionDenied.
        An access token, or a refresh token with `refresh`."""
        import json
        import time

        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, utils

        parts = token.split(".")
        if len(parts) != 3 or len(token) > 64 << 10:
            raise PermissionDenied("malformed token")
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
            sig = _unb64(parts[2])
        except ValueError:
            raise PermissionDenied("malformed token")
        if not isinstance(header, dict) or header.get("alg") != "ES256" or len(sig) != 64:
            raise PermissionDenied("token is not signed with ES256")
        der = utils.encode_dss_signature(
            int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        )
        try:
            self._public.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise PermissionDenied("token signature is invalid")
        if not isinstance(claims, dict):
            raise PermissionDenied("malformed token claims")
        now = time.time() if now is None else now
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        exp, nbf = claims.get("exp"), claims.get("nbf", 0)
        audience = self.refresh_audience() if refresh else self.cfg.service
        if claims.get("iss") != self.cfg.issuer or audience not in auds:
            raise PermissionDenied("token was issued for another service")
        if not isinstance(exp, int | float) or not isinstance(nbf, int | float):
            raise PermissionDenied("token has no validity window")
        if now > exp + _LEEWAY or now < nbf - _LEEWAY:
            raise PermissionDenied("token has expired or is not valid yet")
        return claims


def token_allows(claims: dict, kind: str, name: str, action: str) -> bool:
    access = claims.get("access")
    if not isinstance(access, list):
        return False
    for entry in access:
        if (
            isinstance(entry, dict)
            and entry.get("type") == kind
            and entry.get("name") == name
            and isinstance(entry.get("actions"), list)
            and (action in entry["actions"] or "*" in entry["actions"])
        ):
            return True
    return False
