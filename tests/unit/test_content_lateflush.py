"""content.lateflush: the mark that lets records name unflushed objects — set durably before
the writes it covers, renewed without losing its earliest time, cleared only by a flush
that began after the last renewal, and read as "torn data possible" after another boot."""

import os
import subprocess
import sys
import time

from dockyard.content import lateflush

SRC = os.path.dirname(os.path.dirname(os.path.dirname(lateflush.__file__)))


def _boot() -> str:
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


def _mark_text(root) -> str:
    return (root / lateflush.MARK).read_text()


def test_a_mark_of_this_boot_is_no_crash_and_a_flush_clears_it(tmp_path):
    lateflush.mark(str(tmp_path), 1_000)
    assert _mark_text(tmp_path) == f"{_boot()} 1000 1\n"
    assert lateflush.crashed(str(tmp_path)) is None  # its flush may still be under way
    assert lateflush.flush(str(tmp_path)) is True
    assert _mark_text(tmp_path) == ""
    assert lateflush.crashed(str(tmp_path)) is None


def test_renewing_keeps_the_earliest_time_and_counts(tmp_path):
    lateflush.mark(str(tmp_path), 5_000)
    lateflush.mark(str(tmp_path), 9_000)  # later: the mark already covers it
    assert _mark_text(tmp_path) == f"{_boot()} 5000 2\n"
    lateflush.mark(str(tmp_path), 2_000)  # earlier (another writer started first)
    assert _mark_text(tmp_path) == f"{_boot()} 2000 3\n"


def test_a_mark_renewed_during_the_flush_stays(tmp_path, monkeypatch):
    lateflush.mark(str(tmp_path), 1_000)

    def sync_while_another_writer_marks(*paths):
        lateflush.mark(str(tmp_path), 3_000)  # its data may have missed this syncfs

    monkeypatch.setattr("dockyard.content.durable.sync_paths", sync_while_another_writer_marks)
    assert lateflush.flush(str(tmp_path)) is False
    assert _mark_text(tmp_path) == f"{_boot()} 1000 2\n"


def test_a_mark_from_another_boot_means_a_crash_since_its_time(tmp_path):
    (tmp_path / lateflush.MARK).write_text("00000000-1111-2222-3333-444444444444 777 4\n")
    assert lateflush.crashed(str(tmp_path)) == 777
    (tmp_path / lateflush.MARK).write_text("garbage")
    assert lateflush.crashed(str(tmp_path)) == 0  # unreadable: everything is suspect
    lateflush.clear(str(tmp_path))
    assert lateflush.crashed(str(tmp_path)) is None
    assert lateflush.crashed(str(tmp_path / "missing")) is None


def test_the_flusher_runs_after_its_starter_exits_and_holds_none_of_its_output(tmp_path):
    root = str(tmp_path)
    code = (
        "import sys, time\n"
        f"sys.path[:0] = [{SRC!r}]\n"
        "from dockyard.content import lateflush\n"
        f"lateflush.mark({root!r}, time.time_ns())\n"
        f"f = lateflush.Flusher({root!r})\n"
        "print('built', flush=True)\n"  # never released: ending the process releases it
    )
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout == "built\n"  # our pipe reached EOF: the flusher does not hold it
    deadline = started + 20
    while _mark_text(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _mark_text(tmp_path) == ""


def test_no_flush_clears_the_mark_while_an_operation_still_writes_under_it(tmp_path):
    root = str(tmp_path)
    writing = lateflush.Marked(root)
    try:
        assert lateflush.flush(root) is False  # an earlier operation's flusher, say
        assert _mark_text(tmp_path).startswith(_boot())
    finally:
        writing.release()  # done writing: its own flusher clears the mark
    deadline = time.monotonic() + 20
    while _mark_text(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _mark_text(tmp_path) == ""


def test_the_image_service_sees_the_mark_with_one_stat(tmp_path):
    from dockyard.services.images import _marked

    assert not _marked(str(tmp_path))
    lateflush.mark(str(tmp_path), 1)
    assert _marked(str(tmp_path))
    lateflush.clear(str(tmp_path))
    assert not _marked(str(tmp_path))
