"""`save` / `image save`: write images as a tar archive (docker-archive + OCI layout)."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Flag, Values

COMMAND = Command(
    "save [OPTIONS] IMAGE [IMAGE...]",
    "Save one or more images to a tar archive (streamed to STDOUT by default)",
    flags=(Flag("output", "o", help="Write to a file, instead of STDOUT"),),
    args=("min", 1),
    aliases="dockyard image save, dockyard save",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.tarout import write_archive

    write_archive(cli, opts.output, lambda f: cli.images.save(args, f), "failed to save image")
    return 0
