"""What the multi-container verbs share (`stop a b c`, `rm`, `kill`, `wait` ...): act on each
argument in turn, print what Docker prints for each success, keep going past failures and
report them together at the end (exit 1); `exit_now` ends a finished command's process
without the interpreter's teardown."""


def each(cli, refs: list[str], act, show=None) -> int:
    """Call `act(ref)` for every ref; print `show(ref, result)` (default: the ref) per success."""
    from dockyard.errors import DockyardError

    errors = []
    for ref in refs:
        try:
            result = act(ref)
        except DockyardError as e:
            errors.append(f"Error: {e}")
            continue
        cli.out((show(ref, result) if show else ref) + "\n")
        cli.stdout.flush()  # scripts watch the names appear one by one
    if errors:
        cli.err("\n".join(errors) + "\n")
        return 1
    return 0


def exit_now(cli, code: int) -> None:
    """End the `dockyard` process with `code` at once, skipping interpreter shutdown (module
    teardown: ms on every `run`, `stop`, `ps` that scripts call in loops): every stream is
    flushed first; nothing of ours needs a finalizer. The database connections are left
    to the exit, which ends them as `sqlitemod.close` would (no transaction is open between
    commands, and the WAL stays for the next reader) without its cost. Does nothing when
    the CLI runs inside another program (tests) or a flush fails (the caller's normal
    return then reports it).

    A process that has loaded `_ctypes` (a build) leaves its memory to be freed after its
    exit (`linux.quickexit`): its parent sees it end ~2–5 ms sooner. Others exit plainly:
    loading it would cost them more than it saves."""
    import os
    import sys

    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    entry = os.path.basename(getattr(main, "__file__", "") or "")
    if not ((spec is not None and spec.name == "dockyard.__main__") or entry == "dockyard"):
        return
    try:
        for f in (cli.stdout, cli.stderr, sys.stdout, sys.stderr):
            f.flush()
    except (OSError, ValueError):
        return
    if "_ctypes" in sys.modules:
        from dockyard.linux.quickexit import exit_after

        exit_after(code)
    os._exit(code)
