"""`push` / `image push`: upload an image to a registry."""

from dockyard.cli.command import Command
from dockyard.cli.commands.pull import TLS_VERIFY, distribution, printer
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "push [OPTIONS] NAME[:TAG]",
    "Upload an image to a registry",
    flags=(
        Flag("all-tags", "a", BOOL, help="Push all tags of an image to the repository"),
        Flag("disable-content-trust", kind=BOOL, default=True, help="Skip image signing"),
        Flag("quiet", "q", BOOL, help="Suppress verbose output"),
        TLS_VERIFY,
    ),
    args=("exact", 1),
    aliases="dockyard image push, dockyard push",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    ref = args[0]
    if not opts.quiet and not opts.all_tags and ":" not in ref.rpartition("/")[2]:
        cli.out("Using default tag: latest\n")
    results = distribution(cli, opts).push(ref, opts.all_tags, printer(cli, opts.quiet))
    if opts.quiet:  # Docker prints the reference it was given, normalized (-a: the name)
        cli.out((results[0].reference.rpartition(":")[0] if opts.all_tags else results[0].reference)
                + "\n")  # fmt: skip
    from dockyard.cli.commands.batch import exit_now

    exit_now(cli, 0)  # skips the interpreter's teardown (ms of a no-op re-push)
    return 0
