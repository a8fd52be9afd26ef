"""The build itself: stages in order, each step from the cache or executed, then the image.

A stage's state is its image config, its layers and a cache key that chains the parent's
key with each step's expanded instruction and inputs (file contents for COPY/ADD, the
build args for RUN). Layer steps (RUN, COPY, ADD) are looked up in the cache by that key;
metadata steps only change the config. On a miss the step says why it rebuilt (which file
or arg changed, or which earlier step) when a previous build of the same step is known.
"""

import os
import time

from dockyard import dockerfile as D
from dockyard.build import steps as ST
from dockyard.build.options import BuildOptions, BuildResult, Events
from dockyard.errors import InvalidArgument, Unsupported
from dockyard.fastjson import dumps
from dockyard.oci import mediatypes as mt

OUTPUT_TAIL = 20  # lines of a failed RUN's output in its error


def _h(*parts: str) -> str:
    from dockyard.digest import sha256_bytes  # small input: not OpenSSL's hashlib (~2 ms)

    return sha256_bytes("\x00".join(parts).encode())[7:]


def _key_json(value) -> str:
    """`json.dumps(value, sort_keys=True)`: the text cache keys hash and rows keep."""
    return dumps(value, sort_keys=True, separators=(", ", ": "))


class Stage:
    """A stage's state while it is built."""

    def __init__(self, key: str, config, layers: list, chain: str, base_id: str):
        self.key = key
        self.config = config  # ImageConfig
        self.layers = layers  # Descriptors
        self.chain = chain
        self.base_id = base_id
        self.cmd_set = False
        self.pending = None  # a copy layer still being written (build.deferred)


