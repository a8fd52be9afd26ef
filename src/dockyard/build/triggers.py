"""ONBUILD: a base image's triggers become the first steps of each stage built on it.

As in Docker, triggers run in order right after the FROM, may not be ONBUILD, FROM or
MAINTAINER, and are not inherited by the child image (the builder clears them).
"""

from dockyard import dockerfile as D
from dockyard.errors import InvalidArgument


def with_triggers(df, stages, base_of):
    """`df` with each image base's ONBUILD triggers run first in the stages built on
    it (numbered as the FROM line), or `df` itself when no base has any."""
    out = list(df.stages)
    for i, st in enumerate(stages):
        name = st.base.lower()
        if name == "scratch" or any(s.name and s.name == name for s in df.stages[:i]):
            continue
        triggers = base_of(st.base).config.config.on_build
        if not triggers:
            continue
        line = df.stages[i].from_.line
        parsed = parse_triggers(triggers, st.base, line)
        moved = [t.replace(line=line, end_line=line) for t in parsed]
        out[i] = df.stages[i].replace(instructions=(*moved, *df.stages[i].instructions))
    if out == list(df.stages):
        return df
    return df.replace(stages=tuple(out))


def parse_triggers(triggers, base: str, line: int) -> list:
    """The instructions of an image's ONBUILD triggers, with Docker's restrictions."""
    for t in triggers:
        word = t.strip().split(None, 1)[0].upper() if t.strip() else ""
        if "\n" in t:
            raise InvalidArgument(
                f"Dockerfile:{line}: a multi-line ONBUILD trigger of the image {base} "
                "is not supported"
            )
        if word in ("ONBUILD", "FROM", "MAINTAINER"):
            what = "Chaining ONBUILD via `ONBUILD ONBUILD`" if word == "ONBUILD" else word
            raise InvalidArgument(
                f"Dockerfile:{line}: {what} isn't allowed as an ONBUILD trigger "
                f"(from the image {base})"
            )
    try:
        parsed = D.parse("FROM scratch\n" + "\n".join(triggers) + "\n")
    except InvalidArgument as e:
        raise InvalidArgument(
            f"Dockerfile:{line}: ONBUILD trigger of the image {base}: {e}"
        ) from None
    if len(parsed.stages) != 1:
        raise InvalidArgument(f"Dockerfile:{line}: FROM isn't allowed as an ONBUILD trigger")
    return list(parsed.stages[0].instructions)
