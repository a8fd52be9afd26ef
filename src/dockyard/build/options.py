"""What a build is asked to do and what it gives back."""

from dockyard.record import Record


class BuildOptions(Record):
    context_dir: str  # the (unpacked) context folder
    dockerfile: str  # the Dockerfile text
    build_args: dict
    target: str
    no_cache: bool
    labels: dict
    network: str  # "none" | "host"
    source_date_epoch: int | None
    data_root: str  # for the seccomp program cache
    tmp_dir: str  # on the snapshots' filesystem: step dirs become snapshots by rename
    secrets: dict  # --secret id -> its value (bytes); never stored anywhere
    add_limit: int  # the largest file an ADD <url> may download
    __slots__ = _fields = (
        "context_dir",
        "dockerfile",
        "build_args",
        "target",
        "no_cache",
        "labels",
        "network",
        "source_date_epoch",
        "data_root",
        "tmp_dir",
        "secrets",
        "add_limit",
    )
    _defaults = {
        "secrets": {},
        "add_limit": 4 << 30,
        "build_args": {},
        "target": "",
        "no_cache": False,
        "labels": {},
        "network": "none",
        "source_date_epoch": None,
    }


class BuildStores(Record):
    """The L2 stores a build works on (content, metadata, snapshots)."""

    content: object
    meta: object
    snapshots: object


class BaseImage(Record):
    """An image a FROM or COPY --from names, as the images service resolved it."""

    image_id: str
    config: object  # oci.image.ImageConfig
    layers: tuple  # oci.descriptor.Descriptor per layer
    chain: str  # top snapshot key ("" for no layers)
    __slots__ = _fields = ("image_id", "config", "layers", "chain")


class BuildResult(Record):
    config_bytes: bytes
    layers: tuple  # Descriptors, base layers first
    created: str
    size: int
    parent: str  # the last FROM image id ("" for scratch)
    deps: dict  # what the result depends on: {"bases", "paths", "steps"} (see services.builds)
    __slots__ = _fields = ("config_bytes", "layers", "created", "size", "parent", "deps")
    _defaults = {"deps": {}}


class Events:
    """What the builder reports while it works (the CLI renders it); defaults do nothing."""

    def step(self, number: int, total: int, text: str) -> None: ...
    def cached(self) -> None: ...
    def reason(self, text: str) -> None: ...
    def output(self, data: bytes) -> None: ...
    def done(self, seconds: float) -> None: ...
