"""A small HTTP/1.1 client on plain sockets: a keep-alive connection pool shared by threads,
redirects that drop credentials when the host changes, bodies streamed both ways
(Content-Length or chunked).

Why not httpx or http.client: importing httpx and building its client costs ~50 ms and
http.client ~15 ms (it parses headers with the email package), more than a no-op push takes
on the wire. What a registry client needs of HTTP/1.1 is small and is all here.
"""

import _socket  # the socket module costs ~2 ms to import (enum, selectors, array)
import io
from _thread import allocate_lock  # threading costs ~0.6 ms to import; a lock is all we need

MAX_REDIRECTS = 10
MAX_HEADER_LINE = 64 << 10
MAX_HEADERS = 200
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_BUF = 1 << 20


class TransportError(Exception):
    """The request could not be completed: connection refused, reset, cut short, timed out."""


class Headers:
    """Response headers: case-insensitive `get`, `in` and `[]`; repeated fields joined by ", "."""

    __slots__ = ("_d",)

    def __init__(self):
        self._d: dict[str, str] = {}

    def add(self, name: str, value: str) -> None:
        key = name.lower()
        self._d[key] = f"{self._d[key]}, {value}" if key in self._d else value

    def get(self, name: str, default=None):
        return self._d.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._d[name.lower()]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._d


class _SockReader(io.RawIOBase):
    """The raw byte stream of a socket, for a BufferedReader (socket.makefile without the
    socket module: a TLS socket from ssl works the same way)."""

    def __init__(self, sock):
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        return self._sock.recv_into(b)


class _Conn:
    """One socket with its buffered reader."""

    __slots__ = ("rfile", "sock")

    def __init__(self, sock):
        self.sock = sock
        self.rfile = io.BufferedReader(_SockReader(sock), _BUF)

    def close(self) -> None:
        try:
            self.rfile.close()
        finally:
            self.sock.close()


def _readline(rfile) -> bytes:
    line = rfile.readline(MAX_HEADER_LINE + 1)
    if len(line) > MAX_HEADER_LINE:
        raise TransportError("response header line too long")
    return line


