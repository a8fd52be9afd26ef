"""A container's health check decided at create (pure): the `--health-*` flags merged over
the image's HEALTHCHECK as Docker merges them, validated with Docker's messages, and the
probe's argv and timings as the monitor uses them.

The decided check is kept in Docker's JSON shape (`Config.Healthcheck`: Test, Interval,
Timeout, StartPeriod, StartInterval, Retries; durations in ns, zero fields left out), so
inspect shows it as stored.
"""

from dockyard.errors import InvalidArgument

# daemon/health.go
DEFAULT_INTERVAL = 30_000_000_000
DEFAULT_TIMEOUT = 30_000_000_000
DEFAULT_START_PERIOD = 0
DEFAULT_START_INTERVAL = 5_000_000_000
DEFAULT_RETRIES = 3
MIN_DURATION = 1_000_000  # container.MinimumDuration (1ms)
MAX_OUTPUT = 4096
MAX_LOG = 5
_FIELDS = ("Interval", "Timeout", "StartPeriod", "StartInterval", "Retries")


def from_flags(opts) -> dict | None:
    """The check the `--health-*` / `--no-healthcheck` options ask for (Docker's client
    side), None when none was given; `opts` is a `RunOptions`."""
    given = {
        "Interval": opts.health_interval,
        "Timeout": opts.health_timeout,
        "StartPeriod": opts.health_start_period,
        "StartInterval": opts.health_start_interval,
        "Retries": opts.health_retries,
    }
    have = bool(opts.health_cmd) or any(v for v in given.values())
    if opts.no_healthcheck:
        if have:
            raise InvalidArgument("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    if not have:
        return None
    for key, flag in (("Interval", "interval"), ("Timeout", "timeout"), ("Retries", "retries"),
                      ("StartPeriod", "start-period"), ("StartInterval", "start-interval")):  # fmt: skip
        if (given[key] or 0) < 0:
            raise InvalidArgument(f"--health-{flag} cannot be negative")
    out: dict = {"Test": ["CMD-SHELL", opts.health_cmd] if opts.health_cmd else []}
    for key, value in given.items():
        if value:
            out[key] = int(value)
    return out


def validate(hc: dict) -> None:
    """The daemon's checks (validateHealthCheck)."""
    for key in ("Interval", "Timeout", "StartPeriod", "StartInterval"):
        value = hc.get(key) or 0
        if value and value < MIN_DURATION:
            raise InvalidArgument(f"{key} in Healthcheck cannot be less than 1ms")
    if (hc.get("Retries") or 0) < 0:
        raise InvalidArgument("Retries in Healthcheck cannot be negative")


def merge(user: dict | None, image: dict | None) -> dict | None:
    """Docker's merge: the user's check, its empty fields filled from the image's."""
    image = _clean(image) if image else None
    if user is None:
        return image
    out = dict(user)
    if image:
        if not out.get("Test"):
            out["Test"] = list(image.get("Test") or [])
        for key in _FIELDS:
            if not out.get(key) and image.get(key):
                out[key] = image[key]
    return out


def _clean(hc: dict) -> dict:
    """An image's Healthcheck (untrusted JSON) with only well-typed fields."""
    test = hc.get("Test")
    out: dict = {"Test": [str(t) for t in test] if isinstance(test, list) else []}
    for key in _FIELDS:
        v = hc.get(key)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            out[key] = v
    return out


def decide(opts, image_hc: dict | None) -> dict | None:
    """What create stores: the merged, validated check (None: the container has none)."""
    hc = merge(from_flags(opts), image_hc)
    if hc is not None:
        validate(hc)
    return hc


def active(hc: dict | None) -> bool:
    """Does this check run a probe? (NONE, an empty or an unknown test: no)."""
    if not hc:
        return False
    test = hc.get("Test") or []
    return bool(test) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1


def probe_argv(hc: dict, shell: tuple[str, ...] | None) -> tuple[str, ...]:
    """CMD runs its arguments; CMD-SHELL runs its one string with the container's shell."""
    test = hc["Test"]
    if test[0] == "CMD":
        return tuple(test[1:])
    return (*(shell or ("/bin/sh", "-c")), " ".join(test[1:]))


class Timing:
    """The check's durations in ns, Docker's defaults applied."""

    __slots__ = ("interval", "retries", "start_interval", "start_period", "timeout")

    def __init__(self, hc: dict):
        self.interval = hc.get("Interval") or DEFAULT_INTERVAL
        self.timeout = hc.get("Timeout") or DEFAULT_TIMEOUT
        self.start_period = hc.get("StartPeriod") or DEFAULT_START_PERIOD
        self.start_interval = hc.get("StartInterval") or DEFAULT_START_INTERVAL
        retries = hc.get("Retries") or 0
        self.retries = retries if retries > 0 else DEFAULT_RETRIES


def go_duration(ns: int) -> str:
    """Go's time.Duration.String(): "30s", "1m30s", "1.5s", "500ms", "0s"."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, scale in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= scale:
                return sign + _frac(ns, scale) + unit
    h, rest = divmod(ns, 3_600_000_000_000)
    m, rest = divmod(rest, 60_000_000_000)
    s = _frac(rest, 1_000_000_000) + "s"
    if h:
        return f"{sign}{h}h{m}m{s}"
    if m:
        return f"{sign}{m}m{s}"
    return sign + s


def _frac(value: int, scale: int) -> str:
    whole, part = divmod(value, scale)
    if not part:
        return str(whole)
    digits = len(str(scale)) - 1
    return f"{whole}." + f"{part:0{digits}d}".rstrip("0")
