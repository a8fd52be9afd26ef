"""Image references: Docker's grammar, normalization and familiar (short) forms.

A reference is ``[domain/]path[:tag][@digest]``, exactly as github.com/distribution/reference
defines it; ``parse_normalized`` applies Docker Hub's defaults (``busybox`` is
``docker.io/library/busybox``) and ``Reference.familiar`` takes them off again. Error messages
are Docker's own, so users see what they would see with ``docker``.

The grammar's regular expressions are compiled on first use, not at import.
"""

from dockyard.errors import InvalidArgument
from dockyard.record import Record

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
LOCALHOST = "localhost"
NAME_TOTAL_LENGTH_MAX = 255

ERR_REFERENCE_FORMAT = "invalid reference format"
ERR_TAG_FORMAT = "invalid tag format"
ERR_DIGEST_FORMAT = "invalid digest format"
ERR_NAME_UPPERCASE = "repository name must be lowercase"
ERR_NAME_EMPTY = "repository name must have at least one component"
ERR_NAME_TOO_LONG = f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
# go-digest's messages, which Docker shows for a digest the grammar accepts but cannot use.
ERR_CHECKSUM_FORMAT = "invalid checksum digest format"
ERR_CHECKSUM_LENGTH = "invalid checksum digest length"
ERR_DIGEST_UNSUPPORTED = "unsupported digest algorithm"

# Hex lengths of the algorithms go-digest registers (the same set dockyard.digest accepts).
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_LOWER_HEX = frozenset("0123456789abcdef")


class _Grammar:
    """The compiled patterns of distribution/reference's regexp.go."""

    __slots__ = ("digest", "go_digest", "reference", "tag")

    def __init__(self) -> None:
        import re

        alphanumeric = r"[a-z0-9]+"
        # One period, one or two underscores, or any number of dashes.
        separator = r"(?:[._]|__|[-]+)"
        path_component = alphanumeric + r"(?:" + separator + alphanumeric + r")*"
        remote_name = path_component + r"(?:/" + path_component + r")*"
        domain_component = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
        domain_name = domain_component + r"(?:\." + domain_component + r")*"
        # Brackets only; zone identifiers and IPv4-mapped forms are deliberately excluded.
        ipv6_address = r"\[(?:[a-fA-F0-9:]+)\]"
        domain_and_port = r"(?:" + domain_name + r"|" + ipv6_address + r")(?::[0-9]+)?"
        tag = r"[\w][\w.-]{0,127}"
        digest = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
        # Go's Parse matches the whole reference, then splits the name with a second pattern;
        # the domain can only be the text before the first "/", so one pass with the domain
        # and path captured inside the name finds the same split.
        reference = (
            r"(?:(" + domain_and_port + r")/)?(" + remote_name + r")"
            r"(?::(" + tag + r"))?"
            r"(?:@(" + digest + r"))?"
        )
        # re.ASCII: Go's \w is [0-9A-Za-z_], never a Unicode letter. Every use is fullmatch,
        # because Python's "$" would also match before a trailing newline.
        self.reference = re.compile(reference, re.ASCII)
        self.tag = re.compile(tag, re.ASCII)
        self.digest = re.compile(digest, re.ASCII)
        self.go_digest = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+", re.ASCII)


def _grammar(_memo: list = []) -> _Grammar:  # noqa: B006 - the compiled patterns, made once
    if not _memo:
        _memo.append(_Grammar())
    return _memo[0]


class Reference(Record):
    """A parsed reference. Build one with the parse functions; the constructor trusts its input."""

    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """The repository name with its domain: ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    def __str__(self) -> str:
        return _render(self.name, self.tag, self.digest)

    def familiar_name(self) -> str:
        """The name as Docker shows it: ``busybox``, ``me/app``, ``localhost:5000/x``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        path = self.path
        if path.startswith(OFFICIAL_REPO_PREFIX):
            rest = path[len(OFFICIAL_REPO_PREFIX) :]
            # Only one level: "library/a/b" is not an official image and keeps its prefix.
            if "/" not in rest:
                return rest
        return path

    def familiar(self) -> str:
        """The whole reference as Docker shows it: ``busybox:latest``, ``me/app@sha256:...``."""
        return _render(self.familiar_name(), self.tag, self.digest)

    def with_tag(self, tag: str) -> "Reference":
        """This reference with ``tag`` (a digest it has is kept, as Docker does)."""
        if not isinstance(tag, str) or not _is_tag(tag):
            raise InvalidArgument(ERR_TAG_FORMAT)
        return self.replace(tag=tag)

    def with_digest(self, digest: str) -> "Reference":
        """This reference pinned to ``digest`` (a tag it has is kept)."""
        if not isinstance(digest, str) or _grammar().digest.fullmatch(digest) is None:
            raise InvalidArgument(ERR_DIGEST_FORMAT)
        _check_digest(digest)
        return self.replace(digest=digest)


def _render(name: str, tag: str, digest: str) -> str:
    if tag:
        name = f"{name}:{tag}"
    if digest:
        name = f"{name}@{digest}"
    return name


