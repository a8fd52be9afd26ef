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


def chain_of(parent_chain: str, diff_id: str) -> str:
    from dockyard.oci.ids import chain_id

    return chain_id(parent_chain, diff_id)


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
    """`write_blob` in a forked process, so the tar is written while the next step runs.

    The child does not flush what it wrote: a syncfs while the RUN step creates its files
    makes that step ~10 ms slower here (its directory and inode blocks wait for the disk);
    the build's one flush covers the blob.

    Only files are touched there (no sqlite); the parent stays single-threaded, so it may
    still clone a RUN step's container meanwhile."""

    def __init__(self, stores, layer_dir: str, mtime: int | None):
        from dockyard.forkapart import fork_apart

        r, w = os.pipe2(os.O_CLOEXEC)
        # on the other core at once: this process clones the RUN step's init next, which
        # then has this core to itself
        self.pid = fork_apart()
        if self.pid == 0:
            try:
                os.close(r)
                try:
                    digest, size, tree = write_blob(stores, layer_dir, mtime)
                    msg = f"ok {digest} {size} {tree}"
                except BaseException as e:
                    msg = f"err {type(e).__name__}: {e}"
                os.write(w, msg.replace("\n", " ").encode()[:4000] + b"\n")
                os.close(w)
            finally:
                os._exit(0)
        os.close(w)
        self._r = r

    def wait(self) -> tuple[str, int, int]:
        """(digest, blob size, tree size) once the blob is committed; the child's error
        otherwise. The child may not have exited yet: `reap` it later."""
        try:
            msg = b""
            while not msg.endswith(b"\n") and (chunk := os.read(self._r, 4096)):
                msg += chunk
        finally:
            os.close(self._r)
        text = msg.decode(errors="replace").rstrip("\n")
        if text.startswith("ok "):
            digest, size, tree = text[3:].split()
            return digest, int(size), int(tree)
        from dockyard.errors import DataLoss

        raise DataLoss(f"writing a build layer failed: {text[4:] or 'the writer died'}")

    def reap(self) -> None:
        """Wait for the child to end."""
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def finish(stores, lease, parent_chain: str, layer_dir: str, digest: str, blob_size: int,
           size: int | None = None) -> Layer:  # fmt: skip
    """Record the written blob and turn `layer_dir` into its snapshot (consumed); `size`
    is the dir's `tree_size` when known."""
    from dockyard.metadata.records import LayerRecord

    lease.add("content", digest)
    chain = chain_of(parent_chain, digest)
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
