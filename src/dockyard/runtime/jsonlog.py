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
(one file: it is truncated); `stream` reads the rotated files oldest first, and follows
the live file across rotations. Driver none: no log is written and `logs` refuses.
"""

import os
import time

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
    `max_size` bytes (-1: never), keeping `max_files` files in all."""

    def __init__(self, path: str, max_size: int = -1, max_files: int = 1):
        self.path = path
        self.max_size = max_size
        self.max_files = max_files
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
        for i in range(self.max_files - 1, 0, -1):
            older = self.path if i == 1 else f"{self.path}.{i - 1}"
            try:
                os.rename(older, f"{self.path}.{i}")
            except FileNotFoundError:
                pass
        os.close(self.fd)
        self.fd = self._open()
        self.size = 0

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


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
    return LogFile(log_path, size, files)


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
    limits(conf)
    if conf.get("compress") not in (None, "false", "0", "f", "F", "FALSE", "False"):
        from dockyard.errors import Unsupported

        raise Unsupported("--log-opt compress=true is not supported yet")
    return tuple(conf.items())


def _split_opt(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    return key, value


def limits(conf: dict) -> tuple[int, int]:
    """(max size in bytes or -1, max files) from json-file options, with Docker's errors."""
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
        if max_size < 0 and max_files > 1:
            raise InvalidArgument("max-file needs max-size: set --log-opt max-size as well")
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
        size, files = limits(dict(opts))
        text = f"json-file {size} {files}\n"
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


class Entry:
    __slots__ = ("data", "stream", "time_ns")

    def __init__(self, stream: str, data: bytes, time_ns: int):
        self.stream = stream
        self.data = data
        self.time_ns = time_ns


def parse_line(line: bytes) -> "Entry | None":
    import json

    try:
        doc = json.loads(line)
        return Entry(doc["stream"], doc["log"].encode(), parse_rfc3339(doc["time"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # a torn last line while the writer is mid-append


def read(path: str, offset: int = 0) -> tuple[list[Entry], int]:
    """Whole lines from `offset` on, and the offset after the last whole line."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    entries = []
    for line in data[:end].splitlines():
        e = parse_line(line)
        if e is not None:
            entries.append(e)
    return entries, offset + end


def rotated(path: str) -> list[str]:
    """The rotated files of a log that exist, oldest first (`.N` ... `.1`)."""
    out = []
    i = 1
    while os.path.exists(f"{path}.{i}"):
        out.append(f"{path}.{i}")
        i += 1
    return out[::-1]


class Follower:
    """Reads a json-file log and its rotated files in order, then the lines appended since,
    across rotations (the file it holds open is renamed away: it reads that to its end,
    then opens the new one)."""

    def __init__(self, path: str):
        self.path = path
        self.fd = -1
        self.ino = None
        self.rest = b""

    def initial(self) -> list[Entry]:
        entries: list[Entry] = []
        for old in rotated(self.path):
            more, _ = read(old)
            entries.extend(more)
        self._open()
        entries.extend(self._drain())
        return entries

    def _open(self) -> None:
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self.fd = -1
            return
        self.ino = os.fstat(self.fd).st_ino
        self.rest = b""

    def _drain(self) -> list[Entry]:
        if self.fd < 0:
            return []
        chunks = [self.rest]
        while True:
            b = os.read(self.fd, 1 << 20)
            if not b:
                break
            chunks.append(b)
        data = b"".join(chunks)
        end = data.rfind(b"\n") + 1
        self.rest = data[end:]
        return [e for e in map(parse_line, data[:end].splitlines()) if e is not None]

    def more(self) -> list[Entry]:
        """What was appended since the last call."""
        entries = self._drain()
        try:
            ino = os.stat(self.path).st_ino
        except FileNotFoundError:
            return entries
        if ino != self.ino:  # rotated: on to the files written after ours, then the new one
            if self.fd >= 0:
                os.close(self.fd)
            for newer in self._newer_rotated():
                more, _ = read(newer)
                entries.extend(more)
            self._open()
            entries.extend(self._drain())
        elif self.fd >= 0 and os.fstat(self.fd).st_size < os.lseek(self.fd, 0, os.SEEK_CUR):
            os.lseek(self.fd, 0, os.SEEK_SET)  # max-file=1: truncated in place
            self.rest = b""
            entries.extend(self._drain())
        return entries

    def _newer_rotated(self) -> list[str]:
        """Rotated files newer than the one we held (when it rotated more than once since
        the last look), oldest first: those before it in `.1`, `.2`, ... order, or all of
        them when it was rotated away (what went with it is lost, as with Docker)."""
        out = []
        for name in rotated(self.path)[::-1]:  # .1, .2, ...
            try:
                if os.stat(name).st_ino == self.ino:
                    return out[::-1]
            except FileNotFoundError:
                break
            out.append(name)
        return out[::-1]  # ours rotated away: every file left came after it

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def stream(path: str, is_live, follow: bool = False, tail: "int | None" = None,
           since: "float | None" = None, until: "float | None" = None,
           timestamps: bool = False):  # fmt: skip
    """Yield (stream, bytes) for `logs`: the rotated files and the log, `tail` last entries,
    between `since` and `until` (unix seconds); with `follow`, what comes next until
    `is_live()` turns False."""
    lo = int(since * 1e9) if since else None
    hi = int(until * 1e9) if until else None

    def emit(es):
        for e in es:
            if lo is not None and e.time_ns < lo:
                continue
            if hi is not None and e.time_ns > hi:
                continue
            data = e.data
            if timestamps:
                data = rfc3339nano(e.time_ns).encode() + b" " + data
            yield e.stream, data

    f = Follower(path)
    try:
        entries = f.initial()
        if tail is not None and tail >= 0:
            entries = entries[len(entries) - tail :] if tail else []
        yield from emit(entries)
        while follow:
            live = is_live()
            yield from emit(f.more())
            if not live:
                yield from emit(f.more())
                return
            time.sleep(0.05)
    finally:
        f.close()
