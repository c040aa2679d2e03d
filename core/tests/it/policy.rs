//! authrs permission documents: vector cases plus engine-level tests.

use crate::support;

use authcore::policy::{
    self, Decision, DecisionReason, Directory, PackageSync, PermissionDocument, PolicyEngine,
    PolicyError,
};
use serde_json::{Map, Value, json};
use support::{run_vector_file, s};

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn run_case(op: &str, i: &Value) -> Result<Value, PolicyError> {
    match op {
        "policy_check" => policy::evaluate_request_json(&i["request"].to_string()).map(Value::from),
        "policy_crud_actions" => Ok(json!(policy::crud_actions(
            s(i, "table"),
            i["extensible"].as_bool().unwrap()
        ))),
        "policy_sync_package_actions" => {
            let sync: PackageSync = serde_json::from_value(i.clone()).unwrap();
            Ok(json!(sync.actions()))
        }
        "policy_derive_action_name" => Ok(json!(policy::derive_action_name(
            s(i, "method"),
            s(i, "path")
        ))),
        "policy_slugify_uid" => Ok(json!(policy::slugify_uid(s(i, "name")))),
        "policy_validate_document" => {
            PermissionDocument::parse(&i["document"].to_string()).map(|_| Value::Bool(true))
        }
        "policy_check_permission" => {
            let mut engine = PolicyEngine::new();
            for d in i["documents"].as_array().unwrap() {
                engine.add_document(PermissionDocument::parse(&d.to_string())?)?;
            }
            for p in i["packages"].as_array().unwrap() {
                engine.sync_package(serde_json::from_value(p.clone()).unwrap());
            }
            let subject = engine.subject(
                s(i, "userId"),
                &strings(&i["roles"]),
                &strings(&i["groups"]),
            );
            let r = engine.check_permission(
                &subject,
                s(i, "resource"),
                i["action"].as_str(),
                &Map::new(),
            )?;
            Ok(serde_json::to_value(r).unwrap())
        }
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn policy_vectors() {
    assert!(run_vector_file("policy.json", run_case) >= 80);
}

fn doc(v: Value) -> PermissionDocument {
    PermissionDocument::parse(&v.to_string()).unwrap()
}

#[test]
fn decision_reports_the_statement_that_decided() {
    let docs = [doc(json!({"version": "1.0", "statements": [
        {"sid": "A", "effect": "Allow", "principals": ["*"], "actions": ["*"], "resources": ["*"]},
        {"sid": "D", "effect": "Deny", "principals": ["user:mallory"], "actions": ["*"], "resources": ["*"]}
    ]}))];
    let dir = Directory::default();
    let alice = dir.resolve_subject("alice", &[], &[]);
    let mallory = dir.resolve_subject("mallory", &[], &[]);
    let ctx = Map::new();
    assert_eq!(
        policy::evaluate(&docs, &alice, "getX", "service:s", &ctx),
        Decision {
            allowed: true,
            reason: DecisionReason::Allowed(Some("A".into()))
        }
    );
    assert_eq!(
        policy::evaluate(&docs, &mallory, "getX", "service:s", &ctx),
        Decision {
            allowed: false,
            reason: DecisionReason::ExplicitDeny(Some("D".into()))
        }
    );
    assert_eq!(
        policy::evaluate(&[], &alice, "getX", "service:s", &ctx).reason,
        DecisionReason::NoMatch
    );
    assert_eq!(
        policy::evaluate(&docs, &alice, "getX", "a//b", &ctx).reason,
        DecisionReason::InvalidRequest
    );
}

#[test]
fn role_hierarchy_refuses_cycles_and_reports_ancestors() {
    let mut d = Directory::default();
    d.set_role_parent("junior", Some("editor")).unwrap();
    d.set_role_parent("editor", Some("viewer")).unwrap();
    assert_eq!(
        d.ancestors("junior"),
        vec!["editor".to_string(), "viewer".to_string()]
    );
    let e = d.set_role_parent("viewer", Some("junior")).unwrap_err();
    assert_eq!(e.code(), "POLICY_ROLE_CYCLE");
    assert_eq!(e.status(), 409);
    assert_eq!(
        d.set_role_parent("viewer", Some("viewer"))
            .unwrap_err()
            .code(),
        "POLICY_ROLE_CYCLE"
    );
    d.set_role_parent("editor", None).unwrap();
    assert_eq!(d.ancestors("junior"), vec!["editor".to_string()]);
    d.add_group_role("eng", "junior");
    d.add_group_role("eng", "junior");
    assert_eq!(d.group_roles["eng"], vec!["junior".to_string()]);
    let subj = d.resolve_subject("u", &[], &["eng".into()]);
    assert!(subj.roles.contains("junior") && subj.roles.contains("editor"));
}

#[test]
fn engine_check_all_and_scope() {
    let mut e = PolicyEngine::new();
    e.add_document(doc(json!({"statements": [
        {"effect": "Allow", "principals": ["role:editor"], "actions": ["get*", "patch*"], "resources": ["service:core/package:mfg/**"]}
    ]})))
    .unwrap();
    let actions = e.sync_package(PackageSync {
        package_id: "mfg".into(),
        tables: vec!["materials".into()],
        custom_actions: vec!["approveBom".into()],
        extensible_tables: vec!["materials".into()],
    });
    assert_eq!(actions.len(), 7 + 3 + 1);
    let subj = e.subject("u1", &["editor".into()], &[]);
    let r = "service:core/package:mfg/table:materials";
    let ctx = Map::new();
    assert!(e.check_all(
        &subj,
        r,
        &[
            "getMaterials",
            "patchMaterials",
            "getExtensibleFieldsMaterials"
        ],
        &ctx
    ));
    assert!(!e.check_all(&subj, r, &["getMaterials", "putMaterials"], &ctx));
    assert!(!e.check_all(&subj, r, &[], &ctx));
    assert_eq!(e.actions_in_scope("service:core/package:mfg").len(), 11);
    assert_eq!(e.actions_in_scope("service:core").len(), 11);
    let res = e.check_permission(&subj, r, None, &ctx).unwrap();
    let decisions = res.decisions.unwrap();
    assert!(decisions["getMaterials"] && !decisions["deleteMaterials"] && !decisions["approveBom"]);
}

#[test]
fn glob_is_linear_not_exponential() {
    // Classic backtracking blow-up pattern: must finish instantly.
    let pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
    let text = "a".repeat(5000);
    let t = std::time::Instant::now();
    assert!(!policy::glob_match(pattern, &text));
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
    assert!(policy::glob_match("**", ""));
    assert!(policy::glob_match("a*", "a"));
    assert!(!policy::glob_match("a", ""));
}

#[test]
fn document_round_trips_with_capitalised_effects() {
    let d = doc(json!({"version": "1.0", "statements": [
        {"sid": "S", "effect": "deny", "principals": ["*"], "actions": ["a"], "resources": ["r"]}]}));
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["statements"][0]["effect"], "Deny");
    assert_eq!(
        PermissionDocument::parse("{").unwrap_err().code(),
        "POLICY_INVALID_DOCUMENT"
    );
}
