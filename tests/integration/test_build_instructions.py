"""`dockyard build` on the real kernel: every instruction observed in the built image
(its config through `image inspect`, its files read from the image's snapshots)."""

import gzip
import io
import os
import tarfile

import pytest
from build_support import busybox_cli
from build_support import make_context as context


def read(view, path: str) -> bytes:
    found = view.lookup(view.resolve(path))
    assert found is not None, f"{path} is not in the image"
    with open(found[0], "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def cli(tmp_path_factory, busybox_tar):
    return busybox_cli(tmp_path_factory.mktemp("dy-build"), busybox_tar)


def test_six_step_build_gives_the_expected_image(cli, tmp_path):
    big = os.urandom(1 << 20)
    ctx = context(tmp_path, "FROM busybox\nENV A=1\nWORKDIR /app\nCOPY big.bin .\n"
                  "RUN for i in $(seq 1 200); do echo $i > f$i; done; echo A is $A\n"
                  'CMD ["sh", "-c", "ls"]\n', {"big.bin": big})  # fmt: skip
    p = cli("build", "-t", "six:1", str(ctx))
    out = p.stdout.decode()
    assert "Step 1/6 : FROM busybox" in out and "Step 5/6 : RUN for i" in out
    assert "A is 1" in out  # RUN output streamed, ENV visible to RUN
    assert "Successfully tagged six:1" in out
    img = cli.inspect("six:1")
    assert out.strip().splitlines()[-2] == f"Successfully built {img['Id'][7:19]}"
    cfg = img["Config"]
    assert "A=1" in cfg["Env"] and cfg["WorkingDir"] == "/app"
    assert cfg["Cmd"] == ["sh", "-c", "ls"]
    view = cli.view("six:1")
    assert read(view, "/app/big.bin") == big
    assert read(view, "/app/f200") == b"200\n"
    assert read(view, "/bin/busybox")  # the base image is below


def test_history_marks_metadata_steps_empty(cli, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nENV X=1\nRUN touch /x\nLABEL a=b\n")
    cli("build", "-t", "hist:1", str(ctx))
    cfg = cli.config("hist:1")
    mine = cfg.history[-3:]
    assert [h.empty_layer for h in mine] == [True, False, True]
    assert mine[0].created_by == "ENV X=1"
    assert mine[1].created_by.startswith("RUN /bin/sh -c touch /x")
    assert len(cfg.diff_ids) == 2  # busybox + the RUN layer
    assert cli.inspect("hist:1")["Parent"] == cli.inspect("busybox")["Id"]


def test_metadata_instructions(cli, tmp_path):
    ctx = context(
        tmp_path,
        """FROM busybox
LABEL org.example.a="one" b=two
EXPOSE 80 53/udp
USER 1000:1000
VOLUME ["/data", "/logs"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost || exit 1
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo triggered
ENTRYPOINT ["/bin/echo"]
MAINTAINER someone@example.com
""",
    )
    cli("build", "-t", "meta:1", "--label", "extra=yes", str(ctx))
    img = cli.inspect("meta:1")
    c = img["Config"]
    assert c["Labels"] == {"org.example.a": "one", "b": "two", "extra": "yes"}
    assert set(c["ExposedPorts"]) == {"80/tcp", "53/udp"}
    assert c["User"] == "1000:1000"
    assert set(c["Volumes"]) == {"/data", "/logs"}
    assert c["StopSignal"] == "SIGTERM"
    assert c["Healthcheck"]["Test"] == ["CMD-SHELL", "wget -q localhost || exit 1"]
    assert c["Healthcheck"]["Interval"] == 5_000_000_000 and c["Healthcheck"]["Retries"] == 2
    assert c["Shell"] == ["/bin/sh", "-ec"]
    assert c["OnBuild"] == ["RUN echo triggered"]
    assert c["Entrypoint"] == ["/bin/echo"]
    assert c["Cmd"] is None  # ENTRYPOINT drops the CMD inherited from busybox
    assert img["Author"] == "someone@example.com"


def test_run_forms_user_shell_and_args(cli, tmp_path):
    ctx = context(
        tmp_path,
        """FROM busybox
ARG GREETING=hello
RUN echo "$GREETING" > /greeting
RUN ["/bin/sh", "-c", "echo exec-form > /exec"]
SHELL ["/bin/sh", "-e", "-c"]
RUN echo shell-changed > /shell
RUN mkdir -p /home/u && chown 1234:1234 /home/u
USER 1234
RUN id -u > /home/u/uid
USER root
WORKDIR /made/by/workdir
RUN pwd > here
""",
    )
    cli("build", "--build-arg", "GREETING=bonjour", "-t", "runs:1", str(ctx))
    v = cli.view("runs:1")
    assert read(v, "/greeting") == b"bonjour\n"
    assert read(v, "/exec") == b"exec-form\n"
    assert read(v, "/shell") == b"shell-changed\n"
    assert read(v, "/home/u/uid") == b"1234\n"
    assert read(v, "/made/by/workdir/here") == b"/made/by/workdir\n"
    assert "GREETING" not in " ".join(cli.inspect("runs:1")["Config"]["Env"])


def test_run_is_isolated_with_docker_defaults(cli, tmp_path):
    ctx = context(
        tmp_path,
        """FROM busybox
RUN grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status > /status; \\
    ls /sys/class/net > /netdevs; echo $$ > /pid
""",
    )
    cli("build", "-t", "iso:1", str(ctx))
    v = cli.view("iso:1")
    status = dict(ln.split(":\t") for ln in read(v, "/status").decode().splitlines())
    assert status["CapEff"] == "00000000a80425fb"  # Docker's default 14 capabilities
    assert status["Seccomp"] == "2" and status["NoNewPrivs"] == "1"
    assert read(v, "/netdevs").split() == [b"lo"]  # --network none
    assert read(v, "/pid") == b"1\n"  # own pid namespace


def test_copy_semantics(cli, tmp_path):
    ctx = context(tmp_path, """FROM busybox
COPY dir /d1/
COPY dir/sub/c.txt /renamed.txt
COPY a.txt b.txt /many/
COPY *.md /docs/
COPY --chown=7:8 --chmod=600 a.txt /owned
COPY exe /exe-copy
COPY <<EOF /inline.txt
inline data
EOF
""", {"dir/x.txt": "x", "dir/sub/c.txt": "c", "a.txt": "a", "b.txt": "b",
      "one.md": "1", "two.md": "2", "exe": "#!/bin/sh\n"})  # fmt: skip
    os.chmod(ctx / "exe", 0o751)
    cli("build", "-t", "copy:1", str(ctx))
    v = cli.view("copy:1")
    assert read(v, "/d1/x.txt") == b"x" and read(v, "/d1/sub/c.txt") == b"c"
    assert v.stat("/d1/dir") is None  # a directory's contents are copied, not the dir
    assert read(v, "/renamed.txt") == b"c"
    assert read(v, "/many/a.txt") == b"a" and read(v, "/many/b.txt") == b"b"
    assert read(v, "/docs/one.md") == b"1" and read(v, "/docs/two.md") == b"2"
    st = v.stat("/owned")
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (7, 8, 0o600)
    st = v.stat("/exe-copy")
    assert st.st_mode & 0o7777 == 0o751 and st.st_uid == 0
    assert read(v, "/inline.txt") == b"inline data\n"
    assert v.stat("/bin").st_mode & 0o7777 == 0o755  # untouched dirs keep their mode


def test_dockerignore_keeps_files_out(cli, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nCOPY . /ctx/\n", {
        ".dockerignore": "secret*\nlogs/\n!logs/keep.log\n", "secret.key": "k",
        "app.py": "print()", "logs/a.log": "a", "logs/keep.log": "keep"})  # fmt: skip
    cli("build", "-t", "ignore:1", str(ctx))
    v = cli.view("ignore:1")
    assert read(v, "/ctx/app.py") == b"print()"
    assert v.stat("/ctx/secret.key") is None and v.stat("/ctx/logs/a.log") is None
    assert read(v, "/ctx/logs/keep.log") == b"keep"
    other = context(
        tmp_path / "b",
        "FROM busybox\nCOPY secret.key /\n",
        {".dockerignore": "secret.key\n", "secret.key": "k"},
    )
    p = cli("build", "-t", "ignore:2", str(other), check=False)
    assert p.returncode != 0 and b"Dockerfile:2" in p.stderr and b"secret.key" in p.stderr


def test_add_unpacks_a_local_tar(cli, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("pkg/hello.txt")
        data = b"from the tar\n"
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    ctx = context(
        tmp_path,
        "FROM busybox\nADD bundle.tar.gz /opt/\nADD plain.txt /opt/\n",
        {"bundle.tar.gz": gzip.compress(buf.getvalue()), "plain.txt": "p"},
    )
    cli("build", "-t", "add:1", str(ctx))
    v = cli.view("add:1")
    assert read(v, "/opt/pkg/hello.txt") == b"from the tar\n"
    assert read(v, "/opt/plain.txt") == b"p"
    assert v.stat("/opt/bundle.tar.gz") is None


def test_multi_stage_with_global_arg_heredoc_and_copy_from(cli, tmp_path):
    ctx = context(
        tmp_path,
        """ARG BASE=busybox
ARG VERSION=1
FROM ${BASE} AS builder
ARG VERSION
RUN <<EOF
mkdir -p /out
echo "built v$VERSION" > /out/result
EOF
FROM builder AS tester
RUN cat /out/result > /tested
FROM scratch
COPY --from=builder /out/result /result
COPY --from=0 /bin/busybox /bin/busybox
""",
    )
    out = cli("build", "--build-arg", "VERSION=7", "-t", "multi:1", str(ctx)).stdout.decode()
    assert "RUN cat /out/result" not in out  # the tester stage is not needed
    v = cli.view("multi:1")
    assert read(v, "/result") == b"built v7\n"
    assert read(v, "/bin/busybox")
    assert v.stat("/tested") is None
    assert len(cli.inspect("multi:1")["RootFS"]["Layers"]) == 2
    cli("build", "--target", "tester", "-t", "multi:tester", str(ctx))
    assert read(cli.view("multi:tester"), "/tested") == b"built v1\n"


def test_stdin_contexts_iidfile_and_quiet(cli, tmp_path):
    df = b"FROM busybox\nRUN echo from-stdin > /s\n"
    p = cli("build", "-q", "-t", "stdin:1", "-", input=df)
    image_id = p.stdout.decode().strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    assert read(cli.view("stdin:1"), "/s") == b"from-stdin\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("Dockerfile", b"FROM busybox\nCOPY f /f\n"), ("f", b"in tar")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    iid = tmp_path / "iid"
    cli("build", "--iidfile", str(iid), "-t", "stdin:2", "-", input=buf.getvalue())
    assert iid.read_text() == cli.inspect("stdin:2")["Id"]
    assert read(cli.view("stdin:2"), "/f") == b"in tar"
    ctx = context(tmp_path, "", {"g": "gg"})
    cli("build", "-f", "-", "-t", "stdin:3", str(ctx), input=b"FROM busybox\nCOPY g /g\n")
    assert read(cli.view("stdin:3"), "/g") == b"gg"


def test_source_date_epoch_makes_builds_reproducible(cli, tmp_path):
    ctx = context(tmp_path, "FROM busybox\nCOPY f /f\nRUN echo x > /y\n", {"f": "f"})
    ids = []
    for _ in range(2):
        p = cli("build", "-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000",
                str(ctx))  # fmt: skip
        ids.append(p.stdout.decode().strip())
    assert ids[0] == ids[1]
    assert cli.inspect(ids[0])["Created"].startswith("2023-11-14T22:13:20")


def test_each_run_step_gets_a_network_namespace_of_its_own_with_lo_up(cli, tmp_path):
    ctx = context(
        tmp_path,
        """FROM busybox
COPY big.bin /big.bin
RUN readlink /proc/self/ns/net > /ns1; cat /sys/class/net/lo/flags > /loflags; \\
    ls /sys/class/net > /netdevs; ping -c1 -W2 127.0.0.1 >/dev/null && echo ok > /ping
RUN readlink /proc/self/ns/net > /ns2; ls /sys/class/net > /netdevs2
""",
        {"big.bin": os.urandom(3 << 20)},
    )
    cli("build", "-t", "netns:1", str(ctx))
    v = cli.view("netns:1")
    assert read(v, "/netdevs").split() == [b"lo"] and read(v, "/netdevs2").split() == [b"lo"]
    assert int(read(v, "/loflags"), 16) & 1  # IFF_UP
    assert read(v, "/ping") == b"ok\n"
    host = os.readlink("/proc/self/ns/net").encode()
    ns1, ns2 = read(v, "/ns1").strip(), read(v, "/ns2").strip()
    assert ns1.startswith(b"net:[") and len({ns1, ns2, host}) == 3  # nothing shared
