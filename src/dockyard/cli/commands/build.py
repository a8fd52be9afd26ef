"""`build` / `image build`: build an image from a Dockerfile and a context folder (or a tar,
or just a Dockerfile, on stdin)."""

import os
import sys

from dockyard.cli.command import CliError, Command
from dockyard.cli.context import Cli
from dockyard.cli.flags import BOOL, LIST, Flag, Values

COMMAND = Command(
    "build [OPTIONS] PATH | URL | -",
    "Build an image from a Dockerfile",
    flags=(
        Flag("build-arg", kind=LIST, help="Set build-time variables"),
        Flag("file", "f", help="Name of the Dockerfile (Default is 'PATH/Dockerfile')"),
        Flag("iidfile", help="Write the image ID to the file"),
        Flag("label", kind=LIST, help="Set metadata for an image"),
        Flag(
            "network",
            default="none",
            help="Set the networking mode for the RUN instructions during build",
        ),
        Flag("no-cache", kind=BOOL, help="Do not use cache when building the image"),
        Flag("progress", default="auto", help="Set type of progress output (auto, plain, tty)"),
        Flag(
            "secret",
            kind=LIST,
            help='Secret to expose to the build (format: "id=mysecret[,src=/local/secret]")',
        ),
        Flag(
            "quiet", "q", kind=BOOL, help="Suppress the build output and print image ID on success"
        ),
        Flag("tag", "t", kind=LIST, help="Name and optionally a tag in the 'name:tag' format"),
        Flag("target", help="Set the target build stage to build"),
        Flag("pull", kind=BOOL, hidden=True),
        Flag("rm", kind=BOOL, default=True, hidden=True),
        Flag("force-rm", kind=BOOL, hidden=True),
    ),
    args=("exact", 1),
    aliases="dockyard image build, dockyard build",
)


def _pairs(items: list[str], what: str, env_fallback: bool) -> dict:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not key:
            raise CliError(f'invalid argument "{item}" for "--{what}" flag')
        if not eq:
            if not env_fallback:
                value = ""
            elif key in os.environ:
                value = os.environ[key]
            else:
                continue  # Docker: an unset variable named without a value is skipped
        out[key] = value
    return out


SECRET_MAX = 500 << 10  # BuildKit's limit per secret


def _secrets(items: list[str]) -> dict[str, bytes]:
    """--secret id=ID[,src|source=FILE][,env=VAR][,type=file|env] -> {id: value}."""
    out: dict[str, bytes] = {}
    for item in items:
        fields = {}
        for part in item.split(","):
            key, eq, value = part.partition("=")
            key = key.strip().lower()
            if not eq or key not in ("id", "src", "source", "env", "type"):
                raise CliError(f'invalid argument "{item}" for "--secret" flag: bad field {part!r}')
            fields["src" if key == "source" else key] = value
        sid = fields.get("id") or os.path.basename(fields.get("src", ""))
        if not sid:
            raise CliError(f'invalid argument "{item}" for "--secret" flag: no id')
        kind = fields.get("type") or ("env" if "env" in fields else "file")
        if kind == "env" or ("src" not in fields and sid in os.environ):
            var = fields.get("env") or fields.get("src") or sid
            if var not in os.environ:
                raise CliError(f"secret {sid}: environment variable {var} is not set")
            out[sid] = os.environ[var].encode()
            continue
        if kind != "file" or "src" not in fields:
            raise CliError(f'invalid argument "{item}" for "--secret" flag: need src= or env=')
        try:
            with open(fields["src"], "rb") as f:
                data = f.read(SECRET_MAX + 1)
        except OSError as e:
            raise CliError(f"secret {sid}: cannot read {fields['src']}: {e.strerror}") from None
        if len(data) > SECRET_MAX:
            raise CliError(f"secret {sid}: {fields['src']} is larger than 500 KiB")
        out[sid] = data
    return out


def _add_limit() -> int:
    """The largest ADD <url> download: DOCKYARD_BUILD_ADD_LIMIT bytes, 4 GiB by default."""
    text = os.environ.get("DOCKYARD_BUILD_ADD_LIMIT", "")
    if not text:
        return 4 << 30
    if not text.isdigit():
        raise CliError(f"invalid DOCKYARD_BUILD_ADD_LIMIT: {text}")
    return int(text)


class _Classic:
    """Docker's classic builder output: `Step 2/6 : ENV A=1`, ` ---> Using cache`."""

    def __init__(self, out):
        self.out = out

    def step(self, number, total, text):
        self.out.write(f"Step {number}/{total} : {text.splitlines()[0]}\n")
        self.out.flush()

    def cached(self):
        self.out.write(" ---> Using cache\n")

    def reason(self, text):
        pass

    def output(self, data):
        self.out.flush()
        self.out.buffer.write(data)
        self.out.buffer.flush()

    def done(self, seconds):
        pass


class _Plain:
    """BuildKit's plain progress: `#3 [2/6] ENV A=1`, `#3 CACHED`, why a step rebuilt."""

    def __init__(self, out):
        import time

        self.out = out
        self.n = 0
        self.t = time.monotonic
        self.start = self.t()
        self.partial = b""

    def _end(self):
        if self.n:
            if self.partial:
                self._line(self.partial.decode(errors="replace"))
                self.partial = b""
            self.out.write(f"#{self.n} DONE {self.t() - self.start:.1f}s\n\n")

    def _line(self, text):
        self.out.write(f"#{self.n} {self.t() - self.start:.3f} {text}\n")

    def step(self, number, total, text):
        self._end()
        self.n = number
        self.start = self.t()
        self.out.write(f"#{number} [{number}/{total}] {text.splitlines()[0]}\n")
        self.out.flush()

    def cached(self):
        self.out.write(f"#{self.n} CACHED\n")

    def reason(self, text):
        self.out.write(f"#{self.n} {text}\n")

    def output(self, data):
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for ln in lines:
            self._line(ln.decode(errors="replace"))
        self.out.flush()

    def done(self, seconds):
        self._end()
        self.out.flush()


