//! authrs permission documents: Allow/Deny statements over principals, actions and
//! resources, role hierarchy and groups, `checkPermission`, and the action names that
//! `syncPackage` generates. Evaluation ([`evaluate`]) is a pure function.
//!
//! # Document
//!
//! ```json
//! {"version": "1.0", "statements": [{"sid": "S1", "effect": "Allow",
//!   "principals": ["role:editor"], "actions": ["get*"],
//!   "resources": ["service:core/package:mfg/**"], "conditions": []}]}
//! ```
//!
//! `effect` is `Allow` or `Deny`, case-insensitive (authrs stores `allow`/`deny`, its
//! client sends `Allow`/`Deny`). `sid` and `conditions` are optional. Documents are
//! validated by [`PermissionDocument::parse`]; an invalid document is rejected, never
//! half-applied.
//!
//! # Matching grammar
//!
//! Everything is **case-sensitive** and matched on the exact string (no trimming, no
//! Unicode normalisation).
//!
//! * **Principals** (no wildcards inside):
//!   * `*` matches every subject;
//!   * `user:<id>` matches when `<id>` equals the subject's user id (resolve e-mails and
//!     usernames to ids before storing a document, as authrs does);
//!   * `role:<uid>` matches when `<uid>` is one of the subject's *effective* roles: its
//!     direct roles, the roles of its groups, and every ancestor of those (a child role
//!     inherits its parents' permissions);
//!   * `group:<uid>` matches when the subject is in that group (an extension: authrs
//!     only merges group roles);
//!   * any other form makes the document invalid.
//! * **Actions**: a glob where `*` matches any run of characters, including none, and
//!   every other character matches itself (`?`, `[`, `.` are literal). `*` alone matches
//!   every action; `get*` matches `getMaterials`; `*Materials` every verb on materials.
//! * **Resources**: `/`-separated segments, conventionally `type:value`
//!   (`service:core/package:mfg/table:materials/column:cost`). A pattern is matched
//!   segment by segment:
//!   * a pattern segment `**` (allowed only as the **last** segment) matches zero or more
//!     remaining segments, so `service:core/package:mfg/**` covers the package and all
//!     its tables and columns;
//!   * inside any other segment `*` matches any run of characters except `/`
//!     (`table:bom_*`, `table:*`);
//!   * otherwise the pattern and the resource must have the same number of segments:
//!     a grant on `service:core/package:mfg` does **not** reach its tables;
//!   * the whole pattern `*` matches every resource;
//!   * empty segments (`a//b`, leading or trailing `/`) are invalid in patterns; a
//!     requested resource with empty segments or any `*` is invalid and denied.
//! * **Conditions**: `{"attribute": "ip", "operator": "eq", "value": "10.0.0.1"}`, all
//!   must hold (AND). Operators `eq`, `neq` (JSON equality), `gt`, `lt` (numbers, or two
//!   strings compared bytewise). The attribute is read from the request context. When a
//!   condition cannot be evaluated (missing attribute, incomparable types) an **Allow**
//!   statement does not apply and a **Deny** statement **does** (fail closed; authrs's
//!   Cedar setup failed open here). Unknown operators make the document invalid.
//!
//! # Decision
//!
//! Default deny. If any applicable statement is a Deny the answer is deny; otherwise
//! allow iff some applicable statement is an Allow. A statement applies when one of its
//! principals, one of its actions and one of its resources match and its conditions hold.
//!
//! # syncPackage action names
//!
//! For each table, `verb + PascalCase(table)` for the verbs [`CRUD_VERBS`]
//! (`get, post, patch, put, delete, archive, unarchive`), PascalCase splitting on `_` and
//! upper-casing the first character of each non-empty part (`bom_materials` →
//! `BomMaterials`). Extensible tables also get [`EXTENSIBLE_VERBS`]
//! (`getExtensibleFields…`, `putExtensibleFields…`, `deleteExtensibleFields…`). Custom
//! actions are added verbatim.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// CRUD verbs `syncPackage` generates for every table.
pub const CRUD_VERBS: [&str; 7] = [
    "get",
    "post",
    "patch",
    "put",
    "delete",
    "archive",
    "unarchive",
];
/// Extra verbs for extensible tables.
pub const EXTENSIBLE_VERBS: [&str; 3] = [
    "getExtensibleFields",
    "putExtensibleFields",
    "deleteExtensibleFields",
];

