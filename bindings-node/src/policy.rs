//! authrs policies: permission documents, role hierarchy and groups, `checkPermission`,
//! syncPackage CRUD action names. Pure and cheap, so synchronous. Documents and results
//! cross the boundary as JSON text.

use authcore::policy::{self as core, PackageSync, PermissionDocument, PolicyError};
use authcore_node_boundary::napi;
use napi::Env;
use serde_json::{Map, Value};

use crate::error::{AuthErr, js};

fn bad_request(e: serde_json::Error) -> AuthErr {
    PolicyError::InvalidRequest(e.to_string()).into()
}

fn context(json: Option<String>) -> Result<Map<String, Value>, AuthErr> {
    match json {
        None => Ok(Map::new()),
        Some(t) => serde_json::from_str(&t).map_err(bad_request),
    }
}

/// Evaluate a self-contained request (JSON text `{documents, directory?, userId, roles,
/// groups, actions, resource, context?}`): `true` iff every action is allowed.
#[napi(catch_unwind)]
pub fn policy_evaluate_request(env: &Env, request_json: String) -> napi::Result<bool> {
    js(env, core::evaluate_request_json(&request_json))
}

/// Validate a permission document (JSON text): `true` or `POLICY_*` error.
#[napi(catch_unwind)]
pub fn policy_validate_document(env: &Env, document_json: String) -> napi::Result<bool> {
    js(env, PermissionDocument::parse(&document_json)).map(|_| true)
}

/// CRUD (+ extensible) action names of a table.
#[napi(catch_unwind)]
pub fn policy_crud_actions(table: String, extensible: Option<bool>) -> Vec<String> {
    core::crud_actions(&table, extensible.unwrap_or(false))
}

/// Action names registered by a syncPackage (JSON text `{packageId, tables,
/// customActions?, extensibleTables?}`).
#[napi(catch_unwind)]
pub fn policy_sync_package_actions(env: &Env, sync_json: String) -> napi::Result<Vec<String>> {
    let s: Result<PackageSync, AuthErr> = serde_json::from_str(&sync_json).map_err(bad_request);
    js(env, s).map(|s| s.actions())
}

/// authrs `derive_action_name(method, path)`.
#[napi(catch_unwind)]
pub fn policy_derive_action_name(method: String, path: String) -> Option<String> {
    core::derive_action_name(&method, &path)
}

/// Role/group uid slug of a display name.
#[napi(catch_unwind)]
pub fn policy_slugify_uid(name: String) -> String {
    core::slugify_uid(&name)
}

/// Who asks.
#[napi(object)]
pub struct PolicySubject {
    /// User id.
    pub user_id: String,
    /// Direct roles.
    pub roles: Option<Vec<String>>,
    /// Groups.
    pub groups: Option<Vec<String>>,
}

/// Documents + role/group directory + package registry behind `checkPermission`.
#[napi]
pub struct PolicyEngine {
    inner: core::PolicyEngine,
}

#[napi]
impl PolicyEngine {
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        Self {
            inner: core::PolicyEngine::new(),
        }
    }

    /// Add a validated document (JSON text).
    #[napi(catch_unwind)]
    pub fn add_document(&mut self, env: Env, document_json: String) -> napi::Result<()> {
        let r = PermissionDocument::parse(&document_json).and_then(|d| self.inner.add_document(d));
        js(&env, r)
    }

    /// Set (or clear) a role's parent; cycles are refused.
    #[napi(catch_unwind)]
    pub fn set_role_parent(
        &mut self,
        env: Env,
        role: String,
        parent: Option<String>,
    ) -> napi::Result<()> {
        js(
            &env,
            self.inner
                .directory_mut()
                .set_role_parent(&role, parent.as_deref()),
        )
    }

    /// Give a group's members a role.
    #[napi(catch_unwind)]
    pub fn add_group_role(&mut self, group: String, role: String) {
        self.inner.directory_mut().add_group_role(&group, &role);
    }

    /// Register a package (JSON text); returns its action names.
    #[napi(catch_unwind)]
    pub fn sync_package(&mut self, env: Env, sync_json: String) -> napi::Result<Vec<String>> {
        let s: Result<PackageSync, AuthErr> = serde_json::from_str(&sync_json).map_err(bad_request);
        let s = js(&env, s)?;
        Ok(self.inner.sync_package(s))
    }

    /// Is `action` on `resource` allowed? `contextJson`: attributes for conditions.
    #[napi(catch_unwind)]
    pub fn check(
        &self,
        env: Env,
        subject: PolicySubject,
        resource: String,
        action: String,
        context_json: Option<String>,
    ) -> napi::Result<bool> {
        let ctx = js(&env, context(context_json))?;
        let subject = self.inner.subject(
            &subject.user_id,
            &subject.roles.unwrap_or_default(),
            &subject.groups.unwrap_or_default(),
        );
        Ok(self.inner.check(&subject, &resource, &action, &ctx))
    }

    /// authrs `checkPermission` (JSON text `{resource, action, allowed}` or
    /// `{resource, decisions}` when `action` is null).
    #[napi(catch_unwind)]
    pub fn check_permission(
        &self,
        env: Env,
        subject: PolicySubject,
        resource: String,
        action: Option<String>,
        context_json: Option<String>,
    ) -> napi::Result<String> {
        let ctx = js(&env, context(context_json))?;
        let subject = self.inner.subject(
            &subject.user_id,
            &subject.roles.unwrap_or_default(),
            &subject.groups.unwrap_or_default(),
        );
        let r = js(
            &env,
            self.inner
                .check_permission(&subject, &resource, action.as_deref(), &ctx),
        )?;
        Ok(serde_json::to_string(&r).unwrap_or_default())
    }

    /// Actions in scope of a resource.
    #[napi(catch_unwind)]
    pub fn actions_in_scope(&self, resource: String) -> Vec<String> {
        self.inner.actions_in_scope(&resource)
    }
}

impl Default for PolicyEngine {
    fn default() -> Self {
        Self {
            inner: core::PolicyEngine::new(),
        }
    }
}
