"""Load a folder laid out like azure-rest-api-specs and answer questions about its swaggers.

    specs = SpecFolder(Path("../shared/azure/rest-specs"))
    for example in specs.examples():                 # every x-ms-examples file present
        example.operation.template, example.path
    operation = specs.match("PUT", "/subscriptions/S/providers/Microsoft.PolicyInsights/remediations/r", "2024-10-01")
    specs.api_versions("PUT", "/subscriptions/S/...")   # every version the folder has of that operation
    operation.response_errors(200, body)             # [] when the body fits the schema
    operation.body_errors(request_body)

`$ref`s resolve across files (common-types included) through a `referencing` registry that
holds every JSON file under ``specification/``; schemas are checked with jsonschema's Draft 4
validator plus the swagger rules in :mod:`tests.contract.schema_rules`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlparse

from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.contract.placeholders import with_real_subscriptions
from tests.contract.schema_rules import schema_errors

METHODS = ("get", "put", "post", "patch", "delete", "head")
_PARAM = re.compile(r"\{([^}]+)\}")


def _pointer(*parts: str) -> str:
    """A JSON pointer to ``parts``, percent-encoded for use as a URI fragment."""
    escaped = "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)
    return quote("/" + escaped, safe="/~")


class Resolver:
    """Follows `$ref`s between the folder's files (one registry, file:// URIs)."""

    def __init__(self, root: Path) -> None:
        resources = []
        for path in sorted((root / "specification").rglob("*.json")):
            contents = json.loads(path.read_text(encoding="utf-8-sig"))
            resources.append((path.resolve().as_uri(), Resource.from_contents(contents, default_specification=DRAFT4)))
        self.registry: Registry[Any] = Registry().with_resources(resources)
        self.documents: dict[str, Any] = {uri: resource.contents for uri, resource in resources}

    def deref(self, node: Any, base_uri: str) -> Any:
        """``node`` with any chain of `$ref`s (relative to ``base_uri``) followed."""
        if isinstance(node, Mapping) and "$ref" in node:
            return self.follow(urljoin(base_uri, str(node["$ref"])))[0]
        return node

    def follow(self, uri: str) -> tuple[Any, str]:
        """The node at ``uri`` (``file:///...#/pointer``) after any `$ref` chain, and where it lives."""
        while True:
            document, _, fragment = uri.partition("#")
            node = self.registry.resolver(document).lookup("#" + fragment).contents
            if not (isinstance(node, Mapping) and "$ref" in node):
                return node, uri if "#" in uri else uri + "#"
            uri = urljoin(document, str(node["$ref"]))


