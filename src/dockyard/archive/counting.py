"""`CountingWriter`: the file interface the tar writer writes to, forwarding every write to
a target (a content writer, stdout) and counting the bytes; the target is flushed by its
owner, not here."""


class CountingWriter:
    def __init__(self, out):
        self._out = out
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._out.write(data)
        n = len(data)
        self.size += n
        return n

    def flush(self) -> None:
        pass
