"""`import` / `image import`: make a one-layer image from a root filesystem tarball."""

from dockyard.cli.command import CliError, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import LIST, Flag, Values

COMMAND = Command(
    "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
    "Import the contents from a tarball to create a filesystem image",
    flags=(
        Flag("change", "c", LIST, help="Apply Dockerfile instruction to the created image"),
        Flag("message", "m", help="Set commit message for imported image"),
        Flag("platform", help="Set platform if server is multi-platform capable"),
    ),
    args=("range", 1, 2),
    aliases="dockyard image import, dockyard import",
)


def open_input(path: str):
    """A file opened for reading, with Go's wording when it cannot be."""
    try:
        return open(path, "rb", buffering=1 << 20)
    except OSError as e:
        raise CliError(f"open {path}: {(e.strerror or str(e)).lower()}") from None


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    source = args[0]
    reference = args[1] if len(args) > 1 else None
    platform = opts.platform or None
    if source == "-":
        image_id = cli.images.import_rootfs(
            cli.binary_stdin(), reference, opts.change, opts.message, platform
        )
    elif source.startswith(("http://", "https://")):
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(source, timeout=60) as resp:
                image_id = cli.images.import_rootfs(
                    resp, reference, opts.change, opts.message, platform
                )
        except urllib.error.URLError as e:
            raise CliError(f"Error: error downloading {source}: {e.reason}") from None
    else:
        with open_input(source) as f:
            image_id = cli.images.import_rootfs(f, reference, opts.change, opts.message, platform)
    cli.out(image_id + "\n")
    return 0
