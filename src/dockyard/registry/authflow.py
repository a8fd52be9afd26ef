"""Authentication at the HTTP edge: Basic (htpasswd) or Docker's Bearer token flow.

`authorize` returns the user a request acts as, or raises ApiError 401 (with the challenge
a client needs to authenticate) or 403. The token endpoint issues ES256 JWTs carrying the
intersection of the requested scopes and the config's grants. bcrypt checks run off the
event loop and successful ones are remembered for a minute, because clients resend Basic
credentials on every request.
"""

import asyncio
import time

from dockyard.errors import InvalidArgument, PermissionDenied
from dockyard.registry import routes
from dockyard.registry.apierrors import ApiError
from dockyard.registry.auth import ANONYMOUS, parse_basic, parse_scope
from dockyard.registry.names import validate_repository
from dockyard.registry.state import Registry
from dockyard.registry.tokens import token_allows

_CACHE_TTL = 60.0
_CACHE_MAX = 1024


async def check_password(reg: Registry, user: str, password: str) -> bool:
    import hashlib

    key = hashlib.sha256(f"{user}\0{password}".encode()).hexdigest()
    cache = reg.pw_cache
    now = time.monotonic()
    if cache.get(key, 0.0) > now:
        return True
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(None, reg.authorizer.authenticate, user, password)
    if ok:
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = now + _CACHE_TTL
    return ok


def _scope(route: routes.Route, act: str) -> str:
    if act == "catalog":
        return "registry:catalog:*"
    if not route.name:
        return ""
    actions = "pull,push" if act == routes.PUSH else act
    return f"repository:{route.name}:{actions}"


def _valid_name(name: str) -> bool:
    try:
        validate_repository(name)
    except InvalidArgument:
        return False
    return True


def _realm(reg: Registry, request) -> str:
    return reg.config.auth.token.realm or f"{request.scheme}://{request.host}/auth/token"


def _challenge(reg: Registry, request, route, act: str, error: str = "") -> ApiError:
    if reg.issuer is None:
        header = f'Basic realm="{reg.config.auth.realm}"'
    else:
        header = f'Bearer realm="{_realm(reg, request)}",service="{reg.config.auth.token.service}"'
        scope = _scope(route, act) if act else ""
        source = request.query.get("from", "") if route.kind == "uploads" else ""
        if scope and _valid_name(source) and source != route.name and "mount" in request.query:
            # A mount needs pull on its source too; Docker clients ask for both at once.
            scope += f" repository:{source}:pull"
        if scope:
            header += f',scope="{scope}"'
        if error:
            header += f',error="{error}"'
    return ApiError(
        "UNAUTHORIZED",
        "authentication required",
        401,
        headers={"WWW-Authenticate": header},
    )


def _permits(reg: Registry, user: str, route, act: str) -> bool:
    if act == "":
        return user != ANONYMOUS
    if act == "catalog":
        return reg.authorizer.may_list_catalog(user)
    return reg.authorizer.allowed(user, route.name, act)


async def authorize(reg: Registry, request, route: routes.Route, act: str | None) -> str:
    if act is None or reg.authorizer is None:
        return ANONYMOUS
    header = request.headers.get("Authorization", "")
    if reg.issuer is not None:
        return _authorize_token(reg, request, route, act, header)
    user = ANONYMOUS
    if header:
        creds = parse_basic(header)
        if creds is None or not await check_password(reg, *creds):
            raise _challenge(reg, request, route, act)
        user = creds[0]
    if _permits(reg, user, route, act):
        return user
    if user == ANONYMOUS:
        raise _challenge(reg, request, route, act)
    raise ApiError("DENIED", f"{user} may not {act} {route.name or 'this resource'}", 403)


def _authorize_token(reg: Registry, request, route, act: str, header: str) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        if not header and act == routes.PULL and reg.config.auth.anonymous_pull:
            return ANONYMOUS
        raise _challenge(reg, request, route, act)
    try:
        claims = reg.issuer.verify(token.strip())
    except PermissionDenied:
        raise _challenge(reg, request, route, act, "invalid_token")
    request["claims"] = claims
    user = claims.get("sub") if isinstance(claims.get("sub"), str) else ANONYMOUS
    if act == "":
        ok = True
    elif act == "catalog":
        ok = token_allows(claims, "registry", "catalog", "*")
    else:
        ok = token_allows(claims, "repository", route.name, act)
    if not ok:
        raise _challenge(reg, request, route, act, "insufficient_scope")
    return user


