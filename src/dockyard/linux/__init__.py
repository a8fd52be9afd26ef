"""The privileged layer: the only code that talks to the kernel to isolate containers.

Small modules, each owning one kernel facility: `syscalls` (ctypes binding), `caps`
(capabilities), `seccomp` (profiles, BPF compile + cache, load), `cgroups` (v1 and v2
drivers), `mounts` (rootfs, /proc, /dev, masks, pivot_root), `paths` (resolution inside a
root), `loopback` (lo up) and `init` (the container init sequence run in the cloned child). Decisions are made
above this layer; these modules carry them out. Importing this package does nothing.
"""
