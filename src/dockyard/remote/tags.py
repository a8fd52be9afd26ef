"""Listing a repository's tags (`/v2/<name>/tags/list`, following `Link` pages)."""

from dockyard.errors import InvalidArgument

MAX_PAGES = 1000


def _next_link(header: str) -> str:
    # Link: </v2/x/tags/list?n=100&last=b>; rel="next"
    for part in header.split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            url = url.strip()
            if url.startswith("<") and url.endswith(">"):
                return url[1:-1]
    return ""


def list_tags(client) -> list[str]:
    tags: list[str] = []
    path = "tags/list"
    for _ in range(MAX_PAGES):
        r = client.request("GET", path, what=f"tags of {client.repository}")
        try:
            obj = r.json()
        except ValueError:
            raise InvalidArgument(f"tags of {client.repository}: the answer is not JSON")
        page = obj.get("tags") if isinstance(obj, dict) else None
        if page is not None and (
            not isinstance(page, list) or not all(isinstance(t, str) for t in page)
        ):
            raise InvalidArgument(f"tags of {client.repository}: tags must be a list of strings")
        tags.extend(page or [])
        path = _next_link(r.headers.get("link", ""))
        if not path:
            break
    return sorted(set(tags))
