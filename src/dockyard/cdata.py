"""The part of ctypes that `linux.syscalls`, `syncfs` and the content writer's writeback
use, made straight from the `_ctypes` C module.

The `ctypes` package costs ~2.3 ms to import (it defines every C type, loads `struct`,
makes its library loaders): on the path of every container start, in the supervisor before
it can clone the init, and twice in a build (its flushes). These are the same C types (`_SimpleCData` subclasses with the
same type codes), the same function pointers (`CFuncPtr` with ctypes' flags) and the same
`Structure`, `byref`, `addressof` and errno access, for Linux on LP64 machines.
"""

import _ctypes
from _ctypes import (  # noqa: F401 - part of this API
    FUNCFLAG_CDECL,
    FUNCFLAG_PYTHONAPI,
    FUNCFLAG_USE_ERRNO,
    Structure,
    addressof,
    byref,
    get_errno,
)


class c_int(_ctypes._SimpleCData):
    _type_ = "i"


class c_uint(_ctypes._SimpleCData):
    _type_ = "I"


class c_ushort(_ctypes._SimpleCData):
    _type_ = "H"


class c_long(_ctypes._SimpleCData):
    _type_ = "l"


class c_ulong(_ctypes._SimpleCData):
    _type_ = "L"


class c_void_p(_ctypes._SimpleCData):
    _type_ = "P"


class c_char_p(_ctypes._SimpleCData):
    _type_ = "z"


# LP64 (x86_64, aarch64): what ctypes itself aliases them to there
c_uint32 = c_uint
c_uint64 = c_ulong
c_int64 = c_long
c_size_t = c_ulong


class CDLL:
    """`ctypes.CDLL(name)`: the symbols of a shared object (`name` a path), or with None
    those of the running program and its libraries (libc). Calls release the GIL."""

    _flags = FUNCFLAG_CDECL

    def __init__(self, name: str | None = None, use_errno: bool = False):
        flags = self._flags | (FUNCFLAG_USE_ERRNO if use_errno else 0)

        class Function(_ctypes.CFuncPtr):
            _flags_ = flags
            _restype_ = c_int  # ctypes' default

        self._Function = Function
        self._handle = _ctypes.dlopen(name, 0)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        fn = self._Function((name, self))  # looks `name` up in self._handle
        setattr(self, name, fn)  # once, as ctypes caches it
        return fn


class PyDLL(CDLL):
    """Calls that keep the GIL held (and see Python errors), as `ctypes.PyDLL`."""

    _flags = FUNCFLAG_CDECL | FUNCFLAG_PYTHONAPI


def pythonapi() -> PyDLL:
    """`ctypes.pythonapi`: the interpreter's own C API."""
    return PyDLL(None)
