"""`export` / `container export`: a container's root filesystem as one flat tar archive."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Flag, Values

COMMAND = Command(
    "export [OPTIONS] CONTAINER",
    "Export a container's filesystem as a tar archive",
    flags=(Flag("output", "o", help="Write to a file, instead of STDOUT"),),
    args=("exact", 1),
    aliases="dockyard container export, dockyard export",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.tarout import write_archive
    from dockyard.services.containerfs import ContainerFS

    fs = ContainerFS(cli.containers)
    write_archive(cli, opts.output, lambda f: fs.export(args[0], f), "failed to export container")
    return 0
