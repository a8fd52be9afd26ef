"""`cp` / `container cp`: copy files between a container and the local filesystem.

The client half of Docker's copy, as its CLI does it: stat both ends, decide from Docker's
path rules (`cppaths`) which directory to extract into and under which name the copied
entry lands, then move one tar stream — from the container's archive into the local
directory (the safe apply, owned by the caller), or from the local path into the
container (owned by root unless -a). `-` is a tar stream on stdin or stdout.
"""

import os

from dockyard.cli.command import CliError, Command
from dockyard.cli.commands import cppaths as P
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values

COMMAND = Command(
    "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdockyard cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
    "Copy files/folders between a container and the local filesystem",
    flags=(
        Flag("archive", "a", BOOL, help="Archive mode (copy all uid/gid information)"),
        Flag("follow-link", "L", BOOL, help="Always follow symbol link in SRC_PATH"),
        Flag(
            "quiet",
            "q",
            BOOL,
            help="Suppress progress output during copy. Progress output is automatically "
            "suppressed if no terminal is attached to STDERR",
        ),
    ),
    args=("exact", 2),
    aliases="dockyard container cp, dockyard cp",
)


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    if not args[0]:
        raise CliError("source can not be empty")
    if not args[1]:
        raise CliError("destination can not be empty")
    src_ctr, src_path = P.split_arg(args[0])
    dst_ctr, dst_path = P.split_arg(args[1])
    if src_ctr and dst_ctr:
        raise CliError("copying between containers is not supported")
    if not src_ctr and not dst_ctr:
        raise CliError("must specify at least one container source")
    from dockyard.services.containerfs import ContainerFS

    fs = ContainerFS(cli.containers)
    progress = not opts.quiet and _isatty(cli.stderr)
    if src_ctr:
        size, shown = _from_container(cli, fs, src_ctr, src_path, dst_path, opts.follow_link)
    else:
        size, shown = _to_container(cli, fs, dst_ctr, src_path, dst_path, opts)
    if progress and shown:
        from dockyard.cli.units import human_size

        cli.err(f"Successfully copied {human_size(size)} to {shown}\n")
    return 0


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# -- container -> local ---------------------------------------------------------------


def _from_container(cli, fs, ctr: str, src: str, dst: str, follow: bool) -> tuple[int, str]:
    from dockyard.errors import DockyardError

    rebase = ""
    if follow:
        try:
            st = fs.stat_path(ctr, src)
        except DockyardError:
            st = None
        if st is not None and st.is_link:
            target = st.link_target
            if not target.startswith("/"):
                target = os.path.join(P.split_dir_entry(src)[0], target)
            src, rebase = P.rebase_name(src, target)
    if dst == "-":
        out = cli.binary_stdout()
        with fs.open_archive(ctr, src) as a:
            size = _copy(a, out)
        out.flush()
        return size, ""
    dst = P.local_path(dst)
    st = fs.stat_path(ctr, src)
    dst_info = P.local_dest_info(dst)
    src_info = P.CopyInfo(src, True, st.is_dir, rebase)
    dst_dir, name = P.prepare_copy(src_info, dst_info)
    counter = _Counter()
    with fs.open_archive(ctr, src, rebase=_arc(name, src)) as a:
        counter.src = a
        _extract_local(counter, dst_dir)
    return counter.size, dst


def _arc(name: str, src: str) -> str | None:
    """The archive's top-level name: `name` when the copy renames, else the source's own."""
    return name or None


def _extract_local(src, dst_dir: str) -> None:
    from dockyard.archive.apply import apply_layer
    from dockyard.archive.limits import Limits
    from dockyard.errors import DockyardError

    # the caller owns what lands here (Docker's NoLchown); device nodes from a container
    # are not recreated on the host
    try:
        apply_layer(
            src, dst_dir, whiteouts="none", limits=Limits(), devices=False, same_owner=False,
            replace_dirs=False,
        )  # fmt: skip
    except DockyardError as e:  # a local failure: Docker's CLI prints it bare
        raise CliError(str(e)) from None


class _Counter:
    """Counts the bytes read through it (for the progress line)."""

    def __init__(self):
        self.src = None
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.src.read(n)
        self.size += len(data)
        return data

    def readinto(self, buf) -> int:
        n = self.src.readinto(buf) or 0
        self.size += n
        return n


def _copy(src, out) -> int:
    total = 0
    while chunk := src.read(1 << 20):
        out.write(chunk)
        total += len(chunk)
    return total


# -- local -> container ---------------------------------------------------------------


def _to_container(cli, fs, ctr: str, src: str, dst: str, opts: Values) -> tuple[int, str]:
    from dockyard.errors import DockyardError

    if src != "-":
        src = P.local_path(src)
    dst_info = P.CopyInfo(dst, False, False, "")
    fs.stat_path(ctr, "/")  # a missing container fails here, with Docker's message
    try:
        st = fs.stat_path(ctr, dst)
    except DockyardError:  # Docker: any error here leaves the extraction to decide
        st = None
    if st is not None and st.is_link:
        target = st.link_target
        if not target.startswith("/"):
            target = os.path.join(P.split_dir_entry(dst)[0], target)
        dst_info = dst_info.replace(path=target)
        try:
            st = fs.stat_path(ctr, target)
        except DockyardError:
            st = None
    if st is not None:
        import stat as S

        if not (S.S_ISDIR(st.mode) or S.S_ISREG(st.mode)):
            raise CliError(f'destination "{ctr}:{dst}" must be a directory or a regular file')
        dst_info = dst_info.replace(exists=True, is_dir=st.is_dir)
    if src == "-":
        if not dst_info.is_dir:
            raise CliError(f'destination "{ctr}:{dst}" must be a directory')
        counter = _Counter()
        counter.src = cli.binary_stdin()
        fs.put_archive(ctr, dst_info.path, counter, copy_uid_gid=opts.archive)
        return counter.size, f"{ctr}:{dst}"
    src_info = P.local_source_info(src, opts.follow_link)
    dst_dir, name = P.prepare_copy(src_info, dst_info)
    sent = [0]

    def write(out) -> None:
        sent[0] = _write_local(src_info, name, out)

    fs.put_archive(ctr, dst_dir, write, copy_uid_gid=opts.archive)
    return sent[0], f"{ctr}:{dst}"


def _write_local(src: "P.CopyInfo", name: str, out) -> int:
    """Docker's TarResource of the local source, its top entry named `name` (or its own)."""
    from dockyard.archive.counting import CountingWriter
    from dockyard.archive.fdtree import TreeWriter
    from dockyard.archive.tarwriter import TarWriter

    head, base = P.split_dir_entry(src.path)
    arc = name or src.rebase or base
    counting = CountingWriter(out)
    w = TarWriter(counting)
    tw = TreeWriter(w)
    dfd = os.open(head or "/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if base == ".":
            tw.add_root(dfd, arc)
        else:
            tw.add(dfd, base, arc)
    finally:
        os.close(dfd)
    w.close()
    return counting.size
