"""DistributionService: pull, push, login and logout against registries.

Pull resolves a reference (tag or digest; an index narrowed to one platform), downloads the
missing layers three at a time into the content store (resumable, digest-checked) and unpacks
each one as soon as it and the layers below it are there; the image record, its tag and its
repo digest (`name@sha256:...` of what the tag pointed at) appear together at the end, so a
failed pull leaves no image and no tag. Push sends layers five at a time: a blob the registry
has is skipped (HEAD), one known in another repository of the same registry is mounted, the
rest are uploaded; layers stored uncompressed are gzipped first and the compressed digest is
recorded, so the same image always pushes the same manifest and a re-push uploads nothing
(when the tag already names that manifest, one HEAD sent with the ping ends it).

Progress goes to a callback as `Progress(id, status, current, total)`: `id` is a layer's short
digest, or "" for a line of its own.
"""

from __future__ import annotations

from dockyard.config import Config
from dockyard.errors import DockyardError, InvalidArgument, NotFound, Unsupported
from dockyard.oci import mediatypes as mt
from dockyard.record import Record

PULL_WORKERS = 3
PUSH_WORKERS = 5
TEE_MIN = 1 << 20  # smaller layers are unpacked after their download, not alongside


class Progress(Record):  # Records: no typing import and no code generation at import
    id: str
    status: str
    current: int = 0
    total: int = 0


def _quiet(event: Progress) -> None:
    pass


class PullResult(Record):
    reference: str  # full reference pulled ("docker.io/library/busybox:latest")
    image_id: str
    digest: str  # what the tag pointed at (index or manifest)
    downloaded: bool  # False: the image was already here and up to date


class PushResult(Record):
    reference: str
    digest: str
    size: int


