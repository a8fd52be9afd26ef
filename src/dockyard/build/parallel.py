"""Independent stages built at the same time: one forked process per extra stage.

A RUN step clones its container, which CPython can do safely only in a single-threaded
process — so stages run in processes, not threads. For a wave of stages that do not
depend on each other, each stage but the last is built in a forked child that opens its
own stores (sqlite connections must not cross a fork) and shares the parent's lease;
the parent builds the last one. Every stage records its progress events, and they are
replayed in stage order once the wave is done, so the output (and of course the image)
is the same every time. An error in any stage is raised after the whole wave finished,
so nothing is left running.
"""

import os

from dockyard.build.options import Events


class Recorder(Events):
    """Events kept in order, to be replayed later."""

    def __init__(self):
        self.calls: list[tuple[str, tuple]] = []

    def step(self, number, total, text):
        self.calls.append(("step", (number, total, text)))

    def cached(self):
        self.calls.append(("cached", ()))

    def reason(self, text):
        self.calls.append(("reason", (text,)))

    def output(self, data):
        self.calls.append(("output", (bytes(data),)))


class _LeaseProxy:
    """The parent's lease, through the child's own metadata connection."""

    def __init__(self, meta, lease_id: str):
        self.meta = meta
        self.id = lease_id

    def add(self, kind: str, ref: str) -> None:
        self.meta.add_lease_resource(self.id, kind, ref)


def build_wave(builder, wave: list[int], plan) -> None:
    """Build the stages of `wave` at once; fill `built` and `steps_of` as in order."""
    built, steps_of = plan[4], plan[5]
    children = [(i, *_fork(builder, i, plan)) for i in wave[:-1]]
    events = builder.events
    mine = Recorder()
    results: dict[int, tuple] = {}
    try:
        builder.events = mine
        last = wave[-1]
        try:
            results[last] = ("ok", builder.build_stage(last, plan), mine.calls, None)
        except Exception as e:
            results[last] = ("err", e, mine.calls, None)
    finally:
        builder.events = events
        for i, pid, fd in children:
            results[i] = _collect(pid, fd)
    error = None
    for i in wave:
        kind, value, calls, extra = results[i]
        for name, args in calls:
            getattr(events, name)(*args)
        if kind == "err":
            error = error or value
            continue
        if extra is not None:  # a child's share of what the build depends on
            value, steps, deps, new, unpinned = value, *extra
            steps_of[i] = steps
            builder.ctx.deps.update(deps)
            builder.ctx._new.extend(new)
            builder._unpinned = builder._unpinned or unpinned
        built[i] = value
    if error is not None:
        raise error


def _fork(builder, i: int, plan) -> tuple[int, int]:
    r, w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(r)
        _child(builder, i, plan, w)
    os.close(w)
    return pid, r


def _child(builder, i: int, plan, w: int) -> None:
    import pickle

    rec = Recorder()
    stores_before = builder.stores  # the parent's: never written to from here
    try:
        try:
            from dockyard.build.durability import Records

            # this stage's own (the parent flushes its own), marked as the parent's are
            builder.records = Records(builder.records.marked)
            stores, cache, resolve_base = builder.reopen()
            builder.stores, builder.cache, builder.resolve_base = stores, cache, resolve_base
            builder.ctx._db = cache
            builder.ctx.deps, builder.ctx._new = {}, []
            builder.lease = _LeaseProxy(stores.meta, builder.lease.id)
            builder.events = rec
            builder._dl_dir, builder._downloads = "", {}
            steps_of = {}
            state = builder.build_stage(i, (*plan[:5], steps_of))
            builder.records.flush(builder.stores, builder.cache)
            extra = (steps_of[i], builder.ctx.deps, builder.ctx._new, builder._unpinned)
            out = ("ok", state, rec.calls, extra)
        except BaseException as e:
            if builder.stores is not stores_before:
                builder.records.flush_quietly(builder.stores, builder.cache)
            out = ("err", e, rec.calls, None)
        finally:
            if builder._dl_dir:
                from dockyard.build.copy import remove_tree

                remove_tree(builder._dl_dir)
        try:
            data = pickle.dumps(out)
        except Exception as e:  # an exception that does not pickle: keep its text
            from dockyard.errors import FailedPrecondition

            err = FailedPrecondition(f"stage {i}: {out[1]} ({e})")
            data = pickle.dumps(("err", err, rec.calls, None))
        view = memoryview(data)
        while view:
            view = view[os.write(w, view) :]
    finally:
        os._exit(0)  # never run the parent's cleanup (its sqlite connections) here


def _collect(pid: int, fd: int) -> tuple:
    import pickle

    chunks = []
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
        os.waitpid(pid, 0)
    if not chunks:
        from dockyard.errors import Unavailable

        return ("err", Unavailable("a stage builder process died without an answer"), [], None)
    return pickle.loads(b"".join(chunks))
