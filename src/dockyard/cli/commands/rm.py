"""`rm` / `container rm` / `container remove`: remove containers, continuing past failures."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "rm [OPTIONS] CONTAINER [CONTAINER...]",
    "Remove one or more containers",
    flags=(
        Flag("force", "f", BOOL, help="Force the removal of a running container (uses SIGKILL)"),
        Flag("link", "l", BOOL, help="Remove the specified link"),
        Flag("volumes", "v", BOOL, help="Remove anonymous volumes associated with the container"),
    ),
    args=("min", 1),
    aliases="dockyard container rm, dockyard container remove, dockyard rm",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.batch import each, exit_now
    from dockyard.errors import InvalidArgument

    svc = cli.containers

    def act(ref: str) -> None:
        if opts.link:
            raise InvalidArgument("Conflict, cannot remove the default link name of the container")
        if not ref.strip("/"):
            raise InvalidArgument("Container name cannot be empty")
        svc.remove(ref, force=opts.force, volumes=opts.volumes)

    code = each(cli, args, act)
    exit_now(cli, code)
    return code
