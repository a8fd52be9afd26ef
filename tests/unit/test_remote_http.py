"""The registry client's HTTP/1.1 reader and writer, over a socketpair (no network)."""

import socket

import pytest

from dockyard.remote.http import MAX_HEADER_LINE, HttpClient, Response, TransportError, _Conn


class _Pool:
    def __init__(self):
        self.returned = []

    def _give_back(self, key, conn):
        self.returned.append(conn)


def _response(raw: bytes, method: str = "GET", close: bool = True):
    a, b = socket.socketpair()
    a.sendall(raw)
    if close:
        a.close()
    pool = _Pool()
    conn = _Conn(b)
    try:
        return Response(conn, method, "http://x/", pool, ("http", "x", 80)), pool, conn
    except BaseException:
        conn.close()
        raise


def test_chunked_body_with_trailers_and_keep_alive():
    r, pool, conn = _response(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n"
    )
    assert r.status_code == 200 and r.headers["X-A"] == "1, 2"
    assert r.read() == b"hello world"
    assert pool.returned == [conn]  # fully read: the connection is reused
    conn.close()


def test_body_cut_short_is_a_transport_error():
    r, pool, _ = _response(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(TransportError, match="7 bytes of the body still to come"):
        r.read()
    assert pool.returned == [] and r.is_closed


def test_head_and_interim_responses_have_no_body():
    r, pool, conn = _response(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", "HEAD"
    )
    assert r.status_code == 200 and r.read() == b""
    assert pool.returned == [conn]
    conn.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * (MAX_HEADER_LINE + 10) + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 300 + b"\r\n",
    ],
)
def test_malformed_responses_are_refused(raw):
    with pytest.raises(TransportError):
        _response(raw)[2].close()


def test_bad_chunk_size_is_refused():
    r, _, _ = _response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    with pytest.raises(TransportError, match="chunk"):
        r.read()
    assert r.is_closed


def test_request_encoding():
    c = HttpClient(user_agent="ua")
    head, chunks = c._encode("PUT", "/v2/x?digest=a", "h:1", {"Content-Type": "t"}, b"body")
    assert head == (
        b"PUT /v2/x?digest=a HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\n"
        b"Accept-Encoding: identity\r\nContent-Length: 4\r\nContent-Type: t\r\n\r\nbody"
    )
    assert chunks is None
    head, chunks = c._encode("PATCH", "/u", "h", {}, iter([b"a"]))
    assert b"Transfer-Encoding: chunked" in head and chunks is not None
    with pytest.raises(TransportError, match="line break"):
        c._encode("GET", "/", "h", {"X": "a\r\nInjected: 1"}, None)
    with pytest.raises(TransportError, match="blanks or line breaks"):
        c.send("GET", "http://127.0.0.1:1/a b", {})


@pytest.mark.parametrize(
    ("url", "want"),
    [
        ("http://reg:5000/v2/", ("http", "reg", 5000, "reg:5000", "/v2/")),
        ("HTTPS://Reg.Example/v2/a/b?x=1&y=2", ("https", "reg.example", 443, "Reg.Example",
                                               "/v2/a/b?x=1&y=2")),
        ("http://reg?q=1", ("http", "reg", 80, "reg", "/?q=1")),
        ("http://reg/p#frag", ("http", "reg", 80, "reg", "/p")),
        ("http://user:pw@reg:81/p", ("http", "reg", 81, "user:pw@reg:81", "/p")),
        ("http://[::1]:5000/v2/", ("http", "::1", 5000, "[::1]:5000", "/v2/")),
        ("https://[fe80::1]/", ("https", "fe80::1", 443, "[fe80::1]", "/")),
    ],
)  # fmt: skip
def test_split_url(url, want):
    from dockyard.remote.http import split_url

    assert split_url(url) == want


@pytest.mark.parametrize(
    "url",
    ["ftp://reg/x", "reg:5000/v2/", "http://reg:99999/", "http://reg:5x/", "http://:80/",
     "http://[::1]x/", "http://reg:٣/"],
)  # fmt: skip
def test_split_url_refuses_what_is_not_an_http_url(url):
    from dockyard.remote.http import split_url

    with pytest.raises(TransportError):
        split_url(url)


def test_requests_over_plain_tcp_reuse_the_connection():
    """A real loopback server: connect, keep-alive reuse, and a HEAD next to a GET at once."""
    import threading

    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    accepted = []

    def answer(conn):
        f = conn.makefile("rb")
        while True:
            line = f.readline()
            if not line:
                break
            while f.readline() not in (b"\r\n", b""):
                pass
            body = b"" if line.startswith(b"HEAD ") else b"ok"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + body)

    def serve():
        for _ in range(2):
            conn, _ = srv.accept()
            accepted.append(conn)
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    http = HttpClient(verify=False)
    try:
        base = f"http://127.0.0.1:{port}"
        assert http.send("GET", base + "/a", {}).read() == b"ok"
        assert http.send("GET", base + "/b", {}).read() == b"ok"  # same connection
        rs = http.send_many(["GET", "HEAD"], [base + "/c", base + "/d"], {})
        assert [r.status_code for r in rs] == [200, 200]
        assert rs[0].read() == b"ok" and rs[1].read() == b""
    finally:
        http.close()
        t.join(5)
        for c in accepted:
            c.shutdown(socket.SHUT_RDWR)
            c.close()
        srv.close()
    assert len(accepted) == 2  # the first two requests shared one connection
