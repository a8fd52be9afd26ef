"""`--log-driver`/`--log-opt` checked with Docker's messages, the json-file log rotating
as Docker's (`<id>-json.log` -> `.1` -> `.2`), and `logs` reading across the rotated
files (whole history, --tail, following a rotation); `--add-host` checked as Docker's
client checks it and written into /etc/hosts. Pure code on a tmp dir."""

import os

import pytest

from dockyard.errors import FailedPrecondition, InvalidArgument, Unsupported
from dockyard.runtime import etcfiles as E
from dockyard.runtime import jsonlog as J


@pytest.mark.parametrize(
    "driver,opts,error,message",
    [
        ("syslog", (), Unsupported, "logger: no log driver named 'syslog' is registered"),
        ("json-file", (("foo", "1"),), InvalidArgument, "unknown log opt 'foo' for json-file log driver"),
        ("json-file", (("max-size", "abc"),), InvalidArgument, "invalid size: 'abc'"),
        ("json-file", (("max-size", "0"),), InvalidArgument, "max-size must be a positive number"),
        ("json-file", (("max-size", "1m"), ("max-file", "0")), InvalidArgument, "max-file cannot be less than 1"),
        ("json-file", (("max-size", "1m"), ("max-file", "x")), InvalidArgument, 'strconv.Atoi: parsing "x": invalid syntax'),
        ("json-file", (("max-file", "3"),), InvalidArgument, "max-file needs max-size: set --log-opt max-size as well"),
        ("json-file", ("max-size",), InvalidArgument, "invalid size: ''"),
        ("json-file", ("colour",), InvalidArgument, "unknown log opt 'colour' for json-file log driver"),
    ],
)  # fmt: skip
def test_bad_log_options_are_refused_with_dockers_messages(driver, opts, error, message):
    with pytest.raises(error) as e:
        J.log_config(driver, opts)
    assert str(e.value) == message


def test_good_log_options():
    assert J.log_config("json-file", (("max-size", "10m"), ("max-file", "3"))) == (
        ("max-size", "10m"), ("max-file", "3"),
    )  # fmt: skip
    assert J.log_config("json-file", ("max-size=1k",)) == (("max-size", "1k"),)
    assert J.log_config("none", ()) == ()
    assert J.limits({"max-size": "10m", "max-file": "3"}) == (10_000_000, 3)
    assert J.limits({}) == (-1, 1)


@pytest.mark.parametrize(
    "text,n", [("1", 1), ("1k", 1000), ("10m", 10_000_000), ("1.5KB", 1500), ("2MiB", 2_000_000),
               ("3g", 3_000_000_000)],
)  # fmt: skip
def test_from_human_size_is_decimal_like_go_units(text, n):
    assert J.from_human_size(text) == n


def _lines(n: int, start: int = 0) -> list[bytes]:
    return [J.encode(f"line {i}\n".encode(), "stdout", 1_000_000_000 * (i + 1)) for i in
            range(start, start + n)]  # fmt: skip


def _texts(entries) -> list[str]:
    return [e.data.decode().rstrip("\n") for e in entries]


def test_rotation_keeps_max_files_and_reading_follows_the_order(tmp_path):
    path = str(tmp_path / "c-json.log")
    one = len(_lines(1)[0])
    log = J.LogFile(path, max_size=3 * one, max_files=3)
    for i in range(20):
        log.write_lines(_lines(1, i))
    log.close()
    names = sorted(os.listdir(tmp_path))
    assert names == ["c-json.log", "c-json.log.1", "c-json.log.2"]
    assert J.rotated(path) == [path + ".2", path + ".1"]
    f = J.Follower(path)
    got = _texts(f.initial())
    f.close()
    # three files of three lines at most: the last lines, in order, nothing twice
    assert got == [f"line {i}" for i in range(20 - len(got), 20)]
    assert 7 <= len(got) <= 9


def test_a_single_file_is_truncated_in_place(tmp_path):
    path = str(tmp_path / "c-json.log")
    one = len(_lines(1)[0])
    log = J.LogFile(path, max_size=2 * one, max_files=1)
    log.write_lines(_lines(5))
    log.close()
    assert os.listdir(tmp_path) == ["c-json.log"]
    assert os.path.getsize(path) <= 2 * one


def test_without_max_size_nothing_rotates(tmp_path):
    path = str(tmp_path / "c-json.log")
    log = J.LogFile(path)
    log.write_lines(_lines(100))
    log.close()
    assert os.listdir(tmp_path) == ["c-json.log"]


