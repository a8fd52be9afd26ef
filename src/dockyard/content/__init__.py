"""The content store (L2): blobs named by their digest, written through resumable, verified ingests.

`ContentStore` is the interface the layers above use; `ContentWriter` is one resumable write;
`VerifyingReader` checks a stream against the digest it claims as it is read;
`smallread.read_small` reads one small blob without importing the store (start-up paths).
The classes load on first use, so importing a light module of this package stays light.
"""

__all__ = ["ContentStore", "ContentWriter", "VerifyingReader"]


def __getattr__(name: str):
    if name == "ContentStore":
        from dockyard.content.store import ContentStore

        return ContentStore
    if name == "ContentWriter":
        from dockyard.content.writer import ContentWriter

        return ContentWriter
    if name == "VerifyingReader":
        from dockyard.content.verify import VerifyingReader

        return VerifyingReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
