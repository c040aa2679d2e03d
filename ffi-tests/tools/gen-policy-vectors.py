# Writes ffi-tests/vectors/policy.json (hand-written cases; expected values follow the grammar in core/src/policy.rs).
#   python3 ffi-tests/tools/gen-policy-vectors.py
import json
R = "service:core/package:mfg/table:materials"
def doc(*statements): return {"version": "1.0", "statements": list(statements)}
def st(effect, principals, actions, resources, sid=None, conditions=None):
    s = {"effect": effect, "principals": principals, "actions": actions, "resources": resources}
    if sid: s["sid"] = sid
    if conditions is not None: s["conditions"] = conditions
    return s
cases = []
def check(id, docs, actions, resource, expect, roles=(), groups=(), user="u1", directory=None, context=None):
    req = {"documents": docs, "userId": user, "roles": list(roles), "groups": list(groups), "actions": actions, "resource": resource}
    if directory: req["directory"] = directory
    if context is not None: req["context"] = context
    cases.append({"id": id, "op": "policy_check", "input": {"request": req}, "expect": {"ok": expect}})

editor_read = doc(st("Allow", ["role:editor"], ["getMaterials"], [R], sid="EditorRead"))
check("allow-role-exact", [editor_read], ["getMaterials"], R, True, roles=["editor"])
check("default-deny-other-action", [editor_read], ["postMaterials"], R, False, roles=["editor"])
check("default-deny-no-role", [editor_read], ["getMaterials"], R, False, roles=["viewer"])
check("role-case-sensitive", [editor_read], ["getMaterials"], R, False, roles=["Editor"])
check("action-case-sensitive", [editor_read], ["getmaterials"], R, False, roles=["editor"])
check("effect-lowercase-accepted", [doc(st("allow", ["role:editor"], ["getMaterials"], [R]))], ["getMaterials"], R, True, roles=["editor"])
check("user-principal", [doc(st("Allow", ["user:u1"], ["getMaterials"], [R]))], ["getMaterials"], R, True)
check("user-principal-other-user", [doc(st("Allow", ["user:u2"], ["getMaterials"], [R]))], ["getMaterials"], R, False)
check("star-principal", [doc(st("Allow", ["*"], ["getMaterials"], [R]))], ["getMaterials"], R, True)
# deny overrides allow, in either order and across documents
allow_all = doc(st("Allow", ["role:editor"], ["*"], ["service:core/**"], sid="All"))
deny_delete = doc(st("Deny", ["*"], ["delete*"], [R], sid="NoDelete"))
check("deny-overrides-allow", [allow_all, deny_delete], ["deleteMaterials"], R, False, roles=["editor"])
check("deny-overrides-allow-reversed-order", [deny_delete, allow_all], ["deleteMaterials"], R, False, roles=["editor"])
check("deny-does-not-touch-other-actions", [allow_all, deny_delete], ["getMaterials"], R, True, roles=["editor"])
check("deny-alone-is-deny", [deny_delete], ["getMaterials"], R, False, roles=["editor"])
# action globs
glob = lambda a: doc(st("Allow", ["*"], [a], [R]))
check("action-prefix-glob", [glob("get*")], ["getMaterials"], R, True)
check("action-prefix-glob-miss", [glob("get*")], ["postMaterials"], R, False)
check("action-suffix-glob", [glob("*Materials")], ["archiveMaterials"], R, True)
check("action-infix-glob", [glob("get*Fields*")], ["getExtensibleFieldsMaterials"], R, True)
check("action-star-matches-empty", [glob("getMaterials*")], ["getMaterials"], R, True)
check("action-question-mark-literal", [glob("get?aterials")], ["getMaterials"], R, False)
check("action-star-all", [glob("*")], ["approveBom"], R, True)
# resource patterns
res = lambda r: doc(st("Allow", ["*"], ["getMaterials"], [r]))
check("package-grant-does-not-reach-table", [res("service:core/package:mfg")], ["getMaterials"], R, False)
check("double-star-reaches-table", [res("service:core/package:mfg/**")], ["getMaterials"], R, True)
check("double-star-reaches-column", [res("service:core/package:mfg/**")], ["getMaterials"], R + "/column:cost", True)
check("double-star-matches-zero-segments", [res("service:core/package:mfg/**")], ["getMaterials"], "service:core/package:mfg", True)
check("double-star-other-package", [res("service:core/package:mfg/**")], ["getMaterials"], "service:core/package:hr/table:materials", False)
check("segment-star", [res("service:core/package:*/table:materials")], ["getMaterials"], R, True)
check("segment-star-does-not-cross-slash", [res("service:core/*/table:materials")], ["getMaterials"], "service:core/package:mfg/x/table:materials", False)
check("segment-star-one-segment", [res("service:core/*/table:materials")], ["getMaterials"], R, True)
check("in-segment-glob", [res("service:core/package:mfg/table:bom_*")], ["getMaterials"], "service:core/package:mfg/table:bom_lines", True)
check("in-segment-glob-miss", [res("service:core/package:mfg/table:bom_*")], ["getMaterials"], R, False)
check("whole-star-resource", [res("*")], ["getMaterials"], "service:anything/else", True)
check("segment-count-must-match", [res(R)], ["getMaterials"], R + "/column:cost", False)
check("resource-case-sensitive", [res(R)], ["getMaterials"], R.upper(), False)
check("requested-resource-with-star-denied", [res("*")], ["getMaterials"], "service:core/*", False)
check("requested-resource-empty-segment-denied", [res("*")], ["getMaterials"], "service:core//table:x", False)
check("requested-action-with-star-denied", [glob("*")], ["get*"], R, False)
# role hierarchy and groups
viewer_read = doc(st("Allow", ["role:viewer"], ["getMaterials"], [R]))
hier = {"roleParents": {"editor": "viewer", "junior_editor": "editor"}}
check("child-inherits-parent", [viewer_read], ["getMaterials"], R, True, roles=["editor"], directory=hier)
check("grandchild-inherits", [viewer_read], ["getMaterials"], R, True, roles=["junior_editor"], directory=hier)
check("parent-does-not-inherit-child", [editor_read], ["getMaterials"], R, False, roles=["viewer"], directory=hier)
grp = {"groupRoles": {"engineering": ["editor"]}, "roleParents": {"editor": "viewer"}}
check("group-grants-role", [editor_read], ["getMaterials"], R, True, groups=["engineering"], directory=grp)
check("group-role-inherits-parent", [viewer_read], ["getMaterials"], R, True, groups=["engineering"], directory=grp)
check("group-principal", [doc(st("Allow", ["group:engineering"], ["getMaterials"], [R]))], ["getMaterials"], R, True, groups=["engineering"])
check("group-principal-nonmember", [doc(st("Allow", ["group:engineering"], ["getMaterials"], [R]))], ["getMaterials"], R, False, groups=["sales"])
check("deny-on-parent-role-applies-to-child", [allow_all, doc(st("Deny", ["role:viewer"], ["postMaterials"], [R]))], ["postMaterials"], R, False, roles=["editor"], directory=hier)
# all-of-a-list
rw = doc(st("Allow", ["role:editor"], ["getMaterials", "patchMaterials"], [R]))
check("all-actions-allowed", [rw], ["getMaterials", "patchMaterials"], R, True, roles=["editor"])
check("one-action-denied-fails-all", [rw], ["getMaterials", "deleteMaterials"], R, False, roles=["editor"])
check("empty-action-list-denied", [rw], [], R, False, roles=["editor"])
# conditions
cond = lambda eff, c: doc(st(eff, ["*"], ["getMaterials"], [R], conditions=c))
check("condition-eq-holds", [cond("Allow", [{"attribute": "ip", "operator": "eq", "value": "10.0.0.1"}])], ["getMaterials"], R, True, context={"ip": "10.0.0.1"})
check("condition-eq-fails", [cond("Allow", [{"attribute": "ip", "operator": "eq", "value": "10.0.0.1"}])], ["getMaterials"], R, False, context={"ip": "10.0.0.2"})
check("condition-gt-number", [cond("Allow", [{"attribute": "level", "operator": "gt", "value": 3}])], ["getMaterials"], R, True, context={"level": 4})
check("condition-lt-number-fails", [cond("Allow", [{"attribute": "level", "operator": "lt", "value": 3}])], ["getMaterials"], R, False, context={"level": 4})
check("condition-missing-attr-allow-not-applied", [cond("Allow", [{"attribute": "ip", "operator": "eq", "value": "x"}])], ["getMaterials"], R, False, context={})
check("condition-missing-attr-deny-fails-closed", [glob("*"), cond("Deny", [{"attribute": "ip", "operator": "neq", "value": "10.0.0.1"}])], ["getMaterials"], R, False, context={})
check("condition-deny-not-matching", [glob("*"), cond("Deny", [{"attribute": "ip", "operator": "neq", "value": "10.0.0.1"}])], ["getMaterials"], R, True, context={"ip": "10.0.0.1"})
check("condition-type-mismatch-deny-fails-closed", [glob("*"), cond("Deny", [{"attribute": "level", "operator": "gt", "value": 3}])], ["getMaterials"], R, False, context={"level": "high"})

