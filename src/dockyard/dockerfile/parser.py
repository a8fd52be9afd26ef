"""Dockerfile text → raw instruction nodes (BuildKit's `parser` package semantics).

Owns: parser directives (`# escape=`, `# syntax=`, `# check=`), comments, line
continuations (skipping comment and empty lines inside them), the split of an instruction
into name, `--flags` and arguments, JSON (exec) versus shell form, and heredoc bodies.
Nothing here knows what an instruction means; `instructions` turns nodes into typed values.
"""

from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.record import Record, factory

from .lexer import Lexer, ShellError

_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC_COMMANDS = frozenset({"add", "copy", "run"})
_BLANKS = "\t\v\f\r "  # BuildKit's reWhitespace: no newline


class Heredoc(Record):
    """A heredoc attached to an instruction: `<<[-]NAME` and its body as written."""

    name: str
    content: str
    fd: int = 0
    expand: bool = True  # False when the delimiter was quoted
    chomp: bool = False  # `<<-`: leading tabs are stripped from the body

    @property
    def text(self) -> str:
        """The body as the command sees it (leading tabs removed for `<<-`)."""
        return strip_leading_tabs(self.content) if self.chomp else self.content


class Node(Record):
    """One instruction as BuildKit's parser sees it, before typing and expansion."""

    cmd: str  # as written (case preserved)
    args: tuple[str, ...]  # BuildKit's value list (ENV/LABEL flattened to key, value, ...)
    flags: tuple[str, ...]
    original: str
    start_line: int
    end_line: int
    json: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    sub: Node | None = None  # the trigger of ONBUILD
    kv_legacy: bool = False  # ENV/LABEL written `KEY value` (no `=`)


class ParsedFile(Record):
    """The nodes of a Dockerfile and the directives in force."""

    nodes: tuple[Node, ...]
    escape: str = "\\"
    directives: dict[str, str] = factory(dict)


def strip_leading_tabs(text: str) -> str:
    return "".join(line.lstrip("\t") for line in text.splitlines(keepends=True))


def error_at(line: int, reason: str) -> InvalidArgument:
    return InvalidArgument(f"Dockerfile:{line}: {reason}")


class _Directives:
    """Parser directives are only honoured in the leading run of `# key=value` lines."""

    __slots__ = ("done", "found", "line")

    def __init__(self) -> None:
        self.done = False
        self.found: dict[str, str] = {}
        self.line = 0

    def feed(self, text: str) -> tuple[str, str] | None:
        self.line += 1
        if self.done:
            return None
        if not text.startswith("#"):
            self.done = True
            return None
        parsed = _split_directive(text[1:].lstrip())
        if parsed is None or parsed[0] not in _DIRECTIVES:
            self.done = True
            return None
        key, value = parsed
        if key in self.found:
            raise error_at(self.line, f"only one {key} parser directive can be used")
        self.found[key] = value
        return key, value


def _split_directive(text: str) -> tuple[str, str] | None:
    # `name = value`: name is [A-Za-z][A-Za-z0-9]*, value non-empty once trimmed.
    i, n = 0, len(text)
    if n == 0 or not (text[0].isascii() and text[0].isalpha()):
        return None
    while i < n and text[i].isascii() and text[i].isalnum():
        i += 1
    name = text[:i]
    rest = text[i:].lstrip()
    if not rest.startswith("="):
        return None
    value = rest[1:].strip()
    if not value:
        return None
    return name.lower(), value


