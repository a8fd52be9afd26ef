"""dockyard.reference against distribution/reference's test vectors, properties and hostile input."""

import ast
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_vectors import (
    CANONICAL,
    DOMAIN_AND_PATH,
    DOMAINS,
    IDENTIFIERS,
    NAMES,
    NORMALIZED_ERRORS,
    NORMALIZED_INVALID,
    NORMALIZED_SPLIT,
    NORMALIZED_STRING,
    NORMALIZED_TAGGED,
    NORMALIZED_VALID,
    PARSE_ERRORS,
    PARSE_OK,
    REFERENCES,
    REPOSITORY_INFO,
    WITH_DIGEST,
    WITH_TAG,
)

from dockyard.errors import InvalidArgument
from dockyard.reference import (
    Reference,
    is_full_id,
    parse,
    parse_normalized,
    parse_normalized_tagged,
)

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")
DIGEST = "sha256:" + "0123456789abcdef" * 4


def _ids(rows):
    return [repr(row[0])[:60] for row in rows]


# --- strict parse (reference_test.go) ---------------------------------------------------------


@pytest.mark.parametrize(("text", "domain", "name", "tag", "digest"), PARSE_OK, ids=_ids(PARSE_OK))
def test_parse_gives_fields_and_prints_back(text, domain, name, tag, digest):
    ref = parse(text)
    assert (ref.domain, ref.name, ref.tag, ref.digest) == (domain, name, tag, digest)
    assert str(ref) == text


@pytest.mark.parametrize(("text", "message"), PARSE_ERRORS, ids=_ids(PARSE_ERRORS))
def test_parse_refuses_with_dockers_message(text, message):
    with pytest.raises(InvalidArgument) as err:
        parse(text)
    assert str(err.value) == message


@pytest.mark.parametrize(("text", "domain", "path"), DOMAIN_AND_PATH, ids=_ids(DOMAIN_AND_PATH))
def test_parse_splits_domain_from_path(text, domain, path):
    ref = parse(text)
    assert (ref.domain, ref.path) == (domain, path)


@pytest.mark.parametrize(("name", "digest", "tag", "combined"), WITH_TAG, ids=_ids(WITH_TAG))
def test_with_tag_keeps_name_and_digest(name, digest, tag, combined):
    ref = parse(name)
    if digest:
        ref = ref.with_digest(digest)
    assert str(ref.with_tag(tag)) == combined


@pytest.mark.parametrize(("name", "tag", "digest", "combined"), WITH_DIGEST, ids=_ids(WITH_DIGEST))
def test_with_digest_keeps_name_and_tag(name, tag, digest, combined):
    ref = parse(name)
    if tag:
        ref = ref.with_tag(tag)
    assert str(ref.with_digest(digest)) == combined


@pytest.mark.parametrize(
    ("tag", "message"),
    [("-foo", "invalid tag format"), ("", "invalid tag format"), ("a" * 129, "invalid tag format")],
)
def test_with_tag_refuses_bad_tags(tag, message):
    with pytest.raises(InvalidArgument, match=f"^{message}$"):
        parse_normalized("busybox").with_tag(tag)


@pytest.mark.parametrize(
    ("digest", "message"),
    [
        ("foo", "invalid digest format"),
        ("sha256:abc", "invalid digest format"),
        ("sha256:" + "a" * 39, "invalid checksum digest length"),
        ("sha256:" + "A" * 64, "invalid checksum digest format"),
    ],
)
def test_with_digest_refuses_bad_digests(digest, message):
    with pytest.raises(InvalidArgument, match=f"^{message}$"):
        parse_normalized("busybox").with_digest(digest)


def test_with_tag_and_with_digest_leave_the_original_alone():
    ref = parse_normalized("busybox")
    ref.with_tag("1").with_digest(DIGEST)
    assert str(ref) == "docker.io/library/busybox"


@pytest.mark.parametrize(("text", "canonical"), CANONICAL, ids=_ids(CANONICAL))
def test_canonical_names_print_unchanged(text, canonical):
    assert (str(parse_normalized(text)) == text) is canonical


# --- normalization (normalize_test.go) --------------------------------------------------------


@pytest.mark.parametrize("text", NORMALIZED_VALID)
def test_parse_normalized_accepts(text):
    ref = parse_normalized(text)
    assert ref.domain
    assert parse(str(ref)) == ref


