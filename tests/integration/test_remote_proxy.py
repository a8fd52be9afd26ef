"""HTTP proxies from the environment: `dockyard pull/push` reach a registry through a proxy
(plain requests in absolute form for http, CONNECT tunnels for https, Basic proxy auth),
never for loopback or `NO_PROXY` hosts, and fail with one clear line when a proxy refuses or
misbehaves. The registry is named `registry.test:PORT`, a name only the proxy resolves: a
request that skipped the proxy could not reach it."""

import base64
import select
import socket
import socketserver
import threading

import pytest
from test_registry_support import RegistryProcess, free_port
from test_remote_support import InProcessRegistry, make_image, upload

from dockyard.remote.proxy import Proxies, parse_proxy


class Proxy:
    """A small forwarding proxy (threads): CONNECT tunnels and absolute-form requests with
    Content-Length bodies; `registry.test` resolves to 127.0.0.1. Logs request lines."""

    def __init__(self, auth: str = "", hostile: str = ""):
        self.log: list[str] = []
        self.auth = auth  # "user:password" the proxy demands, or ""
        self.hostile = hostile  # "garbage" | "chatty": a misbehaving answer to CONNECT
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                outer._serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _target(authority: str) -> tuple[str, int]:
        host, _, port = authority.rpartition(":")
        return ("127.0.0.1" if host == "registry.test" else host), int(port)

    @staticmethod
    def _head(f) -> list[str]:
        lines = []
        while True:
            line = f.readline(65536)
            if line in (b"\r\n", b"\n", b""):
                return lines
            lines.append(line.decode("latin-1").rstrip("\r\n"))

    def _authorized(self, lines: list[str]) -> bool:
        if not self.auth:
            return True
        want = "Basic " + base64.b64encode(self.auth.encode()).decode()
        return any(x.lower().startswith("proxy-authorization:") and x.split(":", 1)[1].strip()
                   == want for x in lines)  # fmt: skip

    def _serve(self, client: socket.socket) -> None:
        f = client.makefile("rb")
        upstream = None
        try:
            while True:
                lines = self._head(f)
                if not lines:
                    return
                self.log.append(lines[0])
                method, target, version = lines[0].split(" ", 2)
                if not self._authorized(lines):
                    client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                   b"Content-Length: 0\r\n\r\n")  # fmt: skip
                    return
                if method == "CONNECT":
                    if self.hostile == "garbage":
                        client.sendall(b"\x00\x01 not http at all\r\n\r\n")
                        return
                    upstream = socket.create_connection(self._target(target))
                    reply = b"HTTP/1.1 200 Connection established\r\n\r\n"
                    if self.hostile == "chatty":
                        reply += b"surprise"
                    client.sendall(reply)
                    self._relay(client, upstream, f)
                    return
                scheme_host, _, path = target.partition("://")[2].partition("/")
                if upstream is None:
                    upstream = socket.create_connection(self._target(scheme_host))
                    threading.Thread(target=self._pump, args=(upstream, client),
                                     daemon=True).start()  # fmt: skip
                kept = [x for x in lines[1:] if not x.lower().startswith("proxy-")]
                head = f"{method} /{path} {version}\r\n" + "".join(x + "\r\n" for x in kept)
                upstream.sendall(head.encode("latin-1") + b"\r\n")
                length = [int(x.split(":", 1)[1]) for x in kept
                          if x.lower().startswith("content-length:")]  # fmt: skip
                left = length[0] if length else 0
                while left:
                    data = f.read(min(left, 1 << 20))
                    if not data:
                        return
                    upstream.sendall(data)
                    left -= len(data)
        except OSError:
            return
        finally:
            if upstream is not None:
                upstream.close()
            client.close()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(1 << 20):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _relay(self, client: socket.socket, upstream: socket.socket, f) -> None:
        pending = f.peek(0) if hasattr(f, "peek") else b""
        if pending:
            upstream.sendall(f.read(len(pending)))
        socks = [client, upstream]
        while True:
            ready, _, _ = select.select(socks, [], [], 30)
            if not ready:
                return
            for s in ready:
                data = s.recv(1 << 20)
                if not data:
                    return
                (upstream if s is client else client).sendall(data)


@pytest.fixture
def dy(dy, tmp_path):
    dy.env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                 "no_proxy"):  # fmt: skip
        dy.env.pop(name, None)
    return dy


@pytest.fixture
def reg(tmp_path):
    r = InProcessRegistry(tmp_path / "reg").start()
    yield r
    r.stop()


@pytest.fixture
def proxy():
    p = Proxy()
    yield p
    p.close()


def test_pull_through_an_http_proxy(dy, reg, proxy):
    img = make_image([{"a": b"1"}, {"b": b"2"}])
    upload(reg.url, "via/proxy", img, "1")
    name = f"registry.test:{reg.port}"
    dy.env["HTTP_PROXY"] = f"127.0.0.1:{proxy.port}"  # no scheme: taken as http://
    dy.env["HTTPS_PROXY"] = f"http://127.0.0.1:{proxy.port}"
    dy.env["DOCKYARD_INSECURE_REGISTRIES"] = name
    out = dy.out("pull", f"{name}/via/proxy:1")
    assert f"Digest: {img.digest}" in out
    # https was tried first (a tunnel: the registry does not speak TLS), then plain http
    assert proxy.log[0] == f"CONNECT {name} HTTP/1.1"
    assert f"GET http://{name}/v2/ HTTP/1.1" in proxy.log
    assert f"GET http://{name}/v2/via/proxy/blobs/{img.layer_digests[0]} HTTP/1.1" in proxy.log
    # what the registry saw came through the proxy, in origin form
    assert ("GET", f"/v2/via/proxy/blobs/{img.layer_digests[1]}", "", 200) in reg.log


