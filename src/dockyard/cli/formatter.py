"""Rendering rows with a `--format` value the way Docker's formatter package does.

"table" (a command's default columns), "table TEMPLATE" (header row + tab-aligned columns),
"json" (one JSON object per line), or any other Go template (one rendering per row).
"""

from dockyard.cli.command import CliError
from dockyard.cli.template import Template, TemplateError

TABLE = "table"
JSON = "json"


def is_table(fmt: str) -> bool:
    return fmt.startswith(TABLE)


def template_string(fmt: str) -> str:
    """Docker's Format.templateString: strip "table", trim spaces, expand \\t and \\n."""
    if fmt == TABLE:
        return ""
    if fmt == JSON:
        return "{{json .}}"
    if fmt.startswith(TABLE):
        fmt = fmt[len(TABLE) :]
    return fmt.strip(" ").replace("\\t", "\t").replace("\\n", "\n")


def compile_format(fmt: str, strict: bool = False) -> Template:
    try:
        return Template(template_string(fmt), strict=strict)
    except TemplateError as e:
        raise CliError(f"template parsing error: {e}") from None


def render(fmt: str, rows, header: dict[str, str] | None = None) -> str:
    """All rows rendered with `fmt`; a table gets the header row and aligned columns."""
    tmpl = compile_format(fmt)
    buf = []
    try:
        for row in rows:
            buf.append(tmpl.execute(row))
            buf.append("\n")
    except TemplateError as e:
        raise CliError(f"template parsing error: {e}") from None
    if not is_table(fmt):
        return "".join(buf)
    from dockyard.cli.tabwriter import format_table

    try:
        head = tmpl.execute(header or {}, header=True)
    except TemplateError:
        head = ""  # Docker ignores header errors: the rows carry the real ones.
    return format_table(head + "\n" + "".join(buf))


class Row:
    """Base of the formatter contexts: capitalised zero-argument methods are the fields."""

    GO_TYPE = "*formatter.Context"
    FIELDS: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {name: getattr(self, name)() for name in self.FIELDS}
