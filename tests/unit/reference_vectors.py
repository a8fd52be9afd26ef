"""Fact tables for dockyard.reference, ported from github.com/distribution/reference's tests.

Sources: reference_test.go, normalize_test.go and regexp_test.go. Each table is data only; the
tests in test_reference.py say how a row is checked. Where dockyard deliberately differs from a
Go test the row says why.
"""

FFFF = "sha256:" + "f" * 64
DBCC = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
BE17 = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912"
E669 = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"
SHA512_F = "sha512:" + "f" * 128

ERR_FORMAT = "invalid reference format"
ERR_EMPTY = "repository name must have at least one component"
ERR_UPPER = "repository name must be lowercase"
ERR_TOO_LONG = "repository name must not be more than 255 characters"
ERR_DIGEST_LENGTH = "invalid checksum digest length"
ERR_DIGEST_UNSUPPORTED = "unsupported digest algorithm"

# reference_test.go TestReferenceParse, successes: strict parse(input) gives these fields and
# str() gives the input back.  (input, domain, name, tag, digest)
PARSE_OK = [
    ("test_com", "", "test_com", "", ""),
    ("test.com:tag", "", "test.com", "tag", ""),
    ("test.com:5000", "", "test.com", "5000", ""),
    ("test.com/repo:tag", "test.com", "test.com/repo", "tag", ""),
    ("test:5000/repo", "test:5000", "test:5000/repo", "", ""),
    ("test:5000/repo:tag", "test:5000", "test:5000/repo", "tag", ""),
    (f"test:5000/repo@{FFFF}", "test:5000", "test:5000/repo", "", FFFF),
    (f"test:5000/repo:tag@{FFFF}", "test:5000", "test:5000/repo", "tag", FFFF),
    ("lowercase:Uppercase", "", "lowercase", "Uppercase", ""),
    ("a/" * 127 + "a:tag-puts-this-over-max", "a", "a/" * 127 + "a", "tag-puts-this-over-max", ""),
    ("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "sub-dom1.foo.com/bar/baz/quux", "", ""),
    (
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        "sub-dom1.foo.com",
        "sub-dom1.foo.com/bar/baz/quux",
        "some-long-tag",
        "",
    ),
    (
        "b.gcr.io/test.example.com/my-app:test.example.com",
        "b.gcr.io",
        "b.gcr.io/test.example.com/my-app",
        "test.example.com",
        "",
    ),
    ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "xn--n3h.com/myimage", "xn--n3h.com", ""),
    (
        f"xn--7o8h.com/myimage:xn--7o8h.com@{FFFF}",
        "xn--7o8h.com",
        "xn--7o8h.com/myimage",
        "xn--7o8h.com",
        FFFF,
    ),
    ("foo_bar.com:8080", "", "foo_bar.com", "8080", ""),
    ("foo/foo_bar.com:8080", "foo", "foo/foo_bar.com", "8080", ""),
    ("192.168.1.1", "", "192.168.1.1", "", ""),
    ("192.168.1.1:tag", "", "192.168.1.1", "tag", ""),
    ("192.168.1.1:5000", "", "192.168.1.1", "5000", ""),
    ("192.168.1.1/repo", "192.168.1.1", "192.168.1.1/repo", "", ""),
    ("192.168.1.1:5000/repo", "192.168.1.1:5000", "192.168.1.1:5000/repo", "", ""),
    ("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "192.168.1.1:5000/repo", "5050", ""),
    ("[2001:db8::1]/repo", "[2001:db8::1]", "[2001:db8::1]/repo", "", ""),
    (
        "[2001:db8:1:2:3:4:5:6]/repo:tag",
        "[2001:db8:1:2:3:4:5:6]",
        "[2001:db8:1:2:3:4:5:6]/repo",
        "tag",
        "",
    ),
    ("[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "[2001:db8::1]:5000/repo", "", ""),
    ("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "[2001:db8::1]:5000/repo", "tag", ""),
    (
        f"[2001:db8::1]:5000/repo@{FFFF}",
        "[2001:db8::1]:5000",
        "[2001:db8::1]:5000/repo",
        "",
        FFFF,
    ),
    (
        f"[2001:db8::1]:5000/repo:tag@{FFFF}",
        "[2001:db8::1]:5000",
        "[2001:db8::1]:5000/repo",
        "tag",
        FFFF,
    ),
    ("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "[2001:db8::]:5000/repo", "", ""),
    ("[::1]:5000/repo", "[::1]:5000", "[::1]:5000/repo", "", ""),
    ("example.com/" + "a" * 255 + ":tag", "example.com", "example.com/" + "a" * 255, "tag", ""),
    # The Go test expects "unsupported" because its test binary registers sha256 only; Docker
    # itself (through go-digest) registers sha512 too, and so does dockyard.digest.
    (f"validname@{SHA512_F}", "", "validname", "", SHA512_F),
    # TestSerialization
    ("example.com:8000/named", "example.com:8000", "example.com:8000/named", "", ""),
    ("example.com:8000/named:tagged", "example.com:8000", "example.com:8000/named", "tagged", ""),
    (
        "other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112",
        "other.com",
        "other.com/named",
        "",
        "sha256:1234567890098765432112345667890098765432112345667890098765432112",
    ),
]

# reference_test.go TestReferenceParse, failures: (input, exact message of the error).
PARSE_ERRORS = [
    ("", ERR_EMPTY),
    (":justtag", ERR_FORMAT),
    (f"@{FFFF}", ERR_FORMAT),
    ("repo@sha256:" + "f" * 34, ERR_DIGEST_LENGTH),
    ("validname@invaliddigest:" + "f" * 64, ERR_DIGEST_UNSUPPORTED),
    ("Uppercase:tag", ERR_UPPER),
    ("test:5000/Uppercase/lowercase:tag", ERR_UPPER),
    ("domain/" + "a" * 256 + ":tag", ERR_TOO_LONG),
    ("aa/asdf$$^/aa", ERR_FORMAT),
    ("[2001:db8::1]", ERR_FORMAT),
    ("[2001:db8::1]:5000", ERR_FORMAT),
    ("[2001:db8::1]:tag", ERR_FORMAT),
    ("[fe80::1%eth0]:5000/repo", ERR_FORMAT),
    ("[fe80::1%@invalidzone]:5000/repo", ERR_FORMAT),
    # TestWithNameFailure inputs that are also not references
    ("example.com/" + "a" * 256, ERR_TOO_LONG),
]

# reference_test.go TestDomainAndPath: strict parse splits (input) into (domain, path).
DOMAIN_AND_PATH = [
    ("test.com/foo", "test.com", "foo"),
    ("test_com/foo", "", "test_com/foo"),
    ("test:8080/foo", "test:8080", "foo"),
    ("test.com:8080/foo", "test.com:8080", "foo"),
    ("test-com:8080/foo", "test-com:8080", "foo"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
]

# reference_test.go TestWithTag: (name, digest already on it, tag, combined string).
WITH_TAG = [
    ("test.com/foo", "", "tag", "test.com/foo:tag"),
    ("foo", "", "tag2", "foo:tag2"),
    ("test.com:8000/foo", "", "tag4", "test.com:8000/foo:tag4"),
    ("test.com:8000/foo", "", "TAG5", "test.com:8000/foo:TAG5"),
    # The Go row uses a 39-hex "sha256" digest; dockyard refuses digests that cannot verify
    # anything, so the row uses a full one.
    ("test.com:8000/foo", DBCC, "TAG5", f"test.com:8000/foo:TAG5@{DBCC}"),
]

# reference_test.go TestWithDigest: (name, tag already on it, digest, combined string).
WITH_DIGEST = [
    ("test.com/foo", "", DBCC, f"test.com/foo@{DBCC}"),
    ("foo", "", DBCC, f"foo@{DBCC}"),
    ("test.com:8000/foo", "", DBCC, f"test.com:8000/foo@{DBCC}"),
    ("test.com:8000/foo", "latest", DBCC, f"test.com:8000/foo:latest@{DBCC}"),
]

# reference_test.go TestParseNamed: is the input already canonical, i.e. does
# str(parse_normalized(input)) give it back unchanged?  (input, canonical)
CANONICAL = [
    ("test.com/foo", True),
    ("test:8080/foo", True),
    ("test_com/foo", False),
    ("test.com", False),
    ("foo", False),
    ("library/foo", False),
    ("docker.io/library/foo", True),
    ("docker.io/foo", False),
]

# normalize_test.go TestValidateReferenceName and TestValidateRemoteName.
NORMALIZED_VALID = [
    "docker/docker",
    "library/debian",
    "debian",
    "localhost/library/debian",
    "localhost/debian",
    "LOCALDOMAIN/library/debian",
    "LOCALDOMAIN/debian",
    "docker.io/docker/docker",
    "docker.io/library/debian",
    "docker.io/debian",
    "index.docker.io/docker/docker",
    "index.docker.io/library/debian",
    "index.docker.io/debian",
    "127.0.0.1:5000/docker/docker",
    "127.0.0.1:5000/library/debian",
    "127.0.0.1:5000/debian",
    "192.168.0.1",
    "192.168.0.1:80",
    "192.168.0.1:8/debian",
    "192.168.0.2:25000/debian",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "[fc00::1]:5000/docker",
    "[fc00::1]:5000/docker/docker",
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
    "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "Docker/docker",
    "DOCKER/docker",
    "docker-rules/docker",
    "docker---rules/docker",
    "doc/docker",
    "d/docker",
    "jess/t",
    "dock__er/docker",
]

NORMALIZED_INVALID = [
    "https://github.com/docker/docker",
    "docker/Docker",
    "-docker",
    "-docker/docker",
    "-docker.io/docker/docker",
    "docker///docker",
    "docker.io/docker/Docker",
    "docker.io/docker///docker",
    "[fc00::1]",
    "[fc00::1]:5000",
    "fc00::1:5000/debian",
    "[fe80::1%eth0]:5000/debian",
    "[2001:db8:3:4::192.0.2.33]:5000/debian",
    "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "docker-/docker",
    "-docker-/docker",
    "____/____",
    "_docker/_docker",
    "dock..er/docker",
    "dock_.er/docker",
    "dock-.er/docker",
    "docker/",
    "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_" * 4 + "/docker",
]

# normalize_test.go TestParseRepositoryInfo:
# (path, familiar name, full name, another spelling or "", domain). Every spelling parses to
# the full name and shows as the familiar one.
REPOSITORY_INFO = [
    ("fooo", "localhost/fooo", "localhost/fooo", "localhost/fooo", "localhost"),
    ("fooo/bar", "localhost/fooo/bar", "localhost/fooo/bar", "localhost/fooo/bar", "localhost"),
    ("fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN"),
    (
        "fooo/bar",
        "LOCALDOMAIN/fooo/bar",
        "LOCALDOMAIN/fooo/bar",
        "LOCALDOMAIN/fooo/bar",
        "LOCALDOMAIN",
    ),
    ("fooo/bar", "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io"),
    ("library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io"),
    ("nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io"),
    ("other/library", "other/library", "docker.io/other/library", "", "docker.io"),
    (
        "private/moonbase",
        "127.0.0.1:8000/private/moonbase",
        "127.0.0.1:8000/private/moonbase",
        "",
        "127.0.0.1:8000",
    ),
    (
        "privatebase",
        "127.0.0.1:8000/privatebase",
        "127.0.0.1:8000/privatebase",
        "",
        "127.0.0.1:8000",
    ),
    (
        "private/moonbase",
        "example.com/private/moonbase",
        "example.com/private/moonbase",
        "",
        "example.com",
    ),
    ("privatebase", "example.com/privatebase", "example.com/privatebase", "", "example.com"),
    (
        "private/moonbase",
        "example.com:8000/private/moonbase",
        "example.com:8000/private/moonbase",
        "",
        "example.com:8000",
    ),
    (
        "privatebasee",
        "example.com:8000/privatebasee",
        "example.com:8000/privatebasee",
        "",
        "example.com:8000",
    ),
    (
        "library/ubuntu-12.04-base",
        "ubuntu-12.04-base",
        "docker.io/library/ubuntu-12.04-base",
        "index.docker.io/library/ubuntu-12.04-base",
        "docker.io",
    ),
    ("library/foo", "foo", "docker.io/library/foo", "docker.io/foo", "docker.io"),
    ("library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "", "docker.io"),
    ("store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar", "", "docker.io"),
    ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
    ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
]

# normalize_test.go TestParseAnyReference, the rows that name a repository:
# (input, normalized string).
NORMALIZED_STRING = [
    ("redis", "docker.io/library/redis"),
    ("redis:latest", "docker.io/library/redis:latest"),
    ("docker.io/library/redis:latest", "docker.io/library/redis:latest"),
    (f"redis@{DBCC}", f"docker.io/library/redis@{DBCC}"),
    (f"docker.io/library/redis@{DBCC}", f"docker.io/library/redis@{DBCC}"),
    ("dmcgowan/myapp", "docker.io/dmcgowan/myapp"),
    ("dmcgowan/myapp:latest", "docker.io/dmcgowan/myapp:latest"),
    ("docker.io/mcgowan/myapp:latest", "docker.io/mcgowan/myapp:latest"),
    (f"dmcgowan/myapp@{DBCC}", f"docker.io/dmcgowan/myapp@{DBCC}"),
    (f"docker.io/dmcgowan/myapp@{DBCC}", f"docker.io/dmcgowan/myapp@{DBCC}"),
    (
        "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9",
        "docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9",
    ),
    ("dbcc1", "docker.io/library/dbcc1"),
    # TestParseReferenceWithTagAndDigest
    (
        "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
        "docker.io/library/busybox:latest"
        "@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
    ),
]

# normalize_test.go TestNormalizedSplitHostname: (input, domain, path).
NORMALIZED_SPLIT = [
    ("test.com/foo", "test.com", "foo"),
    ("test_com/foo", "docker.io", "test_com/foo"),
    ("docker/migrator", "docker.io", "docker/migrator"),
    ("test.com:8080/foo", "test.com:8080", "foo"),
    ("test-com:8080/foo", "test-com:8080", "foo"),
    ("foo", "docker.io", "library/foo"),
    ("xn--n3h.com/foo", "xn--n3h.com", "foo"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
    ("docker.io/foo", "docker.io", "library/foo"),
    ("docker.io/library/foo", "docker.io", "library/foo"),
    ("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
]

# normalize_test.go TestParseDockerRef, as parse_normalized_tagged sees it: (input, string).
# ParseDockerRef also drops the tag of "name:tag@digest"; parse_normalized_tagged keeps both,
# as ParseNormalizedNamed + TagNameOnly do (the last row).
NORMALIZED_TAGGED = [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:latest", "docker.io/library/busybox:latest"),
    (f"busybox@{E669}", f"docker.io/library/busybox@{E669}"),
    ("library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox:latest", "docker.io/library/busybox:latest"),
    ("library/busybox:latest", "docker.io/library/busybox:latest"),
    ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
    ("gcr.io/library/busybox", "gcr.io/library/busybox:latest"),
    (
        f"gcr.io/library/busybox:latest@{E669}",
        f"gcr.io/library/busybox:latest@{E669}",
    ),
]

# regexp_test.go TestDomainRegexp: (domain, is a domain). Checked by parsing "<domain>/repo".
DOMAINS = [
    ("test.com", True),
    ("test.com:10304", True),
    ("test.com:http", False),
    ("localhost", True),
    ("localhost:8080", True),
    ("a", True),
    ("a.b", True),
    ("ab.cd.com", True),
    ("a-b.com", True),
    ("-ab.com", False),
    ("ab-.com", False),
    ("ab.c-om", True),
    ("ab.-com", False),
    ("ab.com-", False),
    ("0101.com", True),
    ("001a.com", True),
    ("b.gbc.io:443", True),
    ("b.gbc.io", True),
    ("xn--n3h.com", True),
    ("Asdf.com", True),
    ("192.168.1.1:75050", True),
    ("192.168.1.1:750050", True),
    ("[fd00:1:2::3]:75050", True),
    ("[fd00:1:2::3]75050", False),
    ("[fd00:1:2::3]::75050", False),
    ("[fd00:1:2::3%eth0]:75050", False),
    ("[fd00123123123]:75050", True),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050", True),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505", True),
    ("fd00:1:2::3:75050", False),
]

# regexp_test.go TestFullNameRegexp: (name, (domain, path) or None when it is not a name).
NAMES = [
    ("", None),
    ("short", ("", "short")),
    ("simple/name", ("simple", "name")),
    ("library/ubuntu", ("library", "ubuntu")),
    ("docker/stevvooe/app", ("docker", "stevvooe/app")),
    (
        "aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb",
        ("aa", "aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb"),
    ),
    ("aa/aa/bb/bb/bb", ("aa", "aa/bb/bb/bb")),
    ("a/a/a/a", ("a", "a/a/a")),
    ("a/a/a/a/", None),
    ("a//a/a", None),
    ("a", ("", "a")),
    ("a/aa", ("a", "aa")),
    ("a/aa/a", ("a", "aa/a")),
    ("foo.com", ("", "foo.com")),
    ("foo.com/", None),
    ("foo.com:8080/bar", ("foo.com:8080", "bar")),
    ("foo.com:http/bar", None),
    ("foo.com/bar", ("foo.com", "bar")),
    ("foo.com/bar/baz", ("foo.com", "bar/baz")),
    ("localhost:8080/bar", ("localhost:8080", "bar")),
    ("sub-dom1.foo.com/bar/baz/quux", ("sub-dom1.foo.com", "bar/baz/quux")),
    ("blog.foo.com/bar/baz", ("blog.foo.com", "bar/baz")),
    ("a^a", None),
    ("aa/asdf$$^/aa", None),
    ("asdf$$^/aa", None),
    ("aa-a/a", ("aa-a", "a")),
    ("a/" * 128 + "a", ("a", "a/" * 127 + "a")),
    ("a-/a/a/a", None),
    ("foo.com/a-/a/a", None),
    ("-foo/bar", None),
    ("foo/bar-", None),
    ("foo-/bar", None),
    ("foo/-bar", None),
    ("_foo/bar", None),
    ("foo_bar", ("", "foo_bar")),
    ("foo_bar.com", ("", "foo_bar.com")),
    ("foo_bar.com:8080", None),
    ("foo_bar.com:8080/app", None),
    ("foo.com/foo_bar", ("foo.com", "foo_bar")),
    ("____/____", None),
    ("_docker/_docker", None),
    ("docker_/docker_", None),
    ("b.gcr.io/test.example.com/my-app", ("b.gcr.io", "test.example.com/my-app")),
    ("xn--n3h.com/myimage", ("xn--n3h.com", "myimage")),
    ("xn--7o8h.com/myimage", ("xn--7o8h.com", "myimage")),
    ("example.com/xn--7o8h.com/myimage", ("example.com", "xn--7o8h.com/myimage")),
    (
        "example.com/some_separator__underscore/myimage",
        ("example.com", "some_separator__underscore/myimage"),
    ),
    ("example.com/__underscore/myimage", None),
    ("example.com/..dots/myimage", None),
    ("example.com/.dots/myimage", None),
    ("example.com/nodouble..dots/myimage", None),
    ("docker./docker", None),
    (".docker/docker", None),
    ("docker-/docker", None),
    ("-docker/docker", None),
    ("do..cker/docker", None),
    ("do__cker:8080/docker", None),
    ("do__cker/docker", ("", "do__cker/docker")),
    (
        "registry.io/foo/project--id.module--name.ver---sion--name",
        ("registry.io", "foo/project--id.module--name.ver---sion--name"),
    ),
    ("Asdf.com/foo/bar", ("Asdf.com", "foo/bar")),
    ("Foo/FarB", None),
]

# regexp_test.go TestReferenceRegexp: (input, (name, tag, digest) or None when invalid).
REFERENCES = [
    ("registry.com:8080/myapp:tag", ("registry.com:8080/myapp", "tag", "")),
    (f"registry.com:8080/myapp@{BE17}", ("registry.com:8080/myapp", "", BE17)),
    (f"registry.com:8080/myapp:tag2@{BE17}", ("registry.com:8080/myapp", "tag2", BE17)),
    ("registry.com:8080/myapp@sha256:badbadbadbad", None),
    ("registry.com:8080/myapp:invalid~tag", None),
    ("bad_hostname.com:8080/myapp:tag", None),
    # "localhost" alone is a name, so ":8080" is its tag.
    (f"localhost:8080@{BE17}", ("localhost", "8080", BE17)),
    (f"localhost:8080/name@{BE17}", ("localhost:8080/name", "", BE17)),
    (f"localhost:http/name@{BE17}", None),
    (f"localhost@{BE17}", ("localhost", "", BE17)),
    ("registry.com:8080/myapp@bad", None),
    ("registry.com:8080/myapp@2bad", None),
]

# regexp_test.go TestIdentifierRegexp: (input, is a full image id).
IDENTIFIERS = [
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821", True),
    ("7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C", False),
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf", False),
    ("sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821", False),
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482", False),
]

# Docker's user-facing messages through parse_normalized: (input, exact message).
NORMALIZED_ERRORS = [
    ("Foo", "invalid reference format: repository name (library/Foo) must be lowercase"),
    ("me/App:1", "invalid reference format: repository name (me/App) must be lowercase"),
    (
        "localhost:5000/Foo/bar",
        "invalid reference format: repository name (Foo/bar) must be lowercase",
    ),
    (
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "invalid repository name (1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a)"
        ", cannot specify 64-byte hexadecimal strings",
    ),
    ("", "invalid reference format"),
    ("busybox:", "invalid reference format"),
    ("busybox:-tag", "invalid reference format"),
    ("busybox:" + "t" * 129, "invalid reference format"),
    ("busybox@sha256:" + "a" * 40, "invalid checksum digest length"),
    ("busybox@sha256:" + "A" * 64, "invalid checksum digest format"),
    ("busybox@md5:" + "a" * 32, "unsupported digest algorithm"),
    # Docker looks for upper case up to the first ":", which here is inside the digest.
    (
        "busybox@SHA256:" + "a" * 64,
        "invalid reference format: repository name (library/busybox@SHA256) must be lowercase",
    ),
    ("me/app@sha256:" + "A" * 64, "invalid checksum digest format"),
    ("me/" + "a" * 253, "repository name must not be more than 255 characters"),
]
