"""COPY and ADD: source trees written into a fresh layer dir with Docker's dir semantics.

A directory source copies its contents; a file source lands in the destination directory
(a trailing "/", an existing directory, or several sources) or becomes the destination
path. Directories this layer creates that already exist below keep the lower attributes,
so the merged view does not change them. Every write is an exclusive create below the
layer dir with O_NOFOLLOW; nothing follows a symlink out of it. ADD unpacks local tar
archives (any compression) through the safe applier.
"""

import os
import stat

from dockyard.errors import InvalidArgument

CHUNK = 1 << 20


class Owner:
    __slots__ = ("gid", "uid")

    def __init__(self, uid: int, gid: int):
        self.uid = uid
        self.gid = gid


class Writer:
    """Writes entries into `layer` (a fresh dir) at container paths."""

    def __init__(self, layer: str, view, owner: Owner | None, chmod: int | None, mtime=None):
        self.layer = layer
        self.view = view  # MergedView of the parent, to keep existing dirs' attributes
        self.owner = owner
        self.chmod = chmod
        self.mtime = mtime
        self._made: set[str] = set()

    def host(self, parts: list[str]) -> str:
        return os.path.join(self.layer, *parts) if parts else self.layer

    def ensure_dir(self, parts: list[str], new_owner: bool = True) -> str:
        """Create the directories of `parts` in the layer (each one's attributes from below
        when it exists there); return its host path."""
        for i in range(1, len(parts) + 1):
            sub = parts[:i]
            host = self.host(sub)
            key = "/".join(sub)
            if key in self._made:
                continue
            try:
                st = os.lstat(host)
            except FileNotFoundError:
                st = None
            if st is not None and not stat.S_ISDIR(st.st_mode):
                os.unlink(host)
                st = None
            if st is None:
                os.mkdir(host, 0o755)
                below = self.view.lookup(sub)
                if below is not None and stat.S_ISDIR(below[1].st_mode):
                    b = below[1]
                    os.chown(host, b.st_uid, b.st_gid, follow_symlinks=False)
                    os.chmod(host, stat.S_IMODE(b.st_mode))
                    os.utime(host, ns=(b.st_atime_ns, b.st_mtime_ns), follow_symlinks=False)
                else:
                    os.chmod(host, 0o755)
                    if new_owner and self.owner is not None:
                        os.chown(host, self.owner.uid, self.owner.gid)
            self._made.add(key)
        return self.host(parts)

    def _clear(self, host: str) -> None:
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            # a dir replaced by a file or link is no longer known to be a real dir
            rel = os.path.relpath(host, self.layer)
            self._made = {m for m in self._made if m != rel and not m.startswith(rel + "/")}
            remove_tree(host)
        else:
            os.unlink(host)

    def _attrs(self, host: str, st: os.stat_result, keep_owner: bool, is_link=False) -> None:
        if self.owner is not None:
            uid, gid = self.owner.uid, self.owner.gid
        elif keep_owner:
            uid, gid = st.st_uid, st.st_gid
        else:
            uid, gid = 0, 0
        os.chown(host, uid, gid, follow_symlinks=False)
        if not is_link:
            mode = stat.S_IMODE(st.st_mode) if self.chmod is None else self.chmod
            os.chmod(host, mode)
        mt = st.st_mtime_ns if self.mtime is None else self.mtime * 10**9
        os.utime(host, ns=(mt, mt), follow_symlinks=False)

    def put(self, parts: list[str], src: str, st: os.stat_result, keep_owner: bool,
            prepared: str = "") -> None:  # fmt: skip
        """Write one source entry (file, dir, symlink) at `parts`. `prepared` is a private
        copy of a regular file `src` on the layer's filesystem, moved into place instead of
        copying `src` again (see BuildContext.checksum)."""
        self.ensure_dir(parts[:-1], new_owner=True)
        host = self.host(parts)
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            try:
                cur = os.lstat(host)
            except FileNotFoundError:
                cur = None
            if cur is None or not stat.S_ISDIR(cur.st_mode):
                self._clear(host)
                os.mkdir(host, 0o700)
            self._made.add("/".join(parts))
            self._attrs(host, st, keep_owner)
            return
        self._clear(host)
        if stat.S_ISLNK(mode):
            os.symlink(os.readlink(src), host)
            self._attrs(host, st, keep_owner, is_link=True)
        elif stat.S_ISREG(mode):
            if not prepared or not _move(prepared, host):
                copy_file(src, host)
            self._attrs(host, st, keep_owner)
        # sockets, fifos and devices are not copied (BuildKit skips them as well)

    def put_data(self, parts: list[str], data: bytes, mode: int) -> None:
        self.ensure_dir(parts[:-1])
        host = self.host(parts)
        self._clear(host)
        fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.chown(host, *((self.owner.uid, self.owner.gid) if self.owner else (0, 0)))
        os.chmod(host, self.chmod if self.chmod is not None else mode)
        if self.mtime is not None:
            os.utime(host, (self.mtime, self.mtime))


