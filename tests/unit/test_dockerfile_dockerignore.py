""".dockerignore semantics, with moby/patternmatcher's test vectors as data."""

import pytest

from dockyard.dockerfile import PatternMatcher, read_dockerignore
from dockyard.errors import InvalidArgument

# moby/patternmatcher TestMatches: (pattern, path, matches) for MatchesOrParentMatches.
SINGLE = [
    ("**", "file", True), ("**", "file/", True), ("**/", "file", True), ("**/", "file/", True),
    ("**", "/", True), ("**/", "/", True), ("**", "dir/file", True), ("**/", "dir/file", True),
    ("**", "dir/file/", True), ("**/", "dir/file/", True), ("**/**", "dir/file", True),
    ("**/**", "dir/file/", True), ("dir/**", "dir/file", True), ("dir/**", "dir/file/", True),
    ("dir/**", "dir/dir2/file", True), ("dir/**", "dir/dir2/file/", True),
    ("**/dir", "dir", True), ("**/dir", "dir/file", True), ("**/dir2/*", "dir/dir2/file", True),
    ("**/dir2/*", "dir/dir2/file/", True), ("**/dir2/**", "dir/dir2/dir3/file", True),
    ("**/dir2/**", "dir/dir2/dir3/file/", True), ("**file", "file", True),
    ("**file", "dir/file", True), ("**/file", "dir/file", True), ("**file", "dir/dir/file", True),
    ("**/file", "dir/dir/file", True), ("**/file*", "dir/dir/file", True),
    ("**/file*", "dir/dir/file.txt", True), ("**/file*txt", "dir/dir/file.txt", True),
    ("**/file*.txt", "dir/dir/file.txt", True), ("**/file*.txt*", "dir/dir/file.txt", True),
    ("**/**/*.txt", "dir/dir/file.txt", True), ("**/**/*.txt2", "dir/dir/file.txt", False),
    ("**/*.txt", "file.txt", True), ("**/**/*.txt", "file.txt", True),
    ("a**/*.txt", "a/file.txt", True), ("a**/*.txt", "a/dir/file.txt", True),
    ("a**/*.txt", "a/dir/dir/file.txt", True), ("a/*.txt", "a/dir/file.txt", False),
    ("a/*.txt", "a/file.txt", True), ("a/*.txt**", "a/file.txt", True),
    ("a[b-d]e", "ae", False), ("a[b-d]e", "ace", True), ("a[b-d]e", "aae", False),
    ("a[^b-d]e", "aze", True), (".*", ".foo", True), (".*", "foo", False),
    ("abc.def", "abcdef", False), ("abc.def", "abc.def", True), ("abc.def", "abcZdef", False),
    ("abc?def", "abcZdef", True), ("abc?def", "abcdef", False), ("a\\\\", "a\\", True),
    ("**/foo/bar", "foo/bar", True), ("**/foo/bar", "dir/foo/bar", True),
    ("**/foo/bar", "dir/dir2/foo/bar", True), ("abc/**", "abc", False),
    ("abc/**", "abc/def", True), ("abc/**", "abc/def/ghi", True), ("**/.foo", ".foo", True),
    ("**/.foo", "bar.foo", False), ("a(b)c/def", "a(b)c/def", True),
    ("a(b)c/def", "a(b)c/xyz", False), ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
    ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    ("a\\*b", "a*b", True),
]  # fmt: skip

MULTI = [
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"],
     "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    (["*.go"], "fileutils.go", True),
    (["*"], "fileutils.go", True),
    (["!fileutils.go", "*.go"], "fileutils.go", True),
    (["*.go", "!fileutils.go"], "fileutils.go", False),
    (["docs", "!docs/README.md"], "docs/README.md", False),
    (["docs/", "!docs/README.md"], "docs/README.md", False),
    (["docs/*", "!docs/README.md"], "docs/README.md", False),
    ([], "/any/path/there", False),
]  # fmt: skip

# Go's filepath.Match tests as used by patternmatcher TestMatch; None = bad pattern.
GLOB = [
    ("abc", "abc", True), ("*", "abc", True), ("*c", "abc", True), ("a*", "a", True),
    ("a*", "abc", True), ("a*", "ab/c", True), ("a*/b", "abc/b", True), ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True), ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False), ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True), ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True), ("ab[b-d]", "abc", True), ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False), ("ab[^b-d]", "abc", False), ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True), ("a\\*b", "ab", False), ("a?b", "a☺b", True),
    ("a[^a]b", "a☺b", True), ("a???b", "a☺b", False), ("a[^a][^a][^a]b", "a☺b", False),
    ("[a-ζ]*", "α", True), ("*[a-ζ]", "A", False), ("a?b", "a/b", False), ("a*b", "a/b", False),
    ("[\\]a]", "]", True), ("[\\-]", "-", True), ("[x\\-]", "x", True), ("[x\\-]", "-", True),
    ("[x\\-]", "z", False), ("[\\-x]", "x", True), ("[\\-x]", "-", True), ("[\\-x]", "a", False),
    ("[]a]", "]", None), ("[-]", "-", None), ("[x-]", "x", None), ("[x-]", "-", None),
    ("[x-]", "z", None), ("[-x]", "x", None), ("[-x]", "-", None), ("[-x]", "a", None),
    ("\\", "a", None), ("[a-b-c]", "a", None), ("[", "a", None), ("[^", "a", None),
    ("[^bc", "a", None), ("a[", "a", None), ("a[", "ab", None), ("*x", "xxx", True),
]  # fmt: skip