def _grant(reg: Registry, user: str, scope: str) -> dict | None:
    parsed = parse_scope(scope)
    if parsed is None:
        return None
    kind, name, wanted = parsed
    if kind == "registry" and name == "catalog":
        ok = reg.authorizer.may_list_catalog(user)
        return {"type": kind, "name": name, "actions": ["*"] if ok else []}
    if kind != "repository":
        return None
    if not _valid_name(name):
        return None
    have = reg.authorizer.granted(user, name)
    actions = sorted(have) if "*" in wanted else [a for a in wanted if a in have]
    return {"type": kind, "name": name, "actions": actions}


async def token_endpoint(reg: Registry, request):
    """GET (Docker) or POST (OAuth2 password grant) /auth/token."""
    import datetime
    import json

    from aiohttp import web

    if reg.issuer is None:
        raise ApiError("UNSUPPORTED", "token auth is not enabled", 404)
    # each `scope` parameter may hold several, space-separated (OAuth2's form, and how a
    # challenge lists them: a client may pass the challenge's value on as it is)
    scopes = [s for v in request.query.getall("scope", []) for s in v.split(" ") if s]
    user, creds = ANONYMOUS, None
    service = request.query.get("service", "")
    offline = request.query.get("offline_token", "") == "true"
    refreshed = False
    if request.method == "POST":
        form = await request.post()
        grant = form.get("grant_type", "")
        scopes = [s for s in str(form.get("scope", "")).split(" ") if s]
        service = str(form.get("service", ""))
        offline = form.get("access_type", "") == "offline"
        if grant == "refresh_token":
            user, refreshed = _refreshed_user(reg, str(form.get("refresh_token", ""))), True
        elif grant == "password":
            creds = (str(form.get("username", "")), str(form.get("password", "")))
        else:
            raise ApiError("UNSUPPORTED", f"unsupported grant_type {grant!r}", 400)
    elif request.headers.get("Authorization"):
        creds = parse_basic(request.headers["Authorization"])
        if creds is None:
            raise _challenge_basic(reg)
    if creds is not None:
        if not await check_password(reg, *creds):
            raise _challenge_basic(reg)
        user = creds[0]
    if service and service != reg.config.auth.token.service:
        raise ApiError("DENIED", f"unknown service {service!r}", 400)
    access = [g for g in (_grant(reg, user, s) for s in scopes[:32]) if g is not None]
    token = reg.issuer.issue(user, access)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "token": token,
        "access_token": token,
        "expires_in": reg.config.auth.token.expiration,
        "issued_at": now,
    }
    if offline and creds is not None and not refreshed:
        # `docker login` asks for one (offline_token / access_type=offline) and stores it as
        # its identity token instead of the password.
        body["refresh_token"] = reg.issuer.issue(user, [], refresh_stamp=reg.authorizer.stamp(user))
    return web.Response(body=json.dumps(body).encode(), content_type="application/json")


def _refreshed_user(reg: Registry, token: str) -> str:
    """The user a refresh token was issued to, if it is valid and the user's password has not
    changed since; else a 400 (RFC 6749's invalid_grant)."""
    try:
        claims = reg.issuer.verify(token.strip(), refresh=True)
    except PermissionDenied:
        raise ApiError("UNAUTHORIZED", "invalid refresh token", 400)
    user, stamp = claims.get("sub"), claims.get("pwd")
    if not isinstance(user, str) or not user or not isinstance(stamp, str):
        raise ApiError("UNAUTHORIZED", "invalid refresh token", 400)
    if stamp != reg.authorizer.stamp(user):
        raise ApiError("UNAUTHORIZED", "refresh token revoked: the password has changed", 400)
    return user


def _challenge_basic(reg: Registry) -> ApiError:
    return ApiError(
        "UNAUTHORIZED",
        "invalid username or password",
        401,
        headers={"WWW-Authenticate": f'Basic realm="{reg.config.auth.realm}"'},
    )
