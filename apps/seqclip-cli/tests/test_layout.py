"""The app's layout, as the root README's architecture section draws it: five parts (``cli/``,
``training/``, ``search/``, ``evaluation/``, ``model/``) over shared leaves, no import circle between its
modules, no arrow running back up (nothing imports the CLI; the model, evaluation and search never
import training; the model never imports evaluation; nothing but the CLI imports search), and the run
directory's and a model directory's file names spelled in one module each."""

import ast
from pathlib import Path

import seqclip

SOURCE = Path(seqclip.__file__).parent
PARTS = ("cli", "training", "search", "evaluation", "model")


def _name(path: Path) -> str:
    """``evaluation/scorer.py`` -> ``evaluation.scorer``; a package's ``__init__.py`` -> its name."""
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "seqclip"


FILES = {_name(p): p for p in sorted(SOURCE.rglob("*.py"))}
MODULES = {name: ast.parse(p.read_text(encoding="utf-8")) for name, p in FILES.items()}


def _package(name: str) -> list[str]:
    """The package a module's relative imports start from."""
    is_package = FILES[name].name == "__init__.py"
    parts = [] if name == "seqclip" else name.split(".")
    return parts if is_package else parts[:-1]


def _imports(name: str) -> set[str]:
    """The app modules ``name`` imports, at module level or inside a function (relative imports)."""
    found = set()
    for node in ast.walk(MODULES[name]):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            base = _package(name)[: len(_package(name)) - (node.level - 1)]
            target = [*base, *(node.module.split(".") if node.module else [])]
            candidates = [".".join([*target, a.name]) for a in node.names] + [".".join(target) or "seqclip"]
            found |= {c for c in candidates if c in MODULES}
    return found


GRAPH = {name: _imports(name) - {name} for name in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                return [*path[path.index(dep) :], dep]
            if dep not in state and (found := visit(dep, [*path, dep])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_the_cycle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_import_reader_resolves_relative_imports_of_modules_and_packages():
    assert "config" in GRAPH["evaluation.scorer"] and "model.seqclip" in GRAPH["evaluation.scorer"]
    assert {"cli.data", "cli.train", "cli.eval"} <= GRAPH["cli"]
    assert "training.setup" in GRAPH["training.loop"]


def test_the_app_is_in_five_parts_over_shared_leaves():
    parts = {name.split(".")[0] for name in MODULES if "." in name}
    assert parts == set(PARTS)


def test_no_import_circle_between_the_app_modules():
    # a package's __init__ re-exports lazily (by name, not by import), so its arrows are its modules'
    assert _cycle(GRAPH) is None


def _part(name: str) -> str | None:
    head = name.split(".")[0]
    return head if head in PARTS else None


def test_no_arrow_runs_back_up():
    forbidden = {
        "model": {"training", "evaluation", "search", "cli"},
        "evaluation": {"training", "search", "cli"},
        "training": {"search", "cli"},
        "search": {"training", "cli"},
        None: {"cli", "training", "search", "evaluation"},
    }  # a shared leaf imports no part but the model's leaves
    arrows = sorted(
        (name, dep)
        for name, deps in GRAPH.items()
        for dep in deps
        if _part(dep) in forbidden.get(_part(name), set()) and name not in ("seqclip", "__main__")
    )
    leaves_into_model = sorted(
        (name, dep)
        for name, deps in GRAPH.items()
        for dep in deps
        if _part(name) is None and _part(dep) == "model" and name not in ("seqclip",)
    )
    assert arrows == [] and leaves_into_model == []


def _strings(tree: ast.Module) -> set[str]:
    """Every string constant of a module, docstrings left out."""
    docs = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    return {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
    }


def test_file_names_are_spelled_in_one_module_each():
    # (RUN/eval/ and a checkpoint's model/ are left out: "eval" and "model" are words of other meanings too)
    owner = {
        "config.toml": "rundir",
        "metrics.jsonl": "rundir",
        "trainer_state.pt": "rundir",
        "checkpoints": "rundir",
        "tensorboard": "rundir",
        "plots": "rundir",
        "config.json": "model.pretrained",
        "model.safetensors": "model.pretrained",
        "tokenizer": "model.pretrained",
        "text_encoder": "model.pretrained",
    }
    spelled = {name: sorted(m for m, tree in MODULES.items() if name in _strings(tree)) for name in owner}
    assert spelled == {name: [module] for name, module in owner.items()}


def test_every_exported_name_of_a_package_resolves_and_is_no_module():
    import importlib
    import types

    for package in (
        "seqclip",
        "seqclip.model",
        "seqclip.evaluation",
        "seqclip.training",
        "seqclip.search",
        "seqclip.cli",
    ):
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            assert not isinstance(value, types.ModuleType), f"{package}.{name} is a module"
        assert set(module.__all__) <= set(dir(module)), package
