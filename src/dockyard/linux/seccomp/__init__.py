"""Seccomp: load a compiled filter on the container start path.

This module stays tiny on purpose: the start path imports it and nothing else from the
package. Compiling (libseccomp via ctypes, `compile`), caching (`cache`), the profile model
(`profile`), Docker's default profile (`default`) and Docker's JSON format (`dockerjson`)
live in submodules imported only when a filter has to be built.
"""


def load(bpf: bytes, sc=None) -> None:
    """Install raw BPF bytes as this process's seccomp filter.

    Needs no_new_privs set (or CAP_SYS_ADMIN); the filter is inherited and cannot be removed.
    """
    if sc is None:
        from dockyard.linux.syscalls import Syscalls

        sc = Syscalls()
    sc.seccomp_set_filter(bpf)