def _read_stdin_context(cli: Cli, tmp_dir: str) -> tuple[str, str | None]:
    """(context dir, Dockerfile text if stdin held only a Dockerfile)."""
    from dockyard.archive.apply import apply_layer
    from dockyard.archive.compression import Replay, detect, open_reader

    src = cli.binary_stdin()
    head = b""
    while len(head) < 512:  # a tar's magic is at offset 257
        chunk = src.read(512 - len(head))
        if not chunk:
            break
        head += chunk
    stream = Replay(head, src)
    ctx = os.path.join(tmp_dir, "build-ctx-" + os.urandom(8).hex())
    os.makedirs(ctx, 0o700)
    if detect(head) or (len(head) >= 262 and head[257:262] == b"ustar"):
        apply_layer(open_reader(stream), ctx, whiteouts="delete", devices=False, same_owner=False)
        return ctx, None
    return ctx, (head + src.read(1 << 22)).decode(errors="replace")


def run(cli: Cli, opts: Values, args: list[str]) -> int:
    from dockyard.build.options import BuildOptions
    from dockyard.services.builds import BuildService

    if opts.progress not in ("auto", "plain", "tty"):
        raise CliError(f'invalid progress type "{opts.progress}": want auto, plain or tty')
    if opts.network not in ("none", "host", "default"):
        raise CliError(f'network mode "{opts.network}" not supported by build (none, host)')
    build_args = _pairs(opts.build_arg, "build-arg", True)
    labels = _pairs(opts.label, "label", False)
    source = args[0]
    tmp_dir = cli.config.tmp_dir
    cleanup = None
    dockerfile = None
    try:
        if source == "-":
            if opts.file == "-":
                raise CliError(
                    "invalid argument: can't use stdin for both build context and dockerfile"
                )
            context, dockerfile = _read_stdin_context(cli, tmp_dir)
            cleanup = context
        elif source.startswith(("http://", "https://", "git@", "git://")):
            raise CliError(
                f"unable to prepare context: remote contexts are not supported: {source}"
            )
        else:
            context = os.path.abspath(source)
            if not os.path.isdir(context):
                raise CliError(f'unable to prepare context: path "{source}" not found')
        if dockerfile is None:
            if opts.file == "-":
                dockerfile = cli.binary_stdin().read(1 << 22).decode(errors="replace")
            else:
                path = opts.file or os.path.join(context, "Dockerfile")
                if opts.file and not os.path.isabs(path) and source == "-":
                    path = os.path.join(context, path)
                try:
                    with open(path, encoding="utf-8", errors="replace") as f:
                        dockerfile = f.read(1 << 22)
                except OSError:
                    raise CliError(
                        "unable to prepare context: unable to evaluate symlinks in Dockerfile "
                        f"path: lstat {path}: no such file or directory"
                    ) from None
        epoch = build_args.get("SOURCE_DATE_EPOCH") or os.environ.get("SOURCE_DATE_EPOCH")
        if epoch is not None and not epoch.isdigit():
            raise CliError(f"invalid SOURCE_DATE_EPOCH: {epoch}")
        bopts = BuildOptions(
            context_dir=context, dockerfile=dockerfile, build_args=build_args,
            target=opts.target, no_cache=opts.no_cache, labels=labels,
            network="none" if opts.network == "default" else opts.network,
            source_date_epoch=int(epoch) if epoch is not None else None,
            data_root=cli.config.root, tmp_dir=tmp_dir, secrets=_secrets(opts.secret),
            add_limit=_add_limit(),
        )  # fmt: skip
        if opts.quiet:
            events = None
        elif opts.progress == "plain":
            events = _Plain(cli.stderr if cli.stderr is not None else sys.stderr)
        else:
            events = _Classic(cli.stdout)
        svc = BuildService(cli.config, cli.images)
        try:
            image_id = svc.build(bopts, opts.tag, events)
        finally:
            svc.close()
    finally:
        if cleanup:
            from dockyard.rmtree import quietly

            quietly(cleanup)
    if opts.iidfile:
        tmp = f"{opts.iidfile}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(image_id)
        os.replace(tmp, opts.iidfile)
    _finish(cli, opts, image_id)
    from dockyard.cli.commands.batch import exit_now

    exit_now(cli, 0)  # the build is recorded and flushed: no interpreter teardown (~7 ms)
    return 0


def _finish(cli: Cli, opts: Values, image_id: str) -> None:
    from dockyard import reference

    if opts.quiet:
        cli.out(image_id + "\n")
        return
    names = [reference.parse_normalized_tagged(t) for t in opts.tag]
    if opts.progress == "plain":
        cli.err(f"#0 writing image {image_id} done\n")
        for n in names:
            cli.err(f"#0 naming to {n} done\n")
        return
    cli.out(f"Successfully built {image_id.split(':', 1)[1][:12]}\n")
    for n in names:
        cli.out(f"Successfully tagged {n.familiar()}\n")
