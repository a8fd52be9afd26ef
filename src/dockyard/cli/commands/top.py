"""`top` / `container top`: the container's processes, as the host's `ps` shows them."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Values

COMMAND = Command(
    "top CONTAINER [ps OPTIONS]",
    "Display the running processes of a container",
    args=("min", 1),
    interspersed=False,
    aliases="dockyard container top, dockyard top",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.tabwriter import format_table

    procs = cli.containers.top(args[0], " ".join(args[1:]) or "-ef")
    lines = ["\t".join(procs["Titles"])]
    lines.extend("\t".join(p) for p in procs["Processes"])
    # Docker's top writer: minimum cell width 20, padding 3
    cli.out(format_table("\n".join(lines) + "\n", minwidth=20))
    return 0
