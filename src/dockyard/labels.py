"""Docker's label filters (`--filter label=KEY[=VALUE]` and `label!=...`), shared by the
listings and prunes of images, containers and volumes."""


def matches(labels: dict, wanted, negate: bool = False) -> bool:
    """True when every `key` or `key=value` of `wanted` is on `labels`; with `negate`
    (`label!`), when none of them is."""
    for w in wanted:
        key, eq, value = w.partition("=")
        hit = key in labels and (not eq or labels[key] == value)
        if hit == negate:
            return False
    return True
