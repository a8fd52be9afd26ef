"""The supervisor's last step, exec'd after the exit code was reported: record, tear down,
apply the restart policy.

`python -m dockyard.runtime.finish ROOT STATE_DIR ID` records the exit file (exit code,
OOMKilled, FinishedAt), removes the cgroup, and then either removes the container (--rm),
or restarts it after the back-off when its restart policy says so (this process forks the
next supervisor through the service's start path), or stops there. A fresh interpreter on
purpose: sqlite cannot be used safely in a process forked from one that had it open.
"""

import os
import sys


def main(argv: list[str]) -> int:
    root, state_dir, cid = argv
    from dockyard.config import Config
    from dockyard.linux.cgroups import detect
    from dockyard.runtime import restart
    from dockyard.runtime.containerspec import from_json
    from dockyard.runtime.launch import cgroup_name, layout
    from dockyard.runtime.reconcile import apply_exit
    from dockyard.runtime.store import ContainerStore

    config = Config(root=root, state_dir=state_dir)
    lay = layout(config.containers_dir, cid)
    from dockyard.errors import NotFound

    store = ContainerStore(config.metadata_path)
    try:
        apply_exit(store, store.get(cid), lay.dir)
        rec = store.get(cid)
    except NotFound:
        return 0  # removed meanwhile (rm -f); its remover cleaned up
    finally:
        store.close()
    spec = from_json(rec.spec)
    try:
        detect().remove(cgroup_name(cid))
    except Exception:
        pass  # the next command touching the container retries
    if spec.auto_remove:
        from dockyard.runtime.cleanup import remove_container

        remove_container(config.metadata_path, cid, lay.dir)
        return 0
    stopped = os.path.exists(restart.stopped_path(lay.dir))
    if rec.state != "exited" or not restart.should_restart(
        spec.restart, spec.restart_max, rec.exit_code, rec.restart_count, stopped
    ):
        return 0
    return _restart(config, rec, restart.delay(rec.restart_count, rec.finished - rec.started))


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


def _main() -> int:
    try:
        return main(sys.argv[1:])
    except BaseException:
        # nobody is listening: leave the reason next to the container's log
        import traceback

        try:
            from dockyard.runtime.launch import layout

            d = layout(os.path.join(sys.argv[1], "containers"), sys.argv[3]).dir
            with open(os.path.join(d, "finish.err"), "a") as f:
                traceback.print_exc(file=f)
        except Exception:
            pass
        return 1


if __name__ == "__main__":
    sys.exit(_main())
