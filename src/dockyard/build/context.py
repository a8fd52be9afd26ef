"""The build context: a folder, filtered by .dockerignore, read without leaving it.

Sources named by COPY/ADD are resolved inside the context root (symlinks followed but
clamped to the root, `..` refused); below a source directory nothing is followed: a symlink
is copied as a symlink. File contents are hashed once per (path, size, mtime_ns, inode)
— the checksum cache lives in sqlite so a cached build reads no file data.

A large file a COPY must hash is most likely about to be copied as well (it changed, so
the step will not come from the cache): each block read for the hash is also written to a
copy in the build's stash, and the COPY moves that copy into its layer (`take`) instead
of reading the file a second time. A stashed copy nobody took is removed with the stash.
With work to do `meanwhile` (getting a RUN step ready), that pass runs on a thread.
"""

import os
import stat

from dockyard.errors import InvalidArgument, NotFound

CHUNK = 1 << 20
# a stashed copy moves through a few small buffers: written on one thread while the next
# is hashed on another (fresh memory costs page faults here, so not a larger ring)
PIPE_CHUNK = 256 << 10
PIPE_BUFFERS = 4
STASH_MIN = 1 << 20  # smaller files are copied when the COPY runs: little to save there
# nor larger ones: a file touched but unchanged (the COPY is cached) would cost a big copy
STASH_MAX = 64 << 20


class Entry:
    """One context path under a source: its kind and what identifies its content."""

    __slots__ = ("host", "kind", "rel", "st")

    def __init__(self, rel: str, host: str, st: os.stat_result, kind: str):
        self.rel = rel  # relative to the context root, "/"-separated
        self.host = host
        self.st = st
        self.kind = kind  # "file" | "dir" | "link" | "other"


