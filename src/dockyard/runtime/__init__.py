"""The container runtime (L3): run options to a container spec, the lifecycle state machine,
container records, the per-container supervisor and the json-file log.

`spec` and `containerspec` (pure) turn Docker's run options and an image config into the
decided container; `rootfs` reads the image's /etc/passwd and /etc/group from its layers;
`state` owns the lifecycle moves and Docker's messages; `names` ids and names; `store` the
sqlite records; `starter` and `launch` start a container (cgroup, init config, supervisor);
`supervisor` owns a running container (`pump` copies its output and watches it);
`finish` records its exit, tears down and applies the restart policy (`restart`);
`reconcile` tells the truth about containers whose supervisor died; `cleanup` removes what
is left; `jsonlog` writes and reads the logs; `dockerjson` renders Docker's inspect and list JSON; `fastjson` is JSON
without the json package's import cost; `handoff` carries a plan to a pre-forked supervisor.
Importing this package does nothing.
"""
