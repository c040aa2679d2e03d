"""A typed program that uses every public export of ``authcore`` (each module's ``__all__``).

Never run: ``mypy --strict`` checks it against the package as installed (``py.typed``, the
``.py`` modules and ``_native.pyi``), so an untyped or wrongly typed public name fails
``make test`` (scripts/python.sh). ``bindings-python/tests/test_typed_sample.py`` checks that
every name of every ``__all__`` appears here.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

import authcore
import authcore.errors as errors
import authcore.events as events
import authcore.hmac as hmac
import authcore.http_clients as http_clients
import authcore.integrations as integrations
import authcore.integrations.django as integrations_django
import authcore.integrations.fastapi as integrations_fastapi
import authcore.integrations.flask as integrations_flask
import authcore.jwt as jwt
import authcore.logs as logs
import authcore.metrics as metrics
import authcore.middleware as middleware
import authcore.password as password
import authcore.pkce as pkce
import authcore.policy as policy
import authcore.propagation as propagation
import authcore.realtime as realtime
import authcore.tokens as tokens
import authcore.totp as totp


def use_package_root() -> str:
    version: str = authcore.__version__
    errs: Tuple[type[Exception], ...] = (
        authcore.HmacArgumentError,
        authcore.HmacAuthError,
        authcore.HmacError,
        authcore.HmacInputError,
        authcore.HmacInternalError,
        authcore.HmacStoreError,
    )
    return version + str(len(errs))


def use_errors() -> int:
    codes: Mapping[str, int] = errors.HMAC_ERROR_CODES
    try:
        raise errors.HmacAuthError("BAD_SIGNATURE", "Invalid HMAC signature", 401)
    except errors.HmacAuthError as e:
        status: int = e.status
        code: str = e.code
    except (errors.HmacArgumentError, errors.HmacInputError, errors.HmacStoreError, errors.HmacInternalError):
        return 0
    except errors.HmacError:
        return 1
    try:
        raise errors.InvalidArgumentError("store: Unsupported store URL")
    except errors.InternalPanicError as p:
        return len(p.message)
    except errors.InvalidArgumentError as a:
        status += len(a.message) * 0
    # The one code -> class table of every other module.
    table: Mapping[str, Tuple[str, Mapping[str, errors.ClassChoice]]] = errors.ERROR_CLASSES
    cls: type = errors.exception_class("authcore.jwt", "JWT_EXPIRED")
    return codes[code] + status + len(table) * 0 + len(cls.__name__) * 0


def use_hmac_pure() -> List[str]:
    out: List[str] = [
        hmac.DEFAULT_NAMESPACE,
        str(hmac.DEFAULT_BACKUP_TTL_SECONDS + hmac.DEFAULT_MAX_SKEW_MS + hmac.DEFAULT_SECRET_LENGTH_BYTES),
        hmac.DEFAULT_ATTACH_AUTH_TO,
        str(hmac.MAX_BODY_BYTES + len(hmac.HMAC_ERROR_CODES)),
        hmac.hash_client_secret("s3cret", "pepper"),
        hmac.hash_body(b'{"a":1}'),
        hmac.build_signing_payload("POST", "/v1/x", 1700000000000, "n1", "{}"),
        hmac.sign_request("POST", "/v1/x", 1700000000000, "n1", "{}", "secret-hash"),
        hmac.normalize_path("/a/../b?x=1"),
        hmac.build_message_signing_payload("c1", "hash"),
        hmac.message_canonical({"b": 1, "a": [1, 2]}),
        hmac.generate_nonce(),
    ]
    ok: bool = hmac.safe_equal_hex("ab", "ab") and hmac.is_client_ip_allowed("10.0.0.1", ["10.0.0.0/8"])
    ok = ok and hmac.verify_request_signature("POST", "/v1/x", 1700000000000, "n1", "{}", "k", "00")
    rules: List[str] = hmac.normalize_allowed_ip_rules(["10.0.0.1"])
    rules = rules + hmac.normalize_allowed_ips(["10.0.0.2"])  # the deprecated alias
    record = hmac.parse_stored_client_record('{"secretHash":"ab"}')
    signed: hmac.SignedMessage = hmac.sign_message("c1", {"a": 1}, "secret")
    ok = ok and hmac.verify_message("c1", {"a": 1}, "secret", signed.signature)
    headers = hmac.build_signed_headers("POST", "https://x.example/v1", "{}", "c1", "secret")
    out.extend(rules)
    out.append(str(record) + str(headers) + str(ok) + signed.client_id + signed.message_hash)
    return out


def use_hmac_instances(store: hmac.Store) -> hmac.VerifiedRequest:
    auth = hmac.HmacHttpAuth(store=store, namespace="app", max_skew_ms=60000.0)
    clients: hmac.Clients = auth.clients
    cred: hmac.ClientCredential = clients.create("c1", secret_length_bytes=32, allowed_ips=["10.0.0.0/8"])
    _secret: Optional[str] = cred.secret
    reverted: hmac.RevertResult = clients.revert("c1")
    _was: bool = reverted.reverted
    ids: List[str] = clients.list_client_ids()
    event_seen: List[hmac.BadHttpSignatureEvent] = []

    def on_bad(event: hmac.BadHttpSignatureEvent) -> None:
        event_seen.append(event)

    verified = auth.verify("POST", "/v1/x", {"x-client-id": ids[0]}, b"{}", now=1.0, on_bad_signature=on_bad)
    frozen_at = [1_750_000_000_000]
    clock: hmac.Clock = lambda: frozen_at[0]
    msg = hmac.HmacMessageAuth(store=hmac.Store.memory(), clock=clock)
    signed: hmac.SignedMessage = msg.sign_message("c1", {"a": 1})
    msg.verify_message("c1", {"a": 1}, signed.signature)
    return verified


async def use_hmac_async(auth: hmac.HmacHttpAuth) -> Optional[hmac.ClientCredential]:
    await auth.verify_async("POST", "/v1/x", [("x-client-id", "c1")], "{}")
    return await auth.clients.get_async("c1")


def use_hmac_adapters(auth: hmac.HmacHttpAuth) -> Tuple[object, ...]:
    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        return None

    def wsgi_app(environ: Any, start_response: Any) -> List[bytes]:
        return [b""]

    return (
        hmac.HmacAsgiMiddleware(asgi_app, auth=auth),
        hmac.HmacWsgiMiddleware(wsgi_app, auth=auth),
        hmac.HmacHttpxAuth("c1", "secret"),
        hmac.HmacRequestsAuth("c1", "secret"),
        hmac.HmacArgumentError,
        hmac.HmacAuthError,
        hmac.HmacError,
        hmac.HmacInputError,
        hmac.HmacInternalError,
        hmac.HmacStoreError,
        http_clients.HmacHttpxAuth("c1", "secret", secret_is_hashed=False),
        http_clients.HmacRequestsAuth("c1", "secret"),
        middleware.HmacAsgiMiddleware(asgi_app, auth=auth),
        middleware.HmacWsgiMiddleware(wsgi_app, auth=auth),
        middleware.error_body(middleware.INTERNAL_AUTH_ERROR),
    )


def use_jwt() -> Dict[str, Any]:
    key = "k" * 32
    token: str = jwt.encode({"sub": "u1"}, key, algorithm="HS256")
    claims: Dict[str, Any] = jwt.decode(token, key, algorithms=["HS256"])
    complete: Dict[str, Any] = jwt.decode_complete(token, key, algorithms=["HS256"])
    header: Dict[str, Any] = jwt.get_unverified_header(token)
    raw: str = jwt.sign_json('{"sub":"u1"}', key)
    jwk: Dict[str, Any] = jwt.jwks_from_pem("RS256", "-----BEGIN PUBLIC KEY-----", "kid1")
    ks = jwt.KeySet().add("HS256", key)
    ks2: jwt.KeySet = jwt.KeySet.from_jwks({"keys": []})
    verified: Dict[str, Any] = ks.verify(ks.sign({"sub": "u1"}))
    tm = jwt.TokenManager("https://issuer.example", key, store="memory://")
    pair: Dict[str, Any] = tm.create_token_pair("u1", "d1", "read")
    algs: Tuple[str, ...] = jwt.ALGORITHMS
    try:
        tm.refresh(pair["refreshToken"])
    except jwt.RefreshTokenReusedError:
        pass
    except (jwt.RefreshTokenRevokedError, jwt.RefreshTokenUnknownError, jwt.InvalidTokenUseError):
        pass
    except (jwt.ExpiredSignatureError, jwt.InvalidAudienceError, jwt.InvalidIssuerError, jwt.InvalidIssuedAtError):
        pass
    except (jwt.ImmatureSignatureError, jwt.InvalidAlgorithmError, jwt.MissingRequiredClaimError):
        pass
    except (jwt.InvalidSubjectError, jwt.InvalidJTIError, jwt.InvalidSignatureError, jwt.DecodeError):
        pass
    except (jwt.InvalidKeyError, jwt.InvalidTokenError) as e:
        raise jwt.PyJWTError(str(e)) from e
    return {**claims, **complete, **header, "raw": raw, "jwk": jwk, "v": verified, "n": len(ks2), "a": algs}


async def use_password() -> password.Verification:
    ph = password.PasswordHasher(time_cost=password.DEFAULT_TIME_COST, memory_cost=password.DEFAULT_MEMORY_COST)
    sizes: int = password.DEFAULT_PARALLELISM + password.DEFAULT_HASH_LENGTH + password.DEFAULT_RANDOM_SALT_LENGTH
    stored: str = await ph.hash_async("pw")
    try:
        ph.verify(stored, "pw")
    except password.VerifyMismatchError:
        pass
    except (password.VerificationError, password.InvalidHashError, password.InvalidHash):
        pass
    except (password.UnsupportedParametersError, password.PasswordTooLongError, password.HashingError):
        pass
    except password.Argon2Error:
        pass
    b: str = password.bcrypt_hash("pw", password.BCRYPT_DEFAULT_COST)
    same: bool = password.bcrypt_verify("pw", password.bcrypt_hash_with_salt("pw", b))
    kind: Optional[str] = password.identify(b)
    n: int = password.kdf_concurrency() + sizes
    ok: bool = password.verify("pw", stored) and same and kind is not None and n > 0
    # The deprecated aliases of verify and identify.
    ok = ok and password.verify_password("pw", stored) and password.identify_hash(b) == kind
    result: password.Verification = await ph.verify_and_upgrade_async("pw", None if ok else stored)
    return result


def use_pkce() -> Dict[str, Any]:
    verifier: str = pkce.generate_code_verifier()
    challenge: str = pkce.s256_challenge(verifier)
    pkce.validate_code_verifier(verifier)
    pkce.validate_code_challenge(challenge)
    ok: bool = pkce.verify_pkce(verifier, challenge)
    server = pkce.AuthorizationServer(store="memory://")
    code = server.create_code(
        client_id="c1", user_id="u1", domain_id="d1", redirect_uri="https://app/cb", code_challenge=challenge
    )
    try:
        server.exchange_code(code=code, client_id="c1", redirect_uri="https://app/cb", code_verifier=verifier)
    except pkce.AuthorizationCodeReusedError:
        pass
    except (pkce.PkceVerificationError, pkce.InvalidGrantError, pkce.InvalidRequestError):
        pass
    except pkce.OAuthError:
        pass
    meta: Dict[str, Any] = pkce.authorization_server_metadata("https://issuer.example", ["read"])
    return {"h": pkce.hash_code(code), "ok": ok, **meta}


def use_policy() -> List[str]:
    engine = policy.PolicyEngine()
    engine.add_document({"version": "1.0", "statements": []})
    allowed: bool = policy.evaluate_request({"userId": "u1", "action": "getX", "resource": "service:core"})
    allowed = allowed or policy.evaluate({"userId": "u1", "action": "getX", "resource": "service:core"})  # deprecated alias
    doc: Dict[str, Any] = policy.validate_document('{"version":"1.0","statements":[]}')
    names: List[str] = policy.crud_actions("materials") + policy.sync_package_actions("mfg", ["materials"])
    derived: Optional[str] = policy.derive_action_name("GET", "/materials")
    try:
        engine.add_document("{")
    except policy.PolicyError:
        pass
    flags = (policy.glob_match("get*", "getX"), policy.resource_match("service:*", "service:core"), allowed)
    return names + [policy.slugify_uid("My Role"), policy.pascal_case("bom_items"), str(derived), str(doc), str(flags)]


class _Management:
    """A management adapter (sync methods; async ones are accepted too)."""

    def upsert_credential_with_targets(self, input: propagation.UpsertInput) -> None: ...
    def rotate_credential_secret(self, input: propagation.RotateInput) -> None: ...
    def fetch_pending_propagations(self) -> Sequence[propagation.PendingPropagation]:
        target = propagation.PendingTarget(target_amqp_queue="b", propagation_secret="s")
        as_dict: propagation.PendingTargetDict = {"target_amqp_queue": "b", "propagation_secret": "s"}
        one: propagation.PendingPropagationDict = {
            "client_id": "c",
            "track": "http",
            "op": "credential.create",
            "pending_targets": [as_dict],
        }
        del one
        return [propagation.PendingPropagation("c", "http", "credential.create", "plain", [target, as_dict])]

    def fetch_source_propagation_secret(self, amqp_queue: str) -> Optional[str]: ...
    def mark_target_sent(self, input: propagation.TargetSentInput) -> None: ...
    def mark_target_success(self, input: propagation.TargetSuccessInput) -> None: ...
    def mark_target_error(self, input: propagation.TargetErrorInput) -> None: ...
    def mark_credential_fully_propagated(self, input: propagation.FullyPropagatedInput) -> None: ...


async def use_propagation(auth: hmac.HmacHttpAuth, log: propagation.Logger) -> propagation.SyncSummary:
    management: propagation.Management = _Management()
    name: str = propagation.build_queue_name("peer-a")
    codes: Tuple[str, ...] = propagation.PROPAGATION_ERROR_CODES
    track: propagation.Track = "http"
    op: propagation.Op = "credential.create"
    prop: propagation.Propagator = await propagation.create_propagator(
        amqp_host="mesh",
        amqp_port=5672,
        amqp_user="guest",
        amqp_password="guest",
        amqp_protocol="memory",
        amqp_queue="peer-a",
        propagation_secret="secret",
        redis="memory://",
        hmac_http_auth=auth,
        management=management,
        amqp_vhost=propagation.DEFAULT_AMQP_VHOST,
        logger=log,
    )
    try:
        ensured: propagation.EnsureResult = await prop.ensure("c1", "plain", ["peer-b"], track=track)
        rotated: propagation.RotateResult = await prop.rotate("c1", "plain2")
        revoked: propagation.RevokeResult = await prop.revoke("c1", ["peer-b"])
        del ensured, rotated, revoked, name, codes, op
        return await prop.sync()
    except propagation.PropagationQueueNameError:
        raise
    except propagation.PropagationError as e:
        raise RuntimeError(e.code) from e
    finally:
        await prop.close()


class _Stream:
    """A host stream (fuz_app's SseStream): send and close."""

    def send(self, data: Any) -> None: ...
    def close(self) -> None: ...


def use_realtime(log: realtime.Logger) -> int:
    constants: Tuple[object, ...] = (
        realtime.ACCOUNT_REMOVAL_EVENT_TYPES,
        realtime.AUDIT_EVENT_TYPES,
        realtime.AUDIT_LOG_CHANNEL,
        realtime.AUDIT_LOG_EVENT_KEYS,
        realtime.AUDIT_LOG_SSE_MAX_PER_SCOPE,
        realtime.DEFAULT_AUDIT_STREAM_ROLE,
        realtime.SSE_CONNECTED_COMMENT,
        realtime.SSE_HEADERS,
        realtime.SSE_RESPONSE_HEADERS,
    )
    # fuz_app's names in both spellings: the code's lowercase ones and the docs' upper case.
    upper: FrozenSet[str] = realtime.DISCONNECT_EVENT_TYPES
    lower: FrozenSet[str] = realtime.disconnect_event_types
    specs: List[realtime.EventSpec] = realtime.AUDIT_LOG_EVENT_SPECS
    specs_lower: List[realtime.EventSpec] = realtime.audit_log_event_specs
    issues: List[str] = specs[0].params({}) + specs_lower[0].params({}) + realtime.audit_log_event_issues({})
    registry = realtime.SubscriberRegistry(10, log=log)
    host: realtime.SseStream = _Stream()
    sub: realtime.Subscription = registry.subscribe(host, channels=["audit_log"], scope="s1")
    memory = realtime.MemorySseStream(log)
    registry.subscribe(memory, channels=[realtime.AUDIT_LOG_CHANNEL], groups=["a1"])
    guard: realtime.SseAuthGuard = realtime.create_sse_auth_guard(registry, "admin", log)
    sse: realtime.AuditLogSse = realtime.create_audit_log_sse(log=log)
    event = realtime.AuditLogEvent.from_json("{}")
    decision: Optional[realtime.GuardDecision] = realtime.guard_decision(event)
    try:
        closed: int = sse.on_audit_event(event.to_dict())
    except realtime.AuditLogEventError as e:
        closed = len(e.issues)
    except (realtime.RealtimeSerializeError, realtime.RealtimeError):
        closed = -1
    frames: str = realtime.render_data_frame({"a": 1}) + realtime.render_comment("hi")
    hashed: str = realtime.hash_session_token("t") + realtime.hash_blake3(b"t")
    sub()
    return closed + len(constants) + len(upper | lower) + len(issues) + len(frames + hashed) + int(
        decision is None
    ) + len(guard.required_role or "")


def use_tokens() -> str:
    t: tokens.GeneratedApiToken = tokens.generate_api_token(tokens.LIVE_PREFIX)
    prefix: Optional[str] = tokens.api_token_lookup_prefix(t.token, tokens.TEST_PREFIX)
    prefix = prefix or tokens.lookup_prefix(t.token, tokens.TEST_PREFIX)  # deprecated alias
    at: Optional[int] = tokens.match_token_hash(t.token, [tokens.hash_api_token(t.token)])
    store = tokens.ApiTokenStore()
    try:
        tokens.authenticate_api_token(t.token, [{"prefix": t.prefix, "token_hash": t.token_hash}])
    except tokens.ApiKeyExpiredError:
        pass
    except (tokens.ApiKeyRevokedError, tokens.ApiKeyInvalidError, tokens.ApiKeyMissingError):
        pass
    except tokens.ApiTokenError:
        pass
    key: tokens.NodeApiKey = tokens.generate_node_api_key()
    key_prefix: Optional[str] = tokens.node_api_key_prefix(key.raw_key)
    session: str = tokens.generate_session_token()
    ok: bool = tokens.verify_session_token(session, tokens.hash_session_token(session))
    return f"{prefix}{at}{store}{key_prefix}{ok}{tokens.hash_blake3(session)}"


def use_totp() -> int:
    secret: str = totp.generate_secret()
    pair = totp.generate_secret_for("user@example.com", totp.DEFAULT_APP_NAME)
    code: str = totp.generate(secret, 1700000000.0)
    url: str = totp.otpauth_url("App", "user", pair.secret)
    raw: str = totp.generate_raw(b"12345678901234567890", 59.0)
    try:
        step: int = totp.verify(code, secret, now=1700000000.0)
        step += totp.verify_raw(raw, b"12345678901234567890", now=59.0)
    except totp.TotpReplayedError:
        step = -1
    except (totp.TotpInvalidCodeError, totp.TotpMalformedCodeError, totp.TotpInvalidSecretError):
        step = -2
    except totp.TotpError:
        step = -3
    otp = totp.TOTP(secret)
    ok: bool = totp.check(code, secret) and otp.verify(otp.now())
    return step + len(url) + int(ok)


async def use_events() -> int:
    manager = events.SseManager(heartbeat_interval_ms=0, max_connections_per_user=4)
    sub: events.Subscription = manager.connect(["global"], user_id="u1")
    manager.broadcast("global", {"type": "t", "data": {"a": 1}})
    text: str = events.frame_json({"id": "1", "data": 2}) + events.HEARTBEAT_FRAME + events.SSE_HEADERS["Content-Type"]
    async for chunk in sub:
        text += chunk
        break
    sender = events.WebhookSender(allow_internal_urls=False, timeout_ms=1000)
    sig: str = sender.sign("{}", "k")
    ok: bool = events.WebhookSender.verify("{}", "k", sig)
    outcome: events.WebhookOutcome = events.WebhookOutcome(ok=ok)
    endpoint = events.sse_endpoint(manager, authorize=_grant)
    dist: Optional[events.RedisDistributor] = None
    try:
        dist = await events.RedisDistributor.connect("redis://127.0.0.1:6379", "typecheck")
    except events.EventsError as e:
        text += e.code
    tools = events.AuthTools(sse=manager, webhook_sender=sender, send_email=_mail, send_sms=_mail)
    await tools.track("identity.user.created", {"a": 1}, user_id="u1")
    await tools.notify("user:u1", "hi", user_id="u1", channels=["sse", "email"])
    router = events.tools_router(tools, authenticate=_grant, webhook_timestamp_window_ms=60_000)
    await tools.aclose()
    await manager.aclose()
    return len(text) + len(outcome) + int(callable(endpoint)) + int(dist is None) + int(router is not None)


async def _mail(message: dict[str, Any]) -> None:
    return None


async def _grant(request: Any) -> Optional[Mapping[str, Any]]:
    return {"topics": ["global"]}


def use_observability() -> str:
    logs.enable("info")
    logs.disable()
    enabled: bool = logs.enable()
    name: str = logs.LOGGER_NAME + logs.logger.name
    metrics.set_enabled(True)
    families: List[Dict[str, Any]] = metrics.snapshot()
    collector: metrics.AuthcoreCollector = metrics.register()
    samples = list(collector.collect())
    instruments: List[Any] = metrics.register_opentelemetry()
    return f"{enabled}{name}{len(families)}{len(samples)}{len(instruments)}{metrics.text()}"


def use_integrations(auth: hmac.HmacHttpAuth) -> Tuple[object, ...]:
    limit: int = integrations.DEFAULT_MAX_BODY_BYTES
    err: hmac.HmacAuthError = integrations.as_auth_error(integrations.BodyTooLarge())
    body: bytes = integrations.error_body(err)
    meta: Dict[str, Any] = integrations.request_metadata("10.0.0.1", {"x-forwarded-for": "10.0.0.2"})
    dependency = integrations_fastapi.HmacAuth(auth, max_body_bytes=limit)
    integrations_fastapi.HmacAuth.install(object())
    rejected = integrations_fastapi.HmacAuthRejected(err)
    flask_ext = integrations_flask.HmacAuth(auth=auth)
    key: str = integrations_flask.EXTENSION_KEY

    def get_response(request: Any) -> Any:
        return request

    django_mw = integrations_django.HmacAuthMiddleware(get_response)
    return (body, meta, dependency, rejected, flask_ext, key, django_mw)


def main() -> None:
    store = hmac.Store.memory()
    auth = hmac.HmacHttpAuth(store=store)
    print(use_package_root(), use_errors(), use_hmac_pure(), use_hmac_instances(store))
    print(asyncio.run(use_hmac_async(auth)), use_hmac_adapters(auth), use_jwt(), asyncio.run(use_password()))
    print(use_pkce(), use_policy(), use_tokens(), use_totp())
