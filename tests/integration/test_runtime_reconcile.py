"""`ps` racing the finisher on the real kernel: a container whose exit is already written
must never be listed as running (the finisher records the exit at the same moment as the
`ps` call's own reconciliation)."""

import os
import time

import pytest

from dockyard.runtime.exitfile import exit_path
from dockyard.runtime.launch import layout
from dockyard.services.containers import ContainerService, RunOptions


@pytest.fixture
def svc(tmp_path, busybox_root):
    cfg = busybox_root(tmp_path)
    s = ContainerService(cfg)
    yield s
    for c in s.list(all=True):
        s.remove(c["Id"], force=True)
    s.close()


def test_ps_never_shows_an_exited_container_as_up(svc):
    ids = []
    for i in range(16):
        opts = RunOptions(image="busybox", cmd=("sh", "-c", f"usleep {20000 + i * 15000}"))
        ids.append(svc.run(opts)[0])
    dirs = {cid: layout(svc.config.containers_dir, cid).dir for cid in ids}
    deadline = time.monotonic() + 20
    seen_exits = 0
    while time.monotonic() < deadline:
        exited = {cid for cid, d in dirs.items() if os.path.exists(exit_path(d))}
        rows = {c["Id"]: c for c in svc.list(all=True)}
        up = sorted(cid for cid in exited if rows[cid]["State"] == "running")
        assert up == [], f"listed as running after their exit was written: {up}"
        assert all(rows[cid]["Status"].startswith("Exited (0)") for cid in exited)
        seen_exits = len(exited)
        if seen_exits == len(ids) and all(r["State"] == "exited" for r in rows.values()):
            break
    assert seen_exits == len(ids)
    assert all(svc.wait(cid) == 0 for cid in ids)
