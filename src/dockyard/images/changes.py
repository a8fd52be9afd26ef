"""The `--change` instructions of `import`/`commit`: Dockerfile lines applied to a container config.

Supported like Docker's commit/import: CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD,
USER, VOLUME, WORKDIR, STOPSIGNAL. Anything else is an InvalidArgument naming the instruction.
"""

from dockyard.errors import InvalidArgument
from dockyard.oci.image import ContainerConfig, Healthcheck

ALLOWED = frozenset(
    {"cmd", "entrypoint", "env", "expose", "healthcheck", "label", "onbuild", "user", "volume",
     "workdir", "stopsignal"}
)  # fmt: skip


def _json_list(rest: str) -> list[str] | None:
    """The JSON (exec) form `["a", "b"]`, or None when rest is not a JSON string array."""
    text = rest.strip()
    if not text.startswith("["):
        return None
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def split_words(text: str) -> list[str]:
    """Dockerfile word splitting: whitespace separates, quotes group, backslash escapes."""
    words: list[str] = []
    cur: list[str] = []
    in_word = False
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == "\\" and quote == '"' and i + 1 < len(text):
                i += 1
                cur.append(text[i])
            else:
                cur.append(c)
        elif c in "\"'":
            quote = c
            in_word = True
        elif c == "\\" and i + 1 < len(text):
            i += 1
            cur.append(text[i])
            in_word = True
        elif c.isspace():
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
        else:
            cur.append(c)
            in_word = True
        i += 1
    if quote:
        raise InvalidArgument(f"unmatched quote in {text!r}")
    if in_word:
        words.append("".join(cur))
    return words


def _pairs(instr: str, rest: str) -> list[tuple[str, str]]:
    """`k=v k2="v 2"` pairs, or the legacy `KEY value with spaces` form."""
    words = split_words(rest)
    if not words:
        raise InvalidArgument(f"{instr} requires at least one argument")
    if "=" not in words[0]:
        # legacy form: the first word is the key, the rest of the line the value
        key, _, value = rest.strip().partition(" ")
        value = value.strip()
        if not value and instr == "ENV":
            raise InvalidArgument(f"ENV names can not be blank: {rest.strip()!r} needs a value")
        return [(key, " ".join(split_words(value)) if value else "")]
    out = []
    for w in words:
        key, eq, value = w.partition("=")
        if not eq or not key:
            raise InvalidArgument(
                f"{instr}: syntax error - can't find = in {w!r}. Must be of the form: name=value"
            )
        out.append((key, value))
    return out


def _ports(rest: str) -> list[str]:
    out = []
    for word in split_words(rest):
        port, _, proto = word.partition("/")
        proto = (proto or "tcp").lower()
        if proto not in ("tcp", "udp", "sctp"):
            raise InvalidArgument(f"invalid proto: {proto}")
        lo, dash, hi = port.partition("-")
        try:
            start = int(lo)
            end = int(hi) if dash else start
        except ValueError:
            raise InvalidArgument(f"invalid containerPort: {port}")
        if not (0 < start <= end <= 65535):
            raise InvalidArgument(f"invalid port range: {port}")
        out.extend(f"{p}/{proto}" for p in range(start, end + 1))
    return out


def _duration_ns(text: str) -> int:
    """Go duration strings as Docker accepts them ("30s", "1m30s", "500ms")."""
    units = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
             "h": 3600 * 10**9}  # fmt: skip
    import re

    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise InvalidArgument(f"time: invalid duration {text!r}")
    return int(sum(float(n) * units[u] for n, u in parts))


