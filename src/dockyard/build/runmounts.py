"""RUN --mount: the host side of cache, bind, tmpfs and secret mounts for one step.

Each typed mount becomes a `linux.mounts.Mount` for the step's container:
- cache: a directory under the data root that outlives builds, named by the sha256 of
  its id (a hostile id such as `../../x` only names another hash); `sharing=locked` holds
  an exclusive flock for the step, `private` takes a fresh throw-away dir when the shared
  one is in use, `shared` takes a shared lock so a locked user waits for it;
- bind: the source (the context, another stage or an image) copied into a private dir
  through the COPY machinery, so `.dockerignore`, `..` and symlinks get the same rules as
  COPY; read-only unless `rw` (whose writes are then thrown away, as in BuildKit);
- tmpfs: a fresh tmpfs (with `size=` when given);
- secret: the value written to a private dir on the host's /dev/shm (a tmpfs: it never
  touches the disk) as a 0400 file and bound read-only at /run/secrets/ID, or exposed as
  an environment variable with `env=`. It is never part of a layer, the history or a
  cache key.

Mount points the step had to create are removed from its upper dir afterwards, so a
mount leaves no stub in the layer.
"""

import os
import stat

from dockyard.errors import InvalidArgument, NotFound

CACHE_DIR = "build-cache-mounts"


class Prepared:
    """What a step's mounts need while it runs, and what to undo after."""

    def __init__(self):
        self.mounts: list = []  # linux.mounts.Mount
        self.env: list[str] = []
        # (target components, how many of them existed + 1): what the step must remove
        self.stubs: list[tuple[list[str], int]] = []
        self._fds: list[int] = []
        self._dirs: list[str] = []

    def release(self) -> None:
        from dockyard.build.copy import remove_tree

        for fd in self._fds:
            os.close(fd)  # drops the flock
        self._fds = []
        for d in self._dirs:
            remove_tree(d)
        self._dirs = []


def cache_root(data_root: str) -> str:
    return os.path.join(data_root, CACHE_DIR)


def cache_dir_for(data_root: str, cache_id: str) -> str:
    """The host dir of cache mount `cache_id`: a hash, so no id can name another path."""
    import hashlib

    return os.path.join(cache_root(data_root), hashlib.sha256(cache_id.encode()).hexdigest())


def _target(m, cwd: str, line: int) -> str:
    target = m.target
    if not target:
        raise InvalidArgument(f"Dockerfile:{line}: mount of type {m.type} needs a target")
    if not target.startswith("/"):
        target = os.path.join(cwd or "/", target)
    return os.path.normpath(target)


def prepare(builder, state, step, work_root: str, view, cwd: str) -> Prepared:
    """Host dirs, locks and mount specs for the mounts of RUN `step`."""
    from dockyard.linux.mounts import Mount

    inst = step.instruction
    out = Prepared()
    try:
        for n, m in enumerate(step.mounts):
            if m.type == "ssh":
                raise InvalidArgument(
                    f"Dockerfile:{inst.line}: RUN --mount=type=ssh is not supported"
                )
            if m.type == "secret":
                target = _secret(builder, m, out, inst.line)
                if target:
                    _note_stub(out, view, target)
                continue
            target = _target(m, cwd, inst.line)
            ro = ("ro",) if m.readonly else ()
            if m.type == "tmpfs":
                opts = ("nosuid", "nodev") + ((f"size={m.size}",) if m.size else ())
                out.mounts.append(Mount(target, "tmpfs", "tmpfs", opts))
            elif m.type == "cache":
                src = _cache(builder, m, out, target, work_root, n, inst.line)
                out.mounts.append(Mount(target, "bind", src, ("rbind", *ro)))
            else:
                src = _bind(builder, m, out, work_root, n, inst)
                out.mounts.append(Mount(target, "bind", src, ("rbind", *ro)))
            _note_stub(out, view, target)
    except BaseException:
        out.release()
        raise
    return out


def _note_stub(out: Prepared, view, target: str) -> None:
    parts = view.resolve(target)
    for i in range(1, len(parts) + 1):
        if view.lookup(parts[:i]) is None:
            out.stubs.append((parts, i))
            return


def remove_stubs(out: Prepared, upper: str) -> None:
    """Remove the mount points a step created: from each target up to the first path
    that was missing, while each is an empty dir (or the empty target file)."""
    for parts, depth in out.stubs:
        for i in range(len(parts), depth - 1, -1):
            host = os.path.join(upper, *parts[:i])
            try:
                st = os.lstat(host)
                if stat.S_ISDIR(st.st_mode):
                    os.rmdir(host)
                elif i == len(parts) and stat.S_ISREG(st.st_mode) and st.st_size == 0:
                    os.unlink(host)
                else:
                    break
            except OSError:
                break


# -- cache --------------------------------------------------------------------------------


