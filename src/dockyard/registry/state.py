"""The registry's live state shared by the request handlers (one per server)."""

from dataclasses import dataclass, field

from dockyard.registry.auth import Authorizer
from dockyard.registry.config import RegistryConfig
from dockyard.registry.storage import RegistryStorage
from dockyard.registry.tokens import TokenIssuer
from dockyard.registry.uploads import UploadStore


@dataclass
class Registry:
    config: RegistryConfig
    storage: RegistryStorage
    uploads: UploadStore
    authorizer: Authorizer | None = None
    issuer: TokenIssuer | None = None
    locks: dict = field(default_factory=dict)  # upload id -> asyncio.Lock
    pw_cache: dict = field(default_factory=dict)  # hash of user+password -> valid until
    purger: object = None  # the asyncio.Task sweeping stale uploads

    @classmethod
    def open(cls, config: RegistryConfig) -> "Registry":
        storage = RegistryStorage(config.root)
        auth = config.auth
        return cls(
            config=config,
            storage=storage,
            uploads=UploadStore(config.root, storage.blob_path),
            authorizer=Authorizer(auth) if auth.enabled else None,
            issuer=TokenIssuer(auth.token) if auth.token is not None else None,
        )
