"""Formatter contexts for image rows (`images`, `system df -v`) and history rows, with Docker's
field names, headers and default table formats."""

from dockyard.cli.formatter import Row
from dockyard.cli.units import human_size, human_size_precision, since, truncate_id

IMAGES_TABLE = (
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t"
    "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
)
IMAGES_TABLE_DIGEST = (
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"
    "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
)
QUIET = "{{.ID}}"

IMAGE_HEADER = {
    "ID": "IMAGE ID",
    "Repository": "REPOSITORY",
    "Tag": "TAG",
    "Digest": "DIGEST",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "Size": "SIZE",
    "Containers": "CONTAINERS",
    "SharedSize": "SHARED SIZE",
    "UniqueSize": "UNIQUE SIZE",
    "VirtualSize": "SIZE",
}

HISTORY_TABLE = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HISTORY_TABLE_RAW = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HISTORY_HEADER = {
    "ID": "IMAGE",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "CreatedBy": "CREATED BY",
    "Size": "SIZE",
    "Comment": "COMMENT",
}


def go_time(unix: int) -> str:
    """Go's time.Time.String() in local time: "2024-01-01 00:00:00 +0000 UTC"."""
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S %z %Z", time.localtime(unix))


def rfc3339(unix: int) -> str:
    import time

    t = time.localtime(unix)
    off = time.strftime("%z", t)
    zone = "Z" if off in ("+0000", "-0000") else f"{off[:3]}:{off[3:]}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + zone


def ellipsis(text: str, width: int) -> str:
    """Docker's formatter.Ellipsis for ASCII text: cut to width with a trailing '…'."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    if width == 1:
        return text[0]
    return text[: width - 1] + "…"


def split_repo_tag(ref: str) -> tuple[str, str]:
    """("busybox", "latest") from "busybox:latest"; the tag is after the last path component."""
    name, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, ""
    return name, tag


def _familiar_name(name: str) -> str:
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


class ImageRow(Row):
    GO_TYPE = "*formatter.imageContext"
    FIELDS = (
        "Containers",
        "CreatedAt",
        "CreatedSince",
        "Digest",
        "ID",
        "Repository",
        "SharedSize",
        "Size",
        "Tag",
        "UniqueSize",
        "VirtualSize",
    )

    def __init__(self, summary, repo: str, tag: str, digest: str, trunc: bool):
        self.s = summary
        self.repo = repo
        self.tag = tag
        self.digest = digest
        self.trunc = trunc

    def ID(self) -> str:
        return truncate_id(self.s.Id) if self.trunc else self.s.Id

    def Repository(self) -> str:
        return self.repo

    def Tag(self) -> str:
        return self.tag

    def Digest(self) -> str:
        return self.digest

    def CreatedSince(self) -> str:
        return since(self.s.Created)

    def CreatedAt(self) -> str:
        return go_time(self.s.Created)

    def Size(self) -> str:
        return human_size_precision(self.s.Size, 3)

    def VirtualSize(self) -> str:
        return human_size_precision(self.s.Size, 3)

    def Containers(self) -> str:
        n = getattr(self.s, "Containers", -1)
        return "N/A" if n == -1 else str(n)

    def SharedSize(self) -> str:
        n = getattr(self.s, "SharedSize", -1)
        return "N/A" if n == -1 else human_size(n)

    def UniqueSize(self) -> str:
        shared = getattr(self.s, "SharedSize", -1)
        if self.s.Size == -1 or shared == -1:
            return "N/A"
        return human_size(self.s.Size - shared)


def is_dangling(summary) -> bool:
    tags = summary.RepoTags or []
    digests = summary.RepoDigests or []
    if not tags and not digests:
        return True
    return tags == ["<none>:<none>"] and digests == ["<none>@<none>"]


def image_rows(summaries, trunc: bool, digests: bool, need_digest: bool) -> list[ImageRow]:
    """Docker's imageFormat: one row per repository:tag (and per digest when shown)."""
    rows: list[ImageRow] = []
    for s in summaries:
        if is_dangling(s):
            rows.append(ImageRow(s, "<none>", "<none>", "<none>", trunc))
            continue
        repo_tags: dict[str, list[str]] = {}
        repo_digests: dict[str, list[str]] = {}
        for ref in s.RepoTags or []:
            name, tag = split_repo_tag(ref)
            if tag and "@" not in ref:
                repo_tags.setdefault(_familiar_name(name), []).append(tag)
        for ref in s.RepoDigests or []:
            name, sep, dgst = ref.partition("@")
            if sep:
                repo_digests.setdefault(_familiar_name(name), []).append(dgst)
        for repo, tags in repo_tags.items():
            dgsts = repo_digests.pop(repo, [])
            if not need_digest:
                dgsts = []
            for tag in tags:
                if not dgsts:
                    rows.append(ImageRow(s, repo, tag, "<none>", trunc))
                for d in dgsts:
                    rows.append(ImageRow(s, repo, tag, d, trunc))
        for repo, dgsts in repo_digests.items():
            if digests:
                rows.extend(ImageRow(s, repo, "<none>", d, trunc) for d in dgsts)
            else:
                rows.append(ImageRow(s, repo, "<none>", "", trunc))
    return rows


class HistoryRow(Row):
    GO_TYPE = "*image.historyContext"
    FIELDS = ("Comment", "CreatedAt", "CreatedBy", "CreatedSince", "ID", "Size")

    def __init__(self, entry, trunc: bool, human: bool):
        self.h = entry
        self.trunc = trunc
        self.human = human

    def ID(self) -> str:
        return truncate_id(self.h.Id) if self.trunc else self.h.Id

    def CreatedAt(self) -> str:
        return rfc3339(self.h.Created)

    def CreatedSince(self) -> str:
        if not self.human:
            return self.CreatedAt()
        if self.h.Created <= 946684800:  # Docker shows no age for dates before 2000
            return "N/A"
        return since(self.h.Created)

    def CreatedBy(self) -> str:
        text = self.h.CreatedBy.replace("\t", " ")
        return ellipsis(text, 45) if self.trunc else text

    def Size(self) -> str:
        return human_size_precision(self.h.Size, 3) if self.human else str(self.h.Size)

    def Comment(self) -> str:
        return self.h.Comment
