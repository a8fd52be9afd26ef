"""The image commands end to end: the real CLI in a subprocess on a private data root."""

import io
import json
import os
import re
import subprocess
import tarfile

import pytest

ID = re.compile(r"sha256:[0-9a-f]{64}")


def one_line_error(p, status=1):
    err = p.stderr.decode()
    assert p.returncode == status, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.rstrip("\n")


@pytest.fixture
def busybox(dy, busybox_tar):
    """busybox:latest imported with a CMD; returns its full id."""
    out = dy.out(
        "import", "-c", 'CMD ["sh"]', "-m", "from the test", str(busybox_tar), "busybox:latest"
    )
    assert ID.fullmatch(out.strip()), out
    return out.strip()


def columns(header: str) -> dict[str, int]:
    return {m.group(0): m.start() for m in re.finditer(r"[A-Z]+(?: [A-Z]+)*", header)}


def test_import_prints_the_id_and_applies_changes(dy, busybox_tar):
    out = dy.out(
        "import",
        "--change",
        "ENV A=1",
        "-c",
        "WORKDIR /srv",
        "-c",
        'CMD ["sh"]',
        "--message",
        "hello",
        str(busybox_tar),
        "me/app:1",
    )
    assert ID.fullmatch(out.rstrip("\n")) and out.endswith("\n")
    image_id = out.strip()
    fmt = "{{.Id}}|{{json .Config.Cmd}}|{{.Config.WorkingDir}}|{{json .Config.Env}}|{{.Comment}}"
    got = dy.out("image", "inspect", "-f", fmt, "me/app:1").strip().split("|")
    assert got[0] == image_id
    assert got[1] == '["sh"]'
    assert got[2] == "/srv"
    assert "A=1" in json.loads(got[3])
    assert got[4] == "hello"


def test_import_from_stdin(dy, busybox_tar):
    out = dy.out("import", "-", "fromstdin:x", input=busybox_tar.read_bytes())
    assert ID.fullmatch(out.strip())
    assert dy.out("images", "-q", "fromstdin") == out.strip()[7:19] + "\n"


def test_images_table_layout(dy, busybox):
    lines = dy.out("images").splitlines()
    header, row = lines
    assert header.startswith("REPOSITORY   TAG       IMAGE ID       CREATED")
    # Docker's tabwriter: each column as wide as its widest cell + 3, at least 10.
    created = row[columns(header)["CREATED"] : columns(header)["SIZE"]].rstrip()
    width = max(10, len("CREATED") + 3, len(created) + 3)
    assert header == "REPOSITORY   TAG       IMAGE ID       " + "CREATED".ljust(width) + "SIZE"
    assert row.startswith("busybox      latest    " + busybox[7:19] + "   ")
    assert created.endswith(" ago")
    assert re.fullmatch(r"\d+(\.\d+)?[kMG]?B", row.split()[-1])


def test_images_with_no_images_prints_the_header(dy):
    assert dy.out("images") == "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n"


def test_images_quiet_no_trunc_format_and_json(dy, busybox):
    dy("tag", "busybox", "me/app:1")
    assert dy.out("images", "-q") == f"{busybox[7:19]}\n{busybox[7:19]}\n"
    assert set(dy.out("images", "-q", "--no-trunc").split()) == {busybox}
    got = dy.out("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").splitlines()
    assert sorted(got) == [f"busybox:latest {busybox[7:19]}", f"me/app:1 {busybox[7:19]}"]
    rows = [json.loads(line) for line in dy.out("images", "--format", "json").splitlines()]
    assert {r["Repository"] for r in rows} == {"busybox", "me/app"}
    assert set(rows[0]) == {
        "Containers",
        "CreatedAt",
        "CreatedSince",
        "Digest",
        "ID",
        "Repository",
        "SharedSize",
        "Size",
        "Tag",
        "UniqueSize",
        "VirtualSize",
    }
    table = dy.out("images", "--format", "table {{.ID}}\t{{.Repository}}").splitlines()
    assert table[0] == "IMAGE ID       REPOSITORY"
    assert len(table) == 3


def test_images_filters(dy, busybox, busybox_tar):
    dangling = dy.out("import", "-c", "LABEL team=blue", str(busybox_tar)).strip()
    assert dy.out("images", "-q", "--filter", "dangling=true") == dangling[7:19] + "\n"
    assert dy.out("images", "-q", "-f", "label=team=blue") == dangling[7:19] + "\n"
    assert dy.out("images", "-q", "-f", "reference=busybox") == busybox[7:19] + "\n"
    assert dy.out("images", "-q", "busybox:latest") == busybox[7:19] + "\n"
    assert dy.out("images", "-q", "nothing-here") == ""
    row = [line for line in dy.out("images").splitlines() if line.startswith("<none>")]
    assert row and row[0].startswith("<none>       <none>    " + dangling[7:19])
    p = dy("images", "--filter", "dangling", check=False)
    assert p.returncode == 125
    assert p.stderr.decode() == (
        'invalid argument "dangling" for "-f, --filter" flag: '
        "bad format of filter (expected name=value)\n"
        "See 'dockyard images --help'.\n"
    )
    p = dy("images", "--filter", "nonsense=1", check=False)
    assert one_line_error(p).startswith("Error: ")


