"""The image a `run`/`create` needs, pulled the way Docker's client does: `--pull missing`
(the default) pulls only when the image is not here, after saying "Unable to find image
'busybox:latest' locally"; `always` pulls first; `never` does not pull. The progress goes to
stderr so that stdout stays the container's (or the id)."""


def familiar_tagged(ref: str) -> str:
    """`busybox` -> `busybox:latest`, as Docker names it in its message."""
    from dockyard import reference

    try:
        return reference.parse_normalized_tagged(ref).familiar()
    except Exception:  # not a valid reference: the message shows it as given
        return ref


def is_missing_image(e) -> bool:
    from dockyard.errors import NotFound

    return isinstance(e, NotFound) and str(e).startswith("No such image")


def pull(cli, ref: str, quiet: bool) -> None:
    from dockyard.cli.commands.pull import distribution, progress_printer

    service = distribution(cli, None)
    if not quiet:
        cli.stdout.flush()
    service.pull(ref, None, False, progress_printer(cli.stderr, quiet))


def create(cli, ropts, policy: str, quiet: bool) -> str:
    """`cli.containers.create(ropts)`, pulling the image first as `policy` says."""
    return with_image(cli, ropts.image, policy, quiet, lambda: cli.containers.create(ropts))


def with_image(cli, image: str, policy: str, quiet: bool, make):
    """`make()` (which creates a container from `image`), pulling the image first as `policy`
    says: `missing` retries once after pulling when `make` finds no such image."""
    if policy == "always":
        pull(cli, image, quiet)
    try:
        return make()
    except Exception as e:
        if policy != "missing" or not is_missing_image(e):
            raise
    cli.err(f"Unable to find image '{familiar_tagged(image)}' locally\n")
    pull(cli, image, quiet)
    return make()
