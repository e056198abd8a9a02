"""Role assignments and role definitions (Microsoft.Authorization, 2022-04-01), and RBAC checks.

Shapes follow the 2022-04-01 spec and its examples (``authorization-RoleAssignmentsCalls.json``):

* role assignments at any scope (management group, subscription, resource group, resource):
  PUT/GET/DELETE by scope and name, GET/DELETE by id, lists per subscription, resource group,
  resource and scope. Lists return assignments at, above and below the scope; ``$filter``
  understands ``atScope()`` (at or above only), ``principalId eq '...'`` and ``assignedTo('...')``;
* ARM's refusals: 400 ``InvalidRoleAssignmentId`` for a name that is not a GUID, 409
  ``RoleAssignmentExists`` for the same (scope, principal, role) under another name, 400
  ``PrincipalNotFound`` for a principal no identity in the tenant has, 400
  ``RoleDefinitionDoesNotExist`` for an unknown role, 409 ``RoleAssignmentUpdateNotPermitted``
  when a PUT would change an existing assignment's principal or role;
* role definitions: GET by scope and id (built-ins answer at every scope), lists with
  ``$filter=roleName eq '...'`` / ``type eq 'BuiltInRole'``.

`permitted` is the emulator's own RBAC evaluation (action wildcards, ``notActions``,
inheritance down the management group -> subscription -> group -> resource chain); remediation
deployments use it to decide whether a policy identity may do what its effect does.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any

from remediator.emulator.arm_generic import check_scope
from remediator.emulator.management_groups import group_ancestors, subscription_ancestors
from remediator.emulator.routing import ArmError, Request, Response, Route, paged, route
from remediator.emulator.state import MANAGEMENT_GROUP_TYPE, EmulatorState
from remediator.emulator.store import split_id, subscription_of

ROUTES: list[Route] = []

VERSIONS = ("2022-04-01", "2020-10-01-preview", "2020-04-01-preview", "2018-01-01-preview")
ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"
RA = "/providers/Microsoft.Authorization/roleAssignments"
RD = "/providers/Microsoft.Authorization/roleDefinitions"
_PRINCIPAL_FILTER = re.compile(r"^\s*(?:principalId\s+eq\s+'([^']+)'|assignedTo\('([^']+)'\))\s*$", re.I)


# --- RBAC evaluation ------------------------------------------------------------------------------


def scope_of_assignment(assignment: dict[str, Any]) -> str:
    scope = str((assignment.get("properties") or {}).get("scope") or "")
    if scope:
        return scope
    return str(assignment["id"])[: str(assignment["id"]).lower().rfind(RA.lower())] or "/"


def scope_chain(state: EmulatorState, scope: str) -> set[str]:
    """Lowercased scopes whose role assignments apply at ``scope``: itself and everything above."""
    parts = split_id(scope)
    chain = {"/", scope.rstrip("/").lower()}
    for end in range(2, len(parts), 2):
        chain.add(("/" + "/".join(parts[:end])).lower())
    subscription = subscription_of(scope)
    if subscription:
        groups = subscription_ancestors(state, subscription)
    elif len(parts) >= 4 and parts[2].lower() == "managementgroups":
        groups = [parts[3], *group_ancestors(state, parts[3])]
    else:
        groups = []
    chain.update(f"/providers/{MANAGEMENT_GROUP_TYPE}/{name}".lower() for name in groups)
    return chain


def _grants(definition: dict[str, Any] | None, action: str) -> bool:
    action = action.lower()
    allowed = False
    for block in (definition or {}).get("properties", {}).get("permissions") or []:
        if any(fnmatchcase(action, str(p).lower()) for p in block.get("actions") or []) and not any(
            fnmatchcase(action, str(p).lower()) for p in block.get("notActions") or []
        ):
            allowed = True
    return allowed


_CREATED_AT = "authorization.created-at"  # state.extras key: lowercase assignment id -> simulated instant


def propagated(state: EmulatorState, assignment: dict[str, Any]) -> bool:
    """Whether a role assignment authorizes yet: under consistency azure, ``role_propagation_seconds``
    after it was created through the API (knobs.py names the source); an estate's own are old."""
    created = state.extras.get(_CREATED_AT, {}).get(str(assignment["id"]).lower())
    if created is None or state.knobs.consistency != "azure":
        return True
    return bool(state.current_time() >= created + timedelta(seconds=state.knobs.role_propagation_seconds))


def permitted(state: EmulatorState, principal_id: str, action: str, scope: str) -> bool:
    """Whether ``principal_id`` may perform ``action`` at ``scope`` through its role assignments."""
    chain = scope_chain(state, scope)
    for assignment in state.store.of_type(ASSIGNMENT_TYPE):
        props = assignment.get("properties") or {}
        if str(props.get("principalId", "")).lower() != principal_id.lower():
            continue
        if not propagated(state, assignment):
            continue
        if scope_of_assignment(assignment).rstrip("/").lower() not in chain | {""}:
            continue
        if _grants(state.role_definition(str(props.get("roleDefinitionId", ""))), action):
            return True
    return False


