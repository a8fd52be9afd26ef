"""Formatter context for container rows (`ps`), with Docker's field names, headers and default
table formats; and the small helpers the container commands share.

`ContainerRow` has the shape of `formatter.Row` without importing it: the default `ps`
table is rendered here directly, and only a custom --format needs the template engine."""

PS_TABLE = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
)
QUIET = "{{.ID}}"

PS_HEADER = {
    "ID": "CONTAINER ID",
    "Image": "IMAGE",
    "Command": "COMMAND",
    "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED",
    "Ports": "PORTS",
    "State": "STATE",
    "Status": "STATUS",
    "Size": "SIZE",
    "Names": "NAMES",
    "Labels": "LABELS",
    "Mounts": "MOUNTS",
    "LocalVolumes": "LOCAL VOLUMES",
    "Networks": "NETWORKS",
}


def ps_format(source: str, quiet: bool, size: bool) -> str:
    """Docker's NewContainerFormat (with -s adding SIZE to a table)."""
    if quiet and (not source or source == "table"):
        return QUIET
    if source in ("", "table"):
        return PS_TABLE + ("\t{{.Size}}" if size else "")
    return source


def ellipsis(text: str, width: int) -> str:
    """Docker's formatter.Ellipsis (ASCII width): cut to `width` with a trailing '…'."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    return text[: width - 1] + "…"


def go_quote(text: str) -> str:
    """Go's strconv.Quote for the text a command line holds."""
    out = ['"']
    for ch in text:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class ContainerRow:
    GO_TYPE = "*formatter.ContainerContext"
    FIELDS = (
        "Command",
        "CreatedAt",
        "ID",
        "Image",
        "Labels",
        "LocalVolumes",
        "Mounts",
        "Names",
        "Networks",
        "Ports",
        "RunningFor",
        "Size",
        "State",
        "Status",
    )

    def __init__(self, summary: dict, trunc: bool, now: float):
        self.c = summary
        self.trunc = trunc
        self.now = now

    def to_json(self) -> dict:
        return {name: getattr(self, name)() for name in self.FIELDS}

    def ID(self) -> str:
        return self.c["Id"][:12] if self.trunc else self.c["Id"]

    def Names(self) -> str:
        names = [n[1:] if n.startswith("/") else n for n in self.c.get("Names") or ()]
        if self.trunc:  # Docker hides link names (a/b) unless --no-trunc
            names = [n for n in names if "/" not in n][:1] or names[:1]
        return ",".join(names)

    def Image(self) -> str:
        image = self.c.get("Image") or ""
        if not image:
            return "<no image>"
        if self.trunc:
            image_id = self.c.get("ImageID") or ""
            short = image.partition(":")[2][:12] if image.startswith("sha256:") else ""
            if short and image_id.partition(":")[2][:12] == short:
                return short
            return image.partition("@")[0]
        return image

    def Command(self) -> str:
        command = self.c.get("Command") or ""
        return go_quote(ellipsis(command, 20) if self.trunc else command)

    def CreatedAt(self) -> str:
        from dockyard.cli.commands.imagefmt import go_time

        return go_time(self.c.get("Created") or 0)

    def RunningFor(self) -> str:
        from dockyard.cli.units import human_duration

        return human_duration(self.now - (self.c.get("Created") or 0)) + " ago"

    def Ports(self) -> str:
        return ""

    def State(self) -> str:
        return self.c.get("State") or ""

    def Status(self) -> str:
        return self.c.get("Status") or ""

    def Size(self) -> str:
        from dockyard.cli.units import human_size_precision

        rw = self.c.get("SizeRw")
        if rw is None:
            return "0B"
        text = human_size_precision(rw, 3)
        root = self.c.get("SizeRootFs") or 0
        return f"{text} (virtual {human_size_precision(root, 3)})" if root > 0 else text

    def Labels(self) -> str:
        return ",".join(f"{k}={v}" for k, v in (self.c.get("Labels") or {}).items())

    def Mounts(self) -> str:
        names = []
        for m in self.c.get("Mounts") or ():
            name = m.get("Name") or m.get("Source") or m.get("Destination") or ""
            names.append(ellipsis(name, 15) if self.trunc else name)
        return ",".join(names)

    def LocalVolumes(self) -> str:
        return str(sum(1 for m in self.c.get("Mounts") or () if m.get("Type") == "volume"))

    def Networks(self) -> str:
        nets = (self.c.get("NetworkSettings") or {}).get("Networks") or {}
        if nets:
            return ",".join(sorted(nets))
        return (self.c.get("HostConfig") or {}).get("NetworkMode") or ""


# The default formats, rendered without the template engine (ps is polled by scripts):
# format -> the row methods for its columns, in order.
_FAST = {
    PS_TABLE: ("ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"),
    PS_TABLE + "\t{{.Size}}": ("ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names", "Size"),
    QUIET: ("ID",),
}  # fmt: skip


def is_fast(fmt: str) -> bool:
    return fmt in _FAST


def render_fast(fmt: str, rows) -> str:
    """What `formatter.render` gives for the default formats, computed directly."""
    names = _FAST[fmt]
    lines = ["\t".join(getattr(r, n)() for n in names) for r in rows]
    if fmt == QUIET:
        return "".join(line + "\n" for line in lines)
    from dockyard.cli.tabwriter import format_table

    head = "\t".join(PS_HEADER[n] if n != "RunningFor" else "CREATED" for n in names)
    return format_table(head + "\n" + "".join(line + "\n" for line in lines))
