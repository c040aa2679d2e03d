"""authcore: the security-critical core (Rust) behind Node.js and Python auth stacks.

``authcore.hmac`` is a drop-in of ``@naskot/node-hmac-auth-core`` 1.0.0 for Python: the
same wire (signing payload, headers, Redis key layout, stored JSON records) and the same
error codes and statuses, with snake_case names.
"""

from . import _native
from .errors import (
    HmacArgumentError,
    HmacAuthError,
    HmacError,
    HmacInputError,
    HmacInternalError,
    HmacStoreError,
)

__version__: str = _native.__version__

__all__ = [
    "__version__",
    "HmacArgumentError",
    "HmacAuthError",
    "HmacError",
    "HmacInputError",
    "HmacInternalError",
    "HmacStoreError",
]
