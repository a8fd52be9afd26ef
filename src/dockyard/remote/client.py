"""RegistryClient: requests to one registry repository with auth, retries and error categories.

The first request pings `/v2/` to learn the scheme (see hosts.base_urls) and the auth
challenge. A Bearer challenge is answered with a token for the scopes in use (fetched with
basic credentials, an identity token, or anonymously) and fetched again when a later 401
asks for more; a Basic challenge is answered with the credentials on every request.
Connection errors, 429 and 5xx are retried with exponential back-off; bodies are given as
bytes or as a callable making a fresh iterable, so a retry can send them again.
"""

import time
from _thread import allocate_lock  # threading costs ~0.6 ms to import; a lock is all we need

from dockyard.errors import (
    DockyardError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from dockyard.remote import auth as _auth
from dockyard.remote.credentials import Credentials
from dockyard.remote.hosts import base_urls

USER_AGENT = "dockyard/0.1"
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_ERROR_BODY = 64 << 10


class RegistryClient:
    def __init__(
        self,
        host: str,
        repository: str,
        credentials: Credentials | None = None,
        *,
        insecure: bool = False,
        actions: tuple[str, ...] = ("pull",),
        retries: int = 4,
        backoff: float = 0.25,
        timeout: float = 60.0,
        tls=None,
        proxies=None,
    ):
        self.host = host
        self.tls = tls  # remote.certs.TlsFiles from certs.d, or None
        self.proxies = proxies  # remote.proxy.Proxies, or None
        self.repository = repository
        self.credentials = credentials or Credentials()
        self.retries = retries
        self.backoff = backoff
        self._candidates = base_urls(host, insecure)
        self._timeout = timeout
        self._http = None
        self._early = None  # requests sent with the ping, answers not read yet (start_early)
        self.base = ""
        self._scopes = [_auth.repository_scope(repository, actions)] if repository else []
        self._challenge: _auth.Challenge | None = None
        self._auth_header = ""
        self._lock = allocate_lock()
        self.requests = 0  # how many HTTP requests were sent (tests and benchmarks read it)
        # login: ask the token service for a refresh token (Docker's identity token), kept here
        self.offline = False
        self.identity_token = ""

    # -- connection -----------------------------------------------------------------

    def _client(self, verify: bool):
        from dockyard.remote.http import HttpClient

        return HttpClient(verify, self._timeout, USER_AGENT, self.tls, self.proxies)

    def close(self) -> None:
        early = self._take_early()
        if early is not None:  # sent, never read: nobody will
            http, _, sent = early[3]
            http.abandon_many(sent)
            http.close()
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> "RegistryClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ping(self) -> None:
        """Find a working base URL and the auth challenge (idempotent).

        Each candidate (see hosts.base_urls) is tried once per round; rounds repeat with
        back-off while the registry cannot be reached or answers 5xx.
        """
        from dockyard.remote.http import TransportError

        if self.base:
            return
        early = self._take_early()
        if early is not None:  # its ping's answer is the one wanted; the others are dropped
            self._finish_along(early[3])
            if self.base:
                return
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            failures = []  # each candidate's, so that the first one's reason is not lost
            for base, verify in self._candidates:
                http = self._client(verify)
                try:
                    self.requests += 1
                    r = http.send("GET", base + "/v2/", {})
                except TransportError as e:
                    http.close()
                    failures.append(_describe(e))
                    continue
                if r.status_code == 401:
                    self._challenge = _auth.pick(
                        _auth.parse_challenges(r.headers.get("www-authenticate", ""))
                    )
                elif r.status_code >= 400 and r.status_code != 404:
                    http.close()
                    failures.append(f"{base}/v2/ answered {r.status_code}")
                    continue
                self._http, self.base = http, base
                return
            last = "; ".join(failures)
            if "answered 4" in last:
                break  # a definite answer, not an outage: do not wait for it to change
        raise Unavailable(f"cannot reach registry {self.host}: {last}")

    # -- auth -----------------------------------------------------------------------

    def add_scope(self, scope: str) -> None:
        """Widen the access asked for; a bearer token is fetched again for the new set.

        Registries answer a mount without pull access on its source with a plain upload,
        not a 401, so the wider token must be there before the request.
        """
        self.ping()
        with self._lock:
            merged = _auth.merge_scopes([*self._scopes, scope])
            if merged == _auth.merge_scopes(self._scopes):
                return
            self._scopes = merged
            if self._challenge is not None and self._challenge.scheme == "bearer":
                self._refresh_auth()

    def authenticate(self) -> None:
        """Obtain what the challenge asks for now (login uses this to check credentials)."""
        self.ping()
        with self._lock:
            self._refresh_auth()

    def _refresh_auth(self) -> None:
        ch = self._challenge
        if ch is None:
            self._auth_header = ""
        elif ch.scheme == "basic":
            self._auth_header = self._basic() if self.credentials.username else ""
        else:
            scopes = _auth.merge_scopes(self._scopes)
            self._auth_header = "Bearer " + self._fetch_token(ch, scopes)

    def _basic(self) -> str:
        import base64

        c = self.credentials
        return "Basic " + base64.b64encode(f"{c.username}:{c.password}".encode()).decode()

    def _fetch_token(self, ch: _auth.Challenge, scopes: list[str]) -> str:
        from urllib.parse import urlencode

        from dockyard.remote.http import TransportError

        realm = ch.params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise Unavailable(f"{self.host}: bearer challenge without a usable realm")
        service = ch.params.get("service", "")
        c = self.credentials
        if c and realm.startswith("http://") and self.base.startswith("https://"):
            # The registry is reached over TLS: its credentials do not go out in clear text.
            raise PermissionDenied(f"refusing to send credentials to the plain-HTTP token "
                                   f"service {realm} of {self.host}")  # fmt: skip
        try:
            if c.identity_token:
                data = {"grant_type": "refresh_token", "refresh_token": c.identity_token,
                        "client_id": "dockyard", "service": service, "scope": " ".join(scopes)}  # fmt: skip
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                r = self._http.send("POST", realm, headers, urlencode(data).encode())
            else:
                params = [("service", service)] if service else []
                params += [("scope", s) for s in scopes]
                headers = {}
                if c.username:
                    params.append(("account", c.username))
                    headers["Authorization"] = self._basic()
                    if self.offline:
                        params += [("client_id", "dockyard"), ("offline_token", "true")]
                sep = "&" if "?" in realm else "?"
                url = realm + sep + urlencode(params) if params else realm
                r = self._http.send("GET", url, headers)
        except TransportError as e:
            raise Unavailable(f"cannot reach the token service {realm}: {_describe(e)}")
        self.requests += 1
        if r.status_code in (401, 403) or (r.status_code == 400 and c.identity_token):
            # a 400 to a refresh grant is OAuth2's invalid_grant: the identity token is dead
            raise PermissionDenied(f"unauthorized: {_error_text(r) or 'authentication required'}")
        if r.status_code != 200:
            raise Unavailable(f"token service {realm} answered {r.status_code}")
        try:
            obj = r.json()
        except ValueError:
            raise Unavailable(f"token service {realm} answered something that is not JSON")
        token = obj.get("token") or obj.get("access_token") if isinstance(obj, dict) else None
        if not isinstance(token, str) or not token:
            raise Unavailable(f"token service {realm} answered no token")
        refresh = obj.get("refresh_token")
        if self.offline and isinstance(refresh, str) and 0 < len(refresh) <= 64 << 10:
            self.identity_token = refresh
        return token

    def _reauth_for(self, r) -> bool:
        """After a 401: a new token (expired, or too narrow for the scope the registry asks
        for), or Basic credentials not sent yet; False if trying again is of no use."""
        ch = _auth.pick(_auth.parse_challenges(r.headers.get("www-authenticate", "")))
        if ch is None:
            return False
        with self._lock:
            if ch.scheme == "bearer":
                wanted = ch.params.get("scope", "")
                self._scopes = _auth.merge_scopes(self._scopes + ([wanted] if wanted else []))
            elif self._challenge is not None and self._challenge.scheme == "basic":
                return False
            self._challenge = ch
            self._refresh_auth()
        return True

    # -- requests -------------------------------------------------------------------

    def url(self, path: str) -> str:
        """An absolute URL for a path under /v2/<repository>/ or a Location the registry gave."""
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/"):
            return self.base + path
        return f"{self.base}/v2/{self.repository}/{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict | None = None,
        body=None,
        stream: bool = False,
        ok: tuple[int, ...] = (200,),
        what: str = "",
    ):
        """Send with auth and retries; the response if its status is in `ok`, else an error.

        With `stream=True` the caller must close the response.
        """
        self.ping()
        if self._challenge is not None and not self._auth_header:
            with self._lock:
                if not self._auth_header:
                    self._refresh_auth()
        url = self.url(path)
        # Credentials go to the registry only, not to a host its Location headers name.
        own = url == self.base or url.startswith(self.base + "/")
        reauthed = False
        while True:
            h = dict(headers or {})
            if self._auth_header and own:
                h["Authorization"] = self._auth_header
            r = self._send_retrying(self._http, method, url, h, body, stream)
            if r.status_code == 401 and not reauthed:
                reauthed = True
                if stream:
                    _drain(r)
                if self._reauth_for(r):
                    continue
            if r.status_code in ok:
                return r
            if stream:
                _drain(r)
            raise _status_error(r, what or f"{method} {path}")

    def request_many(
        self, method: str, paths: list[str], ok: tuple[int, ...], headers: dict | None = None
    ) -> list:
        """Several body-less requests (HEADs) sent in parallel without threads; any that
        fails or needs auth again is sent once more through `request`. The responses, read."""
        responses = None
        early = self._take_early()
        if early is not None:
            along = self._finish_along(early[3])
            if early[:3] == (method, tuple(paths), dict(headers or {})):
                responses = along  # else it served as the ping; its other answers are dropped
        elif not self.base and not self.credentials:
            responses = self._finish_along(self._start_along(method, paths, headers or {}))
        self.ping()
        if self._challenge is not None:
            responses = None  # any answered along with the ping went without auth: ask again
            if not self._auth_header:
                with self._lock:
                    if not self._auth_header:
                        self._refresh_auth()
        if responses is None:
            h = dict(headers or {})
            if self._auth_header:
                h["Authorization"] = self._auth_header
            self.requests += len(paths)
            responses = self._http.send_many(method, [self.url(p) for p in paths], h)
        out = []
        for path, r in zip(paths, responses, strict=True):
            if r is None or r.status_code not in ok:
                r = self.request(method, path, headers=headers, ok=ok)
            out.append(r)
        return out

    def start_early(self, method: str, paths: list[str], headers: dict | None = None) -> None:
        """Send what `request_many(method, paths, ok, headers)` will ask, with the ping, now;
        its answers are read when that call comes, so local work goes on while the registry
        answers. Only for an anonymous client that has not pinged (else nothing is sent). Any
        other first request takes the ping's answer from them and drops the rest."""
        if self.base or self.credentials or self._early is not None:
            return
        h = dict(headers or {})
        self._early = (method, tuple(paths), h, self._start_along(method, list(paths), h))

    def _take_early(self):
        early, self._early = self._early, None
        return early

    def _start_along(self, method: str, paths: list[str], headers: dict):
        """Send a ping of the first candidate base URL with the requests themselves in the
        same round: an anonymous client saves a round trip when the registry asks for no
        auth (a no-op push is one round). `_finish_along` reads the answers."""
        base, verify = self._candidates[0]
        http = self._client(verify)
        urls = [base + "/v2/"] + [f"{base}/v2/{self.repository}/{p}" for p in paths]
        self.requests += len(urls)
        return http, base, http.start_many(["GET"] + [method] * len(paths), urls, headers)

    def _finish_along(self, started) -> list | None:
        """The answers to `_start_along`'s requests. None when that candidate does not answer
        as a registry; the responses otherwise (the caller sends them again if the ping found
        a challenge)."""
        from dockyard.remote.http import TransportError

        http, base, sent = started
        try:
            responses = http.finish_many(sent)
        except TransportError:
            responses = [None]
        first = responses[0]
        if first is None or (first.status_code >= 400 and first.status_code not in (401, 404)):
            http.close()
            return None  # the ordinary ping tries every candidate, with back-off
        if first.status_code == 401:
            self._challenge = _auth.pick(
                _auth.parse_challenges(first.headers.get("www-authenticate", ""))
            )
        self._http, self.base = http, base
        return responses[1:]

    def _send_retrying(self, http, method, url, headers, body, stream=False):
        from dockyard.remote.http import TransportError

        attempt = 0
        while True:
            content = body() if callable(body) else body
            try:
                self.requests += 1
                r = http.send(method, url, headers, content, stream)
            except TransportError as e:
                if attempt >= self.retries:
                    raise Unavailable(f"{method} {_short(url)}: {_describe(e)}")
            else:
                if r.status_code not in _RETRY_STATUS or attempt >= self.retries:
                    return r
                r.close()
            time.sleep(self.backoff * (2**attempt))
            attempt += 1


