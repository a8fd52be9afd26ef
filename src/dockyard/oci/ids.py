"""Identifiers derived from content: chain ids of layer stacks."""

from dockyard.digest import sha256_bytes


def chain_id(parent_chain: str, diff_id: str) -> str:
    """The chain id of layer `diff_id` on the stack `parent_chain` ("" for none)."""
    if not parent_chain:
        return diff_id
    return sha256_bytes(f"{parent_chain} {diff_id}".encode())


def chain_ids(diff_ids: list[str] | tuple[str, ...]) -> list[str]:
    """ChainID(L0) = DiffID(L0); ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln))."""
    out: list[str] = []
    for diff_id in diff_ids:
        out.append(chain_id(out[-1] if out else "", diff_id))
    return out
