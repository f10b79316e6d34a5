"""The azureml layer compared with the real SDK v1's API (``sdk_v1_snapshot.json``): the conformance report.

Used by ``test_conformance.py`` and by ``scripts/sdk_conformance.py --gaps``. Needs no SDK: the
snapshot holds what the real packages have. The layer must be active (``azureml`` served by the
shim) when :func:`compare` runs.

For each module path of the snapshot: importable, or the gap ``module``; each public name there:
present (Headwater's object or a stand-in), or the gap ``name``. For each member of each class
(its public members, inherited ones too, and its constructor ``__init__``):

- **not supported**: the class is a stand-in (:mod:`headwater.compat.placeholders`: every public
  attribute raises NotSupportedError with advice), or the member's code raises NotSupportedError
  right away (its first statement, after the docstring, is ``raise NotSupportedError(...)`` or a
  call of a ``*not_supported*`` helper, or it is annotated ``-> NoReturn`` and does either);
- **implemented**: it exists on the class, or as an instance attribute set in the class's code
  (``self.name = ...``, a dataclass field or ``__slots__``) where SDK v1 has a property or attribute;
  then its signature must match: same kind (a property is not a method, a class/static method must
  be callable on the class), every SDK parameter by name, SDK v1's positional order, the same
  defaults (compared by ``repr``), ``*args``/``**kwargs`` where SDK v1 has them, and no required
  parameter SDK v1 does not have. A mismatch is the gap ``signature``;
- **missing**: neither: the gap ``member`` (an AttributeError in a user's code).
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path(__file__).with_name("sdk_v1_snapshot.json")
KNOWN_GAPS = Path(__file__).with_name("sdk_v1_known_gaps.json")
DOC = ROOT / "docs" / "sdk-v1-conformance.md"

IMPLEMENTED, NOT_SUPPORTED, MISSING = "implemented", "not supported", "missing"
_KEYWORD_OK = ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")


@dataclass
class Member:
    status: str
    kind: str  # SDK v1's kind
    mismatch: str = ""  # for an implemented member whose signature differs: how


@dataclass
class ClassResult:
    key: str  # SDK v1's module.qualname
    served_as: str  # the module path and name it was looked up by
    status: str  # of the class itself
    members: dict[str, Member] = field(default_factory=dict)


@dataclass
class Report:
    modules: dict[str, str] = field(default_factory=dict)  # path -> IMPLEMENTED / MISSING
    names: dict[str, str] = field(default_factory=dict)  # "module.name" -> status
    classes: dict[str, ClassResult] = field(default_factory=dict)
    functions: dict[str, Member] = field(default_factory=dict)  # "module.name" -> status, signature
    pipeline_api: list[str] = field(default_factory=list)

    def gaps(self) -> dict[str, str]:
        """``{gap id: what}``: the ids the known-gaps list holds (details may change, ids do not)."""
        out: dict[str, str] = {}
        for path, status in self.modules.items():
            if status == MISSING:
                out[f"module {path}"] = "ImportError"
        for name, status in self.names.items():
            if status == MISSING:
                out[f"name {name}"] = "ImportError/AttributeError"
        for key, result in self.classes.items():
            if result.status != IMPLEMENTED:
                continue
            for member_name, member in result.members.items():
                if member.status == MISSING:
                    out[f"member {key}.{member_name}"] = f"missing ({member.kind})"
                elif member.mismatch:
                    out[f"signature {key}.{member_name}"] = member.mismatch
        for name, member in self.functions.items():
            if member.mismatch:
                out[f"signature {name}"] = member.mismatch
        return dict(sorted(out.items()))


# -- signatures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: str | None  # repr, or None for no default


def parse_params(spec: list[str]) -> list[Param]:
    """The snapshot's ``["a", "b=None", "*", "c=1", "**kw"]`` as :class:`Param` s."""
    params: list[Param] = []
    keyword_only = False
    for item in spec:
        if item == "*":
            keyword_only = True
        elif item == "/":
            params = [Param(p.name, "POSITIONAL_ONLY", p.default) for p in params]
        elif item.startswith("**"):
            params.append(Param(item[2:], "VAR_KEYWORD", None))
        elif item.startswith("*"):
            params.append(Param(item[1:], "VAR_POSITIONAL", None))
            keyword_only = True
        else:
            name, eq, default = item.partition("=")
            params.append(
                Param(name, "KEYWORD_ONLY" if keyword_only else "POSITIONAL_OR_KEYWORD", default if eq else None)
            )
    return params


