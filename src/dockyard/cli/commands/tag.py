"""`tag` / `image tag`: give an image another name."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Values

COMMAND = Command(
    "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
    "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
    args=("exact", 2),
    interspersed=False,
    aliases="dockyard image tag, dockyard tag",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    cli.images.tag(args[0], args[1])
    return 0
