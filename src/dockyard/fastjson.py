"""JSON for start-up paths (container start, push, pull) through the `_json` C accelerator,
without the `json` package: importing `json` pulls in `re` and `enum` (~4-7 ms per command),
though `json.loads` and `json.dumps` themselves run this same C scanner and encoder.

`loads` and `dumps` give exactly what `json.loads(data)` and `json.dumps(obj,
separators=(",", ":"))` give; anything unusual (a BOM, UTF-16/32 bytes, a syntax error) is
handed to the `json` package itself, so errors and edge cases are its own.
"""

_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Context:
    """What `_json.make_scanner` reads from a `json.JSONDecoder`, with its defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__


def _no_constant(name: str):
    raise ValueError(f"not JSON: {name}")  # Go's decoder knows no NaN or Infinity


class _GoContext(_Context):
    parse_constant = staticmethod(_no_constant)


_WS = " \t\n\r"


def loads(data: "str | bytes", constants: bool = True):
    """`json.loads(data)`; `constants` False: NaN and Infinity are errors, as in Go."""
    try:
        from _json import make_scanner
    except ImportError:
        make_scanner = None
    if isinstance(data, (bytes, bytearray)):
        head = bytes(data[:4])
        # json detects UTF-16/32 by their NUL bytes and strips a UTF-8 BOM: its job
        if make_scanner is None or b"\x00" in head or head[:1] in (b"\xef", b"\xfe", b"\xff"):
            return _slow_loads(data, constants)
        text = bytes(data).decode("utf-8", "surrogatepass")
    else:
        text = data
    if make_scanner is None or text[:1] == "\ufeff":
        return _slow_loads(data, constants)
    start = len(text) - len(text.lstrip(_WS))
    try:
        obj, end = make_scanner(_Context if constants else _GoContext)(text, start)
    except (StopIteration, ValueError):
        return _slow_loads(data, constants)  # raises json's own error
    if text[end:].strip(_WS):
        return _slow_loads(data, constants)
    return obj


def _slow_loads(data, constants: bool = True):
    import json

    if constants:
        return json.loads(data)
    return json.loads(data, parse_constant=_no_constant)


def _default(o):
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def dumps(obj, ensure_ascii: bool = True, sort_keys: bool = False,
          separators: tuple[str, str] = (",", ":")) -> str:  # fmt: skip
    """`json.dumps(obj, separators=separators, ensure_ascii=ensure_ascii,
    sort_keys=sort_keys)` (compact by default)."""
    try:
        from _json import encode_basestring, encode_basestring_ascii, make_encoder
    except ImportError:
        import json

        return json.dumps(obj, separators=separators, ensure_ascii=ensure_ascii,
                          sort_keys=sort_keys)  # fmt: skip
    strings = encode_basestring_ascii if ensure_ascii else encode_basestring
    item_sep, key_sep = separators
    # (markers, default, encoder, indent, key_separator, item_separator, sort_keys,
    #  skipkeys, allow_nan): json.JSONEncoder's own call for a one-shot dumps
    encode = make_encoder({}, _default, strings, None, key_sep, item_sep, sort_keys, False, True)
    return "".join(encode(obj, 0))
