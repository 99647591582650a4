"""Every audit action code the code writes has a Japanese label (issue 9 §6): the audit log
must not show raw codes such as `desk.consultation_created`.

The codes are read from the source, not from a test run, so a code that no test exercises is
checked too: every call of AuditEntry.record, and of each function that passes its own argument
on to it (the apps' `_audit`, `audit_read`, …), found by following the calls.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from renkei.accounts.models import AUDIT_ACTION_LABELS, AuditEntry

PACKAGE = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Recorder:
    name: str  # function or method name
    owner: str  # "AuditEntry" for the model's classmethod, "" for a plain function
    position: int
    keyword: str


def _sources() -> list[tuple[Path, ast.Module]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = set(path.relative_to(PACKAGE).parts)
        if "tests" in parts or "migrations" in parts or path.name == "testing.py":
            continue
        out.append((path, ast.parse(path.read_text(encoding="utf-8"))))
    return out


def _matches(call: ast.Call, r: Recorder) -> bool:
    f = call.func
    if isinstance(f, ast.Attribute):
        owner = f.value.id if isinstance(f.value, ast.Name) else ""
        if r.owner:
            return f.attr == r.name and owner in (r.owner, "cls")
        return f.attr == r.name
    return isinstance(f, ast.Name) and f.id == r.name and not r.owner


def _argument(call: ast.Call, r: Recorder) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == r.keyword:
            return kw.value
    return call.args[r.position] if len(call.args) > r.position else None


def _constants(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        left, right = _constants(node.body), _constants(node.orelse)
        return None if left is None or right is None else left + right
    return None


def written_codes() -> tuple[dict[str, list[str]], list[str]]:
    """(code -> where it is written, calls whose code cannot be read from the source)."""
    sources = _sources()
    recorders = {Recorder("record", "AuditEntry", 0, "action")}
    # A function that hands one of its own parameters to a recorder is a recorder too.
    changed = True
    while changed:
        changed = False
        for _path, tree in sources:
            for fn in ast.walk(tree):
                if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
                kwonly = [a.arg for a in fn.args.kwonlyargs]
                for call in ast.walk(fn):
                    if not isinstance(call, ast.Call):
                        continue
                    for r in list(recorders):
                        arg = _argument(call, r) if _matches(call, r) else None
                        if not isinstance(arg, ast.Name) or arg.id not in params + kwonly:
                            continue
                        pos = params.index(arg.id) if arg.id in params else 10**6
                        if params[:1] in (["self"], ["cls"]) and pos != 10**6:
                            pos -= 1
                        new = Recorder(fn.name, "", pos, arg.id)
                        if new not in recorders and fn.name != "record":
                            recorders.add(new)
                            changed = True
    codes: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for path, tree in sources:
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
        passthrough = {
            (id(call), a.arg)
            for fn in functions
            for call in ast.walk(fn)
            if isinstance(call, ast.Call)
            for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
        }
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            for r in recorders:
                if not _matches(call, r):
                    continue
                arg = _argument(call, r)
                if arg is None:
                    continue
                where = f"{path.relative_to(PACKAGE.parent)}:{call.lineno}"
                found = _constants(arg)
                if found is not None:
                    for code in found:
                        codes.setdefault(code, []).append(where)
                elif not (isinstance(arg, ast.Name) and (id(call), arg.id) in passthrough):
                    unreadable.append(f"{where}: {ast.unparse(arg)}")
    return codes, unreadable


def test_every_written_audit_code_has_a_japanese_label() -> None:
    codes, unreadable = written_codes()
    assert len(codes) > 50, sorted(codes)  # the scan finds the apps' codes
    assert "desk.consultation_created" in codes and "referrals.case_created" in codes
    missing = {code: where for code, where in codes.items() if code not in AUDIT_ACTION_LABELS}
    assert not missing, f"add a Japanese label to AUDIT_ACTION_LABELS for: {missing}"
    # A code built at run time (an f-string, a variable) cannot be checked: write it literally.
    assert not unreadable, unreadable


def test_labels_are_japanese_and_shown_instead_of_the_code() -> None:
    for code, label in AUDIT_ACTION_LABELS.items():
        assert label and label != code and not label.isascii(), code
    assert AuditEntry(action="desk.consultation_created").action_label == "相談の記録"
