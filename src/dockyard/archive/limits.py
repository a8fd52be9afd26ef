"""Caps on untrusted archives: total size, entry count, header size, name length."""

from dataclasses import dataclass

from dockyard.errors import LimitExceeded

GiB = 1 << 30


@dataclass(frozen=True)
class Limits:
    """Upper bounds applied while reading an untrusted tar (also the decompression-bomb defence)."""

    max_total_size: int = 64 * GiB  # bytes of uncompressed tar stream
    max_entries: int = 1_000_000
    max_header_size: int = 1 << 20  # bytes of one PAX or GNU long name/link header
    max_name_length: int = 4096  # bytes of an entry name or link target

    def check(self, name: str, value: int) -> None:
        """Raise LimitExceeded when `value` is over the limit called `name` (a field of this class)."""
        limit = getattr(self, name)
        if value > limit:
            raise LimitExceeded(f"archive exceeds {name} ({value} > {limit})")