class Response:
    """A response whose body is read on demand; `close()` returns the connection to the pool."""

    def __init__(self, conn: _Conn, method: str, url: str, pool, key):
        self.url = url
        self._conn, self._pool, self._key = conn, pool, key
        self._content: bytes | None = None
        self.is_closed = False
        rfile = conn.rfile
        while True:  # skip 1xx interim responses
            line = _readline(rfile)
            if not line:
                raise TransportError("the server closed the connection without a response")
            parts = line.decode("latin-1").split(None, 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise TransportError(f"not an HTTP/1.x response: {line[:80]!r}")
            self.status_code = int(parts[1])
            self.headers = self._read_headers(rfile)
            if not 100 <= self.status_code < 200:
                break
        te = (self.headers.get("transfer-encoding") or "").lower()
        self._chunked = "chunked" in te
        self._remaining = -1  # -1: until the connection closes
        if method == "HEAD" or self.status_code in (204, 304):
            self._remaining = 0
        elif not self._chunked:
            cl = self.headers.get("content-length")
            if cl is not None:
                if not cl.strip().isdigit():
                    raise TransportError(f"bad Content-Length {cl!r}")
                self._remaining = int(cl)
        self._chunk_left = 0
        self._done = self._remaining == 0
        conn_hdr = (self.headers.get("connection") or "").lower()
        self._keep = "close" not in conn_hdr and (self._chunked or self._remaining >= 0)

    @staticmethod
    def _read_headers(rfile) -> Headers:
        h = Headers()
        for _ in range(MAX_HEADERS + 1):
            line = _readline(rfile)
            if line in (b"\r\n", b"\n", b""):
                return h
            name, sep, value = line.decode("latin-1").partition(":")
            if sep:
                h.add(name.strip(), value.strip())
        raise TransportError("too many response headers")

    # -- the body -----------------------------------------------------------------------

    def _read1(self, size: int) -> bytes:
        """Up to `size` body bytes that are available now; b"" at the end of the body."""
        if self._done:
            return b""
        rfile = self._conn.rfile
        if self._chunked:
            if self._chunk_left == 0:
                line = _readline(rfile)
                try:
                    self._chunk_left = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise TransportError(f"bad chunk size line {line[:40]!r}") from None
                if self._chunk_left == 0:
                    while _readline(rfile) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    self._done = True
                    return b""
            data = rfile.read1(min(size, self._chunk_left))
            if not data:
                raise TransportError("the connection closed in the middle of a chunk")
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                _readline(rfile)  # the CRLF after the chunk
            return data
        if self._remaining < 0:
            data = rfile.read1(size)
            if not data:
                self._done = True
            return data
        data = rfile.read1(min(size, self._remaining))
        if not data:
            raise TransportError(
                f"the connection closed with {self._remaining} bytes of the body still to come"
            )
        self._remaining -= len(data)
        if self._remaining == 0:
            self._done = True
        return data

    def iter_raw(self, size: int = _BUF):
        """The body's bytes as they arrive; TransportError if the connection ends early."""
        try:
            while True:
                chunk = self._read1(size)
                if not chunk:
                    break
                yield chunk
        except (OSError, TransportError) as e:
            self._discard()
            raise TransportError(f"reading the response: {_describe(e)}") from None
        self.close()

    iter_bytes = iter_raw

    def read(self) -> bytes:
        if self._content is None and self.is_closed:
            return b""  # closed before its body was read: there is none to give
        if self._content is None:
            self._content = b"".join(self.iter_raw())
        return self._content

    @property
    def content(self) -> bytes:
        return self.read()

    def json(self):
        import json

        return json.loads(self.read())

    def _discard(self) -> None:
        if not self.is_closed:
            self.is_closed = True
            self._conn.close()

    def close(self) -> None:
        if self.is_closed:
            return
        self.is_closed = True
        if self._done and self._keep:  # fully read: the connection can serve another request
            self._pool._give_back(self._key, self._conn)
        else:
            self._conn.close()


class HttpClient:
    """`tls` (remote.certs.TlsFiles): extra CAs and a client certificate; `proxies`
    (remote.proxy.Proxies): the proxy for each URL, or None."""

    def __init__(
        self,
        verify: bool = True,
        timeout: float = 60.0,
        user_agent: str = "",
        tls=None,
        proxies=None,
    ):
        self.verify = verify
        self.timeout = timeout
        self.user_agent = user_agent
        self.tls = tls
        self.proxies = proxies or None
        self._idle: dict[tuple, list] = {}
        self._lock = allocate_lock()
        self._ssl = None

    # -- connections ------------------------------------------------------------------

    def _context(self):
        if self._ssl is None:
            import ssl

            ctx = ssl.create_default_context()
            if not self.verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["http/1.1"])
            if self.tls:
                try:
                    for ca in self.tls.cas:  # trusted as well as the system's
                        ctx.load_verify_locations(cafile=ca)
                    if self.tls.pairs:
                        ctx.load_cert_chain(*self.tls.pairs[0])
                except (OSError, ssl.SSLError, ValueError) as e:
                    raise TransportError(f"loading TLS files: {_describe(e)}") from None
            self._ssl = ctx
        return self._ssl

    def _proxy(self, key):
        return self.proxies.for_url(*key) if self.proxies is not None else None

    def _plain_proxy(self, key):
        """The proxy a plain-HTTP request goes through in absolute form (https: a tunnel)."""
        return self._proxy(key) if key[0] == "http" else None

    def _connect(self, key) -> _Conn:
        scheme, host, port = key
        proxy = self._proxy(key)
        peer, peer_port = (proxy.host, proxy.port) if proxy is not None else (host, port)
        # An ASCII name goes as bytes: a str is encoded with the idna codec, an import of its own
        addr = peer.encode() if peer.isascii() else peer
        sock = _open_socket(addr, peer_port, min(self.timeout, 15.0))
        try:
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            if proxy is not None and scheme == "https":
                _tunnel(sock, host, port, proxy)
            if scheme == "https":
                import socket  # ssl wraps socket.socket objects only (and imports it anyway)

                sock = socket.socket(sock.family, sock.type, sock.proto, sock.detach())
                sock.settimeout(min(self.timeout, 15.0))
                sock = self._context().wrap_socket(sock, server_hostname=host)
            sock.settimeout(self.timeout)
        except BaseException:
            sock.close()
            raise
        return _Conn(sock)

    def _take(self, key) -> tuple[_Conn, bool]:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                return idle.pop(), True
        return self._connect(key), False

    def _give_back(self, key, conn: _Conn) -> None:
        with self._lock:
            self._idle.setdefault(key, []).append(conn)

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for c in conns:
            c.close()

    # -- requests ---------------------------------------------------------------------

    def send(self, method: str, url: str, headers: dict, body=None, stream: bool = False):
        """One request, following redirects; the body is read unless `stream`."""
        for _ in range(MAX_REDIRECTS + 1):
            r = self._send_once(method, url, headers, body)
            location = r.headers.get("location")
            if r.status_code not in _REDIRECTS or not location:
                if not stream:
                    r.read()
                return r
            r.read()
            from urllib.parse import urljoin  # only for redirects

            target = urljoin(url, location)
            if _origin(target) != _origin(url):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if r.status_code == 303 or (r.status_code in (301, 302) and method == "POST"):
                method, body = "GET", None
            url = target
        raise TransportError(f"too many redirects from {url.partition('?')[0]}")

    def _send_once(self, method: str, url: str, headers: dict, body) -> Response:
        scheme, host, port, netloc, target = split_url(url)
        key = (scheme, host, port)
        if any(c in target or c in netloc for c in " \t\r\n"):
            raise TransportError(f"refusing a URL with blanks or line breaks: {url[:80]!r}")
        head, chunks = self._encode(method, target, netloc, headers, body, self._plain_proxy(key))
        while True:
            try:
                conn, reused = self._take(key)
            except OSError as e:
                raise TransportError(f"{method} {url.partition('?')[0]}: {_describe(e)}") from None
            try:
                self._write(conn, head, chunks)
                return Response(conn, method, url, self, key)
            except (OSError, TransportError) as e:
                conn.close()
                # A kept-alive connection the server closed meanwhile: try a fresh one, if
                # the body can be sent again.
                if reused and chunks is None:
                    continue
                raise TransportError(f"{method} {url.partition('?')[0]}: {_describe(e)}") from None

    def send_many(self, method: str | list[str], urls: list[str], headers: dict) -> list:
        """Body-less requests sent at once on separate connections, then their responses read
        in order (the server works on them in parallel; no thread is started). `method` is one
        for all or one per URL. An entry is None where the request failed; the caller retries
        those its own way."""
        return self.finish_many(self.start_many(method, urls, headers))

    def start_many(self, method: str | list[str], urls: list[str], headers: dict) -> list:
        """The sending half of `send_many`: the requests go out now; `finish_many` reads the
        answers (the caller may do other work meanwhile) or `abandon_many` drops them."""
        methods = [method] * len(urls) if isinstance(method, str) else list(method)
        sent: list = []
        for method, url in zip(methods, urls, strict=True):
            try:
                scheme, host, port, netloc, target = split_url(url)
                key = (scheme, host, port)
                if any(c in target or c in netloc for c in " \t\r\n"):
                    raise TransportError("blanks or line breaks in the URL")
                head, _ = self._encode(
                    method, target, netloc, headers, None, self._plain_proxy(key)
                )
                conn, _ = self._take(key)
            except (OSError, ValueError, TransportError):
                sent.append(None)
                continue
            try:
                conn.sock.sendall(head)
                sent.append((conn, key, url, method))
            except OSError:
                conn.close()
                sent.append(None)
        return sent

    def finish_many(self, sent: list) -> list:
        """The responses (read) to what `start_many` sent; None where a request failed."""
        out: list = []
        for item in sent:
            if item is None:
                out.append(None)
                continue
            conn, key, url, method = item
            try:
                r = Response(conn, method, url, self, key)
                r.read()
                out.append(r)
            except (OSError, TransportError):
                conn.close()
                out.append(None)
        return out

    @staticmethod
    def abandon_many(sent: list) -> None:
        """Close the connections of requests whose answers nobody will read."""
        for item in sent:
            if item is not None:
                item[0].close()

    def _encode(self, method, target, netloc, headers, body, proxy=None) -> tuple[bytes, object]:
        """The request head with the body folded in when it is bytes; else the body iterable.
        Through a proxy a plain-HTTP request names the whole URL (https goes in a tunnel)."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {netloc}"]
        if proxy is not None:
            lines[0] = f"{method} http://{netloc}{target} HTTP/1.1"
            if proxy.authorization:
                lines.append(f"Proxy-Authorization: {proxy.authorization}")
        names = {k.lower() for k in headers}
        if self.user_agent and "user-agent" not in names:
            lines.append(f"User-Agent: {self.user_agent}")
        if "accept-encoding" not in names:
            lines.append("Accept-Encoding: identity")
        chunks = None
        if body is None or isinstance(body, (bytes, bytearray, memoryview)):
            if body is not None or method in ("POST", "PUT", "PATCH"):
                lines.append(f"Content-Length: {len(body) if body is not None else 0}")
        else:
            chunks = body
            if "content-length" not in names:
                lines.append("Transfer-Encoding: chunked")
        for k, v in headers.items():
            if "\r" in k or "\n" in k or "\r" in str(v) or "\n" in str(v):
                raise TransportError(f"refusing a header with a line break ({k})")
            lines.append(f"{k}: {v}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if chunks is None and body:
            head += bytes(body)
        return head, chunks

    @staticmethod
    def _write(conn: _Conn, head: bytes, chunks) -> None:
        sock = conn.sock
        sock.sendall(head)
        if chunks is None:
            return
        chunked = b"Transfer-Encoding: chunked" in head
        for chunk in chunks:
            if not chunk:
                continue
            if chunked:
                sock.sendall(b"%x\r\n" % len(chunk))
                sock.sendall(chunk)
                sock.sendall(b"\r\n")
            else:
                sock.sendall(chunk)
        if chunked:
            sock.sendall(b"0\r\n\r\n")


def _tunnel(sock, host: str, port: int, proxy) -> None:
    """Ask the proxy on `sock` for a tunnel to host:port (CONNECT); TransportError unless it
    answers 2xx. The proxy sends nothing after its answer until the client speaks, so every
    byte read here is the answer's."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEADER_LINE:
            raise TransportError(f"proxy {proxy.url}: answer to CONNECT too long")
        chunk = sock.recv(4096)
        if not chunk:
            raise TransportError(f"proxy {proxy.url} closed the connection on CONNECT")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise TransportError(f"proxy {proxy.url}: not an HTTP answer to CONNECT: {status[:80]!r}")
    if not parts[1].startswith("2"):
        raise TransportError(f"proxy {proxy.url} refused the tunnel to {authority}: "
                             f"{' '.join(parts[1:])[:120]}")  # fmt: skip
    if rest:
        raise TransportError(f"proxy {proxy.url} sent data before the tunnel was used")


