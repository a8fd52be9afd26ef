"""The registry's HTTP server: the aiohttp application, its dispatcher and `serve`.

One catch-all route feeds `routes.match` (repository names contain slashes, which aiohttp's
router handles poorly), then the name check, read-only mode, authorization and the handler.
Every response carries `Docker-Distribution-API-Version: registry/2.0`; errors are the
spec's JSON error documents.
"""

import asyncio
import logging
from functools import cache

from dockyard.errors import DockyardError, InvalidArgument
from dockyard.registry import authflow, blobs, manifests_api, routes
from dockyard.registry.apierrors import ApiError, from_category
from dockyard.registry.config import RegistryConfig, load_config
from dockyard.registry.names import validate_repository
from dockyard.registry.state import Registry

__all__ = ["RegistryConfig", "load_config", "make_app", "serve"]

_log = logging.getLogger("dockyard.registry")
_READ_BUFSIZE = 1 << 20


@cache
def _key():
    from aiohttp import web

    return web.AppKey("dockyard.registry", Registry)


def make_app(config: RegistryConfig):
    """The aiohttp Application serving `config` (storage is opened, not yet swept)."""
    from aiohttp import web

    reg = Registry.open(config)
    app = web.Application(client_max_size=64 << 10)
    app[_key()] = reg
    app.router.add_route("*", "/{tail:.*}", _dispatch)
    app.on_response_prepare.append(_add_headers)
    app.on_startup.append(_start_purger)
    app.on_cleanup.append(_stop_purger)
    return app


async def _add_headers(request, response) -> None:
    response.headers["Docker-Distribution-API-Version"] = "registry/2.0"


_HANDLERS = {
    ("base", "GET"): None,
    ("base", "HEAD"): None,
    ("blob", "GET"): blobs.get_blob,
    ("blob", "HEAD"): blobs.get_blob,
    ("blob", "DELETE"): blobs.delete_blob,
    ("upload", "GET"): blobs.upload_status,
    ("upload", "PATCH"): blobs.patch_upload,
    ("upload", "PUT"): blobs.finish_upload,
    ("upload", "DELETE"): blobs.cancel_upload,
    ("manifest", "GET"): manifests_api.get_manifest,
    ("manifest", "HEAD"): manifests_api.get_manifest,
    ("manifest", "PUT"): manifests_api.put_manifest,
    ("manifest", "DELETE"): manifests_api.delete_manifest,
    ("referrers", "GET"): manifests_api.referrers,
}


async def _dispatch(request):
    from aiohttp import web

    reg = request.app[_key()]
    route = routes.match(request.path)
    try:
        if route is None:
            raise ApiError("NOT_FOUND", f"no such endpoint {request.path[:200]}", 404)
        method = request.method
        if method not in routes.methods(route):
            raise ApiError("UNSUPPORTED", f"{method} is not supported here", 405,
                           headers={"Allow": ", ".join(routes.methods(route))})  # fmt: skip
        if route.name:
            try:
                validate_repository(route.name)
            except InvalidArgument as e:
                raise ApiError("NAME_INVALID", str(e), detail={"name": route.name[:300]})
        if reg.config.read_only and method in routes.WRITES and route.kind != "token":
            raise ApiError("UNSUPPORTED", "the registry is in read-only mode", 405)
        if route.kind == "token":
            return await authflow.token_endpoint(reg, request)
        user = await authflow.authorize(reg, request, route, routes.action(route, method))
        return await _handle(reg, request, route, user)
    except ApiError as e:
        return _error_response(request, e)
    except DockyardError as e:
        kind = route.kind if route is not None else ""
        if kind in ("blob", "upload", "uploads"):
            return _error_response(request, blobs.translate(e))
        if kind in ("manifest", "tags", "referrers", "catalog"):
            return _error_response(request, manifests_api.translate(e))
        return _error_response(request, from_category(e, "NOT_FOUND", "UNSUPPORTED"))
    except (ConnectionResetError, asyncio.CancelledError, web.HTTPException):
        raise
    except Exception:
        _log.exception("%s %s failed", request.method, request.path[:200])
        return _error_response(request, ApiError("UNKNOWN", "internal error", 500))


async def _handle(reg: Registry, request, route: routes.Route, user: str):
    from aiohttp import web

    kind, method = route.kind, request.method
    if kind == "base":
        return web.Response(body=b"{}", content_type="application/json")
    if kind == "catalog":
        return await manifests_api.catalog(reg, request, user)
    if kind == "tags":
        return await manifests_api.list_tags(reg, request, route.name)
    if kind == "uploads":
        return await blobs.start_upload(reg, request, route.name, user)
    return await _HANDLERS[(kind, method)](reg, request, route.name, route.arg)


def _error_response(request, e: ApiError):
    from aiohttp import web

    if e.status >= 500:
        _log.error("%s %s: %s", request.method, request.path[:200], e.message)
    body = None if request.method == "HEAD" else e.body()
    resp = web.Response(status=e.status, body=body, headers=e.headers)
    if body is not None:
        resp.content_type = "application/json"
    return resp


# -- background sweeping of abandoned uploads


async def _purge(reg: Registry) -> None:
    import time

    loop = asyncio.get_running_loop()
    while True:
        try:
            removed = await loop.run_in_executor(
                None, reg.uploads.purge, reg.config.upload_purge_age, time.time()
            )
            for uid in removed:
                reg.locks.pop(uid, None)
        except OSError as e:
            _log.warning("purging stale uploads failed: %s", e)
        await asyncio.sleep(reg.config.upload_purge_interval)


async def _start_purger(app) -> None:
    reg = app[_key()]
    if not reg.config.read_only:
        reg.purger = asyncio.get_running_loop().create_task(_purge(reg))


async def _stop_purger(app) -> None:
    reg = app[_key()]
    task, reg.purger = reg.purger, None
    if task is not None:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    reg.uploads.close()


# -- running


def _ssl_context(config: RegistryConfig):
    if not config.tls_cert:
        return None
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as e:
        raise InvalidArgument(f"registry TLS: cannot load {config.tls_cert}: {e}")
    return ctx


async def run(config: RegistryConfig, stop: asyncio.Event | None = None, ready=None) -> None:
    """Serve until `stop` is set (or SIGTERM/SIGINT); `ready(host, port)` once listening."""
    import signal

    from aiohttp import web

    ssl_ctx = _ssl_context(config)
    host, port = config.host_port()
    app = make_app(config)
    runner = web.AppRunner(app, access_log=None, read_bufsize=_READ_BUFSIZE)
    await runner.setup()
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_ctx, reuse_address=True)
        try:
            await site.start()
        except OSError as e:
            raise InvalidArgument(f"registry: cannot listen on {config.addr}: {e.strerror}")
        handled = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
                handled.append(sig)
            except (RuntimeError, ValueError):
                pass  # not the main thread: the caller stops us through `stop`
        if ready is not None:
            sockets = site._server.sockets if site._server is not None else []
            bound = sockets[0].getsockname() if sockets else (host, port)
            ready(bound[0], bound[1])
        await stop.wait()
        for sig in handled:
            loop.remove_signal_handler(sig)
    finally:
        await runner.cleanup()


def serve(config: RegistryConfig) -> None:
    """Run the registry in the foreground until SIGTERM or SIGINT, then close cleanly."""
    asyncio.run(run(config))