def remove_tree(path: str) -> None:
    """Remove `path` and everything below it, never following a symlink (`dockyard.rmtree`)."""
    from dockyard.rmtree import remove_tree as remove

    remove(path)


def _move(prepared: str, host: str) -> bool:
    """Rename a prepared copy to `host` (a path just cleared); False if it is gone (a
    forked stage builder took it) or on another filesystem: then the caller copies."""
    try:
        os.rename(prepared, host)
    except OSError:
        return False
    return True


def copy_file(src: str, dst: str) -> None:
    fin = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fout = os.open(
            dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        try:
            size = os.fstat(fin).st_size
            done = 0
            try:
                while done < size:
                    n = os.copy_file_range(fin, fout, min(size - done, 1 << 30))
                    if n == 0:
                        break
                    done += n
            except OSError:
                os.lseek(fin, done, os.SEEK_SET)
                os.lseek(fout, done, os.SEEK_SET)
                while data := os.read(fin, CHUNK):
                    os.write(fout, data)
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def dest_parts(view, dest: str, workdir: str) -> tuple[list[str], bool]:
    """(resolved components of the destination, names an existing directory or ends in /)."""
    path = dest if dest.startswith("/") else os.path.join(workdir or "/", dest)
    parts = view.resolve(path)
    found = view.lookup(parts)
    is_dir = (
        dest.endswith("/")
        or dest in (".", "")
        or (found is not None and stat.S_ISDIR(found[1].st_mode))
    )
    return parts, is_dir


def is_archive(path: str) -> bool:
    """A tar archive, plain or compressed (ADD unpacks those)."""
    from dockyard.archive.compression import detect

    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        head = os.pread(fd, 512, 0)
    finally:
        os.close(fd)
    if detect(head):
        return True
    return len(head) >= 262 and head[257:262] == b"ustar"


def unpack(path: str, target: str) -> None:
    """Apply the tar at `path` into `target` (nothing lands outside it)."""
    from dockyard.archive.apply import apply_layer
    from dockyard.archive.compression import open_reader

    with open(path, "rb", buffering=CHUNK) as f:
        apply_layer(open_reader(f), target, whiteouts="delete")


def parse_chmod(text: str, line: int) -> int | None:
    if not text:
        return None
    try:
        mode = int(text, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        raise InvalidArgument(f"Dockerfile:{line}: invalid chmod parameter: {text}")
    return mode


def parse_chown(text: str, view, line: int) -> Owner | None:
    """`user[:group]` by number or by name in the image's /etc/passwd and /etc/group."""
    if not text:
        return None
    from dockyard.build.users import resolve_owner

    return Owner(*resolve_owner(view, text, line))


def copy_context(ctx, w, inst, src: str, parts: list[str], is_dir: bool) -> None:
    """Write the context's `src` (a glob) into the layer writer `w` at `parts`; ADD unpacks
    a local archive."""
    from dockyard import dockerfile as D

    rels = ctx.resolve(src, inst.line)
    into_dir = is_dir or len(rels) > 1
    for rel in rels:
        entries = ctx.walk(rel)
        top = entries[0]
        if top.kind == "dir":
            w.ensure_dir(parts)
            cut = len(rel) + 1 if rel else 0
            for e in entries[1:]:
                w.put([*parts, *e.rel[cut:].split("/")], e.host, e.st, False,
                      ctx.take(e))  # fmt: skip
            continue
        if isinstance(inst, D.Add) and top.kind == "file" and is_archive(top.host):
            unpack(top.host, w.ensure_dir(parts))
            continue
        name = rel.rsplit("/", 1)[-1]
        w.put([*parts, name] if into_dir else parts, top.host, top.st, False,
              ctx.take(top))  # fmt: skip


def copy_view(w, inst, view, src: str, parts: list[str], is_dir: bool) -> None:
    """Write `src` of another stage's or image's `view` (COPY --from) into `w` at `parts`."""
    path = view.resolve(src)
    found = view.lookup(path)
    if found is None:
        raise InvalidArgument(
            f'Dockerfile:{inst.line}: failed to compute cache key: "/{src.lstrip("/")}": not found'
        )
    host, st = found
    if stat.S_ISDIR(st.st_mode):
        w.ensure_dir(parts)
        put_view_tree(w, view, path, parts)
        return
    name = path[-1] if path else ""
    w.put([*parts, name] if is_dir else parts, host, st, True)


def put_view_tree(w, view, path: list[str], parts: list[str]) -> None:
    """Everything below the directory `path` of `view` into `w`, under `parts`."""
    stack = [(path, [])]
    while stack:
        d, rel = stack.pop()
        for name in view.listdir(d):
            hit = view.lookup([*d, name])
            if hit is None:
                continue
            w.put([*parts, *rel, name], hit[0], hit[1], True)
            if stat.S_ISDIR(hit[1].st_mode):
                stack.append(([*d, name], [*rel, name]))
