"""The Go text/template subset behind --format: output and error messages as Docker's."""

import pytest

from dockyard.cli.formatter import Row, render, template_string
from dockyard.cli.template import Template, TemplateError


class Img(Row):
    GO_TYPE = "*formatter.imageContext"
    FIELDS = ("ID", "Repository", "Tag")

    def __init__(self, ident, repo, tag):
        self.i, self.r, self.t = ident, repo, tag

    def ID(self):
        return self.i

    def Repository(self):
        return self.r

    def Tag(self):
        return self.t


DATA = {
    "Id": "sha256:abc",
    "RepoTags": ["busybox:latest", "me/app:1"],
    "Size": 1982385,
    "Config": {"Cmd": ["sh", "-c", "echo hi"], "Env": None, "Labels": {"a.b": "1", "z": "2"}},
    "Empty": [],
    "Flag": True,
    "Name": "Hello World-wide",
}


def ex(src, data=DATA, **kw):
    return Template(src, **kw).execute(data)


@pytest.mark.parametrize(
    "src, want",
    [
        ("plain text", "plain text"),
        ("{{.Id}}", "sha256:abc"),
        ("{{ .Id }}", "sha256:abc"),
        ("{{.Config.Cmd}}", "[sh -c echo hi]"),
        ("{{.Config.Labels}}", "map[a.b:1 z:2]"),
        ("{{.Size}}", "1982385"),
        ("{{.Flag}}", "true"),
        ("{{.Config.Env}}", "<no value>"),
        ("{{.Config.Labels.missing}}", "<no value>"),
        ("{{.Missing}}", "<no value>"),
        (
            "{{json .}}",
            '{"Id":"sha256:abc","RepoTags":["busybox:latest","me/app:1"],"Size":1982385,'
            '"Config":{"Cmd":["sh","-c","echo hi"],"Env":null,"Labels":{"a.b":"1","z":"2"}},'
            '"Empty":[],"Flag":true,"Name":"Hello World-wide"}',
        ),
        ("{{json .Config.Cmd}}", '["sh","-c","echo hi"]'),
        ("{{json .Config.Env}}", "null"),
        ('{{json "a<b"}}', '"a<b"'),
        ('{{join .RepoTags ", "}}', "busybox:latest, me/app:1"),
        ('{{join .Config.Labels ","}}', "1,2"),
        ('{{join .Empty ","}}', ""),
        ('{{split "a,b,c" ","}}', "[a b c]"),
        ('{{index (split "a:b" ":") 1}}', "b"),
        ('{{index .Config.Labels "a.b"}}', "1"),
        ('{{index .Config.Labels "nope"}}', ""),
        ("{{index .RepoTags 1}}", "me/app:1"),
        ("{{lower .Name}}", "hello world-wide"),
        ("{{upper .Name}}", "HELLO WORLD-WIDE"),
        ('{{title "hello wide-world foo_bar"}}', "Hello Wide-World Foo_bar"),
        ("{{truncate .Id 6}}", "sha256"),
        ("{{truncate .Id 100}}", "sha256:abc"),
        ("[{{pad .Id 2 1}}]", "[  sha256:abc ]"),
        ('[{{pad "" 2 1}}]', "[]"),
        ("{{len .RepoTags}}", "2"),
        ("{{len .Name}}", "16"),
        ("{{println .Id}}", "sha256:abc\n"),
        ('{{printf "%s=%d" .Id .Size}}', "sha256:abc=1982385"),
        ('{{printf "%-6s|" "ab"}}', "ab    |"),
        ("{{.Id | upper}}", "SHA256:ABC"),
        # a piped value is the *last* argument, as in Go: split " " .Name
        ('{{.Name | split " " | len}}', "1"),
        ('{{split .Name " " | len}}', "2"),
        ("{{range .RepoTags}}[{{.}}]{{end}}", "[busybox:latest][me/app:1]"),
        ("{{range $i, $t := .RepoTags}}{{$i}}:{{$t}} {{end}}", "0:busybox:latest 1:me/app:1 "),
        ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a.b=1;z=2;"),
        ("{{range .Empty}}x{{else}}none{{end}}", "none"),
        ("{{range .Config.Env}}x{{else}}nil{{end}}", "nil"),
        ("{{if .Flag}}yes{{else}}no{{end}}", "yes"),
        ("{{if .Empty}}yes{{else}}no{{end}}", "no"),
        ("{{if .Config.Env}}a{{else if .Size}}b{{else}}c{{end}}", "b"),
        ('{{if eq .Id "x" "sha256:abc"}}match{{end}}', "match"),
        ("{{if ne .Size 0}}nonzero{{end}}", "nonzero"),
        ("{{if and .Flag .Size}}both{{end}}", "both"),
        ("{{if or .Empty .Flag}}either{{end}}", "either"),
        ("{{if not .Empty}}empty{{end}}", "empty"),
        ("{{if gt .Size 1000}}big{{end}}", "big"),
        ("{{with .Config}}{{.Labels.z}}{{end}}", "2"),
        ("{{with .Empty}}x{{else}}empty{{end}}", "empty"),
        ("{{$x := .Size}}{{$x}}", "1982385"),
        ("{{range .RepoTags}}{{$.Id}} {{end}}", "sha256:abc sha256:abc "),
        ("a  {{- .Size -}}  b", "a1982385b"),
        ("a{{/* a comment */}}b", "ab"),
        ("a {{- /* trimmed */ -}} b", "ab"),
        ('{{"a\\tb"}}', "a\tb"),
        ("{{`raw\\t`}}", "raw\\t"),
        ("{{3}} {{-1}} {{true}}", "3 -1 true"),
    ],
)
def test_output(src, want):
    assert ex(src) == want


