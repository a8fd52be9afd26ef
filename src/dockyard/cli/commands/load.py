"""`load` / `image load`: read images from a tar archive (docker-archive or OCI layout)."""

from dockyard.cli.command import CliError, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "load [OPTIONS]",
    "Load an image from a tar archive or STDIN",
    flags=(
        Flag("input", "i", help="Read from tar archive file, instead of STDIN"),
        Flag("quiet", "q", BOOL, help="Suppress the load output"),
    ),
    args=("none",),
    aliases="dockyard image load, dockyard load",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    if opts.input:
        from dockyard.cli.commands.image_import import open_input

        with open_input(opts.input) as f:
            lines = cli.images.load(f)
    else:
        if cli.stdin.isatty():
            raise CliError("requested load from stdin, but stdin is empty")
        lines = cli.images.load(cli.binary_stdin())
    # There is no progress to suppress: -q keeps the "Loaded image" lines, as Docker does.
    cli.out("".join(line + "\n" for line in lines))
    return 0
