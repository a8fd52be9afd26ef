"""The command table: every command path, the module that implements it, its summary, aliases.

Modules live in `dockyard.cli.commands` and are imported only when their command runs, so
start-up cost does not grow with the number of commands. A `None` module marks a group
(`image`, `system`) whose help lists its subcommands.
"""

# path -> (module under dockyard.cli.commands or None for a group, one-line summary, aliases)
COMMANDS: dict[tuple[str, ...], tuple[str | None, str, tuple[str, ...]]] = {
    ("builder",): (None, "Manage builds", ()),
    ("builder", "prune"): ("builder_prune", "Remove build cache", ()),
    ("container",): (None, "Manage containers", ()),
    ("container", "attach"): (
        "attach",
        "Attach local standard input, output, and error streams to a running container",
        (),
    ),
    ("container", "commit"): ("commit", "Create a new image from a container's changes", ()),
    ("container", "cp"): (
        "cp",
        "Copy files/folders between a container and the local filesystem",
        (),
    ),
    ("container", "create"): ("create", "Create a new container", ()),
    ("container", "diff"): (
        "diff",
        "Inspect changes to files or directories on a container's filesystem",
        (),
    ),
    ("container", "export"): ("export", "Export a container's filesystem as a tar archive", ()),
    ("container", "exec"): ("exec", "Execute a command in a running container", ()),
    ("container", "inspect"): (
        "container_inspect",
        "Display detailed information on one or more containers",
        (),
    ),
    ("container", "kill"): ("kill", "Kill one or more running containers", ()),
    ("container", "logs"): ("logs", "Fetch the logs of a container", ()),
    ("container", "ls"): ("ps", "List containers", ("ps", "list")),
    ("container", "pause"): ("pause", "Pause all processes within one or more containers", ()),
    ("container", "port"): (
        "port",
        "List port mappings or a specific mapping for the container",
        (),
    ),
    ("container", "prune"): ("container_prune", "Remove all stopped containers", ()),
    ("container", "rename"): ("rename", "Rename a container", ()),
    ("container", "restart"): ("restart", "Restart one or more containers", ()),
    ("container", "rm"): ("rm", "Remove one or more containers", ("remove",)),
    ("container", "run"): ("run", "Create and run a new container from an image", ()),
    ("container", "start"): ("start", "Start one or more stopped containers", ()),
    ("container", "stats"): (
        "stats",
        "Display a live stream of container(s) resource usage statistics",
        (),
    ),
    ("container", "stop"): ("stop", "Stop one or more running containers", ()),
    ("container", "top"): ("top", "Display the running processes of a container", ()),
    ("container", "unpause"): (
        "unpause",
        "Unpause all processes within one or more containers",
        (),
    ),
    ("container", "update"): ("update", "Update configuration of one or more containers", ()),
    ("container", "wait"): (
        "wait",
        "Block until one or more containers stop, then print their exit codes",
        (),
    ),
    ("image",): (None, "Manage images", ()),
    ("image", "build"): ("build", "Build an image from a Dockerfile", ()),
    ("image", "history"): ("history", "Show the history of an image", ()),
    ("image", "import"): (
        "image_import",
        "Import the contents from a tarball to create a filesystem image",
        (),
    ),
    ("image", "inspect"): (
        "image_inspect",
        "Display detailed information on one or more images",
        (),
    ),
    ("image", "load"): ("load", "Load an image from a tar archive or STDIN", ()),
    ("image", "ls"): ("images", "List images", ("list",)),
    ("image", "prune"): ("image_prune", "Remove unused images", ()),
    ("image", "pull"): ("pull", "Download an image from a registry", ()),
    ("image", "push"): ("push", "Upload an image to a registry", ()),
    ("image", "rm"): ("rmi", "Remove one or more images", ("rmi", "remove")),
    ("image", "save"): (
        "save",
        "Save one or more images to a tar archive (streamed to STDOUT by default)",
        (),
    ),
    ("image", "tag"): ("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", ()),
    ("registry",): (None, "Run and maintain an OCI distribution registry", ()),
    ("registry", "gc"): ("registry_gc", "Remove blobs no manifest references", ()),
    ("registry", "serve"): ("registry_serve", "Run an OCI distribution registry", ()),
    ("system",): (None, "Manage Dockyard", ()),
    ("system", "df"): ("system_df", "Show dockyard disk usage", ()),
    ("system", "info"): ("info", "Display system-wide information", ()),
    ("system", "prune"): ("system_prune", "Remove unused data", ()),
    ("build",): ("build", "Build an image from a Dockerfile", ()),
    ("history",): ("history", "Show the history of an image", ()),
    ("images",): ("images", "List images", ()),
    ("import",): (
        "image_import",
        "Import the contents from a tarball to create a filesystem image",
        (),
    ),
    ("info",): ("info", "Display system-wide information", ()),
    ("inspect",): ("inspect", "Return low-level information on Dockyard objects", ()),
    ("load",): ("load", "Load an image from a tar archive or STDIN", ()),
    ("login",): ("login", "Log in to a registry", ()),
    ("logout",): ("logout", "Log out from a registry", ()),
    ("pull",): ("pull", "Download an image from a registry", ()),
    ("push",): ("push", "Upload an image to a registry", ()),
    ("rmi",): ("rmi", "Remove one or more images", ()),
    ("save",): (
        "save",
        "Save one or more images to a tar archive (streamed to STDOUT by default)",
        (),
    ),
    ("tag",): ("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", ()),
    ("attach",): (
        "attach",
        "Attach local standard input, output, and error streams to a running container",
        (),
    ),
    ("commit",): ("commit", "Create a new image from a container's changes", ()),
    ("cp",): ("cp", "Copy files/folders between a container and the local filesystem", ()),
    ("create",): ("create", "Create a new container", ()),
    ("diff",): ("diff", "Inspect changes to files or directories on a container's filesystem", ()),
    ("export",): ("export", "Export a container's filesystem as a tar archive", ()),
    ("exec",): ("exec", "Execute a command in a running container", ()),
    ("kill",): ("kill", "Kill one or more running containers", ()),
    ("logs",): ("logs", "Fetch the logs of a container", ()),
    ("pause",): ("pause", "Pause all processes within one or more containers", ()),
    ("port",): ("port", "List port mappings or a specific mapping for the container", ()),
    ("ps",): ("ps", "List containers", ()),
    ("rename",): ("rename", "Rename a container", ()),
    ("restart",): ("restart", "Restart one or more containers", ()),
    ("rm",): ("rm", "Remove one or more containers", ()),
    ("run",): ("run", "Create and run a new container from an image", ()),
    ("start",): ("start", "Start one or more stopped containers", ()),
    ("stats",): ("stats", "Display a live stream of container(s) resource usage statistics", ()),
    ("stop",): ("stop", "Stop one or more running containers", ()),
    ("top",): ("top", "Display the running processes of a container", ()),
    ("unpause",): ("unpause", "Unpause all processes within one or more containers", ()),
    ("update",): ("update", "Update configuration of one or more containers", ()),
    ("wait",): (
        "wait",
        "Block until one or more containers stop, then print their exit codes",
        (),
    ),
    ("version",): ("version", "Show the Dockyard version information", ()),
    ("volume",): (None, "Manage volumes", ()),
    ("volume", "create"): ("volume_create", "Create a volume", ()),
    ("volume", "inspect"): (
        "volume_inspect",
        "Display detailed information on one or more volumes",
        (),
    ),
    ("volume", "ls"): ("volume_ls", "List volumes", ("list",)),
    ("volume", "prune"): ("volume_prune", "Remove unused local volumes", ()),
    ("volume", "rm"): ("volume_rm", "Remove one or more volumes", ("remove",)),
}


def resolve(words: list[str]) -> tuple[tuple[str, ...], int] | None:
    """The canonical path named by the leading words (aliases resolved) and how many it used."""
    path: tuple[str, ...] = ()
    used = 0
    for word in words:
        found = None
        for candidate, (_, _, aliases) in COMMANDS.items():
            if candidate[:-1] == path and (candidate[-1] == word or word in aliases):
                found = candidate
                break
        if found is None:
            break
        path = found
        used += 1
        if COMMANDS[path][0] is not None:
            break
    return (path, used) if path else None
