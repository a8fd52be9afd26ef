"""Docker's json-file log driver: one JSON object per line, written by the supervisor.

`{"log":"hello\\n","stream":"stdout","time":"2026-11-27T19:40:01.123456789Z"}` — strings
escaped as Go's encoding/json does (HTML characters as \\u003c..., invalid UTF-8 as U+FFFD).
Output is split at newlines; a line longer than 16 KiB is cut into pieces without "\\n", and
a last unterminated piece is written at EOF, as Docker does. The writer uses only builtins
(the supervisor stays small); `read` is for `logs`.
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
    """Splits one stream's output into log lines and appends them to the log fd."""

    def __init__(self, fd: int, stream: str):
        self.fd = fd
        self.stream = stream
        self.buf = b""

    def feed(self, data: bytes) -> None:
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
            _write_all(self.fd, b"".join(out))

    def close(self) -> None:
        if self.buf:
            _write_all(self.fd, encode(self.buf, self.stream, time.time_ns()))
            self.buf = b""


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
