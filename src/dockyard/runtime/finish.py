"""The supervisor's last step, after the exit code was reported: record, tear down, apply
the restart policy.

`run` records the exit file (exit code, OOMKilled, FinishedAt), removes the container's
record at once for --rm (`run --rm` waits for that), removes the cgroup, and then either
removes the directory (--rm), or restarts the container after the back-off when its
restart policy says so (this process forks the next supervisor through the service's start
path), or stops there.

It always runs in a fresh interpreter, as sqlite cannot be used safely in a process forked
from one that had it open: in the detached supervisor (itself exec'd afresh), or as
`python -m dockyard.runtime.finish ROOT STATE_DIR ID [--wait=FD]`, which an attached
supervisor starts ahead with --wait, to import while the container starts and to act on
"go".
"""

import os
import sys


def main(argv: list[str]) -> int:
    root, state_dir, cid = argv
    return _finish(root, state_dir, cid)


def _finish(root: str, state_dir: str, cid: str, removed_fd: int = -1, store=None) -> int:
    """`removed_fd`: closed once a --rm container's record is gone (its attached client
    returns then), else at the end. `store`: a `ContainerStore` opened ahead (closed here)."""
    removed = _Once(removed_fd)
    try:
        return _finish_and_tidy(root, state_dir, cid, removed, store)
    finally:
        removed.close()


class _Once:
    """A descriptor closed exactly once."""

    def __init__(self, fd: int):
        self.fd = fd

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass


def _finish_and_tidy(root: str, state_dir: str, cid: str, removed: _Once, store) -> int:
    from dockyard.config import Config
    from dockyard.runtime import restart
    from dockyard.runtime.containerspec import from_json
    from dockyard.runtime.launch import layout
    from dockyard.runtime.reconcile import apply_exit
    from dockyard.runtime.store import ContainerStore

    config = Config(root=root, state_dir=state_dir)
    lay = layout(config.containers_dir, cid)
    from dockyard.errors import NotFound

    if store is None:
        store = ContainerStore(config.metadata_path)
    try:
        rec = store.get(cid)
        spec = from_json(rec.spec)
        # --rm, this run's exit: the record goes at once, with no exit recorded first
        gone = spec.auto_remove and _exit_of(rec, lay.dir)
        if not gone:
            apply_exit(store, rec, lay.dir)
            rec = store.get(cid)
        if spec.auto_remove:
            if spec.volumes:  # Docker's --rm takes the anonymous volumes along
                from dockyard.runtime import volumes as V

                V.release(config.metadata_path, config.volumes_dir, cid, V.anonymous_names(spec))
            # the record first, with this connection: `run --rm` returns once it is gone
            store.delete(cid)
            removed.close()
    except NotFound:
        return 0  # removed meanwhile (rm -f); its remover cleaned up
    finally:
        store.close()
    if spec.auto_remove:
        _tidy(lay.dir, cid, True)
        return 0
    _tidy(lay.dir, cid, False)
    stopped = os.path.exists(restart.stopped_path(lay.dir))
    if rec.state != "exited" or not restart.should_restart(
        spec.restart, spec.restart_max, rec.exit_code, rec.restart_count, stopped
    ):
        return 0
    return _restart(config, rec, restart.delay(rec.restart_count, rec.finished - rec.started))


def tidy_removed(root: str, state_dir: str, cid: str) -> None:
    """What is left of a --rm container once its record is gone (its client removed it):
    the cgroup and the directory. Nobody waits for it: it runs at the lowest priority, so
    that on a busy machine the client's exit and its caller's next step come first."""
    from dockyard.config import Config
    from dockyard.runtime.launch import layout

    try:
        os.nice(19)
    except OSError:
        pass

    _tidy(layout(Config(root=root, state_dir=state_dir).containers_dir, cid).dir, cid, True)


def _tidy(container_dir: str, cid: str, removed: bool) -> None:
    from dockyard.linux.cgroups import detect
    from dockyard.runtime.launch import cgroup_name

    driver = None
    try:
        driver = detect()
        driver.remove(cgroup_name(cid))
    except Exception:
        pass  # the next command touching the container retries
    if removed and os.path.isdir(container_dir):
        from dockyard.runtime.cleanup import remove_dir
        from dockyard.runtime.exitwaiters import drain

        held = drain(container_dir)  # every `wait` has read the exit file first
        try:
            remove_dir(container_dir)
        finally:
            if held >= 0:
                os.close(held)
    if driver is not None:
        from dockyard.runtime import cgroupahead

        cgroupahead.restock(driver)  # the next start's cgroup, once this one is all gone


def _restart(config, rec, wait: float) -> int:
    import time

    from dockyard.linux.cgroups import detect
    from dockyard.runtime import starter
    from dockyard.runtime.store import ContainerStore

    store = ContainerStore(config.metadata_path)
    try:
        if not store.update(
            rec.id, ("exited",), where={"sup_pid": rec.sup_pid, "sup_start": rec.sup_start},
            state="restarting", restart_count=rec.restart_count + 1,
        ):  # fmt: skip
            return 0  # the user acted first
    finally:
        store.close()
    time.sleep(wait)
    store = ContainerStore(config.metadata_path)
    try:
        rec = store.get(rec.id)
        if rec.state == "restarting":
            starter.start(config, store, detect(), rec, starter.lowerdirs(config, rec.snapshot),
                          from_states=("restarting",))  # fmt: skip
    except Exception as e:
        store.update(rec.id, ("restarting",), state="exited", error=str(e))
    finally:
        store.close()
    return 0


def _exit_of(rec, container_dir: str) -> bool:
    """Is the exit file there, written by this run's supervisor, for a live record?"""
    from dockyard.runtime.exitfile import read_exit

    ex = read_exit(container_dir)
    return (
        ex is not None
        and rec.state in ("running", "paused")
        and (ex[0], ex[1]) == (rec.sup_pid, rec.sup_start)
    )


def run(root: str, state_dir: str, cid: str, removed_fd: int = -1, store=None) -> int:
    """`main`, with a failure noted next to the container's log (nobody else listens)."""
    try:
        return _finish(root, state_dir, cid, removed_fd, store)
    except BaseException:
        import traceback

        try:
            from dockyard.runtime.launch import layout

            d = layout(os.path.join(root, "containers"), cid).dir
            with open(os.path.join(d, "finish.err"), "a") as f:
                traceback.print_exc(file=f)
        except Exception:
            pass
        return 1


def _wait_for_go(fd: int) -> bool:
    """Started ahead by an attached supervisor: import now, then wait for "go" (the exit
    file is written); end-of-file means the start failed or the supervisor died."""
    warm_up()
    try:
        data = os.read(fd, 16)
    finally:
        os.close(fd)
    return data == b"go"


def warm_up() -> None:
    """Import what finishing needs, ahead of the exit."""
    from dockyard.config import Config  # noqa: F401
    from dockyard.linux.cgroups import detect  # noqa: F401
    from dockyard.runtime import cleanup, restart  # noqa: F401
    from dockyard.runtime.containerspec import from_json  # noqa: F401
    from dockyard.runtime.launch import cgroup_name, layout  # noqa: F401
    from dockyard.runtime.reconcile import apply_exit  # noqa: F401
    from dockyard.runtime.store import ContainerStore  # noqa: F401


def _main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[3].startswith("--wait="):
        if not _wait_for_go(int(argv[3][7:])):
            return 0
        argv = argv[:3]
    return run(*argv)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
