"""Per-registry TLS files, read as Docker reads them: `/etc/docker/certs.d/<host[:port]>/`
(`DOCKYARD_CERTS_D` names another directory) holds CA certificates (`*.crt`, trusted in
addition to the system's) and client certificates (`*.cert`, each with the `*.key` of the
same name).
"""

import os

from dockyard.errors import InvalidArgument

DEFAULT_CERTS_D = "/etc/docker/certs.d"


class TlsFiles:
    __slots__ = ("cas", "pairs")

    def __init__(self, cas: tuple[str, ...] = (), pairs: tuple[tuple[str, str], ...] = ()):
        self.cas = cas  # CA certificate files
        self.pairs = pairs  # (certificate, key) files

    def __bool__(self) -> bool:
        return bool(self.cas or self.pairs)


def certs_root(environ=None) -> str:
    env = os.environ if environ is None else environ
    return env.get("DOCKYARD_CERTS_D") or DEFAULT_CERTS_D


def tls_files(host: str, root: str) -> TlsFiles:
    """The TLS files for registry `host` (host[:port]) under `root`; empty when it has none.

    InvalidArgument for a client certificate without its key or a key without its
    certificate (Docker's messages)."""
    if not host or "/" in host or "\0" in host or host in (".", ".."):
        return TlsFiles()  # never a path outside root: such a host has no directory
    d = os.path.join(root, host)
    try:
        names = sorted(os.listdir(d))
    except (FileNotFoundError, NotADirectoryError):
        return TlsFiles()
    except OSError as e:
        raise InvalidArgument(f"cannot read {d}: {e.strerror}")
    present = set(names)
    cas, pairs = [], []
    for name in names:
        path = os.path.join(d, name)
        if name.endswith(".crt"):
            cas.append(path)
        elif name.endswith(".cert"):
            key = name[: -len(".cert")] + ".key"
            if key not in present:
                raise InvalidArgument(
                    f"missing key {key} for client certificate {name}. "
                    "CA certificates must use the extension .crt"
                )
            pairs.append((path, os.path.join(d, key)))
        elif name.endswith(".key"):
            cert = name[: -len(".key")] + ".cert"
            if cert not in present:
                raise InvalidArgument(f"missing client certificate {cert} for key {name}")
    return TlsFiles(tuple(cas), tuple(pairs))
