/*
 * The C vector runner of the password, JWT, TOTP, PKCE and policy functions: every case
 * of the auth-primitive vector files (turned into static data by gen_vectors.py) is run through
 * the public C API of authcore, using only authcore.h.
 *
 * Every text result is fetched twice (run_text in vector_runner.h): a size query (out =
 * NULL, out_len = 0) that must answer AUTHCORE_BUFFER_TOO_SMALL with the exact size, then
 * into a heap buffer of exactly that size, so AddressSanitizer sees any off-by-one write.
 * JWT key sets are created and freed per case, so LeakSanitizer sees a missing free.
 *
 * An unknown op fails the run. Exit status 0 only when every case passed.
 */
#include <string.h>

#include "authcore.h"
#include "auth_vectors.gen.h"
#define VECTOR_CASE acase
#include "vector_runner.h" /* fail(), run_text(), run_bool(), run_vectors(): ffi-tests/c-common */

/* A text result against the expectation; a fresh bcrypt hash by its prefix, and it must
 * verify. */
static void check_text(const char *text, size_t len) {
    if (current->op != OP_BCRYPT_HASH_PREFIX) {
        expect_text_equal(text, len);
        return;
    }
    bool ok = false;
    if (len != 60 || !same(text, current->expect_text.len, current->expect_text)) {
        fail("hash %s does not start with %.*s", text, (int)current->expect_text.len,
             current->expect_text.ptr);
    } else if (authcore_bcrypt_verify((const uint8_t *)current->password.ptr,
                                      current->password.len, text, len, &ok) != AUTHCORE_OK ||
               !ok) {
        fail("the fresh hash does not verify");
    }
}

/* ---- passwords ---- */

static authcore_result f_bcrypt_hash_with_salt(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_bcrypt_hash_with_salt((const uint8_t *)c->password.ptr, c->password.len,
                                          c->salt.ptr, c->salt.len, o, l, w);
}

static authcore_result f_bcrypt_hash(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_bcrypt_hash((const uint8_t *)c->password.ptr, c->password.len, c->cost, o,
                                l, w);
}

static void run_bcrypt_verify(void) {
    const acase *c = current;
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
    const acase *c = current;
    bool ok = true;
    authcore_result rc = authcore_password_verify((const uint8_t *)c->password.ptr,
                                                  c->password.len, c->hash.ptr, c->hash.len, &ok);
    if (rc != AUTHCORE_OK && ok) {
        fail("out_valid is true after an error");
    }
    run_bool(rc, ok);
}

static void run_argon2_needs_rehash(void) {
    const acase *c = current;
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
    const acase *c = current;
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

static authcore_result f_jwt_sign(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_jwt_sign(keyset, c->payload.ptr, c->payload.len, o, l, w);
}

static authcore_result f_jwt_verify(const acase *c, char *o, size_t l, size_t *w) {
    authcore_jwt_validation v;
    memset(&v, 0, sizeof v);
    v.now = c->now;
    v.leeway = c->leeway;
    v.issuers = c->issuers;
    v.issuers_len = c->issuers_len;
    v.audiences = c->audiences;
    v.audiences_len = c->audiences_len;
    v.token_use = c->token_use;
    return authcore_jwt_verify(keyset, c->token.ptr, c->token.len, &v, o, l, w);
}

static authcore_result f_jwks(const acase *c, char *o, size_t l, size_t *w) {
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

static authcore_result f_totp_generate_raw(const acase *c, char *o, size_t l, size_t *w) {
    authcore_totp_config cfg = authcore_totp_config_default();
    cfg.algorithm = c->algorithm;
    cfg.digits = c->digits;
    cfg.period = c->period;
    return authcore_totp_generate_raw((const uint8_t *)c->secret.ptr, c->secret.len, c->now, &cfg,
                                      o, l, w);
}

static authcore_result f_totp_generate(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_totp_generate(c->secret.ptr, c->secret.len, c->now, NULL, o, l, w);
}

static authcore_result f_totp_otpauth_url(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_totp_otpauth_url(c->issuer.ptr, c->issuer.len, c->account.ptr,
                                     c->account.len, c->secret.ptr, c->secret.len, NULL, o, l, w);
}

static void run_totp_verify(void) {
    const acase *c = current;
    authcore_totp_config cfg = authcore_totp_config_default();
    cfg.window = c->window;
    uint64_t step = 0xDEADBEEF;
    authcore_result rc =
        authcore_totp_verify(c->code.ptr, c->code.len, c->secret.ptr, c->secret.len, c->now, &cfg,
                             c->has_last_used_step ? &c->last_used_step : NULL, &step);
    if (rc != AUTHCORE_OK && step != 0xDEADBEEF) {
        fail("out_step written on failure");
    }
    if (expect_success(rc) && step != c->expect_u64) {
        fail("step %llu, want %llu", (unsigned long long)step, (unsigned long long)c->expect_u64);
    }
}

/* ---- PKCE ---- */

static authcore_result f_pkce_s256(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_pkce_s256_challenge(c->verifier.ptr, c->verifier.len, o, l, w);
}

static void run_pkce_verify(void) {
    const acase *c = current;
    authcore_result rc = authcore_pkce_verify(c->verifier.ptr, c->verifier.len, c->challenge.ptr,
                                              c->challenge.len, c->method.ptr, c->method.len, true);
    expect_success(rc);
}

/* ---- policies ---- */

static void run_policy_check(void) {
    const acase *c = current;
    authcore_policy_decision d;
    memset(&d, 0xAB, sizeof d);
    d.allowed = true;
    size_t sid_n = 0;
    char sid[256];
    authcore_result rc =
        authcore_policy_evaluate(c->documents.ptr, c->documents.len, c->request.ptr,
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
    if (authcore_policy_evaluate(c->documents.ptr, c->documents.len, c->request.ptr,
                                 c->request.len, &d2, NULL, 0, NULL) != AUTHCORE_OK ||
        d2.allowed != d.allowed || d2.reason != d.reason || d2.action_index != d.action_index) {
        fail("the decision depends on whether the sid is asked for");
    }
}

static authcore_result f_policy_crud(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_policy_crud_actions(c->table.ptr, c->table.len, c->extensible, o, l, w);
}

static authcore_result f_policy_sync(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_policy_sync_package_actions(c->request.ptr, c->request.len, o, l, w);
}

static bool derive_found;
static authcore_result f_policy_derive(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_policy_derive_action_name(c->method.ptr, c->method.len, c->path.ptr,
                                              c->path.len, o, l, w, &derive_found);
}

static authcore_result f_policy_slugify(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_policy_slugify_uid(c->name.ptr, c->name.len, o, l, w);
}

static authcore_result f_policy_check_permission(const acase *c, char *o, size_t l, size_t *w) {
    return authcore_policy_check_permission(c->documents.ptr, c->documents.len, c->request.ptr,
                                            c->request.len, o, l, w);
}

static void run_case(const acase *c) {
    int before = failures;
    switch (c->op) {
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

int main(void) {
    return run_vectors("C vector runner (passwords, JWT, TOTP, PKCE, policies)", run_case);
}
