"""Declarative command-line flags with the semantics (and error messages) of Docker's pflag.

A command lists its `Flag`s; `parse(flags, argv)` returns the values and the positional
arguments. Long flags `--name value` / `--name=value`, shorthands `-q`, combined `-aq`, `-fvalue`,
`-f=value`, bools `--all=false`, repeatable list flags, `--` ends the flags, flags and arguments
may mix unless `interspersed=False` (then everything from the first argument on is an argument).
"""

BOOL, STRING, INT, LIST, FILTER, STRINGS = "bool", "string", "int", "list", "filter", "strings"

# How each kind is named in help ("--format string"); bools show no type.
_TYPE_NAMES = {
    BOOL: "",
    STRING: "string",
    INT: "int",
    LIST: "list",
    FILTER: "filter",
    STRINGS: "strings",
}


class FlagError(Exception):
    """Bad flags: printed with "See '<command> --help'." and exit status 125."""


class HelpRequested(Exception):
    """`--help` or `-h` was given."""


class Flag:
    """One flag. `dest` defaults to the name with dashes as underscores."""

    __slots__ = ("aliases", "default", "dest", "help", "hidden", "kind", "metavar", "name", "short")

    def __init__(
        self,
        name: str,
        short: str = "",
        kind: str = STRING,
        default=None,
        help: str = "",
        metavar: str | None = None,
        hidden: bool = False,
        aliases: tuple[str, ...] = (),
        dest: str | None = None,
    ):
        self.name = name
        self.short = short
        self.kind = kind
        if default is None:
            default = {BOOL: False, STRING: "", INT: 0}.get(kind)
        self.default = default
        self.help = help
        self.metavar = _TYPE_NAMES[kind] if metavar is None else metavar
        self.hidden = hidden
        self.aliases = aliases
        self.dest = dest or name.replace("-", "_")

    def display_name(self) -> str:
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"

    def initial(self):
        if self.kind in (LIST, STRINGS):
            return list(self.default or ())
        if self.kind == FILTER:
            return {}
        return self.default


class Values:
    """Parsed flag values as attributes, plus the names of the flags the user set."""

    def __init__(self):
        self.changed: set[str] = set()

    def __repr__(self) -> str:
        return f"Values({vars(self)!r})"


def parse_bool(text: str) -> bool:
    """Go's strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def parse_int(text: str) -> int:
    """Go's strconv.ParseInt(text, 0, 64): 0x/0o/0b prefixes, leading 0 means octal."""
    body = text[1:] if text[:1] in "+-" else text
    try:
        if not body or body != body.strip() or "__" in body or body.endswith("_"):
            raise ValueError
        if len(body) > 1 and body[0] == "0" and body[1] not in "xXoObB":
            value = int(body[1:].lstrip("_"), 8)
        else:
            value = int(body, 0)
    except ValueError:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None
    if text.startswith("-"):
        value = -value
    if not -(2**63) <= value < 2**63:
        raise ValueError(f'strconv.ParseInt: parsing "{text}": value out of range')
    return value


def _parse_filter(text: str, current: dict[str, list[str]]) -> None:
    """Docker's filters.ParseFlag: name=value, name lower-cased, both trimmed."""
    if not text:
        return
    if "=" not in text:
        raise ValueError("bad format of filter (expected name=value)")
    name, _, value = text.partition("=")
    current.setdefault(name.strip().lower(), []).append(value.strip())


class _Set:
    def __init__(self, flags):
        self.by_name: dict[str, Flag] = {}
        self.by_short: dict[str, Flag] = {}
        for f in flags:
            self.by_name[f.name] = f
            for alias in f.aliases:
                self.by_name[alias] = f
            if f.short:
                self.by_short[f.short] = f

    def set(self, values: Values, flag: Flag, text: str) -> None:
        try:
            kind = flag.kind
            if kind == BOOL:
                value = parse_bool(text)
            elif kind == INT:
                value = parse_int(text)
            elif kind == LIST:
                value = getattr(values, flag.dest) if flag.name in values.changed else []
                value.append(text)
            elif kind == STRINGS:
                value = getattr(values, flag.dest) if flag.name in values.changed else []
                value.extend(_split_csv(text))
            elif kind == FILTER:
                value = getattr(values, flag.dest)
                _parse_filter(text, value)
            else:
                value = text
        except ValueError as e:
            raise FlagError(
                f'invalid argument "{text}" for "{flag.display_name()}" flag: {e}'
            ) from None
        setattr(values, flag.dest, value)
        values.changed.add(flag.name)


def _split_csv(text: str) -> list[str]:
    """pflag's StringSlice: a CSV record (quotes allowed)."""
    if text == "":
        return []
    if '"' not in text:
        return text.split(",")
    import csv

    return next(csv.reader([text]))


def parse(flags, argv: list[str], interspersed: bool = True) -> tuple[Values, list[str]]:
    """Parse argv against `flags`; raise FlagError or HelpRequested like pflag/cobra."""
    fs = _Set(flags)
    values = Values()
    for f in flags:
        setattr(values, f.dest, f.initial())
    args: list[str] = []
    i = 0
    n = len(argv)
    while i < n:
        s = argv[i]
        i += 1
        if len(s) < 2 or s[0] != "-":
            args.append(s)
            if not interspersed:
                args.extend(argv[i:])
                break
            continue
        if s == "--":
            args.extend(argv[i:])
            break
        handler = _long if s[1] == "-" else _shorts
        i = handler(fs, values, s, argv, i)
    return values, args


def _long(fs: _Set, values: Values, s: str, argv: list[str], i: int) -> int:
    body = s[2:]
    if not body or body[0] in "-=":
        raise FlagError(f"bad flag syntax: {s}")
    name, eq, value = body.partition("=")
    flag = fs.by_name.get(name)
    if flag is None:
        if name == "help":
            raise HelpRequested
        raise FlagError(f"unknown flag: --{name}")
    if eq:
        fs.set(values, flag, value)
    elif flag.kind == BOOL:
        fs.set(values, flag, "true")
    elif i < len(argv):
        fs.set(values, flag, argv[i])
        i += 1
    else:
        raise FlagError(f"flag needs an argument: {s}")
    return i


def _shorts(fs: _Set, values: Values, s: str, argv: list[str], i: int) -> int:
    shorts = s[1:]
    while shorts:
        c = shorts[0]
        flag = fs.by_short.get(c)
        if flag is None:
            if c == "h":
                raise HelpRequested
            raise FlagError(f"unknown shorthand flag: '{c}' in -{shorts}")
        if len(shorts) > 2 and shorts[1] == "=":
            fs.set(values, flag, shorts[2:])
            shorts = ""
        elif flag.kind == BOOL:
            fs.set(values, flag, "true")
            shorts = shorts[1:]
        elif len(shorts) > 1:
            fs.set(values, flag, shorts[1:])
            shorts = ""
        elif i < len(argv):
            fs.set(values, flag, argv[i])
            i += 1
            shorts = ""
        else:
            raise FlagError(f"flag needs an argument: '{c}' in -{shorts}")
    return i