def test_push_through_a_connect_tunnel_with_proxy_auth(dy, tmp_path, busybox_tar):
    from test_registry_interop import _self_signed

    cert, key = _self_signed(tmp_path)
    server = RegistryProcess(tmp_path / "tls", {"tls": {"cert": str(cert), "key": str(key)}},
                             scheme="https").start()  # fmt: skip
    proxy = Proxy(auth="pat:s3cr3t")
    try:
        name = f"registry.test:{server.port}"
        ref = f"{name}/tunnel/busybox:1"
        dy("import", str(busybox_tar), ref)
        dy.env["DOCKYARD_INSECURE_REGISTRIES"] = name
        dy.env["HTTPS_PROXY"] = f"http://pat:wrong@127.0.0.1:{proxy.port}"
        p = dy("push", ref, check=False)
        assert p.returncode != 0
        err = p.stderr.decode().strip()
        assert "refused the tunnel to " + name in err and "407" in err, err
        assert "wrong" not in err and "s3cr3t" not in err
        dy.env["HTTPS_PROXY"] = f"http://pat:s3cr3t@127.0.0.1:{proxy.port}"
        out = dy.out("push", ref)
        assert "1: digest: sha256:" in out
        assert set(proxy.log) == {f"CONNECT {name} HTTP/1.1"}
        assert len(proxy.log) >= 2  # the wrong password, then the tunnels of the push
    finally:
        proxy.close()
        assert server.stop() == 0


def test_loopback_and_no_proxy_hosts_go_direct(dy, reg, tmp_path):
    img = make_image([{"a": b"direct"}])
    upload(reg.url, "direct/img", img, "1")
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: using it would fail
    dy.env["HTTP_PROXY"] = dy.env["HTTPS_PROXY"] = dead
    assert f"Digest: {img.digest}" in dy.out("pull", f"{reg.host}/direct/img:1")
    assert f"Digest: {img.digest}" in dy.out("pull", f"localhost:{reg.port}/direct/img:1")


@pytest.mark.parametrize("hostile", ["garbage", "chatty"])
def test_a_misbehaving_proxy_fails_cleanly(dy, reg, hostile):
    proxy = Proxy(hostile=hostile)
    try:
        name = f"registry.test:{reg.port}"
        dy.env["HTTPS_PROXY"] = f"http://127.0.0.1:{proxy.port}"
        dy.env["DOCKYARD_INSECURE_REGISTRIES"] = name
        p = dy("pull", f"{name}/x/y:1", check=False, timeout=60)
    finally:
        proxy.close()
    assert p.returncode != 0
    err = p.stderr.decode().strip()
    assert len(err.splitlines()) == 1
    assert "cannot reach registry registry.test" in err
    want = "not an HTTP answer to CONNECT" if hostile == "garbage" else "sent data before"
    assert want in err, err
    assert dy.out("images", "-q") == ""


def test_unsupported_proxy_settings_are_refused(dy, reg):
    dy.env["HTTPS_PROXY"] = "socks5://127.0.0.1:1080"
    p = dy("pull", f"{reg.host}/x/y:1", check=False)
    assert p.returncode != 0
    assert "unsupported proxy scheme 'socks5'" in p.stderr.decode()


def test_proxy_choice_follows_go_rules():
    env = {"HTTP_PROXY": "http://h:3128", "https_proxy": "http://u:p%40ss@s:8080",
           "NO_PROXY": "internal.example, .corp, 10.0.0.0/8, exact.io:5000,[::5]"}  # fmt: skip
    px = Proxies.from_env(env)
    assert px.for_url("http", "reg.io", 80).url == "http://h:3128"
    https = px.for_url("https", "reg.io", 443)
    assert https.url == "http://s:8080"
    assert base64.b64decode(https.authorization.split()[1]) == b"u:p@ss"
    for host, port in [("internal.example", 443), ("a.internal.example", 443), ("x.corp", 1),
                       ("10.1.2.3", 5000), ("exact.io", 5000), ("::5", 443),
                       ("127.0.0.1", 5000), ("localhost", 1), ("::1", 1)]:  # fmt: skip
        assert px.for_url("https", host, port) is None, host
    for host, port in [("corp", 1), ("exact.io", 5001), ("11.0.0.1", 1), ("internalxexample", 1)]:
        assert px.for_url("https", host, port) is not None, host
    assert Proxies.from_env({"HTTP_PROXY": "http://h:1", "REQUEST_METHOD": "GET"}).http is None
    assert Proxies.from_env({"HTTPS_PROXY": "http://h:1", "NO_PROXY": "*"}).for_url(
        "https", "a", 1) is None  # fmt: skip
    assert parse_proxy("proxy.local").port == 80


def test_http_proxy_credentials(dy, reg):
    img = make_image([{"a": b"auth"}])
    upload(reg.url, "via/auth", img, "1")
    proxy = Proxy(auth="pu:pp")
    try:
        name = f"registry.test:{reg.port}"
        dy.env["DOCKYARD_INSECURE_REGISTRIES"] = name
        dy.env["HTTPS_PROXY"] = dy.env["HTTP_PROXY"] = f"http://pu:nope@127.0.0.1:{proxy.port}"
        p = dy("pull", f"{name}/via/auth:1", check=False)
        assert p.returncode != 0
        assert "answered 407" in p.stderr.decode() and "nope" not in p.stderr.decode()
        dy.env["HTTPS_PROXY"] = dy.env["HTTP_PROXY"] = f"http://pu:pp@127.0.0.1:{proxy.port}"
        assert f"Digest: {img.digest}" in dy.out("pull", f"{name}/via/auth:1")
    finally:
        proxy.close()
    assert f"GET http://{name}/v2/via/auth/manifests/1 HTTP/1.1" in proxy.log
