"""`.dockerignore` files and Docker's path patterns (moby/patternmatcher semantics).

Patterns: `*` and `?` stay within one path element, `**` spans any number, `[...]`
classes, `\\` escapes, `!` re-includes, and later lines win. A pattern that matches a
parent directory matches everything beneath it. `can_skip_dir` tells a context walk when
a whole directory can be left out: it is excluded and no `!` pattern could re-include
anything beneath it.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.record import Record, factory

from .glob import ANY, CLASS, DIRS, LIT, STAR, CharClass, Token, fullmatch

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc costs ~1 ms of start-up; annotations are never evaluated
    from collections.abc import Iterable

_EXACT, _PREFIX, _SUFFIX, _REGEX = range(4)
_GLOB = frozenset("*?[\\")


def clean_path(path: str) -> str:
    """Go's `path.Clean`: lexical, `.` for empty, one leading slash at most."""
    import posixpath

    out = posixpath.normpath(path) if path else "."
    return "/" + out.lstrip("/") if out.startswith("//") else out


def read_dockerignore(data: str | bytes) -> list[str]:
    """The patterns of a .dockerignore file (comments and blanks dropped, paths cleaned)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    data = data.removeprefix("\ufeff")
    patterns: list[str] = []
    for raw in data.split("\n"):
        line = raw.rstrip("\r")
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        invert = line.startswith("!")
        if invert:
            line = line[1:].strip()
        if line:
            line = clean_path(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append("!" + line if invert else line)
    return patterns


class Pattern(Record, frozen=False):
    text: str  # cleaned, without the leading `!`
    exclusion: bool
    kind: int = -1
    tokens: list = factory(list)
    parts: list[str] = factory(list)

    def match(self, path: str) -> bool:
        if self.kind < 0:
            self.kind, self.tokens = _translate(self.text)
        text = self.text
        if self.kind == _EXACT:
            return path == text
        if self.kind == _PREFIX:
            return path.startswith(text[:-2])
        if self.kind == _SUFFIX:
            suffix = text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        return fullmatch(self.tokens, path)


class PatternMatcher:
    """An ordered list of patterns; `matches` answers as Docker's MatchesOrParentMatches."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns: list[Pattern] = []
        self.exclusions = False
        for raw in patterns:
            p = raw.strip()
            if not p:
                continue
            p = clean_path(p)
            exclusion = p.startswith("!")
            if exclusion:
                if len(p) == 1:
                    raise InvalidArgument('illegal exclusion pattern: "!"')
                p = p[1:]
                self.exclusions = True
            _check_syntax(p)
            self.patterns.append(Pattern(p, exclusion, parts=p.split("/")))

    def matches(self, path: str) -> bool:
        """Whether `path` (clean, slash-separated, relative to the context) is excluded."""
        cut = path.rfind("/")
        parent = clean_path(path[: cut + 1]) if cut >= 0 else "."
        prefixes: list[str] = []
        if parent != ".":
            elements = parent.split("/")
            prefixes = ["/".join(elements[: i + 1]) for i in range(len(elements))]
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            if pattern.match(path) or any(pattern.match(p) for p in prefixes):
                matched = not pattern.exclusion
        return matched

    def can_skip_dir(self, path: str) -> bool:
        """True when `path` is excluded and nothing beneath it can be re-included."""
        if not self.matches(path):
            return False
        if not self.exclusions:
            return True
        parts = clean_path(path).lstrip("/").split("/")
        return not any(p.exclusion and _could_match_beneath(p.parts, parts) for p in self.patterns)


def _could_match_beneath(pattern: list[str], directory: list[str]) -> bool:
    """Could a pattern with these elements match a path strictly below `directory`?"""
    for i, want in enumerate(directory):
        if i >= len(pattern):
            return False
        element = pattern[i]
        if "**" in element:
            return True
        if not (_GLOB & set(element)):
            if element != want:
                return False
            continue
        kind, tokens = _translate(element)
        if kind == _EXACT:
            if element != want:
                return False
            continue
        if not fullmatch(tokens, want):
            return False
    return len(pattern) > len(directory)


def _check_syntax(pattern: str) -> None:
    """Reject what Go's filepath.Match rejects: bad `[...]` classes and a trailing `\\`."""
    bad = InvalidArgument(f"syntax error in pattern: {pattern!r}")
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise bad
            i += 2
        elif ch == "[":
            i = _scan_class(pattern, i + 1, bad)[0]
        else:
            i += 1


def _scan_class(
    pattern: str, i: int, bad: InvalidArgument
) -> tuple[int, bool, list[tuple[str, str]]]:
    """Parse a class body after `[`; returns (index after `]`, negated, ranges)."""
    n = len(pattern)
    negated = i < n and pattern[i] == "^"
    if negated:
        i += 1
    ranges: list[tuple[str, str]] = []
    while True:
        if i < n and pattern[i] == "]" and ranges:
            return i + 1, negated, ranges
        lo, i = _class_char(pattern, i, bad)
        hi = lo
        if i < n and pattern[i] == "-":
            hi, i = _class_char(pattern, i + 1, bad)
        ranges.append((lo, hi))


def _class_char(pattern: str, i: int, bad: InvalidArgument) -> tuple[str, int]:
    if i >= len(pattern) or pattern[i] in "-]":
        raise bad
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            raise bad
    return pattern[i], i + 1


def _translate(pattern: str) -> tuple[int, list[Token]]:
    """Classify a cleaned pattern as patternmatcher does and tokenize it."""
    tokens: list[Token] = []
    kind = _EXACT
    i, n = 0, len(pattern)
    bad = InvalidArgument(f"syntax error in pattern: {pattern!r}")
    while i < n:
        ch = pattern[i]
        start = i
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                if i >= n:
                    if kind == _EXACT:
                        kind = _PREFIX
                    else:
                        tokens.append((STAR, False))
                        kind = _REGEX
                else:
                    tokens.append((DIRS, None))
                    kind = _REGEX
                if start == 0:
                    kind = _SUFFIX
            else:
                tokens.append((STAR, True))
                kind = _REGEX
        elif ch == "?":
            tokens.append((ANY, True))
            kind = _REGEX
        elif ch == "\\":
            if i < n:
                tokens.append((LIT, pattern[i]))
                i += 1
                kind = _REGEX
            else:
                tokens.append((LIT, "\\"))
        elif ch == "[":
            i, negated, ranges = _scan_class(pattern, i, bad)
            if any(lo > hi for lo, hi in ranges):
                raise bad  # Go's regexp rejects an inverted range when the pattern is used
            tokens.append((CLASS, CharClass(negated, tuple(ranges))))
            kind = _REGEX
        else:
            if ch == "]":
                kind = _REGEX
            tokens.append((LIT, ch))
    return kind, tokens
