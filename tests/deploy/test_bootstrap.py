"""scripts/bootstrap, the system set-up behind ``make run``, ``make test`` and ``make bench``.

Its package list (scripts/system-packages) is kept true against the machine: every command
it names comes with its package, every system command the suite calls is named, and every
library the source-built dependencies link against comes from a named package. Its
behaviour is tried on real missing things: a Debian package this machine does not have
(``hello``), a name Debian does not have, and a stopped Redis; as root and not.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from tests.support.servers import as_service_user, chown_tree
from tests.support.system import (
    BOOTSTRAP,
    PACKAGE_LIST,
    ROOT,
    command,
    listed_commands,
    package_list,
    require_root,
    unavailable,
)

pytestmark = pytest.mark.slow

#: A real Debian package this machine does not have: small, with a command to try.
ABSENT_PACKAGE = "hello"
#: A name no Debian release has.
UNKNOWN_PACKAGE = "mypack-no-such-package"
#: What calls a system command in the suite's own code: the first argument names it.
CALLERS = {"run", "Popen", "call", "check_call", "check_output", "which", "command"}
#: Where Debian's packages put commands (not /usr/local, nor a pyenv shim).
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


# --- the machine's package database --------------------------------------------------------

def dpkg_query(*fields: str) -> list[list[str]]:
    """One row per installed package: the fields asked for."""
    form = "\t".join(f"${{{name}}}" for name in fields) + "\n"
    out = subprocess.run(["dpkg-query", "-W", "-f", form], capture_output=True, text=True,
                         check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def installed_packages() -> dict[str, dict[str, object]]:
    """Installed packages, each with its dependencies (every alternative) and essential flag."""
    packages = {}
    for name, status, depends, pre_depends, essential in dpkg_query(
            "Package", "db:Status-Abbrev", "Depends", "Pre-Depends", "Essential"):
        if status.startswith("ii"):
            names = {re.split(r"[\s:(]", alternative.strip())[0]
                     for clause in f"{depends},{pre_depends}".split(",")
                     for alternative in clause.split("|")}
            packages[name] = {"depends": names - {""}, "essential": essential == "yes"}
    return packages


def brought_by(package: str, packages: dict) -> set[str]:
    """The package and everything installing it pulls in."""
    seen, todo = set(), [package]
    while todo:
        name = todo.pop()
        if name in packages and name not in seen:
            seen.add(name)
            todo.extend(packages[name]["depends"])
    return seen


def owner(path: str) -> set[str]:
    """The packages that ship a file, by its path or the merged-/usr twin of it
    (/usr/bin/ss is shipped as /bin/ss, /lib/x86_64-linux-gnu/... as /usr/lib/...)."""
    candidates = set()
    for p in {path, os.path.realpath(path)}:
        bare = p.removeprefix("/usr")
        candidates |= {p, bare, "/usr" + bare}
    owners = set()
    result = subprocess.run(["dpkg-query", "-S", *sorted(candidates)], capture_output=True,
                            text=True)
    for line in result.stdout.splitlines():
        names, _, shipped = line.partition(": ")
        # dpkg -S matches substrings, and reports diversions: keep exact paths only.
        if shipped in candidates and not names.startswith("diversion by"):
            owners.update(n.strip().split(":")[0] for n in names.split(","))
    return owners


@pytest.fixture(scope="module")
def packages() -> dict:
    if not shutil.which("dpkg-query"):
        unavailable("not a Debian machine: scripts/bootstrap is Debian's")
    return installed_packages()


# --- the list stays true -------------------------------------------------------------------

def test_each_listed_command_comes_with_its_package(packages):
    lines = package_list()
    assert {line.target for line in lines} == {"run", "test", "bench"}
    for line in lines:
        if line.package not in packages:
            # make test installed the run and test lines; bench's come with make bench.
            assert line.target == "bench", f"{line.package} is not installed"
            continue
        for name in line.commands:
            path = shutil.which(name, path=SYSTEM_PATH)
            assert path, f"{line.package} is installed, but there is no {name}"
            assert owner(path) & brought_by(line.package, packages), (
                f"{name} ({path}) comes from {owner(path)}, which {line.package} does not bring")


def commands_called(path: Path, callers=CALLERS) -> set[str]:
    """The system commands a Python file runs: the literal first word (after a prefix
    such as ``*as_service_user()``) of each call of subprocess.run/Popen/..., the suite's
    run(), shutil.which() and command(), of a list assigned to ``command``, and the
    literals a loop hands to such a call."""
    found = set()

    def first_word(node) -> None:
        if isinstance(node, ast.List | ast.Tuple):
            words = [n for n in node.elts if not isinstance(n, ast.Starred)]
            node = words[0] if words else None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(os.path.basename(node.value))

    def caller(node) -> bool:
        func = getattr(node, "func", None)
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        return isinstance(node, ast.Call) and bool(node.args) and name in callers

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if caller(node):
            first_word(node.args[0])
        elif isinstance(node, ast.Assign) and any(
                getattr(target, "id", None) == "command" for target in node.targets):
            first_word(node.value)
        elif (isinstance(node, ast.For) and isinstance(node.target, ast.Name)
              and isinstance(node.iter, ast.Tuple | ast.List)):
            handed = [call for call in ast.walk(node) if caller(call)
                      and getattr(call.args[0], "id", None) == node.target.id]
            for element in node.iter.elts if handed else ():
                first_word(element)
    return found


def test_every_system_command_the_suite_calls_is_listed(packages):
    called = set().union(
        *(commands_called(path)
          for path in [*ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py")]),
        # The package's own names (``command`` is Click's there): subprocess calls only.
        *(commands_called(path, {"run", "Popen", "check_output"})
          for path in ROOT.glob("mypack/**/*.py")))
    # The scan must see what the suite is known to call, or it proves nothing.
    assert {"apache2", "apxs", "setpriv", "logrotate", "ss", "git", "chromium", "wrk",
            "make"} <= called
    listed = listed_commands()
    essential = {name for name, package in packages.items() if package["essential"]}
    unlisted = {name for name in called - listed.keys()
                if not owner(shutil.which(name, path=SYSTEM_PATH) or name) & essential}
    assert not unlisted, f"called by the suite but not named in {PACKAGE_LIST}: {unlisted}"


def built_here() -> list[metadata.Distribution]:
    """The installed distributions pip compiled on this machine (a plain linux_ wheel tag,
    not manylinux): psycopg2 and mysqlclient, built from source."""
    built = []
    for dist in metadata.distributions():
        tags = [line.split(":", 1)[1].strip() for line in
                (dist.read_text("WHEEL") or "").splitlines() if line.startswith("Tag:")]
        if any(re.search(r"-linux_", tag) for tag in tags):
            built.append(dist)
    return built


def needed_libraries(shared_object: Path) -> list[str]:
    dynamic = subprocess.run([command("readelf"), "-d", str(shared_object)],
                             capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)


def library_paths() -> dict[str, str]:
    """The dynamic linker's cache: soname -> path."""
    cache = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True,
                           check=True).stdout
    return dict(re.findall(r"^\s+(\S+) \(libc6,x86-64[^)]*\) => (\S+)$", cache, re.M))


