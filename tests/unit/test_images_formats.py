"""Pure format code of images/: member names, timestamps, Docker JSON shapes, the reference
filter's glob; and the archive/ tar reader and writer the way save and load use them."""

import io
import os
import tarfile

import pytest

from dockyard.archive import tarformat as tf
from dockyard.archive.tarreader import TarReader
from dockyard.archive.tarwriter import TarWriter
from dockyard.errors import InvalidArgument
from dockyard.images import dockerjson, timefmt
from dockyard.images.load import clean_name
from dockyard.images.query import _path_match, reference_matches
from dockyard.oci.image import ContainerConfig, History, ImageConfig


def _tar(entries) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                t.addfile(info, io.BytesIO(payload))
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = payload
                t.addfile(info)
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
    return buf.getvalue()


class Trickle(io.RawIOBase):
    """A pipe-like stream returning at most 7 bytes per read (short reads everywhere)."""

    def __init__(self, data: bytes):
        self._f = io.BytesIO(data)

    def readable(self):
        return True

    def read(self, n=-1):
        return self._f.read(min(7, n) if n and n > 0 else 7)

    def readinto(self, b):
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def _members(data: bytes):
    r = TarReader(Trickle(data))
    out = []
    for m in r:
        body = b"".join(r.read_chunks()) if m.type == tf.REG else b""
        out.append((m.name, m.type, m.linkname, body))
    return out


def test_reader_streams_files_links_and_long_pax_names():
    long = "d/" + "x" * 150 + "/file"
    data = _tar([("d", "dir", None), ("a.txt", "file", b"hello"), (long, "file", b"y" * 1000),
                 ("l", "symlink", "../a.txt")])  # fmt: skip
    got = _members(data)
    assert got[1] == ("a.txt", b"0", "", b"hello")
    assert got[2] == (long, b"0", "", b"y" * 1000)
    assert got[3][:3] == ("l", b"2", "../a.txt")


def test_reader_skips_bodies_it_is_not_asked_for():
    data = _tar([("a", "file", b"1" * 3000), ("b", "file", b"2")])
    r = TarReader(io.BytesIO(data))
    names = [m.name for m in r]
    assert names == ["a", "b"]


def test_reader_refuses_garbage_and_truncation():
    with pytest.raises(InvalidArgument, match="checksum"):
        list(TarReader(io.BytesIO(b"x" * 1024)))
    data = _tar([("a", "file", b"z" * 5000)])
    r = TarReader(io.BytesIO(data[:2000]))
    with pytest.raises(InvalidArgument, match="truncated"):
        for _ in r:
            for _chunk in r.read_chunks():
                pass


def test_read_chunks_are_bounded_and_immutable():
    body = bytes(range(256)) * 10_000  # 2.5 MiB: more than one chunk
    data = _tar([("a", "file", body), ("b", "file", b"after")])
    for src in (io.BytesIO(data), Trickle(data)):
        r = TarReader(src)
        next(iter(r))
        chunks = list(r.read_chunks())
        assert all(isinstance(c, bytes) and 0 < len(c) <= 1 << 20 for c in chunks)
        assert b"".join(chunks) == body
        assert [(e.name, r.read_data()) for e in r] == [("b", b"after")]


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd", "a/.."])
def test_clean_name_refuses_escapes(name):
    with pytest.raises(InvalidArgument):
        clean_name(name)


def test_clean_name_normalizes():
    assert clean_name("./blobs//sha256/abc/") == "blobs/sha256/abc"


def test_writer_output_reads_back_with_tarfile(tmp_path):
    src = tmp_path / "blob"
    src.write_bytes(b"b" * 70000)
    for out in (io.BytesIO(), open(tmp_path / "out.tar", "w+b")):  # noqa: SIM115
        w = TarWriter(out)
        w.add_dir("blobs")
        fd = os.open(src, os.O_RDONLY)
        try:
            w.add_file("blobs/sha256/" + "a" * 64, fd)
        finally:
            os.close(fd)
        w.add_file("index.json", b"{}")
        w.close()
        out.seek(0)
        with tarfile.open(fileobj=out) as t:
            names = t.getnames()
            assert names == ["blobs", "blobs/sha256/" + "a" * 64, "index.json"]
            assert t.extractfile("blobs/sha256/" + "a" * 64).read() == b"b" * 70000
            assert all(m.mtime == 0 and m.uid == 0 for m in t.getmembers())
        out.close()