def _default_repr(value: object) -> str:
    import re

    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def signature_params(func: Any, *, bound: bool) -> list[Param] | None:
    """Headwater's side, as :class:`Param` s (``bound`` drops self/cls); None when it has no signature."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    if bound and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]
    return [Param(p.name, p.kind.name, None if p.default is p.empty else _default_repr(p.default)) for p in params]


def compare_params(sdk: list[Param], ours: list[Param]) -> str:
    """How ``ours`` fails to accept calls written for ``sdk`` ("" when it accepts them all alike)."""
    problems: list[str] = []
    by_name = {p.name: p for p in ours}
    kinds = {p.kind for p in ours}
    for p in sdk:
        if p.name.startswith("_") and p.default is not None:
            continue  # SDK v1's private parameters: code does not pass them
        if p.kind == "VAR_POSITIONAL":
            if "VAR_POSITIONAL" not in kinds:
                problems.append(f"no *{p.name}")
            continue
        if p.kind == "VAR_KEYWORD":
            if "VAR_KEYWORD" not in kinds:
                problems.append(f"no **{p.name}")
            continue
        mine = by_name.get(p.name)
        if mine is None:
            problems.append(f"no parameter {p.name!r}")
        elif p.default is not None and mine.default is None:
            problems.append(f"{p.name!r} is required (SDK v1: default {p.default})")
        elif p.default is not None and mine.default != p.default:
            problems.append(f"{p.name!r} defaults to {mine.default} (SDK v1: {p.default})")
        elif p.kind in _KEYWORD_OK and mine.kind not in _KEYWORD_OK:
            problems.append(f"{p.name!r} cannot be passed by keyword")
    sdk_positional = [
        p.name for p in sdk if p.kind in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD") and not p.name.startswith("_")
    ]
    my_positional = [
        p.name for p in ours if p.kind in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD") and not p.name.startswith("_")
    ]
    if my_positional[: len(sdk_positional)] != sdk_positional and not problems:
        problems.append(f"positional order ({', '.join(my_positional)}) is not SDK v1's ({', '.join(sdk_positional)})")
    sdk_names = {p.name for p in sdk}
    for p in ours:
        if p.name not in sdk_names and p.default is None and p.kind not in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            problems.append(f"requires {p.name!r}, which SDK v1 does not have")
    return "; ".join(problems)


# -- not supported, statically ------------------------------------------------------------------


def _names_not_supported(node: ast.AST) -> bool:
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
        func = node.exc.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name.endswith("NotSupportedError")
    call = node.value if isinstance(node, ast.Expr | ast.Return) else None
    if isinstance(call, ast.Call):
        func = call.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return "not_supported" in name.lower()
    return False


@functools.cache
def _index(filename: str) -> dict[tuple[str, int], ast.AST]:
    """A source file's ``def``/``class`` nodes by (name, first line, decorators included); parsed once.

    Classes are also indexed as (name, 0) when the name is unique in the file.
    """
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    index: dict[tuple[str, int], ast.AST] = {}
    class_names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            index[(node.name, first)] = node
            if isinstance(node, ast.ClassDef):
                class_names.append(node.name)
                index[(node.name, 0)] = node
    for name in {n for n in class_names if class_names.count(n) > 1}:
        del index[(name, 0)]
    return index


def _definition(obj: Any) -> ast.AST | None:
    """The ``def``/``class`` node of a function or class."""
    try:
        filename = inspect.getsourcefile(obj)
    except TypeError:
        return None
    if not filename:
        return None
    if inspect.isclass(obj):
        return _index(filename).get((obj.__qualname__.split(".")[-1], 0))
    code = getattr(obj, "__code__", None)
    return None if code is None else _index(filename).get((code.co_name, code.co_firstlineno))


@functools.cache
def raises_not_supported(func: Any) -> bool:
    """True when ``func``'s code raises NotSupportedError right away (see the module docstring)."""
    definition = _definition(inspect.unwrap(func))
    if not isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    body = definition.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if body and _names_not_supported(body[0]):
        return True
    returns = definition.returns
    no_return = returns is not None and "NoReturn" in ast.unparse(returns)
    return no_return and any(_names_not_supported(node) for node in ast.walk(definition))


