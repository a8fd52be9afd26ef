"""Docker's `cp` path rules (its `archive` copy helpers), as pure functions over the paths.

Which side is a container (`CONTAINER:PATH`), what a trailing "/" or "/." asserts, where the
copy is extracted and under which name its top entry lands (`prepare_copy`), and the
errors with Docker's words ("no such directory", "not a directory", "cannot copy
directory").
"""

import os
import stat

from dockyard.cli.command import CliError
from dockyard.record import Record


class CopyInfo(Record):
    path: str
    exists: bool
    is_dir: bool
    rebase: str  # the name the top entry must take ("" to keep its own)
    __slots__ = _fields = ("path", "exists", "is_dir", "rebase")


def split_arg(arg: str) -> tuple[str, str]:
    """(container, path); container is "" for a local path (absolute, or `./a:b`)."""
    if arg.startswith("/"):
        return "", arg
    ctr, sep, path = arg.partition(":")
    if not sep or ctr.startswith("."):
        return "", arg
    return ctr, path


def has_trailing_sep(path: str) -> bool:
    return path.endswith("/")


def specifies_current_dir(path: str) -> bool:
    return _base(path) == "."


def _base(path: str) -> str:
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else "."
    return stripped.rpartition("/")[2]


def _clean(path: str) -> str:
    import posixpath

    if not path:
        return "."
    out = posixpath.normpath(path)
    return "/" + out.lstrip("/") if out.startswith("//") else out


def preserve_trailing(cleaned: str, original: str) -> str:
    """Docker's PreserveTrailingDotOrSeparator."""
    if not specifies_current_dir(cleaned) and specifies_current_dir(original):
        cleaned = cleaned.rstrip("/") + "/."
    if not has_trailing_sep(cleaned) and has_trailing_sep(original):
        cleaned += "/"
    return cleaned


def split_dir_entry(path: str) -> tuple[str, str]:
    """Docker's SplitPathDirEntry: (directory, entry) with "/." kept as the entry "."."""
    cleaned = _clean(path)
    if specifies_current_dir(path):
        cleaned = cleaned.rstrip("/") + "/."
    head, _, tail = cleaned.rpartition("/")
    if not _:
        return ".", cleaned
    return (head or "/"), (tail or "/")


def local_path(path: str) -> str:
    """An absolute local path, the trailing "/" or "/." kept."""
    return preserve_trailing(os.path.abspath(path), path)


def rebase_name(path: str, resolved: str) -> tuple[str, str]:
    """Docker's GetRebaseName: (resolved path with path's trailing "/" or "/.", new name)."""
    if specifies_current_dir(path) and not specifies_current_dir(resolved):
        resolved = resolved.rstrip("/") + "/."
    if has_trailing_sep(path) and not has_trailing_sep(resolved):
        resolved += "/"
    name = _base(path) if _base(path) != _base(resolved) else ""
    return resolved, name


def _go_error(op: str, path: str, e: OSError) -> CliError:
    return CliError(f"{op} {path}: {(e.strerror or str(e)).lower()}")


def local_source_info(path: str, follow: bool) -> CopyInfo:
    """Docker's CopyInfoSourcePath: the parent's symlinks resolved, the last one only with -L."""
    if follow:
        try:
            os.stat(path)
        except OSError as e:
            raise _go_error("lstat", path, e) from None
        resolved, rebase = rebase_name(path, os.path.realpath(path))
    else:
        head, base = os.path.split(path)
        resolved = os.path.join(os.path.realpath(head or "."), base)
        rebase = ""
        if has_trailing_sep(path) and _base(path) != _base(resolved):
            rebase = _base(path)
    try:
        st = os.lstat(resolved)
    except OSError as e:
        raise _go_error("lstat", resolved.rstrip("/") or "/", e) from None
    return CopyInfo(resolved, True, stat.S_ISDIR(st.st_mode), rebase)


def local_dest_info(path: str) -> CopyInfo:
    """Docker's CopyInfoDestinationPath: symlinks at the end followed; a missing
    destination needs an existing parent directory."""
    original = path
    for _ in range(11):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            break
        except OSError as e:
            raise _go_error("lstat", path, e) from None
        if not stat.S_ISLNK(st.st_mode):
            return CopyInfo(path, True, stat.S_ISDIR(st.st_mode), "")
        target = os.readlink(path)
        if not target.startswith("/"):
            target = os.path.join(split_dir_entry(path)[0], target)
        path = target
    else:
        raise CliError(f"too many symlinks in {original}")
    parent = split_dir_entry(path)[0]
    try:
        pst = os.stat(parent)
    except OSError as e:
        raise _go_error("stat", parent, e) from None
    if not stat.S_ISDIR(pst.st_mode):
        raise CliError("not a directory")
    return CopyInfo(path, False, False, "")


def prepare_copy(src: CopyInfo, dst: CopyInfo) -> tuple[str, str]:
    """Docker's PrepareArchiveCopy: (directory to extract into, name for the top entry —
    "" to keep the source's own, or its rebase name)."""
    dst_dir, dst_base = split_dir_entry(dst.path)
    if dst.exists and dst.is_dir:
        return dst.path, src.rebase
    if dst.exists and src.is_dir:
        raise CliError("cannot copy directory")
    if dst.exists or src.is_dir:
        return dst_dir, dst_base
    if has_trailing_sep(dst.path) or specifies_current_dir(dst.path):
        raise CliError("no such directory")
    return dst_dir, dst_base
