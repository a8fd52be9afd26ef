"""`export` / `container export`: a container's root filesystem as one flat tar archive."""

from dockyard.cli.command import CliError, Command
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
    from dockyard.services.containerfs import ContainerFS

    fs = ContainerFS(cli.containers)
    if not opts.output:
        if cli.stdout.isatty():
            raise CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
        out = cli.binary_stdout()
        fs.export(args[0], out)
        out.flush()
        return 0
    _export_to_file(fs, args[0], opts.output)
    return 0


def _export_to_file(fs, ref: str, path: str) -> None:
    """Write next to the target and rename: a failed export leaves no partial file behind."""
    import os
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".dockyard-export-", dir=directory)
    except OSError as e:
        raise CliError(
            f"failed to export container: open {path}: {(e.strerror or '').lower()}"
        ) from None
    try:
        with os.fdopen(fd, "wb", buffering=0) as f:
            fs.export(ref, f)
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
