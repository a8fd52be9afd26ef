"""Set `lo` up in the calling process's network namespace (Docker's --network none has it
up, with 127.0.0.1). The container init calls it right after clone, while it still holds
CAP_NET_ADMIN; only C modules are used (it runs in the freshly cloned child).
"""

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1


def bring_up() -> None:
    """Set IFF_UP on lo in the current network namespace; errors are raised."""
    import _socket
    import fcntl
    from _struct import pack, unpack_from

    s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        req = pack("16sH14s", b"lo", 0, b"")
        flags = unpack_from("H", fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, req), 16)[0]
        fcntl.ioctl(s.fileno(), _SIOCSIFFLAGS, pack("16sH14s", b"lo", flags | _IFF_UP, b""))
    finally:
        s.close()
