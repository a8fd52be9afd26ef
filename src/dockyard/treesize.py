"""`tree_size`: the bytes of the files below a directory (du's apparent size, links not
followed) — for `ps -s`, volume and layer sizes."""

import os


def tree_size(root: str, one_device: bool = False) -> int:
    """Sum of the files' sizes below `root`; with `one_device`, files on other filesystems
    (mounts below it) are left out. Files that vanish meanwhile count as nothing."""
    dev = None
    if one_device:
        try:
            dev = os.lstat(root).st_dev
        except OSError:
            return 0
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if dev is None or st.st_dev == dev:
                total += st.st_size
    return total
