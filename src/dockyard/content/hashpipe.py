"""HashPipe: hash chunks on a worker thread while the caller reads and writes the next ones.

sha256 is the slowest step of a large ingest; hashlib releases the GIL for big buffers, so on
a second core it overlaps the read, the write and the writeback. A small ring of reused
1 MiB buffers bounds memory and keeps the hash in step with the file.
"""

from dockyard.content.layout import BUF_SIZE

_DEPTH = 4


class HashPipe:
    def __init__(self, hasher, depth: int = _DEPTH, size: int = BUF_SIZE):
        import queue
        import threading

        self._hasher = hasher
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(depth):
            self._free.put(bytearray(size))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="content-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            buf, n = item
            if self._error is None:
                try:
                    self._hasher.update(memoryview(buf)[:n])
                except BaseException as e:  # reported by close(); keep draining
                    self._error = e
            self._free.put(buf)

    def buffer(self) -> bytearray:
        """A buffer the worker is done with (waits while all of them are in flight)."""
        return self._free.get()

    def feed(self, buf: bytearray, n: int) -> None:
        """Hand over the first `n` bytes of `buf`; the caller must not touch `buf` again."""
        self._work.put((buf, n))

    def close(self) -> None:
        """Wait until everything fed has been hashed."""
        self._work.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
