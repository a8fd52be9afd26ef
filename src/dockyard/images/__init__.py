"""Image use-cases over the local stores (L3): import, save, load, unpack, queries, removal.

Modules: `importer` (rootfs tar -> image), `save` / `load` (docker-archive + OCI layout),
`unpack` and `pipeunpack` (layers -> snapshots, diff ids checked), `record` (image record and
tags, written last), `query` (name resolution, list filters), `remove` (rmi, prune),
`dockerjson` (Docker API shapes), `changes` (`--change` lines), `timefmt`.
Tar and compression come from `dockyard.archive` (L1).
"""