def test_tag(dy, busybox):
    assert dy.out("tag", "busybox", "localhost:5000/x/y:2") == ""
    assert dy.out("images", "-q", "localhost:5000/x/y:2") == busybox[7:19] + "\n"
    assert dy.out("image", "tag", busybox[7:19], "third") == ""
    assert dy.out("images", "--format", "{{.ID}}", "third") == busybox[7:19] + "\n"
    err = one_line_error(dy("tag", "busybox", "Bad:Name:x", check=False))
    assert err.startswith("Error: invalid reference format")
    err = one_line_error(dy("tag", "missing", "other", check=False))
    assert err == "Error: No such image: missing:latest"


def test_rmi_messages_and_status(dy, busybox):
    dy("tag", "busybox", "me/app:1")
    assert dy.out("rmi", "me/app:1") == "Untagged: me/app:1\n"
    p = dy("rmi", "nope", "busybox", check=False)
    assert p.returncode == 1
    assert p.stdout.decode() == f"Untagged: busybox:latest\nDeleted: {busybox}\n"
    assert p.stderr.decode() == "Error: No such image: nope:latest\n"
    assert dy.out("images", "-q") == ""
    # with --force, a missing image is reported but does not fail the command
    p = dy("image", "rm", "-f", "nope", check=False)
    assert (p.returncode, p.stdout, p.stderr) == (0, b"", b"Error: No such image: nope:latest\n")


def test_inspect(dy, busybox):
    out = dy.out("image", "inspect", "busybox")
    assert out.startswith('[\n    {\n        "Id": "' + busybox + '",\n')
    assert out.endswith("\n    }\n]\n")
    (obj,) = json.loads(out)
    assert obj["RepoTags"] == ["busybox:latest"]
    both = json.loads(dy.out("inspect", "busybox", busybox[7:19]))
    assert [o["Id"] for o in both] == [busybox, busybox]
    assert dy.out("inspect", "-f", "{{.Id}}", "busybox") == busybox + "\n"
    assert dy.out("inspect", "-f", "{{.Config.Labels.nope}}", "busybox") == "<no value>\n"
    assert (
        dy.out("inspect", "--type", "image", "--format", "{{json .RepoTags}}", "busybox")
        == '["busybox:latest"]\n'
    )
    compact = dy.out("image", "inspect", "--format", "json", "busybox")
    assert compact.count("\n") == 1 and json.loads(compact)[0]["Id"] == busybox

    p = dy("inspect", "busybox", "nosuchthing", check=False)
    assert p.returncode == 1
    assert json.loads(p.stdout)[0]["Id"] == busybox
    assert p.stderr == b"Error: No such object: nosuchthing\n"
    p = dy("inspect", "Not//AName", check=False)
    assert (p.returncode, p.stderr) == (1, b"Error: No such object: Not//AName\n")
    p = dy("image", "inspect", "nosuchthing", check=False)
    assert (p.returncode, p.stdout) == (1, b"[]\n")
    assert p.stderr == b"Error: No such image: nosuchthing:latest\n"
    p = dy("inspect", "-f", "{{.Nope}}", "busybox", check=False)
    assert p.returncode == 1
    assert p.stderr.decode().startswith("template parsing error: template: :1:2: executing")
    p = dy("inspect", "-f", "{{nope}}", "busybox", check=False)
    assert p.returncode == 64
    p = dy("inspect", "--type", "weird", "busybox", check=False)
    assert one_line_error(p).startswith('unknown type: "weird": must be one of "config"')


def test_history(dy, busybox):
    out = dy.out("history", "busybox").splitlines()
    assert re.match(r"IMAGE          CREATED +CREATED BY +SIZE +COMMENT$", out[0])
    assert out[1].startswith(busybox[7:19] + "   ")
    assert out[1].endswith("from the test")
    assert dy.out("history", "-q", "busybox") == busybox[7:19] + "\n"
    assert dy.out("image", "history", "-q", "--no-trunc", "busybox") == busybox + "\n"
    raw = dy.out("history", "--human=false", "--format", "{{.CreatedSince}}|{{.Size}}", "busybox")
    since, size = raw.strip().split("|")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", since)
    assert size.isdigit() and int(size) > 1000
    assert dy.out("history", "--format", "{{.Comment}}", "busybox") == "from the test\n"
    err = one_line_error(dy("history", "nope", check=False))
    assert err == "Error: No such image: nope:latest"


