"""The image configuration (OCI image-spec config, Docker's image JSON)."""

from __future__ import annotations

from dockyard.errors import InvalidArgument
from dockyard.oci._json import (
    dumps,
    get_int,
    get_list_of_str,
    get_set,
    get_str,
    get_str_map,
    loads_object,
)
from dockyard.record import Record, factory


class Healthcheck(Record):
    test: tuple[str, ...] = ()
    interval: int = 0  # nanoseconds, as Docker stores them
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0

    @classmethod
    def from_json(cls, obj: dict[str, object]) -> Healthcheck:
        what = "Healthcheck"
        return cls(
            test=tuple(get_list_of_str(obj, "Test", what) or ()),
            interval=get_int(obj, "Interval", what),
            timeout=get_int(obj, "Timeout", what),
            start_period=get_int(obj, "StartPeriod", what),
            start_interval=get_int(obj, "StartInterval", what),
            retries=get_int(obj, "Retries", what),
        )

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"Test": list(self.test)}
        for key, value in (
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
            ("Retries", self.retries),
        ):
            if value:
                out[key] = value
        return out


class ContainerConfig(Record):
    """The `config` member of an image config: defaults for containers run from the image."""

    user: str = ""
    exposed_ports: dict[str, dict] | None = None
    env: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    volumes: dict[str, dict] | None = None
    working_dir: str = ""
    labels: dict[str, str] | None = None
    stop_signal: str = ""
    args_escaped: bool = False
    healthcheck: Healthcheck | None = None
    on_build: tuple[str, ...] | None = None
    shell: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, obj: object) -> ContainerConfig:
        what = "image config"
        if obj is None:
            return cls()
        if not isinstance(obj, dict):
            raise InvalidArgument(f"{what}: config must be an object")

        def tup(key: str) -> tuple[str, ...] | None:
            v = get_list_of_str(obj, key, what)
            return None if v is None else tuple(v)

        hc = obj.get("Healthcheck")
        return cls(
            user=get_str(obj, "User", what),
            exposed_ports=get_set(obj, "ExposedPorts", what),
            env=tup("Env"),
            entrypoint=tup("Entrypoint"),
            cmd=tup("Cmd"),
            volumes=get_set(obj, "Volumes", what),
            working_dir=get_str(obj, "WorkingDir", what),
            labels=get_str_map(obj, "Labels", what),
            stop_signal=get_str(obj, "StopSignal", what),
            args_escaped=bool(obj.get("ArgsEscaped", False)),
            healthcheck=Healthcheck.from_json(hc) if isinstance(hc, dict) else None,
            on_build=tup("OnBuild"),
            shell=tup("Shell"),
        )

    def to_json(self) -> dict[str, object]:
        """Only the members that are set, as the OCI spec and Docker write them."""
        out: dict[str, object] = {}
        if self.user:
            out["User"] = self.user
        if self.exposed_ports is not None:
            out["ExposedPorts"] = {k: {} for k in self.exposed_ports}
        if self.env is not None:
            out["Env"] = list(self.env)
        if self.entrypoint is not None:
            out["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            out["Cmd"] = list(self.cmd)
        if self.volumes is not None:
            out["Volumes"] = {k: {} for k in self.volumes}
        if self.working_dir:
            out["WorkingDir"] = self.working_dir
        if self.labels is not None:
            out["Labels"] = dict(self.labels)
        if self.stop_signal:
            out["StopSignal"] = self.stop_signal
        if self.args_escaped:
            out["ArgsEscaped"] = True
        if self.healthcheck is not None:
            out["Healthcheck"] = self.healthcheck.to_json()
        if self.on_build is not None:
            out["OnBuild"] = list(self.on_build)
        if self.shell is not None:
            out["Shell"] = list(self.shell)
        return out


class History(Record):
    created: str = ""
    created_by: str = ""
    author: str = ""
    comment: str = ""
    empty_layer: bool = False

    @classmethod
    def from_json(cls, obj: object) -> History:
        what = "image history"
        if not isinstance(obj, dict):
            raise InvalidArgument(f"{what}: entries must be objects")
        return cls(
            created=get_str(obj, "created", what),
            created_by=get_str(obj, "created_by", what),
            author=get_str(obj, "author", what),
            comment=get_str(obj, "comment", what),
            empty_layer=bool(obj.get("empty_layer", False)),
        )

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.created:
            out["created"] = self.created
        if self.created_by:
            out["created_by"] = self.created_by
        if self.author:
            out["author"] = self.author
        if self.comment:
            out["comment"] = self.comment
        if self.empty_layer:
            out["empty_layer"] = True
        return out


class ImageConfig(Record):
    architecture: str = "amd64"
    os: str = "linux"
    variant: str = ""
    created: str = ""
    author: str = ""
    config: ContainerConfig = factory(ContainerConfig)
    diff_ids: tuple[str, ...] = ()
    history: tuple[History, ...] = ()
    os_version: str = ""
    # Docker-only members kept for inspect (comment, docker_version, ...)
    comment: str = ""
    docker_version: str = ""

    def with_config(self, **changes: object) -> ImageConfig:
        return self.replace(config=self.config.replace(**changes))

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"architecture": self.architecture}
        if self.author:
            out["author"] = self.author
        if self.comment:
            out["comment"] = self.comment
        out["config"] = self.config.to_json()
        if self.created:
            out["created"] = self.created
        if self.docker_version:
            out["docker_version"] = self.docker_version
        if self.history:
            out["history"] = [h.to_json() for h in self.history]
        out["os"] = self.os
        if self.os_version:
            out["os.version"] = self.os_version
        out["rootfs"] = {"type": "layers", "diff_ids": list(self.diff_ids)}
        if self.variant:
            out["variant"] = self.variant
        return out

    def to_bytes(self) -> bytes:
        return dumps(self.to_json())


def parse_image_config(data: bytes) -> ImageConfig:
    what = "image config"
    obj = loads_object(data, what)
    rootfs = obj.get("rootfs")
    if not isinstance(rootfs, dict):
        raise InvalidArgument(f"{what}: missing rootfs")
    if get_str(rootfs, "type", what) != "layers":
        raise InvalidArgument(f"{what}: rootfs.type must be 'layers'")
    diff_ids = get_list_of_str(rootfs, "diff_ids", what) or []
    from dockyard import digest as _digest

    for d in diff_ids:
        if not _digest.is_digest(d):
            raise InvalidArgument(f"{what}: invalid diff_id {d!r}")
    history = obj.get("history") or []
    if not isinstance(history, list):
        raise InvalidArgument(f"{what}: history must be a list")
    return ImageConfig(
        architecture=get_str(obj, "architecture", what),
        os=get_str(obj, "os", what),
        variant=get_str(obj, "variant", what),
        created=get_str(obj, "created", what),
        author=get_str(obj, "author", what),
        config=ContainerConfig.from_json(obj.get("config")),
        diff_ids=tuple(diff_ids),
        history=tuple(History.from_json(h) for h in history),
        os_version=get_str(obj, "os.version", what),
        comment=get_str(obj, "comment", what),
        docker_version=get_str(obj, "docker_version", what),
    )
