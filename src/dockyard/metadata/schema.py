"""The database schema as an ordered list of migrations, and the code that applies them.

`PRAGMA user_version` is the number of migrations applied. Each migration runs in its own
`BEGIN IMMEDIATE` transaction that re-reads the version first, so several processes opening
a fresh data root at once apply every step exactly once. A database whose version is higher
than the code knows was written by a newer dockyard and is refused rather than guessed at.

To change the schema, append a migration; never edit one that has shipped. Planned next:
containers, volumes, networks, events, build cache (each its own migration when its package
lands, so a table exists only once something writes it).
"""

from dockyard.errors import FailedPrecondition

# Each entry is one migration: the statements that take the schema from version i to i + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE images (
            id TEXT PRIMARY KEY,
            manifest_digest TEXT NOT NULL,
            manifest_media_type TEXT NOT NULL,
            created TEXT NOT NULL,
            size INTEGER NOT NULL,
            added_at REAL NOT NULL,
            parent TEXT NOT NULL DEFAULT ''
        ) WITHOUT ROWID""",
        """CREATE TABLE tags (
            name TEXT PRIMARY KEY,
            image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
        ) WITHOUT ROWID""",
        "CREATE INDEX tags_by_image ON tags(image_id)",
        """CREATE TABLE repo_digests (
            name TEXT PRIMARY KEY,
            image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
        ) WITHOUT ROWID""",
        "CREATE INDEX repo_digests_by_image ON repo_digests(image_id)",
        # A compressed blob decompresses to exactly one diff id; a diff id may have several
        # blobs (gzip, zstd, uncompressed), so the blob is the key.
        """CREATE TABLE layers (
            blob_digest TEXT PRIMARY KEY,
            diff_id TEXT NOT NULL,
            media_type TEXT NOT NULL,
            blob_size INTEGER NOT NULL,
            size INTEGER NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX layers_by_diff_id ON layers(diff_id)",
        """CREATE TABLE snapshots (
            key TEXT PRIMARY KEY,
            parent TEXT NOT NULL,
            dir TEXT NOT NULL,
            size INTEGER NOT NULL,
            created REAL NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX snapshots_by_parent ON snapshots(parent)",
        # Monotonic counters (snapshot directory numbers are never reused).
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
        """CREATE TABLE leases (
            id TEXT PRIMARY KEY,
            expires_at REAL NOT NULL,
            created REAL NOT NULL
        ) WITHOUT ROWID""",
        """CREATE TABLE lease_resources (
            lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            PRIMARY KEY (lease_id, kind, ref)
        ) WITHOUT ROWID""",
    ),
    # 2: containers (runtime). Times are unix nanoseconds (0: never); spec is the
    # runtime's ContainerSpec as JSON; sup_* identify the supervisor process.
    (
        """CREATE TABLE containers (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            image TEXT NOT NULL,
            image_id TEXT NOT NULL,
            snapshot TEXT NOT NULL,
            created INTEGER NOT NULL,
            state TEXT NOT NULL,
            pid INTEGER NOT NULL DEFAULT 0,
            sup_pid INTEGER NOT NULL DEFAULT 0,
            sup_start TEXT NOT NULL DEFAULT '',
            exit_code INTEGER NOT NULL DEFAULT 0,
            error TEXT NOT NULL DEFAULT '',
            started INTEGER NOT NULL DEFAULT 0,
            finished INTEGER NOT NULL DEFAULT 0,
            oom_killed INTEGER NOT NULL DEFAULT 0,
            restart_count INTEGER NOT NULL DEFAULT 0,
            spec TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX containers_by_image ON containers(image_id)",
    ),
    # 3: where pulled or pushed blobs are known to live (remote), for cross-repository mounts.
    (
        """CREATE TABLE blob_sources (
            blob_digest TEXT NOT NULL,
            registry TEXT NOT NULL,
            repository TEXT NOT NULL,
            seen REAL NOT NULL,
            PRIMARY KEY (blob_digest, registry, repository)
        ) WITHOUT ROWID""",
    ),
    # 4: the build cache (build/): one row per layer a build step made, keyed by the step's
    # cache key; `slot` groups the results of "the same step" across builds so that a miss
    # can say which input changed. build_checksums caches context file digests.
    (
        """CREATE TABLE build_cache (
            key TEXT PRIMARY KEY,
            slot TEXT NOT NULL,
            diff_id TEXT NOT NULL,
            blob_digest TEXT NOT NULL,
            blob_size INTEGER NOT NULL,
            size INTEGER NOT NULL,
            inputs TEXT NOT NULL,
            description TEXT NOT NULL,
            created REAL NOT NULL,
            last_used REAL NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX build_cache_by_slot ON build_cache(slot, created)",
        """CREATE TABLE build_checksums (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            inode INTEGER NOT NULL,
            digest TEXT NOT NULL
        ) WITHOUT ROWID""",
    ),
    # 5: volumes (metadata.volumes). labels and options are JSON objects; created is unix
    # ns. volume_refs says which container mounts which volume: no foreign keys, as the
    # container store deletes without them; "in use" joins with the containers table.
    (
        """CREATE TABLE volumes (
            name TEXT PRIMARY KEY,
            driver TEXT NOT NULL,
            labels TEXT NOT NULL,
            options TEXT NOT NULL,
            created INTEGER NOT NULL,
            anonymous INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID""",
        """CREATE TABLE volume_refs (
            container_id TEXT NOT NULL,
            volume TEXT NOT NULL,
            PRIMARY KEY (container_id, volume)
        ) WITHOUT ROWID""",
        "CREATE INDEX volume_refs_by_volume ON volume_refs(volume)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def check_version(version: int, path: str, supported: int = SCHEMA_VERSION) -> None:
    if version > supported:
        raise FailedPrecondition(
            f"metadata database {path} has schema version {version}, newer than this "
            f"dockyard supports ({supported}); upgrade dockyard"
        )


def migrate(conn, path: str, migrations: tuple[tuple[str, ...], ...] = MIGRATIONS) -> int:
    """Apply every missing migration, one transaction each; return the final version.

    `conn` must be in autocommit mode (isolation_level=None) and outside a transaction.
    """
    target = len(migrations)
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = user_version(conn)
            check_version(version, path, target)
            if version >= target:
                conn.execute("COMMIT")
                return version
            for statement in migrations[version]:
                conn.execute(statement)
            # PRAGMA cannot take a bound parameter; the value is our own integer.
            conn.execute(f"PRAGMA user_version = {version + 1:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
