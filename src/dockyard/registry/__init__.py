"""The OCI distribution registry server (`dockyard registry serve`).

`server` holds the aiohttp application; `storage` and `uploads` own the on-disk state;
`auth` and `tokens` decide who may do what; `gc` reclaims blobs no manifest references.
Only `server` (and the handler modules it loads) import aiohttp.
"""
