"""The registry client (L3): talking the OCI distribution protocol to a registry.

`hosts` maps a reference's domain to an endpoint (Docker Hub, plain HTTP for loopback),
`auth` parses challenges, `credentials` reads and writes Docker's config.json and credential
helpers, `http` is a small HTTP/1.1 client, `client` sends requests with auth and retries, `transfer` moves blobs (resumed,
verified downloads; HEAD, mount and upload), `manifests` fetches and checks manifests and
picks a platform, `sources` remembers which repository a blob came from (for mounts).
"""
