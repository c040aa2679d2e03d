/*
 * The C vector runner: every case of the shared vectors C has a call for (turned into
 * static data by gen_vectors.py: the upstream naskot vectors, hmac-NAME.json, the signing
 * track of the recorded differential vectors, and the password, JWT, TOTP, PKCE and policy
 * files) is run through the public C API of authcore, using only authcore.h.
 *
 * Every text result is fetched twice (run_text in vector_runner.h): first a size query
 * (out = NULL, out_len = 0) that must answer AUTHCORE_BUFFER_TOO_SMALL with the exact
 * size, then into a heap buffer of exactly that size, so AddressSanitizer sees any
 * off-by-one write. JWT key sets are created and freed per case, so LeakSanitizer sees a
 * missing free.
 *
 * An unknown op fails the run. Exit status 0 only when every case passed.
 */
#include <string.h>

#include "authcore.h"
#include "vectors.gen.h"
#define VECTOR_CASE vcase
#include "vector_runner.h" /* fail(), run_text(), run_bool(), run_vectors(): ffi-tests/c-common */

static authcore_sign_input sign_input(const vcase *c) {
    authcore_sign_input in = {c->method, c->path, c->timestamp, c->nonce,
                              (const uint8_t *)c->body.ptr, c->body.len, c->secret};
    return in;
}

static authcore_result f_hash_client_secret(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_hash_client_secret(c->secret.ptr, c->secret.len, c->secret_token.ptr,
                                       c->secret_token.len, o, l, w);
}
static authcore_result f_hash_body(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_hash_body((const uint8_t *)c->body.ptr, c->body.len, o, l, w);
}
static authcore_result f_build_signing_payload(const vcase *c, char *o, size_t l, size_t *w) {
    authcore_sign_input in = sign_input(c);
    return authcore_build_signing_payload(&in, o, l, w);
}
static authcore_result f_sign_request(const vcase *c, char *o, size_t l, size_t *w) {
    authcore_sign_input in = sign_input(c);
    return authcore_sign_request(&in, o, l, w);
}
static authcore_result f_normalize_path(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_normalize_path(c->path.ptr, c->path.len, o, l, w);
}
static authcore_result f_build_queue_name(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_propagation_build_queue_name(c->name.ptr, c->name.len, o, l, w);
}
static authcore_result f_message_canonical(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_message_canonical(c->message.ptr, c->message.len, o, l, w);
}
static authcore_result f_parse_record(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_parse_stored_client_record(c->raw.ptr, c->raw.len, o, l, w);
}
static size_t rules_count;
static authcore_result f_normalize_allowed_ips(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_normalize_allowed_ip_rules(c->rules, c->rules_len, o, l, w, &rules_count);
}

/* A text result against the expectation: the rule count of normalize_allowed_ips too; a
 * fresh bcrypt hash by its prefix, and it must verify. */
static void check_text(const char *text, size_t len) {
    if (current->op == OP_BCRYPT_HASH_PREFIX) {
        bool ok = false;
        if (len != 60 || !same(text, current->expect_text.len, current->expect_text)) {
            fail("hash %s does not start with %.*s", text, (int)current->expect_text.len,
                 current->expect_text.ptr);
        } else if (authcore_bcrypt_verify((const uint8_t *)current->password.ptr,
                                          current->password.len, text, len, &ok) != AUTHCORE_OK ||
                   !ok) {
            fail("the fresh hash does not verify");
        }
        return;
    }
    if (expect_text_equal(text, len) && current->op == OP_NORMALIZE_ALLOWED_IPS &&
        rules_count != current->expect_count) {
        fail("wrong rule count");
    }
}

static authcore_message_input message_input(const vcase *c) {
    authcore_message_input in = {c->client_id, c->message, c->secret, c->secret_is_hashed,
                                 c->hash_token};
    return in;
}

static void run_sign_message(void) {
    authcore_message_input in = message_input(current);
    authcore_signed_message out;
    memset(&out, 0xAB, sizeof out);
    if (!expect_success(authcore_sign_message(&in, &out))) {
        return;
    }
    if (out.client_id_offset + out.client_id_len > in.client_id.len ||
        !same(in.client_id.ptr + out.client_id_offset, out.client_id_len,
              current->expect_client_id)) {
        fail("wrong trimmed clientId");
    }
    if (!same(out.message_hash, strlen(out.message_hash), current->expect_message_hash)) {
        fail("messageHash %s, want %.*s", out.message_hash, (int)current->expect_message_hash.len,
             current->expect_message_hash.ptr);
    }
    if (!same(out.signature, strlen(out.signature), current->expect_signature)) {
        fail("signature %s, want %.*s", out.signature, (int)current->expect_signature.len,
             current->expect_signature.ptr);
    }
}

