"""HTTP proxies from the environment, chosen as Go's `http.ProxyFromEnvironment` (and so
Docker) chooses them: `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http ones (upper case
first, then lower case; `HTTP_PROXY` is ignored under CGI's `REQUEST_METHOD`), never for
localhost or a loopback address, and not for hosts `NO_PROXY` lists (`*`; a name, which
covers its subdomains; `.name`, subdomains only; `host:port`; an IP address or a CIDR).

Only `http://` proxies are spoken to (plain requests in absolute form, CONNECT tunnels for
https); user:password in the proxy URL becomes a `Proxy-Authorization: Basic` header.
"""

from dockyard.errors import InvalidArgument


class Proxy:
    __slots__ = ("authorization", "host", "port", "url")

    def __init__(self, host: str, port: int, authorization: str, url: str):
        self.host = host
        self.port = port
        self.authorization = authorization  # "Basic ..." or ""
        self.url = url  # for messages, without credentials


def parse_proxy(value: str) -> Proxy:
    """`http://[user:pass@]host[:port]` (a value without a scheme is taken as http)."""
    from urllib.parse import unquote, urlsplit

    text = value.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        u = urlsplit(text)
        port = u.port
    except ValueError:
        raise InvalidArgument(f"invalid proxy address {_safe(value)!r}") from None
    if u.scheme.lower() != "http":
        raise InvalidArgument(f"unsupported proxy scheme {u.scheme!r} (only http:// proxies)")
    if not u.hostname:
        raise InvalidArgument(f"invalid proxy address {_safe(value)!r}")
    auth = ""
    if u.username is not None:
        import base64

        pair = f"{unquote(u.username)}:{unquote(u.password or '')}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
    return Proxy(u.hostname, port or 80, auth, f"http://{u.hostname}:{port or 80}")


def _safe(value: str) -> str:
    """A proxy URL for a message, without its password."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "", value
    userinfo, at, hostpart = rest.rpartition("@")
    shown = f"{userinfo.partition(':')[0]}:***@{hostpart}" if at else rest
    return f"{scheme}://{shown}" if sep else shown


class Proxies:
    """The proxy settings of an environment; `for_url` picks the proxy for one request."""

    def __init__(self, http: str = "", https: str = "", no_proxy: str = ""):
        self.http = parse_proxy(http) if http.strip() else None
        self.https = parse_proxy(https) if https.strip() else None
        entries = no_proxy.replace(" ", ",").lower().split(",")
        self.no_proxy = [x for x in entries if x]

    @classmethod
    def from_env(cls, environ) -> "Proxies":
        def get(name: str) -> str:
            return environ.get(name.upper()) or environ.get(name.lower()) or ""

        http = "" if environ.get("REQUEST_METHOD") else get("http_proxy")
        return cls(http, get("https_proxy"), get("no_proxy"))

    def __bool__(self) -> bool:
        return self.http is not None or self.https is not None

    def for_url(self, scheme: str, host: str, port: int) -> Proxy | None:
        proxy = self.https if scheme == "https" else self.http
        if proxy is None or not self._use(host.lower().strip("[]"), port):
            return None
        return proxy

    def _use(self, host: str, port: int) -> bool:
        if host == "localhost" or host.endswith(".localhost"):
            return False
        ip = _ip(host)
        if ip is not None and ip.is_loopback:
            return False
        for entry in self.no_proxy:
            if entry == "*":
                return False
            if _matches(entry, host, port, ip):
                return False
        return True


def _ip(host: str):
    if not host or not (host[0].isdigit() or ":" in host):
        return None  # a name: spare the ipaddress import
    import ipaddress

    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _matches(entry: str, host: str, port: int, ip) -> bool:
    if "/" in entry:
        if ip is None:
            return False
        import ipaddress

        try:
            return ip in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    want_port = 0
    if entry.startswith("["):  # [v6]:port
        inner, _, after = entry[1:].partition("]")
        entry = inner
        if after.startswith(":") and after[1:].isdigit():
            want_port = int(after[1:])
    elif entry.count(":") == 1:
        name, _, p = entry.partition(":")
        if p.isdigit():
            entry, want_port = name, int(p)
    if want_port and want_port != port:
        return False
    if ip is not None:
        other = _ip(entry)
        return other is not None and other == ip
    if entry.startswith("."):
        return host.endswith(entry)
    if entry.startswith("*."):
        return host.endswith(entry[1:])
    return host == entry or host.endswith("." + entry)
