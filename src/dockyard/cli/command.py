"""What a command module declares (`Command`), its argument-count rules, and the CLI's own errors.

A command module under `dockyard.cli.commands` defines `COMMAND = Command(...)` and
`run(cli, opts, args) -> int | None`. The same module can serve several paths (`images`,
`image ls`): the usage line takes its name from the path it was called by.
"""

PROG = "dockyard"


class CliError(Exception):
    """An error the CLI reports itself: printed as is (no prefix), exit `status`."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


class Command:
    __slots__ = ("aliases", "args", "engine_status", "flags", "interspersed", "short", "use")

    def __init__(
        self,
        use: str,
        short: str,
        flags=(),
        args: tuple = ("any",),
        interspersed: bool = True,
        aliases: str = "",
        engine_status: int = 1,
    ):
        self.use = use  # "images [OPTIONS] [REPOSITORY[:TAG]]"
        self.short = short
        self.flags = tuple(flags)
        self.args = args  # ("exact", n) ("min", n) ("max", n) ("range", lo, hi) ("none",) ("any",)
        self.interspersed = interspersed
        self.aliases = aliases  # shown under "Aliases:" in help
        self.engine_status = engine_status  # exit status for engine (DockyardError) failures

    def use_line(self, path: tuple[str, ...]) -> str:
        rest = self.use.partition(" ")[2]
        line = " ".join((PROG, *path))
        return f"{line} {rest}" if rest else line


def _plural(n: int) -> str:
    return "argument" if n == 1 else "arguments"


def check_args(cmd: Command, path: tuple[str, ...], args: list[str]) -> str | None:
    """Docker's message when the number of positional arguments is wrong, else None."""
    rule = cmd.args
    n = len(args)
    kind = rule[0]
    if kind == "any":
        return None
    if kind == "exact" and n != rule[1]:
        head = f"requires exactly {rule[1]} {_plural(rule[1])}."
    elif kind == "min" and n < rule[1]:
        head = f"requires at least {rule[1]} {_plural(rule[1])}."
    elif kind == "max" and n > rule[1]:
        head = f"requires at most {rule[1]} {_plural(rule[1])}."
    elif kind == "range" and not rule[1] <= n <= rule[2]:
        head = f"requires at least {rule[1]} and at most {rule[2]} {_plural(rule[2])}."
    elif kind == "none" and n:
        head = "accepts no arguments."
    else:
        return None
    name = " ".join((PROG, *path))
    return f"\"{name}\" {head}\nSee '{name} --help'.\n\nUsage:  {cmd.use_line(path)}\n\n{cmd.short}"


FORMAT_HELP = (
    "Format output using a custom template:\n"
    "'table':            Print output in table format with column headers (default)\n"
    "'table TEMPLATE':   Print output in table format using the given Go template\n"
    "'json':             Print in JSON format\n"
    "'TEMPLATE':         Print output using the given Go template.\n"
    "Refer to https://docs.docker.com/go/formatting/ for more information about formatting "
    "output with templates"
)

INSPECT_FORMAT_HELP = (
    "Format output using a custom template:\n"
    "'json':             Print in JSON format\n"
    "'TEMPLATE':         Print output using the given Go template.\n"
    "Refer to https://docs.docker.com/go/formatting/ for more information about formatting "
    "output with templates"
)
