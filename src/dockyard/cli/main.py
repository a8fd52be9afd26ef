"""The `dockyard` entry point: global flags, command dispatch, and the one place errors become
one line on stderr and an exit status.

Kept to the standard library basics: `dockyard --version` imports no command module, and a
command imports only its own module and what it uses.
"""

import os
import sys

from dockyard.cli.command import PROG, CliError
from dockyard.cli.flags import BOOL, Flag, FlagError, HelpRequested, parse

LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")

ROOT_FLAGS = (
    Flag(
        "root",
        help='Root directory of persistent state (default "/var/lib/dockyard", or $DOCKYARD_ROOT)',
    ),
    Flag(
        "state-dir", help='Directory of runtime state (default "/run/dockyard", or $DOCKYARD_STATE)'
    ),
    Flag(
        "log-level",
        "l",
        default="info",
        help='Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")',
    ),
    Flag("debug", "D", BOOL, help="Enable debug mode"),
    Flag("version", "v", BOOL, help="Print version information and quit"),
)


def version_string() -> str:
    from dockyard import __version__

    return f"{PROG} version {__version__}, build {_git_commit() or 'dev'}"


def _git_commit() -> str:
    """The checkout's short commit, read from .git without running git (it must stay cheap)."""
    here = os.path.dirname(os.path.abspath(__file__))
    gitdir = os.path.join(here, "..", "..", "..", ".git")
    try:
        with open(os.path.join(gitdir, "HEAD")) as f:
            head = f.read().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            try:
                with open(os.path.join(gitdir, ref)) as f:
                    head = f.read().strip()
            except FileNotFoundError:
                head = ""
                with open(os.path.join(gitdir, "packed-refs")) as f:
                    for line in f:
                        if line.rstrip("\n").endswith(" " + ref):
                            head = line.split(" ", 1)[0]
                            break
    except OSError:
        return ""
    return head[:7] if len(head) >= 7 and all(c in "0123456789abcdef" for c in head) else ""


class _State:
    debug = False
    own_process = False  # this process is the `dockyard` program (main called with argv None)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    own = argv is None
    if own:
        argv = sys.argv[1:]
        # Loading a command makes no garbage cycles worth a collection: the collector would
        # only walk the modules being imported again and again (~2 ms of CPU per command).
        # Off while the command loads, in the `dockyard` process only (argv None, not a
        # program that calls main()); `_dispatch` turns it on again, for what is new.
        import gc

        gc.disable()
    state = _State()
    state.own_process = own
    try:
        status = _dispatch(argv, state)
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except CliError as e:
        return _report(str(e), e.status)
    except Exception as e:  # the edge: every error becomes one line here
        return _translate(e, state)


def _report(message: str, status: int) -> int:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    sys.stderr.write(message.rstrip("\n") + "\n")
    return status


def _translate(e: Exception, state: _State) -> int:
    from dockyard.errors import DockyardError

    if isinstance(e, DockyardError):
        return _report(f"Error: {e}", getattr(state, "engine_status", 1))
    if isinstance(e, OSError) and e.filename is not None and e.strerror:
        return _report(f"Error: {e.strerror.lower()}: {e.filename}", 1)
    if state.debug:
        import traceback

        traceback.print_exc()
        return 1
    return _report(
        f"Error: internal error: {type(e).__name__}: {e} (run with --debug for details)", 1
    )