def op(id, name, input, expect): cases.append({"id": id, "op": name, "input": input, "expect": expect})
op("crud-simple", "policy_crud_actions", {"table": "materials", "extensible": False},
   {"ok": ["getMaterials", "postMaterials", "patchMaterials", "putMaterials", "deleteMaterials", "archiveMaterials", "unarchiveMaterials"]})
op("crud-snake-case", "policy_crud_actions", {"table": "bom_materials", "extensible": False},
   {"ok": ["getBomMaterials", "postBomMaterials", "patchBomMaterials", "putBomMaterials", "deleteBomMaterials", "archiveBomMaterials", "unarchiveBomMaterials"]})
op("crud-extensible", "policy_crud_actions", {"table": "bom_lines", "extensible": True},
   {"ok": ["getBomLines", "postBomLines", "patchBomLines", "putBomLines", "deleteBomLines", "archiveBomLines", "unarchiveBomLines",
           "getExtensibleFieldsBomLines", "putExtensibleFieldsBomLines", "deleteExtensibleFieldsBomLines"]})
op("crud-double-underscore", "policy_crud_actions", {"table": "a__b_", "extensible": False},
   {"ok": ["getAB", "postAB", "patchAB", "putAB", "deleteAB", "archiveAB", "unarchiveAB"]})
