"""`port` / `container port`: the container's published ports (none yet: no bridge network)."""

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import Values

COMMAND = Command(
    "port CONTAINER [PRIVATE_PORT[/PROTO]]",
    "List port mappings or a specific mapping for the container",
    args=("range", 1, 2),
    aliases="dockyard container port, dockyard port",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.errors import InvalidArgument, NotFound

    info = cli.containers.inspect(args[0])
    if len(args) == 2:
        port, _, proto = args[1].partition("/")
        if not port.isdigit() or proto not in ("", "tcp", "udp", "sctp"):
            raise InvalidArgument(f"Invalid port: {args[1]}")
        raise NotFound(f"No public port '{port}/{proto or 'tcp'}' published for {args[0]}")
    del info  # no container publishes ports until bridge networking exists
    return 0
