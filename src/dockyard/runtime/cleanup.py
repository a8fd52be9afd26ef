"""Removing what a container leaves behind: its cgroup, its directory, its record.

Nothing of a container is mounted on the host (its overlay lives in its own mount
namespace), but a directory is never removed through a mount: `remove_dir` refuses when
anything is mounted below it.
"""

import os


def mounted_under(path: str) -> list[str]:
    prefix = path.rstrip("/") + "/"
    out = []
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            target = line.split(b" ", 5)[4].decode(errors="replace")
            target = target.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
            if target == path or target.startswith(prefix):
                out.append(target)
    return out


def remove_dir(path: str) -> None:
    from dockyard.errors import FailedPrecondition

    left = mounted_under(path)
    if left:
        raise FailedPrecondition(f"refusing to remove {path}: still mounted: {left[0]}")
    from dockyard.rmtree import quietly

    quietly(path)


def remove_cgroup(driver, name: str) -> None:
    """Remove the cgroup; gone already, or going (another process removing it at the same
    time: its files answer ENODEV while the kernel tears it down), is fine."""
    import errno

    for attempt in range(3):
        try:
            driver.remove(name)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            if e.errno != errno.ENODEV or attempt == 2:
                raise
        if not driver.exists(name):
            return


def remove_container(db_path: str, cid: str, container_dir: str) -> None:
    """Delete the record, then the directory (a crash in between leaves only a stray dir)."""
    from dockyard.runtime.store import ContainerStore

    store = ContainerStore(db_path)
    try:
        store.delete(cid)
    finally:
        store.close()
    if os.path.isdir(container_dir):
        remove_dir(container_dir)
