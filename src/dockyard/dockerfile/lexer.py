"""The Dockerfile shell lexer: quote removal, escapes and `$VAR` expansion.

Behaves as BuildKit's `frontend/dockerfile/shell` lexer: `$V`, `${V}`, `${V:-w}`, `${V-w}`,
`${V:+w}`, `${V+w}`, `${V:?e}`, `${V?e}`, `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`,
`${V/p/r}`, `${V//p/r}`, single and double quotes, and the escape token (backslash or
backtick). `expand_word` returns one string (spaces kept), `expand_words` splits into words
after expansion, quoted text staying in one word.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument

from . import glob

TYPE_CHECKING = False
if TYPE_CHECKING:  # collections.abc costs ~1 ms of a build's start; annotations are not evaluated
    from collections.abc import Mapping

_EOF = ""
_MAX_DEPTH = 64  # nested ${...} levels; deeper input is hostile, not a Dockerfile
_SPECIAL_PARAMS = frozenset("@*#?-$!0")


class ShellError(InvalidArgument):
    """A word could not be lexed (unterminated quote, bad substitution, `${V?}` on unset V)."""


class Lexer:
    """One configuration of the lexer; cheap to build, not safe to share between threads."""

    __slots__ = (
        "_depth",
        "_env",
        "_pos",
        "_raw_escapes",
        "_src",
        "escape",
        "raw_escapes",
        "raw_quotes",
        "skip_quotes",
        "skip_unset",
    )

    def __init__(
        self,
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_unset: bool = False,
        skip_quotes: bool = False,
    ) -> None:
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_unset = skip_unset
        self.skip_quotes = skip_quotes
        self._src = ""
        self._pos = 0
        self._env: Mapping[str, str] = {}
        self._raw_escapes = raw_escapes
        self._depth = 0

    def word(self, text: str, env: Mapping[str, str]) -> str:
        """Expand `text` as one word: quotes removed, spaces kept."""
        return self._run(text, env)[0]

    def words(self, text: str, env: Mapping[str, str]) -> list[str]:
        """Expand `text` and split it into words the way a shell would after substitution."""
        return self._run(text, env)[1]

    def _run(self, text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
        self._src, self._pos, self._env = text, 0, env
        self._raw_escapes = self.raw_escapes
        self._depth = 0
        try:
            return self._until(_EOF, self.raw_escapes)
        except ShellError as e:
            shown = text if len(text) <= 200 else text[:200] + "..."
            raise ShellError(f"failed to process {_go_quote(shown)}: {e}") from None

    # -- scanning ----------------------------------------------------------------------------

    def _peek(self) -> str:
        src, pos = self._src, self._pos
        return src[pos] if pos < len(src) else _EOF

    def _next(self) -> str:
        src, pos = self._src, self._pos
        if pos < len(src):
            self._pos = pos + 1
            return src[pos]
        return _EOF

    def _until(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        """Lex up to `stop` (consumed) or the end; returns the text and its words."""
        saved = self._raw_escapes
        self._raw_escapes = raw_escapes
        self._depth += 1
        if self._depth > _MAX_DEPTH:
            raise ShellError("syntax error: substitutions nested too deeply")
        try:
            return self._until_inner(stop)
        finally:
            self._raw_escapes = saved
            self._depth -= 1

    def _until_inner(self, stop: str) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        esc = self.escape
        quotes = not self.skip_quotes
        while (ch := self._peek()) != _EOF:
            if stop and ch == stop:
                self._pos += 1
                return "".join(result), words.finish()
            if ch == "$":
                text = self._dollar()
                result.append(text)
                words.add_text(text)
            elif ch == "<":
                text = self._maybe_heredoc()
                result.append(text)
                words.add_raw(text)
            elif quotes and ch == "'":
                text = self._single_quote()
                result.append(text)
                words.add_raw(text)
            elif quotes and ch == '"':
                text = self._double_quote()
                result.append(text)
                words.add_raw(text)
            else:
                self._pos += 1
                if ch == esc:
                    if self._raw_escapes:
                        words.add_raw(ch)
                        result.append(ch)
                    ch = self._next()
                    if ch == _EOF:
                        break
                    words.add_raw(ch)
                else:
                    words.add_char(ch)
                result.append(ch)
        if stop:
            raise ShellError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.finish()

    def _single_quote(self) -> str:
        # Nothing is special between single quotes, not even the escape token.
        start = self._pos + 1
        end = self._src.find("'", start)
        if end < 0:
            raise ShellError("unexpected end of statement while looking for matching single-quote")
        self._pos = end + 1
        if self.raw_quotes:
            return self._src[start - 1 : end + 1]
        return self._src[start:end]

    def _double_quote(self) -> str:
        out: list[str] = []
        first = self._next()
        if self.raw_quotes:
            out.append(first)
        esc = self.escape
        while True:
            ch = self._peek()
            if ch == _EOF:
                raise ShellError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self._pos += 1
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self._dollar())
                continue
            self._pos += 1
            if ch == esc:
                if self._raw_escapes:
                    out.append(ch)
                nxt = self._peek()
                if nxt == _EOF:
                    continue
                # Only these may be escaped inside double quotes; other escapes stay literal.
                if nxt in ('"', "$", esc):
                    ch = self._next()
            out.append(ch)

    def _maybe_heredoc(self) -> str:
        self._pos += 1
        if self._peek() != "<":
            return "<"
        self._pos += 1
        start = self._pos
        while self._peek() in ("\t", "\r", " ") and self._peek() != _EOF:
            self._pos += 1
        return "<<" + self._src[start : self._pos]

    def _name(self) -> str:
        src, pos, n = self._src, self._pos, len(self._src)
        if pos >= n:
            return ""
        ch = src[pos]
        if ch.isdecimal():
            end = pos
            while end < n and src[end].isdecimal():
                end += 1
            self._pos = end
            return src[pos:end]
        if ch in _SPECIAL_PARAMS:
            self._pos = pos + 1
            return ch
        end = pos
        while end < n and (src[end].isalnum() or src[end] == "_"):
            end += 1
        self._pos = end
        return src[pos:end]

    def _lookup(self, name: str) -> str | None:
        return self._env.get(name)

    def _dollar(self) -> str:
        self._pos += 1
        if self._peek() != "{":
            name = self._name()
            if not name:
                return "$"
            value = self._lookup(name)
            if value is None:
                return "$" + name if self.skip_unset else ""
            return value
        self._pos += 1
        ch = self._peek()
        if ch == _EOF:
            raise ShellError("syntax error: missing '}'")
        if ch in "{}:":
            raise ShellError("syntax error: bad substitution")
        name = self._name()
        op = self._next()
        if op == _EOF:
            raise ShellError("syntax error: missing '}'")
        if op == "}":
            value = self._lookup(name)
            if value is None:
                return "${" + name + "}" if self.skip_unset else ""
            return value
        if op == "/":
            return self._substitute(name)
        colon = op == ":"
        if colon:
            op = self._next()
        if op not in ("+", "-", "?", "#", "%"):
            raise ShellError(f"unsupported modifier ({':' if colon else ''}{op}) in substitution")
        pattern_op = op in ("#", "%")
        if colon and pattern_op:
            raise ShellError(f"unsupported modifier (:{op}) in substitution")
        word = self._operand("}", pattern_op)
        value = self._lookup(name)
        if value is None and self.skip_unset:
            return "${" + name + (":" if colon else "") + op + word + "}"
        return _apply(name, op, colon, value, word)

    def _operand(self, stop: str, raw_escapes: bool) -> str:
        try:
            return self._until(stop, raw_escapes)[0]
        except ShellError:
            if self._peek() == _EOF:
                raise ShellError(
                    "syntax error: missing '}'"
                    if stop == "}"
                    else "syntax error: missing '/' in ${}"
                ) from None
            raise

    def _substitute(self, name: str) -> str:
        replace_all = self._peek() == "/"
        if replace_all:
            self._pos += 1
        pattern = self._operand("/", True)
        replacement = self._operand("}", True)
        value = self._lookup(name)
        if value is None and self.skip_unset:
            return "${" + name + "/" + pattern + "/" + replacement + "}"
        return _replace(_shell_tokens(pattern), value or "", replacement, replace_all)


def _apply(name: str, op: str, colon: bool, value: str | None, word: str) -> str:
    unset = value is None or (colon and value == "")
    if op == "-":
        return word if unset else (value or "")
    if op == "+":
        return "" if unset else word
    if op == "?":
        if value is None:
            raise ShellError(f"{name}: {word or 'is not allowed to be unset'}")
        if colon and value == "":
            raise ShellError(f"{name}: {word or 'is not allowed to be empty'}")
        return value
    # '#' trims a prefix, '%' a suffix; doubled means the longest match.
    greedy = word.startswith(op)
    if greedy:
        word = word[1:]
    value = value or ""
    if op == "#":
        return _trim_prefix(word, value, greedy)
    return _trim_suffix(word, value, greedy)


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    hits = glob.ends(_shell_tokens(pattern), value)
    if not hits:
        return value
    cut = hits.bit_length() - 1 if greedy else (hits & -hits).bit_length() - 1
    return value[cut:]


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    tokens = glob.reverse(_shell_tokens(pattern))
    hits = glob.ends(tokens, value[::-1])
    if not hits:
        return value
    cut = hits.bit_length() - 1 if greedy else (hits & -hits).bit_length() - 1
    return value[: len(value) - cut]


def _replace(tokens: list, value: str, replacement: str, replace_all: bool) -> str:
    """`${V/p/r}`: leftmost matches, each as long as possible."""
    starts = glob.match_starts(tokens, value)
    out: list[str] = []
    pos = 0
    n = len(value)
    while pos <= n:
        pending = starts >> pos
        if not pending:
            break
        start = pos + (pending & -pending).bit_length() - 1
        end = glob.ends(tokens, value, 1 << start).bit_length() - 1
        out.append(value[pos:start])
        out.append(replacement)
        if end == start:  # an empty match: keep one character and move on
            out.append(value[start : start + 1])
            end = start + 1
        pos = end
        if not replace_all:
            break
    out.append(value[pos:])
    return "".join(out)


def _shell_tokens(pattern: str) -> list:
    """Shell wildcards (`*`, `?`, `\\x`; no brackets) as glob tokens."""
    tokens: list = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            tokens.append((glob.STAR, False))
        elif ch == "?":
            tokens.append((glob.ANY, False))
        elif ch == "\\":
            if i < n and pattern[i] in "}/":
                continue  # escaped only for the ${} syntax, not part of the pattern
            nxt = pattern[i] if i < n else ""
            i += 1
            if nxt not in ("*", "?", "\\") or not nxt:
                raise ShellError(f"invalid pattern ({pattern}) in substitution: invalid escape")
            tokens.append((glob.LIT, nxt))
        else:
            tokens.append((glob.LIT, ch))
    return tokens


class _Words:
    """Accumulates shell words: unquoted whitespace separates, quoted text never does."""

    __slots__ = ("buf", "in_word", "words")

    def __init__(self) -> None:
        self.words: list[str] = []
        self.buf: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch.isspace():
            if self.in_word:
                joined = "".join(self.buf)
                if joined:
                    self.words.append(joined)
                    self.buf.clear()
                    self.in_word = False
        else:
            self.buf.append(ch)
            self.in_word = True

    def add_text(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw(self, text: str) -> None:
        self.buf.append(text)
        self.in_word = True

    def finish(self) -> list[str]:
        if self.buf:
            joined = "".join(self.buf)
            if joined:
                self.words.append(joined)
            self.buf.clear()
            self.in_word = False
        return self.words


def _go_quote(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def expand_word(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """`text` with variables substituted and quotes removed, as one string."""
    return Lexer(escape).word(text, env)


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """`text` expanded and split into words (quoted spaces do not split)."""
    return Lexer(escape).words(text, env)