def _open_socket(host, port: int, timeout: float):
    """A TCP connection to the first address of `host` that accepts one (socket's
    create_connection, on the _socket module)."""
    last: OSError | None = None
    for family, kind, proto, _name, addr in _socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(addr)
            return sock
        except OSError as e:
            sock.close()
            last = e
    raise last or OSError(f"no address for {host!r}")


def split_url(url: str) -> tuple[str, str, int, str, str]:
    """(scheme, host, port, netloc, request target) of an http(s) URL; TransportError when
    it is not one. Done here, not with urllib.parse, whose import (with ipaddress) costs about
    as much as a no-op push's requests."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        raise TransportError(f"unsupported URL scheme in {url!r}")
    rest = rest.partition("#")[0]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    netloc, target = rest[:cut], rest[cut:]
    if not target.startswith("/"):
        target = "/" + target
    hostport = netloc.rpartition("@")[2]
    if hostport.startswith("["):
        host, _, after = hostport[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
        if after and not after.startswith(":"):
            raise TransportError(f"bad host in {url!r}")
    else:
        host, _, port_text = hostport.partition(":")
    if port_text:
        if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
            raise TransportError(f"bad port in {url!r}")
        port = int(port_text)
    else:
        port = 443 if scheme == "https" else 80
    if not host:
        raise TransportError(f"no host in {url!r}")
    return scheme, host.lower(), port, netloc, target


def _origin(url: str) -> tuple[str, str]:
    scheme, _, rest = url.partition("://")
    return scheme.lower(), rest.partition("/")[0].partition("?")[0].lower()


def _describe(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text.splitlines()[0]
