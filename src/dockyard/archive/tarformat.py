"""The tar on-disk format shared by the reader and the writer: header layout, types, numbers."""

BLOCK = 512

# typeflags
REG = b"0"
AREG = b"\0"
CONTIG = b"7"
LNK = b"1"
SYM = b"2"
CHR = b"3"
BLK = b"4"
DIR = b"5"
FIFO = b"6"
GNU_LONGNAME = b"L"
GNU_LONGLINK = b"K"
PAX = b"x"
PAX_GLOBAL = b"g"
GNU_SPARSE = b"S"

USTAR_MAGIC = b"ustar\x0000"
GNU_MAGIC = b"ustar  \x00"

# field slices: (start, end)
NAME = (0, 100)
MODE = (100, 108)
UID = (108, 116)
GID = (116, 124)
SIZE = (124, 136)
MTIME = (136, 148)
CHKSUM = (148, 156)
TYPE = 156
LINKNAME = (157, 257)
MAGIC = (257, 265)
UNAME = (265, 297)
GNAME = (297, 329)
DEVMAJOR = (329, 337)
DEVMINOR = (337, 345)
PREFIX = (345, 500)


class Entry:
    """One member of a tar stream, with PAX/GNU extensions already folded in."""

    __slots__ = (
        "devmajor",
        "devminor",
        "gid",
        "linkname",
        "mode",
        "mtime_ns",
        "name",
        "size",
        "type",
        "uid",
        "xattrs",
    )

    def __init__(
        self,
        name: str,
        type: bytes,
        mode: int = 0o644,
        uid: int = 0,
        gid: int = 0,
        size: int = 0,
        mtime_ns: int = 0,
        linkname: str = "",
        devmajor: int = 0,
        devminor: int = 0,
        xattrs: dict[str, bytes] | None = None,
    ):
        self.name = name
        self.type = type
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.mtime_ns = mtime_ns
        self.linkname = linkname
        self.devmajor = devmajor
        self.devminor = devminor
        self.xattrs = xattrs

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, {self.type!r}, size={self.size})"


def checksum_ok(block: bytes | memoryview, stored: int) -> bool:
    """Whether `stored` matches the header sum (unsigned, or the signed sum old tars wrote)."""
    unsigned = sum(block) - sum(block[148:156]) + 8 * 32
    if unsigned == stored:
        return True
    high = sum(1 for b in block[:148] if b > 127) + sum(1 for b in block[156:] if b > 127)
    return unsigned - 256 * high == stored


def parse_number(field: bytes) -> int:
    """Decode an octal (NUL/space padded) or GNU base-256 numeric field; ValueError if malformed."""
    if field[0] == 0x30 and field[-1] in (0, 0x20) and field[:-1].isdigit():
        return int(field[:-1], 8)  # the common case: zero-padded octal and a terminator
    if field and field[0] & 0x80:
        value = int.from_bytes(field[1:], "big")
        if field[0] == 0xFF:  # negative base-256
            value -= 1 << (8 * (len(field) - 1))
        elif field[0] != 0x80:
            raise ValueError("bad base-256 number")
        return value
    text = field.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    return int(text, 8)


def cstring(field: bytes) -> bytes:
    """The bytes of a NUL-terminated field."""
    i = field.find(b"\0")
    return field if i < 0 else field[:i]


def xattr_allowed(name: str) -> bool:
    """Which xattrs a layer may carry: capabilities, user.* and trusted.* minus overlayfs' own."""
    if name.startswith(("trusted.overlay.", "user.overlay.")):
        return False  # only whiteout translation may set these
    return name == "security.capability" or name.startswith(("user.", "trusted."))
