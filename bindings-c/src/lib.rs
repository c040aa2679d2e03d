//! C ABI (thin layer over authcore).
