"""OCI and Docker image formats as typed data: descriptors, manifests, indexes, image configs.

Parsing converts JSON at the edge into immutable records (`dockyard.record`); raw bytes stay
the source of truth for anything that is content-addressed (an image id is the digest of the
config bytes as stored).
"""
