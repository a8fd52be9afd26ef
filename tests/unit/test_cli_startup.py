"""Start-up stays light: `--version` imports no command or engine module, and `images` does not
import the archive machinery (tarfile, isal, zstandard)."""

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def imported(*argv: str, cwd=None) -> set[str]:
    env = dict(os.environ, PYTHONPATH=str(SRC))
    env.pop("DOCKYARD_ROOT", None)
    p = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dockyard", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    names = set()
    for line in p.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "dockyard.cli.main" in names  # the parse found something real
    return names


def test_version_imports_only_the_basics():
    names = imported("--version")
    heavy = {"json", "tarfile", "re", "dataclasses", "typing", "sqlite3", "dockyard.config"}
    assert not names & heavy
    assert not [
        n
        for n in names
        if n.startswith(
            (
                "dockyard.services",
                "dockyard.content",
                "dockyard.metadata",
                "dockyard.images",
                "dockyard.cli.commands",
                "dockyard.cli.template",
                "dockyard.cli.help",
            )
        )
    ]


def test_help_and_flag_errors_do_not_open_the_engine(tmp_path):
    names = imported("images", "--help")
    assert "dockyard.cli.help" in names
    assert not [n for n in names if n.startswith(("dockyard.services", "dockyard.metadata"))]


def test_images_does_not_import_archive_code(tmp_path):
    names = imported(
        "--root", str(tmp_path / "root"), "--state-dir", str(tmp_path / "state"), "images"
    )
    assert "dockyard.cli.commands.images" in names
    assert not names & {"tarfile", "isal", "isal.igzip", "zstandard", "gzip", "zlib", "bz2", "lzma"}
    assert not [n for n in names if n.startswith(("dockyard.archive", "isal", "zstandard"))]
