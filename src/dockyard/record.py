"""`Record`: small value classes without `dataclasses`, for code on the start-up path.

Importing `dataclasses` pulls in inspect, re, copy and tokenize (~6-10 ms per process), and
each `@dataclass` compiles its methods with `exec` when the class is created. A `Record`
subclass instead lists its fields as class annotations, in order; a value after a field is
its default, and `factory(make)` gives each instance a fresh mutable default:

    class Descriptor(Record):
        media_type: str
        digest: str
        annotations: dict = factory(dict, compare=False)
        urls: tuple = ()

Instances are built by position or keyword, slotted, immutable unless the class says
`Record, frozen=False`, compare and hash by their fields (those without `compare=False`),
and copy with `replace(**changes)`. Annotations are only read for their names, so
`from __future__ import annotations` keeps them unevaluated strings.

The older explicit form (`__slots__ = _fields = (...)` plus a `_defaults` dict), used by the
privileged layer, is accepted as is.
"""

_MISSING = object()


class factory:
    """A default made fresh for every instance by calling `make()` (for lists, dicts, ...)."""

    __slots__ = ("compare", "make")

    def __init__(self, make, *, compare: bool = True):
        self.make = make
        self.compare = compare


def _field_names(annotations: dict) -> list[str]:
    return [n for n in annotations if not n.startswith("__")]


class _RecordType(type):
    """Turns annotations into `_fields`, defaults into `_defaults` and slots, at class creation."""

    def __new__(mcls, name, bases, ns, frozen: bool | None = None):
        base_fields: tuple = ()
        base_defaults: dict = {}
        base_uncompared: tuple = ()
        base_frozen = True
        for b in bases:
            if isinstance(b, _RecordType):
                base_fields, base_defaults = b._fields, b._defaults
                base_uncompared, base_frozen = b._uncompared, b._frozen
                break
        if "_fields" in ns:  # explicit form: the class says it all
            fields = tuple(ns["_fields"])
            defaults = dict(ns.get("_defaults", {}))
            uncompared: tuple = ()
            ns.setdefault("__slots__", fields)
        else:
            own = [f for f in _field_names(ns.get("__annotations__", {})) if f not in base_fields]
            fields = base_fields + tuple(own)
            defaults = dict(base_defaults)
            uncompared = base_uncompared
            for f in own:
                if f in ns:
                    value = ns.pop(f)  # a class attribute of that name would shadow the slot
                    defaults[f] = value
                    if isinstance(value, factory) and not value.compare:
                        uncompared += (f,)
            ns["__slots__"] = tuple(own)
        ns["_fields"] = fields
        ns["_defaults"] = defaults
        ns["_uncompared"] = uncompared
        ns["_compared"] = tuple(f for f in fields if f not in uncompared)
        if frozen is None:
            frozen = base_frozen
        elif frozen and not base_frozen:
            raise TypeError(f"{name}: a frozen record cannot derive from a mutable one")
        ns["_frozen"] = frozen
        if not frozen:
            ns.setdefault("__setattr__", object.__setattr__)
            ns.setdefault("__delattr__", object.__delattr__)
            ns.setdefault("__hash__", None)  # mutable and compared by value, as dataclasses do
        return super().__new__(mcls, name, bases, ns)


class Record(metaclass=_RecordType):
    __slots__ = ()
    _fields: tuple = ()
    _defaults: dict = {}

    def __init__(self, *args, **kw):
        cls = type(self)
        fields = cls._fields
        n = len(args)
        if n > len(fields):
            raise TypeError(f"{cls.__name__}: takes {len(fields)} arguments, {n} given")
        put = object.__setattr__
        for name, value in zip(fields, args, strict=False):
            put(self, name, value)
        if kw:
            for name in fields[:n]:
                if name in kw:
                    raise TypeError(f"{cls.__name__}: got argument {name!r} twice")
        used = 0
        for name in fields[n:]:
            value = kw.get(name, _MISSING)
            if value is _MISSING:
                value = cls._defaults.get(name, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{cls.__name__}: missing argument {name!r}")
                if type(value) is factory:
                    value = value.make()
            else:
                used += 1
            put(self, name, value)
        if used != len(kw):
            extra = sorted(set(kw) - set(fields[n:]))
            raise TypeError(f"{cls.__name__}: unexpected argument {extra[0]!r}")

    def __setattr__(self, key, value):
        raise AttributeError(f"{type(self).__name__} is immutable (use replace())")

    def __delattr__(self, key):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple:
        return tuple([getattr(self, f) for f in self._fields])

    def _key(self) -> tuple:
        return tuple([getattr(self, f) for f in self._compared])

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__qualname__}({inner})"

    def __reduce__(self):
        # pickle and copy rebuild through __init__ (frozen slots cannot be set afterwards)
        return (type(self), self._values())

    def replace(self, **changes) -> "Record":
        """A copy with `changes` applied; factories are not re-run for fields left alone."""
        values = {f: getattr(self, f) for f in self._fields}
        for k in changes:
            if k not in values:
                raise TypeError(f"{type(self).__name__}: unexpected argument {k!r}")
        values.update(changes)
        return type(self)(**values)

    def as_dict(self) -> dict:
        """The fields as a dict, one level deep (nested records stay records)."""
        return {f: getattr(self, f) for f in self._fields}


def replace(obj: Record, **changes) -> Record:
    """`obj.replace(**changes)`, spelled like `dataclasses.replace` for code written for it."""
    return obj.replace(**changes)
