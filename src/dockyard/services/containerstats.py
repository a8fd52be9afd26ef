"""`docker stats` over the container service: which containers, and their readings.

Each reading takes the cgroup driver's counters (`CgroupDriver.stats`), the host's CPU time
(/proc/stat), the network counters of the container's own namespace (/proc/<init>/net/dev)
and turns two readings into a row with `runtime.stats.compute`. A container that is not
running reads as zeros, like the daemon's empty stats for it; one that vanished while being
watched reads as None (the CLI shows "--").
"""

import os
import time

from dockyard.runtime import stats as RS


def targets(svc, refs: list[str], all: bool = False) -> list[tuple[str, str]]:
    """(shown name, container id) for the named containers (every ref must resolve, else
    NotFound before anything is shown), or for the running ones (all with `all`)."""
    if refs:
        return [(ref, svc._get(ref).id) for ref in refs]
    return [(c["Id"][:12], c["Id"]) for c in svc.list(all=all)]


def _system() -> tuple[int, int]:
    with open("/proc/stat") as f:
        text = f.read()
    return RS.system_cpu_ns(text, os.sysconf("SC_CLK_TCK")), os.sysconf("SC_NPROCESSORS_ONLN")


def read_sample(svc, cid: str, system: tuple[int, int]):
    """(name, Sample or None when not running); NotFound if the container is gone."""
    from dockyard.runtime import state as ST
    from dockyard.runtime.containerspec import view
    from dockyard.runtime.launch import cgroup_name

    rec = svc._get(cid)
    if rec.state not in (ST.RUNNING, ST.PAUSED) or rec.pid <= 0:
        return rec.name, None
    st = svc.driver.stats(cgroup_name(cid))
    rx = tx = 0
    if view(rec.spec).network != "host":  # host networking: the daemon reports none
        try:
            with open(f"/proc/{rec.pid}/net/dev") as f:
                rx, tx = RS.net_io(f.read())
        except (FileNotFoundError, ProcessLookupError):
            pass  # exited meanwhile
    return rec.name, RS.Sample(
        cpu_ns=st.cpu_usage_ns,
        system_ns=system[0],
        online_cpus=system[1],
        memory_usage=st.memory_usage,
        memory_inactive_file=st.memory_inactive_file,
        memory_limit=st.memory_limit,
        net_rx=rx,
        net_tx=tx,
        block_read=st.io_read,
        block_write=st.io_write,
        pids=st.pids,
    )


class Watcher:
    """Rows for a set of containers, each computed against the previous reading."""

    def __init__(self, svc, refs: list[str], all: bool = False):
        from dockyard.linux.cgroups.base import host_memory

        self.svc = svc
        self.refs = list(refs)
        self.all = all
        self.host_memory = host_memory()
        self.prev: dict[str, RS.Sample] = {}
        self.shown = targets(svc, self.refs, all)

    def read(self) -> list[RS.Entry]:
        from dockyard.errors import NotFound

        if not self.refs:  # follow containers starting and stopping
            self.shown = targets(self.svc, [], self.all)
        system = _system()
        rows = []
        for shown, cid in self.shown:
            try:
                name, sample = read_sample(self.svc, cid, system)
            except NotFound:
                rows.append(RS.Entry(shown, cid, "", None))
                self.prev.pop(cid, None)
                continue
            if sample is None:
                self.prev.pop(cid, None)
                rows.append(RS.Entry(shown, cid, name, RS.Usage()))
                continue
            usage = RS.compute(self.prev.get(cid), sample, self.host_memory)
            self.prev[cid] = sample
            rows.append(RS.Entry(shown, cid, name, usage))
        return rows


def snapshot(svc, refs: list[str], all: bool = False, interval: float = 1.0) -> list[RS.Entry]:
    """One set of rows, CPU % measured over `interval` seconds (`stats --no-stream`)."""
    w = Watcher(svc, refs, all)
    w.read()
    time.sleep(interval)
    return w.read()


def stream(svc, refs: list[str], all: bool = False, interval: float = 1.0):
    """An iterator of rows every `interval` seconds, until the caller stops iterating.
    Named containers are resolved now: a missing one fails before anything is shown."""
    w = Watcher(svc, refs, all)
    w.read()

    def rows():
        while True:
            time.sleep(interval)
            yield w.read()

    return rows()
