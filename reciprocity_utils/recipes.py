"""Rerun recipes and parameter values: data, never code.

A recipe (``params/*.yaml``, a published report's ``params.yaml``) and every ``-p key=value``
become the literal assignments papermill writes into each notebook's injected-parameters
cell. Reports invite readers to rerun a recipe someone else shared, so a value must never be
able to turn into code there:

- YAML is read by :class:`PlainYamlLoader`, which knows only plain scalars (text, whole
  numbers, decimals, true/false, null), lists and mappings. Every explicit tag (``!!binary``,
  ``!!timestamp``, ``!!set``, ``!!python/...``, local tags) is refused with one line, and an
  unquoted date stays text instead of becoming a ``datetime``.
- :func:`check_parameter_values` holds every value to the type of the notebook's own default
  (text, whole number, decimal, true/false), or to None and lists of plain scalars where the
  default says nothing narrower.
- :func:`parameterized_notebook` injects the values and reads the injected cell back with
  :func:`ast.literal_eval`: every statement must be ``name = literal`` equal to the value given,
  or the notebook does not run.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path
from typing import Any

import yaml

PLAIN_SCALARS = (type(None), bool, int, float, str)
MAX_RECIPE_CHARACTERS = 1 << 20
STUDY_NAME = re.compile(r"^[^\W_][\w.\- ]{0,99}$")


class RecipeError(ValueError):
    """A recipe or parameter value the studies cannot take as plain data (one line, says where)."""


class PlainYamlLoader(yaml.SafeLoader):
    """YAML's safe loader without its non-plain types: explicit tags are refused, dates stay text."""


# Implicit resolvers decide what an *untagged* scalar means; dropping the timestamp one keeps an
# unquoted 2024-01-01 as the text it is (a study parameter is never a date object).
PlainYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_IMPLICIT_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")}


def _compose_plain(loader: PlainYamlLoader, node: yaml.Node, seen: set[int] | None = None) -> None:
    # Aliases share nodes: each is checked once, so self-referencing or doubling aliases cost nothing.
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if node.tag not in _IMPLICIT_TAGS:
        mark = node.start_mark
        raise RecipeError(
            f"{loader.source_name}, line {mark.line + 1}: the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed; "
            "recipes hold plain values only (text, numbers, true/false, lists)"
        )
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _compose_plain(loader, item, seen)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _compose_plain(loader, key, seen)
            _compose_plain(loader, value, seen)


def load_plain_yaml(text: str, source_name: str) -> Any:
    """``text`` as plain data, or :class:`RecipeError` naming ``source_name`` and the line."""
    if len(text) > MAX_RECIPE_CHARACTERS:
        raise RecipeError(f"{source_name}: {len(text):,} characters; a recipe holds at most {MAX_RECIPE_CHARACTERS:,}")
    loader = PlainYamlLoader(text)
    loader.source_name = source_name
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # Tags are checked on the node tree before anything is constructed: no constructor of a
        # non-plain type ever runs, whatever it would build.
        _compose_plain(loader, node)
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RecipeError(f"{source_name}{where}: not valid YAML ({problem})") from None
    finally:
        loader.dispose()


