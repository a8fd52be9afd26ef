"""The manifest a push sends: the stored bytes when its layers go as they are (so its digest
stays the same), else the same manifest naming the compressed layers, written as Go's
encoding/json writes it (`oci._json.dumps`, without importing the `json` package).
"""

from dockyard.oci.manifest import Manifest


def manifest_for(stored: bytes, rec, manifest, layers: tuple) -> tuple[bytes, str]:
    """(bytes, digest) to push for the image record `rec` whose manifest is `stored` (parsed:
    `manifest`) with `layers` in it: `stored` itself (the same object) and the digest it was
    read and checked under when the layers are the stored ones."""
    if layers == manifest.layers:
        return stored, rec.manifest_digest
    from dockyard.digest import sha256_bytes
    from dockyard.oci._json import dumps

    data = dumps(Manifest(manifest.config, layers, rec.manifest_media_type).to_json())
    return data, sha256_bytes(data)
