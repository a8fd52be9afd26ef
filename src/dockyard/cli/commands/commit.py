"""`commit` / `container commit`: a new image from a container's changes."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, LIST, Flag, Values

COMMAND = Command(
    "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
    "Create a new image from a container's changes",
    flags=(
        Flag("author", "a", help='Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'),
        Flag("change", "c", LIST, help="Apply Dockerfile instruction to the created image"),
        Flag("message", "m", help="Commit message"),
        Flag("pause", "p", BOOL, default=True, help="Pause container during commit"),
    ),
    args=("range", 1, 2),
    aliases="dockyard container commit, dockyard commit",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.services.containerfs import ContainerFS

    reference = args[1] if len(args) > 1 else None
    image_id = ContainerFS(cli.containers).commit(
        args[0], reference, author=opts.author, comment=opts.message,
        changes=opts.change, pause=opts.pause,
    )  # fmt: skip
    cli.out(image_id + "\n")
    return 0