op("sync-package", "policy_sync_package_actions", {"packageId": "manufacturing_core", "tables": ["materials", "bom_headers"], "customActions": ["approveBom", "getMaterials"]},
   {"ok": ["getMaterials", "postMaterials", "patchMaterials", "putMaterials", "deleteMaterials", "archiveMaterials", "unarchiveMaterials",
           "getBomHeaders", "postBomHeaders", "patchBomHeaders", "putBomHeaders", "deleteBomHeaders", "archiveBomHeaders", "unarchiveBomHeaders", "approveBom"]})
op("derive-action-get", "policy_derive_action_name", {"method": "GET", "path": "service:core/package:mfg/table:bom_lines"}, {"ok": "getBomLines"})
op("derive-action-delete-column", "policy_derive_action_name", {"method": "Delete", "path": "service:core/package:mfg/table:materials/column:cost"}, {"ok": "deleteMaterials"})
op("derive-action-no-table", "policy_derive_action_name", {"method": "GET", "path": "service:core/package:mfg"}, {"ok": None})
op("slug-builder", "policy_slugify_uid", {"name": "Builder Developer [Admin]"}, {"ok": "builder_developer_admin"})
op("slug-trim", "policy_slugify_uid", {"name": "  --Engineering  Team!! "}, {"ok": "engineering_team"})
op("slug-digits", "policy_slugify_uid", {"name": "Tier 2 Support"}, {"ok": "tier_2_support"})
bad = lambda id, d, code: op(id, "policy_validate_document", {"document": d}, {"error": code, "status": 400})
op("validate-ok", "policy_validate_document", {"document": allow_all}, {"ok": True})
bad("invalid-principal-prefix", doc(st("Allow", ["team:x"], ["a"], ["r"])), "POLICY_INVALID_PRINCIPAL")
bad("invalid-principal-wildcard-role", doc(st("Allow", ["role:*"], ["a"], ["r"])), "POLICY_INVALID_PRINCIPAL")
bad("invalid-principal-empty-id", doc(st("Allow", ["user:"], ["a"], ["r"])), "POLICY_INVALID_PRINCIPAL")
bad("double-star-not-last", doc(st("Allow", ["*"], ["a"], ["service:x/**/table:y"])), "POLICY_INVALID_PATTERN")
bad("double-star-inside-segment", doc(st("Allow", ["*"], ["a"], ["service:x/tab**"])), "POLICY_INVALID_PATTERN")
bad("empty-segment", doc(st("Allow", ["*"], ["a"], ["service:x//y"])), "POLICY_INVALID_PATTERN")
bad("empty-action", doc(st("Allow", ["*"], [""], ["r"])), "POLICY_INVALID_PATTERN")
bad("no-principals", doc(st("Allow", [], ["a"], ["r"])), "POLICY_INVALID_DOCUMENT")
bad("bad-effect", doc(st("Permit", ["*"], ["a"], ["r"])), "POLICY_INVALID_DOCUMENT")
bad("bad-operator", doc(st("Allow", ["*"], ["a"], ["r"], conditions=[{"attribute": "x", "operator": "like", "value": 1}])), "POLICY_INVALID_DOCUMENT")
pkg = {"packageId": "mfg", "tables": ["materials", "bom_lines"], "customActions": ["approveBom"]}
cp = lambda id, action, resource, expect, roles=("editor",): op(id, "policy_check_permission",
    {"documents": [doc(st("Allow", ["role:editor"], ["get*", "approveBom"], ["service:core/package:mfg/**"]),
                       st("Deny", ["role:editor"], ["getBomLines"], ["service:core/package:mfg/table:bom_lines"]))],
     "packages": [pkg], "userId": "u1", "roles": list(roles), "groups": [], "resource": resource, **({"action": action} if action else {})},
    {"ok": expect})
