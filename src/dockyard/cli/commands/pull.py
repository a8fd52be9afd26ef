"""`pull` / `image pull`: download an image from a registry; also the progress display and the
service wiring that `push`, `login` and `logout` share."""

import os

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

TLS_VERIFY = Flag(
    "tls-verify", kind=BOOL, default=True,
    help="Require HTTPS and verify certificates when talking to a registry other than localhost",
)  # fmt: skip

COMMAND = Command(
    "pull [OPTIONS] NAME[:TAG|@DIGEST]",
    "Download an image from a registry",
    flags=(
        Flag("all-tags", "a", BOOL, help="Download all tagged images in the repository"),
        Flag("disable-content-trust", kind=BOOL, default=True, help="Skip image verification"),
        Flag("platform", help="Set platform if server is multi-platform capable"),
        Flag("quiet", "q", BOOL, help="Suppress verbose output"),
        TLS_VERIFY,
    ),
    args=("exact", 1),
    aliases="dockyard image pull, dockyard pull",
)

_SETTINGS_FILE = "/etc/dockyard/daemon.json"


def _insecure_registries() -> list[str]:
    """`DOCKYARD_INSECURE_REGISTRIES` (comma-separated) plus daemon.json's insecure-registries."""
    out = [x.strip() for x in os.environ.get("DOCKYARD_INSECURE_REGISTRIES", "").split(",")]
    path = os.environ.get("DOCKYARD_DAEMON_CONFIG", _SETTINGS_FILE)
    try:
        with open(path, "rb") as f:
            import json

            settings = json.loads(f.read(1 << 20))
    except (FileNotFoundError, ValueError):
        settings = {}
    listed = settings.get("insecure-registries") if isinstance(settings, dict) else None
    if isinstance(listed, list):
        out += [x for x in listed if isinstance(x, str)]
    return [x for x in out if x]


def docker_config_dir() -> str:
    return os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")


def _proxies():
    """The environment's proxy settings, or None (no import when there are none)."""
    names = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
    if not any(os.environ.get(n) for n in names):
        return None
    from dockyard.remote.proxy import Proxies

    return Proxies.from_env(os.environ)


def distribution(cli: Cli, opts: Values):
    from dockyard.remote.certs import certs_root
    from dockyard.remote.credentials import CredentialStore
    from dockyard.services.distribution import DistributionService

    return DistributionService(
        cli.config,
        cli.images,
        CredentialStore(docker_config_dir()),
        tuple(_insecure_registries()),
        tls_verify=getattr(opts, "tls_verify", True),
        certs_dir=certs_root(),
        proxies=_proxies(),
    )


def _size(n: int) -> str:
    from dockyard.cli.units import human_size

    return human_size(n)


def progress_text(ev, width: int) -> str:
    """Docker's JSONProgress.String(): a 50-column bar when the terminal is wider than 110
    columns, then `current/total` (current alone when it overshoots); "" with no numbers."""
    if ev.current <= 0 and ev.total <= 0:
        return ""
    if ev.total <= 0:
        return f"{_size(ev.current):>8}"
    half = min(int(ev.current / ev.total * 100) // 2, 50)
    bar = f"[{'=' * half}>{' ' * (50 - half)}] " if width > 110 else ""
    if ev.current > ev.total:
        return f"{bar}{_size(ev.current):>8}"
    return f"{bar}{_size(ev.current):>8}/{_size(ev.total)}"


class ProgressPrinter:
    """Docker's pull/push display (its jsonmessage stream). Not a terminal: a line per status
    change, and none for the byte counts. A terminal: one line per layer, redrawn in place
    with the same cursor moves as Docker's (a new layer adds a line; an update moves up to
    its line, clears it, writes it and moves back down); a line without a layer starts a new
    group below the previous one."""

    REDRAW = 0.1  # seconds between byte-count redraws of one line (each is a write)

    def __init__(self, out, tty: bool, width: int = 200):
        from _thread import allocate_lock

        self.out = out
        self.tty = tty
        self.width = width
        self.rows: dict[str, int] = {}
        self.drawn: dict[str, float] = {}
        self.lock = allocate_lock()

    def __call__(self, ev) -> None:
        with self.lock:
            if not ev.id:
                self.rows.clear()
                self.out.write(ev.status + "\n")
            elif self.tty:
                if not self._due(ev):
                    return
                self._draw(ev)
            elif ev.current > 0 or ev.total > 0:
                return  # Docker drops progress bars when not on a terminal
            else:
                self.out.write(f"{ev.id}: {ev.status}\n")
            self.out.flush()

    def _due(self, ev) -> bool:
        """False for a byte count that comes too soon after the last one drawn for its line."""
        from time import monotonic

        now = monotonic()
        key = ev.id
        counting = ev.total > 0 and 0 < ev.current < ev.total
        if counting and now - self.drawn.get(key, 0.0) < self.REDRAW:
            return False
        self.drawn[key] = now if counting else 0.0
        return True

    def _draw(self, ev) -> None:
        row = self.rows.get(ev.id)
        if row is None:
            row = self.rows[ev.id] = len(self.rows)
            self.out.write("\n")
        up = len(self.rows) - row
        text = f"{ev.status} {progress_text(ev, self.width)}"
        self.out.write(f"\x1b[{up}A\x1b[2K\r{ev.id}: {text}\r\x1b[{up}B")


def terminal_width(stream) -> int:
    """Columns of the terminal behind `stream`; 200 when it cannot be asked (as Docker)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 200


def progress_printer(stream, quiet: bool):
    """The display for `stream` (None with -q): in place on a terminal, plain lines else."""
    if quiet:
        return None
    isatty = getattr(stream, "isatty", None)
    tty = bool(isatty and isatty())
    return ProgressPrinter(stream, tty, terminal_width(stream) if tty else 200)


def printer(cli: Cli, quiet: bool):
    return progress_printer(cli.stdout, quiet)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    service = distribution(cli, opts)
    ref = args[0]
    if (
        not opts.quiet
        and not opts.all_tags
        and ":" not in ref.rpartition("/")[2]
        and "@" not in ref
    ):
        cli.out("Using default tag: latest\n")
    results = service.pull(ref, opts.platform or None, opts.all_tags, printer(cli, opts.quiet))
    if opts.all_tags:
        from dockyard import reference

        cli.out(reference.parse_normalized(ref).name + "\n")
    else:
        cli.out("".join(r.reference + "\n" for r in results))
    return 0
