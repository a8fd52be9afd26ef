"""Human-readable sizes and durations, the way Docker's go-units prints them."""

_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def _scale(size: float, base: float, names: tuple[str, ...]) -> tuple[float, str]:
    i = 0
    while size >= base and i < len(names) - 1:
        size /= base
        i += 1
    return size, names[i]


def human_size_precision(size: float, precision: int) -> str:
    """go-units HumanSizeWithPrecision: decimal units, `precision` significant digits."""
    value, unit = _scale(float(size), 1000.0, _DECIMAL)
    # Python's g format follows the same rules as Go's %g with a precision (1e+03 included).
    return f"{value:.{precision}g}{unit}"


def human_size(size: float) -> str:
    """go-units HumanSize: 4 significant digits ("2.746MB")."""
    return human_size_precision(size, 4)


def bytes_size(size: float) -> str:
    """go-units BytesSize: binary units, 4 significant digits ("7.62GiB")."""
    value, unit = _scale(float(size), 1024.0, _BINARY)
    return f"{value:.4g}{unit}"


def human_duration(seconds: float) -> str:
    """go-units HumanDuration ("About a minute", "2 weeks", ...); add " ago" yourself."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def since(unix: float, now: float | None = None) -> str:
    """ "5 minutes ago" for a unix time, as Docker's CreatedSince columns show it."""
    if now is None:
        import time

        now = time.time()
    return human_duration(now - unix) + " ago"


def truncate_id(ident: str) -> str:
    """Docker's stringid.TruncateID: drop the algorithm, keep 12 characters."""
    if ":" in ident:
        ident = ident.partition(":")[2]
    return ident[:12]