class BuildContext:
    def __init__(self, root: str, ignore_patterns: list[str], db=None, stash_root: str = ""):
        from dockyard.dockerfile import PatternMatcher

        self.root = os.path.realpath(root)
        self.matcher = PatternMatcher(ignore_patterns) if ignore_patterns else None
        self._db = db
        self._known: dict[str, tuple[int, int, int, str]] | None = None
        self._new: list[tuple[str, int, int, int, str]] = []
        # stashed copies (see the module doc): made below `stash_root` (on the layers'
        # filesystem) in a dir of this process only; "" stashes nothing
        self._stash_root = stash_root
        self._stash_dir = ""
        self._stash_pid = os.getpid()
        self._stashed: dict[str, tuple[tuple[int, int, int], str]] = {}
        # work for this thread while the next stashed copy is made on another (then None)
        self.meanwhile = None
        # every host path the build looked at -> its identity (None: absent), so that a
        # later build of the same Dockerfile can tell nothing changed without parsing it
        self.deps: dict[str, list[int] | None] = {}
        self.dep(os.path.join(self.root, ".dockerignore"))

    def dep(self, path: str, st: os.stat_result | None = None) -> None:
        if st is None:
            try:
                st = os.lstat(path)
            except OSError:
                self.deps[path] = None
                return
        self.deps[path] = identity(st)

    # -- resolving sources ----------------------------------------------------------------

    def _ignored(self, rel: str) -> bool:
        return self.matcher is not None and self.matcher.matches(rel)

    def resolve(self, source: str, line: int) -> list[str]:
        """Context-relative paths a COPY source names (globs expanded), or NotFound."""
        clean = os.path.normpath("/" + source.replace("\\", "/")).lstrip("/")
        raw = os.path.normpath(source)
        if raw == ".." or raw.startswith("../"):
            raise InvalidArgument(
                f"Dockerfile:{line}: forbidden path outside the build context: {source}"
            )
        if clean in ("", "."):
            return [""]
        if any(c in clean for c in "*?["):
            found = self._glob(clean.split("/"))
            if not found:
                raise NotFound(f'Dockerfile:{line}: no source files were specified for "{source}"')
            return found
        parts = clean.split("/")
        for i in range(len(parts)):  # each dir on the way: a replaced link changes its mtime
            self.dep(os.path.join(self.root, *parts[:i]))
        self.dep(self.host(clean))
        if self._ignored(clean) or not os.path.lexists(self.host(clean)):
            raise NotFound(f'Dockerfile:{line}: failed to compute cache key: "/{clean}": not found')
        return [clean]

    def _glob(self, parts: list[str]) -> list[str]:
        from fnmatch import fnmatchcase

        current = [""]
        for i, part in enumerate(parts):
            nxt = []
            for base in current:
                d = self.host(base) if base else self.root
                self.dep(d)
                try:
                    names = sorted(os.listdir(d))
                except (NotADirectoryError, FileNotFoundError):
                    continue
                for name in names:
                    if fnmatchcase(name, part):
                        rel = f"{base}/{name}" if base else name
                        if not self._ignored(rel):
                            nxt.append(rel)
            current = nxt
            if i < len(parts) - 1:
                current = [c for c in current if os.path.isdir(self.host(c))]
        return current

    def host(self, rel: str) -> str:
        """The host path of `rel`, symlinks resolved but never leaving the root."""
        from dockyard.archive.safepath import resolve_in_root

        return resolve_in_root(self.root, "/" + rel) if rel else self.root

    def walk(self, rel: str) -> list[Entry]:
        """`rel` and (for a directory) everything below it that .dockerignore keeps,
        in sorted order; the top is followed (inside the root), nothing below it is."""
        top = self.host(rel)
        st = os.stat(top) if os.path.exists(top) else os.lstat(top)
        out = [Entry(rel, top, st, _kind(st.st_mode))]
        self.dep(top)
        if out[0].kind != "dir":
            return out
        stack = [(rel, top)]
        while stack:
            r, h = stack.pop()
            with os.scandir(h) as it:
                items = sorted(it, key=lambda d: d.name)
            for d in items:
                child = f"{r}/{d.name}" if r else d.name
                if self._ignored(child):
                    if d.is_dir(follow_symlinks=False) and not self.matcher.can_skip_dir(child):
                        stack.append((child, d.path))  # a later !exception may keep a child
                    continue
                cst = d.stat(follow_symlinks=False)
                self.dep(d.path, cst)
                e = Entry(child, d.path, cst, _kind(cst.st_mode))
                out.append(e)
                if e.kind == "dir":
                    stack.append((child, d.path))
        out.sort(key=lambda e: e.rel)
        return out

    # -- checksums ------------------------------------------------------------------------

    def checksum(self, e: Entry, stash: bool = False) -> str:
        """The sha256 of a regular file's content, from the cache when its identity holds.
        With `stash`, a large file that has to be hashed is also copied into the stash."""
        if self._known is None:
            self._known = self._db.checksums(self.root + "/") if self._db is not None else {}
        st = e.st
        ident = (st.st_size, st.st_mtime_ns, st.st_ino)
        hit = self._known.get(e.host)
        if hit is not None and hit[:3] == ident:
            return hit[3]
        if stash and self._stash_root and STASH_MIN <= st.st_size <= STASH_MAX:
            digest = self._hash_and_stash(e.host, ident)
        else:
            digest = _hash_file(e.host)
        self._known[e.host] = (*ident, digest)
        self._new.append((e.host, *ident, digest))
        return digest

    def fingerprint(self, entries: list[Entry], stash: bool = False) -> dict[str, str]:
        """rel -> what a copy of it depends on (content, mode, owner-independent); `stash`
        as for `checksum` (the caller copies these files)."""
        out = {}
        for e in entries:
            mode = stat.S_IMODE(e.st.st_mode)
            if e.kind == "file":
                out[e.rel] = f"f{mode:o}:{self.checksum(e, stash)}"
            elif e.kind == "link":
                out[e.rel] = f"l:{os.readlink(e.host)}"
            elif e.kind == "dir":
                out[e.rel] = f"d{mode:o}"
        return out

    def save(self) -> None:
        if self._db is not None and self._new:
            self._db.put_checksums(self._new)
            self._new = []

    # -- stashed copies -------------------------------------------------------------------

    def _hash_and_stash(self, host: str, ident: tuple[int, int, int]) -> str:
        """Hash `host` and copy it into the stash in one pass over its bytes. With work to
        do `meanwhile`, the pass runs on a thread while that work runs here (joined before
        this returns: no thread outlives it, so later forks and clones are safe)."""
        if os.getpid() != self._stash_pid:  # a forked stage builder: its parent owns it
            return _hash_file(host)
        if not self._stash_dir:
            self._stash_dir = os.path.join(self._stash_root, "build-stash-" + os.urandom(8).hex())
            os.makedirs(self._stash_dir, 0o700)
        dst = os.path.join(self._stash_dir, str(len(self._stashed)))
        work, self.meanwhile = self.meanwhile, None
        if work is None:
            digest, kept = _hash_copy(host, dst, ident)
        else:
            digest, kept = _on_thread_while(lambda: _hash_copy(host, dst, ident), work)
        if kept:
            self._stashed[host] = (ident, dst)
        return digest

    def take(self, e: Entry) -> str:
        """The stashed copy of file `e` if its identity still holds ("" if none); the
        caller moves it away (see copy.Writer.put)."""
        if not self._stashed or os.getpid() != self._stash_pid:
            return ""  # nothing stashed, or a forked stage builder: the stash is its parent's
        got = self._stashed.pop(e.host, None)
        if got is None:
            return ""
        st = e.st
        if got[0] != (st.st_size, st.st_mtime_ns, st.st_ino):
            _unlink(got[1])
            return ""
        return got[1]

    def drop_stash(self) -> None:
        """Remove the stash and the copies in it nobody took."""
        if self._stash_dir and os.getpid() == self._stash_pid:
            from dockyard.build.copy import remove_tree

            remove_tree(self._stash_dir)
        self._stash_dir = ""
        self._stashed = {}