/// Errors of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The document JSON does not parse or is structurally invalid.
    #[error("invalid permission document: {0}")]
    InvalidDocument(String),
    /// A principal is not `*`, `user:<id>`, `role:<uid>` or `group:<uid>`.
    #[error("invalid principal: {0}")]
    InvalidPrincipal(String),
    /// An action or resource pattern is malformed.
    #[error("invalid pattern: {0}")]
    InvalidPattern(String),
    /// The requested resource is malformed.
    #[error("invalid resource: {0}")]
    InvalidResource(String),
    /// Setting this parent would create a cycle in the role hierarchy.
    #[error("role hierarchy cycle through {0}")]
    RoleCycle(String),
    /// The request JSON (subject, context) is malformed.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl PolicyError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidDocument(_) => "POLICY_INVALID_DOCUMENT",
            Self::InvalidPrincipal(_) => "POLICY_INVALID_PRINCIPAL",
            Self::InvalidPattern(_) => "POLICY_INVALID_PATTERN",
            Self::InvalidResource(_) => "POLICY_INVALID_RESOURCE",
            Self::RoleCycle(_) => "POLICY_ROLE_CYCLE",
            Self::InvalidRequest(_) => "POLICY_INVALID_REQUEST",
        }
    }

    /// HTTP status (authrs answers 400 for invalid documents, 409 for conflicts).
    pub fn status(&self) -> u16 {
        match self {
            Self::RoleCycle(_) => 409,
            _ => 400,
        }
    }
}

/// Statement effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Forbids; overrides any Allow.
    Deny,
}

impl<'de> Deserialize<'de> for Effect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.to_ascii_lowercase().as_str() {
            "allow" => Ok(Self::Allow),
            "deny" => Ok(Self::Deny),
            _ => Err(serde::de::Error::custom(format!(
                "effect must be Allow or Deny, got {s:?}"
            ))),
        }
    }
}

/// Condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConditionOperator {
    /// JSON equality.
    Eq,
    /// JSON inequality.
    Neq,
    /// Greater than (numbers or strings).
    Gt,
    /// Less than (numbers or strings).
    Lt,
}

/// A condition on a request-context attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// Context attribute name.
    pub attribute: String,
    /// Operator.
    pub operator: ConditionOperator,
    /// Right-hand value.
    pub value: Value,
}

/// One statement of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Statement id (for diagnostics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// Principal patterns.
    pub principals: Vec<String>,
    /// Action globs.
    pub actions: Vec<String>,
    /// Resource patterns.
    pub resources: Vec<String>,
    /// Conditions (AND).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
}

/// A permission document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionDocument {
    /// Document format version (free-form, `"1.0"` in authrs).
    #[serde(default)]
    pub version: String,
    /// Statements.
    pub statements: Vec<Statement>,
}

fn validate_principal(p: &str) -> Result<(), PolicyError> {
    if p == "*" {
        return Ok(());
    }
    let valid = ["user:", "role:", "group:"].iter().any(|pre| {
        p.strip_prefix(pre)
            .is_some_and(|id| !id.is_empty() && !id.contains('*'))
    });
    if valid {
        Ok(())
    } else {
        Err(PolicyError::InvalidPrincipal(p.to_string()))
    }
}

fn validate_resource_pattern(p: &str) -> Result<(), PolicyError> {
    if p == "*" {
        return Ok(());
    }
    let segs: Vec<&str> = p.split('/').collect();
    for (i, s) in segs.iter().enumerate() {
        if s.is_empty() {
            return Err(PolicyError::InvalidPattern(format!(
                "empty segment in {p:?}"
            )));
        }
        if s.contains("**") && (*s != "**" || i + 1 != segs.len()) {
            return Err(PolicyError::InvalidPattern(format!(
                "`**` must be a whole, last segment in {p:?}"
            )));
        }
    }
    Ok(())
}

impl PermissionDocument {
    /// Parse and validate a document from JSON.
    pub fn parse(json: &str) -> Result<Self, PolicyError> {
        let doc: Self =
            serde_json::from_str(json).map_err(|e| PolicyError::InvalidDocument(e.to_string()))?;
        doc.validate()?;
        Ok(doc)
    }

