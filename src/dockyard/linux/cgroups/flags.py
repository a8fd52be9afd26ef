"""Docker's resource flags turned into cgroup values (pure, no kernel access).

`--memory 64m` / `--memory-swap` / `--shm-size` follow go-units' RAMInBytes (binary units
k/m/g/t/p, any case, optional "b" and "i", decimals truncated); `--cpus 1.5` becomes a CFS
quota over a 100 ms period exactly as Docker computes NanoCPUs.
"""

from dockyard.errors import InvalidArgument

CFS_PERIOD = 100000  # microseconds, Docker's default period
MIN_MEMORY = 6 * 1024 * 1024  # Docker refuses smaller --memory values
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(value: str) -> int:
    """Bytes for a size like "64m", "1.5G", "512KiB", "100b", "1 g" (RAMInBytes)."""
    s = value
    i = 0
    while i < len(s) and (s[i].isdigit() or s[i] == "."):
        i += 1
    num, rest = s[:i], s[i:]
    # go-units' pattern: digits with dot-separated groups, one optional space, unit, i, b
    if not num or not num[0].isdigit() or num.endswith(".") or ".." in num:
        raise InvalidArgument(f"invalid size: '{value}'")
    if rest.startswith(" "):
        rest = rest[1:]
    unit = ""
    if rest and rest[0].lower() in "kmgtp":
        unit, rest = rest[0].lower(), rest[1:]
    if rest[:1] in ("i", "I"):
        rest = rest[1:]
    if rest[:1] in ("b", "B"):
        rest = rest[1:]
    if rest or not all(c.isascii() for c in num):
        raise InvalidArgument(f"invalid size: '{value}'")
    try:
        f = float(num)
    except ValueError:
        raise InvalidArgument(f"invalid size: '{value}'")
    return int(f * _UNITS[unit])


def memory_limit(value: str) -> int:
    """--memory: bytes, at least 6 MiB (Docker's minimum)."""
    n = ram_in_bytes(value)
    if n < MIN_MEMORY:
        raise InvalidArgument("Minimum memory limit allowed is 6MB")
    return n


def memory_swap(memory: int, swap: str | int | None) -> int | None:
    """The memory+swap limit for --memory-swap given --memory (bytes, 0 = unset).

    Unset with a memory limit: twice the memory (Docker's default); "-1": unlimited (-1);
    otherwise it must be at least the memory limit.
    """
    if swap is None or swap == "" or swap == 0 or swap == "0":
        return 2 * memory if memory > 0 else None
    if swap == -1 or swap == "-1":
        return -1
    n = swap if isinstance(swap, int) else ram_in_bytes(swap)
    if memory > 0 and n < memory:
        raise InvalidArgument(
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        )
    if memory <= 0:
        raise InvalidArgument(
            "You should always set the Memory limit when using Memoryswap limit, see usage"
        )
    return n


def nano_cpus(value: str) -> int:
    """--cpus "1.5" -> 1500000000 (exact decimal arithmetic, as Docker's big.Rat)."""
    from fractions import Fraction

    try:
        if not value or value.strip() != value:
            raise ValueError
        frac = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument(f"failed to parse {value} as a rational number")
    nano = frac * 1_000_000_000
    if nano.denominator != 1:
        raise InvalidArgument("value is too precise")
    if nano < 0:
        raise InvalidArgument(f"invalid value for --cpus: {value} must be positive")
    return int(nano)


def cpu_quota(value: str, ncpu: int | None = None, period: int = CFS_PERIOD) -> tuple[int, int]:
    """(quota, period) in microseconds for --cpus; checks the host's CPU count when given."""
    nano = nano_cpus(value)
    if nano == 0:
        raise InvalidArgument("Range of CPUs is from 0.01 to the number of CPUs available")
    if ncpu is not None and nano > ncpu * 1_000_000_000:
        raise InvalidArgument(
            f"Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )
    quota = nano * period // 1_000_000_000
    if quota < 1000:
        raise InvalidArgument("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    return quota, period


def pids_limit(value: str | int) -> int:
    """--pids-limit: an int; 0 or -1 mean unlimited (returned as -1)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"invalid argument {value!r} for --pids-limit: not an integer")
    return -1 if n <= 0 else n
