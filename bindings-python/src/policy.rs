//! `authcore.policy`: authrs permission documents, role hierarchy, `checkPermission`,
//! syncPackage action names. Documents and requests cross the boundary as JSON text.

use std::sync::RwLock;

use authcore::policy::{self as core, PackageSync, PermissionDocument, PolicyEngine, PolicyError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Map, Value};

use crate::errors::{guard, raise};
use crate::json;

const MODULE: &str = "authcore.policy";

pub fn to_py(py: Python<'_>, e: &PolicyError) -> PyErr {
    raise(py, MODULE, e.code(), e.to_string(), e.status(), "", None)
}

fn pol_err<T>(py: Python<'_>, r: Result<T, PolicyError>) -> PyResult<T> {
    r.map_err(|e| to_py(py, &e))
}

fn context(py: Python<'_>, json: Option<&str>) -> PyResult<Map<String, Value>> {
    match json {
        None => Ok(Map::new()),
        Some(j) => match serde_json::from_str::<Value>(j) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(to_py(
                py,
                &PolicyError::InvalidRequest("context must be a JSON object".into()),
            )),
        },
    }
}

/// Evaluate a self-contained request (JSON): `True` iff every action is allowed.
#[pyfunction]
fn policy_evaluate_request(py: Python<'_>, request_json: &str) -> PyResult<bool> {
    guard(|| pol_err(py, core::evaluate_request_json(request_json)))
}

/// Parse and validate a document (JSON); returns its normalised JSON.
#[pyfunction]
fn policy_validate_document(py: Python<'_>, document_json: &str) -> PyResult<String> {
    guard(|| {
        let doc = pol_err(py, PermissionDocument::parse(document_json))?;
        Ok(serde_json::to_string(&doc).unwrap_or_default())
    })
}

#[pyfunction]
#[pyo3(signature = (table, extensible=false))]
fn policy_crud_actions(table: &str, extensible: bool) -> Vec<String> {
    core::crud_actions(table, extensible)
}

#[pyfunction]
fn policy_derive_action_name(method: &str, path: &str) -> Option<String> {
    core::derive_action_name(method, path)
}

#[pyfunction]
fn policy_slugify_uid(name: &str) -> String {
    core::slugify_uid(name)
}

#[pyfunction]
fn policy_pascal_case(table: &str) -> String {
    core::pascal_case(table)
}

#[pyfunction]
fn policy_glob_match(pattern: &str, text: &str) -> bool {
    core::glob_match(pattern, text)
}

#[pyfunction]
fn policy_resource_match(pattern: &str, resource: &str) -> bool {
    core::resource_match(pattern, resource)
}

/// syncPackage action names: CRUD per table, then custom actions, deduplicated.
#[pyfunction]
#[pyo3(signature = (package_id, tables, custom_actions=Vec::new(), extensible_tables=Vec::new()))]
fn policy_sync_package_actions(
    package_id: String,
    tables: Vec<String>,
    custom_actions: Vec<String>,
    extensible_tables: Vec<String>,
) -> Vec<String> {
    PackageSync {
        package_id,
        tables,
        custom_actions,
        extensible_tables,
    }
    .actions()
}

/// Documents + role/group directory + packages (core `PolicyEngine`).
#[pyclass(module = "authcore._native", name = "PolicyEngine", frozen)]
pub struct PyPolicyEngine {
    inner: RwLock<PolicyEngine>,
}

impl PyPolicyEngine {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, PolicyEngine> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, PolicyEngine> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[pymethods]
impl PyPolicyEngine {
    #[new]
    fn new() -> Self {
        Self {
            inner: RwLock::new(PolicyEngine::new()),
        }
    }

    fn add_document_json(&self, py: Python<'_>, document_json: &str) -> PyResult<()> {
        guard(|| {
            let doc = pol_err(py, PermissionDocument::parse(document_json))?;
            pol_err(py, self.write().add_document(doc))
        })
    }

    #[pyo3(signature = (role, parent=None))]
    fn set_role_parent(&self, py: Python<'_>, role: &str, parent: Option<&str>) -> PyResult<()> {
        pol_err(
            py,
            self.write().directory_mut().set_role_parent(role, parent),
        )
    }

    fn add_group_role(&self, group: &str, role: &str) {
        self.write().directory_mut().add_group_role(group, role);
    }

    #[pyo3(signature = (package_id, tables, custom_actions=Vec::new(), extensible_tables=Vec::new()))]
    fn sync_package(
        &self,
        package_id: String,
        tables: Vec<String>,
        custom_actions: Vec<String>,
        extensible_tables: Vec<String>,
    ) -> Vec<String> {
        self.write().sync_package(PackageSync {
            package_id,
            tables,
            custom_actions,
            extensible_tables,
        })
    }

    fn effective_roles(&self, roles: Vec<String>, groups: Vec<String>) -> Vec<String> {
        core::effective_roles(self.read().directory(), &roles, &groups)
            .into_iter()
            .collect()
    }

    fn actions_in_scope(&self, resource: &str) -> Vec<String> {
        self.read().actions_in_scope(resource)
    }

    /// Is every action in `actions` allowed on `resource`?
    #[pyo3(signature = (user_id, resource, actions, roles=Vec::new(), groups=Vec::new(), context_json=None))]
    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        py: Python<'_>,
        user_id: &str,
        resource: &str,
        actions: Vec<String>,
        roles: Vec<String>,
        groups: Vec<String>,
        context_json: Option<&str>,
    ) -> PyResult<bool> {
        guard(|| {
            let ctx = context(py, context_json)?;
            let engine = self.read();
            let subject = engine.subject(user_id, &roles, &groups);
            let refs: Vec<&str> = actions.iter().map(String::as_str).collect();
            Ok(engine.check_all(&subject, resource, &refs, &ctx))
        })
    }

    /// authrs `checkPermission`: `{resource, action, allowed}` or `{resource, decisions}`.
    #[pyo3(signature = (user_id, resource, action=None, roles=Vec::new(), groups=Vec::new(), context_json=None))]
    #[allow(clippy::too_many_arguments)]
    fn check_permission<'py>(
        &self,
        py: Python<'py>,
        user_id: &str,
        resource: &str,
        action: Option<&str>,
        roles: Vec<String>,
        groups: Vec<String>,
        context_json: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let ctx = context(py, context_json)?;
            let engine = self.read();
            let subject = engine.subject(user_id, &roles, &groups);
            let r = pol_err(
                py,
                engine.check_permission(&subject, resource, action, &ctx),
            )?;
            match serde_json::to_value(r) {
                Ok(Value::Object(m)) => json::map_to_py(py, &m),
                _ => Err(to_py(py, &PolicyError::InvalidRequest("result".into()))),
            }
        })
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(policy_evaluate_request, m)?)?;
    m.add_function(wrap_pyfunction!(policy_validate_document, m)?)?;
    m.add_function(wrap_pyfunction!(policy_crud_actions, m)?)?;
    m.add_function(wrap_pyfunction!(policy_derive_action_name, m)?)?;
    m.add_function(wrap_pyfunction!(policy_slugify_uid, m)?)?;
    m.add_function(wrap_pyfunction!(policy_pascal_case, m)?)?;
    m.add_function(wrap_pyfunction!(policy_glob_match, m)?)?;
    m.add_function(wrap_pyfunction!(policy_resource_match, m)?)?;
    m.add_function(wrap_pyfunction!(policy_sync_package_actions, m)?)?;
    m.add_class::<PyPolicyEngine>()?;
    Ok(())
}
