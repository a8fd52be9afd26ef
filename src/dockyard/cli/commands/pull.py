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


def distribution(cli: Cli, opts: Values):
    from dockyard.remote.credentials import CredentialStore
    from dockyard.services.distribution import DistributionService

    return DistributionService(
        cli.config,
        cli.images,
        CredentialStore(docker_config_dir()),
        tuple(_insecure_registries()),
        tls_verify=getattr(opts, "tls_verify", True),
    )


def _size(n: int) -> str:
    from dockyard.cli.units import human_size

    return human_size(n)


class ProgressPrinter:
    """Docker's pull/push display: one line per layer, rewritten in place on a terminal."""

    def __init__(self, out, tty: bool):
        from _thread import allocate_lock

        self.out = out
        self.tty = tty
        self.rows: dict[str, int] = {}
        self.last: dict[str, str] = {}
        self.lock = allocate_lock()

    def __call__(self, ev) -> None:
        with self.lock:
            if not ev.id:
                self.rows.clear()  # later layer lines start below this one
                self.out.write(ev.status + "\n")
            elif self.tty:
                self._update(ev.id, self._text(ev))
            elif not ev.total and self.last.get(ev.id) != ev.status:
                self.last[ev.id] = ev.status
                self.out.write(f"{ev.id}: {ev.status}\n")
            self.out.flush()

    @staticmethod
    def _text(ev) -> str:
        if not ev.total:
            return f"{ev.id}: {ev.status}"
        width = 50
        filled = min(width, ev.current * width // ev.total) if ev.total else 0
        bar = "=" * max(filled - 1, 0) + (">" if filled else "") + " " * (width - filled)
        return f"{ev.id}: {ev.status} [{bar}]  {_size(ev.current)}/{_size(ev.total)}"

    def _update(self, key: str, text: str) -> None:
        if key not in self.rows:
            self.rows[key] = len(self.rows)
            self.out.write(text + "\n")
            return
        up = len(self.rows) - self.rows[key]
        self.out.write(f"\x1b[{up}A\r\x1b[2K{text}\n")
        if up > 1:
            self.out.write(f"\x1b[{up - 1}B")


def printer(cli: Cli, quiet: bool):
    if quiet:
        return None
    isatty = getattr(cli.stdout, "isatty", None)
    return ProgressPrinter(cli.stdout, bool(isatty and isatty()))


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