@pytest.mark.parametrize("text", NORMALIZED_INVALID, ids=[t[:60] for t in NORMALIZED_INVALID])
def test_parse_normalized_refuses(text):
    with pytest.raises(InvalidArgument):
        parse_normalized(text)


REPOSITORY_SPELLINGS = [
    (spelling, path, familiar, full, domain)
    for path, familiar, full, other, domain in REPOSITORY_INFO
    for spelling in sorted({familiar, full, other} - {""})
]


@pytest.mark.parametrize(("spelling", "path", "familiar", "full", "domain"), REPOSITORY_SPELLINGS)
def test_every_spelling_normalizes_to_one_name(spelling, path, familiar, full, domain):
    ref = parse_normalized(spelling)
    assert ref.familiar_name() == familiar
    assert str(ref) == full
    assert ref.name == full
    assert (ref.domain, ref.path) == (domain, path)


@pytest.mark.parametrize(("text", "expected"), NORMALIZED_STRING, ids=_ids(NORMALIZED_STRING))
def test_parse_normalized_string(text, expected):
    ref = parse_normalized(text)
    assert str(ref) == expected
    assert ref == parse(expected)


@pytest.mark.parametrize(("text", "domain", "path"), NORMALIZED_SPLIT, ids=_ids(NORMALIZED_SPLIT))
def test_parse_normalized_splits(text, domain, path):
    ref = parse_normalized(text)
    assert (ref.domain, ref.path) == (domain, path)


@pytest.mark.parametrize(("text", "expected"), NORMALIZED_TAGGED, ids=_ids(NORMALIZED_TAGGED))
def test_parse_normalized_tagged_adds_latest_only_when_bare(text, expected):
    ref = parse_normalized_tagged(text)
    assert str(ref) == expected
    assert parse(expected) == ref


def test_parse_normalized_adds_no_tag():
    assert parse_normalized("busybox").tag == ""
    assert parse_normalized(f"busybox@{DIGEST}").tag == ""
    assert parse_normalized_tagged(f"busybox@{DIGEST}").tag == ""


@pytest.mark.parametrize(("text", "message"), NORMALIZED_ERRORS, ids=_ids(NORMALIZED_ERRORS))
def test_parse_normalized_refuses_with_dockers_message(text, message):
    with pytest.raises(InvalidArgument) as err:
        parse_normalized(text)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("text", "familiar"),
    [
        ("busybox", "busybox:latest"),
        ("docker.io/library/busybox:latest", "busybox:latest"),
        ("index.docker.io/library/busybox:latest", "busybox:latest"),
        ("me/app:1", "me/app:1"),
        ("docker.io/me/app:1", "me/app:1"),
        ("localhost:5000/x:y", "localhost:5000/x:y"),
        ("localhost/x", "localhost/x:latest"),
        ("library/a/b", "library/a/b:latest"),
        ("quay.io/library/x", "quay.io/library/x:latest"),
        (f"busybox:1@{DIGEST}", f"busybox:1@{DIGEST}"),
        (f"me/app@{DIGEST}", f"me/app@{DIGEST}"),
    ],
)
def test_familiar_is_dockers_short_form(text, familiar):
    ref = parse_normalized_tagged(text)
    assert ref.familiar() == familiar
    assert parse_normalized(familiar) == ref


def test_familiar_name_has_no_tag_or_digest():
    ref = parse_normalized(f"localhost:5000/x:y@{DIGEST}")
    assert ref.familiar_name() == "localhost:5000/x"
    assert parse_normalized(f"busybox:1@{DIGEST}").familiar_name() == "busybox"


def test_strict_parse_keeps_a_name_without_domain():
    ref = parse("busybox")
    assert (ref.domain, ref.path, ref.name) == ("", "busybox", "busybox")
    assert ref.familiar() == "busybox"


# --- the grammar (regexp_test.go) -------------------------------------------------------------


@pytest.mark.parametrize(("domain", "valid"), DOMAINS, ids=_ids(DOMAINS))
def test_domain_grammar(domain, valid):
    try:
        ref = parse(f"{domain}/repo")
    except InvalidArgument:
        assert not valid
        return
    assert (ref.domain == domain) is valid


@pytest.mark.parametrize(("text", "split"), NAMES, ids=_ids(NAMES))
def test_name_grammar(text, split):
    try:
        ref = parse(text)
    except InvalidArgument:
        assert split is None
        return
    if split is None:
        # It parses only as something else, e.g. "foo_bar.com:8080" is a name with a tag.
        assert ref.name != text
    else:
        assert (ref.domain, ref.path, ref.tag, ref.digest) == (*split, "", "")


