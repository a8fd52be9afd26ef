"""`run` / `container run`: create and start a container; in the foreground its exit status is
the command's (125 engine error, 126 cannot invoke, 127 not found), with -d print its id."""

from dockyard.cli.command import CliError, Command
from dockyard.cli.commands.runflags import RUN_FLAGS
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
    "Create and run a new container from an image",
    flags=(
        Flag("detach", "d", BOOL, help="Run container in background and print container ID"),
        Flag("detach-keys", help="Override the key sequence for detaching a container"),
        Flag("sig-proxy", kind=BOOL, default=True, help="Proxy received signals to the process"),
        *RUN_FLAGS,
    ),
    args=("min", 1),
    interspersed=False,
    aliases="dockyard container run, dockyard run",
    engine_status=125,
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    import os

    from dockyard.cli.commands import attach as A
    from dockyard.cli.commands.runflags import check_cidfile, options, write_cidfile
    from dockyard.cli.commands.runpull import create
    from dockyard.errors import DockyardError

    if opts.detach and opts.attach:
        raise CliError("Conflicting options: -a and -d", 125)
    # the supervisor first (`launch.prefork`): it starts up beside everything below
    box = [] if opts.cidfile else _prefork(cli, opts)
    try:
        ropts = options(opts, args, os.environ)
        check_cidfile(opts.cidfile)
        svc = cli.containers
        if not opts.cidfile:  # (the id file is written between create and start)
            return _run(cli, svc, opts, ropts, box)
    finally:
        if box:  # not taken: it reads end-of-file and leaves
            from dockyard.runtime import launch

            launch.cancel(box.pop())
    cid = create(cli, ropts, opts.pull, opts.quiet)
    if opts.cidfile:
        write_cidfile(opts.cidfile, cid)
    if not opts.detach:
        streams = A.streams(opts.interactive, opts.attach)
        return A.foreground(cli, svc, cid, streams, ropts.auto_remove, opts.sig_proxy,
                            tty=ropts.tty, detach_keys=_keys(opts))  # fmt: skip
    try:
        svc.start(cid)
    except DockyardError as e:
        return A.start_failed(cli, svc, cid, ropts.auto_remove, e)
    cli.out(cid + "\n")
    return 0


def _prefork(cli: Cli, opts: Values) -> list:
    """[a supervisor forked now], for the first `create_and_start` to take."""
    # First thing, before this process imports what it needs: the supervisor imports its
    # own share beside it, on the other core, and the fork copies a process that is small.
    from dockyard.cli.commands import attach as A
    from dockyard.runtime import launch

    pre = cli.take_prefork()  # forked before this module loaded (`cli.main`)
    if pre is not None:
        return [pre]
    attach = None if opts.detach else A.streams(opts.interactive, opts.attach)
    return [launch.prefork(attach, cli.config.metadata_path)]


def _run(cli: Cli, svc, opts: Values, ropts, box: list) -> int:
    """create + start in one service call, whose supervisor was forked ahead (`box`) and
    starts up while the options are read and the container is created."""
    from dockyard.cli.commands import attach as A
    from dockyard.cli.commands.batch import exit_now
    from dockyard.cli.commands.runpull import with_image
    from dockyard.errors import DockyardError

    if not opts.detach:
        streams = A.streams(opts.interactive, opts.attach)
        keys = _keys(opts)
        code = with_image(
            cli, ropts.image, opts.pull, opts.quiet,
            lambda: A.foreground(cli, svc, None, streams, ropts.auto_remove, opts.sig_proxy, ropts,
                                 tty=ropts.tty, detach_keys=keys, pre=_take(box)),
        )  # fmt: skip
        exit_now(cli, code)
        return code
    try:
        cid, _ = with_image(
            cli, ropts.image, opts.pull, opts.quiet,
            lambda: svc.create_and_start(ropts, pre=_take(box)),
        )  # fmt: skip
    except DockyardError as e:
        if getattr(e, "exit_code", None) is None:
            raise
        return A.start_failed(cli, svc, "", False, e)  # (--rm: the service removed it)
    cli.out(cid + "\n")
    exit_now(cli, 0)
    return 0


def _take(box: list):
    # a retry after a pull forks afresh: the first attempt consumed (or cancelled) it
    return box.pop() if box else None


def _keys(opts) -> bytes:
    if not opts.detach_keys:
        return b""
    from dockyard.runtime.attachio import parse_detach_keys

    return parse_detach_keys(opts.detach_keys)
