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
from typing import Any, Callable, Dict, Iterator, List, Optional

from . import _native

__all__ = ["AuthcoreCollector", "register", "register_opentelemetry", "set_enabled", "snapshot", "text"]


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


def _otel_name(fam: Dict[str, Any]) -> str:
    # OpenTelemetry names a counter without Prometheus' `_total` (its Prometheus exporter
    # adds it back).
    name: str = fam["name"]
    if fam["kind"] == "counter" and name.endswith("_total"):
        name = name[: -len("_total")]
    return name


def register_opentelemetry(meter: Optional[Any] = None) -> List[Any]:
    """Export the core's metrics through the OpenTelemetry metrics API (the optional
    ``opentelemetry-api`` package): one asynchronous instrument per family, read from the
    core by its callback at each collection, so whatever SDK, reader and exporter the
    application configured (OTLP, Prometheus, …) carries them.

    Counters become observable counters (named without ``_total``), gauges observable
    gauges, with the same labels as attributes. Histograms become two observable counters,
    ``<name>_count`` and ``<name>_sum`` (the API has no asynchronous histogram); the
    buckets are in :func:`text` and the ``prometheus_client`` collector. ``meter``
    defaults to ``opentelemetry.metrics.get_meter("authcore")``. Returns the instruments.
    """
    from opentelemetry.metrics import CallbackOptions, Observation, get_meter

    if meter is None:
        meter = get_meter("authcore")

    def family(name: str) -> Optional[Dict[str, Any]]:
        for fam in snapshot():
            if fam["name"] == name:
                return fam
        return None

    def callback(name: str, part: Optional[str]) -> Callable[[CallbackOptions], Iterator[Any]]:
        def observe(_options: CallbackOptions) -> Iterator[Any]:
            fam = family(name)
            for s in fam["samples"] if fam else []:
                attrs = {k: v for k, v in s["labels"]}
                if part is None:
                    yield Observation(s["value"], attrs)
                else:
                    yield Observation(s["histogram"][part], attrs)

        return observe

    instruments: List[Any] = []
    for fam in snapshot():
        name, help_text, kind = fam["name"], fam["help"], fam["kind"]
        if kind == "counter":
            instruments.append(
                meter.create_observable_counter(_otel_name(fam), callbacks=[callback(name, None)], description=help_text)
            )
        elif kind == "gauge":
            instruments.append(
                meter.create_observable_gauge(name, callbacks=[callback(name, None)], description=help_text)
            )
        else:
            instruments.append(
                meter.create_observable_counter(
                    f"{name}_count", callbacks=[callback(name, "count")], description=f"{help_text} (count)"
                )
            )
            instruments.append(
                meter.create_observable_counter(
                    f"{name}_sum", callbacks=[callback(name, "sum")], description=f"{help_text} (sum)", unit="s"
                )
            )
    return instruments
