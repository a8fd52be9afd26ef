"""Where `save` and `export` write their archive: stdout (never a terminal), or with `-o` a
file that appears whole or not at all (written next to it, fsynced, renamed)."""

from collections.abc import Callable

from dockyard.cli.command import CliError


def write_archive(cli, output: str, write: Callable, failure: str) -> None:
    """`write(f)` to stdout, or to `output`; `failure` starts the error for a bad path
    ("failed to save image")."""
    if not output:
        if cli.stdout.isatty():
            raise CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
        out = cli.binary_stdout()
        write(out)
        out.flush()
        return
    _to_file(output, write, failure)


def _to_file(path: str, write: Callable, failure: str) -> None:
    import os
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".dockyard-archive-", dir=directory)
    except OSError as e:
        raise CliError(f"{failure}: open {path}: {(e.strerror or '').lower()}") from None
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as f:
            write(f)
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
