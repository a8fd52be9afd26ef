"""Docker-style help: usage, aliases, options (pflag's layout and wrapping), command lists.

Only imported when help is asked for or a command group is called without a subcommand.
"""

from dockyard.cli.command import PROG, Command
from dockyard.cli.flags import BOOL, INT, STRING, Flag


def _terminal_width() -> int:
    import os

    try:
        return os.get_terminal_size(0).columns
    except OSError:
        return 80


def _wrap_n(i: int, slop: int, s: str) -> tuple[str, str]:
    if i + slop > len(s):
        return s, ""
    w = max(s.rfind(" ", 0, i), s.rfind("\t", 0, i), s.rfind("\n", 0, i))
    if w <= 0:
        return s, ""
    nl = s.rfind("\n", 0, i)
    if 0 < nl < w:
        return s[:nl], s[nl + 1 :]
    return s[:w], s[w + 1 :]


def _wrap(i: int, w: int, s: str) -> str:
    """pflag's wrap: text for a column starting at i in a line of width w."""
    if w == 0:
        return s.replace("\n", "\n" + " " * i)
    width = w - i
    r = ""
    if width < 24:
        i = 16
        width = w - i
        r += "\n" + " " * i
    if width < 24:
        return s.replace("\n", r)
    slop = 5
    width -= slop
    line, s = _wrap_n(width, slop, s)
    r += line.replace("\n", "\n" + " " * i)
    while s:
        t, s = _wrap_n(width, slop, s)
        r += "\n" + " " * i + t.replace("\n", "\n" + " " * i)
    return r


def _default_text(flag: Flag) -> str:
    d = flag.default
    if flag.kind == BOOL:
        return " (default true)" if d else ""
    if flag.kind == STRING:
        return f' (default "{d}")' if d else ""
    if flag.kind == INT:
        return f" (default {d})" if d else ""
    if d:
        return " (default [" + ",".join(d) + "])"
    return ""


def flag_usages(flags, cols: int) -> str:
    """pflag's FlagUsagesWrapped: sorted by name, hidden flags left out."""
    lines = []
    maxlen = 0
    for flag in sorted((f for f in flags if not f.hidden), key=lambda f: f.name):
        line = f"  -{flag.short}, --{flag.name}" if flag.short else f"      --{flag.name}"
        if flag.metavar:
            line += " " + flag.metavar
        maxlen = max(maxlen, len(line))
        lines.append((line, flag.help + _default_text(flag)))
    out = []
    for head, usage in lines:
        # The extra space is pflag's deliberate off-by-one between the name and the usage.
        out.append(head + " " * (maxlen - len(head) + 3) + _wrap(maxlen + 3, cols, usage))
    return "\n".join(out)


def command_help(cmd: Command, path: tuple[str, ...]) -> str:
    parts = [f"Usage:  {cmd.use_line(path)}", "", cmd.short]
    if cmd.aliases:
        parts += ["", "Aliases:", "  " + cmd.aliases]
    visible = [f for f in cmd.flags if not f.hidden]
    if visible:
        parts += ["", "Options:", flag_usages(visible, _terminal_width() - 1)]
    return "\n".join(parts) + "\n"


def _command_list(entries: list[tuple[str, str]]) -> list[str]:
    pad = max([11, *(len(name) for name, _ in entries)])
    return [f"  {name.ljust(pad)} {short}" for name, short in entries]


def group_help(path: tuple[str, ...], short: str, table: dict) -> str:
    subs = sorted(
        (p[-1], entry[1])
        for p, entry in table.items()
        if len(p) == len(path) + 1 and p[:-1] == path
    )
    name = " ".join((PROG, *path))
    parts = [
        f"Usage:  {name} COMMAND",
        "",
        short,
        "",
        "Commands:",
        *_command_list(subs),
        "",
        f"Run '{name} COMMAND --help' for more information on a command.",
    ]
    return "\n".join(parts) + "\n"


def root_help(table: dict, root_flags) -> str:
    groups = sorted((p[0], e[1]) for p, e in table.items() if len(p) == 1 and e[0] is None)
    commands = sorted((p[0], e[1]) for p, e in table.items() if len(p) == 1 and e[0] is not None)
    parts = [
        f"Usage:  {PROG} [OPTIONS] COMMAND",
        "",
        "A container engine compatible with Docker",
        "",
    ]
    if groups:
        parts += ["Management Commands:", *_command_list(groups), ""]
    parts += [
        "Commands:",
        *_command_list(commands),
        "",
        "Global Options:",
        flag_usages(root_flags, _terminal_width() - 1),
        "",
        f"Run '{PROG} COMMAND --help' for more information on a command.",
    ]
    return "\n".join(parts) + "\n"
