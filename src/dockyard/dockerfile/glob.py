"""Wildcard matching without backtracking, for .dockerignore and `${V#pattern}`.

A pattern is a list of tokens; matching tracks the set of text positions reachable after
each token as the bits of one integer, so any pattern runs in O(tokens × text / word)
whatever its shape — a hostile `*a*a*a...` cannot make it exponential as a backtracking
regex would.
"""

from __future__ import annotations

from dockyard.record import Record

LIT, ANY, CLASS, STAR, DIRS = range(5)


class CharClass(Record):
    negated: bool
    ranges: tuple[tuple[str, str], ...]

    def __contains__(self, ch: str) -> bool:
        inside = any(lo <= ch <= hi for lo, hi in self.ranges)
        return inside != self.negated


# A token is (kind, arg): (LIT, "c"), (ANY, no_slash), (CLASS, CharClass),
# (STAR, no_slash) for `*`, (DIRS, None) for `(.*/)?` (nothing, or anything ending in `/`).
Token = tuple[int, object]


class _Masks:
    """Bit masks over one text, built on demand (bit i ↔ text[i])."""

    __slots__ = ("_cache", "n", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self._cache: dict[object, int] = {}

    def where(self, key: object, pred) -> int:
        mask = self._cache.get(key)
        if mask is None:
            bits = "".join("1" if pred(ch) else "0" for ch in reversed(self.text))
            mask = int(bits, 2) if bits else 0
            self._cache[key] = mask
        return mask

    def not_slash(self) -> int:
        return self.where("¬/", lambda ch: ch != "/")

    def slash(self) -> int:
        return self.where("/", lambda ch: ch == "/")


def ends(tokens: list[Token] | tuple[Token, ...], text: str, starts: int = 1) -> int:
    """Positions (as bits) where a match of `tokens` beginning at a `starts` bit can end."""
    m = _Masks(text)
    every = (1 << (m.n + 1)) - 1
    cur = starts
    for kind, arg in tokens:
        if not cur:
            return 0
        if kind == LIT:
            cur = (cur & m.where(arg, lambda ch, c=arg: ch == c)) << 1
        elif kind == ANY:
            cur = (cur & (m.not_slash() if arg else (1 << m.n) - 1)) << 1
        elif kind == CLASS:
            cur = (cur & m.where(arg, arg.__contains__)) << 1  # type: ignore[attr-defined]
        elif kind == STAR and arg:
            run = m.not_slash()
            # Adding a start bit to a run of ones carries to the run's end: one addition
            # finds every position reachable through non-slash characters.
            cur = ((((cur & run) + run) ^ run) | cur) & every
        elif kind == STAR:
            low = cur & -cur
            cur = every & ~(low - 1)
        else:  # DIRS
            low = cur & -cur
            cur |= (m.slash() & ~(low - 1)) << 1
    return cur


def fullmatch(tokens: list[Token] | tuple[Token, ...], text: str) -> bool:
    return bool(ends(tokens, text) >> len(text) & 1)


def reverse(tokens: list[Token] | tuple[Token, ...]) -> list[Token]:
    """Tokens matching the reversed language (for suffix searches on reversed text)."""
    return list(reversed(tokens))


def match_starts(tokens: list[Token] | tuple[Token, ...], text: str) -> int:
    """Bits of every position where some match of `tokens` can begin."""
    n = len(text)
    back = ends(reverse(tokens), text[::-1], (1 << (n + 1)) - 1)
    # Bit j of `back` is an end in reversed text, i.e. a start at n - j.
    bits = bin(back)[2:].zfill(n + 1)[-(n + 1) :]
    return int(bits[::-1], 2) if bits else 0