@dataclass(frozen=True)
class Operation:
    """One method on one path of one swagger file."""

    folder: SpecFolder = field(repr=False, compare=False)
    swagger: Path
    paths_key: str  # "paths" or "x-ms-paths"
    template: str
    method: str  # upper case
    operation_id: str
    api_version: str
    parameters: tuple[Mapping[str, Any], ...]  # dereferenced, path-level ones included

    @property
    def uri(self) -> str:
        return self.swagger.resolve().as_uri()

    @property
    def definition(self) -> Mapping[str, Any]:
        return self.folder.resolver.documents[self.uri][self.paths_key][self.template][self.method.lower()]  # type: ignore[no-any-return]

    @property
    def is_by_id(self) -> bool:
        """A template that is one free-form parameter (``/{resourceId}``): it matches any path."""
        return bool(re.fullmatch(r"/?\{[^}/]+\}", self.template.split("?")[0]))

    @property
    def is_generic(self) -> bool:
        """Microsoft.Resources' any-provider resource operations (``providers/{namespace}/{type}/{name}``).

        ARM hands such a request to the provider the path names, with that provider's
        api-versions, so these templates say nothing about the request; like ``/{resourceId}``
        they are left out of matching.
        """
        segments = [s for s in self.template.split("?")[0].split("/") if s]
        last = max((i for i, s in enumerate(segments) if s.lower() == "providers"), default=-1)
        tail = segments[last + 1 :] if last >= 0 else []
        return len(tail) >= 2 and all(s.startswith("{") for s in tail)

    def parameter(self, location: str) -> list[Mapping[str, Any]]:
        return [p for p in self.parameters if p.get("in") == location]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The path template as a case-insensitive regex (enum parameters match only their values)."""
        by_name = {str(p["name"]): p for p in self.parameter("path")}
        regex = ""
        position = 0
        template = self.template.split("?")[0]
        for match in _PARAM.finditer(template):
            regex += re.escape(template[position : match.start()])
            spec = by_name.get(match.group(1), {})
            if spec.get("enum"):
                regex += "(?:" + "|".join(re.escape(str(v)) for v in spec["enum"]) + ")"
            elif spec.get("x-ms-skip-url-encoding"):
                regex += ".+"
            else:
                regex += "[^/]+"
            position = match.end()
        regex += re.escape(template[position:])
        return re.compile(regex + "/?", re.IGNORECASE)

    @property
    def literal_segments(self) -> int:
        return sum(1 for s in self.template.split("?")[0].split("/") if s and "{" not in s)

    @property
    def statuses(self) -> list[str]:
        return list(self.definition.get("responses") or {})

    def _here(self, *parts: str) -> str:
        return self.uri + "#" + _pointer(self.paths_key, self.template, self.method.lower(), *parts)

    def response_key(self, status: int) -> str | None:
        """The swagger's response entry for ``status`` (``default`` when it is not listed)."""
        responses = self.definition.get("responses") or {}
        key = str(status) if str(status) in responses else "default"
        return key if key in responses else None

    def response_schema_uri(self, status: int) -> str | None:
        """Where the body schema for ``status`` lives, or None when that response has no body."""
        key = self.response_key(status)
        if key is None:
            return None
        response, where = self.folder.resolver.follow(self._here("responses", key))
        return where + "/schema" if "schema" in response else None

    def response_errors(self, status: int, body: Any, tolerated: frozenset[str] = frozenset()) -> list[str]:
        """Why ``body`` does not fit the schema the swagger gives for ``status``."""
        if self.response_key(status) is None:
            return [f"status {status} is not a response of {self.operation_id}"]
        schema_uri = self.response_schema_uri(status)
        if schema_uri is None:
            return [] if body in (None, "", b"") else [f"{self.operation_id} {status} has no body, got {body!r:.200}"]
        return schema_errors(self.folder.resolver, schema_uri, body, tolerated)

    def body_parameter(self) -> tuple[Mapping[str, Any], str] | None:
        """The ``in: body`` parameter and the URI of its schema, if the operation has one."""
        for index, _ in enumerate(self.definition.get("parameters") or []):
            param, where = self.folder.resolver.follow(self._here("parameters", str(index)))
            if param.get("in") == "body":
                return param, where + "/schema"
        return None

    def body_errors(self, body: Any) -> list[str]:
        """Why a request body does not fit the operation's body parameter ([] if it has none and none came)."""
        found = self.body_parameter()
        if found is None:
            return [] if body in (None, "", b"", {}) else [f"{self.operation_id} takes no body, got {body!r:.200}"]
        param, schema_uri = found
        if body is None:
            return [f"{self.operation_id} requires a body"] if param.get("required") else []
        return schema_errors(self.folder.resolver, schema_uri, body, frozenset())


@dataclass(frozen=True)
class Example:
    """One `x-ms-examples` file that exists, and the operation that names it."""

    path: Path
    title: str
    operation: Operation

    @cached_property
    def content(self) -> Mapping[str, Any]:
        """The example file, its placeholder subscription ids (``subid``) made GUIDs (placeholders.py)."""
        found: Mapping[str, Any] = with_real_subscriptions(json.loads(self.path.read_text(encoding="utf-8-sig")))
        return found

    @property
    def parameters(self) -> Mapping[str, Any]:
        found: Mapping[str, Any] = self.content.get("parameters") or {}
        return found

    @property
    def responses(self) -> Mapping[str, Any]:
        found: Mapping[str, Any] = self.content.get("responses") or {}
        return found