def read_recipe(path: str | Path) -> dict[str, Any]:
    """A recipe file as a mapping of parameter names to plain values."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RecipeError(f"{path}: a recipe must be UTF-8 text") from None
    except IsADirectoryError:
        raise RecipeError(f"{path}: is a folder; a recipe is a YAML file") from None
    params = load_plain_yaml(text, str(path)) or {}
    if not isinstance(params, dict) or not all(isinstance(key, str) for key in params):
        raise RecipeError(f"{path}: expected a mapping of parameter names to values")
    return params


def parse_assignment(pair: str, source: str = "-p") -> tuple[str, Any]:
    """``KEY=VALUE`` from the command line; the value is read as plain YAML (quote it to keep it text)."""
    if "=" not in pair:
        raise RecipeError(f"{source} {pair!r}: expected KEY=VALUE")
    key, raw = pair.split("=", 1)
    key = key.strip()
    if not key.isidentifier():
        raise RecipeError(f"{source} {pair!r}: {key!r} is not a parameter name")
    value = load_plain_yaml(raw, f"{source} {key}") if raw else ""
    if isinstance(value, dict):
        raise RecipeError(f"{source} {key}: expected a plain value, found a mapping")
    return key, value


def _kind(value: Any) -> str:
    return {
        type(None): "nothing",
        bool: "true or false",
        int: "a whole number",
        float: "a decimal number",
        str: "text",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)


def _check_plain(name: str, value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise RecipeError(f"{where}: parameter {name} must be a finite number, not {value!r}")
    if not isinstance(value, PLAIN_SCALARS):
        raise RecipeError(f"{where}: parameter {name} must be text, a number, true/false or empty, not {_kind(value)}")


def check_value(name: str, value: Any, default: Any, where: str) -> Any:
    """``value`` held to the type of the notebook's ``default``; returns the value to inject.

    A whole number given where text is declared becomes its digits (ids are often typed
    unquoted; that conversion is exact). Anything else of the wrong type is refused.
    """
    if isinstance(value, list):
        if not (default is None or isinstance(default, list)):
            raise RecipeError(f"{where}: parameter {name} expects {_kind(default)}, not a list")
        for item in value:
            _check_plain(name, item, where)
        return list(value)
    _check_plain(name, value, where)
    if default is None:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, str):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        ok = isinstance(value, str)
    elif isinstance(default, list):
        raise RecipeError(f"{where}: parameter {name} expects a list, not {_kind(value)}")
    else:
        ok = False
    if not ok:
        raise RecipeError(f"{where}: parameter {name} expects {_kind(default)}, not {_kind(value)} ({value!r})")
    return value


def notebook_defaults(notebook: Path) -> dict[str, Any]:
    """The notebook's parameters and their default values, read as literals from its parameters cell."""
    import papermill

    defaults = {}
    for name, info in papermill.inspect_notebook(str(notebook)).items():
        try:
            defaults[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            defaults[name] = None  # not a literal: only plain scalars and lists are accepted for it
    return defaults


def check_parameter_values(params: dict[str, Any], defaults: dict[str, Any], where: str) -> dict[str, Any]:
    """Every value in ``params`` checked against ``defaults`` (names not there are left to the caller)."""
    return {name: check_value(name, value, defaults[name], where) if name in defaults else value for name, value in params.items()}


def check_study_name(name: Any) -> str:
    """A report's name is a plain folder name: no separators, no leading dot, no '..'."""
    if not isinstance(name, str) or not STUDY_NAME.match(name) or name.strip() != name:
        raise RecipeError(
            f"study name {name!r} must be a plain name (letters, digits, '.', '-', '_' or spaces, starting with a letter "
            "or digit, at most 100 characters): it names the report's folder"
        )
    return name


def injected_assignments(notebook) -> dict[str, Any]:
    """The injected-parameters cell of a parameterized notebook, read back as literals.

    Raises :class:`RecipeError` if any statement there is not ``name = literal``: then a value
    became code, and the notebook must not run.
    """
    cells = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    values: dict[str, Any] = {}
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            raise RecipeError("the injected parameters are not valid Python; a value was not escaped") from None
        for statement in tree.body:
            if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name)):
                raise RecipeError(f"the injected parameters hold a statement that is not an assignment (line {statement.lineno})")
            try:
                values[statement.targets[0].id] = ast.literal_eval(statement.value)
            except ValueError:
                raise RecipeError(f"parameter {statement.targets[0].id} was injected as code, not as a literal value") from None
    return values


def parameterized_notebook(path: Path, parameters: dict[str, Any], kernel_name: str = "python3"):
    """``path`` with ``parameters`` injected, after proving each injected value is the literal given."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    notebook = load_notebook_node(str(path))  # as papermill reads it (every cell gets a tags list)
    notebook = parameterize_notebook(notebook, parameters, kernel_name=kernel_name)
    injected = injected_assignments(notebook)
    for name, value in parameters.items():
        if name not in injected or type(injected[name]) is not type(value) or injected[name] != value:
            raise RecipeError(f"parameter {name} would not reach {path.name} as the value given ({value!r}); refusing to run it")
    return notebook