    /// Validate principals, patterns and non-emptiness.
    pub fn validate(&self) -> Result<(), PolicyError> {
        for st in &self.statements {
            if st.principals.is_empty() || st.actions.is_empty() || st.resources.is_empty() {
                return Err(PolicyError::InvalidDocument(
                    "a statement needs at least one principal, action and resource".into(),
                ));
            }
            for p in &st.principals {
                validate_principal(p)?;
            }
            for a in &st.actions {
                if a.is_empty() {
                    return Err(PolicyError::InvalidPattern("empty action".into()));
                }
            }
            for r in &st.resources {
                validate_resource_pattern(r)?;
            }
        }
        Ok(())
    }
}

/// Glob with `*` = any run of characters (no other metacharacters). Iterative with a
/// single backtrack point: O(len(pattern) * len(text)) worst case, no recursion.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    glob_bytes(pattern.as_bytes(), text.as_bytes())
}

fn glob_bytes(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// Match a resource pattern (grammar in the module docs) against a concrete resource.
pub fn resource_match(pattern: &str, resource: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let pat: Vec<&str> = pattern.split('/').collect();
    let res: Vec<&str> = resource.split('/').collect();
    let (last_is_rest, fixed) = match pat.last() {
        Some(&"**") => (true, &pat[..pat.len() - 1]),
        _ => (false, &pat[..]),
    };
    if last_is_rest {
        if res.len() < fixed.len() {
            return false;
        }
    } else if res.len() != fixed.len() {
        return false;
    }
    fixed.iter().zip(res.iter()).all(|(p, r)| glob_match(p, r))
}

/// Check a requested resource: non-empty segments, no `*`.
pub fn validate_resource(resource: &str) -> Result<(), PolicyError> {
    if resource.is_empty() || resource.contains('*') || resource.split('/').any(str::is_empty) {
        return Err(PolicyError::InvalidResource(resource.to_string()));
    }
    Ok(())
}

/// The resolved subject of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    /// User id (matched by `user:<id>`).
    pub user_id: String,
    /// Effective roles: direct, from groups, and all ancestors.
    #[serde(default)]
    pub roles: BTreeSet<String>,
    /// Groups the user belongs to.
    #[serde(default)]
    pub groups: BTreeSet<String>,
}

/// Role hierarchy (child → parent) and group → roles assignments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    /// Parent of each role that has one.
    #[serde(default)]
    pub role_parents: BTreeMap<String, String>,
    /// Roles granted to the members of each group.
    #[serde(default)]
    pub group_roles: BTreeMap<String, Vec<String>>,
}

impl Directory {
    /// Set or clear (`None`) a role's parent, refusing cycles.
    pub fn set_role_parent(&mut self, role: &str, parent: Option<&str>) -> Result<(), PolicyError> {
        match parent {
            None => {
                self.role_parents.remove(role);
            }
            Some(p) => {
                if p == role || self.ancestors(p).iter().any(|a| a == role) {
                    return Err(PolicyError::RoleCycle(role.to_string()));
                }
                self.role_parents.insert(role.to_string(), p.to_string());
            }
        }
        Ok(())
    }

    /// Grant `role` to every member of `group`.
    pub fn add_group_role(&mut self, group: &str, role: &str) {
        let roles = self.group_roles.entry(group.to_string()).or_default();
        if !roles.iter().any(|r| r == role) {
            roles.push(role.to_string());
        }
    }

    /// Ancestors of `role`, nearest first (stops on a cycle in hand-built data).
    pub fn ancestors(&self, role: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen: BTreeSet<&str> = BTreeSet::from([role]);
        let mut cur = role;
        while let Some(p) = self.role_parents.get(cur) {
            if !seen.insert(p.as_str()) {
                break;
            }
            out.push(p.clone());
            cur = p;
        }
        out
    }

    /// Resolve a user's direct roles and groups into a [`Subject`] with effective roles.
    pub fn resolve_subject(&self, user_id: &str, roles: &[String], groups: &[String]) -> Subject {
        let mut direct: Vec<String> = roles.to_vec();
        for g in groups {
            if let Some(rs) = self.group_roles.get(g) {
                direct.extend(rs.iter().cloned());
            }
        }
        let mut effective = BTreeSet::new();
        for r in direct {
            for a in self.ancestors(&r) {
                effective.insert(a);
            }
            effective.insert(r);
        }
        Subject {
            user_id: user_id.to_string(),
            roles: effective,
            groups: groups.iter().cloned().collect(),
        }
    }
}

