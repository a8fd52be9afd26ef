"""Docker's json-file log driver: one JSON object per line, written by the supervisor.

`{"log":"hello\\n","stream":"stdout","time":"2026-11-27T19:40:01.123456789Z"}` — strings
escaped as Go's encoding/json does (HTML characters as \\u003c..., invalid UTF-8 as U+FFFD).
Output is split at newlines; a line longer than 16 KiB is cut into pieces without "\\n", and
a last unterminated piece is written at EOF, as Docker does. The writer uses only builtins
(the supervisor stays small); `read` and `stream` are for `logs`.

Log options (`--log-driver json-file|none`, `--log-opt max-size=10m,max-file=3`) are checked
at create with Docker's messages (`log_config`) and left next to the log in `log-config`
when they are not the default; the supervisor's `open_log` reads them. With max-size the
log rotates as Docker's: `<id>-json.log` -> `.1` -> `.2` ..., at most max-file files in all
(one file: it is truncated). With `compress=true` (Docker's rule: only with max-size and
max-file > 1) the rotated files become `.1.gz` ... in the background (`logcompress`); the
live file stays plain. A rotation holds the rotation lock (an flock on `log-config`)
exclusively. Reading (`stream`, `Follower`, `read`, `rotated`) lives in `logread`, reached
through this module too. Driver none: no log is written and `logs` refuses.
"""

import os
import time

_READ_SIDE = ("Entry", "Follower", "parse_line", "read", "rotated", "stream")


def __getattr__(name: str):
    # the supervisor imports this module: the reading side is loaded only when used
    if name in _READ_SIDE:
        from dockyard.runtime import logread

        return getattr(logread, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MAX_LINE = 16 * 1024
_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))  # fmt: skip


def rfc3339nano(ns: int) -> str:
    """Go's time.RFC3339Nano in UTC: fractional seconds with trailing zeros trimmed."""
    sec, frac = divmod(ns, 1_000_000_000)
    t = time.gmtime(sec)
    base = (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    )
    if frac:
        base += "." + f"{frac:09d}".rstrip("0")
    return base + "Z"