def _healthcheck(rest: str) -> Healthcheck:
    words = rest.strip().split(None, 1)
    if words and words[0].upper() == "NONE":
        return Healthcheck(test=("NONE",))
    opts: dict[str, int] = {}
    text = rest.strip()
    while text.startswith("--"):
        flag, _, text = text.partition(" ")
        text = text.strip()
        name, eq, value = flag[2:].partition("=")
        if not eq:
            raise InvalidArgument(f"HEALTHCHECK: flag {flag} needs a value")
        key = {"interval": "interval", "timeout": "timeout", "start-period": "start_period",
               "start-interval": "start_interval", "retries": "retries"}.get(name)  # fmt: skip
        if key is None:
            raise InvalidArgument(f"HEALTHCHECK: unknown flag: {name}")
        if key == "retries":
            try:
                opts[key] = int(value)
            except ValueError:
                raise InvalidArgument(f"HEALTHCHECK: invalid retries {value!r}")
        else:
            opts[key] = _duration_ns(value)
    kind, _, cmd = text.partition(" ")
    if kind.upper() != "CMD":
        raise InvalidArgument(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    exec_form = _json_list(cmd)
    test = ("CMD", *exec_form) if exec_form is not None else ("CMD-SHELL", cmd.strip())
    return Healthcheck(test=test, **opts)


def apply_changes(config: ContainerConfig, changes: list[str]) -> ContainerConfig:
    """Apply each change line in order; returns the new config."""
    cmd_set = False
    for line in changes:
        for raw in line.splitlines():
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            word, _, rest = stripped.partition(" ")
            instr = word.lower()
            if instr not in ALLOWED:
                raise InvalidArgument(f"{instr} is not a valid change command")
            rest = rest.strip()
            if instr in ("cmd", "entrypoint"):
                exec_form = _json_list(rest)
                args = tuple(exec_form) if exec_form is not None else ("/bin/sh", "-c", rest)
                if instr == "cmd":
                    config = config.replace(cmd=args)
                    cmd_set = True
                else:
                    config = config.replace(entrypoint=args)
                    if not cmd_set:
                        config = config.replace(cmd=None)
            elif instr == "env":
                env = list(config.env or ())
                for key, value in _pairs("ENV", rest):
                    env = [e for e in env if e.partition("=")[0] != key]
                    env.append(f"{key}={value}")
                config = config.replace(env=tuple(env))
            elif instr == "label":
                labels = dict(config.labels or {})
                for key, value in _pairs("LABEL", rest):
                    labels[key] = value
                config = config.replace(labels=labels)
            elif instr == "expose":
                ports = dict(config.exposed_ports or {})
                for p in _ports(rest):
                    ports[p] = {}
                config = config.replace(exposed_ports=ports)
            elif instr == "volume":
                vols = _json_list(rest)
                vols = vols if vols is not None else split_words(rest)
                if not vols or any(not v.strip() for v in vols):
                    raise InvalidArgument("VOLUME specified can not be an empty string")
                volumes = dict(config.volumes or {})
                for v in vols:
                    volumes[v.strip()] = {}
                config = config.replace(volumes=volumes)
            elif instr == "workdir":
                if not rest:
                    raise InvalidArgument("WORKDIR requires exactly one argument")
                import posixpath

                wd = posixpath.normpath(posixpath.join("/", config.working_dir or "/", rest))
                config = config.replace(working_dir=wd)
            elif instr == "user":
                if not rest:
                    raise InvalidArgument("USER requires exactly one argument")
                config = config.replace(user=rest)
            elif instr == "stopsignal":
                if not rest:
                    raise InvalidArgument("STOPSIGNAL requires exactly one argument")
                config = config.replace(stop_signal=rest)
            elif instr == "onbuild":
                trigger = rest.partition(" ")[0].upper()
                if trigger == "ONBUILD":
                    raise InvalidArgument("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
                if trigger in ("FROM", "MAINTAINER"):
                    raise InvalidArgument(f"{trigger} isn't allowed as an ONBUILD trigger")
                if not rest:
                    raise InvalidArgument("ONBUILD requires at least one argument")
                config = config.replace(on_build=(*(config.on_build or ()), rest))
            elif instr == "healthcheck":
                config = config.replace(healthcheck=_healthcheck(rest))
    return config
