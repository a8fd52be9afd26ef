"""One file with the compiled code of every dockyard module, read by offset on import.

A normal import looks for each module along the package path, stats the source, opens and
reads its .pyc: ~35 µs of file-system and importlib work per module before its code runs.
A `run` imports ~60 modules in the CLI and ~25 more in its supervisor, so that is ~2 ms of
a ~22 ms command. `install()` puts a finder first on `sys.meta_path` that serves dockyard's
modules from `_importcache.bin` (built by `build()`, from scripts/install.sh) instead: an
index read once, then one `pread` per module.

Nothing stale runs: a module whose source differs from the one compiled (mtime or size, as
.pyc files are checked) is left to the normal import, and a cache written by another
Python version is ignored. The cache is root's, beside the sources it was compiled from,
so it is trusted as they are.
"""

import marshal
import os
import sys

CACHE_NAME = "_importcache.bin"
_HEAD = 8  # the index's length, then the index, then the code of each module


def _path() -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), CACHE_NAME)


def _tag() -> str:
    # marshal's format follows the interpreter: a cache from another version is not read
    return f"{sys.implementation.cache_tag}:{sys.hexversion}"


class _Finder:
    """A meta-path finder and loader for the modules in the cache."""

    def __init__(self, path: str, index: dict):
        self._path = path
        self._index = index  # name -> (offset, length, origin, mtime_ns, size, is_package)
        self._fd = -1
        self._ino = (0, 0)
        self._spec_type = type(sys.__spec__)  # importlib's ModuleSpec, without importlib

    def find_spec(self, name: str, path=None, target=None):
        entry = self._index.get(name)
        if entry is None:
            return None
        origin = entry[2]
        try:
            st = os.stat(origin)
        except OSError:
            return None
        if st.st_mtime_ns != entry[3] or st.st_size != entry[4]:
            return None  # edited since: the normal import compiles the source
        spec = self._spec_type(name, self, origin=origin, is_package=entry[5])
        spec.has_location = True  # __file__ is set from origin
        if entry[5]:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        return spec

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module) -> None:
        offset, length = self._index[module.__spec__.name][:2]
        code = marshal.loads(self._read(offset, length))
        exec(code, module.__dict__)

    def _read(self, offset: int, length: int) -> bytes:
        # A forked process may have closed our descriptor (a supervisor keeps only its own)
        # and the number may name another file since: check it is still the cache.
        try:
            st = os.fstat(self._fd)
            if (st.st_dev, st.st_ino) != self._ino:
                raise OSError("not the cache")
        except OSError:
            self._fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
            st = os.fstat(self._fd)
            self._ino = (st.st_dev, st.st_ino)
        data = os.pread(self._fd, length, offset)
        if len(data) != length:
            raise ImportError(f"{self._path} is truncated")
        return data


def install(path: str = "") -> bool:
    """Serve dockyard's modules from the cache, when there is one for this interpreter."""
    path = path or _path()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        size = int.from_bytes(os.pread(fd, _HEAD, 0), "little")
        if size > st.st_size - _HEAD:
            raise ValueError("index past the end")
        tag, index = marshal.loads(os.pread(fd, size, _HEAD))
    except (OSError, ValueError, EOFError, TypeError):
        os.close(fd)
        return False
    if tag != _tag() or not isinstance(index, dict):
        os.close(fd)
        return False
    finder = _Finder(path, index)
    finder._fd, finder._ino = fd, (st.st_dev, st.st_ino)
    sys.meta_path.insert(0, finder)
    return True


def build(package_dir: str = "", out: str = "") -> int:
    """Compile every module under `package_dir` (dockyard's) into `out`; the module count.
    Written to a temporary name and renamed: a reader sees the old cache or the new."""
    package_dir = package_dir or os.path.dirname(os.path.abspath(__file__))
    out = out or os.path.join(package_dir, CACHE_NAME)
    base = os.path.dirname(package_dir)
    blobs: list[bytes] = []
    index: dict = {}
    for dirpath, dirnames, filenames in os.walk(package_dir):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for fn in sorted(filenames):
            if not fn.endswith(".py"):
                continue
            origin = os.path.join(dirpath, fn)
            rel = os.path.relpath(origin, base)[:-3].replace(os.sep, ".")
            is_package = rel.endswith(".__init__")
            name = rel[: -len(".__init__")] if is_package else rel
            with open(origin, "rb") as f:
                source = f.read()
            st = os.stat(origin)
            code = compile(source, origin, "exec", dont_inherit=True)
            blobs.append(marshal.dumps(code))
            index[name] = [0, len(blobs[-1]), origin, st.st_mtime_ns, st.st_size, is_package]
    offset = 0
    for entry in index.values():
        entry[0] = offset
        offset += entry[1]
    head_len = len(marshal.dumps((_tag(), {n: tuple(e) for n, e in index.items()})))
    # offsets count from the file's start: the index's own length is known only now
    for entry in index.values():
        entry[0] += _HEAD + head_len
    head = marshal.dumps((_tag(), {n: tuple(e) for n, e in index.items()}))
    if len(head) != head_len:
        raise RuntimeError("import cache index changed size")
    tmp = f"{out}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(len(head).to_bytes(_HEAD, "little"))
        f.write(head)
        for blob in blobs:
            f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, out)
    return len(index)


if __name__ == "__main__":
    print(f"{build()} modules cached")
