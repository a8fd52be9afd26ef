"""Parsing a Go text/template subset into a small tree (see template.py for execution).

Supported: text, `{{pipeline}}` with `|`, fields `.A.B`, `$var`, `$x := ...`, literals (strings,
raw strings, numbers, true/false/nil), parenthesised pipelines, function calls, comments,
`{{-`/`-}}` trimming, and the actions if/else if/else, range (with `$i, $v :=`), with, end.
"""


class TemplateError(Exception):
    """A template that does not parse or fails while executing; the message is Go's."""


# Node kinds (tuples keep the tree cheap): the first item is the kind, the last the byte offset.
TEXT, ACTION, IF, RANGE, WITH = "text", "action", "if", "range", "with"
FIELD, VAR, DOT, STR, NUM, BOOL, NIL, IDENT, PIPE, CHAIN, PAREN = (
    "field",
    "var",
    "dot",
    "str",
    "num",
    "bool",
    "nil",
    "ident",
    "pipe",
    "chain",
    "paren",
)

_SPACE = " \t\r\n"
_KEYWORDS = (
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
)


def line_of(src: str, pos: int) -> int:
    return src.count("\n", 0, pos) + 1


class _Action:
    """The tokens of one `{{ ... }}` action."""

    def __init__(self, tokens: list[tuple], pos: int):
        self.tokens = tokens
        self.i = 0
        self.pos = pos

    def peek(self) -> tuple | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self) -> tuple | None:
        tok = self.peek()
        self.i += 1
        return tok


