"""The files a container gets bind-mounted into /etc: hostname, hosts, resolv.conf
(written at create, each through a temp name and a rename)."""

import os


def write_all(lay, hostname: str) -> None:
    """Write the three files into the container's layout (`launch.Layout`)."""
    _write(lay.hostname, hostname + "\n")
    _write(lay.hosts, hosts(hostname))
    _write(lay.resolv, resolv())


def _write(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def hosts(hostname: str) -> str:
    return (
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
        f"ff02::2\tip6-allrouters\n127.0.1.1\t{hostname}\n"
    )


def resolv() -> str:
    """The host's resolv.conf without loopback nameservers (unreachable from inside)."""
    try:
        with open("/etc/resolv.conf") as f:
            lines = f.read(65536).splitlines()
    except OSError:
        lines = []
    keep = [
        ln for ln in lines
        if not (ln.split()[:1] == ["nameserver"] and len(ln.split()) > 1
                and (ln.split()[1].startswith("127.") or ln.split()[1] == "::1"))
    ]  # fmt: skip
    return "\n".join(keep) + ("\n" if keep else "")
