"""authrs permission documents, backed by the Rust core (``authcore::policy``).

Allow/Deny statements over principals (``*``, ``user:``, ``role:``, ``group:``), action
globs and resource patterns (segment ``*``, trailing ``**``), deny overriding allow, role
hierarchy and groups, conditions failing closed, ``checkPermission`` and the CRUD action
names ``syncPackage`` generates. The grammar is documented in ``core/src/policy.rs``.
Invalid documents raise :class:`PolicyError` (``code``, ``status``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from . import _native as _n

__all__ = [
    "PolicyError",
    "PolicyEngine",
    "evaluate_request",
    "evaluate",
    "validate_document",
    "crud_actions",
    "sync_package_actions",
    "derive_action_name",
    "slugify_uid",
    "pascal_case",
    "glob_match",
    "resource_match",
]


class PolicyError(ValueError):
    code: str = "POLICY_ERROR"
    status: int = 400


def _text(doc: str | Mapping[str, Any]) -> str:
    return doc if isinstance(doc, str) else json.dumps(doc)


def evaluate_request(request: str | Mapping[str, Any]) -> bool:
    """Evaluate ``{documents, directory?, userId, roles, groups, actions, resource,
    context?}``: ``True`` iff every action is allowed (the core's
    ``policy::evaluate_request_json``, Node's ``policyEvaluateRequest``)."""
    return _n.policy_evaluate_request(_text(request))


def evaluate(request: str | Mapping[str, Any]) -> bool:
    """Deprecated alias of :func:`evaluate_request` (the name every language shares)."""
    import warnings

    warnings.warn("authcore.policy.evaluate is deprecated: use evaluate_request", DeprecationWarning, stacklevel=2)
    return evaluate_request(request)


def validate_document(document: str | Mapping[str, Any]) -> dict[str, Any]:
    """Parse and validate a document; returns it normalised, or raises."""
    return json.loads(_n.policy_validate_document(_text(document)))


def crud_actions(table: str, extensible: bool = False) -> list[str]:
    return _n.policy_crud_actions(table, extensible)


def sync_package_actions(
    package_id: str, tables: Iterable[str], custom_actions: Iterable[str] = (), extensible_tables: Iterable[str] = ()
) -> list[str]:
    return _n.policy_sync_package_actions(package_id, list(tables), list(custom_actions), list(extensible_tables))


def derive_action_name(method: str, path: str) -> str | None:
    return _n.policy_derive_action_name(method, path)


def slugify_uid(name: str) -> str:
    return _n.policy_slugify_uid(name)


def pascal_case(table: str) -> str:
    return _n.policy_pascal_case(table)


def glob_match(pattern: str, text: str) -> bool:
    return _n.policy_glob_match(pattern, text)


def resource_match(pattern: str, resource: str) -> bool:
    return _n.policy_resource_match(pattern, resource)


class PolicyEngine:
    """Documents + role hierarchy + groups + registered packages: authrs's
    ``checkPermission`` state."""

    __slots__ = ("_inner",)

    def __init__(self) -> None:
        self._inner = _n.PolicyEngine()

    def add_document(self, document: str | Mapping[str, Any]) -> None:
        self._inner.add_document_json(_text(document))

    def set_role_parent(self, role: str, parent: str | None) -> None:
        self._inner.set_role_parent(role, parent)

    def add_group_role(self, group: str, role: str) -> None:
        self._inner.add_group_role(group, role)

    def sync_package(
        self,
        package_id: str,
        tables: Iterable[str],
        custom_actions: Iterable[str] = (),
        extensible_tables: Iterable[str] = (),
    ) -> list[str]:
        return self._inner.sync_package(package_id, list(tables), list(custom_actions), list(extensible_tables))

    def effective_roles(self, roles: Iterable[str] = (), groups: Iterable[str] = ()) -> list[str]:
        return self._inner.effective_roles(list(roles), list(groups))

    def actions_in_scope(self, resource: str) -> list[str]:
        return self._inner.actions_in_scope(resource)

    def check(
        self,
        user_id: str,
        resource: str,
        actions: str | Iterable[str],
        *,
        roles: Iterable[str] = (),
        groups: Iterable[str] = (),
        context: Mapping[str, Any] | None = None,
    ) -> bool:
        """Is ``actions`` (one, or all of a list) allowed on ``resource``?"""
        acts = [actions] if isinstance(actions, str) else list(actions)
        ctx = None if context is None else json.dumps(dict(context))
        return self._inner.check(user_id, resource, acts, list(roles), list(groups), ctx)

    def check_permission(
        self,
        user_id: str,
        resource: str,
        action: str | None = None,
        *,
        roles: Iterable[str] = (),
        groups: Iterable[str] = (),
        context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """authrs ``checkPermission``: ``{resource, action, allowed}`` for one action, or
        ``{resource, decisions}`` for every action in scope."""
        ctx = None if context is None else json.dumps(dict(context))
        return self._inner.check_permission(user_id, resource, action, list(roles), list(groups), ctx)