def test_source_built_dependencies_link_only_against_listed_packages(packages):
    built = {dist.metadata["Name"].lower(): dist for dist in built_here()}
    assert {"psycopg2", "mysqlclient"} <= built.keys(), sorted(built)
    listed = {line.package for line in package_list() if line.target == "run"}
    paths = library_paths()
    glibc = brought_by("libc6", packages)
    for name, dist in built.items():
        objects = [Path(dist.locate_file(f)) for f in dist.files or () if f.suffix == ".so"]
        assert objects, f"{name} was built here but has no shared object"
        for shared_object in objects:
            for soname in needed_libraries(shared_object):
                runtime = paths[soname]
                if owner(runtime) & glibc:
                    continue  # the C library: gcc brings its headers
                # Linking needs the unversioned name (libpq.so), from the -dev package.
                link_name = Path(runtime).parent / (soname.split(".so")[0] + ".so")
                assert link_name.exists(), f"{name} links {soname}; no {link_name}"
                assert owner(str(link_name)) & listed, (
                    f"{name} links against {soname}: {link_name} comes from "
                    f"{owner(str(link_name))}, which the run lines of {PACKAGE_LIST} lack")


def test_ci_goes_through_the_same_door_as_a_new_user():
    steps = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()[1:]
             if line.strip() and not line.startswith("#")]
    assert steps == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "CI=true exec make test lint"]


# --- behaviour, on real missing things -------------------------------------------------------

@pytest.fixture
def kit(public_tmp, request):
    """A copy of scripts/ that any user can read, with the test's extra lines in its
    list; ``kit(*lines)`` returns the copied bootstrap."""
    def make(*extra_lines: str) -> Path:
        scripts = public_tmp / "scripts"
        shutil.copytree(ROOT / "scripts", scripts, dirs_exist_ok=True)
        listing = scripts / "system-packages"
        listing.write_text(PACKAGE_LIST.read_text() + "".join(f"{x}\n" for x in extra_lines))
        for path in (scripts, *scripts.iterdir()):
            path.chmod(0o755)
        return scripts / "bootstrap"
    return make


def bootstrap(script: Path, target: str, user: str | None = None,
              path: str | None = None) -> subprocess.CompletedProcess:
    environment = {"PATH": path or os.environ["PATH"], "LANG": "C.UTF-8"}
    return subprocess.run([*(as_service_user(user) if user else []), "bash", script, target],
                          capture_output=True, text=True, env=environment, timeout=900,
                          cwd=script.parent)


