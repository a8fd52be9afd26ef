"""The registry's configuration: a typed RegistryConfig, loaded from a YAML or JSON file.

Example (YAML; the same keys work in JSON):

    addr: 127.0.0.1:5000
    root: /var/lib/dockyard-registry
    read_only: false
    tls: {cert: /etc/reg/cert.pem, key: /etc/reg/key.pem}
    auth:
      htpasswd: /etc/reg/htpasswd       # bcrypt entries (htpasswd -B)
      realm: dockyard
      anonymous_pull: false
      token:                            # present: Docker token auth with a built-in issuer
        issuer: dockyard
        service: dockyard-registry
        key: /etc/reg/token-key.pem     # EC P-256 private key (PEM); generated when absent
        expiration: 300
      access:                           # absent: every authenticated user may do everything
        - {repository: "team/*", users: [alice], actions: [pull, push, delete]}
        - {repository: "*", users: ["*"], actions: [pull]}
"""

from dataclasses import dataclass, field

from dockyard.errors import InvalidArgument, NotFound

ACTIONS = ("pull", "push", "delete")


@dataclass(frozen=True)
class AccessRule:
    repository: str = "*"  # fnmatch pattern over repository names
    users: tuple[str, ...] = ("*",)  # "*" is any authenticated user
    actions: tuple[str, ...] = ACTIONS


@dataclass(frozen=True)
class TokenConfig:
    issuer: str = "dockyard"
    service: str = "dockyard-registry"
    key: str = ""  # PEM file of the signing key; "" = a fresh key each start
    expiration: int = 300
    realm: str = ""  # token endpoint URL; "" = this server's /auth/token


@dataclass(frozen=True)
class AuthConfig:
    htpasswd: str = ""
    realm: str = "dockyard"
    anonymous_pull: bool = False
    token: TokenConfig | None = None
    access: tuple[AccessRule, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.htpasswd) or self.token is not None


@dataclass(frozen=True)
class RegistryConfig:
    root: str
    addr: str = "127.0.0.1:5000"
    read_only: bool = False
    auth: AuthConfig = field(default_factory=AuthConfig)
    tls_cert: str = ""
    tls_key: str = ""
    max_manifest_size: int = 4 << 20
    max_page_entries: int = 1000  # clamp on `n` for _catalog and tags/list
    upload_purge_age: float = 7 * 86400.0  # uploads idle this long are removed
    upload_purge_interval: float = 3600.0

    def host_port(self) -> tuple[str, int]:
        host, sep, port = self.addr.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
            raise InvalidArgument(f"registry addr {self.addr!r}: expected HOST:PORT")
        return host.strip("[]") or "0.0.0.0", int(port)


def _get(obj: dict, key: str, kind: type, default, what: str):
    value = obj.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidArgument(f"registry config: {what}{key} must be a {kind.__name__}")
    return value


def _strings(obj: dict, key: str, default: tuple[str, ...], what: str) -> tuple[str, ...]:
    value = obj.get(key, list(default))
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"registry config: {what}{key} must be a list of strings")
    return tuple(value)


def _rule(obj, i: int) -> AccessRule:
    what = f"auth.access[{i}]."
    if not isinstance(obj, dict):
        raise InvalidArgument(f"registry config: auth.access[{i}] must be a mapping")
    actions = _strings(obj, "actions", ACTIONS, what)
    for a in actions:
        if a not in ACTIONS and a != "*":
            raise InvalidArgument(f"registry config: {what}actions: unknown action {a!r}")
    if "*" in actions:
        actions = ACTIONS
    return AccessRule(
        repository=_get(obj, "repository", str, "*", what),
        users=_strings(obj, "users", ("*",), what),
        actions=actions,
    )


