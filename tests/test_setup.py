"""`make test` and `make bench` install what pip cannot: each branch of scripts/require-debian-package.

The script runs for real; `id`, `sudo` and `apt-get` are stand-ins placed first
on PATH that record how they were called, so no package is installed here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "require-debian-package"


def _stand_in(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f'#!/usr/bin/env bash\necho "{name} $*" >> "$CALLS"\n{body}\n')
    path.chmod(0o755)


@pytest.fixture
def fake_system(tmp_path):
    """A PATH whose id/sudo/apt-get are stand-ins; returns (run, calls file, target file)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    calls.touch()
    target = tmp_path / "usr-bin-chromium"
    # apt-get "installs" the package by creating the file it should provide.
    _stand_in(bin_dir, "apt-get", f'[ "$1" = install ] && touch "{target}"; exit 0')

    def run(*, uid: int, sudo: str | None, args: list[str] | None = None) -> subprocess.CompletedProcess:
        _stand_in(bin_dir, "id", f"echo {uid}")
        sudo_path = bin_dir / "sudo"
        if sudo is None:
            sudo_path.unlink(missing_ok=True)
        else:
            _stand_in(bin_dir, "sudo", sudo)
        env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls)}
        return subprocess.run(
            ["bash", str(SCRIPT), *(args or [str(target), "chromium", "make test"])],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )

    return run, calls, target


def test_present_file_installs_nothing(fake_system):
    run, calls, target = fake_system
    target.touch()
    done = run(uid=1000, sudo=None)
    assert done.returncode == 0, done.stderr
    assert calls.read_text() == ""


def test_root_installs_with_apt_get(fake_system):
    run, calls, target = fake_system
    done = run(uid=0, sudo=None)
    assert done.returncode == 0, done.stderr
    lines = calls.read_text().splitlines()
    assert "apt-get update -qq" in lines
    assert "apt-get install -y -qq --no-install-recommends chromium" in lines
    assert target.exists()
    assert "installing Debian's chromium package" in done.stdout


def test_a_user_with_passwordless_sudo_installs_through_sudo(fake_system):
    run, calls, target = fake_system
    # The stand-in sudo runs what it is given, as sudo would.
    done = run(uid=1000, sudo='[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; "$@"')
    assert done.returncode == 0, done.stderr
    lines = calls.read_text().splitlines()
    assert "sudo -n apt-get install -y -qq --no-install-recommends chromium" in lines
    assert target.exists()


@pytest.mark.parametrize("sudo", [None, "exit 1"], ids=["no sudo", "sudo wants a password"])
def test_without_a_way_to_install_it_stops_with_the_exact_command(fake_system, sudo):
    run, calls, target = fake_system
    done = run(uid=1000, sudo=sudo)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, "one line, not a wall of text"
    assert "run 'sudo apt-get install -y chromium', then try again" in done.stderr
    assert str(target) in done.stderr
    assert "apt-get" not in calls.read_text()


def test_an_install_that_does_not_provide_the_file_is_an_error(fake_system, tmp_path):
    run, calls, _ = fake_system
    done = run(uid=0, sudo=None, args=[str(tmp_path / "never-made"), "chromium", "make test"])
    assert done.returncode == 1
    assert "did not provide" in done.stderr


def test_the_makefile_checks_the_browser_before_tests_bench_and_screenshots():
    """A dry run of make shows the check in front of each target that drives Chromium."""
    for target in ("test", "bench", "screenshots"):
        done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        commands = done.stdout.splitlines()
        check = next(i for i, line in enumerate(commands) if "require-debian-package /usr/bin/chromium chromium" in line)
        runner = next(i for i, line in enumerate(commands) if "-m pytest" in line or "-m bench" in line)
        assert check < runner, f"make {target} must check for chromium before it runs anything"


def test_the_makefile_checks_for_postgresql_before_tests_and_bench():
    for target in ("test", "bench"):
        done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        commands = done.stdout.splitlines()
        check = next(i for i, line in enumerate(commands) if "bin/initdb" in line and "postgresql" in line)
        runner = next(i for i, line in enumerate(commands) if "-m pytest" in line or "-m bench" in line)
        assert check < runner, f"make {target} must check for postgresql before it runs anything"
