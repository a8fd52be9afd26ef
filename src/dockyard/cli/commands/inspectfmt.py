"""What `inspect` and `image inspect` share: Docker's inspector (indented JSON array by default,
`json` compact, or a template per object), collecting errors and reporting them at the end."""

from dockyard.cli.command import CliError


def go_json(value, indent: int | None = None) -> str:
    """JSON as the Docker daemon encodes it (Go escapes <, > and & by default)."""
    import json

    if indent is None:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = json.dumps(value, ensure_ascii=False, indent=indent)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# Members that are Go maps in Docker's typed inspect objects: a missing key there is no error.
MAP_FIELDS = frozenset({"Labels", "ExposedPorts", "Volumes", "Data", "Options", "DriverOpts"})


def inspect(cli, refs: list[str], fmt: str, get) -> int:
    """Look up each ref with `get(ref) -> dict`; print like Docker; 1 if any failed."""
    from dockyard.cli.template import Template, TemplateError
    from dockyard.errors import DockyardError

    tmpl = None
    if fmt and fmt != "json":
        try:
            tmpl = Template(fmt, strict=True, maps=MAP_FIELDS)
        except TemplateError as e:
            raise CliError(f"template parsing error: {e}", 64) from None
    errors: list[str] = []
    found: list = []
    rendered: list[str] = []
    for ref in refs:
        try:
            obj = get(ref)
        except DockyardError as e:
            errors.append(f"Error: {e}")
            continue
        if tmpl is None:
            found.append(obj)
            continue
        try:
            rendered.append(tmpl.execute(obj) + "\n")
        except TemplateError as e:
            errors.append(f"template parsing error: {e}")
    if tmpl is not None:
        cli.out("".join(rendered) or "\n")
    elif fmt == "json":
        cli.out(go_json(found) + "\n")
    else:
        cli.out(go_json(found, indent=4) + "\n")
    if errors:
        cli.stdout.flush()
        cli.err("\n".join(errors) + "\n")
        return 1
    return 0
