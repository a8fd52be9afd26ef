"""`top`: the host's `ps` output, kept to the rows of a container's processes (Docker's
/containers/{id}/top: Titles and Processes)."""

from dockyard.errors import InvalidArgument


def processes(pids: set[int], ps_args: str = "-ef") -> dict:
    """Run `ps ps_args` and keep the rows whose PID column is one of `pids`."""
    import subprocess

    args = ps_args.split() if ps_args else ["-ef"]
    p = subprocess.run(["ps", *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise InvalidArgument(f"ps: {p.stderr.strip()}")
    lines = p.stdout.splitlines()
    titles = lines[0].split()
    if "PID" not in titles:
        raise InvalidArgument("Couldn't find PID field in ps output")
    pid_col = titles.index("PID")
    procs = []
    for line in lines[1:]:
        fields = line.split(None, len(titles) - 1)
        if len(fields) > pid_col and fields[pid_col].isdigit() and int(fields[pid_col]) in pids:
            procs.append(fields)
    return {"Titles": titles, "Processes": procs}
