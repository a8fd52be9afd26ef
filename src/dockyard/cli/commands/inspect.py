"""`inspect`: low-level information on any object by name or id — containers first, then
images, then volumes, as Docker looks them up; `--type` narrows the search."""

from dockyard.cli.command import INSPECT_FORMAT_HELP, CliError, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "inspect [OPTIONS] NAME|ID [NAME|ID...]",
    "Return low-level information on Dockyard objects",
    flags=(
        Flag("format", "f", help=INSPECT_FORMAT_HELP),
        Flag("type", help="Only inspect objects of the given type"),
        Flag("size", "s", BOOL, help="Display total file sizes if the type is container"),
    ),
    args=("min", 1),
)

TYPES = (
    "config",
    "container",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "task",
    "volume",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.commands.inspectfmt import inspect
    from dockyard.errors import InvalidArgument, NotFound

    kind = opts.type
    if "type" in opts.changed and not kind:
        raise CliError('type is empty: must be one of "' + '", "'.join(TYPES) + '"')
    if kind and kind not in TYPES:
        raise CliError(f'unknown type: "{kind}": must be one of "' + '", "'.join(TYPES) + '"')

    def get(ref: str) -> dict:
        if kind in ("", "container"):
            try:
                return container(cli, ref, opts.size)
            except NotFound:
                pass
            except InvalidArgument:  # an ambiguous prefix is the answer for containers
                if kind:
                    raise
        if kind in ("", "image"):
            try:
                return cli.images.inspect(ref)
            except (NotFound, InvalidArgument):  # not a valid image name: no such object
                pass
        if kind in ("", "volume"):
            from dockyard.services.volumes import VolumeService

            try:
                return VolumeService(cli.config).inspect(ref)
            except (NotFound, InvalidArgument):
                pass
        raise NotFound(f"No such {kind or 'object'}: {ref}")

    return inspect(cli, args, opts.format, get)


def container(cli: Cli, ref: str, size: bool) -> dict:
    """A container's inspect object; with `size`, SizeRw/SizeRootFs as Docker adds them."""
    info = cli.containers.inspect(ref)
    if size:
        listed = cli.containers.list(all=True, filters={"id": [info["Id"]]}, size=True)
        info["SizeRw"] = listed[0].get("SizeRw", 0) if listed else 0
        info["SizeRootFs"] = 0
    return info