/// Why a decision was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionReason {
    /// A Deny statement applied (its sid, if any).
    ExplicitDeny(Option<String>),
    /// An Allow statement applied and no Deny did.
    Allowed(Option<String>),
    /// No statement applied (default deny).
    NoMatch,
    /// The requested resource or action is malformed (denied).
    InvalidRequest,
}

/// Outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The final answer.
    pub allowed: bool,
    /// Why.
    pub reason: DecisionReason,
}

fn principal_match(p: &str, subject: &Subject) -> bool {
    if p == "*" {
        return true;
    }
    if let Some(id) = p.strip_prefix("user:") {
        return id == subject.user_id;
    }
    if let Some(id) = p.strip_prefix("role:") {
        return subject.roles.contains(id);
    }
    if let Some(id) = p.strip_prefix("group:") {
        return subject.groups.contains(id);
    }
    false
}

/// `Some(result)` when the condition can be evaluated, `None` otherwise.
fn condition_holds(c: &Condition, context: &Map<String, Value>) -> Option<bool> {
    let lhs = context.get(&c.attribute)?;
    match c.operator {
        ConditionOperator::Eq => Some(lhs == &c.value),
        ConditionOperator::Neq => Some(lhs != &c.value),
        ConditionOperator::Gt | ConditionOperator::Lt => {
            let ord = match (lhs, &c.value) {
                (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?)?,
                (Value::String(a), Value::String(b)) => a.as_bytes().cmp(b.as_bytes()),
                _ => return None,
            };
            Some(if c.operator == ConditionOperator::Gt {
                ord.is_gt()
            } else {
                ord.is_lt()
            })
        }
    }
}

fn statement_applies(
    st: &Statement,
    subject: &Subject,
    action: &str,
    resource: &str,
    context: &Map<String, Value>,
) -> bool {
    if !st.principals.iter().any(|p| principal_match(p, subject))
        || !st.actions.iter().any(|a| glob_match(a, action))
        || !st.resources.iter().any(|r| resource_match(r, resource))
    {
        return false;
    }
    st.conditions
        .iter()
        .all(|c| match condition_holds(c, context) {
            Some(v) => v,
            // Fail closed: an unevaluable condition keeps a Deny applicable and an Allow not.
            None => st.effect == Effect::Deny,
        })
}

/// Evaluate `action` on `resource` for `subject` against `documents` (pure function).
///
/// # Example
///
/// ```
/// use authcore::policy::{Directory, PermissionDocument, evaluate};
///
/// let doc = PermissionDocument::parse(r#"{"version": "1.0", "statements": [
///     {"sid": "read", "effect": "Allow", "principals": ["role:viewer"],
///      "actions": ["get*"], "resources": ["service:core/package:mfg/**"]},
///     {"sid": "no-cost", "effect": "Deny", "principals": ["*"],
///      "actions": ["*"], "resources": ["service:core/package:mfg/table:materials/column:cost"]}
/// ]}"#)?;
/// let mut directory = Directory::default();
/// directory.set_role_parent("editor", Some("viewer"))?; // editors inherit viewers' rights
/// let subject = directory.resolve_subject("u1", &["editor".into()], &[]);
/// let context = serde_json::Map::new();
///
/// let docs = [doc];
/// assert!(evaluate(&docs, &subject, "getMaterials", "service:core/package:mfg/table:materials", &context).allowed);
/// assert!(!evaluate(&docs, &subject, "getCost", "service:core/package:mfg/table:materials/column:cost", &context).allowed);
/// assert!(!evaluate(&docs, &subject, "deleteMaterials", "service:core/package:mfg/table:materials", &context).allowed);
/// # Ok::<(), authcore::policy::PolicyError>(())
/// ```
pub fn evaluate(
    documents: &[PermissionDocument],
    subject: &Subject,
    action: &str,
    resource: &str,
    context: &Map<String, Value>,
) -> Decision {
    if action.is_empty() || action.contains('*') || validate_resource(resource).is_err() {
        return Decision {
            allowed: false,
            reason: DecisionReason::InvalidRequest,
        };
    }
    let mut allow: Option<Option<String>> = None;
    for st in documents.iter().flat_map(|d| d.statements.iter()) {
        if statement_applies(st, subject, action, resource, context) {
            match st.effect {
                Effect::Deny => {
                    return Decision {
                        allowed: false,
                        reason: DecisionReason::ExplicitDeny(st.sid.clone()),
                    };
                }
                Effect::Allow => {
                    if allow.is_none() {
                        allow = Some(st.sid.clone());
                    }
                }
            }
        }
    }
    match allow {
        Some(sid) => Decision {
            allowed: true,
            reason: DecisionReason::Allowed(sid),
        },
        None => Decision {
            allowed: false,
            reason: DecisionReason::NoMatch,
        },
    }
}