class DistributionService:
    def __init__(
        self,
        config: Config,
        images,
        credentials,
        insecure: tuple[str, ...] = (),
        tls_verify: bool = True,
        certs_dir: str = "",
        proxies=None,
    ):
        self.config = config
        self.images = images  # services.images.ImageService
        self.credentials = credentials  # remote.credentials.CredentialStore
        self.insecure = tuple(insecure)
        self.tls_verify = tls_verify
        self.certs_dir = certs_dir  # certs.d: per-registry CAs and client certificates
        self.proxies = proxies  # remote.proxy.Proxies (from the environment), or None
        self.last_client = None  # the client of the last operation (its request count)

    # -- connections ------------------------------------------------------------------

    def _client(self, domain: str, repository: str, actions: tuple[str, ...]):
        from dockyard.remote.client import RegistryClient
        from dockyard.remote.hosts import credential_key, endpoint_host, is_insecure

        host = endpoint_host(domain)
        insecure = not self.tls_verify or is_insecure(host, self.insecure)
        creds = self.credentials.get(credential_key(domain))
        client = RegistryClient(host, repository, creds, insecure=insecure, actions=actions,
                                tls=self._tls(host), proxies=self.proxies)  # fmt: skip
        self.last_client = client
        return client

    def _tls(self, host: str):
        if not self.certs_dir:
            return None
        from dockyard.remote.certs import tls_files

        return tls_files(host, self.certs_dir) or None

    # -- pull ---------------------------------------------------------------------------

    def pull(
        self,
        ref: str,
        platform: str | None = None,
        all_tags: bool = False,
        progress=None,
    ) -> list[PullResult]:
        from dockyard import reference
        from dockyard.remote.manifests import parse_platform

        progress = progress or _quiet
        named = reference.parse_normalized(ref)
        if all_tags and (named.tag or named.digest):
            raise InvalidArgument("tag can't be used with --all-tags/-a")
        host = _host_platform()
        want = parse_platform(platform, host) if platform else host
        with self._client(named.domain, named.path, ("pull",)) as client:
            if all_tags:
                from dockyard.remote.tags import list_tags

                refs = [named.with_tag(t) for t in list_tags(client)]
                if not refs:
                    raise NotFound(f"repository {named.name} has no tags")
            else:
                refs = [named if named.tag or named.digest else named.with_tag("latest")]
            results = []
            for r in refs:
                results.append(self._pull_one(client, r, want, bool(platform), progress))
        # Docker's last line: one for the whole repository after -a
        subject = named.familiar_name() if all_tags else refs[0].familiar()
        status = ("Downloaded newer image" if any(r.downloaded for r in results)
                  else "Image is up to date")  # fmt: skip
        progress(Progress("", f"Status: {status} for {subject}"))
        return results

    def _pull_one(self, client, ref, want, explicit: bool, progress) -> PullResult:
        from dockyard.oci.manifest import parse_index, parse_manifest
        from dockyard.remote.manifests import fetch_manifest, pick_platform

        top = fetch_manifest(client, ref.digest or ref.tag, ref.digest)
        progress(Progress("", f"{ref.digest or ref.tag}: Pulling from {ref.path}"))
        fetched, docs = top, [top]
        for _ in range(4):
            if fetched.media_type not in mt.INDEXES:
                break
            desc = pick_platform(parse_index(fetched.data, fetched.media_type), want)
            fetched = fetch_manifest(client, desc.digest, desc.digest)
            docs.append(fetched)
        else:
            raise InvalidArgument(f"{ref}: indexes nested too deeply")
        manifest = parse_manifest(fetched.data, fetched.media_type)
        if manifest.config.media_type not in mt.CONFIGS:
            raise Unsupported(
                f"{ref}: not a container image (config media type {manifest.config.media_type})"
            )
        for layer in manifest.layers:
            if layer.media_type not in mt.LAYERS or layer.urls:
                raise Unsupported(f"{ref}: layer {layer.digest} has unsupported media type "
                                  f"{layer.media_type}")  # fmt: skip
        # no flush before the records: the data root is marked for this pull's blobs and
        # snapshots, and one flush after it clears the mark (content.lateflush)
        with self.images.marked_writes(), self.images._lease() as lease:
            # A --platform asked for is checked against a single-platform image too.
            check = want if explicit else None
            image_id, size, downloaded = self._fetch_image(
                client, ref, manifest, docs, check, lease, progress
            )
            changed = self._record_pull(client, ref, top.digest, fetched, image_id, size)
        progress(Progress("", f"Digest: {top.digest}"))
        return PullResult(str(ref), image_id, top.digest, downloaded or changed)

    def _fetch_image(self, client, ref, manifest, docs, want, lease, progress):
        """Config and layers into the stores, unpacked; (image id, size, downloaded anything)."""
        from concurrent.futures import ThreadPoolExecutor

        from dockyard.digest import short_id
        from dockyard.images.unpack import unpack_layers
        from dockyard.oci.image import parse_image_config
        from dockyard.remote.manifests import fetch_small_blob

        content = self.images.content
        cfg_desc = manifest.config
        lease.add("content", cfg_desc.digest)
        if content.has(cfg_desc.digest):
            config_bytes = content.read(cfg_desc.digest, max_size=16 << 20)
        else:
            config_bytes = fetch_small_blob(client, cfg_desc.digest, cfg_desc.size)
        config = parse_image_config(config_bytes)
        if want is not None and (config.os, config.architecture) != want[:2]:
            actual = f"{config.os}/{config.architecture}"
            raise NotFound(f"image with reference {ref} was found but does not match the "
                           f"specified platform: wanted {'/'.join(want[:2])}, actual: {actual}")  # fmt: skip
        layers = list(manifest.layers)
        diff_ids = list(config.diff_ids)
        if len(layers) != len(diff_ids):
            raise InvalidArgument(
                f"image has {len(layers)} layers but its config lists {len(diff_ids)} diff ids"
            )
        for layer in layers:
            lease.add("content", layer.digest)
        stores = self.images._stores()
        downloaded = False
        prepared: dict = {}  # blob digest -> layer unpacked while it downloaded
        with ThreadPoolExecutor(PULL_WORKERS, thread_name_prefix="pull") as pool:
            jobs = []
            for layer in layers:
                sid = short_id(layer.digest)
                if content.has(layer.digest):
                    progress(Progress(sid, "Already exists"))
                    jobs.append(None)
                    continue
                progress(Progress(sid, "Pulling fs layer"))
                jobs.append(layer)
            queued = 0
            for i, layer in enumerate(layers):
                if jobs[i] is None:
                    continue
                queued += 1
                sid = short_id(layer.digest)
                if queued > PULL_WORKERS:  # said before the submit: no worker reports first
                    progress(Progress(sid, "Waiting"))
                jobs[i] = pool.submit(self._download, client, content, layer, sid, progress)
            try:
                sizes = []
                for i, (layer, job) in enumerate(zip(layers, jobs, strict=True)):
                    if job is not None:
                        early = job.result()
                        if early is not None:
                            prepared[layer.digest] = early
                        downloaded = True
                        sid = short_id(layer.digest)
                        # Unpacked alongside the download (early) or now: the bar starts full
                        # or empty, as the bytes have been read or are about to be.
                        done = layer.size if early is not None else 0
                        progress(Progress(sid, "Extracting", done, layer.size))
                    sizes = unpack_layers(
                        stores, layers[: i + 1], diff_ids[: i + 1], lease, prepared, durable=False
                    )
                    if job is not None:
                        if done < layer.size:
                            progress(Progress(sid, "Extracting", layer.size, layer.size))
                        progress(Progress(sid, "Pull complete"))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                for job in jobs:  # layers unpacked on the side that nobody will use now
                    done = job is not None and not job.cancelled() and job.exception() is None
                    if done and job.result() is not None:
                        job.result().discard()
                raise
            finally:
                for early in prepared.values():
                    early.discard()
        content.put(config_bytes, cfg_desc.digest, durable=False)
        for doc in docs:
            lease.add("content", doc.digest)
            content.put(doc.data, doc.digest, durable=False)
        return cfg_desc.digest, sum(sizes), downloaded

    def _download(self, client, content, layer, sid: str, progress):
        """Download one layer, unpacking it on the side as it arrives; the unpacked layer
        (pipeunpack.BackgroundApply, its diff id measured) or None."""
        from dockyard.remote.transfer import download_blob

        def report(done: int, total: int) -> None:
            progress(Progress(sid, "Downloading", done, total))
            if done == total:  # all bytes in: the digest is checked before it is stored
                progress(Progress(sid, "Verifying Checksum"))

        tee = _Tee(self.config.tmp_dir) if layer.size >= TEE_MIN else None
        try:
            got = download_blob(client, content, layer.digest, layer.size, report, tee, False)
        except BaseException:
            if tee is not None:
                tee.spec.discard()
            raise
        progress(Progress(sid, "Download complete"))
        if tee is None:
            return None
        if not got:  # another process stored it meanwhile: nothing went through the tee
            tee.spec.discard()
            return None
        return tee.result()

    def _record_pull(self, client, ref, top_digest, fetched, image_id, size) -> bool:
        from dockyard.images.record import publish
        from dockyard.oci.image import parse_image_config
        from dockyard.remote import sources

        meta = self.images.meta
        old = None
        if ref.tag:
            try:
                old = meta.get_tag(str(ref))
            except NotFound:
                old = None
        config = parse_image_config(self.images.content.read(image_id, max_size=16 << 20))
        tags = [str(ref)] if ref.tag else []
        with meta.transaction():
            try:
                existed = meta.get_image(image_id)
            except NotFound:
                existed = None
            publish(meta, image_id, fetched.digest, fetched.media_type, config.created, size, tags)
            meta.add_repo_digest(f"{ref.name}@{top_digest}", image_id)
        manifest_blobs = [image_id] + [d.digest for d in _layers(fetched)]
        sources.record(meta, client.host, client.repository, manifest_blobs)
        return existed is None or (bool(ref.tag) and old != image_id)

    # -- push ---------------------------------------------------------------------------

    def push(self, ref: str, all_tags: bool = False, progress=None) -> list[PushResult]:
        from dockyard import reference

        progress = progress or _quiet
        named = reference.parse_normalized(ref)
        if named.digest:
            raise InvalidArgument("cannot push a digest reference")
        meta = self.images.meta
        if all_tags:
            if named.tag:
                raise InvalidArgument("tag can't be used with --all-tags/-a")
            names = sorted(t for t in meta.list_tags() if t.rpartition(":")[0] == named.name)
            if not names:
                raise NotFound(f"An image does not exist locally with the tag: {named.name}")
            refs = [reference.parse(n) for n in names]
        else:
            refs = [named if named.tag else named.with_tag("latest")]
        for r in refs:
            try:
                meta.get_tag(str(r))
            except NotFound:
                raise NotFound(
                    f"An image does not exist locally with the tag: {r.familiar()}"
                ) from None
        progress(Progress("", f"The push refers to repository [{named.name}]"))
        out = []
        with self._client(named.domain, named.path, ("pull", "push")) as client:
            for r in refs:
                rec = meta.get_image(meta.get_tag(str(r)))
                if _pushed_before(meta, rec, r):
                    # Likely a re-push: what the tag holds is asked now and read once the
                    # manifest to push is known (_push_one), the round trip overlapping that.
                    from dockyard.remote.transfer import start_manifest_digest

                    start_manifest_digest(client, r.tag)
                out.append(self._push_one(client, r, rec, progress))
        return out

    def _push_one(self, client, ref, rec, progress) -> PushResult:
        from dockyard.digest import short_id
        from dockyard.oci.manifest import parse_manifest
        from dockyard.remote import transfer
        from dockyard.remote.pushmanifest import manifest_for

        content = self.images.content
        stored = content.read(rec.manifest_digest, max_size=4 << 20)
        manifest = parse_manifest(stored, rec.manifest_media_type)
        docker = rec.manifest_media_type == mt.DOCKER_MANIFEST
        plans = [self._plan_layer(layer, docker) for layer in manifest.layers]
        for p in plans:
            progress(Progress(short_id(p.local.digest), "Preparing"))
        layers: list = [None] * len(plans)
        known = [i for i, p in enumerate(plans) if p.remote is not None]
        remote = ""
        if len(known) == len(plans):
            # Every layer's blob is known, so is the manifest to push: first ask (along with
            # the ping, one round trip) what the tag holds. When it is this very manifest the
            # push is done: a registry takes a manifest only once it holds every blob the
            # manifest names. The header decides only what to skip, never what to trust.
            candidate = tuple(p.remote for p in plans)
            data, mdigest = manifest_for(stored, rec, manifest, candidate)
            remote = transfer.manifest_digest(client, ref.tag)
            if remote == mdigest:
                for p in plans:
                    progress(Progress(short_id(p.local.digest), "Layer already exists"))
                return self._pushed(client, ref, rec, manifest, candidate, data, mdigest, progress)
        # One round of HEADs, sent at once (no threads: starting them costs more than the
        # round trips).
        digests = [plans[i].remote.digest for i in known] + [manifest.config.digest]
        exist, _ = transfer.blobs_exist(client, digests)
        present = dict(zip(digests, exist, strict=True))
        for i in known:
            if present[plans[i].remote.digest]:
                progress(Progress(short_id(plans[i].local.digest), "Layer already exists"))
                layers[i] = plans[i].remote
        todo = [i for i in range(len(plans)) if layers[i] is None]
        if not present[manifest.config.digest]:
            self._push_config(client, manifest.config)
        if todo:
            self._push_layers(client, plans, todo, layers, progress)
        data, mdigest = manifest_for(stored, rec, manifest, tuple(layers))
        if todo or not present[manifest.config.digest] or remote != mdigest:
            headers = {"Content-Type": rec.manifest_media_type}
            client.request("PUT", f"manifests/{ref.tag}", headers=headers,
                           body=data, ok=(200, 201), what=f"manifest {ref.familiar()}")  # fmt: skip
        return self._pushed(client, ref, rec, manifest, tuple(layers), data, mdigest, progress)

    def _pushed(self, client, ref, rec, manifest, layers, data, mdigest, progress) -> PushResult:
        """Bookkeeping once the registry holds the manifest: the repo digest, where the blobs
        are (for later mounts), and Docker's last line."""
        from dockyard.remote import sources

        meta = self.images.meta
        name_at = f"{ref.name}@{mdigest}"
        if name_at not in meta.repo_digests_for(rec.id):
            meta.add_repo_digest(name_at, rec.id)
        blobs = [manifest.config.digest] + [d.digest for d in layers]
        sources.record(meta, client.host, client.repository, blobs)
        progress(Progress("", f"{ref.tag}: digest: {mdigest} size: {len(data)}"))
        return PushResult(str(ref), mdigest, len(data))

    def _push_layers(self, client, plans, todo: list[int], layers: list, progress) -> None:
        """Push the layers at `todo` (the registry lacks them), five at a time."""
        from concurrent.futures import ThreadPoolExecutor

        from dockyard.digest import short_id

        meta = self.images.meta
        with self.images._lease() as lease:
            workers = min(PUSH_WORKERS, len(todo))
            with ThreadPoolExecutor(workers, thread_name_prefix="push") as pool:
                for i in todo[PUSH_WORKERS:]:  # said first: no worker reports before it
                    progress(Progress(short_id(plans[i].local.digest), "Waiting"))
                jobs = {i: pool.submit(self._push_layer, client, plans[i], lease, progress)
                        for i in todo}  # fmt: skip
                for i, job in jobs.items():
                    layers[i] = job.result()
            for i in todo:
                if plans[i].local.digest != layers[i].digest:
                    self._remember_compressed(meta, plans[i], layers[i])

    def _plan_layer(self, layer, docker: bool):
        """What to push for a stored layer: itself, or the gzip blob recorded for it."""
        if mt.layer_compression(layer.media_type) or layer.media_type not in (
            mt.OCI_LAYER,
            mt.DOCKER_LAYER,
        ):
            return _LayerPlan(layer, layer, docker)
        for rec in self.images.meta.layers_for_diff_id(layer.digest):
            if mt.layer_compression(rec.media_type) == "gzip":
                from dockyard.oci.descriptor import Descriptor

                gz = Descriptor(mt.layer_type("gzip", docker), rec.blob_digest, rec.blob_size)
                return _LayerPlan(layer, gz, docker)
        return _LayerPlan(layer, None, docker)

    def _push_layer(self, client, plan, lease, progress):
        from dockyard.digest import short_id
        from dockyard.oci.descriptor import Descriptor
        from dockyard.remote import transfer

        content = self.images.content
        sid = short_id(plan.local.digest)
        target = plan.remote  # the registry does not have it (checked by the caller)
        if target is None or not content.has(target.digest):
            lease.add("content", plan.local.digest)
            digest, size = transfer.compress_blob(
                content, plan.local.digest, plan.local.size, lease
            )
            target = Descriptor(mt.layer_type("gzip", plan.docker), digest, size)
            if transfer.blob_exists(client, digest):
                progress(Progress(sid, "Layer already exists"))
                return target
        self._send_blob(client, target, sid, progress)
        return target

    def _send_blob(self, client, desc, sid: str, progress, data: bytes | None = None) -> None:
        """Get a blob the registry lacks into it: mounted from a known repository, or uploaded."""
        from dockyard.remote import sources, transfer

        location = ""
        meta = self.images.meta
        for repo in sources.sources(meta, client.host, desc.digest, client.repository):
            try:
                location = transfer.try_mount(client, desc.digest, repo)
            except DockyardError:
                continue  # no pull access there, or the registry refuses mounts: upload
            if not location:
                if sid:
                    progress(Progress(sid, f"Mounted from {repo}"))
                return
            break
        location = location or transfer.start_upload(client)
        if data is not None:
            transfer.upload_bytes(client, location, data, desc.digest)
            return

        def report(done: int, total: int) -> None:
            progress(Progress(sid, "Pushing", done, total))

        path = self.images.content.path(desc.digest)
        transfer.upload_file(client, location, path, desc.digest, desc.size, report)
        progress(Progress(sid, "Pushed"))

    def _push_config(self, client, desc) -> None:
        """Send the config blob (the registry lacks it)."""
        data = self.images.content.read(desc.digest, max_size=16 << 20)
        self._send_blob(client, desc, "", _quiet, data)

    def _remember_compressed(self, meta, plan, desc) -> None:
        from dockyard.metadata.records import LayerRecord

        known = meta.layer_for_blob(plan.local.digest)
        size = known.size if known is not None else plan.local.size
        meta.put_layer(LayerRecord(plan.local.digest, desc.digest, desc.media_type, desc.size,
                                   size))  # fmt: skip

    # -- login / logout -------------------------------------------------------------------

    def login(self, server: str, username: str, password: str) -> str:
        """Check the credentials against the registry, then store them; Docker's message."""
        from dockyard.remote.client import RegistryClient
        from dockyard.remote.credentials import Credentials
        from dockyard.remote.hosts import (
            credential_key,
            endpoint_host,
            is_insecure,
            normalize_server,
        )

        host = endpoint_host(normalize_server(server))
        key = credential_key(server)
        creds = Credentials(username, password)
        if not username:
            creds = self.credentials.get(key)
            if not creds:
                raise InvalidArgument("Cannot perform an interactive login from a "
                                      "non TTY device")  # fmt: skip
        insecure = not self.tls_verify or is_insecure(host, self.insecure)
        with RegistryClient(host, "", creds, insecure=insecure, tls=self._tls(host),
                            proxies=self.proxies) as client:  # fmt: skip
            self.last_client = client
            client.offline = bool(creds.password)
            client.authenticate()
            client.request("GET", "/v2/", ok=(200,), what=f"login to {host}")
            if client.identity_token:
                # As Docker: the token service's refresh token is kept instead of the password.
                creds = Credentials(creds.username, "", client.identity_token)
        self.credentials.store(key, creds)
        return "Login Succeeded"

    def logout(self, server: str) -> str:
        from dockyard.remote.hosts import credential_key

        key = credential_key(server)
        removed = self.credentials.erase(key)
        if not removed and not self.credentials.helper_for(key):
            return f"Not logged in to {key}"
        return f"Removing login credentials for {key}"