def is_installed(package: str) -> bool:
    result = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package],
                            capture_output=True, text=True)
    return result.stdout.startswith("ii")


@pytest.fixture
def absent_package():
    """ABSENT_PACKAGE, not installed before the test, nor after it."""
    require_root("to install and remove a Debian package")
    if is_installed(ABSENT_PACKAGE):
        pytest.fail(f"{ABSENT_PACKAGE} is installed here: remove it (apt-get purge "
                    f"{ABSENT_PACKAGE}) so the test can use it as a missing package")
    yield ABSENT_PACKAGE
    if is_installed(ABSENT_PACKAGE):
        subprocess.run(["apt-get", "purge", "-y", "-qq", ABSENT_PACKAGE], check=True,
                       capture_output=True, env={**os.environ,
                                                 "DEBIAN_FRONTEND": "noninteractive"})


def test_with_everything_present_it_says_nothing_and_calls_no_apt(tmp_path):
    require_root("to see that root, who could install, installs nothing")
    # A spy in front of apt: it records a call, and installs nothing.
    spy = tmp_path / "bin"
    spy.mkdir()
    for name in ("apt-get", "apt", "apt-cache"):
        (spy / name).write_text(f"#!/bin/sh\necho {name} >> {tmp_path / 'calls'}\nexit 1\n")
        (spy / name).chmod(0o755)
    result = bootstrap(BOOTSTRAP, "test", path=f"{spy}:{os.environ['PATH']}")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not (tmp_path / "calls").exists()


def test_not_as_root_a_missing_package_stops_with_the_command_to_run(kit, absent_package):
    script = kit(f"test {absent_package} {absent_package}")
    result = bootstrap(script, "test", user="nobody")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert (f"'make test' needs Debian packages that are missing; run 'sudo apt-get update && "
            f"sudo apt-get install -y {absent_package}' (or 'sudo scripts/bootstrap test'), "
            "then 'make test' again") in result.stderr
    assert not is_installed(absent_package)


def test_as_root_a_missing_package_is_installed_and_named(kit, absent_package):
    script = kit(f"test {absent_package} {absent_package}")
    result = bootstrap(script, "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == (f"bootstrap: installing {absent_package} (apt-get)\n"
                             f"bootstrap: installed {absent_package}\n")
    assert is_installed(absent_package)
    greeting = subprocess.run([absent_package], capture_output=True, text=True).stdout
    assert greeting == "Hello, world!\n"
    # The lower target does not need what a higher one does.
    assert bootstrap(script, "run").stdout == ""


def test_a_package_debian_does_not_have_fails_in_one_clear_line(kit):
    require_root("to run apt-get")
    result = bootstrap(kit(f"run {UNKNOWN_PACKAGE}"), "run")
    assert result.returncode == 1
    assert f"Unable to locate package {UNKNOWN_PACKAGE}" in result.stderr
    assert result.stderr.splitlines()[-1] == (f"bootstrap: apt-get could not install "
                                              f"{UNKNOWN_PACKAGE} (its output is above)")


def test_make_stops_before_pip_when_a_package_is_missing(kit, absent_package, public_tmp):
    # A whole checkout that 'nobody' owns, as a developer's own clone would be.
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\0")
    clone = public_tmp / "clone"
    for name in filter(None, files):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, clone / name)
    with open(clone / "scripts" / "system-packages", "a") as listing:
        listing.write(f"run {absent_package} {absent_package}\n")
    chown_tree(clone, "nobody")
    result = subprocess.run([*as_service_user("nobody"), "make", "-C", clone, "run"],
                            capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(clone)})
    assert result.returncode != 0
    assert f"sudo apt-get install -y {absent_package}'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (clone / ".venv").exists()


@pytest.fixture
def stopped_redis(redis_url):
    """The local Redis, stopped for the test, and running again after it."""
    require_root("to stop and start Redis")
    subprocess.run([command("redis-cli"), "-h", "127.0.0.1", "shutdown", "nosave"],
                   capture_output=True)
    yield
    if not redis_answers():
        bootstrap(BOOTSTRAP, "test")


def redis_answers() -> bool:
    result = subprocess.run([command("redis-cli"), "-h", "127.0.0.1", "ping"],
                            capture_output=True, text=True)
    return result.stdout.strip() == "PONG"


def test_a_stopped_server_is_started_as_root_and_named_otherwise(kit, stopped_redis):
    assert not redis_answers()
    result = bootstrap(kit(), "test", user="nobody")
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("bootstrap: Redis is not running; start it with "
                                    "'sudo scripts/bootstrap test' (it runs: ")
    assert "redis-server --daemonize yes" in result.stderr
    assert not redis_answers()

    result = bootstrap(BOOTSTRAP, "test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("bootstrap: starting Redis: ")
    assert redis_answers()


def test_an_unknown_target_is_refused():
    result = subprocess.run(["bash", BOOTSTRAP, "serve"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "usage:" in result.stderr
