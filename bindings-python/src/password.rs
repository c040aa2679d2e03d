//! `authcore.password`: argon2id (argon2-cffi style), bcrypt (bcryptjs compatible) and the
//! login-time verify-and-upgrade path. Every KDF runs with the GIL released.

use std::sync::Arc;

use authcore::password::{
    self as core, Argon2Params, DummyAlgorithm, PasswordConfig, PasswordError, PasswordHasher,
};
use pyo3::prelude::*;

use crate::convert::bytes_arg;
use crate::errors::{guard, raise};

const MODULE: &str = "authcore.password";

/// Map a core error; `context` (`hash`, `verify`, `config`, `bcrypt`) picks the
/// argon2-cffi class on the Python side.
pub fn to_py(py: Python<'_>, e: &PasswordError, context: &str) -> PyErr {
    raise(
        py,
        MODULE,
        e.code(),
        e.to_string(),
        e.status(),
        context,
        None,
    )
}

fn params(time_cost: u32, memory_cost: u32, parallelism: u32, hash_len: usize) -> Argon2Params {
    Argon2Params {
        m_cost: memory_cost,
        t_cost: time_cost,
        p_cost: parallelism,
        output_len: hash_len,
    }
}

/// argon2id PHC hash with a random salt of `salt_len` bytes, or the given `salt`.
#[pyfunction]
#[pyo3(signature = (password, time_cost, memory_cost, parallelism, hash_len, salt_len, salt=None))]
#[allow(clippy::too_many_arguments)]
fn password_hash_argon2id(
    py: Python<'_>,
    password: &Bound<'_, PyAny>,
    time_cost: u32,
    memory_cost: u32,
    parallelism: u32,
    hash_len: usize,
    salt_len: usize,
    salt: Option<Vec<u8>>,
) -> PyResult<String> {
    guard(|| {
        let pw = bytes_arg(password, "password")?;
        let p = params(time_cost, memory_cost, parallelism, hash_len);
        let r = py.detach(|| match &salt {
            Some(s) => core::hash_argon2id_with_salt(&pw, s, &p),
            None => core::hash_argon2id_salt_len(&pw, &p, salt_len),
        });
        r.map_err(|e| to_py(py, &e, "hash"))
    })
}

fn limits(max_memory_cost: u32, max_time_cost: u32, max_parallelism: u32) -> core::Argon2Limits {
    core::Argon2Limits {
        max_m_cost: max_memory_cost,
        max_t_cost: max_time_cost,
        max_p_cost: max_parallelism,
    }
}

/// Verify an argon2id PHC hash; `False` on mismatch. A stored hash asking for more than
/// the ceilings is refused before any KDF memory is allocated.
#[pyfunction]
#[pyo3(signature = (hash, password, max_memory_cost=core::MAX_VERIFY_M_COST, max_time_cost=core::MAX_VERIFY_T_COST, max_parallelism=core::MAX_VERIFY_P_COST))]
fn password_verify_argon2(
    py: Python<'_>,
    hash: &str,
    password: &Bound<'_, PyAny>,
    max_memory_cost: u32,
    max_time_cost: u32,
    max_parallelism: u32,
) -> PyResult<bool> {
    guard(|| {
        let pw = bytes_arg(password, "password")?;
        let l = limits(max_memory_cost, max_time_cost, max_parallelism);
        py.detach(|| core::verify_argon2_limited(&pw, hash, &l))
            .map_err(|e| to_py(py, &e, "verify"))
    })
}

/// The verification ceilings, checked against the hasher's own parameters (constructor
/// validation).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn password_check_limits(
    py: Python<'_>,
    time_cost: u32,
    memory_cost: u32,
    parallelism: u32,
    hash_len: usize,
    max_memory_cost: u32,
    max_time_cost: u32,
    max_parallelism: u32,
) -> PyResult<()> {
    guard(|| {
        let p = params(time_cost, memory_cost, parallelism, hash_len);
        limits(max_memory_cost, max_time_cost, max_parallelism)
            .check(&p)
            .map_err(|e| to_py(py, &e, "config"))
    })
}

