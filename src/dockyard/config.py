"""The engine's configuration: where its data and runtime state live, and how it logs.

Built once at the edge (CLI flags, environment) and passed down; nothing reads the
environment below this point.
"""

import os

DEFAULT_ROOT = "/var/lib/dockyard"
DEFAULT_STATE = "/run/dockyard"


class Config:
    """Immutable settings. A plain class: `dataclasses` costs ~10 ms of start-up on every command."""

    __slots__ = ("debug", "log_level", "root", "state_dir")

    def __init__(
        self,
        root: str = DEFAULT_ROOT,
        state_dir: str = DEFAULT_STATE,
        log_level: str = "info",
        debug: bool = False,
    ):
        object.__setattr__(self, "root", root)
        object.__setattr__(self, "state_dir", state_dir)
        object.__setattr__(self, "log_level", log_level)
        object.__setattr__(self, "debug", debug)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Config is immutable (tried to set {name})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Config):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, n) for n in self.__slots__))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"Config({fields})"

    @classmethod
    def from_env(
        cls,
        root: str | None = None,
        state_dir: str | None = None,
        log_level: str | None = None,
        debug: bool = False,
        env: "os._Environ[str] | dict[str, str] | None" = None,
    ) -> "Config":
        env = os.environ if env is None else env
        return cls(
            root=os.path.abspath(root or env.get("DOCKYARD_ROOT") or DEFAULT_ROOT),
            state_dir=os.path.abspath(state_dir or env.get("DOCKYARD_STATE") or DEFAULT_STATE),
            log_level=(log_level or ("debug" if debug else "info")).lower(),
            debug=debug,
        )

    @property
    def content_dir(self) -> str:
        return os.path.join(self.root, "content")

    @property
    def metadata_path(self) -> str:
        return os.path.join(self.root, "metadata.db")

    @property
    def snapshots_dir(self) -> str:
        return os.path.join(self.root, "snapshots")

    @property
    def containers_dir(self) -> str:
        return os.path.join(self.root, "containers")

    @property
    def volumes_dir(self) -> str:
        return os.path.join(self.root, "volumes")

    @property
    def tmp_dir(self) -> str:
        return os.path.join(self.root, "tmp")
