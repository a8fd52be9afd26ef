"""`Record`: an immutable, keyword-built value type for the container start path.

The start path cannot afford `dataclasses` (importing it pulls in inspect and re, ~10 ms
here), so the few records it carries (`InitConfig`, `RootfsSpec`, `Mount`, ...) derive
from this instead. A subclass lists its fields once: `__slots__ = _fields = (...)`, with
defaults in `_defaults` and annotations for the types.
"""


class Record:
    __slots__ = ()
    _fields: tuple = ()
    _defaults: dict = {}

    def __init__(self, *args, **kw):
        name = type(self).__name__
        if len(args) > len(self._fields):
            raise TypeError(f"{name}: too many positional arguments")
        values = dict(zip(self._fields, args, strict=False))
        for k, v in kw.items():
            if k not in self._fields or k in values:
                raise TypeError(f"{name}: unexpected or repeated argument {k!r}")
            values[k] = v
        for f in self._fields:
            if f in values:
                v = values[f]
            elif f in self._defaults:
                v = self._defaults[f]
            else:
                raise TypeError(f"{name}: missing argument {f!r}")
            object.__setattr__(self, f, v)

    def __setattr__(self, key, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple:
        return tuple(getattr(self, f) for f in self._fields)

    def __eq__(self, other):
        return type(self) is type(other) and self._values() == other._values()

    def __hash__(self):
        return hash((type(self).__name__, self._values()))

    def __repr__(self):
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({inner})"

    def replace(self, **changes):
        values = dict(zip(self._fields, self._values(), strict=True))
        values.update(changes)
        return type(self)(**values)