/// argon2-cffi's `check_needs_rehash`.
#[pyfunction]
fn password_argon2_needs_rehash(
    py: Python<'_>,
    hash: &str,
    time_cost: u32,
    memory_cost: u32,
    parallelism: u32,
    hash_len: usize,
    salt_len: usize,
) -> PyResult<bool> {
    guard(|| {
        let p = params(time_cost, memory_cost, parallelism, hash_len);
        core::needs_rehash_exact(hash, &p, salt_len).map_err(|e| to_py(py, &e, "rehash"))
    })
}

/// The core's `needs_rehash` (bcrypt → `True`, m/t/p/length only).
#[pyfunction]
fn password_needs_rehash(
    py: Python<'_>,
    hash: &str,
    time_cost: u32,
    memory_cost: u32,
    parallelism: u32,
    hash_len: usize,
) -> PyResult<bool> {
    guard(|| {
        let p = params(time_cost, memory_cost, parallelism, hash_len);
        core::needs_rehash(hash, &p).map_err(|e| to_py(py, &e, "rehash"))
    })
}

/// Check argon2 parameters without hashing (constructor validation).
#[pyfunction]
fn password_check_params(
    py: Python<'_>,
    time_cost: u32,
    memory_cost: u32,
    parallelism: u32,
    hash_len: usize,
    salt_len: usize,
) -> PyResult<()> {
    guard(|| {
        let p = params(time_cost, memory_cost, parallelism, hash_len);
        let r = core::validate_params(&p, salt_len);
        r.map_err(|e| to_py(py, &e, "config"))
    })
}

/// bcrypt hash (`$2b$`, cost clamped to 4..=31, password truncated to 72 bytes).
#[pyfunction]
fn password_bcrypt_hash(
    py: Python<'_>,
    password: &Bound<'_, PyAny>,
    cost: u32,
) -> PyResult<String> {
    guard(|| {
        let pw = bytes_arg(password, "password")?;
        py.detach(|| core::bcrypt_hash(&pw, cost))
            .map_err(|e| to_py(py, &e, "bcrypt"))
    })
}

/// bcryptjs `hashSync(password, salt)` with a 29-character salt.
#[pyfunction]
fn password_bcrypt_hash_with_salt(
    py: Python<'_>,
    password: &Bound<'_, PyAny>,
    salt: &str,
) -> PyResult<String> {
    guard(|| {
        let pw = bytes_arg(password, "password")?;
        py.detach(|| core::bcrypt_hash_with_salt_str(&pw, salt))
            .map_err(|e| to_py(py, &e, "bcrypt"))
    })
}

/// bcrypt verify (`$2a$`/`$2b$`/`$2y$`); `False` on mismatch.
#[pyfunction]
fn password_bcrypt_verify(
    py: Python<'_>,
    password: &Bound<'_, PyAny>,
    hash: &str,
) -> PyResult<bool> {
    guard(|| {
        let pw = bytes_arg(password, "password")?;
        py.detach(|| core::bcrypt_verify(&pw, hash))
            .map_err(|e| to_py(py, &e, "bcrypt"))
    })
}

/// Verify against either kind of hash; `False` on mismatch.
#[pyfunction]
fn password_verify(py: Python<'_>, password: &Bound<'_, PyAny>, hash: &str) -> PyResult<bool> {
    guard(|| {
        let pw = bytes_arg(password, "password")?;
        py.detach(|| core::verify(&pw, hash))
            .map_err(|e| to_py(py, &e, "any"))
    })
}

/// `"argon2id"`, `"bcrypt"` or `None`.
#[pyfunction]
fn password_identify(hash: &str) -> Option<&'static str> {
    match core::identify(hash) {
        Some(core::HashKind::Argon2id) => Some("argon2id"),
        Some(core::HashKind::Bcrypt) => Some("bcrypt"),
        None => None,
    }
}

/// `AUTHCORE_KDF_CONCURRENCY` when it is an integer from 1 to 1024, else CPUs - 1 (at
/// least 1): the core's rule, shared with Node.
#[pyfunction]
fn kdf_concurrency_default() -> usize {
    authcore::limits::default_kdf_concurrency()
}

/// The core `PasswordHasher`: verify-and-upgrade with a same-cost unknown-user path.
#[pyclass(module = "authcore._native", name = "PasswordHasher", frozen)]
pub struct PyPasswordHasher {
    inner: Arc<PasswordHasher>,
}

