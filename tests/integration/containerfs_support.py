"""Shared by the cp / diff / export / commit tests: a data root with busybox imported, and
the check that no container, mount or cgroup is left behind."""

import io
import tarfile
import time

from cgroup_cli_support import dockyard_cgroups


def with_busybox(dy, busybox_tar):
    """Generator for a fixture: `dy` with busybox:latest; cleans up and checks for leaks."""
    dy("import", "-c", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    yield dy
    ids = dy.out("ps", "-aq", "--no-trunc").split()
    if ids:
        dy("rm", "-f", *ids, check=False)
    assert dy.out("ps", "-aq") == ""
    ours = set(ids)  # other tests on this host may have containers of their own
    deadline = time.time() + 10
    while dockyard_cgroups() & ours and time.time() < deadline:
        time.sleep(0.05)
    with open("/proc/self/mountinfo") as f:
        assert [ln for ln in f if str(dy.root) in ln] == [], "mounts leaked onto the host"
    assert dockyard_cgroups() & ours == set(), "cgroups leaked"


def error_line(p, status: int = 1) -> str:
    """The single stderr line of a failed command (no traceback)."""
    err = p.stderr.decode()
    assert p.returncode == status, (p.returncode, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


def tar_names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return t.getnames()


def tar_members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return {m.name: m for m in t.getmembers()}


def make_tar(entries) -> bytes:
    """A tar from (name, kind, payload) entries: kind "file" (bytes), "dir", "symlink"
    (target), with optional uid as a 4th item."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for item in entries:
            name, kind, payload = item[:3]
            info = tarfile.TarInfo(name)
            if len(item) > 3:
                info.uid = info.gid = item[3]
            if kind == "file":
                info.size = len(payload)
                info.mode = 0o644
                t.addfile(info, io.BytesIO(payload))
                continue
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, payload
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, payload
            t.addfile(info)
    return buf.getvalue()
