"""`create` / `container create`: make a container without starting it; prints its id."""

from dockyard.cli.command import Command
from dockyard.cli.commands.runflags import RUN_FLAGS
from dockyard.cli.context import Cli
from dockyard.cli.flags import Values

COMMAND = Command(
    "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
    "Create a new container",
    flags=RUN_FLAGS,
    args=("min", 1),
    interspersed=False,
    aliases="dockyard container create, dockyard create",
    engine_status=125,
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    import os

    from dockyard.cli.commands.runflags import check_cidfile, options, write_cidfile
    from dockyard.cli.commands.runpull import create

    ropts = options(opts, args, os.environ)
    check_cidfile(opts.cidfile)
    cid = create(cli, ropts, opts.pull, opts.quiet)
    if opts.cidfile:
        write_cidfile(opts.cidfile, cid)
    cli.out(cid + "\n")
    return 0