class Builder:
    def __init__(self, opts: BuildOptions, stores, lease, cache, resolve_base, events=None,
                 reopen=None, records=None):  # fmt: skip
        from dockyard.build.durability import Records

        self.opts = opts
        # step results held back until one flush puts this build's layers on disk; with
        # records passed in, the caller flushes them (just before it records the image)
        self.records = records if records is not None else Records()
        self._flush_at_end = records is None
        # () -> (stores, cache, resolve_base) opened afresh: what a forked stage builder
        # uses instead of the parent's sqlite connections; None builds stages one by one
        self.reopen = reopen
        self.stores = stores
        self.lease = lease
        self.cache = cache  # BuildCacheDB
        self.resolve_base = resolve_base  # name -> BaseImage
        self.events = events or Events()
        self._bases: dict[str, object] = {}
        self._steps: list[list] = []
        self._bpf = None
        self._caps = None
        self._sc = None  # linux.syscalls.Syscalls, prepared with the security settings
        self._built: dict = {}
        self._stages: list = []
        self._dl_dir = ""  # downloads of ADD <url>, removed after the build
        self._downloads: dict = {}  # (url, checksum) -> fetch.Download
        self._unpinned = False  # an ADD <url> without --checksum was used
        self._defer = False  # the step being built is followed by a RUN
        self.ctx = None  # the BuildContext, once the Dockerfile is evaluated
        self._cgroup = None  # a RUN step's cgroup set up ahead (see cgroup_ahead)
        self.created = self._now()

    # -- helpers --------------------------------------------------------------------------

    def _now(self) -> str:
        ns = time.time_ns()
        if self.opts.source_date_epoch is not None:
            ns = self.opts.source_date_epoch * 1_000_000_000
        secs, frac = divmod(ns, 1_000_000_000)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
        return text + ("." + f"{frac:09d}".rstrip("0") if frac else "") + "Z"

    def _base(self, name: str):
        if name not in self._bases:
            self._bases[name] = self.resolve_base(name)
        return self._bases[name]

    def lowers_of(self, chain: str) -> list[str]:
        return self.stores.snapshots.lowerdirs(chain) if chain else []

    def _workdir(self) -> str:
        root = os.path.join(self.opts.tmp_dir, "build-" + os.urandom(8).hex())
        os.makedirs(root, 0o700)
        return root

    # -- the build ------------------------------------------------------------------------

    def build(self) -> BuildResult:
        ok = False
        try:
            result = self._build()
            ok = True
        finally:
            if self._dl_dir:
                _remove(self._dl_dir)
            if self.ctx is not None:
                self.ctx.drop_stash()
            unused = self._take_cgroup()
            if unused is not None:
                try:
                    unused.__exit__(None, None, None)
                except Exception:
                    pass  # named after this process: a later build sweeps it once we are gone
            if not ok:  # the steps that succeeded stay cached
                self.records.flush_quietly(self.stores, self.cache)
        if self._flush_at_end:
            self.records.flush(self.stores, self.cache)
        return result

    def _lookup(self, key: str):
        if self.opts.no_cache:
            return None
        return self.records.get(key) or self.cache.get(key)

    def _build(self) -> BuildResult:
        from dockyard.build.context import BuildContext, read_dockerignore

        t0 = time.monotonic()
        df = D.parse(self.opts.dockerfile)
        if not df.stages:
            raise InvalidArgument("Dockerfile: file with no instructions")
        args = dict(self.opts.build_args)

        def base_env(image: str, platform):
            if image.lower() == "scratch":
                return {}
            return ST.env_dict(self._base(image).config.config.env)

        stages = D.evaluate(df, args, base_env=base_env)
        from dockyard.build.triggers import with_triggers as add_triggers

        with_triggers = add_triggers(df, stages, self._base)
        if with_triggers is not df:
            df = with_triggers
            stages = D.evaluate(df, args, base_env=base_env)
        graph = D.stage_graph(df, [s.base for s in stages])
        needed = sorted(graph.needed(self.opts.target))
        total = sum(1 + len(stages[i].steps) for i in needed)
        self.ctx = BuildContext(self.opts.context_dir, read_dockerignore(self.opts.context_dir),
                                self.cache, self.opts.tmp_dir)  # fmt: skip
        waves = graph.order(self.opts.target)
        first, number = {}, 1  # steps are numbered in the order they are built
        for i in (i for wave in waves for i in wave):
            first[i], number = number, number + 1 + len(stages[i].steps)
        built: dict[int, Stage] = {}
        steps_of: dict[int, list] = {}
        plan = (first, total, df, stages, built, steps_of)
        for wave in waves:
            if len(wave) > 1 and self.reopen is not None:
                from dockyard.build.parallel import build_wave

                build_wave(self, wave, plan)
            else:
                for i in wave:
                    built[i] = self.build_stage(i, plan)
        self._steps = [s for wave in waves for i in wave for s in steps_of[i]]
        final = built[needed[-1]]
        self.ctx.save()
        result = self._result(final, df)
        bases = {n: b.image_id for n, b in self._bases.items()}
        if not self._unpinned:  # an unpinned URL must be fetched again by the next build
            result = result.replace(deps={"bases": bases, "paths": self.ctx.deps,
                                          "steps": self._steps})  # fmt: skip
        self.events.done(time.monotonic() - t0)
        return result

    def build_stage(self, i: int, plan) -> Stage:
        """Build stage `i` on the stages built before it; events go to `self.events`."""
        first, total, df, stages, built, steps_of = plan
        st = stages[i]
        number = first[i]
        self.events.step(number, total, df.stages[i].from_.original)
        steps = steps_of[i] = [[df.stages[i].from_.original, False]]
        state = self._from(st, built, stages)
        for j, step in enumerate(st.steps):
            inst = step.instruction
            self.events.step(number + 1 + j, total, inst.original)
            steps.append([inst.original, isinstance(inst, (D.Run, D.Copy, D.Add))])
            nxt = st.steps[j + 1].instruction if j + 1 < len(st.steps) else None
            self._defer = isinstance(nxt, D.Run)  # a copy's tar can be written meanwhile
            self._step(state, step, (i, j), built, stages)
        return state

    def _from(self, st, built: dict, stages) -> Stage:
        from dockyard.oci.image import ContainerConfig, ImageConfig

        name = st.base
        for k, prev in built.items():
            if stages[k].name and stages[k].name == name.lower():
                s = Stage(prev.key, prev.config, list(prev.layers), prev.chain, prev.base_id)
                return s
        if name.lower() == "scratch":
            plat = D.host_platform()
            cfg = ImageConfig(
                architecture=plat.architecture,
                os=plat.os,
                variant=plat.variant,
                config=ContainerConfig(
                    env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
                ),
            )
            return Stage(_h("scratch"), cfg, [], "", "")
        base = self._base(name)
        cfg = base.config
        if cfg.config.on_build:  # run at the start of this stage; not inherited further
            cfg = cfg.with_config(on_build=None)
        if not cfg.config.env:
            cfg = cfg.with_config(
                env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
            )
        return Stage(_h("image", base.image_id), cfg, list(base.layers), base.chain, base.image_id)

    def _history(self, state: Stage, text: str, empty: bool) -> None:
        from dockyard.oci.image import History

        h = History(created=self.created, created_by=text, comment="buildkit.dockerfile.v0",
                    empty_layer=empty)  # fmt: skip
        state.config = state.config.replace(history=(*state.config.history, h))

    def _step(self, state: Stage, step, pos: tuple[int, int], built: dict, stages) -> None:
        inst = step.instruction
        canon = repr(inst.replace(line=0, end_line=0))
        if isinstance(inst, D.Arg):
            # values reach the key where they are used: expanded into an instruction, or
            # in a RUN's environment (BuildKit: an unused arg change keeps the cache)
            state.key = _h(state.key, "ARG", inst.original)
            return
        from dockyard.build.why import why_rebuilt

        if not isinstance(inst, (D.Run, D.Copy, D.Add)):
            cfg, state.cmd_set = ST.apply(state.config.config, inst, state.cmd_set)
            state.config = state.config.replace(config=cfg)
            if isinstance(inst, D.Maintainer):
                state.config = state.config.replace(author=inst.maintainer)
            state.key = _h(state.key, canon)
            self._history(state, ST.created_by(inst), True)
            return
        if isinstance(inst, D.Run):
            files = {}
            if step.mounts:
                from dockyard.build.runmounts import bind_inputs

                self._built, self._stages = built, stages
                files = bind_inputs(self, step.mounts, inst.line)
            inputs = {"args": dict(sorted(step.build_args.items())), "files": files}
        else:
            inputs = {"args": {}, "files": self._copy_inputs(state, inst, built, stages)}
        parent_key = state.key
        key = _h(parent_key, canon, _key_json(inputs))
        slot = _h(self.ctx.root, str(pos), inst.original)
        inputs["parent"] = parent_key
        entry = self._lookup(key)
        if entry is not None and state.pending is not None:
            from dockyard.build import deferred

            deferred.settle(self, state)
        if entry is not None and self._usable(state, entry):
            self.events.cached()
            self.cache.touch(key)
            self._add_layer(state, entry.diff_id, entry.blob_digest, entry.blob_size)
        else:
            self.events.reason(why_rebuilt(self.opts.no_cache, self.cache, slot, inputs, entry))
            if isinstance(inst, D.Run):
                layer, text = self._run(state, step)
                self.record_layer(state, key, slot, inputs, text, layer)
            elif self._defer:
                self._copy(state, inst, built, stages, (key, slot, inputs))
            else:
                layer, text = self._copy(state, inst, built, stages)
                self.record_layer(state, key, slot, inputs, text, layer)
        state.key = key
        if isinstance(inst, D.Run):
            self._history(state, ST.created_by(inst, self._argv(state, inst)[0],
                                               step.build_args), False)  # fmt: skip
        else:
            self._history(state, ST.created_by(inst), False)

    def record_layer(self, state: Stage, key: str, slot: str, inputs: dict, text: str,
                     layer) -> None:  # fmt: skip
        """A step's new layer: a GC root of the cache and a cache entry (both written once
        the layer is on disk, see build.durability), the stage's top."""
        self.records.add_layer(key, slot, layer,
                               _key_json({**inputs, "chain": layer.chain}),
                               text)  # fmt: skip
        self._add_layer(state, layer.diff_id, layer.blob_digest, layer.blob_size)

    def _usable(self, state: Stage, entry) -> bool:
        from dockyard.oci.ids import chain_id

        chain = chain_id(state.chain, entry.diff_id)
        return self.stores.content.has(entry.blob_digest) and (
            self.stores.snapshots.get(chain) is not None
        )

    def _add_layer(self, state: Stage, diff_id: str, blob: str, size: int) -> None:
        from dockyard.oci.descriptor import Descriptor
        from dockyard.oci.ids import chain_id

        self.lease.add("content", blob)
        state.chain = chain_id(state.chain, diff_id)
        self.lease.add("snapshot", state.chain)
        state.layers.append(Descriptor(mt.OCI_LAYER, blob, size))
        state.config = state.config.replace(diff_ids=(*state.config.diff_ids, diff_id))

    # -- RUN ------------------------------------------------------------------------------

    def _argv(self, state: Stage, inst) -> tuple[list[str], bytes | None]:
        if not inst.shell:
            return list(inst.command), None
        shell = list(ST.shell_of(state.config.config))
        cmd = inst.command[0] if inst.command else ""
        if inst.heredocs:
            doc = inst.heredocs[0]
            if cmd.strip() in (f"<<{doc.name}", f"<<-{doc.name}", f"<<'{doc.name}'",
                               f'<<"{doc.name}"', f"<<-'{doc.name}'"):  # fmt: skip
                return [*shell, doc.content], None
            return [*shell, cmd], doc.content.encode()
        return [*shell, cmd], None

    def _run(self, state: Stage, step):
        from dockyard.build import deferred

        try:
            return self._run_on(state, step, deferred.lowers(self, state))
        finally:
            deferred.abandon(state)  # still pending: the step failed before it was settled

    def _run_on(self, state: Stage, step, lowers: list[str]):
        from dockyard.build import deferred, layers, run
        from dockyard.build.copy import Writer
        from dockyard.build.merged import MergedView

        inst = step.instruction
        cfg = state.config.config
        argv, stdin_data = self._argv(state, inst)
        env = list(cfg.env or ())
        have = {e.partition("=")[0] for e in env}
        for k, v in {**step.build_args, **step.proxy}.items():
            if k not in have:
                env.append(f"{k}={v}")
        uid = gid = groups = None
        if cfg.user:
            uid, gid, groups = self._user(lowers, cfg.user, inst.line)
        self.security()
        work_root = self._workdir()
        cwd = cfg.working_dir or "/"
        tail: list[bytes] = []

        def output(data: bytes) -> None:
            tail.append(data)
            if len(tail) > 256:
                del tail[:128]
            self.events.output(data)

        try:
            network = "host" if self.opts.network == "host" or inst.network == "host" else "none"
            pre = os.path.join(work_root, "upper-pre")
            os.mkdir(pre, 0o755)
            view = MergedView(lowers)
            if view.stat(cwd) is None:  # Docker creates a missing working dir
                Writer(pre, view, None, None).ensure_dir(view.resolve(cwd))
            if step.mounts:
                from dockyard.build import runmounts

                prepared = runmounts.prepare(self, state, step, work_root,
                                             MergedView([pre, *lowers]), cwd)  # fmt: skip
                env.extend(prepared.env)
            try:
                code, upper = run.run_prepared(argv, env, cwd, lowers, work_root, pre, uid,
                                               gid, groups, self._bpf, self._caps, network,
                                               stdin_data, output,
                                               prepared.mounts if step.mounts else (),
                                               self._take_cgroup(), self._sc,
                                               lambda: deferred.begin(state))  # fmt: skip
            finally:
                if step.mounts:
                    prepared.release()
            if step.mounts:
                runmounts.remove_stubs(prepared, upper)
            deferred.settle(self, state)  # the copy below (its chain id is needed now)
            if code != 0:
                text = b"".join(tail).decode(errors="replace").rstrip("\n").splitlines()
                shown = "\n".join(text[-OUTPUT_TAIL:])
                raise run.RunFailed(
                    f"Dockerfile:{inst.line}: {inst.original.splitlines()[0]}: process "
                    f'"{" ".join(argv)}" did not complete successfully: exit code: {code}'
                    + (f"\n{shown}" if shown else "")
                )
            layer = layers.commit(self.stores, self.lease, state.chain, upper,
                                  self.opts.source_date_epoch)  # fmt: skip
        finally:
            _remove(work_root)
        return layer, " ".join(argv)

    def cgroup_ahead(self) -> None:
        """Set up the next RUN step's cgroup now (see build.warm); `_take_cgroup` hands it
        to the step, the end of the build removes one no step took."""
        if self._cgroup is None:
            from dockyard.build.run import StepCgroup

            self._cgroup = (os.getpid(), StepCgroup().__enter__())

    def _take_cgroup(self):
        """The cgroup set up ahead, or None (also in a forked stage builder: it is the
        parent's to use or remove)."""
        ahead, self._cgroup = self._cgroup, None
        return ahead[1] if ahead is not None and ahead[0] == os.getpid() else None

    def security(self) -> None:
        """The capabilities and the seccomp program of RUN steps, and the prepared
        `Syscalls` their inits are cloned with (once per build)."""
        if self._caps is None:
            from dockyard.build import run
            from dockyard.linux.syscalls import Syscalls

            self._caps = run.default_caps()
            self._bpf = run.seccomp_bpf(self.opts.data_root, self._caps)
            self._sc = Syscalls()
            self._sc.prepare()

    def _user(self, lowers, user: str, line: int):
        from dockyard.build.merged import MergedView
        from dockyard.build.users import resolve_user

        return resolve_user(MergedView(lowers), user, line)

    # -- COPY / ADD -----------------------------------------------------------------------

    def _from_view(self, inst, built: dict, stages):
        """(MergedView, key) of a COPY --from source, or (None, "") for the context."""
        src = inst.from_ if isinstance(inst, D.Copy) else ""
        if not src:
            return None, ""
        return self._named_view(src, inst.line, built, stages)

    def mount_view(self, name: str, line: int):
        """The files of the stage or image a RUN --mount from= names."""
        return self._named_view(name, line, self._built, self._stages)[0]

    def mount_key(self, name: str, line: int) -> str:
        return self._named_view(name, line, self._built, self._stages)[1]

    def _named_view(self, src: str, line: int, built: dict, stages):
        from dockyard.build.merged import MergedView

        for k, prev in built.items():
            if (stages[k].name and stages[k].name == src.lower()) or src == str(k):
                return MergedView(self.lowers_of(prev.chain)), prev.key
        if src.isdigit():
            raise InvalidArgument(f"Dockerfile:{line}: invalid stage index {src}")
        base = self._base(src)
        return MergedView(self.lowers_of(base.chain)), base.image_id

    def _copy_inputs(self, state: Stage, inst, built: dict, stages) -> dict:
        view, key = self._from_view(inst, built, stages)
        if view is not None:
            return {"from": key}
        from dockyard.build import addurl, fetch

        files: dict[str, str] = {}
        for src in inst.sources:
            if isinstance(inst, D.Add) and fetch.is_git(src):
                raise Unsupported(
                    f"Dockerfile:{inst.line}: ADD from a git repository is not supported"
                )
            if isinstance(inst, D.Add) and fetch.is_url(src):
                files["url:" + src] = addurl.url_key(self, inst, src)
                continue
            if isinstance(inst, D.Add) and inst.checksum:
                raise InvalidArgument(
                    f"Dockerfile:{inst.line}: checksum can't be specified for non-HTTP(S) sources"
                )
            stash = isinstance(inst, D.Copy)  # its files are copied on a miss (ADD may unpack)
            if stash and self._defer:  # while a changed file is hashed, get the RUN ready
                from dockyard.build.warm import prepare_run

                self.ctx.meanwhile = lambda: prepare_run(self)
            try:
                for rel in self.ctx.resolve(src, inst.line):
                    files.update(self.ctx.fingerprint(self.ctx.walk(rel), stash))
            finally:
                self.ctx.meanwhile = None
        for c in inst.contents:
            files["<<" + c.path] = _h(c.data)
        return files

    def _copy(self, state: Stage, inst, built: dict, stages, defer: tuple = ()):
        """Write the layer of a COPY/ADD and commit it — or, with `defer` (the step's
        key, slot, inputs), leave its blob to be written while the next step runs."""
        from dockyard.build import copy as C
        from dockyard.build import layers
        from dockyard.build.merged import MergedView

        lowers = self.lowers_of(state.chain)
        view = MergedView(lowers)
        owner = C.parse_chown(inst.chown, view, inst.line)
        chmod = C.parse_chmod(inst.chmod, inst.line)
        work_root = self._workdir()
        try:
            layer_dir = os.path.join(work_root, "layer")
            os.mkdir(layer_dir, 0o755)
            w = C.Writer(layer_dir, view, owner, chmod)
            parts, is_dir = C.dest_parts(view, inst.dest, state.config.config.working_dir)
            n_sources = len(inst.sources) + len(inst.contents)
            if n_sources > 1 and not is_dir:
                raise InvalidArgument(
                    f"Dockerfile:{inst.line}: When using {inst.keyword} with more than one "
                    "source file, the destination must be a directory and end with a /"
                )
            src_view, _ = self._from_view(inst, built, stages)
            for src in inst.sources:
                if isinstance(inst, D.Add) and src.startswith(("http://", "https://")):
                    from dockyard.build import addurl

                    addurl.add_url(self, w, inst, src, parts, is_dir)
                elif src_view is None:
                    C.copy_context(self.ctx, w, inst, src, parts, is_dir)
                else:
                    C.copy_view(w, inst, src_view, src, parts, is_dir)
            for c in inst.contents:
                target = [*parts, *[p for p in c.path.split("/") if p]] if is_dir else parts
                w.put_data(target, c.data.encode(), 0o644)
            if defer:
                from dockyard.build import deferred

                deferred.start(self, state, layer_dir, work_root, defer, inst.original)
                work_root = ""  # the pending layer owns it now
                return None, inst.original
            layer = layers.commit(self.stores, self.lease, state.chain, layer_dir,
                                  self.opts.source_date_epoch)  # fmt: skip
        finally:
            if work_root:
                _remove(work_root)
        return layer, inst.original

    # -- the image ------------------------------------------------------------------------

    def _result(self, final: Stage, df) -> BuildResult:
        from dockyard import digest

        size = 0
        for d in final.layers:
            rec = self.stores.meta.layer_for_blob(d.digest)
            size += rec.size if rec is not None else 0
        # The same steps from the cache give the same image (created times included).
        key = _h("image", final.key, _key_json(self.opts.labels),
                 str(self.opts.source_date_epoch))  # fmt: skip
        entry = self._lookup(key)
        if entry is not None and self.stores.content.has(entry.blob_digest):
            from dockyard.oci.image import parse_image_config

            data = self.stores.content.read(entry.blob_digest)
            self.lease.add("content", entry.blob_digest)
            created = parse_image_config(data).created
            return BuildResult(data, tuple(final.layers), created, size, final.base_id)
        result = self._new_result(final, size)
        image_id = digest.sha256_bytes(result.config_bytes)
        self.records.add(key, "image", image_id, image_id, len(result.config_bytes), 0, "{}",
                         "image")  # fmt: skip
        return result

    def _new_result(self, final: Stage, size: int) -> BuildResult:
        cfg = final.config
        if self.opts.labels:
            labels = dict(cfg.config.labels or {})
            labels.update(self.opts.labels)
            cfg = cfg.with_config(labels=labels)
        cfg = cfg.replace(created=self.created)
        return BuildResult(cfg.to_bytes(), tuple(final.layers), self.created, size,
                           final.base_id)  # fmt: skip


def _remove(path: str) -> None:
    from dockyard.build.copy import remove_tree

    remove_tree(path)


def build(opts: BuildOptions, stores, lease, cache, resolve_base, events=None,
          reopen=None, records=None) -> BuildResult:  # fmt: skip
    """Build the image `opts` describes; the caller records it. With `reopen`, stages that
    do not depend on each other are built at the same time (see `build.parallel`). The
    layers are not flushed one by one: without `records` the build flushes once at its end;
    with a `build.durability.Records` the caller calls its `flush` before it records the
    image (the build still flushes them itself when it fails)."""
    if opts.network not in ("none", "host", "default"):
        raise InvalidArgument(f"network mode {opts.network!r} not supported by the builder")
    return Builder(opts, stores, lease, cache, resolve_base, events, reopen, records).build()
