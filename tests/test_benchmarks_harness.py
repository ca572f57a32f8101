"""The benchmarks are a package run as ``python -m benchmarks.NAME``: public API only, no path or module surgery.

Static checks read every module's syntax tree; the import check runs one fresh interpreter from the repository
root, as ``python -m`` does, so the package must import with nothing but the root on the path.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
#: Run as scripts by the baselines' own interpreters (benchmarks/baselines/setup.sh), where neither cnnc nor
#: this package is installed: they import their sibling ``_baseline_io`` as a top-level module.
BASELINE_RUNNERS = {
    "benchmarks.baselines._baseline_io",
    "benchmarks.baselines.run_grnboost2",
    "benchmarks.baselines.run_regdiffusion",
    "benchmarks.baselines.time_grnboost2",
}

#: Private imports awaiting a public home outside the benchmarks: module → the private module it may still import.
#: The context-prior measures (``ContextStatistics``, ``context_z``) are being moved into one measure registry; once
#: it is public these benchmarks import it from there and their entries go (an entry that no longer applies fails).
PENDING: dict[str, str] = {}


def _modules() -> dict[str, Path]:
    """Dotted name → file of every Python module of the package (virtual environments and results left out)."""
    out = {}
    for path in sorted(BENCHMARKS.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if any(p.startswith(".") or p in ("results", "__pycache__") for p in parts):
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _private(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "cnnc" and any(p.startswith("_") for p in parts[1:])


def _problems(tree: ast.AST) -> list[str]:
    """sys.path edits, private cnnc imports and assignments into cnnc's modules, with their line numbers."""
    cnnc_names = set()  # names bound to cnnc modules in this file
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            cnnc_names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] == "cnnc"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "cnnc":
            cnnc_names |= {a.asname or a.name for a in node.names}
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys":
            found.append(f"line {line}: uses sys.path")
        if isinstance(node, ast.Import):
            found += [f"line {line}: imports private {a.name}" for a in node.names if _private(a.name)]
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "cnnc":
            names = [f"{node.module}.{a.name}" for a in node.names]
            found += [f"line {line}: imports private {n}" for n in [node.module, *names] if _private(n)][:1]
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
            "import_module",
            "__import__",
        ):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _private(arg.value):
                found.append(f"line {line}: imports private {arg.value}")
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        )
        for target in targets:
            base = target
            while isinstance(base, ast.Attribute):
                base = base.value
            if base is not target and getattr(base, "id", None) in cnnc_names:
                found.append(f"line {line}: assigns into cnnc ({ast.unparse(target)})")
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr" and node.args:
            root = node.args[0]
            while isinstance(root, ast.Attribute):
                root = root.value
            if getattr(root, "id", None) in cnnc_names:
                found.append(f"line {line}: setattr on cnnc")
    return found


def test_modules_found():
    assert "benchmarks.histograms" in MODULES and "benchmarks.scale" in MODULES
    assert not [n for n in MODULES if n.startswith("benchmarks.results")]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_public_api_only(name):
    problems = _problems(ast.parse(MODULES[name].read_text(encoding="utf-8")))
    pending = [p for p in problems if name in PENDING and p.endswith(f"imports private {PENDING[name]}")]
    other = [p for p in problems if p not in pending]
    assert not other, f"{MODULES[name].relative_to(ROOT)}: " + "; ".join(other)
    if name in PENDING:
        assert pending, f"{name} no longer imports {PENDING[name]}: remove its entry from PENDING"
        pytest.xfail(f"imports {PENDING[name]}, whose measures have no public home yet")


def test_checks_catch_what_they_forbid():
    bad = (
        "import sys\nimport cnnc\nfrom cnnc.tl import _predict\nimport cnnc._features as f\n"
        "from cnnc import _context\nsys.path.insert(0, '.')\n_predict.pair_evidence = None\n"
        "cnnc.tl.predict_interactions = None\nsetattr(cnnc.tl, 'x', 1)\n"
    )
    problems = " ".join(_problems(ast.parse(bad)))
    for expected in (
        "line 3: imports private cnnc.tl._predict",
        "line 4: imports private cnnc._features",
        "line 5: imports private cnnc._context",
        "line 6: uses sys.path",
        "line 7: assigns into cnnc",
        "line 8: assigns into cnnc",
        "line 9: setattr",
    ):
        assert expected in problems
    assert not _problems(ast.parse("import cnnc\nfrom cnnc.metrics import auroc\nx = cnnc.tl.pair_histograms\n"))


def test_every_module_imports_from_the_repository_root():
    """One fresh interpreter in the repository root imports each module (as ``python -m`` would find it)."""
    names = sorted(set(MODULES) - BASELINE_RUNNERS)
    code = (
        "import importlib, json, sys, traceback\n"
        "before, failed = list(sys.path), {}\n"
        f"for name in {names!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        failed[name] = traceback.format_exc(limit=3)\n"
        "print(json.dumps({'failed': failed, 'path_changed': sys.path != before}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not out["failed"], "\n".join(f"{k}:\n{v}" for k, v in out["failed"].items())
    assert not out["path_changed"], "importing the benchmarks changed sys.path"
