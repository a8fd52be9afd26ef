"""`ADD <url>` against a server on loopback, and ONBUILD triggers of a base image, observed
in the built images."""

import hashlib

import pytest
from build_support import FileServer, busybox_cli
from build_support import make_context as context
from build_support import read_file as read

BODY = b"remote file body\n" * 100
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
LAST_MODIFIED_EPOCH = 1445412480


@pytest.fixture(scope="module")
def cli(tmp_path_factory, busybox_tar):
    return busybox_cli(tmp_path_factory.mktemp("dy-addurl"), busybox_tar)


@pytest.fixture
def server():
    s = FileServer(
        {
            "/files/data.txt": (200, {"Last-Modified": LAST_MODIFIED}, BODY),
            "/moved": (302, {"Location": "/files/data.txt"}, b""),
            "/files/other.bin": (200, {}, b"other"),
            "/missing": (404, {}, b""),
        }
    )
    yield s
    s.close()


def test_add_url_names_the_file_from_the_path_with_mode_and_mtime(cli, server, tmp_path):
    df = f"FROM busybox\nADD {server.url}/files/data.txt /dl/\nADD {server.url}/moved /renamed\n"
    cli("build", "-t", "url:1", str(context(tmp_path, df)))
    view = cli.view("url:1")
    assert read(view, "/dl/data.txt") == BODY
    assert read(view, "/renamed") == BODY  # a same-host redirect is followed
    _, st = view.lookup(view.resolve("/dl/data.txt"))
    assert oct(st.st_mode & 0o777) == oct(0o600)  # Docker's mode for downloads
    assert st.st_mtime == LAST_MODIFIED_EPOCH


def test_add_url_checksum_verified_and_mismatch_names_the_line(cli, server, tmp_path):
    good = "sha256:" + hashlib.sha256(BODY).hexdigest()
    df = f"FROM busybox\nADD --checksum={good} {server.url}/files/data.txt /d.txt\n"
    cli("build", "-t", "url:2", str(context(tmp_path, df)))
    assert read(cli.view("url:2"), "/d.txt") == BODY
    before = cli("image", "ls", "-q", "-a").stdout
    bad = "sha256:" + "0" * 64
    df = f"FROM busybox\nRUN true\nADD --checksum={bad} {server.url}/files/data.txt /d.txt\n"
    p = cli("build", str(context(tmp_path / "b", df)), check=False)
    err = p.stderr.decode()
    assert p.returncode != 0 and "Dockerfile:3" in err and "checksum mismatch" in err, err
    assert cli("image", "ls", "-q", "-a").stdout == before  # no image left behind


def test_add_url_cache_follows_the_content(cli, server, tmp_path):
    df = f"FROM busybox\nADD {server.url}/files/other.bin /o\n"
    ctx = context(tmp_path, df)
    cli("build", "-t", "url:3", str(ctx))
    again = cli.plain("-t", "url:3b", str(ctx))
    step = next(v for k, v in again.items() if k.startswith("ADD"))
    assert "CACHED" in " ".join(step)
    assert server.hits["/files/other.bin"] == 2  # fetched again to compare the content
    server.routes["/files/other.bin"] = (200, {}, b"changed")
    cli("build", "-t", "url:4", str(ctx))
    assert read(cli.view("url:4"), "/o") == b"changed"
    assert read(cli.view("url:3"), "/o") == b"other"


def test_add_url_pinned_by_checksum_is_not_fetched_when_cached(cli, server, tmp_path):
    good = "sha256:" + hashlib.sha256(BODY).hexdigest()
    df = f"FROM busybox\nADD --checksum={good} {server.url}/files/data.txt /p\n"
    ctx = context(tmp_path, df)
    cli("build", "-t", "url:5", str(ctx))
    cli("build", "-t", "url:6", str(ctx))
    assert server.hits["/files/data.txt"] == 1
    assert cli.inspect("url:5")["Id"] == cli.inspect("url:6")["Id"]


def test_add_url_errors(cli, server, tmp_path):
    cases = [
        (f"ADD {server.url}/missing /m", "404"),
        ("ADD https://github.com/moby/moby.git /src", "git repository is not supported"),
        ("ADD --checksum=sha256:abc /Dockerfile /x", "checksum"),
    ]
    for i, (line, want) in enumerate(cases):
        p = cli("build", str(context(tmp_path / str(i), f"FROM busybox\n{line}\n")), check=False)
        err = p.stderr.decode()
        assert p.returncode != 0 and want in err and "Dockerfile:2" in err, (line, err)


def test_onbuild_triggers_run_at_the_start_of_the_child(cli, tmp_path):
    parent = (
        "FROM busybox\n"
        "ONBUILD COPY app.txt /app/\n"
        "ONBUILD RUN cat /app/app.txt > /app/seen-by-trigger\n"
        "ONBUILD ENV FROM_TRIGGER=yes\n"
    )
    cli("build", "-t", "obparent:1", str(context(tmp_path / "p", parent)))
    assert cli.inspect("obparent:1")["Config"]["OnBuild"] == [
        "COPY app.txt /app/",
        "RUN cat /app/app.txt > /app/seen-by-trigger",
        "ENV FROM_TRIGGER=yes",
    ]
    ctx = context(tmp_path / "c", "FROM obparent:1\nRUN echo $FROM_TRIGGER > /env\n")
    (ctx / "app.txt").write_text("child context")
    cli("build", "-t", "obchild:1", str(ctx))
    view = cli.view("obchild:1")
    assert read(view, "/app/app.txt") == b"child context"
    assert read(view, "/app/seen-by-trigger") == b"child context"
    assert read(view, "/env") == b"yes\n"
    child = cli.inspect("obchild:1")["Config"]
    assert not child.get("OnBuild")  # triggers are not inherited
    # a grandchild does not run them again
    ctx2 = context(tmp_path / "g", "FROM obchild:1\nRUN test ! -e /app/again\n")
    cli("build", "-t", "obgrand:1", str(ctx2))


def test_onbuild_trigger_failure_names_the_from_line(cli, tmp_path):
    cli(
        "build", "-t", "obbad:1", str(context(tmp_path / "p", "FROM busybox\nONBUILD RUN exit 3\n"))
    )
    p = cli("build", str(context(tmp_path / "c", "# c\nFROM obbad:1\n")), check=False)
    err = p.stderr.decode()
    assert p.returncode != 0 and "Dockerfile:2" in err and "exit code: 3" in err, err


def test_onbuild_forbidden_triggers_from_an_image_are_refused():
    from dockyard.build.triggers import parse_triggers
    from dockyard.errors import InvalidArgument

    for bad in (" FROM busybox", "ONBUILD RUN x", "maintainer me", "RUN a\nFROM b"):
        with pytest.raises(InvalidArgument, match="Dockerfile:7"):
            parse_triggers(("RUN true", bad), "img", 7)
    assert [t.keyword for t in parse_triggers(("RUN true", "ENV A=1"), "img", 7)] == ["RUN", "ENV"]