cp("check-permission-single", "getMaterials", "service:core/package:mfg/table:materials",
   {"resource": "service:core/package:mfg/table:materials", "action": "getMaterials", "allowed": True})
cp("check-permission-single-denied", "getBomLines", "service:core/package:mfg/table:bom_lines",
   {"resource": "service:core/package:mfg/table:bom_lines", "action": "getBomLines", "allowed": False})
def dec(table, allowed):
    acts = [v + table for v in ["get", "post", "patch", "put", "delete", "archive", "unarchive"]] + ["approveBom"]
    return {a: (a in allowed) for a in acts}
cp("check-permission-all-table", None, "service:core/package:mfg/table:materials",
   {"resource": "service:core/package:mfg/table:materials", "decisions": dec("Materials", {"getMaterials", "approveBom"})})
cp("check-permission-all-table-with-deny", None, "service:core/package:mfg/table:bom_lines",
   {"resource": "service:core/package:mfg/table:bom_lines", "decisions": dec("BomLines", {"approveBom"})})
cp("check-permission-unknown-package", None, "service:core/package:hr/table:staff",
   {"resource": "service:core/package:hr/table:staff", "decisions": {}})
op("check-permission-invalid-resource", "policy_check_permission",
   {"documents": [], "packages": [], "userId": "u1", "roles": [], "groups": [], "resource": "service:core//x"},
   {"error": "POLICY_INVALID_RESOURCE", "status": 400})
seen=set()
for c in cases:
    assert c["id"] not in seen, c["id"]; seen.add(c["id"])
out = {"description": "authrs permission documents (grammar in core/src/policy.rs): Allow/Deny with deny overriding allow, principals (*, user:, role:, group:), action globs, resource patterns with segment * and trailing **, role hierarchy and groups, conditions failing closed, all-of-a-list checks, checkPermission single/all actions, syncPackage CRUD action names, uid slugs. Ops: policy_check {request: {documents, directory?, userId, roles, groups, actions, resource, context?}} -> bool (all actions allowed); policy_crud_actions {table, extensible} -> names; policy_sync_package_actions {packageId, tables, customActions} -> names; policy_derive_action_name {method, path} -> name|null; policy_slugify_uid {name} -> uid; policy_validate_document {document} -> true|error; policy_check_permission {documents, packages, userId, roles, groups, resource, action?} -> checkPermission result.",
       "source": "Hand-written from the documented grammar (core/src/policy.rs) and the authrs spec (shared/specs/auth-server-authrs.md §2.7-2.8: deny overrides, role ancestors, group roles, CRUD verbs get/post/patch/put/delete/archive/unarchive + extensible, PascalCase, slug rule). authrs itself has no wildcards; those cases are ours.",
       "cases": cases}
open(__import__('os').path.join(__import__('os').path.dirname(__import__('os').path.abspath(__file__)), '..', 'vectors', 'policy.json'),'w').write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
print(len(cases))