#[pymethods]
impl PyPasswordHasher {
    #[new]
    #[pyo3(signature = (time_cost, memory_cost, parallelism, hash_len, max_password_bytes, dummy_bcrypt_cost=None, max_memory_cost=core::MAX_VERIFY_M_COST, max_time_cost=core::MAX_VERIFY_T_COST, max_parallelism=core::MAX_VERIFY_P_COST))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        time_cost: u32,
        memory_cost: u32,
        parallelism: u32,
        hash_len: usize,
        max_password_bytes: usize,
        dummy_bcrypt_cost: Option<u32>,
        max_memory_cost: u32,
        max_time_cost: u32,
        max_parallelism: u32,
    ) -> PyResult<Self> {
        guard(|| {
            let config = PasswordConfig {
                argon2: params(time_cost, memory_cost, parallelism, hash_len),
                max_password_bytes,
                dummy: match dummy_bcrypt_cost {
                    Some(cost) => DummyAlgorithm::Bcrypt { cost },
                    None => DummyAlgorithm::Argon2id,
                },
                verify_limits: limits(max_memory_cost, max_time_cost, max_parallelism),
            };
            let h = py
                .detach(|| PasswordHasher::new(config))
                .map_err(|e| to_py(py, &e, "config"))?;
            Ok(Self { inner: Arc::new(h) })
        })
    }

    /// `(valid, rehash)`; `hash=None` runs the unknown-user path.
    #[pyo3(signature = (password, hash))]
    fn verify_and_upgrade(
        &self,
        py: Python<'_>,
        password: &Bound<'_, PyAny>,
        hash: Option<String>,
    ) -> PyResult<(bool, Option<String>)> {
        guard(|| {
            let pw = bytes_arg(password, "password")?;
            let v = py
                .detach(|| self.inner.verify_and_upgrade(&pw, hash.as_deref()))
                .map_err(|e| to_py(py, &e, "any"))?;
            Ok((v.valid, v.rehash))
        })
    }

    fn hash(&self, py: Python<'_>, password: &Bound<'_, PyAny>) -> PyResult<String> {
        guard(|| {
            let pw = bytes_arg(password, "password")?;
            py.detach(|| self.inner.hash(&pw))
                .map_err(|e| to_py(py, &e, "hash"))
        })
    }

    fn verify_dummy(&self, py: Python<'_>, password: &Bound<'_, PyAny>) -> PyResult<bool> {
        guard(|| {
            let pw = bytes_arg(password, "password")?;
            py.detach(|| self.inner.verify_dummy(&pw))
                .map_err(|e| to_py(py, &e, "any"))
        })
    }

    /// KDF runs so far (real and dummy verifications).
    #[getter]
    fn kdf_runs(&self) -> u64 {
        self.inner.kdf_runs()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(password_hash_argon2id, m)?)?;
    m.add_function(wrap_pyfunction!(password_verify_argon2, m)?)?;
    m.add_function(wrap_pyfunction!(password_argon2_needs_rehash, m)?)?;
    m.add_function(wrap_pyfunction!(password_needs_rehash, m)?)?;
    m.add_function(wrap_pyfunction!(password_check_params, m)?)?;
    m.add_function(wrap_pyfunction!(password_check_limits, m)?)?;
    m.add_function(wrap_pyfunction!(kdf_concurrency_default, m)?)?;
    m.add("ARGON2_MAX_VERIFY_MEMORY_COST", core::MAX_VERIFY_M_COST)?;
    m.add("ARGON2_MAX_VERIFY_TIME_COST", core::MAX_VERIFY_T_COST)?;
    m.add("ARGON2_MAX_VERIFY_PARALLELISM", core::MAX_VERIFY_P_COST)?;
    m.add_function(wrap_pyfunction!(password_bcrypt_hash, m)?)?;
    m.add_function(wrap_pyfunction!(password_bcrypt_hash_with_salt, m)?)?;
    m.add_function(wrap_pyfunction!(password_bcrypt_verify, m)?)?;
    m.add_function(wrap_pyfunction!(password_verify, m)?)?;
    m.add_function(wrap_pyfunction!(password_identify, m)?)?;
    m.add_class::<PyPasswordHasher>()?;
    Ok(())
}
