"""How a supervisor forked ahead (`launch.prefork`) starts the container's init: cloned
early, before the plan comes (`clone_early`), and, when the plan leaves them to it, with
the init config and the cgroup made here (`complete`, `spawn_into_new_cgroup`), the cgroup
beside the init's own setup.
"""

import os


def clone_early(sc):
    """The container's init, cloned now, while the launcher still creates the container:
    the new namespaces (a network namespace above all) cost ~2 ms, off the start's path.
    Not on cgroup v2, where the init is cloned straight into its cgroup (CLONE_INTO_CGROUP),
    which exists only once the plan comes."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return None
    from dockyard.linux import init as I
    from dockyard.runtime import handoff

    try:
        return I.clone_early(I.DEFAULT_NAMESPACES, handoff.dumps, handoff.loads, sc)
    except Exception:
        return None  # the start clones it then


def detect():
    """The cgroup driver, for a plan that leaves the cgroup to the supervisor."""
    try:
        from dockyard.linux.cgroups import detect

        return detect()
    except Exception:
        return None  # detected again when needed


def cgroup_ahead(driver, early) -> str:
    """With an init cloned early (cgroup v1), its cgroup too, under a name of this process
    (`cgroupahead`), which the init joins at once (the joins cost ~0.5 ms, no longer on the
    start's path); "" otherwise."""
    if early is None or driver is None:
        return ""
    from dockyard.runtime import cgroupahead

    pending = cgroupahead.make(driver)
    if pending:
        early.join_ahead(driver.join_paths(pending))
    return pending


def drop_cgroup(driver, pending: str, early=None) -> None:
    """Remove the cgroup made ahead, unused; the early init, which joined it, goes first."""
    if pending:
        from dockyard.runtime import cgroupahead

        if early is not None:
            early.discard()
        cgroupahead.drop(driver, pending)


def complete(plan, driver):
    """`plan` (a supervisor `Plan` without `init`) with the init's config (its cgroup is
    made later) and the cgroup driver."""
    from dockyard.runtime import launch

    if driver is None:
        from dockyard.linux.cgroups import detect

        driver = detect()
    lay = launch.layout(os.path.dirname(plan.container_dir), plan.cid)
    init = launch.init_config(plan.spec, lay, plan.lowerdirs, plan.bpf, (), None)
    return plan.replace(init=init, driver=plan.driver or driver)


def takes_early(cfg, early, plan, make_cgroup: bool) -> bool:
    """Will the start use the init cloned early (`spawn_into_new_cgroup` or `spawn`)? Its
    pid is then known before the start."""
    if early is None or not early.fits(cfg):
        return False
    return not make_cgroup or plan.driver.version == 1


def spawn_into_new_cgroup(cfg, sc, early, plan, meanwhile=None, pending: str = ""):
    """Make the container's cgroup and start its init in it. With an init cloned early
    (cgroup v1): the cgroup made ahead (`pending`, consumed here) is only renamed, before
    the init gets its config; else it is made while the init assembles its root filesystem.
    The init joins it (writes "0" to each hierarchy's `tasks`) before pivot_root.
    `meanwhile()`, if given, runs while the init sets up (not called on the other paths)."""
    from dockyard.linux import init as I
    from dockyard.runtime import launch

    driver = plan.driver
    if takes_early(cfg, early, plan, True):
        cfg = cfg.replace(rlimits=tuple(plan.rlimits))
        if pending:
            from dockyard.runtime import cgroupahead

            try:
                join = cgroupahead.take(driver, pending, launch.cgroup_name(plan.cid),
                                        launch.resources(plan.spec))  # fmt: skip
            except BaseException:
                early.discard()
                raise
            # all at once: the init needs nothing more from here (this process, left to
            # run beside it, would only share its core)
            early.send(cfg.replace(cgroup_join=join))
        else:
            early.send(cfg, late_cgroup=True)
            try:
                join, _ = launch.prepare_cgroup(driver, plan.cid, plan.spec)
            except BaseException:
                early.kill()
                raise
            early.send_cgroup(join)
        if meanwhile is not None:
            meanwhile()
        return early.ready()
    if early is not None:
        early.discard()
    drop_cgroup(driver, pending)
    join, cg_fd = launch.prepare_cgroup(driver, plan.cid, plan.spec)
    try:
        return I.spawn(cfg.replace(cgroup_join=join, cgroup_fd=cg_fd), sc)
    finally:
        if cg_fd is not None:
            os.close(cg_fd)


def spawn(cfg, sc, early, rlimits):
    """The init: the one cloned early when it fits (it sets the rlimits itself: it was
    cloned before they were set here), else a fresh clone."""
    from dockyard.linux import init as I

    if early is not None:
        if early.fits(cfg):
            return early.start(cfg.replace(rlimits=tuple(rlimits)))
        early.discard()
    return I.spawn(cfg, sc)
