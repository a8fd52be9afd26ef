"""Executing Go text/template (the subset Docker's --format uses) over Python values.

Data model: dicts are Go maps (missing key -> "<no value>", or an error when strict, like
Docker's inspect fallback); objects expose fields as attributes or zero-argument methods named
with a capital letter (Docker's formatter contexts); `GO_TYPE` names an object in errors and
`to_json()` gives its JSON object (HTML-escaped like Go's json.Marshal).
"""

from dockyard.cli.template_parse import (
    ACTION,
    BOOL,
    CHAIN,
    DOT,
    FIELD,
    IDENT,
    IF,
    NIL,
    NUM,
    PAREN,
    RANGE,
    STR,
    TEXT,
    VAR,
    WITH,
    TemplateError,
    line_of,
    parse,
)

__all__ = ["HEADER_FUNCS", "Template", "TemplateError", "to_json"]


class _NoValue:
    """Go's invalid reflect.Value: what a missing map key evaluates to."""

    def __repr__(self) -> str:
        return "<no value>"


NOVALUE = _NoValue()


class _Fail(Exception):
    """An execution error not yet tied to a node."""


def go_type(v) -> str:
    if v is None or v is NOVALUE:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    return getattr(v, "GO_TYPE", type(v).__name__)


def _fmt_float(f: float) -> str:
    if f == int(f) and abs(f) < 1e21:
        return str(int(f))
    text = repr(f)
    return text.replace("e-0", "e-").replace("e+0", "e+") if "e" in text else text


def sprint_value(v, top: bool = False) -> str:
    """fmt's %v of a value."""
    if v is NOVALUE or (top and v is None):
        return "<no value>"
    if v is None:
        return "<nil>"
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _fmt_float(v)
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(sprint_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{sprint_value(v[k])}" for k in sorted(v)) + "]"
    if hasattr(v, "to_json"):
        return "{" + " ".join(sprint_value(x) for x in v.to_json().values()) + "}"
    return str(v)


def _jsonable(v):
    if v is NOVALUE:
        return None
    if hasattr(v, "to_json"):
        return v.to_json()
    return v


