"""The shape of the code: at most 80 lines per function and at most 15 parameters per public function.

Long functions hide several jobs in one body and many parameters hide settings that belong together; both limits
are part of the style (small functions of one job each, settings grouped in an object). Compiled numba kernels are
exempt from the line limit: splitting one costs a call in the innermost loop.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import cnnc

SRC = Path(cnnc.__file__).parent
MAX_LINES = 80
MAX_PARAMETERS = 15
#: The packages of the public API: a public function in a module they re-export from is API.
PUBLIC_PACKAGES = (cnnc.tl, cnnc.pl, cnnc.get, cnnc.datasets, cnnc.models, cnnc.metrics)
#: Decorators that compile a function with numba.
NUMBA_DECORATORS = {"njit", "jit"}

#: Functions allowed over a limit while a parallel change splits them, each with a comment giving the reason, as
#: ``(path under src/cnnc, qualified name, "lines" or "parameters")``. Keep it exact: the test fails when a function
#: not listed here breaks a limit, and when a listed one no longer does (then delete its line). Empty: every
#: function is within the limits.
KNOWN_OFFENDERS: set[tuple[str, str, str]] = set()


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def _lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function without its docstring: from the line after the docstring (else the ``def``) to its end."""
    first = node.body[0]
    start = first.end_lineno + 1 if _is_docstring(first) else node.lineno
    return node.end_lineno - start + 1


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Named parameters and ``*args``; ``self``/``cls`` and a ``**kwargs`` catch-all are not counted."""
    args = node.args
    names = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    count = len(names) + (args.vararg is not None)
    return count - (bool(names) and names[0].arg in ("self", "cls"))


def _is_numba_kernel(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name in NUMBA_DECORATORS:
            return True
    return False


def _functions(tree: ast.Module):
    """``(qualified name, node, public)`` of every function, nested ones included.

    Public: a top-level function, or a method (or the constructor) of a top-level class, with no leading underscore.
    """

    def walk(node, prefix: str, public_scope: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                public = public_scope and (not child.name.startswith("_") or child.name == "__init__")
                yield name, child, public
                yield from walk(child, f"{name}.", False)
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.", public_scope and not child.name.startswith("_"))

    yield from walk(tree, "", True)


def _public_modules() -> set[Path]:
    """Source files of the modules the public packages re-export functions or classes from."""
    modules = set()
    for package in PUBLIC_PACKAGES:
        for name, obj in vars(package).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", "").startswith("cnnc."):
                modules.add(Path(inspect.getfile(obj)).resolve())
    return modules


def _offenders() -> dict[tuple[str, str, str], str]:
    public_modules = _public_modules()
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        in_api = path.resolve() in public_modules
        for name, node, public in _functions(ast.parse(path.read_text(encoding="utf-8"))):
            lines = _lines(node)
            if lines > MAX_LINES and not _is_numba_kernel(node):
                found[(relative, name, "lines")] = f"{lines} lines (at most {MAX_LINES}, docstring excluded)"
            parameters = _parameters(node)
            if in_api and public and parameters > MAX_PARAMETERS:
                found[(relative, name, "parameters")] = f"{parameters} parameters (at most {MAX_PARAMETERS})"
    return found


def test_the_public_modules_are_found():
    """The walk sees the modules behind the API (else the parameter limit would check nothing)."""
    modules = {p.relative_to(SRC.resolve()).as_posix() for p in _public_modules()}
    assert {"tl/_predict.py", "tl/_causal.py", "pl/_pair.py", "models/_model.py", "datasets/_beeline.py"} <= modules


def test_the_measures_count_what_they_say():
    tree = ast.parse(
        "@numba.njit(cache=True)\n"
        "def kernel(a, b):\n"
        "    return a\n"
        "class Thing:\n"
        "    def __init__(self, a, *, b, **kw):\n"
        '        """Doc.\n\n        More doc.\n        """\n'
        "        x = 1\n"
        "        return None\n"
        "    def _hidden(self, *args):\n"
        "        def inner(): pass\n"
    )
    found = {name: (node, public) for name, node, public in _functions(tree)}
    assert set(found) == {"kernel", "Thing.__init__", "Thing._hidden", "Thing._hidden.inner"}
    assert _is_numba_kernel(found["kernel"][0]) and not _is_numba_kernel(found["Thing.__init__"][0])
    assert _lines(found["Thing.__init__"][0]) == 2 and _lines(found["kernel"][0]) == 2
    assert _parameters(found["Thing.__init__"][0]) == 2 and _parameters(found["Thing._hidden"][0]) == 1
    assert [n for n, (_, public) in found.items() if public] == ["kernel", "Thing.__init__"]


def test_functions_are_short_and_public_functions_take_few_parameters():
    found = _offenders()
    new = {k: v for k, v in found.items() if k not in KNOWN_OFFENDERS}
    fixed = sorted(KNOWN_OFFENDERS - set(found))
    assert not new, "Split these into helpers of one job each, or group their settings:\n" + "\n".join(
        f"  {path}:{name}: {what}" for (path, name, _), what in sorted(new.items())
    )
    assert not fixed, "Now within the limits: delete these from KNOWN_OFFENDERS in tests/test_code_shape.py:\n" + (
        "\n".join(f"  {entry}" for entry in fixed)
    )
