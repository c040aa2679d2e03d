"""authcore.policy: deny overrides allow, role hierarchy, groups, conditions, checkPermission."""

from __future__ import annotations

import pytest

import authcore.policy as policy

RES = "service:core/package:mfg/table:materials"


@pytest.fixture
def engine():
    e = policy.PolicyEngine()
    e.add_document(
        {
            "version": "1.0",
            "statements": [
                {"sid": "Read", "effect": "Allow", "principals": ["role:viewer"], "actions": ["get*"], "resources": ["service:core/package:mfg/**"]},
                {"sid": "Edit", "effect": "Allow", "principals": ["role:editor"], "actions": ["*Materials"], "resources": [RES]},
                {"sid": "NoDelete", "effect": "Deny", "principals": ["*"], "actions": ["deleteMaterials"], "resources": [RES]},
                {"sid": "Office", "effect": "Allow", "principals": ["group:ops"], "actions": ["archiveMaterials"], "resources": [RES], "conditions": [{"attribute": "ip", "operator": "eq", "value": "10.0.0.1"}]},
            ],
        }
    )
    e.set_role_parent("editor", "viewer")
    e.add_group_role("staff", "editor")
    e.sync_package("mfg", ["materials", "bom_lines"], ["approveBom"])
    return e


def test_hierarchy_groups_and_deny(engine):
    assert engine.check("u1", RES, "getMaterials", roles=["viewer"])
    assert not engine.check("u1", RES, "patchMaterials", roles=["viewer"])
    assert engine.check("u1", RES, ["patchMaterials", "getMaterials"], roles=["editor"])
    assert engine.check("u1", "service:core/package:mfg/table:bom_lines", "getBomLines", roles=["editor"])
    assert engine.check("u1", RES, "patchMaterials", groups=["staff"])
    assert not engine.check("u1", RES, "deleteMaterials", roles=["editor"])
    assert sorted(engine.effective_roles(groups=["staff"])) == ["editor", "viewer"]


def test_conditions_fail_closed(engine):
    assert engine.check("u1", RES, "archiveMaterials", groups=["ops"], context={"ip": "10.0.0.1"})
    assert not engine.check("u1", RES, "archiveMaterials", groups=["ops"], context={"ip": "10.0.0.2"})
    assert not engine.check("u1", RES, "archiveMaterials", groups=["ops"])


def test_check_permission_forms(engine):
    one = engine.check_permission("u1", RES, "getMaterials", roles=["viewer"])
    assert one == {"resource": RES, "action": "getMaterials", "allowed": True}
    allr = engine.check_permission("u1", RES, roles=["editor"])
    assert allr["decisions"]["deleteMaterials"] is False and allr["decisions"]["putMaterials"] is True
    assert "approveBom" in allr["decisions"]
    with pytest.raises(policy.PolicyError) as info:
        engine.check_permission("u1", "a//b", "x")
    assert info.value.code == "POLICY_INVALID_RESOURCE"


@pytest.mark.parametrize(
    "doc,code",
    [
        ({"statements": [{"effect": "Allow", "principals": ["admin"], "actions": ["*"], "resources": ["*"]}]}, "POLICY_INVALID_PRINCIPAL"),
        ({"statements": [{"effect": "Maybe", "principals": ["*"], "actions": ["*"], "resources": ["*"]}]}, "POLICY_INVALID_DOCUMENT"),
        ({"statements": [{"effect": "Allow", "principals": ["*"], "actions": ["*"], "resources": ["a/**/b"]}]}, "POLICY_INVALID_PATTERN"),
        ("not json", "POLICY_INVALID_DOCUMENT"),
    ],
)
def test_invalid_documents_are_typed(doc, code):
    with pytest.raises(policy.PolicyError) as info:
        policy.PolicyEngine().add_document(doc)
    assert info.value.code == code and info.value.status == 400


def test_role_cycle_and_helpers(engine):
    with pytest.raises(policy.PolicyError) as info:
        engine.set_role_parent("viewer", "editor")
    assert info.value.code == "POLICY_ROLE_CYCLE" and info.value.status == 409
    assert policy.crud_actions("bom_lines")[0] == "getBomLines"
    assert policy.derive_action_name("PATCH", "service:core/package:mfg/table:bom_lines") == "patchBomLines"
    assert policy.slugify_uid("Builder Developer [Admin]") == "builder_developer_admin"
    assert policy.glob_match("get*", "getX") and not policy.resource_match("a/b", "a/b/c")


def test_evaluate_is_a_deprecated_alias_of_evaluate_request():
    request = {
        "documents": [{"statements": [{"effect": "Allow", "principals": ["*"], "actions": ["getX"], "resources": [RES]}]}],
        "userId": "u1",
        "actions": ["getX"],
        "resource": RES,
    }
    assert policy.evaluate_request(request) is True
    with pytest.warns(DeprecationWarning, match="use evaluate_request"):
        assert policy.evaluate(request) is True
    with pytest.warns(DeprecationWarning, match="use evaluate_request"):
        assert policy.evaluate({**request, "actions": ["putX"]}) is False
    assert {"evaluate_request", "evaluate"} <= set(policy.__all__)