def to_json(v) -> str:
    """Docker's `json` template function: compact JSON, HTML left alone except in contexts."""
    import json

    if hasattr(v, "to_json"):
        text = json.dumps(v.to_json(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        # Go's json.Marshal (used by the contexts' MarshalJSON) escapes <, > and &.
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return json.dumps(_jsonable(v), ensure_ascii=False, separators=(",", ":"), default=_jsonable)


def truth(v) -> bool:
    if v is None or v is NOVALUE:
        return False
    if isinstance(v, (bool, int, float, str, list, tuple, dict)):
        return bool(v)
    return True


def _want_str(name: str, v) -> str:
    if not isinstance(v, str):
        raise _Fail(
            f"error calling {name}: wrong type for value; expected string; got {go_type(v)}"
        )
    return v


def _want_int(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _Fail(f"error calling {name}: wrong type for value; expected int; got {go_type(v)}")
    return v


def _split(s, sep):
    s, sep = _want_str("split", s), _want_str("split", sep)
    return list(s) if sep == "" else s.split(sep)


def _join(elems, sep):
    sep = _want_str("join", sep)
    if elems is None or elems is NOVALUE:
        return ""
    if isinstance(elems, (list, tuple)):
        return sep.join(sprint_value(x) for x in elems)
    if isinstance(elems, dict):
        return sep.join(sorted(sprint_value(x) for x in elems.values()))
    raise _Fail(f"error calling join: expected slice, got {go_type(elems)}")


def _title(s):
    s = _want_str("title", s)
    out = []
    prev_sep = True
    for ch in s:
        out.append(ch.upper() if prev_sep else ch)
        prev_sep = not (ch.isalnum() or ch == "_") if ch.isascii() else ch.isspace()
    return "".join(out)


def _pad(s, prefix, suffix):
    s = _want_str("pad", s)
    if s == "":
        return s
    return " " * _want_int("pad", prefix) + s + " " * _want_int("pad", suffix)


def _truncate(s, n):
    s, n = _want_str("truncate", s), _want_int("truncate", n)
    return s if len(s) < n else s[:n]


def _len(v):
    if isinstance(v, (str, list, tuple, dict)):
        return len(v)
    raise _Fail(f"error calling len: len of type {go_type(v)}")


def _index(v, *keys):
    for key in keys:
        if v is None or v is NOVALUE:
            raise _Fail("error calling index: index of untyped nil")
        if isinstance(v, dict):
            v = v.get(key, "") if isinstance(key, str) else ""
        elif isinstance(v, (list, tuple, str)):
            if isinstance(key, bool) or not isinstance(key, int):
                raise _Fail(
                    f"error calling index: cannot index slice/array with type {go_type(key)}"
                )
            if not 0 <= key < len(v):
                raise _Fail(f"error calling index: index out of range: {key}")
            v = v[key]
        else:
            raise _Fail(f"error calling index: can't index item of type {go_type(v)}")
    return v


def _sprint(*args):
    out = []
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(sprint_value(a))
    return "".join(out)


def _sprintln(*args):
    return " ".join(sprint_value(a) for a in args) + "\n"


def _quote(s: str) -> str:
    import json

    return json.dumps(s, ensure_ascii=False)


def _sprintf(fmt, *args):
    import re

    fmt = _want_str("printf", fmt)
    it = iter(args)

    def repl(m):
        verb = m.group(2)
        if verb == "%":
            return "%"
        try:
            arg = next(it)
        except StopIteration:
            return f"%!{verb}(MISSING)"
        spec = m.group(1)
        if verb in "sv":
            return ("%" + spec + "s") % sprint_value(arg)
        if verb == "q":
            return ("%" + spec + "s") % _quote(sprint_value(arg))
        if verb == "t":
            return ("%" + spec + "s") % sprint_value(arg)
        if verb in "dxXo" and isinstance(arg, int):
            return ("%" + spec + verb) % arg
        if verb in "feEgG" and isinstance(arg, (int, float)):
            return ("%" + spec + verb) % arg
        return f"%!{verb}({go_type(arg)}={sprint_value(arg)})"

    return re.sub(r"%([-+# 0]*\d*(?:\.\d+)?)([a-zA-Z%])", repl, fmt)


def _cmp_args(a, b):
    if isinstance(a, bool) != isinstance(b, bool):
        raise _Fail("error calling eq: incompatible types for comparison")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a, b
    if type(a) is not type(b) and not (a in (None, NOVALUE) and b in (None, NOVALUE)):
        raise _Fail("error calling eq: incompatible types for comparison")
    return a, b


def _eq(a, *others):
    if not others:
        raise _Fail("wrong number of args for eq: want at least 1 got 0")
    for b in others:
        x, y = _cmp_args(a, b)
        if x == y:
            return True
    return False


def _ne(a, b):
    x, y = _cmp_args(a, b)
    return x != y


def _order(op):
    def f(a, b):
        x, y = _cmp_args(a, b)
        try:
            return op(x, y)
        except TypeError:
            raise _Fail("invalid type for comparison") from None

    return f


def _and(*args):
    v = None
    for v in args:
        if not truth(v):
            return v
    return v


def _or(*args):
    v = None
    for v in args:
        if truth(v):
            return v
    return v


# name -> (callable, number of arguments or None for "at least one")
FUNCS = {
    "json": (to_json, 1),
    "split": (_split, 2),
    "join": (_join, 2),
    "title": (_title, 1),
    "lower": (lambda s: _want_str("lower", s).lower(), 1),
    "upper": (lambda s: _want_str("upper", s).upper(), 1),
    "pad": (_pad, 3),
    "truncate": (_truncate, 2),
    "len": (_len, 1),
    "index": (_index, None),
    "print": (_sprint, -1),
    "println": (_sprintln, -1),
    "printf": (_sprintf, None),
    "not": (lambda v: not truth(v), 1),
    "and": (_and, None),
    "or": (_or, None),
    "eq": (_eq, None),
    "ne": (_ne, 2),
    "lt": (_order(lambda a, b: a < b), 2),
    "le": (_order(lambda a, b: a <= b), 2),
    "gt": (_order(lambda a, b: a > b), 2),
    "ge": (_order(lambda a, b: a >= b), 2),
}


def _header_same(v, *_):
    return v


# Docker renders table headers with these in place of the formatting functions, so a header
# shows the column name rather than, say, the column name upper-cased or split.
HEADER_FUNCS = {
    name: (_header_same, FUNCS[name][1])
    for name in ("json", "split", "join", "title", "lower", "upper", "truncate")
}


def node_str(node) -> str:
    kind = node[0]
    if kind == FIELD:
        return "." + ".".join(node[1])
    if kind == VAR:
        return node[1] + "".join("." + f for f in node[2])
    if kind == STR:
        return _quote(node[1])
    if kind in (NUM, IDENT):
        return str(node[1])
    if kind == BOOL:
        return "true" if node[1] else "false"
    if kind == NIL:
        return "nil"
    if kind == DOT:
        return "."
    if kind == PAREN:
        return "(" + pipe_str(node[1]) + ")"
    if kind == CHAIN:
        return node_str(node[1]) + "." + ".".join(node[2])
    return "?"


def pipe_str(pipe) -> str:
    text = " | ".join(" ".join(node_str(a) for a in cmd) for cmd in pipe[2])
    return (", ".join(pipe[1]) + " := " + text) if pipe[1] else text


class Template:
    """A parsed template; `execute(data)` returns the text or raises TemplateError."""

    def __init__(self, src: str, strict: bool = False, maps: frozenset[str] = frozenset()):
        self.src = src
        # strict: a missing key is an error (Docker's inspect, missingkey=error) except inside
        # the fields named in `maps`, which are Go maps in the typed object (labels, ...)
        self.strict = strict
        self.maps = maps
        self.nodes = parse(src)
        self._check(self.nodes)

    def _check(self, nodes) -> None:
        for node in nodes:
            kind = node[0]
            if kind == ACTION:
                self._check_pipe(node[1], node[2])
            elif kind in (IF, RANGE, WITH):
                self._check_pipe(node[1], node[4])
                self._check(node[2])
                self._check(node[3])

    def _check_pipe(self, pipe, pos) -> None:
        for cmd in pipe[2]:
            for arg in cmd:
                if arg[0] == IDENT and arg[1] not in FUNCS:
                    raise TemplateError(
                        f'template: :{line_of(self.src, pos)}: function "{arg[1]}" not defined'
                    )
                if arg[0] == PAREN:
                    self._check_pipe(arg[1], pos)

    def execute(self, data, header: bool = False) -> str:
        run = _Run(self, data, HEADER_FUNCS if header else None)
        out: list[str] = []
        run.walk(self.nodes, data, out)
        return "".join(out)


class _Run:
    def __init__(self, tmpl: Template, root, overrides):
        self.tmpl = tmpl
        self.vars: list[tuple[str, object]] = [("$", root)]
        self.funcs = dict(FUNCS, **overrides) if overrides else FUNCS

    def error(self, node, msg: str, context: str | None = None) -> TemplateError:
        src = self.tmpl.src
        pos = node[-1]
        context = node_str(node) if context is None else context
        line = line_of(src, pos)
        col = pos - (src.rfind("\n", 0, pos) + 1)
        return TemplateError(f'template: :{line}:{col}: executing "" at <{context}>: {msg}')

    # -- statements -----------------------------------------------------------------------------

    def walk(self, nodes, dot, out: list[str]) -> None:
        for node in nodes:
            kind = node[0]
            if kind == TEXT:
                out.append(node[1])
            elif kind == ACTION:
                value = self.pipeline(node[1], dot)
                if not node[1][1]:
                    out.append(sprint_value(value, top=True))
            elif kind in (IF, WITH):
                mark = len(self.vars)
                value = self.pipeline(node[1], dot)
                if truth(value):
                    self.walk(node[2], value if kind == WITH else dot, out)
                else:
                    self.walk(node[3], dot, out)
                del self.vars[mark:]
            elif kind == RANGE:
                self.range(node, dot, out)

    def range(self, node, dot, out) -> None:
        pipe = node[1]
        mark = len(self.vars)
        value = self.pipeline((pipe[0], [], pipe[2]), dot)
        if isinstance(value, dict):
            items = [(k, value[k]) for k in sorted(value)]
        elif isinstance(value, (list, tuple)):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        elif value is None or value is NOVALUE:
            items = []
        else:
            raise self.error(pipe[2][0][0], f"range can't iterate over {sprint_value(value)}")
        if not items:
            self.walk(node[3], dot, out)
            return
        decls = pipe[1]
        for key, elem in items:
            if len(decls) == 1:
                self.vars.append((decls[0], elem))
            elif len(decls) == 2:
                self.vars.append((decls[0], key))
                self.vars.append((decls[1], elem))
            self.walk(node[2], elem, out)
            del self.vars[mark:]

    # -- expressions ----------------------------------------------------------------------------

    def pipeline(self, pipe, dot):
        value = _MISSING = _Missing
        for cmd in pipe[2]:
            value = self.command(cmd, dot, value)
        for name in pipe[1]:
            self.vars.append((name, value))
        return value if value is not _MISSING else None

    def command(self, cmd, dot, final):
        head = cmd[0]
        if head[0] == IDENT:
            args = [self.arg(a, dot) for a in cmd[1:]]
            if final is not _Missing:
                args.append(final)
            return self.call(head, cmd, args)
        if len(cmd) > 1 or final is not _Missing:
            raise self.error(head, f"can't give argument to non-function {node_str(head)}")
        return self.arg(head, dot)

    def call(self, head, cmd, args):
        name = head[1]
        fn, nargs = self.funcs[name]
        if nargs is None and not args:
            raise self.error(
                head,
                f"wrong number of args for {name}: want at least 1 got 0",
                " ".join(node_str(a) for a in cmd),
            )
        if nargs is not None and nargs >= 0 and len(args) != nargs:
            raise self.error(
                head,
                f"wrong number of args for {name}: want {nargs} got {len(args)}",
                " ".join(node_str(a) for a in cmd),
            )
        try:
            return fn(*args)
        except _Fail as e:
            msg = str(e)
            if not msg.startswith(("error calling", "wrong number")):
                msg = f"error calling {name}: {msg}"
            raise self.error(cmd[0], msg, " ".join(node_str(a) for a in cmd)) from None

    def arg(self, node, dot):
        kind = node[0]
        if kind == FIELD:
            return self.fields(node, dot, node[1])
        if kind == DOT:
            return dot
        if kind in (STR, NUM, BOOL):
            return node[1]
        if kind == NIL:
            return None
        if kind == VAR:
            return self.fields(node, self.lookup(node), node[2])
        if kind == PAREN:
            return self.pipeline(node[1], dot)
        if kind == CHAIN:
            return self.fields(node, self.arg(node[1], dot), node[2])
        if kind == IDENT:
            return self.call(node, [node], [])
        raise self.error(node, "unexpected node")

    def lookup(self, node):
        name = node[1]
        for var, value in reversed(self.vars):
            if var == name:
                return value
        raise TemplateError(
            f'template: :{line_of(self.tmpl.src, node[-1])}: undefined variable "{name}"'
        )

    def fields(self, node, value, names):
        via = ""
        for name in names:
            value = self.field(node, value, name, via in self.tmpl.maps)
            via = name
        return value

    def field(self, node, value, name, in_map: bool = False):
        if isinstance(value, dict):
            if name in value:
                return value[name]
            if self.tmpl.strict and not in_map:
                raise self.error(node, f'map has no entry for key "{name}"')
            return NOVALUE
        if value is NOVALUE:
            if self.tmpl.strict:
                raise self.error(node, f'nil data; no entry for key "{name}"')
            return NOVALUE
        if value is None:
            if in_map:  # a nil Go map: every key is missing
                return NOVALUE
            raise self.error(node, f"nil pointer evaluating interface {{}}.{name}")
        if (
            not isinstance(value, (str, int, float, list, tuple))
            and name[:1].isupper()
            and hasattr(value, name)
        ):
            attr = getattr(value, name)
            return attr() if callable(attr) else attr
        raise self.error(node, f"can't evaluate field {name} in type {go_type(value)}")


class _Missing:
    """Marks 'no value piped in' in a pipeline."""
