"""ContainerService: the container use-cases (create, start, run, stop, kill, restart, rm,
wait, logs, ps, inspect, pause, unpause, rename, top) over the runtime, as the CLI and the
Engine API call them.

Every verb finds the container through `_get`, which first tells the truth about one whose
supervisor died (`runtime.reconcile`). Errors carry Docker's messages; a failed start
carries `exit_code` (125/126/127) for the CLI.
"""

from __future__ import annotations  # `list` is a method name here

import os

from dockyard.config import Config
from dockyard.errors import Conflict, InvalidArgument
from dockyard.runtime import state as ST

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations are never evaluated
    from dockyard.runtime.spec import RunOptions

__all__ = ["ContainerService", "RunOptions"]


def __getattr__(name: str):
    # RunOptions on first use: runtime.spec costs ~0.5 ms that `ps` and `stop` never need
    if name == "RunOptions":
        from dockyard.runtime.spec import RunOptions

        return RunOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ContainerService:
    def __init__(self, config: Config, images=None, driver=None):
        self.config = config
        self._images = images
        self._driver = driver
        self._store = None
        self._volumes_of = {}  # id -> spec, of runs with volumes that the caller removes

    # -- wiring -------------------------------------------------------------------------

    @property
    def images(self):
        if self._images is None:
            # sqlite through the container store's import (runtime.store), which is ~2 ms
            # cheaper than the metadata package's
            import dockyard.runtime.store  # noqa: F401
            from dockyard.services.images import ImageService

            self._images = ImageService(self.config, in_use=self.image_in_use)
        return self._images

    @property
    def store(self):
        if self._store is None:
            from dockyard.runtime.store import ContainerStore

            os.makedirs(self.config.root, 0o700, exist_ok=True)
            if not os.path.exists(self.config.metadata_path):
                from dockyard.metadata.store import MetadataStore

                MetadataStore(self.config.metadata_path).close()
            self._store = ContainerStore(self.config.metadata_path)
        return self._store

    @property
    def driver(self):
        if self._driver is None:
            from dockyard.linux.cgroups import detect

            self._driver = detect()
        return self._driver

    def close(self) -> None:
        # the image store's connection first: the container store's closes last and skips
        # sqlite's checkpoint-on-close (store.py), which would otherwise fsync on every run
        if self._images is not None:
            self._images.close()
        if self._store is not None:
            self._store.close()
            self._store = None

    def image_in_use(self, image_id: str) -> bool:
        return self.store.using_image(image_id)

    def _layout(self, cid: str):
        from dockyard.runtime.launch import layout

        return layout(self.config.containers_dir, cid)

    def _get(self, ref: str):
        """The record for `ref`, reconciled; NotFound when a reconciliation removed it."""
        from dockyard.errors import NotFound

        rec = self._reconciled(self.store.find(ref))
        if rec is None:
            raise NotFound(f"No such container: {ref}")
        return rec

    def _image_config(self, image_id: str, limit: int = 16 << 20) -> bytes:
        """The image's config blob, verified; without importing the content store when it is
        an ordinary small sha256 blob (~1 ms on every `run`)."""
        from dockyard.content.smallread import read_small

        data = read_small(self.config.content_dir, image_id, limit)
        if data is None:
            data = self.images.content.read(image_id, max_size=limit)
        return data

    def _user_stopped(self, cid: str, on: bool) -> None:
        from dockyard.runtime.restart import set_stopped

        set_stopped(self._layout(cid).dir, on)

    def _reconciled(self, rec, spec=None):
        """`rec` reconciled (None when that removed it); `spec`: its decoded spec, if at hand."""
        if rec.state not in ST.LIVE:
            return rec
        from dockyard.runtime.reconcile import reconcile

        # one field, read without building the spec (runtime.containerspec: ~1 ms to import)
        auto_remove = spec.auto_remove if spec is not None else _stored(rec, "auto_remove")
        out = reconcile(
            self.store, rec, lambda: self.driver, self.config.metadata_path,
            self._layout(rec.id).dir, auto_remove,
        )  # fmt: skip
        if out is None:  # removed (--rm) after its supervisor died: its socket outlived it
            from dockyard.runtime.attachio import unlink

            unlink(self.config.state_dir, rec.id)
        elif out.state == ST.RUNNING:  # a health monitor killed meanwhile starts again
            from dockyard.runtime.healthmonitor import ensure

            ensure(self.config, out, self._layout(out.id).dir)
        return out

    # -- create -------------------------------------------------------------------------

    def create(self, opts: RunOptions) -> str:
        """Make the container (record, directories, decided spec); returns its id."""
        return self._create(opts)[0].id

    def _create(self, opts: RunOptions, insert: bool = True):
        """`create` (`services.containercreate.create`): (record, spec, lowerdirs)."""
        from dockyard.services import containercreate

        return containercreate.create(self, opts, insert)

    def _undo_create(self, cid: str, spec) -> None:
        from dockyard.services import containercreate

        containercreate.undo_create(self, cid, spec)

    def _insert(self, rec, generated: bool) -> None:
        from dockyard.services import containercreate

        containercreate.insert_record(self, rec, generated)

    # -- start / run --------------------------------------------------------------------

    def start(self, ref: str, attach: tuple[int, int, int] | None = None,
              detach_keys: bytes = b""):  # fmt: skip
        """Start a created or exited container; a running one is left alone (Docker's 304).

        `attach` (stdin or -1, stdout, stderr): the supervisor forwards the container's
        output there (stdin only with -i). Returns `launch.Started` (None if it was
        already running)."""
        return self._start(ref, attach, detach_keys=detach_keys)

    def _start(self, ref: str, attach, pre=None, detach_keys: bytes = b""):
        """`start`, with an optional supervisor forked ahead (`launch.prefork`, consumed)."""
        from dockyard.runtime import launch, starter

        try:
            rec = self._get(ref)
            if rec.state == ST.RUNNING:
                if pre is not None:
                    launch.cancel(pre)
                return None
            ST.check("start", rec.state, rec.id)
            self._wait_finisher(rec)
            self._user_stopped(rec.id, False)
            from dockyard.services.containercreate import lowerdirs

            lowers = lowerdirs(self.images, rec.snapshot)
        except BaseException:
            if pre is not None:
                launch.cancel(pre)
            raise
        return starter.start(self.config, self.store, self.driver, rec, lowers, attach, pre=pre,
                             detach_keys=detach_keys)  # fmt: skip

    def _wait_finisher(self, rec, timeout: float = 30.0) -> None:
        """The previous run's supervisor may still be tearing down (its cgroup has the same
        name as the next run's): let it finish first."""
        import time

        from dockyard.runtime.reconcile import supervisor_alive

        deadline = time.monotonic() + timeout
        while rec.sup_pid and supervisor_alive(rec):
            if time.monotonic() > deadline:
                from dockyard.errors import Unavailable

                raise Unavailable(f"container {rec.id} is still being torn down")
            time.sleep(0.005)

    def run(
        self, opts: RunOptions, attach: tuple[int, int, int] | None = None
    ) -> tuple[str, int | None]:
        """create + start. With `attach`, block until the container exits and return its
        exit code (output forwarded to attach[1]/attach[2]); without, return at once.

        A failed start raises with `exit_code` 126/127 (and --rm removes the container)."""
        from dockyard.runtime import launch

        cid, started = self.create_and_start(opts, attach)
        if attach is None or started is None:
            return cid, None
        code = launch.wait_result(started.result_r)
        if code is None:  # the supervisor died: the record tells what is known
            code = self.wait(cid) if not opts.auto_remove else 137
        return cid, code

    def create_and_start(self, opts: RunOptions, attach: tuple[int, int, int] | None = None,
                         detach_keys: bytes = b"", pre=None, client_removes: bool = False):  # fmt: skip
        """`run` without the wait: (id, `launch.Started`); the caller reads the exit code
        from `started.result_r` (`launch.wait_result`). A failed create raises as `create`
        does; a failed start as `start` does, after removing the container for --rm.
        `pre`: a supervisor the caller forked already (`launch.prefork` with the same
        `attach`), consumed here. `client_removes` (--rm): the caller removes the container
        once it exits, with `remove_run(id, started)` (when `started.ack_w` >= 0)."""
        from dockyard.runtime import launch, starter

        # the supervisor is forked first: it warms up while the image is resolved and the
        # container created, and the fork copies a process that is still small
        if pre is None:
            pre = launch.prefork(attach, self.config.metadata_path)
        try:
            rec, spec, lowers = self._create(opts, insert=False)
        except BaseException:
            launch.cancel(pre)
            raise
        inserted = []

        def insert() -> None:
            # after the plan is handed over: the init assembles its root meanwhile
            self._insert(rec, generated=not opts.name)
            inserted.append(True)

        try:
            # just made: no earlier run to wait for or reconcile, and the spec is at hand
            # (the driver only if the start fails: the supervisor makes the cgroup)
            started = starter.start(self.config, self.store, lambda: self.driver, rec, lowers,
                                    attach, pre=pre, detach_keys=detach_keys, spec=spec,
                                    before_wait=insert, client_removes=client_removes)  # fmt: skip
            if started.ack_w >= 0 and spec.volumes:  # `remove_run` releases them
                self._volumes_of[rec.id] = spec
            return rec.id, started
        except BaseException:
            if not inserted:  # (the start has waited for its supervisor to give up)
                self._undo_create(rec.id, spec)
            elif opts.auto_remove:
                self.remove(rec.id, force=True, volumes=True)
            raise

    # -- stop / kill / restart ----------------------------------------------------------

    def remove_run(self, cid: str, started) -> bool:
        """run --rm, attached, after the exit code came (`create_and_start` with
        `client_removes`): remove the record, and the anonymous volumes, here, with this
        connection; its supervisor then tidies the rest. False (the supervisor told to do it
        all itself) when that failed."""
        from dockyard.errors import NotFound
        from dockyard.runtime.launch import say_removed

        spec = self._volumes_of.pop(cid, None)
        removed = False
        try:
            if spec:  # Docker's --rm takes the anonymous volumes along
                from dockyard.runtime import volumes as V

                V.release(self.config.metadata_path, self.config.volumes_dir, cid,
                          V.anonymous_names(spec))  # fmt: skip
            self.store.delete(cid)
            removed = True
        except NotFound:
            removed = True  # rm -f came first
        except Exception:
            removed = False
        finally:
            say_removed(started.ack_w, removed)
        return removed

    def kill(self, ref: str, signal: str | int = "KILL") -> None:
        from dockyard.runtime.spec import parse_signal

        sig = signal if isinstance(signal, int) else parse_signal(signal)
        rec = self._get(ref)
        ST.check("kill", rec.state, rec.id)
        self._user_stopped(rec.id, True)
        if rec.state == ST.RESTARTING:
            self.store.update(rec.id, (ST.RESTARTING,), state=ST.EXITED)
            return
        self._signal(rec, sig)

    def _signal(self, rec, sig: int) -> None:
        if rec.pid <= 0:
            return  # restarting: no process (and kill(0) would hit our own group)
        try:
            os.kill(rec.pid, sig)
        except ProcessLookupError:
            pass  # exited meanwhile; the supervisor records it

    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        """The stop signal, then SIGKILL after `timeout` seconds (the container's default)."""
        from dockyard.runtime.launch import cgroup_name

        rec = self._get(ref)
        if rec.state not in ST.LIVE:
            return  # Docker: stopping a stopped container succeeds (304)
        self._user_stopped(rec.id, True)
        if rec.state == ST.RESTARTING:  # waiting out the back-off: just cancel it
            if self.store.update(rec.id, (ST.RESTARTING,), state=ST.EXITED):
                return
            rec = self._get(rec.id)
            if rec.state not in ST.LIVE:
                return
        if signal:
            from dockyard.runtime.spec import parse_signal

            sig = parse_signal(signal)
        else:
            sig = _stored(rec, "stop_signal")
        wait = _stored(rec, "stop_timeout") if timeout is None else timeout
        from dockyard.runtime.pidwait import pidfd_of

        pidfd = pidfd_of(rec.pid)  # opened before the signal: it names this very init
        try:
            self._signal(rec, sig)
            if rec.state == ST.PAUSED:
                self.driver.thaw(cgroup_name(rec.id))
            gone = wait >= 0 and self._wait_gone(rec.id, wait, pidfd=pidfd)
        finally:
            if pidfd >= 0:
                os.close(pidfd)
        if not gone:
            try:
                self.driver.kill(cgroup_name(rec.id), 9)
            except OSError:
                pass
            self._signal(rec, 9)
            self._wait_gone(rec.id, None)

    def _wait_gone(self, cid: str, timeout: float | None, pidfd: int = -1) -> bool:
        """Wait until the container is not live; False on timeout.

        With a pidfd of its init (the caller's, left open), sleep on it until the init
        dies (a grace period ends the moment it exits, without polling), then poll
        briefly for the record: the supervisor writes the exit right after reaping it."""
        import time

        from dockyard.errors import NotFound

        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        delay = 0.0005
        while True:
            try:
                if self._get(cid).state not in ST.LIVE:
                    return True
            except NotFound:
                return True  # --rm removed it
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return False
            left = None if deadline is None else deadline - now
            if pidfd >= 0:
                # in slices: should the record stay live (a restart), polling takes over
                from dockyard.runtime.pidwait import wait_exit

                wait_exit(pidfd, 0.25 if left is None else min(left, 0.25))
                pidfd = -1
                continue
            time.sleep(delay if left is None else min(delay, left))
            # fine-grained while an exit is imminent, then back off
            delay = min(delay * 2, 0.005 if now - start < 1 else 0.05)

    def restart(self, ref: str, timeout: int | None = None) -> None:
        rec = self._get(ref)
        self.stop(rec.id, timeout)
        self.start(rec.id)

    def wait(self, ref: str, condition: str = "not-running") -> int:
        """Block until `condition` (not-running, next-exit, removed); the exit code."""
        from dockyard.services.containerwait import wait

        return wait(self, ref, condition)

    def update(self, ref: str, changes) -> str:
        """Docker's `update` (`runtime.update.Changes`): live cgroup, then the spec; the id."""
        from dockyard.services.containerupdate import update

        return update(self, ref, changes)

    def stats(self, refs=(), all: bool = False, stream: bool = False, interval: float = 1.0):
        """Docker's stats rows (`runtime.stats.Entry`): a list over `interval` seconds, or
        with `stream` an iterator of lists every `interval` (services/containerstats.py)."""
        from dockyard.services import containerstats

        if stream:
            return containerstats.stream(self, list(refs), all, interval)
        return containerstats.snapshot(self, list(refs), all, interval)

    # -- pause / rename / remove ---------------------------------------------------------

    def pause(self, ref: str) -> None:
        from dockyard.runtime.launch import cgroup_name

        rec = self._get(ref)
        ST.check("pause", rec.state, rec.id)
        self.driver.freeze(cgroup_name(rec.id))
        if not self.store.update(rec.id, (ST.RUNNING,), state=ST.PAUSED):
            self.driver.thaw(cgroup_name(rec.id))
            raise Conflict(f"Container {rec.id} is not running")

    def unpause(self, ref: str) -> None:
        from dockyard.runtime.launch import cgroup_name

        rec = self._get(ref)
        ST.check("unpause", rec.state, rec.id)
        self.driver.thaw(cgroup_name(rec.id))
        self.store.update(rec.id, (ST.PAUSED,), state=ST.RUNNING)

    def rename(self, ref: str, new_name: str) -> None:
        from dockyard.runtime import names

        name = names.validate(new_name)
        rec = self._get(ref)
        if rec.name == name:
            raise InvalidArgument("Renaming a container with the same name as its current name")
        self.store.update(rec.id, state=rec.state, name=name)

    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        """`rm`: -f kills a live container first; -v removes its anonymous volumes."""
        from dockyard.runtime import cleanup
        from dockyard.runtime.launch import cgroup_name

        rec = self._get(ref)
        if rec.state in ST.LIVE:
            if not force:
                ST.check("remove", rec.state, rec.id)
            self._user_stopped(rec.id, True)  # no policy restart from here on
            if rec.state == ST.RESTARTING:
                self.store.update(rec.id, (ST.RESTARTING,), state=ST.EXITED)
                rec = self._get(rec.id)
            if rec.state == ST.PAUSED:
                self.driver.thaw(cgroup_name(rec.id))
            self._signal(rec, 9)
            self._wait_gone(rec.id, None)
        if not self.store.update(rec.id, (ST.CREATED, ST.EXITED, ST.DEAD), state=ST.REMOVING):
            from dockyard.errors import NotFound

            try:
                cur = self.store.get(rec.id)
            except NotFound:
                return  # --rm got there first
            ST.check("remove", cur.state, rec.id)
        cleanup.remove_cgroup(self.driver, cgroup_name(rec.id))
        cleanup.remove_container(self.config.metadata_path, rec.id, self._layout(rec.id).dir)
        from dockyard.runtime.containerspec import from_json

        spec = from_json(rec.spec)
        if spec.volumes:
            from dockyard.runtime import volumes as V

            drop = V.anonymous_names(spec) if volumes else ()
            V.release(self.config.metadata_path, self.config.volumes_dir, rec.id, drop)
        from dockyard.runtime.attachio import unlink

        unlink(self.config.state_dir, rec.id)  # left behind when its supervisor was killed

    # -- queries ------------------------------------------------------------------------

    def inspect(self, ref: str) -> dict:
        import time

        from dockyard.runtime import dockerjson
        from dockyard.runtime.containerspec import from_json

        rec = self._get(ref)
        return dockerjson.inspect(
            rec, from_json(rec.spec), self._layout(rec.id), (), time.time_ns()
        )

    def list(
        self, all: bool = False, filters: dict | None = None, size: bool = False,
        limit: int = -1, latest: bool = False,
    ) -> list[dict]:  # fmt: skip
        """Docker's /containers/json: running ones unless `all`, newest first."""
        import time

        from dockyard.runtime import dockerjson
        from dockyard.runtime.containerspec import view
        from dockyard.treesize import tree_size

        filters = dict(filters or {})
        dockerjson.check_filters(filters)
        # before/since name containers: compare creation times (Docker's semantics)
        before = [self.store.find(r).created for r in filters.pop("before", [])]
        since = [self.store.find(r).created for r in filters.pop("since", [])]
        if latest:
            limit = 1
        out = []
        now = time.time_ns()
        # Docker: a status or exited filter implies --all; the others do not
        show_all = all or limit > 0 or "status" in filters or "exited" in filters
        for rec in self.store.list():
            # the read-only fields ps shows; the spec never changes after create
            spec = view(rec.spec)
            if rec.state in ST.LIVE:
                try:
                    rec = self._reconciled(rec, spec)
                except Exception:
                    continue
                if rec is None:
                    continue
            if not show_all and rec.state not in (ST.RUNNING, ST.PAUSED, ST.RESTARTING):
                continue
            if any(rec.created >= t for t in before) or any(rec.created <= t for t in since):
                continue
            cdir = os.path.join(self.config.containers_dir, rec.id)
            if not dockerjson.matches(rec, spec, filters, cdir):
                continue
            size_rw = tree_size(self._layout(rec.id).upper) if size else None
            out.append(dockerjson.summary(rec, spec, now, size_rw, cdir))
            if 0 < limit <= len(out):
                break
        return out

    def logs(
        self, ref: str, follow: bool = False, tail: int | None = None,
        since: float | None = None, until: float | None = None, timestamps: bool = False,
    ):  # fmt: skip
        """Yield (stream, bytes) from the json-file log (and its rotated files);
        `since`/`until` are unix seconds."""
        from dockyard.errors import FailedPrecondition, NotFound
        from dockyard.runtime import jsonlog

        rec = self._get(ref)
        lay = self._layout(rec.id)
        if not jsonlog.readable(lay.dir):
            raise FailedPrecondition("configured logging driver does not support reading")

        def live() -> bool:
            try:
                return self._get(rec.id).state in ST.LIVE
            except NotFound:
                return False

        return jsonlog.stream(lay.log, live, follow, tail, since, until, timestamps)

    def top(self, ref: str, ps_args: str = "-ef") -> dict:
        """Docker's /containers/{id}/top: the host's ps, filtered to the container's pids."""
        from dockyard.runtime.launch import cgroup_name
        from dockyard.runtime.top import processes

        rec = self._get(ref)
        ST.check("top", rec.state, rec.id)
        return processes(set(self.driver.pids(cgroup_name(rec.id))), ps_args)


def _stored(rec, field: str):
    """One field of the record's stored spec (a field every stored spec has)."""
    from dockyard.fastjson import loads

    return loads(rec.spec)[field]
