"""The engine's configuration: where its data and runtime state live, and how it logs.

Built once at the edge (CLI flags, environment) and passed down; nothing reads the
environment below this point.
"""

import os
from dataclasses import dataclass

DEFAULT_ROOT = "/var/lib/dockyard"
DEFAULT_STATE = "/run/dockyard"


@dataclass(frozen=True)
class Config:
    root: str = DEFAULT_ROOT
    state_dir: str = DEFAULT_STATE
    log_level: str = "info"
    debug: bool = False

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