class _Tee:
    """Feeds a download into a layer being unpacked on a worker thread (images.pipeunpack);
    stops feeding, without failing the download, if the unpacking fails or is cancelled."""

    def __init__(self, tmp_root: str):
        from dockyard.images.pipeunpack import BackgroundApply

        self.spec = BackgroundApply(tmp_root, raw=True)
        self.live = True

    def put(self, chunk: bytes) -> None:
        if not self.live:
            return
        if self.spec.failed:
            self.live = False
            return
        try:
            self.spec.put(chunk)
        except DockyardError:
            self.live = False

    def cancel(self) -> None:
        self.live = False

    def result(self):
        """The unpacked layer, or None (discarded) when it was cut off or failed."""
        if self.live:
            try:
                self.spec.finish()
                return self.spec
            except DockyardError:
                pass  # not a layer after all, or a bad one: unpacking it again says why
        self.spec.discard()
        return None


class _LayerPlan:
    __slots__ = ("docker", "local", "remote")

    def __init__(self, local, remote, docker: bool):
        self.local = local  # Descriptor as stored
        self.remote = remote  # Descriptor to push (None: compress first)
        self.docker = docker


def _pushed_before(meta, rec, ref) -> bool:
    """Whether the image came from, or went to, `ref`'s repository (it has a repo digest
    there): the one hint, never trusted, that a push may find it all in place."""
    prefix = ref.name + "@"
    return any(d.startswith(prefix) for d in meta.repo_digests_for(rec.id))


def _layers(fetched):
    from dockyard.oci.manifest import parse_manifest

    return parse_manifest(fetched.data, fetched.media_type).layers


def _host_platform() -> tuple[str, str, str]:
    from dockyard.images.importer import host_platform

    return host_platform(None)
