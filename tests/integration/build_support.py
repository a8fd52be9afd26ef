"""The CLI runner the build tests share (not a test module): a private data root, the real
`dockyard` command in a subprocess, and helpers to look inside built images."""

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


class BuildCli:
    def __init__(self, root: Path, check: bool = True):
        self.root = root
        self.check = check  # raise when a command fails (unless a call says otherwise)
        self.env = dict(os.environ, PYTHONPATH=str(SRC))
        self.env.pop("SOURCE_DATE_EPOCH", None)

    def __call__(self, *args, input=None, check=None):
        p = subprocess.run(
            [sys.executable, "-m", "dockyard", "--root", str(self.root / "root"),
             "--state-dir", str(self.root / "state"), *args],
            input=input, capture_output=True, env=self.env, timeout=300,
        )  # fmt: skip
        if (self.check if check is None else check) and p.returncode:
            raise AssertionError(f"{args} exited {p.returncode}: {p.stdout!r} {p.stderr!r}")
        return p

    def plain(self, *args) -> dict[str, list[str]]:
        """Build with --progress=plain; each step's text -> the lines it printed."""
        err = self("build", "--progress", "plain", *args).stderr.decode()
        steps: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        for line in err.splitlines():
            head, _, rest = line.partition(" ")
            if rest.startswith("[") and "] " in rest:
                names[head] = rest.split("] ", 1)[1]
                steps[names[head]] = []
            elif head in names:
                steps[names[head]].append(rest)
        return steps

    def inspect(self, ref: str) -> dict:
        return json.loads(self("image", "inspect", ref).stdout)[0]

    def view(self, ref: str):
        """The image's merged files (top layer first), read from its snapshots."""
        from dockyard.build.merged import MergedView
        from dockyard.metadata.store import MetadataStore
        from dockyard.oci.ids import chain_ids

        diff_ids = self.inspect(ref)["RootFS"]["Layers"]
        meta = MetadataStore(str(self.root / "root" / "metadata.db"))
        try:
            return MergedView([r.dir for r in meta.snapshot_chain(chain_ids(diff_ids)[-1])])
        finally:
            meta.close()

    def config(self, ref: str):
        from dockyard.oci.image import parse_image_config

        image_id = self.inspect(ref)["Id"]
        blob = self.root / "root" / "content" / "blobs" / "sha256" / image_id[7:]
        return parse_image_config(blob.read_bytes())


def busybox_cli(root: Path, busybox_tar, **kw) -> BuildCli:
    """A `BuildCli` on a fresh data root with busybox imported (CMD sh)."""
    c = BuildCli(root, **kw)
    c("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox")
    return c


def read_file(view, path: str) -> bytes | None:
    """A file's bytes in a built image's merged view (None when it is not there)."""
    found = view.lookup(view.resolve(path))
    if found is None:
        return None
    with open(found[0], "rb") as f:
        return f.read()


def make_context(tmp_path: Path, dockerfile: str, files: dict | None = None) -> Path:
    """`tmp_path/ctx` with the Dockerfile and `files` (name -> str or bytes)."""
    ctx = tmp_path / "ctx"
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Dockerfile").write_text(dockerfile)
    for name, data in (files or {}).items():
        p = ctx / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
    return ctx


class FileServer:
    """A tiny HTTP server on 127.0.0.1 for ADD <url>: `routes` maps a path to
    (status, headers, body); it counts requests per path."""

    def __init__(self, routes: dict):
        import http.server
        import threading

        self.routes = routes
        self.hits: dict[str, int] = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                status, headers, body = outer.routes.get(self.path, (404, {}, b""))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def step_cgroups() -> set[str]:
    """The names of the RUN step cgroups on this host, in every hierarchy."""
    from dockyard.build.run import CGROUP_PARENT
    from dockyard.linux.cgroups import detect

    names = set()
    for d in detect()._dirs(CGROUP_PARENT):
        try:
            names.update(e.name for e in os.scandir(d) if e.is_dir())
        except FileNotFoundError:
            pass
    return names