@pytest.mark.parametrize(("text", "parts"), REFERENCES, ids=_ids(REFERENCES))
def test_reference_grammar(text, parts):
    if parts is None:
        with pytest.raises(InvalidArgument):
            parse(text)
    else:
        ref = parse(text)
        assert (ref.name, ref.tag, ref.digest) == parts


@pytest.mark.parametrize(("text", "is_id"), IDENTIFIERS, ids=_ids(IDENTIFIERS))
def test_is_full_id(text, is_id):
    assert is_full_id(text) is is_id


# --- the value ------------------------------------------------------------------------------


def test_reference_is_an_immutable_hashable_value():
    ref = parse_normalized("me/app:1")
    with pytest.raises(AttributeError):
        ref.tag = "2"
    assert ref == Reference("docker.io", "me/app", "1")
    assert len({ref, parse_normalized("docker.io/me/app:1"), parse("docker.io/me/app:1")}) == 1
    assert ref.replace(tag="2").tag == "2"
    assert ref.replace(tag="2") != ref


# --- hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "busybox\n",
        "busybox\x00",
        "bus box",
        "busybox:1\n",
        "busybox:\u0661\u0662",  # Arabic-Indic digits are \w in Unicode, not in Docker's tags
        "ｂusybox",  # full-width letter
        "bus\u0131box",  # dotless i
        "../../etc/passwd",
        "/busybox",
        "busybox/",
        "example.com//x",
        "example.com/x:1:2",
        "x@sha256:" + "a" * 64 + "@sha256:" + "a" * 64,
        "x:tag/y",
        "[::1/x",
        "\u212aubuntu",  # Kelvin sign: lower-cases to "k", so it reads as upper case
    ],
)
def test_hostile_references_are_refused(text):
    with pytest.raises(InvalidArgument):
        parse(text)
    with pytest.raises(InvalidArgument):
        parse_normalized(text)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 1_000_000,
        "a" * 200_000 + "!",
        "a-" * 100_000 + "!",
        "a." * 100_000 + "/",
        "ab-" * 50_000 + "/x:!",
        "a/" * 100_000 + "A",
        "[" + ":" * 200_000,
        "x@sha256:" + "f" * 1_000_000,
        "x:" + "1" * 200_000 + "/y!",
    ],
    ids=lambda t: f"{t[:12]!r}...{len(t)}",
)
def test_huge_references_are_refused(text):
    # Backtracking blow-ups would hang here; the grammar must fail in time linear in the input.
    with pytest.raises(InvalidArgument):
        parse(text)
    with pytest.raises(InvalidArgument):
        parse_normalized(text)


@pytest.mark.parametrize("value", [None, 5, b"busybox", ["busybox"]])
def test_non_strings_are_refused(value):
    for func in (parse, parse_normalized, parse_normalized_tagged):
        with pytest.raises(InvalidArgument):
            func(value)
    assert is_full_id(value) is False


def test_a_long_domain_does_not_count_towards_the_name_limit():
    domain = ".".join(["d" * 60] * 10)
    ref = parse_normalized(f"{domain}/" + "a" * 255)
    assert ref.domain == domain


# --- import discipline ------------------------------------------------------------------------


