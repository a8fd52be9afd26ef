"""A COPY/ADD layer whose tar is still being written while the next RUN step runs.

When a copy step is followed by a RUN, its files are ready before its blob is: the RUN
may start on them at once (the layer dir is the top lower dir of its overlay) while a
thread (`layers.BlobJob`, started by `begin` once the RUN's init is set up) writes the
tar. The layer is settled — blob digest known, snapshot made, cache entry written —
before anything needs its chain id: a cache lookup of the RUN, or the commit of the RUN's
own layer.
"""


class Pending:
    __slots__ = ("inputs", "job", "key", "layer_dir", "parent_chain", "slot", "text", "work_root")

    def __init__(self, job, layer_dir, work_root, parent_chain, key, slot, inputs, text):
        self.job = job
        self.layer_dir = layer_dir
        self.work_root = work_root  # removed once settled
        self.parent_chain = parent_chain
        self.key, self.slot, self.inputs, self.text = key, slot, inputs, text


def start(builder, state, layer_dir: str, work_root: str, entry: tuple, text: str) -> None:
    """Start writing `layer_dir`'s blob; `entry` is the step's (key, slot, inputs)."""
    from dockyard.build.layers import BlobJob

    job = BlobJob(builder.stores, layer_dir, builder.opts.source_date_epoch)
    state.pending = Pending(job, layer_dir, work_root, state.chain, *entry, text)


def begin(state) -> None:
    """Start writing the pending blob (its RUN's init is set up: threads are safe now)."""
    if state.pending is not None:
        state.pending.job.start()


def lowers(builder, state) -> list[str]:
    """The lower dirs of a step on `state`, a pending layer's dir on top."""
    p = state.pending
    if p is None:
        return builder.lowers_of(state.chain)
    return [p.layer_dir, *builder.lowers_of(p.parent_chain)]


def settle(builder, state) -> None:
    """Wait for the pending blob, then record the layer as a step result."""
    from dockyard.build import layers
    from dockyard.build.copy import remove_tree

    p = state.pending
    if p is None:
        return
    state.pending = None
    try:
        digest, size, tree = p.job.wait()
        layer = layers.finish(builder.stores, builder.lease, p.parent_chain, p.layer_dir,
                              digest, size, tree)  # fmt: skip
    finally:
        remove_tree(p.work_root)
    builder.record_layer(state, p.key, p.slot, p.inputs, p.text, layer)


def abandon(state) -> None:
    """Give up a pending layer (its step failed): wait for the writer, drop the dir."""
    from dockyard.build.copy import remove_tree

    p = state.pending
    if p is None:
        return
    state.pending = None
    try:
        if p.job.started:  # (else there is nothing to wait for: no blob is written)
            p.job.wait()
    except Exception:
        pass  # an unreferenced blob, collected by the next GC
    finally:
        remove_tree(p.work_root)
