"""`Record` for the container start path: the L0 `dockyard.record.Record`, re-exported.

The start path cannot afford `dataclasses` (importing it pulls in inspect and re, ~10 ms
here). Records here use the explicit form: `__slots__ = _fields = (...)`, defaults in
`_defaults`, annotations for the types.
"""

from dockyard.record import Record

__all__ = ["Record"]
