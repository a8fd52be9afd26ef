"""cdata is ctypes' own C types and calls without the ctypes package: the same sizes,
the same calling and errno behaviour, and the package itself stays unimported."""

import ctypes
import errno
import os
import subprocess
import sys

from dockyard import cdata as C

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def test_types_have_ctypes_sizes_and_values():
    for ours, theirs in (
        (C.c_int, ctypes.c_int), (C.c_uint, ctypes.c_uint), (C.c_ushort, ctypes.c_ushort),
        (C.c_long, ctypes.c_long), (C.c_ulong, ctypes.c_ulong), (C.c_void_p, ctypes.c_void_p),
        (C.c_char_p, ctypes.c_char_p), (C.c_uint32, ctypes.c_uint32),
        (C.c_uint64, ctypes.c_uint64), (C.c_int64, ctypes.c_int64),
        (C.c_size_t, ctypes.c_size_t),
    ):  # fmt: skip
        assert ctypes.sizeof(ours) == ctypes.sizeof(theirs), ours
    assert C.c_ulong(2**64 - 1).value == 2**64 - 1
    assert C.c_int(-5).value == -5
    assert list((C.c_uint64 * 3)(1, 2, 3)) == [1, 2, 3]


def test_structures_lay_out_as_ctypes_does():
    class Ours(C.Structure):
        _fields_ = (("len", C.c_ushort), ("filter", C.c_char_p))

    class Theirs(ctypes.Structure):
        _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_char_p))

    assert ctypes.sizeof(Ours) == ctypes.sizeof(Theirs) == 16
    assert Ours(3, b"abc").len == 3


def test_calls_return_values_and_errno():
    libc = C.CDLL(None, use_errno=True)
    assert libc.getpid() == os.getpid()
    assert libc.close(C.c_int(-1)) == -1
    assert C.get_errno() == errno.EBADF
    libc.syscall.restype = C.c_long
    nr_getpid = {"x86_64": 39, "aarch64": 172}[os.uname().machine]
    assert libc.syscall(C.c_long(nr_getpid)) == os.getpid()
    assert C.pythonapi().Py_IsInitialized() == 1


def test_the_ctypes_package_is_not_imported():
    code = (
        "import sys, os; from dockyard.linux import syscalls as S; s = S.Syscalls(); s.prepare();"
        "s.capget(); from dockyard.syncfs import syncfs; syncfs('/tmp');"
        "from dockyard.content.writeback import Writeback; w = Writeback();"
        "fd = os.open('/tmp', os.O_RDONLY); w.start(fd, 0, 0); os.close(fd);"
        "print(w._fn is not None, 'ctypes' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], env={"PYTHONPATH": SRC}, capture_output=True, text=True
    )
    assert out.stdout.strip() == "True False", out.stderr