def _check_digest(digest: str) -> None:
    """Refuse a digest the grammar allows but go-digest cannot use, with go-digest's message."""
    algorithm, _, encoded = digest.partition(":")
    length = _DIGEST_HEX_LENGTHS.get(algorithm)
    if length is None:
        if _grammar().go_digest.fullmatch(digest) is None:
            raise InvalidArgument(ERR_CHECKSUM_FORMAT)
        raise InvalidArgument(ERR_DIGEST_UNSUPPORTED)
    if len(encoded) != length:
        raise InvalidArgument(ERR_CHECKSUM_LENGTH)
    if not _LOWER_HEX.issuperset(encoded):
        raise InvalidArgument(ERR_CHECKSUM_FORMAT)


def parse(s: str) -> Reference:
    """Parse ``s`` strictly (distribution/reference.Parse): no default domain, path or tag."""
    if not isinstance(s, str):
        raise InvalidArgument(ERR_REFERENCE_FORMAT)
    if not s:
        raise InvalidArgument(ERR_NAME_EMPTY)
    pattern = _grammar().reference
    match = pattern.fullmatch(s)
    if match is None:
        lowered = s.lower()
        if lowered != s and pattern.fullmatch(lowered) is not None:
            raise InvalidArgument(ERR_NAME_UPPERCASE)
        raise InvalidArgument(ERR_REFERENCE_FORMAT)
    domain, path, tag, digest = match.groups("")
    # Go limits the path only; the domain does not count towards the 255.
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidArgument(ERR_NAME_TOO_LONG)
    if digest:
        _check_digest(digest)
    return Reference(domain, path, tag, digest)


def _split_docker_domain(s: str) -> tuple[str, str]:
    """Split a familiar reference into (domain, rest), applying Docker Hub's defaults."""
    first, slash, rest = s.partition("/")
    if not slash:
        # A single element is always a Docker Hub official image, even "localhost" or
        # "example.com"; otherwise "name:tag" would read as "host:port".
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + s
    if first == LOCALHOST:
        domain = first
    elif first == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    elif "." in first or ":" in first or first.lower() != first:
        # A dot or colon means a host name, IP or port; upper case cannot be a namespace.
        domain = first
    else:
        domain, rest = DEFAULT_DOMAIN, s
    if domain == DEFAULT_DOMAIN and "/" not in rest:
        rest = OFFICIAL_REPO_PREFIX + rest
    return domain, rest


def parse_normalized(s: str) -> Reference:
    """Parse a reference as the Docker CLI does (ParseNormalizedNamed): no default tag."""
    if not isinstance(s, str):
        raise InvalidArgument(ERR_REFERENCE_FORMAT)
    if is_full_id(s):
        raise InvalidArgument(
            f"invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"
        )
    domain, rest = _split_docker_domain(s)
    remote = rest.partition(":")[0]
    if remote.lower() != remote:
        raise InvalidArgument(
            f"{ERR_REFERENCE_FORMAT}: repository name ({remote}) must be lowercase"
        )
    if domain == DEFAULT_DOMAIN or _is_simple_domain(domain):
        simple = _simple(domain, rest)
        if simple is not None:
            return simple
    return parse(f"{domain}/{rest}")


_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_PATH_CHARS = _ALNUM | frozenset("._-/")
_TAG_FIRST = _ALNUM | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_TAG_CHARS = _TAG_FIRST | frozenset(".-")


_DOMAIN_CHARS = _ALNUM | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ-")


def _is_simple_domain(domain: str) -> bool:
    """`host[:port]` with the grammar's host components (no IPv6 brackets), without a regular
    expression; False sends it to `parse`, which decides."""
    host, colon, port = domain.partition(":")
    if colon and not (port.isascii() and port.isdigit()):
        return False
    for part in host.split("."):
        if not part or not _DOMAIN_CHARS.issuperset(part) or "-" in (part[0], part[-1]):
            return False
    return True


def _simple(domain: str, rest: str) -> "Reference | None":
    """The common `path[:tag]` without the grammar's regular expressions (their import and
    compilation cost ~3 ms on every command that takes a reference); None sends anything
    else to `parse`, which gives the same answer or the error."""
    path, colon, tag = rest.partition(":")
    if len(path) > NAME_TOTAL_LENGTH_MAX or not _PATH_CHARS.issuperset(path):
        return None
    if colon and not _is_tag(tag):
        return None
    for part in path.split("/"):
        if not _is_path_component(part):
            return None
    return Reference(domain, path, tag, "")


def _is_tag(tag: str) -> bool:
    """The grammar's tag, `[\\w][\\w.-]{0,127}` in ASCII, without a regular expression."""
    return 0 < len(tag) <= 128 and tag[0] in _TAG_FIRST and _TAG_CHARS.issuperset(tag)


def _is_path_component(part: str) -> bool:
    """[a-z0-9]+ joined by one ".", one or two "_", or any run of "-" (the grammar's rule)."""
    if not part or part[0] not in _ALNUM or part[-1] not in _ALNUM:
        return False
    run = ""
    for c in part:
        if c in _ALNUM:
            if run and not (run in (".", "_", "__") or run == "-" * len(run)):
                return False
            run = ""
        else:
            run += c
    return True


def parse_normalized_tagged(s: str) -> Reference:
    """``parse_normalized`` plus ``:latest`` when the reference has neither tag nor digest."""
    ref = parse_normalized(s)
    if ref.tag or ref.digest:
        return ref
    return ref.replace(tag=DEFAULT_TAG)


def is_full_id(s: str) -> bool:
    """True for a full image id without algorithm: 64 lower-case hex characters."""
    return isinstance(s, str) and len(s) == 64 and _LOWER_HEX.issuperset(s)
