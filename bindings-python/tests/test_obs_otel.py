"""The core's metrics through the OpenTelemetry metrics API
(``authcore.metrics.register_opentelemetry``), collected by the OpenTelemetry SDK's
in-memory reader: the verify counter and the latency histogram's count move by exactly
what the verifications did, gauges and attributes come through, and no secret or client
id appears in any attribute."""

import authcore.hmac as h
from authcore import metrics

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader


def _collect(reader):
    out = {}
    for rm in reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                for p in m.data.data_points:
                    out[(m.name, frozenset(p.attributes.items()))] = p.value
    return out


def _verify_total(points, outcome):
    return points.get(("authcore_verify", frozenset({("outcome", outcome)})), 0)


def test_opentelemetry_export_counts_what_was_done():
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    try:
        instruments = metrics.register_opentelemetry(provider.get_meter("authcore-test"))
        assert len(instruments) == 16 + 3
        auth = h.HmacHttpAuth(namespace="oteltest")
        auth.clients.set_secret("otel-app", "otel-secret")
        before = _collect(reader)
        url, body = "/v1/orders", b'{"n":1}'

        def signed():
            return h.build_signed_headers("POST", url, body, "otel-app", "otel-secret")

        for _ in range(3):
            auth.verify("POST", url, signed(), body)
        replayed = signed()
        auth.verify("POST", url, replayed, body)
        for _ in range(2):
            try:
                auth.verify("POST", url, replayed, body)
                raise AssertionError("replay accepted")
            except h.HmacAuthError as e:
                assert e.code == "REPLAYED_NONCE"
        try:
            auth.verify("POST", url, signed(), b'{"n":2}')
            raise AssertionError("tampered body accepted")
        except h.HmacAuthError as e:
            assert e.code == "BAD_SIGNATURE"
        after = _collect(reader)
        d = {o: _verify_total(after, o) - _verify_total(before, o) for o in ("OK", "REPLAYED_NONCE", "BAD_SIGNATURE", "TIMESTAMP_SKEW")}
        assert d == {"OK": 4, "REPLAYED_NONCE": 2, "BAD_SIGNATURE": 1, "TIMESTAMP_SKEW": 0}
        count = ("authcore_verify_duration_seconds_count", frozenset())
        assert after[count] - before.get(count, 0) == 7
        assert ("authcore_sse_subscribers", frozenset()) in after
        for _name, attrs in after:
            for _k, v in attrs:
                assert "otel-app" not in str(v) and "otel-secret" not in str(v)
    finally:
        provider.shutdown()
