"""What a RUN step needs first, done ahead while the other core hashes a copied file.

A COPY of a changed file waits for its hash and copy (one pass on a thread, see
`context`), and the main thread has those few ms to spare. A RUN step that follows starts
with imports — its container start, the layer's tar — and the container's init, cloned
from this process, imports a few modules of its own first thing: loaded here, they are
already there. Then the capabilities and the seccomp program the step runs with, and
the cgroup it runs in (removed at the end of the build if the step came from the cache).
Nothing here changes what the step does; a module that no longer exists is skipped.
"""

# modules the RUN step and its layer need, then those a container init imports after clone
RUN_MODULES = (
    "dockyard.build.run",
    "dockyard.build.deferred",
    "dockyard.build.layers",
    "dockyard.build.merged",
    "dockyard.archive.counting",
    "dockyard.archive.tarwriter",
    "dockyard.syncfs",
    "dockyard.linux.caps",
    "dockyard.linux.seccomp.cache",
    "dockyard.linux.cgroups",
    "dockyard.linux.cgroups.base",
    "dockyard.linux.init",
    "dockyard.cdata",
    "_socket",
    "dockyard.linux.loopback",
    "dockyard.linux.paths",
)


def prepare_run(builder) -> None:
    """Load the RUN step's modules, work out its capabilities and seccomp program and set
    up its cgroup."""
    import sys

    for name in RUN_MODULES:
        if name not in sys.modules:
            try:
                __import__(name)
            except ImportError:
                pass
    try:
        builder.security()
        builder.cgroup_ahead()
    except Exception:
        pass  # the step itself does them again and reports the error
