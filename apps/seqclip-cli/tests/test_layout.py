"""The app's layout, as the root README's architecture section draws it: no import circle between
its modules, and the run directory's and a model directory's file names spelled in one module each."""

import ast
from pathlib import Path

import seqclip

SOURCE = Path(seqclip.__file__).parent
MODULES = {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(SOURCE.glob("*.py"))}


def _imports(tree: ast.Module) -> set[str]:
    """The app modules a module imports, at module level or inside a function (relative imports)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
    return found & set(MODULES)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                return [*path[path.index(dep):], dep]
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


def test_no_import_circle_between_the_app_modules():
    graph = {name: _imports(tree) - {name} for name, tree in MODULES.items()}
    assert _cycle(graph) is None


def _strings(tree: ast.Module) -> set[str]:
    """Every string constant of a module, docstrings left out."""
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs}


def test_file_names_are_spelled_in_one_module_each():
    # (RUN/eval/ and a checkpoint's model/ are left out: "eval" and "model" are words of other meanings too)
    owner = {"config.toml": "rundir", "metrics.jsonl": "rundir", "trainer_state.pt": "rundir", "checkpoints": "rundir",
             "tensorboard": "rundir", "plots": "rundir", "config.json": "pretrained",
             "model.safetensors": "pretrained", "tokenizer": "pretrained", "text_encoder": "pretrained"}
    spelled = {name: sorted(m for m, tree in MODULES.items() if name in _strings(tree)) for name in owner}
    assert spelled == {name: [module] for name, module in owner.items()}
