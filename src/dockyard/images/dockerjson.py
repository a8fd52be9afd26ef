"""Docker Engine API shapes of images (API 1.44): ImageSummary, ImageInspect, history rows.

Pure functions from typed records to the JSON-ready values Docker returns, so the CLI and
the API server print exactly what `docker images`, `docker image inspect` and
`docker history` print.
"""

from __future__ import annotations

from dockyard.record import Record, factory

TYPE_CHECKING = False
if TYPE_CHECKING:  # `images` needs only ImageSummary: the config records load on first use
    from dockyard.oci.image import ContainerConfig, ImageConfig


class ImageSummary(Record, frozen=False):
    Id: str
    ParentId: str
    RepoTags: list[str]
    RepoDigests: list[str]
    Created: int
    Size: int
    SharedSize: int
    Labels: dict[str, str]
    Containers: int

    def to_json(self) -> dict[str, object]:
        return {
            "Containers": self.Containers,
            "Created": self.Created,
            "Id": self.Id,
            "Labels": self.Labels,
            "ParentId": self.ParentId,
            "RepoDigests": self.RepoDigests,
            "RepoTags": self.RepoTags,
            "SharedSize": self.SharedSize,
            "Size": self.Size,
        }


class HistoryEntry(Record, frozen=False):
    Id: str
    Created: int
    CreatedBy: str
    Tags: list[str] | None
    Size: int
    Comment: str

    def to_json(self) -> dict[str, object]:
        return {
            "Comment": self.Comment,
            "Created": self.Created,
            "CreatedBy": self.CreatedBy,
            "Id": self.Id,
            "Size": self.Size,
            "Tags": self.Tags,
        }


def container_config(cfg: ContainerConfig | None) -> dict[str, object]:
    """Docker's full container.Config shape (every member, nulls included, Go field order)."""
    c = cfg
    if c is None:
        from dockyard.oci.image import ContainerConfig

        c = ContainerConfig()
    out: dict[str, object] = {
        "Hostname": "",
        "Domainname": "",
        "User": c.user,
        "AttachStdin": False,
        "AttachStdout": False,
        "AttachStderr": False,
    }
    if c.exposed_ports:
        out["ExposedPorts"] = {k: {} for k in c.exposed_ports}
    out.update(
        {
            "Tty": False,
            "OpenStdin": False,
            "StdinOnce": False,
            "Env": list(c.env) if c.env is not None else None,
            "Cmd": list(c.cmd) if c.cmd is not None else None,
        }
    )
    if c.healthcheck is not None:
        out["Healthcheck"] = c.healthcheck.to_json()
    if c.args_escaped:
        out["ArgsEscaped"] = True
    out.update(
        {
            "Image": "",
            "Volumes": {k: {} for k in c.volumes} if c.volumes is not None else None,
            "WorkingDir": c.working_dir,
            "Entrypoint": list(c.entrypoint) if c.entrypoint is not None else None,
            "OnBuild": list(c.on_build) if c.on_build is not None else None,
            "Labels": dict(c.labels) if c.labels is not None else None,
        }
    )
    if c.stop_signal:
        out["StopSignal"] = c.stop_signal
    if c.shell is not None:
        out["Shell"] = list(c.shell)
    return out


class InspectFacts(Record, frozen=False):
    """What inspect needs besides the config: names, sizes and where the layers live."""

    id: str
    parent: str
    repo_tags: list[str]
    repo_digests: list[str]
    size: int
    lower_dirs: list[str] = factory(list)  # top-most first
    last_tag_time: str = "0001-01-01T00:00:00Z"


def inspect(cfg: ImageConfig, facts: InspectFacts) -> dict[str, object]:
    comment = cfg.comment
    if not comment and cfg.history:
        comment = cfg.history[-1].comment
    graph: dict[str, str] = {}
    if facts.lower_dirs:
        import os

        top = facts.lower_dirs[0]
        base = os.path.dirname(top)
        if len(facts.lower_dirs) > 1:
            graph["LowerDir"] = ":".join(facts.lower_dirs[1:])
        graph["MergedDir"] = os.path.join(base, "merged")
        graph["UpperDir"] = top
        graph["WorkDir"] = os.path.join(base, "work")
    out: dict[str, object] = {
        "Id": facts.id,
        "RepoTags": facts.repo_tags,
        "RepoDigests": facts.repo_digests,
        "Parent": facts.parent,
        "Comment": comment,
        "Created": cfg.created,
        "Container": "",
        "ContainerConfig": container_config(None),
        "DockerVersion": cfg.docker_version,
        "Author": cfg.author,
        "Config": container_config(cfg.config),
        "Architecture": cfg.architecture,
    }
    if cfg.variant:
        out["Variant"] = cfg.variant
    out["Os"] = cfg.os
    if cfg.os_version:
        out["OsVersion"] = cfg.os_version
    out["Size"] = facts.size
    out["GraphDriver"] = {"Data": graph or None, "Name": "overlay2"}
    out["RootFS"] = {"Type": "layers", "Layers": list(cfg.diff_ids)}
    out["Metadata"] = {"LastTagTime": facts.last_tag_time}
    return out


def history(
    cfg: ImageConfig, image_id: str, tags: list[str], layer_sizes: list[int]
) -> list[HistoryEntry]:
    """Docker's history rows, newest first; layer_sizes follow cfg.diff_ids."""
    from dockyard.images.timefmt import to_unix

    rows: list[HistoryEntry] = []
    layer = 0
    for h in cfg.history:
        size = 0
        if not h.empty_layer:
            size = layer_sizes[layer] if layer < len(layer_sizes) else 0
            layer += 1
        rows.append(
            HistoryEntry("<missing>", to_unix(h.created), h.created_by, None, size, h.comment)
        )
    if not cfg.history:
        # images without history (some tools omit it): one row per layer
        for size in layer_sizes:
            rows.append(HistoryEntry("<missing>", to_unix(cfg.created), "", None, size, ""))
    rows.reverse()
    if rows:
        rows[0].Id = image_id
        rows[0].Tags = list(tags)
    return rows
