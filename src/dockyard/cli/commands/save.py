"""`save` / `image save`: write images as a tar archive (docker-archive + OCI layout)."""

from dockyard.cli.command import CliError, Command
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
    if not opts.output:
        if cli.stdout.isatty():
            raise CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
        out = cli.binary_stdout()
        cli.images.save(args, out)
        out.flush()
        return 0
    _save_to_file(cli, args, opts.output)
    return 0


def _save_to_file(cli, names: list[str], path: str) -> None:
    """Write next to the target and rename: a failed save leaves no partial file behind."""
    import os
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".dockyard-save-", dir=directory)
    except OSError as e:
        raise CliError(f"failed to save image: open {path}: {(e.strerror or '').lower()}") from None
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as f:
            cli.images.save(names, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
