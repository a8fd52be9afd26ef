"""`login`: check credentials against a registry and store them (Docker's config.json)."""

from dockyard.cli.command import CliError, Command
from dockyard.cli.commands.pull import TLS_VERIFY, distribution
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "login [OPTIONS] [SERVER]",
    "Log in to a registry",
    flags=(
        Flag("password", "p", help="Password"),
        Flag("password-stdin", kind=BOOL, help="Take the password from stdin"),
        Flag("username", "u", help="Username"),
        TLS_VERIFY,
    ),
    args=("max", 1),
)

DOCKER_HUB = "https://index.docker.io/v1/"
_UNENCRYPTED = (
    "WARNING! Your password will be stored unencrypted in {path}.\n"
    "Configure a credential helper to remove this warning. See\n"
    "https://docs.docker.com/engine/reference/commandline/login/#credential-stores\n\n"
)


def _is_tty(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _prompt(cli: Cli, opts: Values, server: str) -> tuple[str, str]:
    username, password = opts.username.strip(), opts.password
    if opts.password_stdin:
        if password:
            raise CliError("--password and --password-stdin are mutually exclusive")
        if not username:
            raise CliError("Must provide --username with --password-stdin")
        password = cli.stdin.read().rstrip("\r\n")
    elif password:
        cli.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
    if username and password:
        return username, password
    if not username and not password and not _is_tty(cli.stdin):
        return "", ""  # the service tries stored credentials, else says why not
    if not _is_tty(cli.stdin):
        raise CliError("Error: Cannot perform an interactive login from a non TTY device")
    if not username:
        cli.out(f"Username ({server}): " if server else "Username: ")
        cli.stdout.flush()
        username = cli.stdin.readline().strip()
        if not username:
            raise CliError("Error: Non-null Username Required")
    if not password:
        import getpass

        password = getpass.getpass("Password: ")
        if not password:
            raise CliError("Error: Password Required")
    return username, password


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    server = args[0] if args else DOCKER_HUB
    username, password = _prompt(cli, opts, server)
    service = distribution(cli, opts)
    status = service.login(server, username, password)
    from dockyard.remote.hosts import credential_key

    if username and not service.credentials.helper_for(credential_key(server)):
        cli.err(_UNENCRYPTED.format(path=service.credentials.path))
    cli.out(status + "\n")
    return 0
