"""Our init for `run --init`: `dockyard-init.c`, a tiny static program built by
`scripts/install.sh` into this folder (gitignored), and where to find it.

Docker bind-mounts its init read-only at /sbin/docker-init and runs
`/sbin/docker-init -- COMMAND...`; the runtime does the same with this binary.
"""

import os

NAME = "dockyard-init"
CONTAINER_PATH = "/sbin/docker-init"


def source_path() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), NAME + ".c")


def binary_path() -> str:
    """The built init; FailedPrecondition, saying how to build it, when it is missing."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), NAME)
    if os.access(path, os.X_OK):
        return path
    from dockyard.errors import FailedPrecondition

    raise FailedPrecondition(
        f"--init: {NAME} is not built: run scripts/install.sh, or build it with "
        f"`gcc -static -Os -o {path} {source_path()}` (needs gcc and libc6-dev)"
    )