def test_save_and_load_round_trip(dy, busybox, tmp_path):
    archive = tmp_path / "out" / "busybox.tar"
    archive.parent.mkdir()
    assert dy.out("save", "-o", str(archive), "busybox") == ""
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as tf:
        names = tf.getnames()
    assert "manifest.json" in names and "index.json" in names
    assert os.listdir(archive.parent) == ["busybox.tar"]  # no temp file left behind

    dy("rmi", "busybox")
    assert dy.out("images", "-q") == ""
    assert dy.out("load", "-i", str(archive)) == "Loaded image: busybox:latest\n"
    assert dy.out("images", "-q", "--no-trunc") == busybox + "\n"

    piped = dy("save", "busybox").stdout
    with tarfile.open(fileobj=io.BytesIO(piped)) as tf:
        assert "manifest.json" in tf.getnames()
    dy("rmi", "busybox")
    assert dy.out("image", "load", "-q", input=piped) == "Loaded image: busybox:latest\n"


def test_save_failures_leave_nothing_behind(dy, busybox, tmp_path):
    target = tmp_path / "t" / "x.tar"
    target.parent.mkdir()
    err = one_line_error(dy("save", "-o", str(target), "busybox", "nope", check=False))
    assert err == "Error: No such image: nope:latest"
    assert os.listdir(target.parent) == []
    p = dy("save", "-o", str(tmp_path / "missing-dir" / "x.tar"), "busybox", check=False)
    assert one_line_error(p).startswith("failed to save image: open ")


def test_save_refuses_a_terminal(dy, busybox):
    import pty

    master, slave = pty.openpty()
    try:
        p = subprocess.run(
            dy.argv("save", "busybox"), stdout=slave, stderr=subprocess.PIPE, env=dy.env, timeout=60
        )
    finally:
        os.close(slave)
        os.close(master)
    assert p.returncode == 1
    assert p.stderr == b"cowardly refusing to save to a terminal. Use the -o flag or redirect\n"