@pytest.mark.parametrize(("pattern", "path", "expected"), SINGLE)
def test_patternmatcher_vectors(pattern, path, expected):
    assert PatternMatcher([pattern]).matches(path) is expected


@pytest.mark.parametrize(("patterns", "path", "expected"), MULTI)
def test_patternmatcher_multi_vectors(patterns, path, expected):
    assert PatternMatcher(patterns).matches(path) is expected


@pytest.mark.parametrize(("pattern", "path", "expected"), GLOB)
def test_go_match_vectors(pattern, path, expected):
    if expected is None:
        with pytest.raises(InvalidArgument):
            PatternMatcher([pattern]).matches(path)
    else:
        assert PatternMatcher([pattern]).matches(path) is expected


def test_lone_exclamation_is_an_error():
    with pytest.raises(InvalidArgument, match='illegal exclusion pattern: "!"'):
        PatternMatcher(["!"])


def test_exclusions_flag_and_blank_patterns():
    pm = PatternMatcher(["docs", "  !docs/README.md  ", ""])
    assert pm.exclusions and len(pm.patterns) == 2


def test_read_dockerignore():
    text = "\ufeff# comment\n /abs/path \n./rel\n!/keep\n! spaced \n\n   # not a comment\nsub/../x\n/\n"
    assert read_dockerignore(text) == [
        "abs/path", "rel", "!keep", "!spaced", "# not a comment", "x", "/",
    ]  # fmt: skip


def test_later_lines_win():
    pm = PatternMatcher(read_dockerignore("*.log\n!important.log\nimportant.log\n"))
    assert pm.matches("important.log") and pm.matches("a.log") and not pm.matches("a.txt")


def test_parent_dir_pattern_excludes_contents():
    pm = PatternMatcher(["node_modules", "build/"])
    assert pm.matches("node_modules/a/b.js") and pm.matches("build/out/x")
    assert not pm.matches("src/node_modules_x")


@pytest.mark.parametrize(
    ("patterns", "directory", "skip"),
    [
        (["node_modules"], "node_modules", True),
        (["node_modules"], "src", False),  # not excluded at all
        (["docs", "!docs/README.md"], "docs", False),
        (["docs", "!docs/README.md"], "docs/api", True),
        (["docs", "!docs/*/keep"], "docs/api", False),
        (["docs", "!docs/*/keep"], "docs", False),
        (["docs", "!**/keep"], "docs", False),
        (["docs", "!other/keep"], "docs", True),
        (["**", "!src"], "src", False),  # not excluded: the exception covers it
        (["a", "!a/b/c"], "a/b", False),
        (["a", "!a/b/c"], "a/x", True),
        (["a", "!a/b"], "a/b", False),
        (["a", "!a/[bc]/d"], "a/c", False),
        (["a", "!a/[bc]/d"], "a/e", True),
    ],
)
def test_can_skip_dir(patterns, directory, skip):
    assert PatternMatcher(patterns).can_skip_dir(directory) is skip


def test_skip_decision_agrees_with_matching_every_path_beneath():
    patterns = ["build", "!build/keep/*.txt", "logs/**", "!logs/important", "tmp*"]
    pm = PatternMatcher(patterns)
    paths = [
        "build/a", "build/keep/x.txt", "build/keep/x.bin", "build/keep/sub/x.txt",
        "logs/a/b", "logs/important/x", "tmp1/x", "tmpdir/y/z", "src/a",
    ]  # fmt: skip
    dirs = {"/".join(p.split("/")[:i]) for p in paths for i in range(1, p.count("/") + 1)}
    for d in sorted(dirs):
        if pm.can_skip_dir(d):
            beneath = [p for p in paths if p.startswith(d + "/")]
            assert all(pm.matches(p) for p in beneath), d


def test_hostile_patterns_do_not_blow_up():
    pm = PatternMatcher(["*" * 1000 + "x", "a/" * 500 + "**"])
    assert not pm.matches("y" * 5000)
    assert pm.matches("a/" * 500 + "z")