def _cache(builder, m, out: Prepared, target: str, work_root: str, n: int, line: int) -> str:
    import fcntl

    if m.from_:
        from dockyard.errors import Unsupported

        raise Unsupported(f"Dockerfile:{line}: RUN --mount=type=cache with from= is not supported")
    cache_id = m.id or target
    base = cache_dir_for(builder.opts.data_root, cache_id)
    data = os.path.join(base, "data")
    if not os.path.isdir(data):
        os.makedirs(base, 0o700, exist_ok=True)
        tmp = os.path.join(base, "data.tmp-" + os.urandom(6).hex())
        os.mkdir(tmp)
        os.chown(tmp, m.uid or 0, m.gid or 0)
        os.chmod(tmp, 0o755 if m.mode is None else m.mode)
        try:
            os.rename(tmp, data)
        except OSError:  # another build made it first
            os.rmdir(tmp)
    fd = os.open(os.path.join(base, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    sharing = m.sharing or "shared"
    if sharing == "locked":
        fcntl.flock(fd, fcntl.LOCK_EX)
    elif sharing == "private":
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            fresh = os.path.join(work_root, f"cache-{n}")
            os.mkdir(fresh)
            os.chown(fresh, m.uid or 0, m.gid or 0)
            os.chmod(fresh, 0o755 if m.mode is None else m.mode)
            return fresh
    else:
        fcntl.flock(fd, fcntl.LOCK_SH)
    out._fds.append(fd)
    return data


# -- bind ---------------------------------------------------------------------------------


def _bind(builder, m, out: Prepared, work_root: str, n: int, inst) -> str:
    """A private copy of the bind source (a dir, or a dir holding the file)."""
    from dockyard.build import copy as C
    from dockyard.build.merged import MergedView

    dest = os.path.join(work_root, f"bind-{n}")
    os.mkdir(dest, 0o755)
    out._dirs.append(dest)
    w = C.Writer(dest, MergedView([]), None, None)
    if not m.from_:
        rels = builder.ctx.resolve(m.source or ".", inst.line)
        rel = rels[0]
        entries = builder.ctx.walk(rel)
        top = entries[0]
        if top.kind != "dir":
            w.put(["file"], top.host, top.st, False)
            return os.path.join(dest, "file")
        cut = len(rel) + 1 if rel else 0
        for e in entries[1:]:
            w.put(e.rel[cut:].split("/"), e.host, e.st, False)
        return dest
    view = builder.mount_view(m.from_, inst.line)
    path = view.resolve(m.source or "/")
    found = view.lookup(path)
    if found is None:
        raise NotFound(f'Dockerfile:{inst.line}: mount source "/{m.source.lstrip("/")}": not found')
    host, st = found
    if not stat.S_ISDIR(st.st_mode):
        w.put(["file"], host, st, True)
        return os.path.join(dest, "file")
    C.put_view_tree(w, view, path, [])
    return dest


def bind_inputs(builder, mounts, line: int) -> dict[str, str]:
    """What the step's bind mounts add to its cache key: file contents or a stage's key."""
    out: dict[str, str] = {}
    for m in mounts:
        if m.type != "bind":
            continue
        tag = f"mount:{m.target}:"
        if m.from_:
            out[tag] = builder.mount_key(m.from_, line) + ":" + m.source
            continue
        for rel in builder.ctx.resolve(m.source or ".", line):
            for k, v in builder.ctx.fingerprint(builder.ctx.walk(rel)).items():
                out[tag + k] = v
    return out


# -- secrets ------------------------------------------------------------------------------


def _secret(builder, m, out: Prepared, line: int) -> str:
    """Mount or expose one secret; return its target path ("" when not mounted)."""
    from dockyard.linux.mounts import Mount

    secret_id = m.id or (os.path.basename(m.target) if m.target else "")
    secrets = builder.opts.secrets or {}
    value = secrets.get(secret_id)
    if value is None:
        if m.required:
            raise NotFound(f"Dockerfile:{line}: secret {secret_id} not found")
        return ""
    if m.env:
        out.env.append(f"{m.env}={value.decode(errors='replace')}")
        if not m.target:
            return ""
    target = m.target
    if not target:
        if "/" in secret_id or secret_id in ("", ".", ".."):
            raise InvalidArgument(
                f"Dockerfile:{line}: secret id {secret_id!r} cannot name a file under "
                "/run/secrets; give the mount a target"
            )
        target = "/run/secrets/" + secret_id
    base = "/dev/shm" if os.path.isdir("/dev/shm") else builder.opts.tmp_dir
    d = os.path.join(base, "dockyard-secret-" + os.urandom(8).hex())
    os.mkdir(d, 0o700)
    out._dirs.append(d)
    path = os.path.join(d, "secret")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o400)
    try:
        os.write(fd, value)
        os.fchown(fd, m.uid or 0, m.gid or 0)
        os.fchmod(fd, 0o400 if m.mode is None else m.mode)
    finally:
        os.close(fd)
    target = os.path.normpath(target)
    out.mounts.append(Mount(target, "bind", path, ("bind", "ro", "nosuid", "nodev", "noexec")))
    return target
