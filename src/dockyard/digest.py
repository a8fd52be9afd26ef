"""Content digests: parsing, validation and hashing ("sha256:<64 hex>")."""

from dockyard.errors import InvalidArgument

SHA256 = "sha256"
_HEX = frozenset("0123456789abcdef")
_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


def split(digest: str) -> tuple[str, str]:
    """Return (algorithm, hex) of a valid digest or raise InvalidArgument."""
    alg, sep, hexpart = digest.partition(":")
    if not sep or _LENGTHS.get(alg) != len(hexpart) or not _HEX.issuperset(hexpart):
        raise InvalidArgument(f"invalid digest {digest!r}")
    return alg, hexpart


def validate(digest: str) -> str:
    split(digest)
    return digest


def is_digest(value: str) -> bool:
    try:
        split(value)
    except InvalidArgument:
        return False
    return True


def sha256_bytes(data: bytes) -> str:
    if len(data) < 1 << 20:
        # small documents (configs, manifests): the builtin module loads in ~0.2 ms, while
        # hashlib loads OpenSSL (~2.5 ms), which only pays off on large inputs
        import _sha256

        return "sha256:" + _sha256.sha256(data).hexdigest()
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()


def new_hasher(algorithm: str = SHA256):
    import hashlib

    if algorithm not in _LENGTHS:
        raise InvalidArgument(f"unsupported digest algorithm {algorithm!r}")
    return hashlib.new(algorithm)


def short_id(digest_or_hex: str, length: int = 12) -> str:
    """The short form Docker prints: the first 12 hex characters, without the algorithm."""
    return (
        digest_or_hex.partition(":")[2][:length] if ":" in digest_or_hex else digest_or_hex[:length]
    )