def authorization_failed(principal_id: str, action: str, scope: str) -> dict[str, str]:
    """ARM's AuthorizationFailed error, worded as ARM words it."""
    return {
        "code": "AuthorizationFailed",
        "message": (
            f"The client '{principal_id}' with object id '{principal_id}' does not have authorization to "
            f"perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
            "granted, please refresh your credentials."
        ),
    }


def known_principals(state: EmulatorState) -> set[str]:
    """Object ids of every identity the tenant has: policy assignments' and user-assigned ones."""
    found: set[str] = set()
    for assignment in state.store.of_type("Microsoft.Authorization/policyAssignments"):
        identity = assignment.get("identity") or {}
        if identity.get("principalId"):
            found.add(str(identity["principalId"]).lower())
    for uai in state.store.of_type("Microsoft.ManagedIdentity/userAssignedIdentities"):
        principal = (uai.get("properties") or {}).get("principalId")
        if principal:
            found.add(str(principal).lower())
    principals = state.extras.get("principals")
    if isinstance(principals, set):
        found |= {p.lower() for p in principals}
    return found


# --- role assignments ---------------------------------------------------------------------------------


def _assignment_id(scope: str, name: str) -> str:
    return f"{scope.rstrip('/')}{RA}/{name}"


def _check_assignment_scope(state: EmulatorState, scope: str) -> None:
    if scope.lower().startswith("/providers/microsoft.management/managementgroups/"):
        if state.store.get_live(scope) is None:
            raise ArmError(404, "ManagementGroupNotFound", f"Management group '{split_id(scope)[-1]}' not found.")
        return
    check_scope(state, scope)
    if len(split_id(scope)) > 4 and not state.store.exists(scope):
        raise ArmError(400, "InvalidResourceId", f"The resource '{scope}' does not exist.")


def _create(state: EmulatorState, request: Request, scope: str, name: str) -> Response:
    try:
        uuid.UUID(name)
    except ValueError:
        raise ArmError(
            400,
            "InvalidRoleAssignmentId",
            f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
        ) from None
    _check_assignment_scope(state, scope)
    props = request.json_object().get("properties")
    if not isinstance(props, dict) or not props.get("roleDefinitionId") or not props.get("principalId"):
        raise ArmError(
            400, "InvalidRequestContent", "properties.roleDefinitionId and properties.principalId are required."
        )
    role_id = str(props["roleDefinitionId"])
    definition = state.role_definition(role_id)
    if definition is None:
        raise ArmError(
            400,
            "RoleDefinitionDoesNotExist",
            f"The specified role definition with ID '{split_id(role_id)[-1]}' does not exist.",
        )
    principal = str(props["principalId"])
    if principal.lower() not in known_principals(state) and principal.lower() != request.principal.lower():
        raise ArmError(
            400,
            "PrincipalNotFound",
            f"Principal {principal.replace('-', '')} does not exist in the directory {state.tenant_id}. "
            "Check that you have the correct principal ID. If you are creating this principal and then "
            "immediately assigning a role, this error might be related to a replication delay.",
        )
    role_guid = split_id(role_id)[-1].lower()
    resource_id = _assignment_id(scope, name)
    existing = state.store.get(resource_id)
    for other in state.store.of_type(ASSIGNMENT_TYPE):
        other_props = other.get("properties") or {}
        if (
            str(other["id"]).lower() != resource_id.lower()
            and scope_of_assignment(other).rstrip("/").lower() == scope.rstrip("/").lower()
            and str(other_props.get("principalId", "")).lower() == principal.lower()
            and split_id(str(other_props.get("roleDefinitionId", "")))[-1].lower() == role_guid
        ):
            raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")
    if existing is not None:
        old = existing.get("properties") or {}
        if (
            str(old.get("principalId", "")).lower() != principal.lower()
            or split_id(str(old.get("roleDefinitionId", "")))[-1].lower() != role_guid
        ):
            raise ArmError(
                409,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            )
    now = state.now_iso()
    body = {
        "id": resource_id,
        "name": name,
        "type": ASSIGNMENT_TYPE,
        "properties": {
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"
            if not subscription_of(role_id)
            else role_id,
            "principalId": principal,
            "principalType": props.get("principalType") or "ServicePrincipal",
            "scope": scope,
            "condition": props.get("condition"),
            "conditionVersion": props.get("conditionVersion"),
            "description": props.get("description"),
            "createdOn": (existing or {}).get("properties", {}).get("createdOn", now),
            "updatedOn": now,
            "createdBy": request.principal,
            "updatedBy": request.principal,
        },
    }
    state.store.put(body)
    if existing is None:
        state.extras.setdefault(_CREATED_AT, {})[resource_id.lower()] = state.current_time()
    return Response(200 if existing else 201, copy.deepcopy(body))


@route(ROUTES, "PUT", "{scope*}" + RA + "/{name}", api_versions=VERSIONS)
def put_role_assignment(state: EmulatorState, request: Request) -> Response:
    return _create(state, request, request.params["scope"], request.params["name"])


