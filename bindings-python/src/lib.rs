//! pyo3 binding (thin layer over authcore).
