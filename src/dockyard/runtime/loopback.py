"""Bring up `lo` in a new container's network namespace (Docker's --network none has it up,
with 127.0.0.1), from a short-lived child that joins the namespace: the supervisor itself
must stay in the host's. Uses only C modules (_socket, fcntl, _struct): the child is forked
on the start path.
"""

import os

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1


def bring_up(init_pid: int) -> None:
    """Set IFF_UP on lo in the network namespace of `init_pid`; errors are raised."""
    from dockyard.linux import syscalls as S

    sc = S.Syscalls()
    child = os.fork()
    if child == 0:
        code = 1
        try:
            _in_child(init_pid, sc)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        from dockyard.errors import FailedPrecondition

        raise FailedPrecondition("could not bring up the loopback interface")


def _in_child(init_pid: int, sc) -> None:
    import _socket
    import fcntl
    from _struct import pack, unpack_from

    fd = os.open(f"/proc/{init_pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    sc.setns(fd, 0x40000000)  # CLONE_NEWNET
    s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    req = pack("16sH14s", b"lo", 0, b"")
    flags = unpack_from("H", fcntl.ioctl(s.fileno(), _SIOCGIFFLAGS, req), 16)[0]
    fcntl.ioctl(s.fileno(), _SIOCSIFFLAGS, pack("16sH14s", b"lo", flags | _IFF_UP, b""))
