"""The core's metrics for Prometheus.

Counters and histograms live in the Rust core (atomics, no lock on any hot path) and cover
every binding of the process: HMAC verification outcomes by code (``REPLAYED_NONCE`` =
replays rejected) and latency, credential propagation, SSE subscribers and frames, key
derivation, refresh-token rotation and reuse. No secret, client id or request data is ever
a label or a value.

Three ways to read them:

- :func:`text`: Prometheus text exposition (format 0.0.4), to serve as ``/metrics``;
- :class:`AuthcoreCollector` / :func:`register`: a ``prometheus_client`` collector, so the
  core's families appear next to the application's own in ``generate_latest()``;
- :func:`snapshot`: the families as Python data.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Optional

from . import _native

__all__ = ["AuthcoreCollector", "register", "set_enabled", "snapshot", "text"]


def text() -> str:
    """Prometheus text exposition of every core metric of this process."""
    return _native.metrics_text()


def snapshot() -> List[Dict[str, Any]]:
    """Every family: ``{"name", "help", "kind", "samples": [{"labels": [[k, v]], "value",
    "histogram": {"buckets": [[le, cumulative]], "count", "sum"}}]}`` (the ``+Inf`` bucket is
    ``count``; counter names end in ``_total``)."""
    return json.loads(_native.metrics_snapshot())


def set_enabled(enabled: bool) -> None:
    """Turn hot-path recording on (the default) or off for the whole process."""
    _native.metrics_set_enabled(bool(enabled))


class AuthcoreCollector:
    """A ``prometheus_client`` custom collector over the core's metrics (read at each
    scrape)."""

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )
        from prometheus_client.utils import floatToGoString

        for fam in snapshot():
            samples = fam["samples"]
            label_names = [k for k, _ in samples[0]["labels"]] if samples else []
            kind = fam["kind"]
            if kind == "counter":
                out: Any = CounterMetricFamily(fam["name"], fam["help"], labels=label_names)
            elif kind == "gauge":
                out = GaugeMetricFamily(fam["name"], fam["help"], labels=label_names)
            else:
                out = HistogramMetricFamily(fam["name"], fam["help"], labels=label_names)
            for s in samples:
                values = [v for _, v in s["labels"]]
                if kind == "histogram":
                    h = s["histogram"]
                    buckets = [(floatToGoString(le), n) for le, n in h["buckets"]]
                    buckets.append(("+Inf", h["count"]))
                    out.add_metric(values, buckets, h["sum"])
                else:
                    out.add_metric(values, s["value"])
            yield out


def register(registry: Optional[Any] = None) -> AuthcoreCollector:
    """Register an :class:`AuthcoreCollector` with ``registry`` (default:
    ``prometheus_client.REGISTRY``) and return it."""
    if registry is None:
        from prometheus_client import REGISTRY

        registry = REGISTRY
    collector = AuthcoreCollector()
    registry.register(collector)
    return collector
