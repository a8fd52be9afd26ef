"""Docker's cp path rules as tables (values from Docker's archive/copy helpers' semantics)."""

import pytest

from dockyard.cli.command import CliError
from dockyard.cli.commands import cppaths as P
from dockyard.runtime import fsops


@pytest.mark.parametrize(
    "arg,want",
    [
        ("c1:/etc", ("c1", "/etc")),
        ("/abs:path", ("", "/abs:path")),
        ("./rel:x", ("", "./rel:x")),
        ("plain", ("", "plain")),
        ("c1:", ("c1", "")),
        ("c1:rel/x", ("c1", "rel/x")),
    ],
)
def test_split_arg(arg, want):
    assert P.split_arg(arg) == want


@pytest.mark.parametrize(
    "path,want",
    [
        ("/a/b", ("/a", "b")),
        ("/a/b/", ("/a", "b")),
        ("/a/b/.", ("/a/b", ".")),
        ("/", ("/", "/")),
        ("/a", ("/", "a")),
        ("/a/../b", ("/", "b")),
    ],
)
def test_split_dir_entry(path, want):
    assert P.split_dir_entry(path) == want


@pytest.mark.parametrize(
    "path,want",
    [
        ("etc", "/etc"),
        ("/etc/", "/etc/"),
        ("/etc/.", "/etc/."),
        ("/etc/..", "/"),
        ("../../x", "/x"),
        ("//x", "/x"),
        (".", "/."),
        ("", "/"),
        ("/", "/"),
    ],
)
def test_container_abs_path(path, want):
    assert fsops.abs_path(path) == want


@pytest.mark.parametrize(
    "path,want", [("/etc/", "etc"), ("/etc/.", "."), ("/", "/"), ("/a/b", "b")]
)
def test_base_name_is_gos(path, want):
    assert fsops.base_name(path) == want


@pytest.mark.parametrize(
    "path,resolved,want",
    [
        ("/lnk", "/data/x", ("/data/x", "lnk")),
        ("/lnk/", "/data", ("/data/", "lnk")),
        ("/lnk/.", "/data", ("/data/.", "")),
        ("/x", "/other/x", ("/other/x", "")),
    ],
)
def test_rebase_name(path, resolved, want):
    assert P.rebase_name(path, resolved) == want


def _info(path, exists=False, is_dir=False, rebase=""):
    return P.CopyInfo(path, exists, is_dir, rebase)


@pytest.mark.parametrize(
    "src,dst,want",
    [
        # existing directory: extract into it, the entry keeps its name
        (_info("/s/f", True), _info("/d", True, True), ("/d", "")),
        (_info("/s/f", True, rebase="lnk"), _info("/d", True, True), ("/d", "lnk")),
        # existing file, file source: replace it under its name
        (_info("/s/f", True), _info("/d/g", True), ("/d", "g")),
        # missing destination: the parent, the new name
        (_info("/s/dir", True, True), _info("/d/new"), ("/d", "new")),
        (_info("/s/f", True), _info("/d/new"), ("/d", "new")),
    ],
)
def test_prepare_copy(src, dst, want):
    assert P.prepare_copy(src, dst) == want


@pytest.mark.parametrize(
    "src,dst,message",
    [
        (_info("/s/dir", True, True), _info("/d/file", True), "cannot copy directory"),
        (_info("/s/f", True), _info("/d/new/"), "no such directory"),
        (_info("/s/f", True), _info("/d/new/."), "no such directory"),
    ],
)
def test_prepare_copy_errors(src, dst, message):
    with pytest.raises(CliError, match=f"^{message}$"):
        P.prepare_copy(src, dst)