static void run_verify_with_record(void) {
    const vcase *c = current;
    authcore_verify_request req = {
        c->method, c->path, c->h_client_id, c->h_signature, c->h_timestamp, c->h_nonce,
        (const uint8_t *)c->body.ptr, c->body.len, c->now, c->max_skew, c->record, c->ips,
        c->ips_len};
    authcore_verification out;
    memset(&out, 0xAB, sizeof out);
    authcore_result rc = authcore_verify_with_record(&req, &out);
    bool ok = expect_success_status(rc, out.status);
    if (rc == AUTHCORE_BAD_SIGNATURE && strlen(out.expected_signature) != AUTHCORE_HEX_LEN) {
        fail("BAD_SIGNATURE without the expected signature");
    }
    if (!ok) {
        return;
    }
    if (out.status != 200) {
        fail("status is not 200 on success");
    }
    if (out.client_id_offset + out.client_id_len > req.client_id.len ||
        !same(req.client_id.ptr + out.client_id_offset, out.client_id_len, c->expect_client_id)) {
        fail("wrong trimmed clientId");
    }
    if (out.timestamp != c->expect_timestamp) {
        fail("wrong timestamp");
    }
    /* The verified nonce and signature are the raw header values. */
    if (!same(req.nonce.ptr, req.nonce.len, c->expect_nonce)) {
        fail("the verified nonce is not the header value");
    }
    if (!same(req.signature.ptr, req.signature.len, c->expect_signature)) {
        fail("the verified signature is not the header value");
    }
}

/* ---- passwords ---- */

static authcore_result f_bcrypt_hash_with_salt(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_bcrypt_hash_with_salt((const uint8_t *)c->password.ptr, c->password.len,
                                          c->salt.ptr, c->salt.len, o, l, w);
}

static authcore_result f_bcrypt_hash(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_bcrypt_hash((const uint8_t *)c->password.ptr, c->password.len, c->cost, o,
                                l, w);
}

static void run_bcrypt_verify(void) {
    const vcase *c = current;
    bool a = true, b = true;
    authcore_result ra = authcore_bcrypt_verify((const uint8_t *)c->password.ptr,
                                                c->password.len, c->hash.ptr, c->hash.len, &a);
    /* The generic verify dispatches bcrypt hashes to the same check. */
    authcore_result rb = authcore_password_verify((const uint8_t *)c->password.ptr,
                                                  c->password.len, c->hash.ptr, c->hash.len, &b);
    if (ra != rb || (ra == AUTHCORE_OK && a != b)) {
        fail("authcore_bcrypt_verify and authcore_password_verify disagree");
    }
    if (ra != AUTHCORE_OK && a) {
        fail("out_valid is true after an error");
    }
    run_bool(ra, a);
}

static void run_argon2_verify(void) {
    const vcase *c = current;
    bool ok = true;
    authcore_result rc = authcore_password_verify((const uint8_t *)c->password.ptr,
                                                  c->password.len, c->hash.ptr, c->hash.len, &ok);
    if (rc != AUTHCORE_OK && ok) {
        fail("out_valid is true after an error");
    }
    run_bool(rc, ok);
}

static void run_argon2_needs_rehash(void) {
    const vcase *c = current;
    authcore_argon2_params p = {c->m, c->t, c->p, AUTHCORE_ARGON2_OUTPUT_LEN};
    bool needs = false;
    authcore_result rc = authcore_password_needs_rehash(c->hash.ptr, c->hash.len, &p, &needs);
    run_bool(rc, needs);
    /* The OWASP parameters are the NULL default. */
    if (rc == AUTHCORE_OK && c->m == AUTHCORE_ARGON2_OWASP_M_COST &&
        c->t == AUTHCORE_ARGON2_OWASP_T_COST && c->p == AUTHCORE_ARGON2_OWASP_P_COST) {
        bool d = !needs;
        if (authcore_password_needs_rehash(c->hash.ptr, c->hash.len, NULL, &d) != AUTHCORE_OK ||
            d != needs) {
            fail("NULL params are not the OWASP parameters");
        }
    }
}