class Parser:
    def __init__(self, src: str):
        self.src = src
        self.items = self._split(src)
        self.k = 0

    # -- lexing -------------------------------------------------------------------------------

    def _fail(self, pos: int, msg: str) -> TemplateError:
        return TemplateError(f"template: :{line_of(self.src, pos)}: {msg}")

    def _split(self, src: str) -> list:
        """Text and action items in order, with trim markers applied to the text."""
        items: list = []
        i = 0
        trim_next = False
        while True:
            j = src.find("{{", i)
            text = src[i:] if j < 0 else src[i:j]
            if trim_next:
                text = text.lstrip(_SPACE)
            if j < 0:
                if text:
                    items.append((TEXT, text, i))
                return items
            start = j + 2
            if src.startswith("-", start) and start + 1 < len(src) and src[start + 1] in _SPACE:
                text = text.rstrip(_SPACE)
                start += 2
            if text:
                items.append((TEXT, text, i))
            if src.startswith("/*", start):
                k = start
                end = src.find("*/", k + 2)
                if end < 0:
                    raise self._fail(j, "unclosed comment")
                close = self._skip_space(src, end + 2)
                trim_next = False
                if src.startswith("-", close) and src.startswith("}}", close + 1):
                    trim_next = True
                    close += 1
                if not src.startswith("}}", close):
                    raise self._fail(j, "comment ends before closing delimiter")
                i = close + 2
                continue
            tokens, i, trim_next = self._lex_action(src, start, j)
            items.append((ACTION, _Action(tokens, j), j))

    @staticmethod
    def _skip_space(src: str, i: int) -> int:
        while i < len(src) and src[i] in _SPACE:
            i += 1
        return i

    def _lex_action(self, src: str, i: int, open_pos: int) -> tuple[list, int, bool]:
        tokens: list[tuple] = []
        n = len(src)
        depth = 0
        while True:
            if i >= n:
                raise self._fail(open_pos, "unclosed action")
            c = src[i]
            if c in _SPACE:
                k = self._skip_space(src, i)
                if src.startswith("-}}", k) and k > i:
                    return tokens, k + 3, True
                i = k
                continue
            if src.startswith("}}", i):
                if depth:
                    raise self._fail(i, "unclosed left paren")
                return tokens, i + 2, False
            if c == "(":
                depth += 1
                tokens.append(("(", i))
                i += 1
            elif c == ")":
                depth -= 1
                if depth < 0:
                    raise self._fail(i, "unexpected right paren")
                tokens.append((")", i))
                i += 1
            elif c == "|":
                tokens.append(("|", i))
                i += 1
            elif c == ",":
                tokens.append((",", i))
                i += 1
            elif src.startswith(":=", i):
                tokens.append((":=", i))
                i += 2
            elif c == "=":
                tokens.append(("=", i))
                i += 1
            elif c == '"':
                i = self._lex_string(src, i, tokens)
            elif c == "`":
                end = src.find("`", i + 1)
                if end < 0:
                    raise self._fail(i, "unterminated raw quoted string")
                tokens.append((STR, src[i + 1 : end], i))
                i = end + 1
            elif c == "." and (i + 1 >= n or not (src[i + 1].isalnum() or src[i + 1] == "_")):
                tokens.append((DOT, i))
                i += 1
            elif c == ".":
                names = []
                start = i
                while (
                    i < n
                    and src[i] == "."
                    and i + 1 < n
                    and (src[i + 1].isalnum() or src[i + 1] == "_")
                ):
                    k = i + 1
                    while k < n and (src[k].isalnum() or src[k] == "_"):
                        k += 1
                    names.append(src[i + 1 : k])
                    i = k
                tokens.append((FIELD, tuple(names), start))
            elif c == "$":
                k = i + 1
                while k < n and (src[k].isalnum() or src[k] == "_"):
                    k += 1
                name = src[i:k]
                fields = []
                while (
                    k < n
                    and src[k] == "."
                    and k + 1 < n
                    and (src[k + 1].isalnum() or src[k + 1] == "_")
                ):
                    m = k + 1
                    while m < n and (src[m].isalnum() or src[m] == "_"):
                        m += 1
                    fields.append(src[k + 1 : m])
                    k = m
                tokens.append((VAR, name, tuple(fields), i))
                i = k
            elif c.isdigit() or (c in "+-" and i + 1 < n and src[i + 1].isdigit()):
                k = i + 1
                while (
                    k < n
                    and (src[k].isalnum() or src[k] in "._+-")
                    and not (src[k] in "+-" and src[k - 1] not in "eEpP")
                ):
                    k += 1
                tokens.append((NUM, self._number(src[i:k], i), i))
                i = k
            elif c.isalpha() or c == "_":
                k = i
                while k < n and (src[k].isalnum() or src[k] == "_"):
                    k += 1
                word = src[i:k]
                if word in ("true", "false"):
                    tokens.append((BOOL, word == "true", i))
                elif word == "nil":
                    tokens.append((NIL, i))
                else:
                    tokens.append((IDENT, word, i))
                i = k
            else:
                raise self._fail(i, f"unexpected {c!r} in command")
            # A field directly after ")" chains onto the parenthesised value.
            if (
                tokens
                and tokens[-1][0] == FIELD
                and len(tokens) > 1
                and tokens[-2][0] == ")"
                and tokens[-2][1] + 1 == tokens[-1][2]
            ):
                tokens[-1] = (CHAIN, tokens[-1][1], tokens[-1][2])

    def _lex_string(self, src: str, i: int, tokens: list) -> int:
        out = []
        k = i + 1
        escapes = {
            "n": "\n",
            "t": "\t",
            "r": "\r",
            "\\": "\\",
            '"': '"',
            "'": "'",
            "a": "\a",
            "b": "\b",
            "f": "\f",
            "v": "\v",
            "0": "\0",
        }
        while True:
            if k >= len(src) or src[k] == "\n":
                raise self._fail(i, "unterminated quoted string")
            ch = src[k]
            if ch == '"':
                tokens.append((STR, "".join(out), i))
                return k + 1
            if ch == "\\" and k + 1 < len(src):
                esc = src[k + 1]
                if esc in escapes:
                    out.append(escapes[esc])
                    k += 2
                    continue
                if esc in "xuU":
                    size = {"x": 2, "u": 4, "U": 8}[esc]
                    try:
                        out.append(chr(int(src[k + 2 : k + 2 + size], 16)))
                    except ValueError:
                        raise self._fail(i, "invalid syntax") from None
                    k += 2 + size
                    continue
                raise self._fail(i, "invalid syntax")
            out.append(ch)
            k += 1

    def _number(self, text: str, pos: int) -> int | float:
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            raise self._fail(pos, f"bad number syntax: {text!r}") from None

    # -- parsing ------------------------------------------------------------------------------

    def parse(self) -> list:
        nodes, stop = self._list()
        if stop is not None:
            raise self._fail(stop[2], f"unexpected {{{{{stop[0]}}}}}")
        return nodes

    def _list(self) -> tuple[list, tuple | None]:
        """Nodes up to an `{{end}}`/`{{else}}` (returned as the stop item) or the end."""
        nodes: list = []
        while self.k < len(self.items):
            item = self.items[self.k]
            self.k += 1
            if item[0] == TEXT:
                nodes.append(item)
                continue
            act: _Action = item[1]
            first = act.peek()
            if first is None:
                raise self._fail(act.pos, "missing value for command")
            if first[0] == IDENT and first[1] in _KEYWORDS:
                word = first[1]
                act.next()
                if word in ("end", "else"):
                    return nodes, (word, act, act.pos)
                if word in ("if", "range", "with"):
                    nodes.append(self._block(word, act))
                    continue
                raise self._fail(act.pos, f"{word} is not supported")
            nodes.append((ACTION, self._pipeline(act, decl_ok=True), act.pos))
        return nodes, None

    def _block(self, word: str, act: _Action) -> tuple:
        pipe = self._pipeline(act, decl_ok=True)
        body, stop = self._list()
        else_body: list = []
        if stop is None:
            raise self._fail(act.pos, "unexpected EOF")
        if stop[0] == "else":
            sub: _Action = stop[1]
            nxt = sub.peek()
            if nxt is not None and nxt[0] == IDENT and nxt[1] == word and word != "range":
                # `{{else if ...}}` / `{{else with ...}}`: a nested block that shares our {{end}}.
                sub.next()
                else_body = [self._block(word, sub)]
                return (word, pipe, body, else_body, act.pos)
            if nxt is not None:
                raise self._fail(sub.pos, "unexpected token in else")
            else_body, stop = self._list()
            if stop is None or stop[0] != "end":
                raise self._fail(act.pos, "expected end; found " + (stop[0] if stop else "EOF"))
        if stop[1].peek() is not None:
            raise self._fail(stop[2], "unexpected token in end")
        return (word, pipe, body, else_body, act.pos)

    def _pipeline(self, act: _Action, decl_ok: bool = False, nested: bool = False) -> tuple:
        decls: list[str] = []
        if decl_ok:
            save = act.i
            names = []
            while True:
                tok = act.peek()
                if tok is None or tok[0] != VAR or tok[2]:
                    break
                act.next()
                names.append(tok[1])
                sep = act.peek()
                if sep is not None and sep[0] == ",":
                    act.next()
                    continue
                if sep is not None and sep[0] in (":=", "="):
                    act.next()
                    decls = names
                break
            if not decls:
                act.i = save
        cmds: list[list] = []
        args: list = []
        while True:
            tok = act.peek()
            if tok is None or tok[0] == ")":
                if nested and tok is None:
                    raise self._fail(act.pos, "unclosed left paren")
                break
            act.next()
            kind = tok[0]
            if kind == "|":
                if not args:
                    raise self._fail(tok[1], "missing command")
                cmds.append(args)
                args = []
                continue
            if kind == "(":
                inner = self._pipeline(act, nested=True)
                close = act.next()
                if close is None or close[0] != ")":
                    raise self._fail(tok[1], "unclosed left paren")
                node: tuple = (PAREN, inner, tok[1])
                nxt = act.peek()
                if nxt is not None and nxt[0] == CHAIN:
                    act.next()
                    node = (CHAIN, node, nxt[1], nxt[2])
                args.append(node)
                continue
            if kind in (",", ":=", "=", ")"):
                raise self._fail(act.pos, f"unexpected {kind!r} in operand")
            if kind == IDENT and tok[1] in _KEYWORDS:
                raise self._fail(tok[2], f"unexpected <{tok[1]}> in command")
            args.append(tok)
        if not args:
            if cmds:
                raise self._fail(act.pos, "missing command")
            raise self._fail(act.pos, "missing value for command")
        cmds.append(args)
        for cmd in cmds[1:]:
            if cmd[0][0] in (STR, NUM, BOOL, NIL):
                raise self._fail(act.pos, "non executable command in pipeline stage 2")
        return (PIPE, decls, cmds)


def parse(src: str) -> list:
    """The node list of `src`, or TemplateError with Go's message."""
    return Parser(src).parse()
