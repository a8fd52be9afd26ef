"""Container ids and names: 64-hex ids, Docker's name grammar, generated `adjective_surname`.

The word lists are our own (same shape as Docker's generator: an adjective and the surname
of a scientist or engineer); "boring_wozniak" is never produced, as in Docker.
"""

import os

from dockyard.errors import InvalidArgument

_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_REST = _FIRST | frozenset("_.-")
MAX_NAME = 255

ADJECTIVES = (
    "admiring", "agile", "amazing", "bold", "brave", "busy", "calm", "charming", "clever",
    "cool", "crisp", "dazzling", "eager", "elegant", "epic", "fervent", "festive", "focused",
    "friendly", "gallant", "gifted", "happy", "hardcore", "hopeful", "jolly", "keen", "kind",
    "laughing", "lucid", "magical", "modest", "nifty", "nostalgic", "peaceful", "practical",
    "quirky", "relaxed", "serene", "sharp", "silly", "stoic", "sweet", "tender", "trusting",
    "upbeat", "vibrant", "vigilant", "wizardly", "youthful", "zealous",
)  # fmt: skip
SURNAMES = (
    "agnesi", "babbage", "bardeen", "bell", "bohr", "boole", "cannon", "carson", "cori",
    "curie", "darwin", "dijkstra", "einstein", "euler", "faraday", "fermi", "feynman",
    "franklin", "galileo", "gauss", "goldberg", "hamilton", "hawking", "hodgkin", "hopper",
    "hypatia", "johnson", "kepler", "knuth", "lamarr", "liskov", "lovelace", "maxwell",
    "meitner", "mirzakhani", "newton", "noether", "pascal", "ritchie", "sammet", "shannon",
    "thompson", "torvalds", "turing", "volta", "wiles", "wozniak", "wu", "yalow", "zhukovsky",
)  # fmt: skip


def new_id() -> str:
    return os.urandom(32).hex()


def validate(name: str) -> str:
    """A name as given to --name (a leading "/" is Docker's canonical form and accepted)."""
    n = name[1:] if name.startswith("/") else name
    if len(n) < 2 or len(n) > MAX_NAME or n[0] not in _FIRST or any(c not in _REST for c in n[1:]):
        raise InvalidArgument(
            f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )
    if len(n) == 64 and all(c in "0123456789abcdef" for c in n):
        raise InvalidArgument(f"Invalid container name ({name}): a 64-hex name looks like an id")
    return n


def generate(retry: int = 0) -> str:
    """A random `adjective_surname`; after collisions Docker appends a digit."""
    raw = os.urandom(4)
    while True:
        a = ADJECTIVES[raw[0] % len(ADJECTIVES)]
        s = SURNAMES[(raw[1] << 8 | raw[2]) % len(SURNAMES)]
        if not (a == "boring" and s == "wozniak"):
            break
        raw = os.urandom(4)
    name = f"{a}_{s}"
    return f"{name}{raw[3] % 10}" if retry else name
