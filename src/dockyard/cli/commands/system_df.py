"""`system df`: disk usage by type; `-v` lists the images and volumes (and, later, containers)."""

from dockyard.cli.command import FORMAT_HELP, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, Flag, Values
from dockyard.cli.formatter import Row

COMMAND = Command(
    "df [OPTIONS]",
    "Show dockyard disk usage",
    flags=(
        Flag("format", help=FORMAT_HELP),
        Flag("verbose", "v", BOOL, help="Show detailed information on space usage"),
    ),
    args=("none",),
)

SUMMARY_TABLE = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
SUMMARY_HEADER = {
    "Type": "TYPE",
    "TotalCount": "TOTAL",
    "Active": "ACTIVE",
    "Size": "SIZE",
    "Reclaimable": "RECLAIMABLE",
}
IMAGES_TABLE = (
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
    "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}"
)
CONTAINERS_TABLE = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
    "{{.RunningFor}}\t{{.Status}}\t{{.Names}}"
)
CONTAINERS_HEADER = {
    "ID": "CONTAINER ID",
    "Image": "IMAGE",
    "Command": "COMMAND",
    "LocalVolumes": "LOCAL VOLUMES",
    "Size": "SIZE",
    "RunningFor": "CREATED",
    "Status": "STATUS",
    "Names": "NAMES",
}
VOLUMES_TABLE = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
VOLUMES_HEADER = {"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}
CACHE_TABLE = (
    "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t"
    "{{.UsageCount}}\t{{.Shared}}"
)
CACHE_HEADER = {
    "ID": "CACHE ID",
    "CacheType": "CACHE TYPE",
    "Size": "SIZE",
    "CreatedSince": "CREATED",
    "LastUsedSince": "LAST USED",
    "UsageCount": "USAGE",
    "Shared": "SHARED",
}


class UsageRow(Row):
    GO_TYPE = "*formatter.diskUsageImagesContext"
    FIELDS = ("Active", "Reclaimable", "Size", "TotalCount", "Type")

    def __init__(
        self, kind: str, total: int, active: int, size: int, reclaimable: int, percent: bool = True
    ):
        self.kind, self.total, self.active = kind, total, active
        self.size, self.reclaimable, self.percent = size, reclaimable, percent

    def Type(self) -> str:
        return self.kind

    def TotalCount(self) -> str:
        return str(self.total)

    def Active(self) -> str:
        return str(self.active)

    def Size(self) -> str:
        from dockyard.cli.units import human_size

        return human_size(self.size)

    def Reclaimable(self) -> str:
        from dockyard.cli.units import human_size

        if self.size > 0 and self.percent:
            return f"{human_size(self.reclaimable)} ({self.reclaimable * 100 // self.size}%)"
        return human_size(self.reclaimable)


def _image_usage(du: dict) -> UsageRow:
    images = du.get("Images") or []
    size = du.get("LayersSize", 0)
    used = 0
    active = 0
    for img in images:
        if img.get("Containers", 0) > 0:
            active += 1
            if img.get("Size", -1) != -1 and img.get("SharedSize", -1) != -1:
                used += img["Size"] - img["SharedSize"]
    return UsageRow("Images", len(images), active, size, size - used)


def _volume_usage(vols: list) -> UsageRow:
    size = sum(v["UsageData"]["Size"] for v in vols)
    unused = sum(v["UsageData"]["Size"] for v in vols if not v["UsageData"]["RefCount"])
    active = sum(1 for v in vols if v["UsageData"]["RefCount"])
    return UsageRow("Local Volumes", len(vols), active, size, unused)


def _volumes(cli) -> list:
    from dockyard.cli.commands.volume_fmt import service

    return service(cli).disk_usage()


def _summaries(du: dict) -> list:
    from types import SimpleNamespace

    return [SimpleNamespace(**img) for img in du.get("Images") or []]


def _verbose_rows(summaries, trunc: bool) -> list:
    from dockyard.cli.commands.imagefmt import ImageRow, is_dangling, split_repo_tag

    rows = []
    for s in summaries:
        repo, tag = "<none>", "<none>"
        if s.RepoTags and not is_dangling(s):
            repo, tag = split_repo_tag(s.RepoTags[0])
        rows.append(ImageRow(s, repo, tag, "", trunc))
    return rows


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.cli.formatter import compile_format, render

    fmt = opts.format or "table"
    if not opts.verbose:
        fmt = SUMMARY_TABLE if fmt == "table" else fmt
        compile_format(fmt)
        du = cli.images.disk_usage()
        # Containers and the build cache have no store yet: they use no space.
        rows = [
            _image_usage(du),
            UsageRow("Containers", 0, 0, 0, 0),
            _volume_usage(_volumes(cli)),
            UsageRow("Build Cache", 0, 0, 0, 0, False),
        ]
        cli.out(render(fmt, rows, SUMMARY_HEADER))
        return 0
    du = cli.images.disk_usage()
    summaries = _summaries(du)
    from dockyard.cli.commands.volume_fmt import VolumeRow

    volume_rows = [VolumeRow(v) for v in _volumes(cli)]
    if fmt != "table":
        tmpl = compile_format(fmt)
        from dockyard.cli.command import CliError
        from dockyard.cli.template import TemplateError

        data = {
            "Images": _verbose_rows(summaries, fmt.startswith("table")),
            "Containers": [],
            "Volumes": volume_rows,
            "BuildCache": [],
        }
        try:
            cli.out(tmpl.execute(data))
        except TemplateError as e:
            raise CliError(f"template parsing error: {e}") from None
        return 0
    from dockyard.cli.commands.imagefmt import IMAGE_HEADER
    from dockyard.cli.units import human_size

    parts = [
        "Images space usage:\n\n",
        render(IMAGES_TABLE, _verbose_rows(summaries, True), IMAGE_HEADER),
        "\nContainers space usage:\n\n",
        render(CONTAINERS_TABLE, [], CONTAINERS_HEADER),
        "\nLocal Volumes space usage:\n\n",
        render(VOLUMES_TABLE, volume_rows, VOLUMES_HEADER),
        f"\nBuild cache usage: {human_size(0)}\n\n",
        render(CACHE_TABLE, [], CACHE_HEADER),
    ]
    cli.out("".join(parts))
    return 0