def _silence_stdout() -> None:
    # The reader went away (`| head`): later flushes must not complain.
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _dispatch(argv: list[str], state: _State) -> int:
    try:
        gopts, rest = parse(ROOT_FLAGS, argv, interspersed=False)
    except FlagError as e:
        raise CliError(f"{e}\nSee '{PROG} --help'.", 125) from None
    except HelpRequested:
        return _print_root_help()
    state.debug = gopts.debug
    if gopts.version:
        sys.stdout.write(version_string() + "\n")
        return 0
    if gopts.log_level not in LOG_LEVELS:
        raise CliError(f"Unable to parse logging level: {gopts.log_level}", 1)
    if not rest:
        return _print_root_help()
    if rest[0] == "help":
        return _help_topic(rest[1:])

    from dockyard.cli.table import COMMANDS, resolve

    found = resolve(rest)
    if found is None:
        raise CliError(f"{PROG}: '{rest[0]}' is not a {PROG} command.\nSee '{PROG} --help'", 1)
    path, used = found
    module_name, short, _ = COMMANDS[path]
    args = rest[used:]
    early = _early_supervisor(path, args, gopts) if state.own_process else None
    if module_name is None:
        return _group(path, short, args)

    module = _load(module_name)
    cmd = module.COMMAND
    name = " ".join((PROG, *path))
    try:
        opts, args = parse(cmd.flags, args, interspersed=cmd.interspersed)
    except FlagError as e:
        raise CliError(f"{e}\nSee '{name} --help'.", 125) from None
    except HelpRequested:
        from dockyard.cli.help import command_help

        sys.stdout.write(command_help(cmd, path))
        return 0

    from dockyard.cli.command import check_args

    problem = check_args(cmd, path, args)
    if problem:
        raise CliError(problem, 1)

    from dockyard.cli.context import Cli
    from dockyard.config import Config

    config = Config.from_env(
        root=gopts.root or None,
        state_dir=gopts.state_dir or None,
        log_level="debug" if gopts.debug else gopts.log_level,
        debug=gopts.debug,
    )
    state.engine_status = cmd.engine_status
    _buffer_stdout()
    cli = Cli(config)
    cli.prefork = early
    import gc

    if not gc.isenabled():  # (off while the command loaded: see `main`)
        gc.freeze()  # what is loaded so far is never collected: walking it is all a
        gc.enable()  # collection would do; servers and followers collect their own
    try:
        status = module.run(cli, opts, args)
    finally:
        cli.close()
    return status or 0


def _early_supervisor(path: tuple[str, ...], args: list[str], gopts):
    """For `run`: its supervisor, forked now (`launch.prefork`), before the command module
    and its flags load — the fork copies a smaller process, and the supervisor's start-up
    runs beside all of that. It keeps the client's 0-2 until its plan says which streams it
    attaches. None for other commands, help, and --cidfile (whose run forks none)."""
    if path not in (("run",), ("container", "run")):
        return None
    for a in args:
        if a in ("-h", "--help", "--") or a.startswith("--cidfile"):
            return None
        if not a.startswith("-"):
            break  # the image: what follows is the container's command
    from dockyard.config import Config
    from dockyard.runtime import launch

    config = Config.from_env(root=gopts.root or None, state_dir=gopts.state_dir or None)
    return launch.prefork((0, 1, 2), config.metadata_path)


def _buffer_stdout() -> None:
    """Under PYTHONUNBUFFERED, stdout's binary layer is a raw FileIO whose short writes the text
    layer ignores, so a reader that goes away would cut the output silently. Put a buffer back."""
    import io

    if isinstance(getattr(sys.stdout, "buffer", None), io.FileIO):
        sys.stdout = open(  # noqa: SIM115 - lives as long as the process, like sys.stdout
            sys.stdout.fileno(),
            "w",
            buffering=1 << 16,
            encoding=sys.stdout.encoding,
            errors=sys.stdout.errors,
            closefd=False,
        )


def _load(module_name: str):
    # __import__ (not importlib) so that -X importtime accounts for command modules too.
    name = f"dockyard.cli.commands.{module_name}"
    __import__(name)
    return sys.modules[name]


def _print_root_help() -> int:
    from dockyard.cli.help import root_help
    from dockyard.cli.table import COMMANDS

    sys.stdout.write(root_help(COMMANDS, ROOT_FLAGS))
    return 0


def _group(path: tuple[str, ...], short: str, args: list[str]) -> int:
    from dockyard.cli.help import group_help
    from dockyard.cli.table import COMMANDS

    name = " ".join((PROG, *path))
    if args and args[0] not in ("--help", "-h"):
        if args[0].startswith("-") and args[0] != "-":
            try:
                parse((), args[:1])
            except FlagError as e:
                raise CliError(f"{e}\nSee '{name} --help'.", 125) from None
        raise CliError(f"{PROG}: '{args[0]}' is not a {name} command.\nSee '{name} --help'", 1)
    sys.stdout.write(group_help(path, short, COMMANDS))
    return 0


def _help_topic(words: list[str]) -> int:
    if not words:
        return _print_root_help()
    from dockyard.cli.table import COMMANDS, resolve

    found = resolve(words)
    if found is None or found[1] != len(words):
        raise CliError(f"unknown help topic: {' '.join(words)}", 1)
    path = found[0]
    module_name, short, _ = COMMANDS[path]
    if module_name is None:
        return _group(path, short, [])
    from dockyard.cli.help import command_help

    module = _load(module_name)
    sys.stdout.write(command_help(module.COMMAND, path))
    return 0