class SpecFolder:
    """Every swagger (a JSON file with ``swagger`` and ``paths``) under ``root/specification``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.resolver = Resolver(root)
        self.operations: list[Operation] = []
        for uri, document in self.resolver.documents.items():
            if isinstance(document, Mapping) and "swagger" in document and "paths" in document:
                self.operations.extend(self._operations(Path(_path_of(uri)), document))

    def _operations(self, swagger: Path, document: Mapping[str, Any]) -> Iterator[Operation]:
        uri = swagger.resolve().as_uri()
        version = str((document.get("info") or {}).get("version", ""))
        for paths_key in ("paths", "x-ms-paths"):
            for template, item in (document.get(paths_key) or {}).items():
                shared = list(item.get("parameters") or [])
                for method in METHODS:
                    op = item.get(method)
                    if op is None:
                        continue
                    params = [self.resolver.deref(p, uri) for p in [*shared, *(op.get("parameters") or [])]]
                    yield Operation(
                        self, swagger, paths_key, template, method.upper(), str(op.get("operationId", "")),
                        version, tuple(params),
                    )  # fmt: skip

    def examples(self) -> list[Example]:
        """Every example file an operation names that exists, sorted by file path."""
        found: dict[Path, Example] = {}
        for op in self.operations:
            for title, ref in (op.definition.get("x-ms-examples") or {}).items():
                path = (op.swagger.parent / str(ref["$ref"])).resolve()
                if path.is_file() and path not in found:
                    found[path] = Example(path, str(title), op)
        return [found[p] for p in sorted(found)]

    def unreferenced_examples(self) -> list[Path]:
        """Files in an ``examples/`` folder that no operation names (replaying them has no operation)."""
        named = {e.path for e in self.examples()}
        present = {p.resolve() for p in (self.root / "specification").rglob("examples/*.json")}
        return sorted(present - named)

    def match(self, method: str, path: str, api_version: str | None = None) -> Operation | None:
        """The most specific operation whose template matches (``/{id}``-only templates excluded).

        With ``api_version``, that operation as the swagger of that version defines it (None when
        the folder has no swagger of it at that version): two versions of one operation share a
        template but not their schemas (2024-10-01 remediations have ``filters.resourceIds``,
        2021-10-01 ones do not). Without it, the newest version's.
        """
        same = self._versions_of_best(method, path)
        if api_version is None:
            return same[-1] if same else None
        return next((op for op in same if op.api_version == api_version), None)

    def api_versions(self, method: str, path: str) -> list[str]:
        """Every api-version the folder has a swagger of the operation ``match`` finds for, sorted."""
        return sorted({op.api_version for op in self._versions_of_best(method, path)})

    def _versions_of_best(self, method: str, path: str) -> list[Operation]:
        """Every version of the most specific matching operation (same template shape), oldest first."""
        candidates = [
            op
            for op in self.operations
            if op.method == method.upper() and not (op.is_by_id or op.is_generic) and op.pattern.fullmatch(path)
        ]
        if not candidates:
            return []
        candidates.sort(key=lambda op: (-op.literal_segments, op.template.count("{")))
        best = _shape(candidates[0].template)
        return sorted((op for op in candidates if _shape(op.template) == best), key=lambda op: op.api_version)

    @cached_property
    def covered_services(self) -> frozenset[str]:
        """``Namespace/type`` (lower case) of every resource type some template names literally."""
        return frozenset(service_of(op.template) for op in self.operations if not (op.is_by_id or op.is_generic)) - {""}

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()


def _shape(template: str) -> str:
    """A template with its parameter names blanked, to find the same operation in other versions."""
    return _PARAM.sub("{}", template.split("?")[0]).lower()


def _path_of(uri: str) -> str:
    return unquote(urlparse(uri).path)


def service_of(path: str) -> str:
    """``microsoft.maintenance/configurationassignments`` for a path or template: the type it addresses.

    The last ``providers/<Namespace>/<type>`` pair decides. ``providers/<Namespace>`` alone or
    with one of the providers API's actions is the providers API; paths without ``providers``
    are Microsoft.Resources' own (subscriptions, resource groups, tenants, ...), named by their
    last type segment. Microsoft.Resources' any-provider templates have no service ("").
    """
    segments = [s for s in path.split("?")[0].split("/") if s]
    last = max((i for i, s in enumerate(segments) if s.lower() == "providers"), default=-1)
    if last < 0:
        kinds = [s.lower() for s in segments[0::2]]
        return f"microsoft.resources/{kinds[-1]}" if kinds else ""
    tail = segments[last + 1 :]
    if not tail:
        return ""
    if len(tail) == 1 or (len(tail) == 2 and tail[1].lower() in _PROVIDER_ACTIONS):
        return "microsoft.resources/providers"
    if tail[0].startswith("{") or tail[1].startswith("{"):
        return ""
    return f"{tail[0]}/{tail[1]}".lower()


_PROVIDER_ACTIONS = frozenset({"register", "unregister", "resourcetypes", "providerpermissions"})
