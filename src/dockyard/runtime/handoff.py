"""Hand a supervisor `Plan` to a supervisor forked before the plan existed, as bytes.

`marshal` (built in, no import cost; `pickle` would cost the client ~2.5 ms) carries plain
values; records and the cgroup driver are tagged with their class and rebuilt on the other
side. Both ends are this engine's own processes on one pipe, with the same code.
"""

import marshal

_RECORD, _OBJECT, _LIST, _TUPLE = "R", "O", "L", "T"


def dumps(obj) -> bytes:
    return marshal.dumps(_plain(obj))


def loads(data: bytes):
    return _rebuild(marshal.loads(data))


def _plain(v):
    if v is None or isinstance(v, (bool, int, float, str, bytes, frozenset)):
        return v
    if isinstance(v, tuple):
        return [_TUPLE, [_plain(x) for x in v]]
    if isinstance(v, list):
        return [_LIST, [_plain(x) for x in v]]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    cls = type(v)
    fields = getattr(cls, "_fields", None)
    if fields is not None and hasattr(v, "replace"):  # a Record
        return [_RECORD, cls.__module__, cls.__qualname__, [_plain(getattr(v, f)) for f in fields]]
    if hasattr(v, "__dict__"):
        return [_OBJECT, cls.__module__, cls.__qualname__, _plain(vars(v))]
    raise TypeError(f"cannot hand over a {cls.__name__}")


def _cls(module: str, qualname: str):
    mod = __import__(module, fromlist=["_"])
    obj = mod
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _rebuild(v):
    if isinstance(v, dict):
        return {k: _rebuild(x) for k, x in v.items()}
    if not isinstance(v, list):
        return v
    tag = v[0]
    if tag == _TUPLE:
        return tuple(_rebuild(x) for x in v[1])
    if tag == _LIST:
        return [_rebuild(x) for x in v[1]]
    cls = _cls(v[1], v[2])
    if tag == _RECORD:
        return cls(*[_rebuild(x) for x in v[3]])
    obj = cls.__new__(cls)
    obj.__dict__.update(_rebuild(v[3]))
    return obj
