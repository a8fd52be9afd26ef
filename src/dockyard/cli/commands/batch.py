"""What the multi-container verbs share (`stop a b c`, `rm`, `kill`, `wait` ...): act on each
argument in turn, print what Docker prints for each success, keep going past failures and
report them together at the end (exit 1)."""


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