/// `true` only if every action in `actions` is allowed (and the list is non-empty).
pub fn evaluate_all(
    documents: &[PermissionDocument],
    subject: &Subject,
    actions: &[&str],
    resource: &str,
    context: &Map<String, Value>,
) -> bool {
    !actions.is_empty()
        && actions
            .iter()
            .all(|a| evaluate(documents, subject, a, resource, context).allowed)
}

/// `bom_materials` → `BomMaterials`: split on `_`, upper-case the first character of each
/// non-empty part, keep the rest as is.
pub fn pascal_case(table: &str) -> String {
    table
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            match cs.next() {
                Some(f) => f.to_uppercase().chain(cs).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// CRUD (and, if `extensible`, extensible-field) action names for a table.
pub fn crud_actions(table: &str, extensible: bool) -> Vec<String> {
    let t = pascal_case(table);
    let mut out: Vec<String> = CRUD_VERBS.iter().map(|v| format!("{v}{t}")).collect();
    if extensible {
        out.extend(EXTENSIBLE_VERBS.iter().map(|v| format!("{v}{t}")));
    }
    out
}

/// authrs `derive_action_name(method, path)`: lower-case HTTP verb + PascalCase of the
/// `table:` segment of `path`. `None` if the path has no table segment.
pub fn derive_action_name(method: &str, path: &str) -> Option<String> {
    let table = path
        .split('/')
        .find_map(|s| s.strip_prefix("table:"))
        .filter(|t| !t.is_empty())?;
    Some(format!(
        "{}{}",
        method.to_ascii_lowercase(),
        pascal_case(table)
    ))
}

/// Role/group uid from a display name: lower case, each run of non-alphanumerics becomes
/// one `_`, leading and trailing `_` trimmed (`"Builder Developer [Admin]"` →
/// `builder_developer_admin`).
pub fn slugify_uid(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending = false;
    for c in name.chars() {
        if c.is_alphanumeric() {
            if pending && !out.is_empty() {
                out.push('_');
            }
            pending = false;
            out.extend(c.to_lowercase());
        } else {
            pending = true;
        }
    }
    out
}

/// authrs `syncPackage` parameters (`AuthrsPackageSyncParams`), plus the optional
/// `extensibleTables` extension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageSync {
    /// Package id.
    pub package_id: String,
    /// Table names.
    pub tables: Vec<String>,
    /// Custom action names (verbatim).
    #[serde(default)]
    pub custom_actions: Vec<String>,
    /// Tables that also get the extensible-field actions.
    #[serde(default)]
    pub extensible_tables: Vec<String>,
}

impl PackageSync {
    /// Every action name the sync registers: CRUD per table in table order, then custom
    /// actions; duplicates removed, first occurrence kept.
    pub fn actions(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for t in &self.tables {
            for a in crud_actions(t, self.extensible_tables.contains(t)) {
                if seen.insert(a.clone()) {
                    out.push(a);
                }
            }
        }
        for a in &self.custom_actions {
            if seen.insert(a.clone()) {
                out.push(a.clone());
            }
        }
        out
    }

    /// Actions of one table plus the package's custom actions.
    pub fn table_actions(&self, table: &str) -> Vec<String> {
        let mut out = crud_actions(table, self.extensible_tables.iter().any(|t| t == table));
        for a in &self.custom_actions {
            if !out.contains(a) {
                out.push(a.clone());
            }
        }
        out
    }
}

/// authrs `checkPermission` answer: `{resource, action, allowed}` for one action,
/// `{resource, decisions}` for all actions in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionCheckResult {
    /// The resource checked.
    pub resource: String,
    /// The action (single-action form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The answer (single-action form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    /// Action → answer (all-actions form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisions: Option<BTreeMap<String, bool>>,
}