/* ---- JWT ---- */

/* A key set holding the case's key, or NULL after reporting the failure (an expected
 * key error, e.g. an RSA key under 2048 bits, counts as the case's outcome). */
static authcore_jwt_keyset *case_keyset(bool *done) {
    const vcase *c = current;
    authcore_jwt_keyset *ks = NULL;
    *done = false;
    authcore_result rc = authcore_jwt_keyset_new(&ks);
    if (rc != AUTHCORE_OK || ks == NULL) {
        fail("authcore_jwt_keyset_new: %s", authcore_result_name(rc));
        *done = true;
        return NULL;
    }
    switch (c->op) {
    case OP_JWT_SIGN:
        rc = authcore_jwt_keyset_add_hmac(ks, c->alg, (const uint8_t *)c->secret.ptr,
                                          c->secret.len, c->kid.ptr, c->kid.len, 0);
        break;
    case OP_JWT_VERIFY:
        rc = authcore_jwt_keyset_add_hmac(ks, c->alg, (const uint8_t *)c->secret.ptr,
                                          c->secret.len, NULL, 0, c->accepted_algs);
        break;
    case OP_JWT_SIGN_PEM:
        rc = authcore_jwt_keyset_add_private_pem(ks, c->alg, c->pem.ptr, c->pem.len, c->kid.ptr,
                                                 c->kid.len);
        break;
    case OP_JWT_VERIFY_PEM:
    case OP_JWKS_FROM_PEM:
        rc = authcore_jwt_keyset_add_public_pem(ks, c->alg, c->pem.ptr, c->pem.len, c->kid.ptr,
                                                c->kid.len);
        break;
    default:
        rc = AUTHCORE_PANIC;
        break;
    }
    if (rc != AUTHCORE_OK) {
        check_error(rc, authcore_http_status(rc));
        authcore_jwt_keyset_free(ks);
        *done = true;
        return NULL;
    }
    return ks;
}

/* The key set of the JWT case being run (created and freed per case by run_jwt). */
static authcore_jwt_keyset *keyset = NULL;

static authcore_result f_jwt_sign(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_jwt_sign(keyset, c->payload.ptr, c->payload.len, o, l, w);
}

static authcore_result f_jwt_verify(const vcase *c, char *o, size_t l, size_t *w) {
    authcore_jwt_validation v;
    memset(&v, 0, sizeof v);
    v.now = c->now_s;
    v.leeway = c->leeway;
    v.issuers = c->issuers;
    v.issuers_len = c->issuers_len;
    v.audiences = c->audiences;
    v.audiences_len = c->audiences_len;
    v.token_use = c->token_use;
    return authcore_jwt_verify(keyset, c->token.ptr, c->token.len, &v, o, l, w);
}

static authcore_result f_jwks(const vcase *c, char *o, size_t l, size_t *w) {
    (void)c;
    return authcore_jwt_keyset_jwks(keyset, o, l, w);
}

static void run_jwt(text_fn fn) {
    bool done = false;
    keyset = case_keyset(&done);
    if (done) {
        return;
    }
    run_text(fn);
    authcore_jwt_keyset_free(keyset);
    keyset = NULL;
}

/* ---- TOTP ---- */

static authcore_result f_totp_generate_raw(const vcase *c, char *o, size_t l, size_t *w) {
    authcore_totp_config cfg = authcore_totp_config_default();
    cfg.algorithm = c->algorithm;
    cfg.digits = c->digits;
    cfg.period = c->period;
    return authcore_totp_generate_raw((const uint8_t *)c->secret.ptr, c->secret.len, c->now_s, &cfg,
                                      o, l, w);
}

static authcore_result f_totp_generate(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_totp_generate(c->secret.ptr, c->secret.len, c->now_s, NULL, o, l, w);
}

static authcore_result f_totp_otpauth_url(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_totp_otpauth_url(c->issuer.ptr, c->issuer.len, c->account.ptr,
                                     c->account.len, c->secret.ptr, c->secret.len, NULL, o, l, w);
}