def identity(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_mode]


def unchanged(deps: dict) -> bool:
    """Does every recorded path still have the identity it had?"""
    for path, ident in deps.items():
        try:
            now = identity(os.lstat(path))
        except OSError:
            now = None
        if now != ident:
            return False
    return True


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


def _hash_copy(src: str, dst: str, ident: tuple[int, int, int]) -> tuple[str, bool]:
    """(sha256 of `src`, whether the new file `dst` holds those very bytes): one read of
    each block, hashed and written. `dst` is kept only if `src` had identity `ident`
    (size, mtime_ns, inode) before and after the pass."""
    import hashlib

    h = hashlib.sha256()
    fin = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        same = _ident(os.fstat(fin)) == ident
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                       0o600)  # fmt: skip
        try:
            _hash_and_write(fin, fout, h)
            same = same and _ident(os.fstat(fin)) == ident
        finally:
            os.close(fout)
            if not same:
                _unlink(dst)
    except BaseException:
        _unlink(dst)
        raise
    finally:
        os.close(fin)
    return "sha256:" + h.hexdigest(), same


def _hash_and_write(fin: int, fout: int, h) -> None:
    """Read `fin` to its end, hashing each block here while a thread writes the block before
    it to `fout`: the hash and the page-cache copy (each ~3–5 ms for 10 MB here) overlap.
    The thread is joined before this returns, on errors too."""
    import _queue
    import _thread

    free, full = _queue.SimpleQueue(), _queue.SimpleQueue()
    for _ in range(PIPE_BUFFERS):
        free.put(bytearray(PIPE_CHUNK))
    failed: list = []
    done = _thread.allocate_lock()
    done.acquire()

    def write_blocks() -> None:
        try:
            while (item := full.get()) is not None:
                buf, n = item
                if not failed:
                    try:
                        view = memoryview(buf)[:n]
                        while view:
                            view = view[os.write(fout, view) :]
                    except BaseException as e:  # raised on the reading thread
                        failed.append(e)
                free.put(buf)
        finally:
            done.release()

    _thread.start_new_thread(write_blocks, ())
    try:
        while not failed:
            buf = free.get()
            n = os.readv(fin, [buf])
            if not n:
                break
            h.update(memoryview(buf)[:n])
            full.put((buf, n))
    finally:
        full.put(None)
        done.acquire()
    if failed:
        raise failed[0]


def _on_thread_while(fn, work):
    """`fn()` on a thread while `work()` runs on this one; fn's result (or its error).
    An error of `work` is dropped: it only prepares what a later step does again."""
    import _thread
    import sys

    result: list = []
    done = _thread.allocate_lock()
    done.acquire()

    def run() -> None:
        try:
            result.append((True, fn()))
        except BaseException as e:  # raised below, on the caller's thread
            result.append((False, e))
        finally:
            done.release()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)  # the thread needs the GIL between its 1 MiB blocks
    try:
        _thread.start_new_thread(run, ())
        try:
            work()
        except Exception:
            pass
        finally:
            done.acquire()
    finally:
        sys.setswitchinterval(interval)
    ok, value = result[0]
    if not ok:
        raise value
    return value


def _ident(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _hash_file(path: str) -> str:
    import hashlib

    h = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := os.readv(fd, [buf]):
            h.update(view[:n])
    finally:
        os.close(fd)
    return "sha256:" + h.hexdigest()


def read_dockerignore(root: str) -> list[str]:
    from dockyard.dockerfile import read_dockerignore as parse

    try:
        fd = os.open(os.path.join(root, ".dockerignore"), os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, OSError):
        return []
    try:
        data = os.read(fd, 1 << 20)
    finally:
        os.close(fd)
    return parse(data)
