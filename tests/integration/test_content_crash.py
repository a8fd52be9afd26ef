"""The content store survives SIGKILL at any moment: a child process ingests blobs in a loop and is
killed again and again; after every kill only complete, verified blobs are visible, every blob the
child finished is there, and the interrupted write resumes (or restarts) cleanly.

Run as a script (`python test_content_crash.py ROOT SEED PROGRESS PAUSE`) it is the child.
"""

import hashlib
import io
import os
import random
import signal
import subprocess
import sys
import time

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
ROUNDS = 30
HEX = frozenset("0123456789abcdef")


def item(seed: int, i: int) -> tuple[bytes, str]:
    """The i-th blob of a child run: the same bytes in the child and in the parent."""
    rng = random.Random(f"{seed}:{i}")
    r = rng.random()
    if r < 0.05:
        size = 0
    elif r < 0.15:
        size = rng.randrange(5 << 20, 7 << 20)  # long enough for the side-thread hash
    else:
        size = rng.randrange(1, 1 << 20)
    data = rng.randbytes(size)
    return data, "sha256:" + hashlib.sha256(data).hexdigest()


def ref_of(seed: int, i: int) -> str:
    return f"crash-{seed}-{i}"


def child(root: str, seed: int, progress: str, pause: bool) -> None:
    from dockyard.content import ContentStore

    store = ContentStore(root)
    with open(progress, "a", buffering=1) as log:
        log.write("ready\n")
        _ingest_forever(store, seed, log, pause)


def _ingest_forever(store, seed: int, log, pause: bool) -> None:
    i = 0
    while True:
        data, d = item(seed, i)
        log.write(f"start {i}\n")
        if i % 2 == 0:
            store.ingest(io.BytesIO(data), d, len(data))
        else:
            with store.writer(ref_of(seed, i), d, len(data)) as w:
                pos = w.offset
                step = max(1, len(data) // 7)
                while pos < len(data):
                    w.write(data[pos : pos + step])
                    pos += step
                    if pause and pos >= len(data) // 2 and len(data) > 1:
                        log.write(f"mid {i} {w.offset}\n")
                        time.sleep(600)  # the parent kills us here, mid-write
                w.commit()
        log.write(f"done {i}\n")
        i += 1


def read_progress(path: str) -> list[str]:
    with open(path) as f:
        return f.read().splitlines()


def wait_for(path: str, prefix: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(line.startswith(prefix) for line in read_progress(path)):
            return
        time.sleep(0.005)
    raise AssertionError(f"child never reported {prefix!r}: {read_progress(path)[-5:]}")


def check_blobs(root: str) -> int:
    """Everything under blobs/ is a final blob that hashes to its name; return how many."""
    blobs = os.path.join(root, "blobs")
    if not os.path.exists(blobs):
        return 0
    assert os.listdir(blobs) == ["sha256"]
    count = 0
    for dirpath, dirnames, filenames in os.walk(blobs):
        if dirpath == blobs:
            continue
        assert dirnames == [], f"unexpected directories under {dirpath}: {dirnames}"
        for name in filenames:
            assert len(name) == 64 and HEX.issuperset(name), f"temp or foreign file {name}"
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                assert hashlib.sha256(f.read()).hexdigest() == name, f"corrupt blob {name}"
            assert os.stat(path).st_mode & 0o777 == 0o444
            count += 1
    return count


def test_sigkill_at_random_moments(tmp_path):
    from dockyard import errors
    from dockyard.content import ContentStore

    root = str(tmp_path / "content")
    store = ContentStore(root)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))
    rng = random.Random(1234)
    resumed_mid_write = 0
    for seed in range(ROUNDS):
        progress = str(tmp_path / f"progress-{seed}")
        open(progress, "w").close()
        pause = seed % 3 == 0  # every third round is killed mid-write for certain
        proc = subprocess.Popen(
            [sys.executable, __file__, root, str(seed), progress, str(int(pause))], env=env
        )
        try:
            if pause:
                wait_for(progress, "mid ")
            else:
                wait_for(progress, "ready")
                time.sleep(rng.uniform(0.0, 0.4))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the child stopped before it was killed"

        check_blobs(root)
        lines = read_progress(progress)
        done = [int(line.split()[1]) for line in lines if line.startswith("done ")]
        for i in done:  # a reported commit is durable and visible
            store.verify(item(seed, i)[1])
        started = [int(line.split()[1]) for line in lines if line.startswith("start ")]
        if started and started[-1] not in done:
            i = started[-1]
            data, d = item(seed, i)
            if i % 2:
                # The dead child's lock went with it: this writer gets the ref at once.
                with store.writer(ref_of(seed, i), d, len(data)) as w:
                    assert 0 <= w.offset <= len(data)
                    if pause:
                        assert w.offset >= len(data) // 2
                        resumed_mid_write += 1
                    w.write(data[w.offset :])
                    assert w.commit() == d
            else:
                assert store.ingest(io.BytesIO(data), d, len(data)) == (d, len(data))
            store.verify(d)
        # What the killed ingests left behind is swept, and nothing else remains in ingest/.
        store.sweep_ingest(0)
        ingest = os.path.join(root, "ingest")
        assert not os.path.exists(ingest) or os.listdir(ingest) == []
        assert check_blobs(root) == len(list(store.digests()))
        for d in list(store.digests()):  # keep the disk use of the test small
            store.delete(d)
        try:
            with store.writer("after-the-crash") as w:
                w.write(b"still works")
                assert w.commit() == store.put(b"still works")
        except errors.DockyardError as e:
            raise AssertionError(f"store unusable after round {seed}: {e}")
    assert resumed_mid_write == len(range(0, ROUNDS, 3))


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1")
