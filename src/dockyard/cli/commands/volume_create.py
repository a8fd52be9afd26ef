"""`volume create`: create a volume (an existing name is no error, as Docker)."""

from dockyard.cli.command import CliError, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import LIST, Flag, Values

COMMAND = Command(
    "create [OPTIONS] [VOLUME]",
    "Create a volume",
    flags=(
        Flag("driver", "d", default="local", help="Specify volume driver name"),
        Flag("label", kind=LIST, help="Set metadata for a volume"),
        Flag("name", hidden=True, help="Specify volume name"),
        Flag("opt", "o", LIST, metavar="map", help="Set driver specific options"),
    ),
    args=("max", 1),
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.volume_fmt import service
    from dockyard.metadata.volumes import parse_pairs

    name = opts.name
    if args:
        if name and name != args[0]:
            raise CliError(
                "conflicting options: either specify --name or provide positional arg, not both"
            )
        name = args[0]
    vol = service(cli).create(
        name, opts.driver or "local", parse_pairs(opts.label, "label"),
        parse_pairs(opts.opt, "option"),
    )  # fmt: skip
    cli.out(vol["Name"] + "\n")
    return 0