def test_follow_reads_across_a_rotation(tmp_path):
    path = str(tmp_path / "c-json.log")
    one = len(_lines(1)[0])
    log = J.LogFile(path, max_size=4 * one, max_files=3)
    log.write_lines(_lines(2))
    f = J.Follower(path)
    assert _texts(f.initial()) == ["line 0", "line 1"]
    log.write_lines(_lines(5, 2))  # lines 2-3 fill the file, 4-6 go to a new one
    assert _texts(f.more()) == [f"line {i}" for i in range(2, 7)]
    assert _texts(f.more()) == []
    log.write_lines(_lines(10, 7))  # three rotations before the next look
    assert _texts(f.more()) == [f"line {i}" for i in range(7, 17)]
    log.close()
    f.close()


def test_stream_tail_since_and_timestamps(tmp_path):
    path = str(tmp_path / "c-json.log")
    log = J.LogFile(path, max_size=200, max_files=5)
    log.write_lines(_lines(10))
    log.close()
    out = list(J.stream(path, lambda: False, tail=3))
    assert [d for _, d in out] == [b"line 7\n", b"line 8\n", b"line 9\n"]
    out = list(J.stream(path, lambda: False, since=5.5, until=7.0))
    assert [d for _, d in out] == [b"line 5\n", b"line 6\n"]
    out = list(J.stream(path, lambda: False, tail=1, timestamps=True))
    assert out == [("stdout", b"1970-01-01T00:00:10Z line 9\n")]


def test_open_log_follows_the_config_file(tmp_path):
    path = str(tmp_path / "c-json.log")
    assert J.readable(str(tmp_path))
    log = J.open_log(path)
    assert (log.max_size, log.max_files) == (-1, 1)
    log.close()
    J.write_config(str(tmp_path), "json-file", (("max-size", "1k"), ("max-file", "2")))
    log = J.open_log(path)
    assert (log.max_size, log.max_files) == (1000, 2)
    log.close()
    J.write_config(str(tmp_path), "none", ())
    assert J.open_log(path) is None and not J.readable(str(tmp_path))
    w = J.Writer(None, "stdout")  # driver none: nothing is written
    w.feed(b"x\n")
    w.close()


# -- --add-host ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,stored",
    [("db:10.0.0.5", "db:10.0.0.5"), ("db=10.0.0.5", "db:10.0.0.5"), ("v6:::1", "v6:::1"),
     ("v6=[2001:db8::1]", "v6:2001:db8::1"), ("m:::ffff:1.2.3.4", "m:::ffff:1.2.3.4")],
)  # fmt: skip
def test_add_host_accepts_what_docker_accepts(value, stored):
    assert E.extra_host(value) == stored


@pytest.mark.parametrize(
    "value,message",
    [("db", 'bad format for add-host: "db"'), (":1.2.3.4", 'bad format for add-host: ":1.2.3.4"'),
     ("db:nothing", 'invalid IP address in add-host: "nothing"'),
     ("db:01.2.3.4", 'invalid IP address in add-host: "01.2.3.4"'),
     ("db:1.2.3.4.5", 'invalid IP address in add-host: "1.2.3.4.5"'),
     ("db:fe80::1%eth0", 'invalid IP address in add-host: "fe80::1%eth0"'),
     ("db:", 'invalid IP address in add-host: ""'),
     ("a b:1.2.3.4", 'bad format for add-host: "a b:1.2.3.4"'),
     ("a\nb:1.2.3.4", 'bad format for add-host: "a\nb:1.2.3.4"')],
)  # fmt: skip
def test_add_host_refuses_bad_values(value, message):
    with pytest.raises(InvalidArgument) as e:
        E.extra_host(value)
    assert str(e.value) == message


def test_host_gateway_needs_a_bridge():
    with pytest.raises(FailedPrecondition, match="unable to derive the IP value for host-gateway"):
        E.extra_host("host.docker.internal:host-gateway")


def test_hosts_file_lists_extra_hosts_before_the_containers_name():
    text = E.hosts("box", ("db:10.0.0.5", "v6:::1"))
    lines = text.splitlines()
    assert lines[-3:] == ["10.0.0.5\tdb", "::1\tv6", "127.0.1.1\tbox"]
    assert lines[0] == "127.0.0.1\tlocalhost"