static void run_totp_verify(void) {
    const vcase *c = current;
    authcore_totp_config cfg = authcore_totp_config_default();
    cfg.window = c->window;
    uint64_t step = 0xDEADBEEF;
    authcore_result rc =
        authcore_totp_verify(c->code.ptr, c->code.len, c->secret.ptr, c->secret.len, c->now_s, &cfg,
                             c->has_last_used_step ? &c->last_used_step : NULL, &step);
    if (rc != AUTHCORE_OK && step != 0xDEADBEEF) {
        fail("out_step written on failure");
    }
    if (expect_success(rc) && step != c->expect_u64) {
        fail("step %llu, want %llu", (unsigned long long)step, (unsigned long long)c->expect_u64);
    }
}

/* ---- PKCE ---- */

static authcore_result f_pkce_s256(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_pkce_s256_challenge(c->verifier.ptr, c->verifier.len, o, l, w);
}

static void run_pkce_verify(void) {
    const vcase *c = current;
    authcore_result rc = authcore_pkce_verify(c->verifier.ptr, c->verifier.len, c->challenge.ptr,
                                              c->challenge.len, c->method.ptr, c->method.len, true);
    expect_success(rc);
}

/* ---- policies ---- */

static void run_policy_check(void) {
    const vcase *c = current;
    authcore_policy_decision d;
    memset(&d, 0xAB, sizeof d);
    d.allowed = true;
    size_t sid_n = 0;
    char sid[256];
    authcore_result rc =
        authcore_policy_evaluate_query(c->documents.ptr, c->documents.len, c->request.ptr,
                                 c->request.len, &d, sid, sizeof sid, &sid_n);
    if (rc != AUTHCORE_OK && d.allowed) {
        fail("a failed evaluation did not leave a deny");
    }
    run_bool(rc, d.allowed);
    if (rc != AUTHCORE_OK) {
        return;
    }
    /* The reason agrees with the answer, and only statements have sids. */
    if (d.allowed != (d.reason == AUTHCORE_POLICY_REASON_ALLOWED)) {
        fail("reason %u does not fit allowed = %d", (unsigned)d.reason, (int)d.allowed);
    }
    if (d.reason > AUTHCORE_POLICY_REASON_INVALID_REQUEST) {
        fail("unknown reason %u", (unsigned)d.reason);
    }
    if ((d.reason == AUTHCORE_POLICY_REASON_NO_MATCH ||
         d.reason == AUTHCORE_POLICY_REASON_INVALID_REQUEST) &&
        (d.has_sid || sid_n != 0)) {
        fail("a sid without a deciding statement");
    }
    if (!d.has_sid && sid_n != 0) {
        fail("sid written although has_sid is false");
    }
    /* Without a sid buffer the decision is the same. */
    authcore_policy_decision d2;
    if (authcore_policy_evaluate_query(c->documents.ptr, c->documents.len, c->request.ptr,
                                 c->request.len, &d2, NULL, 0, NULL) != AUTHCORE_OK ||
        d2.allowed != d.allowed || d2.reason != d.reason || d2.action_index != d.action_index) {
        fail("the decision depends on whether the sid is asked for");
    }
}

static authcore_result f_policy_crud(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_policy_crud_actions(c->table.ptr, c->table.len, c->extensible, o, l, w);
}

static authcore_result f_policy_sync(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_policy_sync_package_actions(c->request.ptr, c->request.len, o, l, w);
}

static bool derive_found;
static authcore_result f_policy_derive(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_policy_derive_action_name(c->method.ptr, c->method.len, c->path.ptr,
                                              c->path.len, o, l, w, &derive_found);
}

static authcore_result f_policy_slugify(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_policy_slugify_uid(c->name.ptr, c->name.len, o, l, w);
}

static authcore_result f_policy_check_permission(const vcase *c, char *o, size_t l, size_t *w) {
    return authcore_policy_check_permission(c->documents.ptr, c->documents.len, c->request.ptr,
                                            c->request.len, o, l, w);
}

/* ---- every op ---- */

