"""Policy Insights (policy states, triggerEvaluation, remediations) and policy assignments,
definitions and set definitions (Microsoft.Authorization).

* ``policyStates/{latest|default}/queryResults`` (2019-10-01, POST) at management group,
  subscription, resource group, resource, and assignment/definition/set-definition scope, with
  ``$filter`` (``and`` of ``field eq|ne 'value'``, ``IsCompliant eq true|false``), ``$top`` and
  ``@odata.nextLink`` paging (the SDK POSTs the link). Rows in the 2019-10-01 example shape, built
  from the estate's ``policyStates`` records, which remediations update;
* ``policyStates/latest/triggerEvaluation``: see ``policy_scans``;
* remediations: see ``policy_remediations``;
* policy assignments at any scope (PUT fills a system-assigned identity's principalId and the
  user-assigned identities' ids, GET, DELETE, lists with ``atScope()``/``atExactScope()``/
  ``policyDefinitionId eq``), policy definitions and set definitions at subscription and
  management group, built-in definitions at ``/providers/Microsoft.Authorization`` (bundled).
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from remediator.emulator import policy_remediations
from remediator.emulator.policy_model import assignment_facts, assignment_member, effect_of, in_scope, require_scope
from remediator.emulator.routing import (
    ArmError,
    Request,
    Response,
    Route,
    paged,
    route,
)
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import resource_group_of, resource_type_of, split_id, subscription_of
from remediator.emulator.system_data import system_data

ROUTES: list[Route] = []

STATES_VERSIONS = ("2019-10-01",)
POLICY_VERSIONS = ("2025-03-01", "2024-04-01", "2023-04-01", "2022-06-01", "2021-06-01", "2020-09-01")
AUTH = "/providers/Microsoft.Authorization"
ASSIGNMENT_TYPE = "Microsoft.Authorization/policyAssignments"
KINDS = {
    "policydefinitions": "Microsoft.Authorization/policyDefinitions",
    "policysetdefinitions": "Microsoft.Authorization/policySetDefinitions",
}
PRINCIPAL_NAMESPACE = uuid.UUID("3d7c2f4e-9a1b-4c6d-8e2f-5a4b3c2d1e0f")
_CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ne)\s+(?:'([^']*)'|(true|false))\s*$", re.I)


# --- policy states -------------------------------------------------------------------------------


def _state_row(state: EmulatorState, request: Request, record: dict[str, Any]) -> dict[str, Any]:
    resource_id = str(record.get("resourceId", ""))
    assignment_id = str(record.get("policyAssignmentId", ""))
    definition_id = str(record.get("policyDefinitionId", ""))
    set_id = str(record.get("policySetDefinitionId") or "")
    resource = state.store.get_live(resource_id) or {}
    reference = str(record.get("policyDefinitionReferenceId") or "")
    scope, action = assignment_facts(state, assignment_id, reference) or ("", "")
    compliance = str(record.get("complianceState", ""))
    context = f"{request.base_url}{request.path.rsplit('/', 2)[0]}/$metadata#latest"
    row: dict[str, Any] = {
        "@odata.id": None,
        "@odata.context": context + "/$entity",
        "timestamp": record.get("timestamp") or state.now_iso(),
        "resourceId": resource_id,
        "policyAssignmentId": assignment_id,
        "policyDefinitionId": definition_id,
        "effectiveParameters": None,
        "isCompliant": compliance.lower() == "compliant",
        "subscriptionId": subscription_of(resource_id),
        "resourceType": "/" + resource_type_of(resource_id).lower() if resource_type_of(resource_id) else "",
        "resourceLocation": resource.get("location") or record.get("resourceLocation") or "",
        "resourceGroup": resource_group_of(resource_id),
        "resourceTags": "tbd",
        "policyAssignmentName": split_id(assignment_id)[-1] if assignment_id else "",
        "policyAssignmentOwner": "tbd",
        "policyAssignmentParameters": "{}",
        "policyAssignmentScope": scope,
        "policyDefinitionName": split_id(definition_id)[-1] if definition_id else "",
        "policyDefinitionAction": action,
        "policyDefinitionCategory": "tbd",
        "policySetDefinitionId": set_id,
        "policySetDefinitionName": split_id(set_id)[-1] if set_id else None,
        "policySetDefinitionOwner": None,
        "policySetDefinitionCategory": None,
        "policySetDefinitionParameters": None,
        "managementGroupIds": None,
        "policyDefinitionReferenceId": record.get("policyDefinitionReferenceId") or None,
        "complianceState": compliance,
        "policyDefinitionGroupNames": [],
        "policyDefinitionVersion": "",
        "policySetDefinitionVersion": "",
        "policyAssignmentVersion": "",
    }
    return row


def _matches(row: dict[str, Any], clauses: list[tuple[str, str, str]]) -> bool:
    lowered = {k.lower(): v for k, v in row.items()}
    for name, op, value in clauses:
        actual = lowered.get(name.lower())
        text = str(actual).lower()
        equal = text == value.lower() or (actual is None and value == "")
        if (op == "eq") != equal:
            return False
    return True


def _clauses(request: Request) -> list[tuple[str, str, str]]:
    text = (request.filter or "").strip()
    out = []
    for clause in [c for c in re.split(r"\s+and\s+", text, flags=re.I) if c.strip()]:
        match = _CLAUSE.match(clause)
        if not match:
            raise ArmError(400, "InvalidFilterInQueryString", f"The $filter '{text}' is not supported.")
        out.append(
            (match.group(1), match.group(2).lower(), match.group(3) if match.group(3) is not None else match.group(4))
        )
    return out


@route(
    ROUTES,
    "POST",
    "{scope*}/providers/Microsoft.PolicyInsights/policyStates/{resource}/queryResults",
    api_versions=STATES_VERSIONS,
)
def query_policy_states(state: EmulatorState, request: Request) -> Response:
    if request.params["resource"].lower() not in ("latest", "default"):
        raise ArmError(
            400, "InvalidPolicyStatesResource", f"'{request.params['resource']}' is not a policy states resource."
        )
    scope = request.params["scope"]
    by_policy = re.search(
        r"/providers/microsoft\.authorization/(policyassignments|policydefinitions|policysetdefinitions)/", scope, re.I
    )
    if not by_policy:
        require_scope(state, scope)
    clauses = _clauses(request)
    rows = []
    for record in state.policy_states:
        if by_policy:
            field = {
                "policyassignments": "policyAssignmentId",
                "policydefinitions": "policyDefinitionId",
                "policysetdefinitions": "policySetDefinitionId",
            }[by_policy.group(1).lower()]
            if str(record.get(field) or "").lower() != scope.lower():
                continue
        elif not in_scope(state, str(record.get("resourceId", "")), scope):
            continue
        row = _state_row(state, request, record)
        if _matches(row, clauses):
            rows.append(row)
    rows.sort(key=lambda r: (str(r["resourceId"]).lower(), str(r["policyAssignmentId"]).lower()))
    response = paged(request, rows, page_size=state.knobs.page_size, link_key="@odata.nextLink")
    response.body["@odata.context"] = f"{request.base_url}{request.path.rsplit('/', 1)[0]}/$metadata#latest"
    response.body["@odata.count"] = len(response.body["value"])
    return response


# --- policy assignments ----------------------------------------------------------------------------


def _fill_identity(
    state: EmulatorState, assignment_id: str, identity: dict[str, Any], existing: dict[str, Any]
) -> None:
    kind = str(identity.get("type") or "None").lower()
    if "systemassigned" in kind:
        old = existing.get("identity") or {}
        identity["principalId"] = old.get("principalId") or str(uuid.uuid5(PRINCIPAL_NAMESPACE, assignment_id.lower()))
        identity["tenantId"] = state.tenant_id
    if "userassigned" in kind:
        for uai_id in list(identity.get("userAssignedIdentities") or {}):
            uai = state.store.get_live(uai_id)
            if uai is None:
                raise ArmError(
                    400, "InvalidUserAssignedIdentity", f"The user-assigned identity '{uai_id}' was not found."
                )
            props = uai.get("properties") or {}
            identity["userAssignedIdentities"][uai_id] = {
                "principalId": props.get("principalId"),
                "clientId": props.get("clientId"),
            }


def stored_shape(props: dict[str, Any]) -> dict[str, Any]:
    return {"properties": props}


def _needs_identity(state: EmulatorState, assignment: dict[str, Any]) -> bool:
    """Whether the assigned definition (or any initiative member) has a modify/DINE effect."""
    props = assignment["properties"]
    definition_id = str(props.get("policyDefinitionId") or "")
    if "/policysetdefinitions/" not in definition_id.lower():
        member = assignment_member(state, assignment, "")
        return member is not None and effect_of(*member) in ("deployifnotexists", "modify")
    initiative = state.store.get_live(definition_id) or {}
    references = [
        str(m.get("policyDefinitionReferenceId", ""))
        for m in (initiative.get("properties") or {}).get("policyDefinitions") or []
    ]
    members = [assignment_member(state, assignment, ref) for ref in references]
    return any(m is not None and effect_of(*m) in ("deployifnotexists", "modify") for m in members)


@route(ROUTES, "PUT", "{scope*}" + AUTH + "/policyAssignments/{name}", api_versions=POLICY_VERSIONS)
def put_policy_assignment(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    require_scope(state, scope)
    body = copy.deepcopy(request.json_object())
    props = body.setdefault("properties", {})
    definition_id = str(props.get("policyDefinitionId") or "")
    found = (
        state.policy_definition(definition_id)
        if "/policydefinitions/" in definition_id.lower()
        else (state.store.get_live(definition_id))
    )
    if found is None:
        raise ArmError(404, "PolicyDefinitionNotFound", f"The policy definition '{definition_id}' could not be found.")
    assignment_id = f"{scope}{AUTH}/policyAssignments/{request.params['name']}"
    existing = state.store.get(assignment_id) or {}
    identity = body.get("identity") or {"type": "None"}
    props["scope"] = scope
    if str(identity.get("type") or "None").lower() == "none" and _needs_identity(state, stored_shape(props)):
        raise ArmError(
            400,
            "InvalidCreatePolicyAssignmentRequest",
            f"The policy assignment '{request.params['name']}' request is invalid. Policy assignments must "
            "include a 'managed identity' when assigning 'DeployIfNotExists' or 'Modify' policy definitions.",
        )
    _fill_identity(state, assignment_id, identity, existing)
    props.setdefault("enforcementMode", "Default")
    props.setdefault("notScopes", [])
    props.setdefault("instanceId", str(uuid.uuid5(PRINCIPAL_NAMESPACE, "instance|" + assignment_id.lower())))
    stored = {
        "id": assignment_id,
        "name": request.params["name"],
        "type": ASSIGNMENT_TYPE,
        "location": body.get("location"),
        "identity": identity,
        "properties": props,
        "systemData": system_data(state, existing or None, request.principal),
    }
    state.store.put(stored)
    return Response(200 if existing else 201, copy.deepcopy(stored))


@route(ROUTES, "GET", "{scope*}" + AUTH + "/policyAssignments/{name}", api_versions=POLICY_VERSIONS)
def get_policy_assignment(state: EmulatorState, request: Request) -> Response:
    found = state.store.get(f"{request.params['scope']}{AUTH}/policyAssignments/{request.params['name']}")
    if found is None:
        raise ArmError(
            404, "PolicyAssignmentNotFound", f"The policy assignment '{request.params['name']}' is not found."
        )
    return Response(200, found)


@route(ROUTES, "DELETE", "{scope*}" + AUTH + "/policyAssignments/{name}", api_versions=POLICY_VERSIONS)
def delete_policy_assignment(state: EmulatorState, request: Request) -> Response:
    removed = state.store.delete(f"{request.params['scope']}{AUTH}/policyAssignments/{request.params['name']}")
    return Response(200, removed) if removed is not None else Response(204)


@route(ROUTES, "GET", "{scope*}" + AUTH + "/policyAssignments", api_versions=POLICY_VERSIONS)
def list_policy_assignments(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    require_scope(state, scope)
    text = (request.filter or "").strip().lower()
    definition = re.match(r"^policydefinitionid\s+eq\s+'([^']+)'$", text)
    if text and text not in ("atscope()", "atexactscope()") and not definition:
        raise ArmError(400, "InvalidFilterInQueryString", f"The $filter '{request.filter}' is not supported.")
    items = []
    for assignment in sorted(state.store.of_type(ASSIGNMENT_TYPE), key=lambda a: str(a["id"]).lower()):
        where = str((assignment.get("properties") or {}).get("scope") or "")
        above = in_scope(state, scope, where)
        below = in_scope(state, where, scope)
        if text == "atexactscope()" and where.lower() != scope.lower():
            continue
        if not above and (text == "atscope()" or not below):
            continue
        if definition and str(assignment["properties"].get("policyDefinitionId", "")).lower() != definition.group(1):
            continue
        items.append(copy.deepcopy(assignment))
    return paged(request, items, page_size=state.knobs.page_size)


# --- policy definitions and set definitions ------------------------------------------------------------


def _definition_id(scope: str, kind: str, name: str) -> str:
    return f"{scope}{AUTH}/{kind}/{name}"


def _kind(request: Request) -> str:
    return request.path.rstrip("/").split("/")[-2 if request.params.get("name") else -1].lower()


def get_builtin_definition(state: EmulatorState, request: Request) -> Response:
    found = state.builtin_policy_definitions.get(_definition_id("", _kind(request), request.params["name"]).lower())
    if found is None:
        raise ArmError(
            404, "PolicyDefinitionNotFound", f"The policy definition '{request.params['name']}' could not be found."
        )
    return Response(200, copy.deepcopy(found))


def get_definition(state: EmulatorState, request: Request) -> Response:
    kind = _kind(request)
    definition_id = _definition_id(request.params["scope"], kind, request.params["name"])
    found = state.store.get(definition_id) or copy.deepcopy(
        state.builtin_policy_definitions.get(_definition_id("", kind, request.params["name"]).lower())
    )
    if found is None:
        raise ArmError(
            404, "PolicyDefinitionNotFound", f"The policy definition '{request.params['name']}' could not be found."
        )
    return Response(200, found)


def put_definition(state: EmulatorState, request: Request) -> Response:
    kind = _kind(request)
    scope = request.params["scope"]
    require_scope(state, scope)
    definition_id = _definition_id(scope, kind, request.params["name"])
    existing = state.store.get(definition_id)
    body = copy.deepcopy(request.json_object())
    props = body.setdefault("properties", {})
    props.setdefault("policyType", "Custom")
    stored = {"id": definition_id, "name": request.params["name"], "type": KINDS[kind], "properties": props}
    state.store.put(stored)
    return Response(200 if existing else 201, copy.deepcopy(stored))


def delete_definition(state: EmulatorState, request: Request) -> Response:
    removed = state.store.delete(_definition_id(request.params["scope"], _kind(request), request.params["name"]))
    return Response(200, removed) if removed is not None else Response(204)


def list_definitions(state: EmulatorState, request: Request) -> Response:
    kind = _kind(request)
    scope = request.params.get("scope", "")
    builtins = (
        [copy.deepcopy(d) for d in state.builtin_policy_definitions.values()] if kind == "policydefinitions" else []
    )
    custom = []
    if scope:
        require_scope(state, scope)
        custom = [
            copy.deepcopy(d)
            for d in state.store.of_type(KINDS[kind])
            if in_scope(state, scope, str(d["id"])[: str(d["id"]).lower().rfind(AUTH.lower())])
        ]
    return paged(
        request, sorted(custom, key=lambda d: str(d["id"]).lower()) + builtins, page_size=state.knobs.page_size
    )


for _segment in ("policyDefinitions", "policySetDefinitions"):
    _base = AUTH + "/" + _segment
    route(ROUTES, "GET", _base + "/{name}", api_versions=POLICY_VERSIONS, name=f"get_builtin_{_segment}")(
        get_builtin_definition
    )
    route(ROUTES, "GET", "{scope*}" + _base + "/{name}", api_versions=POLICY_VERSIONS, name=f"get_{_segment}")(
        get_definition
    )
    route(ROUTES, "PUT", "{scope*}" + _base + "/{name}", api_versions=POLICY_VERSIONS, name=f"put_{_segment}")(
        put_definition
    )
    route(ROUTES, "DELETE", "{scope*}" + _base + "/{name}", api_versions=POLICY_VERSIONS, name=f"delete_{_segment}")(
        delete_definition
    )
    route(ROUTES, "GET", "{scope*}" + _base, api_versions=POLICY_VERSIONS, name=f"list_{_segment}")(list_definitions)
    route(ROUTES, "GET", _base, api_versions=POLICY_VERSIONS, name=f"list_builtin_{_segment}")(list_definitions)

ROUTES.extend(policy_remediations.ROUTES)
