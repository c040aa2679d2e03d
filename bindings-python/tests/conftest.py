"""Shared fixtures: a real Redis (never skipped) and the embedded memory store.

Every test that touches Redis gets its own namespace (``pytest_<uuid>``) and every key of
that namespace is deleted afterwards.
"""

from __future__ import annotations

import os
import uuid

import pytest
import redis as redis_py

import authcore.hmac as h

REDIS_URL = os.environ.get("AUTHCORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_client():
    client = redis_py.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis_py.RedisError as exc:  # fail loudly: Redis tests never skip
        pytest.fail(f"Redis at {REDIS_URL} is required (bash scripts/services.sh): {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def redis_store(redis_client):
    return h.Store.redis(REDIS_URL)


@pytest.fixture
def namespace(redis_client):
    ns = f"pytest_{uuid.uuid4().hex[:12]}"
    yield ns
    keys = list(redis_client.scan_iter(match=f"{ns}:*", count=500))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def store(request):
    """Each runtime test runs on the memory store and on real Redis."""
    if request.param == "memory":
        return h.Store.memory()
    return request.getfixturevalue("redis_store")


@pytest.fixture
def ns(store, request):
    """A unique namespace, cleaned up on Redis."""
    if store.kind == "redis":
        return request.getfixturevalue("namespace")
    return f"mem_{uuid.uuid4().hex[:12]}"
