"""The content store (L2): blobs named by their digest, written through resumable, verified ingests.

`ContentStore` is the interface the layers above use; `ContentWriter` is one resumable write;
`VerifyingReader` checks a stream against the digest it claims as it is read.
"""

from dockyard.content.store import ContentStore
from dockyard.content.verify import VerifyingReader
from dockyard.content.writer import ContentWriter

__all__ = ["ContentStore", "ContentWriter", "VerifyingReader"]