def _split_lines(text: str) -> list[str]:
    """Lines with their `\\n` kept, as bufio with BuildKit's scanLines."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
        return [line + "\n" for line in lines]
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _trim_continuation(line: str, esc: str) -> tuple[str, bool]:
    """Remove a trailing escape token; returns (line, complete)."""
    body = line.rstrip(" \t")
    if body.endswith(esc) and (len(body) == 1 or body[-2] != esc):
        return body[:-1], False
    return line, True


def parse_nodes(source: str | bytes) -> ParsedFile:
    """Split a Dockerfile into raw nodes. Raises InvalidArgument("Dockerfile:N: ...")."""
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidArgument(f"Dockerfile: not valid UTF-8 at byte {e.start}") from None
    if source.startswith("\ufeff"):
        source = source[1:]
    lines = _split_lines(source) if source else []
    directives = _Directives()
    esc = "\\"
    nodes: list[Node] = []
    total = len(lines)
    i = 0
    line_no = 0
    while i < total:
        token = lines[i].rstrip("\r\n").lstrip()
        i += 1
        esc = _directive(directives, token, line_no + 1, esc)
        line_no += 1
        start = line_no
        if _is_comment(token):
            token = ""
        token, complete = _trim_continuation(token, esc)
        if complete and not token:
            continue
        parts = [token]
        while not complete and i < total:
            raw = lines[i]
            i += 1
            text = raw.rstrip("\r\n")
            esc = _directive(directives, text, line_no + 1, esc)
            line_no += 1
            if _is_comment(raw) or not text.strip():
                # BuildKit drops comment lines and (deprecated) empty lines inside continuations.
                continue
            text, complete = _trim_continuation(text, esc)
            parts.append(text)
        line = "".join(parts)
        node = _node_from_line(line, esc, start, line_no)
        if _can_have_heredoc(node) and "<<" in line:
            node, i, line_no = _read_heredocs(node, line, lines, i, start, line_no)
        nodes.append(node)
    if not nodes:
        raise error_at(line_no, "file with no instructions")
    return ParsedFile(tuple(nodes), esc, dict(directives.found))


def _directive(directives: _Directives, text: str, line_no: int, esc: str) -> str:
    found = directives.feed(text)
    if found is not None and found[0] == "escape":
        if found[1] not in ("\\", "`"):
            raise error_at(line_no, f"invalid escape token '{found[1]}' does not match ` or \\")
        return found[1]
    return esc


def _node_from_line(line: str, esc: str, start: int, end: int) -> Node:
    cmd, flags, rest = _split_command(line, esc, start)
    args, is_json, sub, legacy = _parse_args(cmd.lower(), rest, esc, start, end)
    return Node(cmd, args, flags, line, start, end, is_json, (), sub, legacy)


def _split_command(line: str, esc: str, start: int) -> tuple[str, tuple[str, ...], str]:
    line = line.strip()
    cut = len(line)
    for blank in _BLANKS:
        found = line.find(blank, 0, cut)
        if found != -1:
            cut = found
    cmd = line[:cut]
    rest = line[cut:].lstrip(_BLANKS)
    if not rest:
        return cmd, (), ""
    rest, flags = _extract_flags(rest, esc)
    return cmd, flags, rest.strip()


def _extract_flags(line: str, esc: str) -> tuple[str, tuple[str, ...]]:
    """Leading `--flag[=value]` words (quotes and escapes removed) and the remaining text."""
    flags: list[str] = []
    pos, n = 0, len(line)
    while True:
        while pos < n and line[pos].isspace():
            pos += 1
        if pos >= n:
            return "", tuple(flags)
        if not line.startswith("--", pos):
            return line[pos:], tuple(flags)
        word: list[str] = []
        quoted = False
        quote = ""
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == esc:
                    if pos + 1 == n:
                        pos += 1
                        quote = ""
                        continue
                    pos += 1
                    word.append(line[pos])
                else:
                    word.append(ch)
                pos += 1
                continue
            if ch.isspace():
                break
            if ch in ("'", '"'):
                quote = ch
                quoted = True
            elif ch == esc:
                if pos + 1 < n:
                    pos += 1
                    word.append(line[pos])
            else:
                word.append(ch)
            pos += 1
        text = "".join(word)
        if text == "--":
            return ("" if pos >= n else line[pos:]), tuple(flags)
        if quoted or text:
            flags.append(text)
        if pos >= n:
            return "", tuple(flags)


def _parse_args(
    cmd: str, rest: str, esc: str, start: int, end: int
) -> tuple[tuple[str, ...], bool, Node | None, bool]:
    if cmd in ("run", "cmd", "entrypoint", "shell"):
        args, is_json = _maybe_json(rest, start)
        return args, is_json, None, False
    if cmd in ("add", "copy", "volume"):
        if rest:
            parsed = _json_array(rest, start)
            if parsed is not None:
                return parsed, True, None, False
        return _split_blanks(rest), False, None, False
    if cmd in ("from", "expose"):
        return _split_blanks(rest), False, None, False
    if cmd in ("env", "label"):
        args, legacy = _name_values(rest, cmd.upper(), esc, start)
        return args, False, None, legacy
    if cmd == "arg":
        return tuple(parse_words(rest, esc)), False, None, False
    if cmd in ("maintainer", "stopsignal", "user", "workdir"):
        return ((rest,) if rest else ()), False, None, False
    if cmd == "healthcheck":
        return _health(rest, start)
    if cmd == "onbuild":
        if not rest:
            return (), False, None, False
        child = _node_from_line(rest, esc, start, end)
        return (child.cmd, *child.args), False, child, False
    return ("",), False, None, False  # unknown instruction: rejected when typed


def _split_blanks(rest: str) -> tuple[str, ...]:
    if not rest:
        return ()
    out: list[str] = []
    word: list[str] = []
    for ch in rest:
        if ch in _BLANKS:
            if word:
                out.append("".join(word))
                word.clear()
            elif not out:
                out.append("")  # regexp split keeps a leading empty field
        else:
            word.append(ch)
    out.append("".join(word))
    return tuple(out)


def _json_array(rest: str, line: int) -> tuple[str, ...] | None:
    """The strings of a JSON array, None if `rest` is not one (then it is shell form)."""
    rest = rest.lstrip()
    if not rest.startswith("["):
        return None
    from dockyard import fastjson  # json's C scanner without the json package (re, enum)

    try:
        value = fastjson.loads(rest, constants=False)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise error_at(
            line, "when using JSON array syntax, arrays must be comprised of strings only"
        )
    return tuple(value)


def _maybe_json(rest: str, line: int) -> tuple[tuple[str, ...], bool]:
    if not rest:
        return (), False
    parsed = _json_array(rest, line)
    if parsed is not None:
        return parsed, True
    return (rest,), False


def _health(rest: str, line: int) -> tuple[tuple[str, ...], bool, None, bool]:
    n = len(rest)
    sep = 0
    while sep < n and not rest[sep].isspace():
        sep += 1
    if sep == 0:
        return (), False, None, False
    nxt = sep
    while nxt < n and rest[nxt].isspace():
        nxt += 1
    cmd, is_json = _maybe_json(rest[nxt:], line)
    return (rest[:sep], *cmd), is_json, None, False


def _plain(text: str, esc: str) -> bool:
    # No quotes, escapes or characters where Python's and Go's idea of a space differ.
    return (
        text.isascii()
        and esc not in text
        and '"' not in text
        and "'" not in text
        and not any(c in text for c in "\x1c\x1d\x1e\x1f")
    )


def parse_words(rest: str, esc: str) -> list[str]:
    """Split on unquoted whitespace, keeping quotes and escapes (BuildKit's parseWords)."""
    if _plain(rest, esc):
        return rest.split()
    words: list[str] = []
    buf: list[str] = []
    blank_ok = False
    quote = ""
    in_word = False
    pos, n = 0, len(rest)
    while pos < n:
        ch = rest[pos]
        if not in_word:
            if ch.isspace():
                pos += 1
                continue
            in_word = True
        if quote:
            if ch == quote:
                quote = ""
            elif ch == esc and quote != "'":
                if pos + 1 == n:
                    pos += 1
                    quote = ""
                    continue
                buf.append(ch)
                pos += 1
                ch = rest[pos]
            buf.append(ch)
            pos += 1
            continue
        if ch.isspace():
            if blank_ok or buf:
                words.append("".join(buf))
            buf.clear()
            blank_ok = False
            in_word = False
            pos += 1
            continue
        if ch in ("'", '"'):
            quote = ch
            blank_ok = True
        if ch == esc:
            if pos + 1 == n:
                pos += 1
                continue
            buf.append(ch)
            pos += 1
            ch = rest[pos]
        buf.append(ch)
        pos += 1
    if in_word and (blank_ok or buf):
        words.append("".join(buf))
    return words


def _name_values(rest: str, key: str, esc: str, line: int) -> tuple[tuple[str, ...], bool]:
    words = parse_words(rest, esc)
    if not words:
        return (), False
    if "=" not in words[0]:
        name = _split_blanks(rest)[0]
        value = rest[len(name) :].lstrip(_BLANKS)
        if not value:
            raise error_at(line, f"{key} must have two arguments")
        return (name, value), True
    out: list[str] = []
    for word in words:
        name, eq, value = word.partition("=")
        if not eq:
            raise error_at(
                line,
                f"Syntax error - can't find = in {_quote(word)}. Must be of the form: name=value",
            )
        out += (name, value)
    return tuple(out), False


def _quote(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def _can_have_heredoc(node: Node) -> bool:
    target = node.sub if node.cmd.lower() == "onbuild" and node.sub is not None else node
    return target.cmd.lower() in _HEREDOC_COMMANDS and not target.json


def parse_heredoc(word: str) -> Heredoc | None:
    """A heredoc opener `[fd]<<[-]WORD`, or None when `word` is not one."""
    i, n = 0, len(word)
    while i < n and word[i].isascii() and word[i].isdigit():
        i += 1
    if not word.startswith("<<", i):
        return None
    fd = int(word[:i]) if i else 0
    j = i + 2
    chomp = j < n and word[j] == "-"
    if chomp:
        j += 1
    while j < n and word[j] in " \t\n\f\r":
        j += 1
    rest = word[j:]
    if not rest or "<" in rest:
        return None
    plain = Lexer(skip_unset=True).words(rest, {})
    if len(plain) != 1:
        return None
    raw = Lexer(skip_unset=True, raw_quotes=True).words(rest, {})
    name = plain[0]
    quotes = name.count("'") + name.count('"')
    raw_quotes = raw[0].count("'") + raw[0].count('"')
    return Heredoc(name=name, content="", fd=fd, expand=quotes == raw_quotes, chomp=chomp)


def _heredocs_in(line: str, start: int) -> list[Heredoc]:
    try:
        words = Lexer(raw_quotes=True, raw_escapes=True, skip_unset=True).words(line, {})
    except ShellError:
        return []
    docs = []
    for word in words:
        try:
            doc = parse_heredoc(word)
        except ShellError as e:
            raise error_at(start, str(e)) from None
        if doc is not None:
            docs.append(doc)
    return docs


def _read_heredocs(
    node: Node, line: str, lines: list[str], i: int, start: int, line_no: int
) -> tuple[Node, int, int]:
    docs: list[Heredoc] = []
    for doc in _heredocs_in(line, start):
        body: list[str] = []
        terminated = False
        while i < len(lines):
            raw = lines[i]
            i += 1
            line_no += 1
            candidate = raw.rstrip("\r\n")
            if doc.chomp:
                candidate = candidate.lstrip("\t")
            if candidate == doc.name:
                terminated = True
                break
            body.append(raw)
        if not terminated:
            raise error_at(start, "unterminated heredoc")
        docs.append(Heredoc(doc.name, "".join(body), doc.fd, doc.expand, doc.chomp))
    if not docs:
        return node, i, line_no
    return (
        Node(
            node.cmd,
            node.args,
            node.flags,
            node.original,
            node.start_line,
            line_no,
            node.json,
            tuple(docs),
            node.sub,
            node.kv_legacy,
        ),
        i,
        line_no,
    )
