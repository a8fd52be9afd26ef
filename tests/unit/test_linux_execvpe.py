"""The init's PATH search (`os.execvpe` without its lazy import, which fails after pivot_root)."""

import os
import stat

from dockyard.linux.init import _execvpe


def _run(file: str, env: dict[str, str]) -> tuple[int, str]:
    """Exec in a forked child; (exit code, error text written back when exec failed)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            _execvpe(file, [file], env)
        except OSError as e:
            os.write(w, f"{type(e).__name__}:{e.errno}".encode())
        os._exit(99)
    os.close(w)
    msg = os.read(r, 4096).decode()
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), msg


def test_searches_path_past_missing_dirs(tmp_path):
    assert _run("true", {"PATH": f"{tmp_path}/nope:/bin:/usr/bin"}) == (0, "")


def test_not_found_is_enoent(tmp_path):
    assert _run("no-such-command-here", {"PATH": str(tmp_path)}) == (99, "FileNotFoundError:2")


def test_a_denied_candidate_does_not_stop_the_search(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "true").mkdir()  # a directory named like the command: EACCES, search goes on
    assert _run("true", {"PATH": f"{d}:/bin:/usr/bin"}) == (0, "")


def test_directory_only_is_permission_denied(tmp_path):
    (tmp_path / "tool").mkdir()
    assert stat.S_ISDIR((tmp_path / "tool").stat().st_mode)
    assert _run("tool", {"PATH": str(tmp_path)}) == (99, "PermissionError:13")


def test_a_path_with_a_slash_is_not_searched(tmp_path):
    assert _run("./no-such", {"PATH": "/bin"}) == (99, "FileNotFoundError:2")
