"""Hostile servers for `ADD <url>`: a redirect to another host, a huge Content-Length, an
endless body. Builds run confined (the host read-only except this test's tmp dir); the
server listens on 127.0.0.1 only."""

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


class Hostile(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        if self.path == "/away":
            self.send_response(302)
            self.send_header("Location", "http://192.0.2.1/stolen")  # TEST-NET-1, not loopback
            self.end_headers()
        elif self.path == "/other-port":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/x")
            self.end_headers()
        elif self.path == "/huge-claim":
            self.send_response(200)
            self.send_header("Content-Length", str(10 << 30))
            self.end_headers()
            self.wfile.write(b"x" * 1024)
        elif self.path == "/endless":
            self.send_response(200)
            self.end_headers()
            chunk = b"y" * (1 << 16)
            sent = 0
            try:
                while sent < (64 << 20):  # stops on its own far above the limit
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def dockyard(root: str, *args: str, limit: str = "") -> tuple[int, str]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    if limit:
        env["DOCKYARD_BUILD_ADD_LIMIT"] = limit
    p = subprocess.run(
        [sys.executable, "-m", "dockyard", "--root", f"{root}/root", "--state-dir",
         f"{root}/state", *args],
        capture_output=True, env=env, timeout=300,
    )  # fmt: skip
    return p.returncode, p.stderr.decode(errors="replace")


@pytest.fixture
def build(tmp_path, busybox_tar, confined):
    root = str(tmp_path)
    code, err = confined(root, dockyard, root, "import", str(busybox_tar), "busybox")
    assert code == 0, err
    ctx = tmp_path / "ctx"
    ctx.mkdir()

    def run(line: str, limit: str = ""):
        (ctx / "Dockerfile").write_text(f"FROM busybox\n{line}\n")
        return confined(root, dockyard, root, "build", str(ctx), limit=limit)

    return run


def leftovers(tmp_path: Path) -> list[str]:
    """Download temp files or build dirs left in the data root's tmp dir."""
    out = []
    for d, _, files in os.walk(tmp_path / "root"):
        out += [os.path.join(d, f) for f in files if f.startswith("dl-")]
    return out


def test_redirect_to_another_host_is_not_followed(server, build, tmp_path):
    for path in ("/away", "/other-port"):
        code, err = build(f"ADD {server}{path} /x")
        assert code != 0 and "redirect to another host is not followed" in err, err
        assert "Dockerfile:2" in err
    assert leftovers(tmp_path) == []


def test_oversized_downloads_stop_at_the_limit(server, build, tmp_path):
    code, err = build(f"ADD {server}/huge-claim /x")
    assert code != 0 and "larger than the limit" in err, err
    code, err = build(f"ADD {server}/endless /x", limit=str(1 << 20))
    assert code != 0 and "larger than the limit (1048576 bytes)" in err, err
    assert leftovers(tmp_path) == []