/// Documents + directory + package registry: the state behind `checkPermission`.
#[derive(Debug, Clone, Default)]
pub struct PolicyEngine {
    documents: Vec<PermissionDocument>,
    directory: Directory,
    packages: BTreeMap<String, PackageSync>,
}

impl PolicyEngine {
    /// Empty engine.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a (validated) document.
    pub fn add_document(&mut self, doc: PermissionDocument) -> Result<(), PolicyError> {
        doc.validate()?;
        self.documents.push(doc);
        Ok(())
    }

    /// Mutable access to roles and groups.
    pub fn directory_mut(&mut self) -> &mut Directory {
        &mut self.directory
    }

    /// The role/group directory.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Register (or replace) a package's tables and actions; returns the action names.
    pub fn sync_package(&mut self, sync: PackageSync) -> Vec<String> {
        let actions = sync.actions();
        self.packages.insert(sync.package_id.clone(), sync);
        actions
    }

    /// Resolve a user into a subject using the directory.
    pub fn subject(&self, user_id: &str, roles: &[String], groups: &[String]) -> Subject {
        self.directory.resolve_subject(user_id, roles, groups)
    }

    /// Actions in scope of a resource: a table (or column) → its CRUD actions plus the
    /// package's custom actions; a package → those of all its tables; a service → all
    /// registered packages. Unknown packages give nothing.
    pub fn actions_in_scope(&self, resource: &str) -> Vec<String> {
        let seg = |ty: &str| {
            resource
                .split('/')
                .find_map(|s| s.strip_prefix(ty).map(str::to_string))
        };
        match (seg("package:"), seg("table:")) {
            (Some(p), Some(t)) => self
                .packages
                .get(&p)
                .map(|s| s.table_actions(&t))
                .unwrap_or_default(),
            (Some(p), None) => self
                .packages
                .get(&p)
                .map(PackageSync::actions)
                .unwrap_or_default(),
            (None, _) => {
                let mut seen = BTreeSet::new();
                self.packages
                    .values()
                    .flat_map(PackageSync::actions)
                    .filter(|a| seen.insert(a.clone()))
                    .collect()
            }
        }
    }

    /// Is `action` on `resource` allowed for `subject`?
    pub fn check(
        &self,
        subject: &Subject,
        resource: &str,
        action: &str,
        context: &Map<String, Value>,
    ) -> bool {
        evaluate(&self.documents, subject, action, resource, context).allowed
    }

    /// Are all `actions` allowed?
    pub fn check_all(
        &self,
        subject: &Subject,
        resource: &str,
        actions: &[&str],
        context: &Map<String, Value>,
    ) -> bool {
        evaluate_all(&self.documents, subject, actions, resource, context)
    }

    /// authrs `checkPermission`: one action, or every action in scope when `action` is
    /// `None`.
    pub fn check_permission(
        &self,
        subject: &Subject,
        resource: &str,
        action: Option<&str>,
        context: &Map<String, Value>,
    ) -> Result<PermissionCheckResult, PolicyError> {
        validate_resource(resource)?;
        Ok(match action {
            Some(a) => PermissionCheckResult {
                resource: resource.to_string(),
                action: Some(a.to_string()),
                allowed: Some(self.check(subject, resource, a, context)),
                decisions: None,
            },
            None => {
                let decisions = self
                    .actions_in_scope(resource)
                    .into_iter()
                    .map(|a| {
                        let ok = self.check(subject, resource, &a, context);
                        (a, ok)
                    })
                    .collect();
                PermissionCheckResult {
                    resource: resource.to_string(),
                    action: None,
                    allowed: None,
                    decisions: Some(decisions),
                }
            }
        })
    }
}

