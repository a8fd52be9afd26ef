"""The files a container gets bind-mounted into /etc: hostname, hosts, resolv.conf
(written at create, each through a temp name and a rename), and `--add-host` entries
checked as Docker's client checks them (`extra_hosts`)."""

import os


def write_all(lay, hostname: str, extra: tuple[str, ...] = ()) -> None:
    """Write the three files into the container's layout (`launch.Layout`); `extra`:
    the checked `--add-host` entries ("name:ip")."""
    _write(lay.hostname, hostname + "\n")
    _write(lay.hosts, hosts(hostname, extra))
    _write(lay.resolv, resolv())


def _write(path: str, text: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def hosts(hostname: str, extra: tuple[str, ...] = ()) -> str:
    """Docker's defaults, then the extra hosts in order (libnetwork's "IP\tname" lines),
    then the container's own name."""
    added = "".join(f"{ip}\t{name}\n" for name, _, ip in (e.partition(":") for e in extra))
    return (
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
        f"ff02::2\tip6-allrouters\n{added}127.0.1.1\t{hostname}\n"
    )


HOST_GATEWAY = "host-gateway"


def extra_host(value: str) -> str:
    """One `--add-host` value ("name:ip", "name=ip", an IPv6 address with or without
    brackets) checked as Docker's ValidateExtraHost; returned as "name:ip"."""
    from dockyard.errors import InvalidArgument

    name, sep, ip = value.partition("=")
    if not sep:
        name, sep, ip = value.partition(":")  # only the first ":": IPv6 addresses have more
    if not sep or not name or ":" in name or any(c in name for c in " \t\n\r\0#"):
        raise InvalidArgument(f'bad format for add-host: "{value}"')
    if ip == HOST_GATEWAY:
        from dockyard.errors import FailedPrecondition

        raise FailedPrecondition(
            "unable to derive the IP value for host-gateway: it is the bridge network's "
            "gateway, and bridge networking is not available yet"
        )
    if len(ip) > 2 and ip[0] == "[" and ip[-1] == "]":
        ip = ip[1:-1]
    if not _is_ip(ip):
        raise InvalidArgument(f'invalid IP address in add-host: "{ip}"')
    return f"{name}:{ip}"


def extra_hosts(values) -> tuple[str, ...]:
    return tuple(extra_host(v) for v in values)


def _is_ip(text: str) -> bool:
    """Go's net.ParseIP: dotted IPv4 without leading zeros, or IPv6 (no zone)."""
    import ipaddress

    if not text or "%" in text or not text.isascii():
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


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
