"""Registry credentials in Docker's place and format: `config.json` and credential helpers.

`<config dir>/config.json` (`$DOCKER_CONFIG` or `~/.docker`, chosen at the edge) holds
`auths: {server: {auth: base64(user:password), identitytoken}}`. `credsStore` names a helper
for every server and `credHelpers` one per server; a helper is the program
`docker-credential-<name>` speaking Docker's protocol on stdin/stdout (`get` takes the server
and answers `{"ServerURL", "Username", "Secret"}`; `store` takes that object; `erase` takes
the server). The file is rewritten atomically (0600) and keys it does not know are kept.
"""

import os

from dockyard.errors import FailedPrecondition, InvalidArgument, NotFound
from dockyard.record import Record
from dockyard.remote.hosts import normalize_server

CONFIG_FILE = "config.json"
TOKEN_USER = "<token>"  # a helper's Username when the Secret is an identity (refresh) token


class Credentials(Record):  # a Record, not a NamedTuple: typing costs ~2 ms to import
    username: str = ""
    password: str = ""
    identity_token: str = ""

    def __bool__(self) -> bool:
        return bool(self.username or self.identity_token)


class CredentialStore:
    def __init__(self, config_dir: str):
        self.config_dir = config_dir

    @property
    def path(self) -> str:
        return os.path.join(self.config_dir, CONFIG_FILE)

    # -- the file -------------------------------------------------------------------

    def _load(self) -> dict:
        from dockyard import fastjson

        try:
            with open(self.path, "rb") as f:
                data = f.read(4 << 20)
        except FileNotFoundError:
            return {}
        if not data.strip():
            return {}
        try:
            obj = fastjson.loads(data)
        except ValueError as e:
            raise InvalidArgument(f"{self.path}: not valid JSON ({e})")
        if not isinstance(obj, dict):
            raise InvalidArgument(f"{self.path}: must hold a JSON object")
        return obj

    def _save(self, obj: dict) -> None:
        import json

        os.makedirs(self.config_dir, mode=0o700, exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(obj, f, indent="\t")
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    def _helper(self, obj: dict, key: str) -> str:
        helpers = obj.get("credHelpers")
        if isinstance(helpers, dict):
            for name, helper in helpers.items():
                if normalize_server(name) == normalize_server(key) and isinstance(helper, str):
                    return helper
        store = obj.get("credsStore")
        return store if isinstance(store, str) else ""

    # -- the interface --------------------------------------------------------------

    def helper_for(self, key: str) -> str:
        """The credential helper that holds `key`'s secret ("" = the file itself)."""
        return self._helper(self._load(), key)

    def get(self, key: str) -> Credentials:
        """The credentials for a server key (empty Credentials when there are none)."""
        obj = self._load()
        helper = self._helper(obj, key)
        if helper:
            return helper_get(helper, key)
        auths = obj.get("auths")
        if not isinstance(auths, dict):
            return Credentials()
        for name, entry in auths.items():
            if normalize_server(name) == normalize_server(key) and isinstance(entry, dict):
                return _decode_entry(entry, name)
        return Credentials()

    def store(self, key: str, creds: Credentials) -> None:
        obj = self._load()
        helper = self._helper(obj, key)
        auths = obj.setdefault("auths", {})
        if not isinstance(auths, dict):
            raise InvalidArgument(f"{self.path}: auths must be an object")
        for name in [n for n in auths if normalize_server(n) == normalize_server(key)]:
            del auths[name]
        if helper:
            helper_store(helper, key, creds)
            auths[key] = {}  # Docker keeps the server listed, the secret lives in the helper
        else:
            auths[key] = _encode_entry(creds)
        self._save(obj)

    def erase(self, key: str) -> bool:
        """Forget `key`'s credentials; False when there were none in the file."""
        obj = self._load()
        helper = self._helper(obj, key)
        auths = obj.get("auths") if isinstance(obj.get("auths"), dict) else {}
        names = [n for n in auths if normalize_server(n) == normalize_server(key)]
        for name in names:
            del auths[name]
        if names:
            self._save(obj)
        if helper:
            helper_erase(helper, key)
        return bool(names)


def _encode_entry(creds: Credentials) -> dict:
    import base64

    entry = {}
    if creds.identity_token:
        entry["identitytoken"] = creds.identity_token
    if creds.username:
        raw = f"{creds.username}:{creds.password}".encode()
        entry["auth"] = base64.b64encode(raw).decode()
    return entry


def _decode_entry(entry: dict, name: str) -> Credentials:
    import base64
    import binascii

    token = entry.get("identitytoken") if isinstance(entry.get("identitytoken"), str) else ""
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidArgument(f"config.json: the auth of {name} is not valid base64")
        if not sep:
            raise InvalidArgument(f"config.json: the auth of {name} is not user:password")
        return Credentials(user, password, token or "")
    user = entry.get("username") if isinstance(entry.get("username"), str) else ""
    password = entry.get("password") if isinstance(entry.get("password"), str) else ""
    return Credentials(user or "", password or "", token or "")


# -- credential helpers ---------------------------------------------------------------

_NOT_FOUND_TEXT = "credentials not found"


def _run_helper(helper: str, action: str, data: bytes) -> bytes:
    import subprocess

    program = f"docker-credential-{helper}"
    try:
        p = subprocess.run([program, action], input=data, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise NotFound(f"credential helper {program} not found in PATH")
    except subprocess.TimeoutExpired:
        raise FailedPrecondition(f"credential helper {program} {action} timed out")
    if p.returncode != 0:
        msg = (p.stdout or p.stderr).decode(errors="replace").strip().splitlines()
        text = msg[0] if msg else f"exit status {p.returncode}"
        if _NOT_FOUND_TEXT in text.lower():
            raise NotFound(text)
        raise FailedPrecondition(f"credential helper {program} {action}: {text}")
    return p.stdout


def helper_get(helper: str, key: str) -> Credentials:
    import json

    try:
        out = _run_helper(helper, "get", key.encode())
    except NotFound as e:
        if "not found in PATH" in str(e):
            raise
        return Credentials()
    try:
        obj = json.loads(out)
    except ValueError:
        raise FailedPrecondition(f"credential helper {helper}: its answer is not JSON")
    if not isinstance(obj, dict):
        raise FailedPrecondition(f"credential helper {helper}: its answer is not an object")
    user = obj.get("Username") if isinstance(obj.get("Username"), str) else ""
    secret = obj.get("Secret") if isinstance(obj.get("Secret"), str) else ""
    if user == TOKEN_USER:
        return Credentials(identity_token=secret)
    return Credentials(user, secret)


def helper_store(helper: str, key: str, creds: Credentials) -> None:
    import json

    user, secret = creds.username, creds.password
    if creds.identity_token:
        user, secret = TOKEN_USER, creds.identity_token
    msg = {"ServerURL": key, "Username": user, "Secret": secret}
    _run_helper(helper, "store", json.dumps(msg).encode())


def helper_erase(helper: str, key: str) -> None:
    try:
        _run_helper(helper, "erase", key.encode())
    except NotFound as e:
        if "not found in PATH" in str(e):
            raise