/// A self-contained evaluation request (the JSON form used by the bindings and the
/// conformance vectors).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRequest {
    /// Documents to evaluate.
    pub documents: Vec<PermissionDocument>,
    /// Role parents and group roles.
    #[serde(default)]
    pub directory: Directory,
    /// User id.
    pub user_id: String,
    /// Direct roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Action(s) to check: one, or all of a list.
    pub actions: Vec<String>,
    /// Resource.
    pub resource: String,
    /// Request context for conditions.
    #[serde(default)]
    pub context: Map<String, Value>,
}

/// Evaluate a [`PolicyRequest`] given as JSON: `true` iff every listed action is allowed.
/// Documents are validated first; a malformed request is an error, a malformed resource
/// is denied like in [`evaluate`].
///
/// The documents are read as documents: a malformed one is `POLICY_INVALID_DOCUMENT`, as
/// from [`parse_documents_json`] (the C `authcore_policy_evaluate_query`), not a malformed
/// request.
pub fn evaluate_request_json(json: &str) -> Result<bool, PolicyError> {
    let bad_request = |e: serde_json::Error| PolicyError::InvalidRequest(e.to_string());
    let mut value: Value = serde_json::from_str(json).map_err(bad_request)?;
    let documents = match value.as_object_mut().map(|o| o.remove("documents")) {
        Some(Some(Value::Array(items))) => {
            let docs = items
                .into_iter()
                .map(serde_json::from_value::<PermissionDocument>)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| PolicyError::InvalidDocument(e.to_string()))?;
            value["documents"] = Value::Array(Vec::new());
            docs
        }
        // Not an object, or no (or a non-array) `documents`: the request's own error.
        Some(Some(other)) => {
            value["documents"] = other;
            Vec::new()
        }
        _ => Vec::new(),
    };
    let mut req: PolicyRequest = serde_json::from_value(value).map_err(bad_request)?;
    req.documents = documents;
    for d in &req.documents {
        d.validate()?;
    }
    let subject = req
        .directory
        .resolve_subject(&req.user_id, &req.roles, &req.groups);
    let actions: Vec<&str> = req.actions.iter().map(String::as_str).collect();
    Ok(evaluate_all(
        &req.documents,
        &subject,
        &actions,
        &req.resource,
        &req.context,
    ))
}

/// Effective roles (direct, from groups, and all ancestors), e.g. for a session snapshot.
pub fn effective_roles(
    directory: &Directory,
    roles: &[String],
    groups: &[String],
) -> BTreeSet<String> {
    directory.resolve_subject("", roles, groups).roles
}

// ---------------------------------------------------------------------------------------
// Documents and queries as separate JSON texts (for the C ABI)
// ---------------------------------------------------------------------------------------

/// Parse permission documents from JSON: one document object, or an array of them. Every
/// document is validated ([`PermissionDocument::validate`]); the first invalid one
/// rejects the whole input.
pub fn parse_documents_json(json: &str) -> Result<Vec<PermissionDocument>, PolicyError> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| PolicyError::InvalidDocument(e.to_string()))?;
    let docs: Vec<PermissionDocument> = match value {
        Value::Array(items) => items
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<_, _>>(),
        other => serde_json::from_value(other).map(|d| vec![d]),
    }
    .map_err(|e| PolicyError::InvalidDocument(e.to_string()))?;
    for d in &docs {
        d.validate()?;
    }
    Ok(docs)
}

/// Who asks for what, without the documents: the JSON form taken by
/// [`evaluate_query_json`]. Unknown fields are an error, so a misspelt `actions` cannot
/// silently turn into an empty request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyQuery {
    /// Role parents and group roles.
    #[serde(default)]
    pub directory: Directory,
    /// User id.
    pub user_id: String,
    /// Direct roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// One action (give `action` or `actions`, not both).
    #[serde(default)]
    pub action: Option<String>,
    /// Several actions, all of which must be allowed.
    #[serde(default)]
    pub actions: Option<Vec<String>>,
    /// Resource.
    pub resource: String,
    /// Request context for conditions.
    #[serde(default)]
    pub context: Map<String, Value>,
}

impl PolicyQuery {
    /// Parse a query from JSON ([`PolicyError::InvalidRequest`] when malformed, when an
    /// unknown field is present, or when both or neither of `action`/`actions` are given).
    pub fn parse(json: &str) -> Result<Self, PolicyError> {
        let q: Self =
            serde_json::from_str(json).map_err(|e| PolicyError::InvalidRequest(e.to_string()))?;
        match (&q.action, &q.actions) {
            (Some(_), Some(_)) => Err(PolicyError::InvalidRequest(
                "give either `action` or `actions`, not both".into(),
            )),
            (None, None) => Err(PolicyError::InvalidRequest(
                "missing field `action` (or `actions`)".into(),
            )),
            _ => Ok(q),
        }
    }