@route(ROUTES, "GET", "{scope*}" + RA + "/{name}", api_versions=VERSIONS)
def get_role_assignment(state: EmulatorState, request: Request) -> Response:
    found = state.store.get(_assignment_id(request.params["scope"], request.params["name"]))
    if found is None:
        raise ArmError(
            404, "RoleAssignmentNotFound", "The role assignment '{}' is not found.".format(request.params["name"])
        )
    return Response(200, found)


@route(ROUTES, "DELETE", "{scope*}" + RA + "/{name}", api_versions=VERSIONS)
def delete_role_assignment(state: EmulatorState, request: Request) -> Response:
    removed = state.store.delete(_assignment_id(request.params["scope"], request.params["name"]))
    return Response(200, removed) if removed is not None else Response(204)


def _list(state: EmulatorState, request: Request, scope: str) -> Response:
    flt = (request.filter or "").strip()
    at_scope_only = False
    principal = ""
    for clause in [c for c in re.split(r"\s+and\s+", flt, flags=re.I) if c.strip()]:
        if clause.strip().lower() == "atscope()":
            at_scope_only = True
            continue
        match = _PRINCIPAL_FILTER.match(clause)
        if not match:
            raise ArmError(400, "UnsupportedQuery", f"The filter '{flt}' is not supported.")
        principal = (match.group(1) or match.group(2)).lower()
    chain = scope_chain(state, scope)
    below = scope.rstrip("/").lower() + "/"
    items = []
    for assignment in state.store.of_type(ASSIGNMENT_TYPE):
        where = scope_of_assignment(assignment).rstrip("/").lower() or "/"
        if where not in chain and (at_scope_only or not where.startswith(below)):
            continue
        if principal and str((assignment.get("properties") or {}).get("principalId", "")).lower() != principal:
            continue
        items.append(copy.deepcopy(assignment))
    items.sort(key=lambda a: str(a["id"]).lower())
    return paged(request, items, page_size=state.knobs.page_size)


@route(ROUTES, "GET", "{scope*}" + RA, api_versions=VERSIONS)
def list_role_assignments(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    if subscription_of(scope) and state.subscription(subscription_of(scope)) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription_of(scope)}' could not be found.")
    return _list(state, request, scope)


# --- role definitions ---------------------------------------------------------------------------------


def _definition_at(state: EmulatorState, scope: str, guid: str) -> dict[str, Any] | None:
    found = state.role_definition(f"{scope.rstrip('/')}{RD}/{guid}") or state.role_definition(f"{RD}/{guid}")
    if found is None:
        return None
    body = copy.deepcopy(found)
    if subscription_of(scope) and str(body.get("id", "")).lower().startswith("/providers/"):
        body["id"] = f"/subscriptions/{subscription_of(scope)}{RD}/{guid}"
    return body


@route(ROUTES, "GET", "{scope*}" + RD + "/{roleDefinitionId}", api_versions=VERSIONS)
def get_role_definition(state: EmulatorState, request: Request) -> Response:
    return _get_definition(state, request, request.params["scope"])


@route(ROUTES, "GET", RD + "/{roleDefinitionId}", api_versions=VERSIONS, name="get_role_definition_by_id")
def get_root_role_definition(state: EmulatorState, request: Request) -> Response:
    return _get_definition(state, request, "")


def _get_definition(state: EmulatorState, request: Request, scope: str) -> Response:
    guid = request.params["roleDefinitionId"]
    found = _definition_at(state, scope, guid)
    if found is None:
        raise ArmError(
            404, "RoleDefinitionDoesNotExist", f"The specified role definition with ID '{guid}' does not exist."
        )
    return Response(200, found)


@route(ROUTES, "GET", "{scope*}" + RD, api_versions=VERSIONS)
def list_role_definitions(state: EmulatorState, request: Request) -> Response:
    return _list_definitions(state, request, request.params["scope"])


@route(ROUTES, "GET", RD, api_versions=VERSIONS, name="list_root_role_definitions")
def list_root_role_definitions(state: EmulatorState, request: Request) -> Response:
    return _list_definitions(state, request, "")


def _list_definitions(state: EmulatorState, request: Request, scope: str) -> Response:
    flt = (request.filter or "").strip()
    match = re.match(r"^(roleName|type)\s+eq\s+'([^']*)'$", flt, re.I) if flt else None
    if flt and not match:
        raise ArmError(400, "UnsupportedQuery", f"The filter '{flt}' is not supported.")
    pool = list(state.builtin_role_definitions.values()) + state.store.of_type(DEFINITION_TYPE)
    items = []
    for definition in pool:
        props = definition.get("properties") or {}
        if match:
            field = "roleName" if match.group(1).lower() == "rolename" else "type"
            if str(props.get(field, "")).lower() != match.group(2).lower():
                continue
        guid = split_id(str(definition["id"]))[-1]
        body = _definition_at(state, scope, guid)
        if body is not None:
            items.append(body)
    return paged(request, items, page_size=state.knobs.page_size)