def test_import_compiles_nothing_until_first_use():
    code = (
        "import sys\n"
        "import dockyard.reference as r\n"
        "memo = r._grammar.__defaults__[0]\n"
        "before = (len(memo), 're' in sys.modules, 'dataclasses' in sys.modules)\n"
        "r.parse('busybox')\n"
        "r.parse('busybox:1')\n"
        "print(*before, len(memo), 'dataclasses' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env=dict(os.environ, PYTHONPATH=SRC),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.split() == ["0", "False", "False", "1", "False"]


def test_module_imports_only_stdlib_and_layer_0():
    import dockyard.reference as module

    with open(module.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            top.add(node.module)
    assert "re" not in top
    assert top <= {"dockyard.errors", "dockyard.digest", "dockyard.record"}


# --- properties -------------------------------------------------------------------------------

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_HEX = "0123456789abcdef"

alnum = st.text(_ALNUM, min_size=1, max_size=8)
separator = st.sampled_from([".", "_", "__", "-", "--", "---"])
path_component = st.builds(
    lambda first, rest: first + "".join(s + a for s, a in rest),
    alnum,
    st.lists(st.tuples(separator, alnum), max_size=3),
)
path = st.lists(path_component, min_size=1, max_size=4).map("/".join)
host_label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
port = st.integers(0, 99999).map(lambda p: f":{p}")
host = st.one_of(
    st.lists(host_label, min_size=1, max_size=4).map(".".join),
    st.just("localhost"),
    st.lists(st.text(_HEX, max_size=4), min_size=3, max_size=8).map(lambda p: f"[{':'.join(p)}]"),
)
domain = st.builds(lambda h, p: h + p, host, st.one_of(st.just(""), port))
tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
digest = st.text(_HEX, min_size=64, max_size=64).map(lambda h: f"sha256:{h}")
optional = st.one_of(st.just(""), tag), st.one_of(st.just(""), digest)
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _render(domain, path, tag, digest):
    return str(Reference(domain, path, tag, digest))


@PROPERTY
@given(domain, path, *optional)
def test_parse_recovers_every_part(d, p, t, dg):
    text = _render(d, p, t, dg)
    ref = parse(text)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (d, p, t, dg)
    assert str(ref) == text
    assert parse(str(ref)) == ref


@PROPERTY
@given(st.one_of(st.just(""), domain), path, *optional)
def test_normalized_round_trips_through_familiar(d, p, t, dg):
    ref = parse_normalized(_render(d, p, t, dg))
    assert (ref.tag, ref.digest) == (t, dg)
    assert ref.name.endswith(p)
    assert parse_normalized(ref.familiar()) == ref
    assert parse_normalized(str(ref)) == ref
    assert parse(str(ref)) == ref


@PROPERTY
@given(st.text(max_size=80))
def test_arbitrary_text_parses_losslessly_or_is_refused(text):
    try:
        ref = parse(text)
    except InvalidArgument:
        pass
    else:
        assert str(ref) == text
    try:
        ref = parse_normalized(text)
    except InvalidArgument:
        return
    assert parse(str(ref)) == ref
    assert parse_normalized(ref.familiar()) == ref


@PROPERTY
@given(st.text(_ALNUM + "/:@._-ABC", max_size=40))
def test_reference_alphabet_parses_losslessly_or_is_refused(text):
    try:
        ref = parse(text)
    except InvalidArgument:
        return
    assert str(ref) == text
    assert parse_normalized(str(ref)).tag == ref.tag


# --- the regex-free path for plain names ------------------------------------------------


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="abz09._-/:A@", min_size=1, max_size=24))
def test_plain_hub_names_parse_as_the_grammar_does(text):
    from dockyard.reference import _simple, _split_docker_domain

    domain, rest = _split_docker_domain(text)
    if domain != "docker.io":
        return
    fast = _simple(domain, rest)
    if fast is None:
        return  # left to the grammar
    assert fast == parse(f"{domain}/{rest}")


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet="aZ09.-:[]_", min_size=1, max_size=16),
    st.text(alphabet="az09._-/:A", min_size=1, max_size=16),
)
def test_plain_names_with_a_registry_parse_as_the_grammar_does(domain, rest):
    """`host[:port]/path[:tag]`: the fast path answers exactly as the grammar, or defers."""
    from dockyard.reference import _is_simple_domain, _simple

    fast = _simple(domain, rest) if _is_simple_domain(domain) else None
    if fast is None:
        return
    assert fast == parse(f"{domain}/{rest}")


@pytest.mark.parametrize(
    "domain", ["-a", "a-", "a..b", ".a", "a.", "a:", "a:x", "a:1x", "[::1]", "a_b", "a:+1"]
)
def test_odd_registry_hosts_are_left_to_the_grammar(domain):
    from dockyard.reference import _is_simple_domain

    assert not _is_simple_domain(domain)


@pytest.mark.parametrize(
    "text",
    ["a___b", "a..b", "a._b", "a-", "-a", "a/", "/a", "a//b", "a:", "a:.x", "a:-x",
     "a:" + "x" * 129, "a" * 256, "a-_b", "a.-b"],
)  # fmt: skip
def test_plain_hub_path_refuses_what_the_grammar_refuses(text):
    from dockyard.reference import _simple

    assert _simple("docker.io", text) is None
    with pytest.raises(InvalidArgument):
        parse_normalized(text)


@settings(max_examples=2000)
@given(st.text(alphabet="aZ9_.-:/ é\n", max_size=140))
def test_tag_check_agrees_with_the_grammar(text):
    from dockyard.reference import _grammar, _is_tag

    assert _is_tag(text) == (_grammar().tag.fullmatch(text) is not None)