    /// The actions to check, in order.
    pub fn action_list(&self) -> Vec<&str> {
        match (&self.action, &self.actions) {
            (Some(a), _) => vec![a.as_str()],
            (None, Some(list)) => list.iter().map(String::as_str).collect(),
            (None, None) => Vec::new(),
        }
    }
}

/// Outcome of [`evaluate_query`]: the answer, why, and which action decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryDecision {
    /// `true` iff every action is allowed (and there is at least one).
    pub allowed: bool,
    /// For a denial, the reason of the first denied action; for an allow, the reason of
    /// the first action (the statement that allowed it). An empty action list is
    /// [`DecisionReason::InvalidRequest`].
    pub reason: DecisionReason,
    /// Index in the query's action list of the action `reason` belongs to (`None` only
    /// for an empty list).
    pub action_index: Option<usize>,
}

/// Evaluate a query against documents: the same answer as [`evaluate_all`] (and as
/// [`evaluate_request_json`]), plus the reason and the deciding action.
pub fn evaluate_query(documents: &[PermissionDocument], query: &PolicyQuery) -> QueryDecision {
    let subject = query
        .directory
        .resolve_subject(&query.user_id, &query.roles, &query.groups);
    let actions = query.action_list();
    let mut first: Option<Decision> = None;
    for (i, a) in actions.iter().enumerate() {
        let d = evaluate(documents, &subject, a, &query.resource, &query.context);
        if !d.allowed {
            return QueryDecision {
                allowed: false,
                reason: d.reason,
                action_index: Some(i),
            };
        }
        if first.is_none() {
            first = Some(d);
        }
    }
    match first {
        Some(d) => QueryDecision {
            allowed: true,
            reason: d.reason,
            action_index: Some(0),
        },
        None => QueryDecision {
            allowed: false,
            reason: DecisionReason::InvalidRequest,
            action_index: None,
        },
    }
}

/// [`parse_documents_json`] + [`PolicyQuery::parse`] + [`evaluate_query`].
pub fn evaluate_query_json(
    documents_json: &str,
    query_json: &str,
) -> Result<QueryDecision, PolicyError> {
    let docs = parse_documents_json(documents_json)?;
    let query = PolicyQuery::parse(query_json)?;
    Ok(evaluate_query(&docs, &query))
}

/// The JSON form of an authrs `checkPermission` call without the documents: registered
/// packages, the user, the resource and optionally one action. Unknown fields are an
/// error.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CheckPermissionQuery {
    /// Packages registered with `syncPackage` (they define the actions in scope).
    #[serde(default)]
    pub packages: Vec<PackageSync>,
    /// Role parents and group roles.
    #[serde(default)]
    pub directory: Directory,
    /// User id.
    pub user_id: String,
    /// Direct roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Resource.
    pub resource: String,
    /// One action; absent = every action in scope of the resource.
    #[serde(default)]
    pub action: Option<String>,
    /// Request context for conditions.
    #[serde(default)]
    pub context: Map<String, Value>,
}

/// authrs `checkPermission` from JSON texts: documents (one or an array) and a
/// [`CheckPermissionQuery`]. Builds a [`PolicyEngine`] and calls
/// [`PolicyEngine::check_permission`].
pub fn check_permission_json(
    documents_json: &str,
    query_json: &str,
) -> Result<PermissionCheckResult, PolicyError> {
    let docs = parse_documents_json(documents_json)?;
    let q: CheckPermissionQuery =
        serde_json::from_str(query_json).map_err(|e| PolicyError::InvalidRequest(e.to_string()))?;
    let mut engine = PolicyEngine::new();
    for d in docs {
        engine.add_document(d)?;
    }
    *engine.directory_mut() = q.directory;
    for p in q.packages {
        engine.sync_package(p);
    }
    let subject = engine.subject(&q.user_id, &q.roles, &q.groups);
    engine.check_permission(&subject, &q.resource, q.action.as_deref(), &q.context)
}