def test_load_bad_input_is_one_line(dy, tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar archive" * 100)
    assert one_line_error(dy("load", "-i", str(junk), check=False)).startswith("Error: ")
    err = one_line_error(dy("load", "-i", str(tmp_path / "absent.tar"), check=False))
    assert err == f"open {tmp_path / 'absent.tar'}: no such file or directory"
    assert dy.out("images", "-q") == ""


def test_import_bad_input_is_one_line(dy, tmp_path):
    err = one_line_error(dy("import", "/nonexistent/rootfs.tar", check=False))
    assert err == "open /nonexistent/rootfs.tar: no such file or directory"
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\x00garbage" * 1000)
    assert one_line_error(dy("import", str(junk), "x:1", check=False)).startswith("Error: ")
    err = one_line_error(dy("import", "-c", "FROB x", str(junk), check=False))
    assert err.startswith("Error: ")
    assert dy.out("images", "-q") == ""


def test_image_prune(dy, busybox, busybox_tar):
    dangling = dy.out("import", str(busybox_tar)).strip()
    p = dy("image", "prune", input=b"n\n")
    assert p.stdout.decode() == (
        "WARNING! This will remove all dangling images.\n"
        "Are you sure you want to continue? [y/N] "
        "Total reclaimed space: 0B\n"
    )
    assert dangling[7:19] in dy.out("images", "-q")
    out = dy.out("image", "prune", "-f")
    assert out.startswith(f"Deleted Images:\ndeleted: {dangling}\n\nTotal reclaimed space: ")
    assert dy.out("images", "-q") == busybox[7:19] + "\n"
    out = dy.out("image", "prune", "-a", input=b"y\n")
    assert out.startswith(
        "WARNING! This will remove all images without at least one container "
        "associated to them.\nAre you sure you want to continue? [y/N] "
        "Deleted Images:\nuntagged: busybox:latest\n"
    )
    assert re.search(r"\n\nTotal reclaimed space: [\d.]+[kMG]?B\n$", out)
    assert dy.out("images", "-q") == ""


def test_system_prune(dy, busybox, busybox_tar):
    dy("import", str(busybox_tar))
    p = dy("system", "prune", input=b"\n")
    assert p.stdout.decode() == (
        "WARNING! This will remove:\n  - all stopped containers\n  - all dangling images\n"
        "  - dangling build cache\n\nAre you sure you want to continue? [y/N] "
    )
    cid = dy.out("create", "busybox", "true").strip()
    out = dy.out("system", "prune", "-f")
    assert out.startswith(f"Deleted Containers:\n{cid}\n\nDeleted Images:\ndeleted: sha256:")
    assert dy.out("images", "-q") == busybox[7:19] + "\n"
    assert dy.out("ps", "-aq") == ""


def test_system_df(dy, busybox):
    lines = dy.out("system", "df").splitlines()
    assert lines[0] == "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE"
    assert re.match(
        r"Images          1         0         [\d.]+[kMG]?B +[\d.]+[kMG]?B \(100%\)$", lines[1]
    )
    assert lines[2].split() == ["Containers", "0", "0", "0B", "0B"]
    verbose = dy.out("system", "df", "-v")
    assert verbose.startswith(
        "Images space usage:\n\nREPOSITORY   TAG       IMAGE ID       CREATED"
    )
    assert "\nbusybox      latest    " + busybox[7:19] in verbose
    rows = [json.loads(line) for line in dy.out("system", "df", "--format", "json").splitlines()]
    assert [r["Type"] for r in rows] == ["Images", "Containers", "Local Volumes", "Build Cache"]
    assert (
        dy.out("system", "df", "--format", "{{.Type}}={{.TotalCount}}").splitlines()[0]
        == "Images=1"
    )


def test_version_and_info(dy, busybox):
    out = dy.out("version")
    assert out.startswith("Client:\n Version:           0.1.0\n API version:       1.44\n")
    assert "\nServer: Dockyard Engine\n Engine:\n  Version:          0.1.0\n" in out
    assert dy.out("version", "--format", "{{.Server.Version}}") == "0.1.0\n"
    assert json.loads(dy.out("version", "-f", "json"))["Client"]["Version"] == "0.1.0"
    info = dy.out("info")
    assert "\n Images: 1\n" in info
    assert "\n Storage Driver: overlayfs\n" in info
    assert f"\n Dockyard Root Dir: {dy.root}\n" in info
    assert f"\n Kernel Version: {os.uname().release}\n" in info
    assert re.search(r"\n CPUs: \d+\n", info) and re.search(r"\n Cgroup Version: [12]\n", info)
    assert dy.out("system", "info", "--format", "{{.Images}} {{.Driver}}") == "1 overlayfs\n"
    assert dy.out("--version").startswith("dockyard version 0.1.0, build ")


def test_format_errors_are_one_line(dy, busybox):
    err = one_line_error(dy("images", "--format", "{{.Nope}}", check=False))
    assert err == (
        'template parsing error: template: :1:2: executing "" at <.Nope>: '
        "can't evaluate field Nope in type *formatter.imageContext"
    )
    err = one_line_error(dy("images", "--format", "{{.ID", check=False))
    assert err == "template parsing error: template: :1: unclosed action"


def test_before_since_and_digests(dy, busybox, busybox_tar):
    import time

    time.sleep(1.1)  # creation times have one-second resolution
    newer = dy.out("import", str(busybox_tar), "newer:1").strip()
    assert dy.out("images", "-q", "--filter", "since=busybox") == newer[7:19] + "\n"
    assert dy.out("images", "-q", "--filter", "before=newer:1") == busybox[7:19] + "\n"
    header = dy.out("images", "--digests").splitlines()[0]
    assert header.startswith("REPOSITORY   TAG       DIGEST    IMAGE ID       CREATED")
    assert dy.out("images", "--format", "{{.Digest}}", "newer") == "<none>\n"


def test_environment_chooses_the_data_root(dy, busybox):
    env = dict(dy.env, DOCKYARD_ROOT=str(dy.root), DOCKYARD_STATE=str(dy.state))
    p = subprocess.run(
        [*dy.argv()[:3], "images", "-q", "--no-trunc"], env=env, capture_output=True, timeout=60
    )
    assert (p.returncode, p.stdout.decode()) == (0, busybox + "\n")


def test_a_closed_pipe_ends_quietly(dy, busybox):
    # Enough output to fill the pipe, then the reader goes away (like `| head -c 10`).
    p = subprocess.Popen(
        dy.argv("inspect", *["busybox"] * 3000),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dy.env,
    )
    assert p.stdout.read(10) == b"[\n    {\n  "
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=120) == 141
    assert err == b""


def test_import_from_a_url(dy, busybox_tar):
    import functools
    import http.server
    import threading

    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(busybox_tar.parent)
    )
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{busybox_tar.name}"
        out = dy.out("import", url, "fromurl:1")
        assert ID.fullmatch(out.strip())
        p = dy("import", url + ".missing", check=False)
        assert one_line_error(p).startswith("Error: ")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert dy.out("images", "--format", "{{.Repository}}:{{.Tag}}") == "fromurl:1\n"
