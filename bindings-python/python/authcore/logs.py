"""The core's structured log events in Python's ``logging``, on the logger ``authcore``.

Each record's message reads ``"<message> op=… outcome=… client_id=…"`` and the fields are
also on the record as ``record.authcore`` (a dict): ``op`` (what ran: ``hmac.verify``,
``propagation.apply``, ``token.refresh``, …), ``outcome`` (``OK`` or an error code) and the
client or user it concerned. No record carries a secret, signature, nonce, token, password
or body.

::

    import logging
    from authcore import logs

    logging.basicConfig(level=logging.INFO)
    logs.enable()            # level: the logger's effective level (or pass one)

Events are queued by the core and handed to ``logging`` by one background thread, so the
thread that verified a request never waits for the GIL or a log handler.
"""

from __future__ import annotations

import json
import logging
from typing import Optional, Union

from . import _native

__all__ = ["LOGGER_NAME", "logger", "enable", "disable"]

LOGGER_NAME = "authcore"
logger = logging.getLogger(LOGGER_NAME)

_LEVELS = {"error": logging.ERROR, "warn": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG, "trace": 5}


def _level_name(level: int) -> str:
    if level <= 5:
        return "trace"
    if level <= logging.DEBUG:
        return "debug"
    if level <= logging.INFO:
        return "info"
    if level <= logging.WARNING:
        return "warn"
    return "error"


def enable(level: Optional[Union[int, str]] = None) -> bool:
    """Forward core events at ``level`` (a ``logging`` level or name; default: the
    ``authcore`` logger's effective level) and above. ``False`` when the process already
    had another global ``tracing`` subscriber."""
    if level is None:
        level = logger.getEffectiveLevel()
    if isinstance(level, str):
        name = level.lower()
        name = "warn" if name == "warning" else name
        if name not in _LEVELS and name != "off":
            raise ValueError(f"unknown log level {level!r}")
    else:
        name = _level_name(int(level))
    return _native.start_logs(name)


def disable() -> None:
    """Stop forwarding."""
    _native.set_log_level("off")


def _deliver(batch: str) -> None:
    """Called by the core's forwarder thread with a JSON batch of records."""
    for r in json.loads(batch):
        fields = {k: v for k, v in r["fields"]}
        text = " ".join([r["message"], *(f"{k}={v}" for k, v in fields.items())])
        logger.log(_LEVELS.get(r["level"], logging.INFO), text, extra={"authcore": fields})