# -- instance attributes ------------------------------------------------------------------------


@functools.cache
def instance_attributes(cls: type) -> frozenset[str]:
    """Names set on instances by the class's code (``self.x = ...``), dataclass fields, ``__slots__``, annotations."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass is object:
            continue
        names.update(getattr(klass, "__annotations__", {}))
        slots = vars(klass).get("__slots__", ())
        names.update([slots] if isinstance(slots, str) else slots)
        definition = _definition(klass)
        if definition is None:
            continue
        for node in ast.walk(definition):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AnnAssign | ast.AugAssign)
                else []
            )
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    names.add(target.attr)
    return frozenset(names)


# -- the comparison -----------------------------------------------------------------------------


def _compare_member(cls: type, name: str, sdk: list[Any]) -> Member:
    kind = sdk[0]
    try:
        raw = inspect.getattr_static(cls, name)
    except AttributeError:
        if kind in ("property", "attribute") and name in instance_attributes(cls):
            return Member(IMPLEMENTED, kind)
        return Member(MISSING, kind)
    func = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw
    if isinstance(raw, property):
        func = raw.fget
    if callable(func) and not inspect.isclass(func) and raises_not_supported(func):
        return Member(NOT_SUPPORTED, kind)
    if inspect.isfunction(raw) and next(iter(inspect.signature(raw).parameters), "") != "self":
        raw = staticmethod(raw)  # a function assigned in the class body, called on the class
    ours = (
        "staticmethod"
        if isinstance(raw, staticmethod)
        else "classmethod"
        if isinstance(raw, classmethod)
        else "method"
        if inspect.isfunction(raw) or inspect.ismethoddescriptor(raw)
        else "property"
        if isinstance(raw, property) or inspect.isdatadescriptor(raw)
        else "class"
        if inspect.isclass(raw)
        else "attribute"
    )
    if kind in ("property", "attribute", "class"):
        if ours in ("method", "staticmethod", "classmethod") and kind == "property":
            return Member(IMPLEMENTED, kind, f"a {ours} (SDK v1: a property)")
        return Member(IMPLEMENTED, kind)
    if ours not in ("method", "staticmethod", "classmethod"):
        if callable(raw):  # a callable object standing in for the method
            return Member(IMPLEMENTED, kind, _signature_mismatch(sdk[1], raw, bound=False))
        return Member(IMPLEMENTED, kind, f"a {ours} (SDK v1: a {kind})")
    if kind in ("staticmethod", "classmethod") and ours == "method":
        return Member(IMPLEMENTED, kind, f"an instance method (SDK v1: a {kind}, called on the class)")
    return Member(IMPLEMENTED, kind, _signature_mismatch(sdk[1], func, bound=ours != "staticmethod"))


def _signature_mismatch(spec: list[str] | None, func: Any, *, bound: bool) -> str:
    if spec is None:
        return ""
    ours = signature_params(func, bound=bound)
    if ours is None:
        return ""
    return compare_params(parse_params(spec), ours)


def _compare_class(key: str, served_as: str, obj: Any, record: dict[str, Any]) -> ClassResult:
    from headwater.compat.placeholders import is_placeholder

    if is_placeholder(obj):
        result = ClassResult(key, served_as, NOT_SUPPORTED)
        result.members["__init__"] = Member(NOT_SUPPORTED, "constructor")
        for name, sdk in record["members"].items():
            result.members[name] = Member(NOT_SUPPORTED, sdk[0])
        return result
    result = ClassResult(key, served_as, IMPLEMENTED)
    if inspect.isclass(obj):
        init = Member(IMPLEMENTED, "constructor", _signature_mismatch(record["init"], obj, bound=False))
        result.members["__init__"] = init
        for name, sdk in record["members"].items():
            result.members[name] = _compare_member(obj, name, sdk)
    else:  # served by something that is not a class (a factory): compare the call only
        result.members["__init__"] = Member(
            IMPLEMENTED, "constructor", _signature_mismatch(record["init"], obj, bound=False)
        )
        for name, sdk in record["members"].items():
            present = hasattr(obj, name)
            result.members[name] = Member(IMPLEMENTED if present else MISSING, sdk[0])
    return result


def load_snapshot() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return data


def compare(snapshot: dict[str, Any] | None = None) -> Report:
    """The layer (active in this process) against the snapshot."""
    snapshot = snapshot or load_snapshot()
    report = Report(pipeline_api=list(snapshot["pipeline_api"]))
    served: dict[str, tuple[str, Any]] = {}  # class key -> (where found, object)
    unresolved: dict[str, str] = {}  # class key -> first place it should have been
    for path, names in sorted(snapshot["modules"].items()):
        try:
            module = importlib.import_module(path)
        except ImportError:
            report.modules[path] = MISSING
            for name, what in names.items():
                report.names[f"{path}.{name}"] = MISSING
                if what.startswith("class "):
                    unresolved.setdefault(what[6:], f"{path}.{name}")
            continue
        report.modules[path] = IMPLEMENTED
        for name, what in sorted(names.items()):
            try:
                obj = getattr(module, name)
            except AttributeError:
                report.names[f"{path}.{name}"] = MISSING
                if what.startswith("class "):
                    unresolved.setdefault(what[6:], f"{path}.{name}")
                continue
            from headwater.compat.placeholders import is_placeholder

            report.names[f"{path}.{name}"] = NOT_SUPPORTED if is_placeholder(obj) else IMPLEMENTED
            if what.startswith("class "):
                key = what[6:]
                if key not in served or (is_placeholder(served[key][1]) and not is_placeholder(obj)):
                    served[key] = (f"{path}.{name}", obj)
            elif what == "function" and not is_placeholder(obj):
                spec = snapshot["functions"][f"{path}.{name}"]
                report.functions[f"{path}.{name}"] = Member(
                    IMPLEMENTED, "function", _signature_mismatch(spec, obj, bound=False)
                )
    for key, record in sorted(snapshot["classes"].items()):
        if key in served:
            where, obj = served[key]
            report.classes[key] = _compare_class(key, where, obj, record)
        else:
            result = ClassResult(key, unresolved.get(key, ""), MISSING)
            result.members["__init__"] = Member(MISSING, "constructor")
            for name, sdk in record["members"].items():
                result.members[name] = Member(MISSING, sdk[0])
            report.classes[key] = result
    return report


# -- the known gaps and the table ----------------------------------------------------------------


def load_known_gaps() -> dict[str, str]:
    data: dict[str, str] = json.loads(KNOWN_GAPS.read_text(encoding="utf-8"))["gaps"]
    return data


def known_gaps_text(report: Report) -> str:
    data = {
        "about": "Today's known gaps of the azureml layer against tests/compat/sdk_v1_snapshot.json; the "
        "conformance test allows these and no others. Only ever shrinks: regenerate with "
        "`.venv/bin/python scripts/sdk_conformance.py --gaps`.",
        "gaps": report.gaps(),
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def _figures(results: list[ClassResult]) -> tuple[int, int, int, int, int, int]:
    members = [m for r in results for m in r.members.values()]
    implemented = [m for m in members if m.status == IMPLEMENTED]
    signed = [m for m in implemented if m.kind not in ("property", "attribute", "class")]
    matching = [m for m in signed if not m.mismatch]
    return (
        len(members),
        len(implemented),
        sum(1 for m in members if m.status == NOT_SUPPORTED),
        sum(1 for m in members if m.status == MISSING),
        len(matching),
        len(signed),
    )


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "n/a"


def _figure_line(label: str, results: list[ClassResult]) -> str:
    total, implemented, unsupported, missing, matching, signed = _figures(results)
    return (
        f"| {label} | {len(results)} | {total} | {implemented} ({_pct(implemented, total)}) | "
        f"{unsupported} ({_pct(unsupported, total)}) | {missing} ({_pct(missing, total)}) | "
        f"{matching} of {signed} ({_pct(matching, signed)}) |"
    )


def render_table(report: Report, snapshot: dict[str, Any]) -> str:
    """``docs/sdk-v1-conformance.md``."""
    packages = ", ".join(f"{name} {version}" for name, version in sorted(snapshot["packages"].items()))
    pipeline = [report.classes[key] for key in report.pipeline_api]
    everything = list(report.classes.values())
    modules_missing = sorted(p for p, s in report.modules.items() if s == MISSING)
    names_missing = sum(1 for s in report.names.values() if s == MISSING)
    functions_mismatch = sum(1 for m in report.functions.values() if m.mismatch)
    lines = [
        "# SDK v1 conformance",
        "",
        "<!-- Generated by tests/compat/test_conformance.py (and scripts/sdk_conformance.py --gaps); "
        "do not edit by hand. -->",
        "",
        f"Headwater's `azureml` compatibility layer measured against the real SDK v1 ({packages}; "
        f"introspected offline on Python {snapshot['python']}, `tests/compat/sdk_v1_snapshot.json`).",
        "",
        "A member is a public method, property or attribute of a class (inherited ones included) or its "
        "constructor. **Implemented**: it exists (a property may be an instance attribute). **Not supported**: the "
        "class is a stand-in, or the member raises `NotSupportedError` with advice when used. **Missing**: "
        "using it is an `AttributeError`. **Signature matches**: of the implemented methods and constructors, "
        "those that take SDK v1's parameter names, positional order and defaults.",
        "",
        "| classes | count | members | implemented | not supported | missing | signature matches |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        _figure_line("the pipeline API", pipeline),
        _figure_line("… of them provided by Headwater", [r for r in pipeline if r.status == IMPLEMENTED]),
        _figure_line("all measured", everything),
        "",
        f"Module paths: {len(report.modules)} measured, {len(modules_missing)} raise ImportError"
        + (f" ({', '.join(f'`{p}`' for p in modules_missing)})" if modules_missing else "")
        + f". Public names in them: {len(report.names)}, {names_missing} missing. Module functions: "
        f"{len(report.functions)} implemented, {functions_mismatch} with a different signature.",
        "",
        "## How to regenerate",
        "",
        "- The snapshot (only when the pins or the module list in `scripts/sdk_conformance.py` change): "
        "`make conformance-snapshot` (creates `.conformance/venv`, installs the SDK, introspects it offline).",
        "- The known-gaps list and this page, after closing gaps: `.venv/bin/python scripts/sdk_conformance.py "
        "--gaps`. `tests/compat/test_conformance.py` fails on a gap not in `tests/compat/sdk_v1_known_gaps.json`, "
        "and on a listed gap that is closed (the list only shrinks).",
        "",
        "## Per class",
        "",
        "The pipeline API first, then every other class measured. Members are listed when missing, not supported "
        "or with a different signature.",
        "",
    ]
    ordered = pipeline + sorted((r for r in everything if r.key not in report.pipeline_api), key=lambda r: r.key)
    for result in ordered:
        total, implemented, unsupported, missing, matching, signed = _figures([result])
        status = {IMPLEMENTED: "", NOT_SUPPORTED: " (not supported: a stand-in)", MISSING: " (missing)"}[result.status]
        served = f"Served as `{result.served_as}`. " if result.served_as else ""
        lines += [
            f"### `{result.key}`{status}",
            "",
            f"{served}{total} members: {implemented} implemented, {unsupported} not supported, {missing} missing; "
            f"signature matches {matching} of {signed}.",
            "",
        ]
        notable = [(n, m) for n, m in sorted(result.members.items()) if m.status != IMPLEMENTED or m.mismatch]
        if notable and result.status == IMPLEMENTED:
            lines += ["| member | kind | status |", "| --- | --- | --- |"]
            for name, member in notable:
                what = (f"signature: {member.mismatch}" if member.mismatch else member.status).replace("|", "\\|")
                lines.append(f"| `{name}` | {member.kind} | {what} |")
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_gaps_and_table() -> None:
    """What ``scripts/sdk_conformance.py --gaps`` does: the layer on, compared, both files written."""
    from headwater.compat.activate import activate

    activate()
    snapshot = load_snapshot()
    report = compare(snapshot)
    KNOWN_GAPS.write_text(known_gaps_text(report), encoding="utf-8")
    DOC.write_text(render_table(report, snapshot), encoding="utf-8")
    print(f"wrote {KNOWN_GAPS.relative_to(ROOT)} ({len(report.gaps())} gaps) and {DOC.relative_to(ROOT)}")
