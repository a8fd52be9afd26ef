"""Pure helpers of ADD <url>: checksum syntax, the file name a URL gives, git detection."""

import pytest

from dockyard.build import fetch
from dockyard.errors import InvalidArgument


def test_checksum_syntax():
    good = "sha256:" + "ab" * 32
    assert fetch.check_checksum(good, 3) == ("sha256", "ab" * 32)
    assert fetch.check_checksum("sha512:" + "0" * 128, 3)[0] == "sha512"
    for bad in ("ab" * 32, "sha256:xyz", "md5:" + "0" * 32, "sha256:" + "AB" * 32, "sha256:"):
        with pytest.raises(InvalidArgument, match="Dockerfile:3: invalid checksum"):
            fetch.check_checksum(bad, 3)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://h/a/b/file.tar.gz", "file.tar.gz"),
        ("http://h/a/b/file.txt?x=1#frag", "file.txt"),
        ("http://h/dir/", "dir"),
        ("http://h/", ""),
        ("http://h", ""),
        ("http://h/sp%20ace.txt", "sp ace.txt"),
    ],
)
def test_file_name_from_the_url_path(url, name):
    assert fetch.url_name(url) == name


def test_git_sources_are_recognised():
    for src in ("git@github.com:moby/moby.git", "git://h/r", "https://h/r.git", "https://h/r#main"):
        assert fetch.is_git(src), src
    for src in ("https://h/file.tar", "http://h/a.gitx", "./local.git"):
        assert not fetch.is_git(src), src
    assert fetch.is_url("https://h/x") and not fetch.is_url("file:///etc/passwd")
