"""Registry config files: JSON and YAML, defaults, and one-line errors for bad input."""

import json

import pytest

from dockyard.errors import InvalidArgument, NotFound
from dockyard.registry.config import AccessRule, RegistryConfig, config_from_dict, load_config


def test_json_with_defaults(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"root": "/srv/reg"}))
    cfg = load_config(str(p))
    assert cfg == RegistryConfig(root="/srv/reg")
    assert cfg.host_port() == ("127.0.0.1", 5000)
    assert not cfg.auth.enabled and cfg.max_manifest_size == 4 << 20


def test_yaml_full(tmp_path):
    p = tmp_path / "c.yml"
    p.write_text(
        "addr: '[::1]:5443'\nroot: /r\nread_only: true\n"
        "tls: {cert: /c.pem, key: /k.pem}\n"
        "auth:\n  htpasswd: /h\n  anonymous_pull: true\n  token: {service: s, expiration: 60}\n"
        "  access:\n    - {repository: 'team/*', users: [a], actions: [pull, push]}\n"
        "    - {repository: '*', actions: '*'}\n"
    )
    cfg = load_config(str(p))
    assert cfg.host_port() == ("::1", 5443)
    assert cfg.read_only and cfg.tls_cert == "/c.pem"
    assert cfg.auth.token.service == "s" and cfg.auth.token.expiration == 60
    assert cfg.auth.access == (
        AccessRule("team/*", ("a",), ("pull", "push")),
        AccessRule("*", ("*",), ("pull", "push", "delete")),
    )


def test_root_argument_overrides_the_file(tmp_path):
    p = tmp_path / "c.json"
    p.write_text("{}")
    assert load_config(str(p), root="/elsewhere").root == "/elsewhere"


BAD = [
    ({}, "root"),
    ({"root": "/r", "bogus": 1}, "unknown key 'bogus'"),
    ({"root": "/r", "addr": "nope"}, "HOST:PORT"),
    ({"root": "/r", "addr": "h:99999"}, "HOST:PORT"),
    ({"root": "/r", "tls": {"cert": "/c"}}, "both cert and key"),
    ({"root": "/r", "read_only": "yes"}, "read_only must be a bool"),
    ({"root": "/r", "auth": {"token": {}}}, "needs auth.htpasswd"),
    (
        {"root": "/r", "auth": {"htpasswd": "/h", "access": [{"actions": ["fly"]}]}},
        "unknown action",
    ),
    ({"root": "/r", "auth": {"htpasswd": "/h", "token": {"expiration": 0}}}, "expiration"),
    ({"root": "/r", "max_page_entries": 0}, "positive"),
    ([], "mapping"),
]


@pytest.mark.parametrize("doc,message", BAD)
def test_bad_configs_are_one_line_errors(doc, message):
    with pytest.raises(InvalidArgument, match=message) as e:
        config_from_dict(doc)
    assert "\n" not in str(e.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(NotFound):
        load_config(str(tmp_path / "absent.yml"))
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(InvalidArgument, match="invalid JSON"):
        load_config(str(p))
    p = tmp_path / "bad.yml"
    p.write_text("root: [unclosed\n")
    with pytest.raises(InvalidArgument, match="invalid YAML"):
        load_config(str(p))
