"""A bounded safe loader for study files: YAML (and JSON) that cannot hang or crash parabo.

Plain ``yaml.safe_load`` trusts its input: a "billion laughs" of aliases
expands into more values than memory holds, a file nested a few thousand
levels deep raises ``RecursionError``, a key given twice silently keeps the
last value, and a malformed timestamp or a 5,000-digit number raises a bare
``ValueError``. :func:`load_text` refuses each of these with a
:class:`~parabo.exceptions.ConfigError` that says where (field and line) and
what the limit is:

- ``MAX_FILE_BYTES``: the size of the file;
- ``MAX_DEPTH``: how deeply mappings and lists nest;
- ``MAX_VALUES``: how many values the document holds once every alias is
  expanded (a categorical's choices count one each);
- a key given twice in one mapping (YAML merge keys ``<<`` may be overridden).

Composing stays linear in the size of the file: aliases share one node, and the
expanded size is counted once per node.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from parabo.exceptions import ConfigError

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_VALUES", "load_text"]

#: the largest study file read (bytes); the pure-Python YAML parser reads about 0.5 MB/s
MAX_FILE_BYTES = 1_000_000
#: the deepest nesting of mappings and lists (a study file needs about 5)
MAX_DEPTH = 32
#: the most values a document may hold once its aliases are expanded
MAX_VALUES = 200_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


def _dotted(path: list[str]) -> str | None:
    return ".".join(path) or None


class _BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with limits on depth, expanded size and duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str] = []  # keys of the mappings being composed, for messages

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        # index: the key node of a mapping value, or the position of a list item
        key = index.value if isinstance(index, ScalarNode) else None
        if isinstance(index, int):
            key = str(index)
        pushed = parent is not None and key is not None
        if pushed:
            self._path.append(str(key))
        if len(self._path) >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise ConfigError(
                f"nested more than {MAX_DEPTH} levels deep (at line {mark.line + 1}); "
                "a study file needs only a few levels",
                field=_dotted(self._path[:3]),
            )
        alias = self.check_event(yaml.AliasEvent)
        node = super().compose_node(parent, index)
        assert node is not None  # compose_node returns None only at the end of the stream
        if isinstance(node, MappingNode) and not alias:  # an alias's mapping was checked once
            self._check_duplicates(node)
        if pushed:
            self._path.pop()
        return node

    def _check_duplicates(self, node: MappingNode) -> None:
        seen: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            ident = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if ident in seen:
                raise ConfigError(
                    f"duplicate key {key_node.value!r} at line {line} (first at line "
                    f"{seen[ident]}); give each key once",
                    field=_dotted([*self._path, str(key_node.value)]),
                )
            seen[ident] = line

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            # e.g. a timestamp like 2024-13-45, or an integer with thousands of digits
            if isinstance(exc, ConfigError):
                raise
            problem = str(exc)
            if "digits" in problem:  # Python refuses to read integers of more than 4300 digits
                problem = "a number with more than 4300 digits"
            raise ConfigError(
                f"cannot read the value at line {node.start_mark.line + 1}: {problem}"
            ) from None


def _expanded_size(root: Node) -> int:
    """Values in the document with every alias expanded (stops counting past ``MAX_VALUES``)."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            size[key] = min(MAX_VALUES + 1, 1 + sum(size[id(c)] for c in children))
            continue
        if key in size:
            continue
        if key in on_path:
            raise ConfigError(
                f"an alias at line {node.start_mark.line + 1} refers to a value that contains it; "
                "a study file cannot be recursive"
            )
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)
    return size[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _yaml_document(text: str, where: str) -> Any:
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text)  # the reader refuses control characters here
        root = loader.get_single_node()
        if root is None:
            return None
        if _expanded_size(root) > MAX_VALUES:
            raise ConfigError(
                f"{where} holds more than {MAX_VALUES} values once its YAML aliases are "
                "expanded; write the values out or use fewer aliases"
            )
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        at = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            at = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where} is not valid YAML{at}: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ConfigError(f"duplicate key {k!r}; give each key once", field=k)
        out[k] = v
    return out


def _json_document(text: str, where: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{where} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise ConfigError(
            f"{where} is nested too deeply; a study file needs only a few levels"
        ) from None
    except ConfigError:
        raise
    except ValueError as exc:  # e.g. an integer with thousands of digits
        raise ConfigError(f"{where} holds a value that cannot be read: {exc}") from None


def load_text(text: str, where: str, *, json_file: bool = False) -> Any:
    """Parse a study file's text (YAML, or JSON with ``json_file``) within the limits above.

    ``where`` names the file in messages. Returns the document (``None`` when
    empty); raises :class:`ConfigError` for anything unreadable or over a limit.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise ConfigError(
            f"{where} is {size} bytes; a study file may be at most {MAX_FILE_BYTES} bytes"
        )
    return _json_document(text, where) if json_file else _yaml_document(text, where)