def parse_rfc3339(s: str) -> int:
    """Unix ns of an RFC 3339 UTC timestamp as written by `rfc3339nano`."""
    import calendar

    main, _, frac = s.rstrip("Z").partition(".")
    t = time.strptime(main, "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) * 1_000_000_000 + int((frac + "000000000")[:9] or 0)


def encode(data: bytes, stream: str, ns: int) -> bytes:
    from _json import encode_basestring

    text = encode_basestring(data.decode("utf-8", errors="replace"))
    for ch, esc in _GO_ESCAPES:
        if ch in text:
            text = text.replace(ch, esc)
    return f'{{"log":{text},"stream":"{stream}","time":"{rfc3339nano(ns)}"}}\n'.encode()


class Writer:
    """Splits one stream's output into log lines and appends them to the log (an fd, or a
    `LogFile` that rotates; None: driver none, nothing is written)."""

    def __init__(self, fd, stream: str):
        self.fd = fd
        self.stream = stream
        self.buf = b""

    def feed(self, data: bytes) -> None:
        if self.fd is None:
            return
        buf = self.buf + data
        out = []
        ns = time.time_ns()
        start = 0
        while True:
            nl = buf.find(b"\n", start, start + MAX_LINE)
            if nl >= 0:
                out.append(encode(buf[start : nl + 1], self.stream, ns))
                start = nl + 1
            elif len(buf) - start >= MAX_LINE:
                out.append(encode(buf[start : start + MAX_LINE], self.stream, ns))
                start += MAX_LINE
            else:
                break
        self.buf = buf[start:]
        if out:
            if type(self.fd) is int:
                _write_all(self.fd, b"".join(out))
            else:
                self.fd.write_lines(out)

    def close(self) -> None:
        if self.buf and self.fd is not None:
            line = encode(self.buf, self.stream, time.time_ns())
            if type(self.fd) is int:
                _write_all(self.fd, line)
            else:
                self.fd.write_lines([line])
        self.buf = b""


CONFIG_FILE = "log-config"


class LogFile:
    """The json-file log as the supervisor appends to it: rotated once it has reached
    `max_size` bytes (-1: never), keeping `max_files` files in all; with `compress` the
    rotated files are gzipped in the background (`runtime.logcompress`)."""

    def __init__(self, path: str, max_size: int = -1, max_files: int = 1, compress: bool = False):
        self.path = path
        self.max_size = max_size
        self.max_files = max_files
        self.compress = compress and max_files > 1
        self.compressor = 0  # pid of the compressor started at the last rotation
        self.fd = self._open()
        self.size = os.fstat(self.fd).st_size if max_size > 0 else 0

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def write_lines(self, lines) -> None:
        if self.max_size <= 0:
            _write_all(self.fd, b"".join(lines))
            return
        pending = []
        for line in lines:
            if self.size >= self.max_size:  # Docker checks before each message
                if pending:
                    _write_all(self.fd, b"".join(pending))
                    pending = []
                self._rotate()
            pending.append(line)
            self.size += len(line)
        if pending:
            _write_all(self.fd, b"".join(pending))

    def _rotate(self) -> None:
        if self.max_files < 2:
            os.ftruncate(self.fd, 0)
            self.size = 0
            return
        self._reap()  # Docker: the next rotation waits for the last compression
        lock = _rotation_lock(self.path)
        try:
            _shift(self.path, self.max_files)
            os.close(self.fd)
            self.fd = self._open()
            self.size = 0
            if self.compress:
                self._start_compressor(lock)
        finally:
            if lock >= 0:
                os.close(lock)

    def _start_compressor(self, lock: int) -> None:
        import fcntl

        from dockyard.runtime.logcompress import spawn

        if lock >= 0:
            fcntl.flock(lock, fcntl.LOCK_SH)  # shared: readers go on, the next rotation waits
        try:
            self.compressor = spawn(self.path, self.max_files, lock)
        except OSError:
            self.compressor = 0  # `.1` stays plain; the next compressor takes it too

    def _reap(self) -> None:
        if self.compressor:
            pid, self.compressor = self.compressor, 0
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self._reap()  # as Docker's Close: the compression in progress is finished first


def _rotation_lock(path: str) -> int:
    """The rotation lock, held exclusively: an flock on the container's `log-config` (-1
    when there is none, as for a log made outside the engine). Readers hold it shared while
    they open the files, a compressor while it runs."""
    import fcntl

    try:
        fd = os.open(os.path.join(os.path.dirname(path), CONFIG_FILE), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return -1
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _shift(path: str, max_files: int) -> None:
    """`.N-1` dropped, `.i` -> `.i+1`, the log -> `.1`; each index plain or compressed (or
    both, when a compressor was killed: both move, the reader takes the plain one)."""
    for ext in ("", ".gz"):
        try:
            os.unlink(f"{path}.{max_files - 1}{ext}")
        except FileNotFoundError:
            pass
    for i in range(max_files - 1, 1, -1):
        for ext in ("", ".gz"):
            try:
                os.rename(f"{path}.{i - 1}{ext}", f"{path}.{i}{ext}")
            except FileNotFoundError:
                pass
    try:
        os.rename(path, f"{path}.1")
    except FileNotFoundError:
        pass


def open_log(log_path: str) -> "LogFile | None":
    """The supervisor's log for a container, as its `log-config` says (None: driver none)."""
    try:
        with open(os.path.join(os.path.dirname(log_path), CONFIG_FILE), "rb") as f:
            words = f.read(256).split()
    except FileNotFoundError:
        return LogFile(log_path)
    if words[:1] == [b"none"]:
        return None
    size = int(words[1]) if len(words) > 1 else -1
    files = int(words[2]) if len(words) > 2 else 1
    return LogFile(log_path, size, files, words[3:4] == [b"1"])


def log_config(driver: str, opts) -> tuple[tuple[str, str], ...]:
    """Check `--log-driver`/`--log-opt` as Docker's daemon does; the options to store."""
    from dockyard.errors import InvalidArgument

    if driver not in ("json-file", "none"):
        from dockyard.errors import Unsupported

        raise Unsupported(f"logger: no log driver named '{driver}' is registered")
    items = []
    for item in opts:
        key, value = item if isinstance(item, tuple) else _split_opt(item)
        items.append((key, value))
    if driver == "none":
        return ()  # Docker ignores options for none
    known = (
        "max-file",
        "max-size",
        "compress",
        "labels",
        "labels-regex",
        "env",
        "env-regex",
        "tag",
    )
    conf = dict(items)
    for key in conf:
        if key not in known:
            raise InvalidArgument(f"unknown log opt '{key}' for json-file log driver")
    size, files = _docker_limits(conf)
    compressed(conf, size, files)
    _needs_size(size, files)
    return tuple(conf.items())


def _split_opt(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    return key, value


def limits(conf: dict) -> tuple[int, int]:
    """(max size in bytes or -1, max files) from json-file options, with Docker's errors."""
    size, files = _docker_limits(conf)
    _needs_size(size, files)
    return size, files


def _needs_size(max_size: int, max_files: int) -> None:
    # ours, not Docker's (which takes max-file alone and never rotates)
    if max_size < 0 and max_files > 1:
        from dockyard.errors import InvalidArgument

        raise InvalidArgument("max-file needs max-size: set --log-opt max-size as well")


_GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
             "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}  # fmt: skip


def compressed(conf: dict, max_size: int, max_files: int) -> bool:
    """`compress` as Docker's json-file reads it (Go's strconv.ParseBool), refused without
    rotation to files."""
    from dockyard.errors import InvalidArgument

    if "compress" not in conf:
        return False
    text = conf["compress"]
    if text not in _GO_BOOLS:
        raise InvalidArgument(f'strconv.ParseBool: parsing "{text}": invalid syntax')
    on = _GO_BOOLS[text]
    if on and (max_files == 1 or max_size == -1):
        raise InvalidArgument(
            "compress cannot be true when max-file is less than 2 or max-size is not set"
        )
    return on


def _docker_limits(conf: dict) -> tuple[int, int]:
    """max-size then max-file, checked in Docker's order with its messages."""
    from dockyard.errors import InvalidArgument

    max_size = -1
    if "max-size" in conf:
        max_size = from_human_size(conf["max-size"])
        if max_size <= 0:
            raise InvalidArgument("max-size must be a positive number")
    max_files = 1
    if "max-file" in conf:
        text = conf["max-file"]
        digits = text[1:] if text[:1] in ("+", "-") else text
        if not (digits.isascii() and digits.isdigit()):
            raise InvalidArgument(f'strconv.Atoi: parsing "{text}": invalid syntax')
        max_files = int(text)
        if max_files < 1:
            raise InvalidArgument("max-file cannot be less than 1")
    return max_size, max_files


_DECIMAL = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5}


def from_human_size(text: str) -> int:
    """go-units FromHumanSize: "10m" = 10,000,000 bytes (decimal units, as Docker's)."""
    from dockyard.errors import InvalidArgument

    bad = InvalidArgument(f"invalid size: '{text}'")
    s = text.strip()
    i = 0
    while i < len(s) and (s[i].isascii() and (s[i].isdigit() or s[i] == ".")):
        i += 1
    number, suffix = s[:i], s[i:].strip().lower()
    if not number or number.count(".") > 1 or number == ".":
        raise bad
    if suffix.endswith("b"):
        suffix = suffix[:-1]
    if suffix.endswith("i") and len(suffix) == 2:
        suffix = suffix[:-1]
    if suffix not in _DECIMAL:
        raise bad
    return int(float(number) * _DECIMAL[suffix])


def write_config(container_dir: str, driver: str, opts) -> None:
    """Leave the log options for the supervisor (only when they are not the default)."""
    if driver == "none":
        text = "none\n"
    else:
        conf = dict(opts)
        size, files = limits(conf)
        text = f"json-file {size} {files} {int(compressed(conf, size, files))}\n"
    path = os.path.join(container_dir, CONFIG_FILE)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def readable(container_dir: str) -> bool:
    """False for driver none (Docker: "configured logging driver does not support reading")."""
    try:
        with open(os.path.join(container_dir, CONFIG_FILE), "rb") as f:
            return not f.read(16).startswith(b"none")
    except FileNotFoundError:
        return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
