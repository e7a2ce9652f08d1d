"""Dependencies point down (docs/ARCHITECTURE.md "Layers").

db → contracts (jobs/, realtime/) → domains (server/<domain>/) → runners
(gateway/, workers/) → the composition roots. The fresh-interpreter tests
check what an import really loads (the push worker imports the fan-out and
must not drag in the domains); the static test reads every import statement,
including those inside functions, so a lazy upward import fails too.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("db", "jobs", "realtime", "server", "gateway", "workers")

# What each package may import, apart from itself and third-party code.
ALLOWED: dict[str, set[str]] = {
    "db": set(),
    "jobs": {"db"},
    "realtime": set(),
    "server": {"db", "jobs", "realtime"},
    "gateway": {"db", "jobs", "realtime", "server"},
    "workers": {"db", "jobs", "realtime", "server"},
}
# The composition roots wire everything together; only they may import upward.
ROOTS = {
    "server/app.py",
    "server/plugins.py",
    "server/__main__.py",
    "workers/__main__.py",
    "workers/queue.py",
}


def loaded_after_import(*modules: str) -> list[str]:
    """Our modules in sys.modules after importing `modules` in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [m for m in json.loads(out) if m.split(".")[0] in PACKAGES]


def modules_of(package: str) -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in (ROOT / package).rglob("*.py")
    )


@pytest.mark.parametrize(
    "module", ["realtime.fanout", "realtime.presence", "realtime.frames", "realtime.channels"]
)
def test_live_delivery_loads_nothing_of_the_domains_or_runners(module: str) -> None:
    loaded = loaded_after_import(module)
    above = [m for m in loaded if m.split(".")[0] in ("server", "workers", "gateway")]
    assert above == [], f"importing {module} loads {above}"


def test_the_jobs_contract_loads_no_domain_and_no_job_runner() -> None:
    loaded = loaded_after_import("jobs.contract")
    above = [m for m in loaded if m.split(".")[0] in ("server", "workers", "gateway", "realtime")]
    assert above == [], f"importing jobs.contract loads {above}"


def test_no_db_module_loads_anything_above_db() -> None:
    loaded = loaded_after_import(*modules_of("db"))
    above = [m for m in loaded if m.split(".")[0] != "db"]
    assert above == [], f"importing db loads {above}"


def imported_packages(path: Path) -> set[str]:
    """Our top-level packages that a file's import statements name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(n.split(".")[0] for n in names if n.split(".")[0] in PACKAGES)
    return found


def test_every_import_points_down_except_in_the_composition_roots() -> None:
    wrong = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in ROOTS:
                continue
            upward = imported_packages(path) - ALLOWED[package] - {package}
            if upward:
                wrong.append(f"{relative} imports {sorted(upward)}")
    assert wrong == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    # The static check must not pass vacuously: a lazy import inside a function counts.
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from server.settings import Settings\n    return Settings\n")
    assert imported_packages(sample) == {"server"}
