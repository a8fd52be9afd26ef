"""`registry serve`: run the OCI distribution registry until SIGTERM or SIGINT."""

import os

from dockyard.cli.command import Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "serve [OPTIONS]",
    "Run an OCI distribution registry",
    flags=(
        Flag("addr", help="Address to listen on (HOST:PORT)", default=""),
        Flag("root", help="Registry storage directory (default: <data root>/registry)"),
        Flag("config", help="Registry configuration file (YAML or JSON)"),
        Flag("read-only", kind=BOOL, help="Refuse pushes and deletes"),
        Flag("tls-cert", help="TLS certificate file (PEM)"),
        Flag("tls-key", help="TLS private key file (PEM)"),
    ),
    args=("none",),
)


def registry_root(cli: Cli, opts: Values) -> str:
    return os.path.abspath(opts.root) if opts.root else os.path.join(cli.config.root, "registry")


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dataclasses import replace

    from dockyard.registry.config import RegistryConfig, load_config
    from dockyard.registry.server import serve

    root = registry_root(cli, opts)
    if opts.config:
        config = load_config(opts.config, opts.root or None)
    else:
        config = RegistryConfig(root=root)
    changes: dict = {}
    if opts.addr:
        changes["addr"] = opts.addr
    if opts.read_only:
        changes["read_only"] = True
    if opts.tls_cert or opts.tls_key:
        changes["tls_cert"], changes["tls_key"] = opts.tls_cert, opts.tls_key
    serve(replace(config, **changes))
    return 0