def _token(obj) -> TokenConfig | None:
    if obj is None or obj is False:
        return None
    if obj is True:
        return TokenConfig()
    if not isinstance(obj, dict):
        raise InvalidArgument("registry config: auth.token must be a mapping")
    w = "auth.token."
    exp = _get(obj, "expiration", int, 300, w)
    if not 1 <= exp <= 86400:
        raise InvalidArgument("registry config: auth.token.expiration must be 1..86400 seconds")
    return TokenConfig(
        issuer=_get(obj, "issuer", str, "dockyard", w),
        service=_get(obj, "service", str, "dockyard-registry", w),
        key=_get(obj, "key", str, "", w),
        expiration=exp,
        realm=_get(obj, "realm", str, "", w),
    )


def _auth(obj) -> AuthConfig:
    if obj is None:
        return AuthConfig()
    if not isinstance(obj, dict):
        raise InvalidArgument("registry config: auth must be a mapping")
    w = "auth."
    rules = obj.get("access", [])
    if not isinstance(rules, list):
        raise InvalidArgument("registry config: auth.access must be a list")
    auth = AuthConfig(
        htpasswd=_get(obj, "htpasswd", str, "", w),
        realm=_get(obj, "realm", str, "dockyard", w),
        anonymous_pull=_get(obj, "anonymous_pull", bool, False, w),
        token=_token(obj.get("token")),
        access=tuple(_rule(r, i) for i, r in enumerate(rules)),
    )
    if auth.token is not None and not auth.htpasswd:
        raise InvalidArgument("registry config: auth.token needs auth.htpasswd for its users")
    return auth


_KNOWN = {
    "addr", "root", "read_only", "auth", "tls", "max_manifest_size", "max_page_entries",
    "upload_purge_age", "upload_purge_interval",
}  # fmt: skip


def config_from_dict(obj, root: str | None = None) -> RegistryConfig:
    """A RegistryConfig from a parsed document; `root` (when given) overrides the file's."""
    if not isinstance(obj, dict):
        raise InvalidArgument("registry config: the document must be a mapping")
    unknown = sorted(set(obj) - _KNOWN)
    if unknown:
        raise InvalidArgument(f"registry config: unknown key {unknown[0]!r}")
    tls = obj.get("tls") or {}
    if not isinstance(tls, dict):
        raise InvalidArgument("registry config: tls must be a mapping with cert and key")
    root = root or _get(obj, "root", str, "", "")
    if not root:
        raise InvalidArgument("registry config: root (the storage directory) is required")
    cfg = RegistryConfig(
        root=root,
        addr=_get(obj, "addr", str, "127.0.0.1:5000", ""),
        read_only=_get(obj, "read_only", bool, False, ""),
        auth=_auth(obj.get("auth")),
        tls_cert=_get(tls, "cert", str, "", "tls."),
        tls_key=_get(tls, "key", str, "", "tls."),
        max_manifest_size=_get(obj, "max_manifest_size", int, 4 << 20, ""),
        max_page_entries=_get(obj, "max_page_entries", int, 1000, ""),
        upload_purge_age=_get(obj, "upload_purge_age", float, 7 * 86400.0, ""),
        upload_purge_interval=_get(obj, "upload_purge_interval", float, 3600.0, ""),
    )
    if bool(cfg.tls_cert) != bool(cfg.tls_key):
        raise InvalidArgument("registry config: tls needs both cert and key")
    if cfg.max_manifest_size < 1 or cfg.max_page_entries < 1:
        raise InvalidArgument("registry config: limits must be positive")
    cfg.host_port()
    return cfg


def load_config(path: str, root: str | None = None) -> RegistryConfig:
    """Read a registry config file: JSON, or YAML when PyYAML is installed."""
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except FileNotFoundError:
        raise NotFound(f"registry config {path}: no such file")
    except OSError as e:
        raise InvalidArgument(f"registry config {path}: {e.strerror}")
    text = data.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        import json

        try:
            obj = json.loads(text)
        except ValueError as e:
            raise InvalidArgument(f"registry config {path}: invalid JSON: {e}")
    else:
        try:
            import yaml
        except ImportError:
            raise InvalidArgument(f"registry config {path}: YAML needs PyYAML; use JSON")
        try:
            obj = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as e:
            raise InvalidArgument(f"registry config {path}: invalid YAML: {e}".splitlines()[0])
    return config_from_dict(obj, root)
