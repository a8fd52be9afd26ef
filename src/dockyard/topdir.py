"""`make_top_dir(path, mode)`: create a directory whose children are spread over the disk.

The data root's parents of many short-lived trees (snapshots, containers, volumes, build and
unpack scratch) carry ext4's "top of a hierarchy" flag (`chattr +T`). ext4 then places each
new child directory, and the files created in it, in a lightly used block group instead of the
parent's group. That matters on ext4 without a journal: for 30 s after inodes are freed, every
file created in their group scans past each of them (`recently_deleted`), so a build step that
writes 200 files just after a prune took 38 ms instead of 5 ms here. Other filesystems, and
ext4 where the flag cannot be set, simply keep their usual placement.
"""

import os

_FS_IOC_GETFLAGS = 0x80086601
_FS_IOC_SETFLAGS = 0x40086602
_FS_TOPDIR_FL = 0x00020000


def make_top_dir(path: str, mode: int = 0o700) -> bool:
    """Create `path` (and its missing parents) with `mode` and the top-dir flag.
    Returns False, touching nothing, when it exists already."""
    try:
        os.mkdir(path, mode)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
        return make_top_dir(path, mode)
    except FileExistsError:
        return False
    os.chmod(path, mode)  # mkdir's mode is filtered by the umask
    mark_top(path)
    return True


def mark_top(path: str) -> bool:
    """Set the top-dir flag on an existing directory; False where the filesystem has none."""
    import fcntl
    import sys

    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        buf = fcntl.ioctl(fd, _FS_IOC_GETFLAGS, b"\0" * 8)
        # the kernel reads and writes an int here, whatever the ioctl's declared size
        flags = int.from_bytes(buf[:4], sys.byteorder)
        if not flags & _FS_TOPDIR_FL:
            new = (flags | _FS_TOPDIR_FL).to_bytes(4, sys.byteorder) + b"\0" * 4
            fcntl.ioctl(fd, _FS_IOC_SETFLAGS, new)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