def test_fields_and_methods_of_formatter_contexts():
    row = Img("f6cf59edea55", "<none>", "<none>")
    assert ex("{{.ID}}\t{{.Repository}}", row) == "f6cf59edea55\t<none>"
    # Docker's contexts marshal with Go's json.Marshal, which escapes <, > and &.
    assert ex("{{json .}}", row) == (
        '{"ID":"f6cf59edea55","Repository":"\\u003cnone\\u003e","Tag":"\\u003cnone\\u003e"}'
    )


@pytest.mark.parametrize(
    "src, data, message",
    [
        (
            "{{.Foo}}",
            Img("a", "b", "c"),
            'template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type '
            "*formatter.imageContext",
        ),
        (
            "x\n  {{.ID.Foo}}",
            Img("a", "b", "c"),
            'template: :2:4: executing "" at <.ID.Foo>: can\'t evaluate field Foo in type string',
        ),
        (
            '{{join .Id ","}}',
            DATA,
            'template: :1:2: executing "" at <join .Id ",">: error calling join: '
            "expected slice, got string",
        ),
        (
            "{{index .RepoTags 5}}",
            DATA,
            'template: :1:2: executing "" at <index .RepoTags 5>: error calling index: '
            "index out of range: 5",
        ),
        (
            "{{.Id 1}}",
            DATA,
            'template: :1:2: executing "" at <.Id>: can\'t give argument to non-function .Id',
        ),
    ],
)
def test_execution_errors(src, data, message):
    with pytest.raises(TemplateError) as e:
        Template(src).execute(data)
    assert str(e.value) == message


def test_strict_mode_reports_missing_keys_like_docker_inspect():
    with pytest.raises(TemplateError) as e:
        ex("{{.Nope}}", strict=True)
    assert (
        str(e.value) == 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"'
    )
    with pytest.raises(TemplateError):
        ex("{{.Config.Nope}}", strict=True, maps=frozenset({"Labels"}))
    # inside a Go map (labels) a missing key is just "no value", as with Docker's typed objects
    assert ex("{{.Config.Labels.nope}}", strict=True, maps=frozenset({"Labels"})) == "<no value>"
    assert ex("{{.Config.Env.nope}}", strict=True, maps=frozenset({"Env"})) == "<no value>"


@pytest.mark.parametrize(
    "src, message",
    [
        ("{{nope .Id}}", 'template: :1: function "nope" not defined'),
        ("{{.Id", "template: :1: unclosed action"),
        ("{{if .Id}}x", "template: :1: unexpected EOF"),
        ("{{end}}", "template: :1: unexpected {{end}}"),
        ("{{else}}", "template: :1: unexpected {{else}}"),
        ("{{}}", "template: :1: missing value for command"),
        ('{{"abc}}', "template: :1: unterminated quoted string"),
        ("a\n{{(.Id}}", "template: :2: unclosed left paren"),
    ],
)
def test_parse_errors(src, message):
    with pytest.raises(TemplateError) as e:
        Template(src)
    assert str(e.value) == message


def test_header_rendering_keeps_column_names_intact():
    header = {"ID": "IMAGE ID", "Repository": "REPOSITORY"}
    src = "{{lower .Repository}}\t{{truncate .ID 2}}\t{{json .ID}}"
    assert Template(src).execute(header, header=True) == "REPOSITORY\tIMAGE ID\tIMAGE ID"


@pytest.mark.parametrize(
    "fmt, want",
    [
        ("table", ""),
        ("json", "{{json .}}"),
        ("table {{.ID}}\\t{{.Tag}}", "{{.ID}}\t{{.Tag}}"),
        ("  {{.ID}}\\n  ", "{{.ID}}\n"),
        ("{{.ID}}", "{{.ID}}"),
    ],
)
def test_template_string(fmt, want):
    assert template_string(fmt) == want


def test_render_table_and_plain_and_json():
    rows = [Img("f6cf59edea55", "busybox", "latest"), Img("0123456789ab", "me/app", "1")]
    header = {"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG"}
    assert render("table {{.Repository}}\t{{.Tag}}\t{{.ID}}", rows, header) == (
        "REPOSITORY   TAG       IMAGE ID\n"
        "busybox      latest    f6cf59edea55\n"
        "me/app       1         0123456789ab\n"
    )
    assert render("{{.Repository}}:{{.Tag}}", rows, header) == "busybox:latest\nme/app:1\n"
    assert render("json", rows[:1], header) == (
        '{"ID":"f6cf59edea55","Repository":"busybox","Tag":"latest"}\n'
    )
    # an empty table still has its header
    assert render("table {{.ID}}\t{{.Tag}}", [], header) == "IMAGE ID   TAG\n"