static void run_case(const vcase *c) {
    int before = failures;
    bool flag = false;
    switch (c->op) {
    case OP_HASH_CLIENT_SECRET: run_text(f_hash_client_secret); break;
    case OP_HASH_BODY: run_text(f_hash_body); break;
    case OP_BUILD_SIGNING_PAYLOAD: run_text(f_build_signing_payload); break;
    case OP_SIGN_REQUEST: {
        run_text(f_sign_request);
        /* The same case must verify with its own signature. */
        if (failures == before && c->expect_error == NULL) {
            authcore_sign_input in = sign_input(c);
            authcore_result rc = authcore_verify_request_signature(
                &in, c->expect_text.ptr, c->expect_text.len, &flag);
            if (rc != AUTHCORE_OK || !flag) {
                fail("the expected signature does not verify");
            }
        }
        break;
    }
    case OP_NORMALIZE_PATH: run_text(f_normalize_path); break;
    case OP_BUILD_QUEUE_NAME: run_text(f_build_queue_name); break;
    case OP_SAFE_EQUAL_HEX: {
        /* The call is sequenced before `flag` is read. */
        authcore_result rc = authcore_safe_equal_hex(c->a.ptr, c->a.len, c->b.ptr, c->b.len, &flag);
        run_bool(rc, flag);
        break;
    }
    case OP_MESSAGE_CANONICAL: run_text(f_message_canonical); break;
    case OP_SIGN_MESSAGE: run_sign_message(); break;
    case OP_VERIFY_MESSAGE: {
        authcore_message_input in = message_input(c);
        authcore_result rc = authcore_verify_message(&in, c->signature.ptr, c->signature.len, &flag);
        run_bool(rc, flag);
        break;
    }
    case OP_IP_ALLOWED: {
        authcore_result rc = authcore_is_client_ip_allowed(c->ip.ptr, c->ip.len, c->rules, c->rules_len, &flag);
        run_bool(rc, flag);
        break;
    }
    case OP_NORMALIZE_ALLOWED_IPS: run_text(f_normalize_allowed_ips); break;
    case OP_PARSE_RECORD: run_text(f_parse_record); break;
    case OP_VERIFY_WITH_RECORD: run_verify_with_record(); break;
    case OP_BCRYPT_VERIFY: run_bcrypt_verify(); break;
    case OP_BCRYPT_HASH_WITH_SALT: run_text(f_bcrypt_hash_with_salt); break;
    case OP_BCRYPT_HASH_PREFIX: run_text(f_bcrypt_hash); break;
    case OP_ARGON2_VERIFY: run_argon2_verify(); break;
    case OP_ARGON2_NEEDS_REHASH: run_argon2_needs_rehash(); break;
    case OP_JWT_SIGN:
    case OP_JWT_SIGN_PEM: run_jwt(f_jwt_sign); break;
    case OP_JWT_VERIFY:
    case OP_JWT_VERIFY_PEM: run_jwt(f_jwt_verify); break;
    case OP_JWKS_FROM_PEM: run_jwt(f_jwks); break;
    case OP_TOTP_GENERATE_RAW: run_text(f_totp_generate_raw); break;
    case OP_TOTP_GENERATE: run_text(f_totp_generate); break;
    case OP_TOTP_VERIFY: run_totp_verify(); break;
    case OP_TOTP_OTPAUTH_URL: run_text(f_totp_otpauth_url); break;
    case OP_PKCE_S256_CHALLENGE: run_text(f_pkce_s256); break;
    case OP_PKCE_VERIFY: run_pkce_verify(); break;
    case OP_POLICY_CHECK: run_policy_check(); break;
    case OP_POLICY_CRUD_ACTIONS: run_text(f_policy_crud); break;
    case OP_POLICY_SYNC_PACKAGE_ACTIONS: run_text(f_policy_sync); break;
    case OP_POLICY_DERIVE_ACTION_NAME:
        derive_found = !c->expect_found;
        run_text(f_policy_derive);
        if (failures == before && (int)derive_found != c->expect_found) {
            fail("found = %d, want %d", (int)derive_found, c->expect_found);
        }
        break;
    case OP_POLICY_SLUGIFY_UID: run_text(f_policy_slugify); break;
    case OP_POLICY_VALIDATE_DOCUMENT:
        expect_success(authcore_policy_validate_document(c->documents.ptr, c->documents.len));
        break;
    case OP_POLICY_CHECK_PERMISSION: run_text(f_policy_check_permission); break;
    case OP_UNKNOWN:
    default: fail_unknown_op(); break;
    }
}

/* Arguments, if any, are file-name prefixes: only the cases of those files run (the
 * valgrind layer of scripts/c.sh runs the HMAC files). */
int main(int argc, char **argv) {
    return run_vectors("C vector runner", run_case, argc - 1, (const char *const *)argv + 1);
}
