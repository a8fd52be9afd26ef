"""Where a registry lives: Docker Hub's endpoint, the credential key, and HTTP vs HTTPS."""

DOCKER_HUB = "docker.io"
DOCKER_HUB_ENDPOINT = "registry-1.docker.io"
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"
_HUB_NAMES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


def endpoint_host(domain: str) -> str:
    """The host[:port] to connect to for a reference domain (Docker Hub has its own)."""
    return DOCKER_HUB_ENDPOINT if domain.lower() in _HUB_NAMES else domain


def credential_key(server: str) -> str:
    """The key a server's credentials are stored under in config.json (Docker's choice)."""
    host = normalize_server(server)
    return DOCKER_HUB_AUTH_KEY if host in _HUB_NAMES else host


def normalize_server(server: str) -> str:
    """`https://host:5000/v1/` or `host:5000` -> `host:5000` (lowercase host)."""
    s = server.strip()
    for prefix in ("https://", "http://"):
        if s.lower().startswith(prefix):
            s = s[len(prefix) :]
            break
    return s.partition("/")[0].lower()


def hostname(host_port: str) -> str:
    """The host part of `host[:port]`, brackets removed for IPv6."""
    if host_port.startswith("["):
        return host_port[1:].partition("]")[0]
    if host_port.count(":") > 1:  # a bare IPv6 address
        return host_port
    return host_port.partition(":")[0]


def is_loopback(host_port: str) -> bool:
    h = hostname(host_port).lower()
    return h in ("localhost", "::1") or h.startswith("127.") or h.endswith(".localhost")


def is_insecure(host_port: str, insecure: tuple[str, ...] | list[str]) -> bool:
    """Whether `host_port` is listed (as host:port, host, or a CIDR of its address)."""
    h = hostname(host_port)
    for item in insecure:
        item = normalize_server(item) if "/" not in item or "://" in item else item
        if item in (host_port.lower(), h.lower()):
            return True
        if "/" in item:
            import ipaddress

            try:
                if ipaddress.ip_address(h) in ipaddress.ip_network(item, strict=False):
                    return True
            except ValueError:
                continue
    return False


def base_urls(host_port: str, insecure: bool) -> list[tuple[str, bool]]:
    """(base URL, verify TLS) candidates in the order to try them, as Docker does.

    Loopback registries speak plain HTTP (then HTTPS unverified, for a TLS registry on this
    host: Docker counts loopback as insecure); insecure ones HTTPS without verification, then
    HTTP; everything else HTTPS only.
    """
    if is_loopback(host_port):
        return [(f"http://{host_port}", False), (f"https://{host_port}", False)]
    if insecure:
        return [(f"https://{host_port}", False), (f"http://{host_port}", False)]
    return [(f"https://{host_port}", True)]
