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
