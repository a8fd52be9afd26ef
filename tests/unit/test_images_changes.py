"""`--change` instructions of import/commit, applied to a container config (pure code)."""

import pytest

from dockyard.errors import InvalidArgument
from dockyard.images.changes import apply_changes, split_words
from dockyard.oci.image import ContainerConfig


def apply(*changes: str) -> ContainerConfig:
    return apply_changes(ContainerConfig(), list(changes))


def test_cmd_shell_form_runs_through_sh():
    assert apply("CMD echo hi there").cmd == ("/bin/sh", "-c", "echo hi there")


def test_cmd_and_entrypoint_json_form():
    c = apply('ENTRYPOINT ["/bin/busybox"]', 'CMD ["sh", "-c", "x"]')
    assert c.entrypoint == ("/bin/busybox",)
    assert c.cmd == ("sh", "-c", "x")


def test_entrypoint_after_cmd_keeps_cmd_but_before_clears_it():
    assert apply('CMD ["a"]', 'ENTRYPOINT ["b"]').cmd == ("a",)
    c = apply_changes(ContainerConfig(cmd=("old",)), ['ENTRYPOINT ["b"]'])
    assert c.cmd is None


def test_env_forms_and_override():
    c = apply('ENV A=1 B="two words"', "ENV C legacy value here", "ENV A=3")
    assert c.env == ("B=two words", "C=legacy value here", "A=3")


def test_env_without_value_is_refused():
    with pytest.raises(InvalidArgument):
        apply("ENV ONLYKEY")


def test_label_expose_volume_workdir_user_stopsignal():
    c = apply(
        'LABEL a=b "c d"=e',
        "EXPOSE 80 53/udp 8000-8002",
        'VOLUME ["/data", "/logs"]',
        "VOLUME /more",
        "WORKDIR /app",
        "WORKDIR sub",
        "USER nobody:nogroup",
        "STOPSIGNAL SIGQUIT",
    )
    assert c.labels == {"a": "b", "c d": "e"}
    assert set(c.exposed_ports) == {"80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"}
    assert set(c.volumes) == {"/data", "/logs", "/more"}
    assert c.working_dir == "/app/sub"
    assert c.user == "nobody:nogroup"
    assert c.stop_signal == "SIGQUIT"


def test_onbuild_keeps_the_trigger_text_and_refuses_chaining():
    assert apply("ONBUILD RUN echo hi").on_build == ("RUN echo hi",)
    with pytest.raises(InvalidArgument, match="ONBUILD ONBUILD"):
        apply("ONBUILD ONBUILD RUN x")


def test_healthcheck():
    c = apply("HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost")
    assert c.healthcheck.test == ("CMD-SHELL", "wget -q localhost")
    assert c.healthcheck.interval == 30 * 10**9
    assert c.healthcheck.retries == 3
    assert apply("HEALTHCHECK NONE").healthcheck.test == ("NONE",)


@pytest.mark.parametrize("bad", ["RUN echo", "FROM busybox", "COPY a b", "ADD x y", "bogus"])
def test_instructions_outside_the_allowed_set_are_named(bad):
    word = bad.split()[0].lower()
    with pytest.raises(InvalidArgument, match=f"^{word} is not a valid change command"):
        apply(bad)


@pytest.mark.parametrize("bad", ["EXPOSE 99999", "EXPOSE 80/foo", "VOLUME", "USER", "WORKDIR"])
def test_bad_arguments_are_invalid(bad):
    with pytest.raises(InvalidArgument):
        apply(bad)


def test_word_splitting_with_quotes_and_escapes():
    assert split_words(r'a "b c" d\ e \'f\'') == ["a", "b c", "d e", "'f'"]
    with pytest.raises(InvalidArgument):
        split_words('"unterminated')