def _drain(r) -> None:
    """Read a small error body (once) and release the connection."""
    from dockyard.remote.http import TransportError

    try:
        if not r.is_closed:
            r.read()
    except TransportError:
        pass
    finally:
        r.close()


def _short(url: str) -> str:
    return url.partition("?")[0]


def _describe(e) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0] if text else "unknown error"


def _error_text(r) -> str:
    """`code: message` from a distribution error document, or the start of the body."""
    try:
        data = r.content[:MAX_ERROR_BODY]
    except Exception:  # a streamed body that was not read
        return ""
    import json

    try:
        obj = json.loads(data)
    except ValueError:
        return data.decode(errors="replace").strip().splitlines()[0][:200] if data.strip() else ""
    errors = obj.get("errors") if isinstance(obj, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        e = errors[0]
        code = str(e.get("code", "")).lower().replace("_", " ")
        msg = str(e.get("message", ""))
        return f"{code}: {msg}" if code and msg else code or msg
    if isinstance(obj, dict) and isinstance(obj.get("details"), str):
        return obj["details"]
    return ""


def _status_error(r, what: str) -> DockyardError:
    defaults = {401: "unauthorized: authentication required",
                403: "denied: requested access to the resource is denied",
                407: "the proxy requires authentication (user:password in HTTP_PROXY)"}  # fmt: skip
    text = _error_text(r) or defaults.get(r.status_code, f"HTTP {r.status_code}")
    if r.status_code == 404:
        return NotFound(f"{what}: {text}")
    if r.status_code in (401, 403):
        return PermissionDenied(f"{what}: {text}")
    if r.status_code in (400, 405, 413, 416):
        return InvalidArgument(f"{what}: {text}")
    return Unavailable(f"{what}: {text}")
