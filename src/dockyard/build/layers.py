"""Committing a build step's layer dir: an uncompressed tar blob and a snapshot.

The dir (an overlay upper of a RUN, or the files a COPY wrote) is written once as a tar
into the content store while it is hashed — uncompressed, so the blob digest is the diff
id and no time goes to compression — then the dir itself becomes the snapshot (a rename,
no copy) keyed by the chain id. Neither is flushed to disk here: the build flushes once,
before anything durable names them (see build.durability).
"""

import os

from dockyard.oci import mediatypes as mt
from dockyard.treesize import tree_size


class Layer:
    __slots__ = ("blob_digest", "blob_size", "chain", "diff_id", "size")

    def __init__(self, diff_id: str, blob_digest: str, blob_size: int, size: int, chain: str):
        self.diff_id = diff_id
        self.blob_digest = blob_digest
        self.blob_size = blob_size
        self.size = size
        self.chain = chain


def write_blob(stores, layer_dir: str, mtime: int | None) -> tuple[str, int, int]:
    """Write `layer_dir` as an uncompressed tar blob; (digest, blob size, the dir's
    `tree_size`, counted on the way)."""
    from dockyard.archive.counting import CountingWriter
    from dockyard.archive.tarwriter import write_tree

    w = stores.content.writer("build-" + os.urandom(12).hex(), resume=False)
    ok = False
    try:
        sink = CountingWriter(w)
        size = write_tree(layer_dir, sink, overlay_upper=True, mtime=mtime)
        digest = w.commit(durable=False)
        ok = True
    finally:
        if not ok and not w.closed:
            w.abort()
    return digest, sink.size, size


class BlobJob:
    """`write_blob` on a thread, so the tar is written while the next step runs.

    `start` it once the RUN step's init is set up (a clone wants this process to have one
    thread); `wait` writes it here if nobody started it. A thread, not a forked process: a
    fork shares the builder's pages, and the RUN's clone right after it costs ~2 ms more
    while the child copies them on write. The blob is not flushed here: a syncfs while the
    RUN step creates its files makes that step ~10 ms slower (its directory and inode
    blocks wait for the disk); the build's one flush covers it."""

    def __init__(self, stores, layer_dir: str, mtime: int | None):
        self._args = (stores, layer_dir, mtime)
        self._done = None  # a lock held while the thread runs
        self._result: tuple[str, int, int] | None = None
        self._error: BaseException | None = None

    @property
    def started(self) -> bool:
        return self._done is not None

    def start(self) -> None:
        """Write the blob on a thread from now (once)."""
        if self._done is not None:
            return
        import _thread

        self._done = _thread.allocate_lock()
        self._done.acquire()
        _thread.start_new_thread(self._run, ())

    def _run(self) -> None:
        try:
            self._result = write_blob(*self._args)
        except BaseException as e:  # raised by `wait`, on the caller's thread
            self._error = e
        finally:
            if self._done is not None:
                self._done.release()

    def wait(self) -> tuple[str, int, int]:
        """(digest, blob size, tree size) once the blob is committed, or its error."""
        if self._done is None:
            self._run()  # never started (the RUN did not get that far): here, now
        else:
            self._done.acquire()
            self._done.release()
        if self._error is not None:
            from dockyard.errors import DataLoss

            e = self._error
            raise DataLoss(f"writing a build layer failed: {type(e).__name__}: {e}") from e
        assert self._result is not None
        return self._result


def finish(stores, lease, parent_chain: str, layer_dir: str, digest: str, blob_size: int,
           size: int | None = None) -> Layer:  # fmt: skip
    """Record the written blob and turn `layer_dir` into its snapshot (consumed); `size`
    is the dir's `tree_size` when known."""
    from dockyard.metadata.records import LayerRecord
    from dockyard.oci.ids import chain_id

    lease.add("content", digest)
    chain = chain_id(parent_chain, digest)
    lease.add("snapshot", chain)

    if size is None:
        size = tree_size(layer_dir)

    def unpack(target: str) -> int:
        from dockyard.archive.apply import apply_layer

        with stores.content.open(digest) as f:
            apply_layer(f, target, whiteouts="overlay")
        return size

    try:
        snap = stores.snapshots.adopt(chain, parent_chain, layer_dir, size, durable=False)
    except OSError as e:
        import errno

        if e.errno != errno.EXDEV:
            raise
        # the build's tmp dir is on another filesystem: unpack the blob instead
        snap = stores.snapshots.create(chain, parent_chain, unpack, durable=False)
    stores.meta.put_layer(LayerRecord(digest, digest, mt.OCI_LAYER, blob_size, snap.size))
    return Layer(digest, digest, blob_size, snap.size, chain)


def commit(stores, lease, parent_chain: str, layer_dir: str, mtime: int | None) -> Layer:
    """Store `layer_dir` as a layer on top of `parent_chain`; the dir is consumed."""
    digest, blob_size, size = write_blob(stores, layer_dir, mtime)
    return finish(stores, lease, parent_chain, layer_dir, digest, blob_size, size)
