"""Human-readable sizes and durations, the way Docker's go-units prints them."""

from dockyard.units import human_duration

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
