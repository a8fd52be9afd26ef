"""The run flags for health checks, logging, --init and --add-host parsed into
`RunOptions`, with Docker's client-side messages (pure: no engine)."""

import pytest

from dockyard.cli.commands import runflags
from dockyard.cli.flags import parse
from dockyard.errors import InvalidArgument


def opts_for(*argv: str):
    values, args = parse(runflags.RUN_FLAGS, list(argv), interspersed=False)
    return runflags.options(values, args, {})


def test_health_flags_become_ns_durations():
    o = opts_for("--health-cmd", "curl -f localhost", "--health-interval", "1m30s",
                 "--health-timeout", "500ms", "--health-start-period", "2s",
                 "--health-start-interval", "1.5s", "--health-retries", "4", "busybox")  # fmt: skip
    assert o.health_cmd == "curl -f localhost"
    assert (o.health_interval, o.health_timeout, o.health_start_period) == (
        90_000_000_000, 500_000_000, 2_000_000_000,
    )  # fmt: skip
    assert o.health_start_interval == 1_500_000_000 and o.health_retries == 4
    assert not o.no_healthcheck


def test_no_health_flags_leave_the_image_in_charge():
    o = opts_for("busybox")
    assert o.health_cmd is None and o.health_interval is None and o.health_retries is None
    assert opts_for("--no-healthcheck", "busybox").no_healthcheck


def test_a_bad_duration_is_pflags_message():
    with pytest.raises(InvalidArgument) as e:
        opts_for("--health-interval", "often", "busybox")
    assert str(e.value) == (
        'invalid argument "often" for "--health-interval" flag: time: invalid duration "often"'
    )


def test_log_flags():
    o = opts_for("--log-driver", "json-file", "--log-opt", "max-size=10m", "--log-opt",
                 "max-file=3", "busybox")  # fmt: skip
    assert o.log_driver == "json-file" and o.log_opts == (("max-size", "10m"), ("max-file", "3"))
    assert opts_for("busybox").log_driver == "json-file"
    assert opts_for("--log-opt", "x", "busybox").log_opts == (("x", ""),)
    with pytest.raises(InvalidArgument, match="invalid logging opts for driver none"):
        opts_for("--log-driver", "none", "--log-opt", "max-size=1m", "busybox")


def test_add_host_and_init():
    o = opts_for("--add-host", "db:10.0.0.1", "--add-host", "v6=[::1]", "--init", "busybox")
    assert o.extra_hosts == ("db:10.0.0.1", "v6:::1") and o.init
    with pytest.raises(InvalidArgument, match='bad format for add-host: "db"'):
        opts_for("--add-host", "db", "busybox")