def test_rfc3339nano_like_go():
    assert timefmt.now_rfc3339nano(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z"
    assert timefmt.now_rfc3339nano(1_700_000_000_100_000_000) == "2023-11-14T22:13:20.1Z"
    assert timefmt.now_rfc3339nano(1_700_000_000_000_000_000) == "2023-11-14T22:13:20Z"
    assert timefmt.to_unix("2023-11-14T22:13:20.123456789Z") == 1_700_000_000
    assert timefmt.to_unix("2023-11-14T23:13:20+01:00") == 1_700_000_000
    assert timefmt.to_unix("") == 0


def test_inspect_has_dockers_full_config_shape():
    cfg = ImageConfig(created="2024-01-01T00:00:00Z", config=ContainerConfig(cmd=("sh",)),
                      diff_ids=("sha256:" + "1" * 64,),
                      history=(History(created="2024-01-01T00:00:00Z", comment="Imported from -"),))  # fmt: skip
    facts = dockerjson.InspectFacts("sha256:" + "2" * 64, "", ["busybox:latest"], [], 10,
                                    ["/s/2/fs", "/s/1/fs"])  # fmt: skip
    out = dockerjson.inspect(cfg, facts)
    assert list(out["Config"]) == [
        "Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "Tty",
        "OpenStdin", "StdinOnce", "Env", "Cmd", "Image", "Volumes", "WorkingDir", "Entrypoint",
        "OnBuild", "Labels",
    ]  # fmt: skip
    assert out["Config"]["Cmd"] == ["sh"] and out["Config"]["Env"] is None
    assert out["Comment"] == "Imported from -"
    assert out["GraphDriver"] == {
        "Data": {"LowerDir": "/s/1/fs", "MergedDir": "/s/2/merged", "UpperDir": "/s/2/fs",
                 "WorkDir": "/s/2/work"},
        "Name": "overlay2",
    }  # fmt: skip
    assert out["RootFS"] == {"Type": "layers", "Layers": ["sha256:" + "1" * 64]}


def test_history_is_newest_first_with_id_on_top():
    cfg = ImageConfig(
        diff_ids=("sha256:" + "1" * 64, "sha256:" + "2" * 64),
        history=(History(created="2024-01-01T00:00:00Z", created_by="ADD x"),
                 History(created="2024-01-01T00:00:01Z", created_by="ENV a=b", empty_layer=True),
                 History(created="2024-01-01T00:00:02Z", created_by="RUN y")),
    )  # fmt: skip
    rows = dockerjson.history(cfg, "sha256:" + "9" * 64, ["x:1"], [100, 200])
    assert [r.CreatedBy for r in rows] == ["RUN y", "ENV a=b", "ADD x"]
    assert [r.Size for r in rows] == [200, 0, 100]
    assert [r.Id for r in rows] == ["sha256:" + "9" * 64, "<missing>", "<missing>"]
    assert rows[0].Tags == ["x:1"] and rows[1].Tags is None


@pytest.mark.parametrize(
    "pattern,name,ok",
    [("busy*", "busybox", True), ("*", "me/app", False), ("*/*", "me/app", True),
     ("b?sybox", "busybox", True), ("[ab]usybox", "busybox", True), ("x", "busybox", False)],
)  # fmt: skip
def test_go_path_match(pattern, name, ok):
    assert _path_match(pattern, name) is ok


def test_reference_filter_matches_familiar_name_or_name_tag():
    assert reference_matches("busybox", "docker.io/library/busybox:latest")
    assert reference_matches("busybox:lat*", "docker.io/library/busybox:latest")
    assert not reference_matches("busybox:1", "docker.io/library/busybox:latest")
    assert reference_matches("me/*", "docker.io/me/app:1")


def test_chunk_pipe_reads_across_chunks_and_ends():
    import threading

    from dockyard.images.pipeunpack import ChunkPipe

    pipe = ChunkPipe()
    chunks = [b"abc", b"", b"defgh", b"i" * 5000]

    def writer():
        for c in chunks:
            pipe.put(c)
        pipe.close()
        pipe.close()  # closing twice is harmless

    t = threading.Thread(target=writer)
    t.start()
    got = bytearray()
    buf = bytearray(7)
    while n := pipe.readinto(buf):
        got += buf[:n]
    t.join()
    assert bytes(got) == b"".join(chunks)
    assert pipe.read(10) == b""
