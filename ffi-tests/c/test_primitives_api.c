/*
 * The password, JWT, TOTP, PKCE and policy functions under bad input and in the flows a
 * C server uses them for: NULL pointers, buffers that are too small, invalid UTF-8,
 * malformed PHC strings and tokens, result names and HTTP statuses of the 1000..1499
 * codes, the key-set lifecycle, a key set shared by threads, bcrypt -> argon2id migration
 * at login, the unknown-user path, TOTP replay, PKCE plain refusal, and policy decisions
 * that fail closed. Built with -std=c11 -Wall -Wextra -Werror and ASan/UBSan.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authcore.h"
#include "check.h" /* CHECK, CHECK_RC, message(): ffi-tests/c-common */

#define LIT(s) (s), (sizeof(s) - 1)
#define PW(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

static const char SECRET[] = "node-auth-access-secret";
/* npm jsonwebtoken 9.0.3, HS256, exp 1700000900 (ffi-tests/vectors/jwt-hs256.json). */
static const char NPM_TOKEN[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1MSIsImVtYWlsIjoiYWxpY2VAZXhhbXBsZS5jb20iLC"
    "Jyb2xlIjoidXNlciIsImxvZ2luUHJvdmlkZXIiOiJsb2NhbCIsImlzRW1haWxWZXJpZmllZCI6dHJ1ZSwiaXNUb3Rw"
    "RW5hYmxlZCI6ZmFsc2UsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwOTAwfQ.ssn6zRFoz4oGpBwMHNh0400tg"
    "1mDLZCea9_BDyBVPwg";
static const authcore_argon2_params FAST = {1024, 1, 1, 32};

static void test_codes(void) {
    CHECK(AUTHCORE_PASSWORD_INVALID_HASH == 1000 && AUTHCORE_JWT_MALFORMED == 1100);
    CHECK(AUTHCORE_TOTP_MALFORMED_CODE == 1200 && AUTHCORE_PKCE_INVALID_VERIFIER == 1300);
    CHECK(AUTHCORE_POLICY_INVALID_DOCUMENT == 1400 && AUTHCORE_POLICY_INVALID_REQUEST == 1405);
    CHECK(strcmp(authcore_result_name(AUTHCORE_JWT_ALG_NONE), "JWT_ALG_NONE") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_PASSWORD_TOO_LONG), "PASSWORD_TOO_LONG") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_TOTP_REPLAYED), "TOTP_REPLAYED") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_PKCE_PLAIN_NOT_ALLOWED), "PKCE_PLAIN_NOT_ALLOWED") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_POLICY_ROLE_CYCLE), "POLICY_ROLE_CYCLE") == 0);
    CHECK(strcmp(authcore_result_name(1006), "UNKNOWN") == 0);
    CHECK(strcmp(authcore_result_name(1500), "UNKNOWN") == 0);
    CHECK(authcore_http_status(AUTHCORE_JWT_EXPIRED) == 401);
    CHECK(authcore_http_status(AUTHCORE_JWT_INVALID_KEY) == 500);
    CHECK(authcore_http_status(AUTHCORE_PASSWORD_TOO_LONG) == 400);
    CHECK(authcore_http_status(AUTHCORE_PASSWORD_INVALID_HASH) == 500);
    CHECK(authcore_http_status(AUTHCORE_TOTP_MALFORMED_CODE) == 400);
    CHECK(authcore_http_status(AUTHCORE_TOTP_INVALID_CODE) == 401);
    CHECK(authcore_http_status(AUTHCORE_TOTP_INVALID_SECRET) == 500);
    CHECK(authcore_http_status(AUTHCORE_PKCE_VERIFICATION_FAILED) == 400);
    CHECK(authcore_http_status(AUTHCORE_POLICY_ROLE_CYCLE) == 409);
    CHECK(authcore_http_status(1099) == 500);
}

static char *phc(const uint8_t *pw, size_t len, const authcore_argon2_params *p) {
    static char buf[AUTHCORE_PASSWORD_HASH_BUFFER_SIZE];
    size_t n = 0;
    authcore_result rc = authcore_password_hash_argon2id(pw, len, p, buf, sizeof buf, &n);
    CHECK_RC(rc, AUTHCORE_OK);
    CHECK(rc != AUTHCORE_OK || strlen(buf) == n);
    return buf;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_passwords(void) {
    bool ok = true;
    size_t n = 0;
    char buf[AUTHCORE_PASSWORD_HASH_BUFFER_SIZE];

    /* OWASP defaults, round trip. */
    char owasp[AUTHCORE_PASSWORD_HASH_BUFFER_SIZE];
    strcpy(owasp, phc(PW("hunter2"), NULL));
    CHECK(strncmp(owasp, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0 && strlen(owasp) == 97);
    CHECK_RC(authcore_password_verify(PW("hunter2"), owasp, strlen(owasp), &ok), AUTHCORE_OK);
    CHECK(ok);
    CHECK_RC(authcore_password_verify(PW("hunter3"), owasp, strlen(owasp), &ok), AUTHCORE_OK);
    CHECK(!ok);

    /* Login with a bcrypt hash migrated from node-auth: verify, then rehash to argon2id. */
    char legacy[61];
    CHECK_RC(authcore_bcrypt_hash(PW("s3cret"), 4, legacy, sizeof legacy, &n), AUTHCORE_OK);
    CHECK(n == 60 && strncmp(legacy, "$2b$04$", 7) == 0);
    CHECK_RC(authcore_password_verify(PW("s3cret"), legacy, n, &ok), AUTHCORE_OK);
    CHECK(ok);
    bool needs = false;
    CHECK_RC(authcore_password_needs_rehash(legacy, n, &FAST, &needs), AUTHCORE_OK);
    CHECK(needs);
    char *upgraded = phc(PW("s3cret"), &FAST);
    CHECK_RC(authcore_password_verify(PW("s3cret"), upgraded, strlen(upgraded), &ok), AUTHCORE_OK);
    CHECK(ok);
    CHECK_RC(authcore_password_needs_rehash(upgraded, strlen(upgraded), &FAST, &needs), AUTHCORE_OK);
    CHECK(!needs);

    /* Unknown user: false, and about as slow as a real OWASP verification. */
    double t0 = now_ms();
    CHECK_RC(authcore_password_verify(PW("hunter2"), owasp, strlen(owasp), &ok), AUTHCORE_OK);
    double known = now_ms() - t0;
    CHECK_RC(authcore_password_verify(PW("hunter2"), NULL, 0, &ok), AUTHCORE_OK); /* warm-up */
    t0 = now_ms();
    CHECK_RC(authcore_password_verify(PW("hunter2"), NULL, 0, &ok), AUTHCORE_OK);
    double unknown = now_ms() - t0;
    CHECK(!ok);
    CHECK(unknown * 3 >= known);
    if (!(unknown * 3 >= known)) {
        fprintf(stderr, "    known %.2f ms, unknown %.2f ms\n", known, unknown);
    }

    /* Malformed and foreign hashes, and out_valid stays false after an error. */
    ok = true;
    CHECK_RC(authcore_password_verify(PW("pw"), LIT("$argon2id$v=19$m=19456,t=2,p=1$o1MA5sl7R"), &ok),
             AUTHCORE_PASSWORD_INVALID_HASH);
    CHECK(!ok);
    CHECK_RC(authcore_password_verify(PW("pw"), LIT("$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Qa9qlRxEVjHpfS4b3LkU3A"), &ok),
             AUTHCORE_PASSWORD_UNSUPPORTED_ALGORITHM);
    CHECK_RC(authcore_password_verify(PW("pw"), LIT(""), &ok), AUTHCORE_PASSWORD_INVALID_HASH);
    CHECK_RC(authcore_bcrypt_verify(PW("pw"), LIT("$2x$04$Q1cNwDJgXIHWSp0Q8bgZr.RevmcjSsO878Ok8wvlcbAn4HF0KciSS"), &ok),
             AUTHCORE_PASSWORD_UNSUPPORTED_ALGORITHM);
    CHECK_RC(authcore_password_verify(PW("pw"), LIT("$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"), &ok),
             AUTHCORE_PASSWORD_INVALID_PARAMS);
    CHECK(strstr(message(), "limits") != NULL);
    CHECK_RC(authcore_password_verify(PW("pw"), LIT("$2b$04$\xff\xfe"), &ok), AUTHCORE_INVALID_UTF8);

    /* Length limit, bad parameters, small buffers, NULLs. */
    static uint8_t big[AUTHCORE_PASSWORD_MAX_BYTES + 1];
    memset(big, 'x', sizeof big);
    CHECK_RC(authcore_password_hash_argon2id(big, sizeof big, &FAST, buf, sizeof buf, &n),
             AUTHCORE_PASSWORD_TOO_LONG);
    CHECK_RC(authcore_password_verify(big, sizeof big, NULL, 0, &ok), AUTHCORE_PASSWORD_TOO_LONG);
    authcore_argon2_params bad = {1, 1, 1, 32};
    CHECK_RC(authcore_password_hash_argon2id(PW("pw"), &bad, buf, sizeof buf, &n), AUTHCORE_PASSWORD_INVALID_PARAMS);
    char tiny[10] = "xxxxxxxxx";
    CHECK_RC(authcore_password_hash_argon2id(PW("pw"), &FAST, tiny, sizeof tiny, &n), AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(n == 97 && tiny[0] == '\0');
    CHECK_RC(authcore_bcrypt_hash(PW("pw"), 4, buf, 60, &n), AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(n == 61);
    CHECK_RC(authcore_password_verify(NULL, 2, LIT("x"), &ok), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_password_verify(PW("pw"), LIT("x"), NULL), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_password_hash_argon2id(PW("pw"), &FAST, NULL, 10, &n), AUTHCORE_NULL_PARAMETER);
    /* The deprecated name of authcore_password_hash_argon2id hashes the same way. */
    CHECK_RC(authcore_password_hash(PW("pw"), &FAST, buf, sizeof buf, &n), AUTHCORE_OK);
    CHECK(strlen(buf) == n && strncmp(buf, "$argon2id$v=19$m=", 17) == 0);
    CHECK_RC(authcore_password_verify(PW("pw"), buf, n, &ok), AUTHCORE_OK);
    CHECK(ok);
    CHECK_RC(authcore_password_hash(PW("pw"), &bad, buf, sizeof buf, &n), AUTHCORE_PASSWORD_INVALID_PARAMS);
    CHECK_RC(authcore_password_needs_rehash(NULL, 0, NULL, &needs), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_bcrypt_hash_with_salt(PW("pw"), LIT("$2b$04$short"), buf, sizeof buf, &n),
             AUTHCORE_PASSWORD_INVALID_PARAMS);
    /* An empty password is a password (NULL with length 0 included). */
    char *empty = phc(NULL, 0, &FAST);
    CHECK_RC(authcore_password_verify(PW(""), empty, strlen(empty), &ok), AUTHCORE_OK);
    CHECK(ok);
}

static authcore_jwt_keyset *hs_keyset(uint32_t accepted) {
    authcore_jwt_keyset *ks = NULL;
    CHECK_RC(authcore_jwt_keyset_new(&ks), AUTHCORE_OK);
    CHECK_RC(authcore_jwt_keyset_add_hmac(ks, AUTHCORE_JWT_HS256, PW(SECRET), NULL, 0, accepted),
             AUTHCORE_OK);
    return ks;
}

static authcore_result verify_at(authcore_jwt_keyset *ks, const char *tok, size_t len,
                                 uint64_t now, uint32_t use, char *out, size_t out_len) {
    authcore_jwt_validation v;
    memset(&v, 0, sizeof v);
    v.now = now;
    v.token_use = use;
    size_t n = 0;
    return authcore_jwt_verify(ks, tok, len, &v, out, out_len, &n);
}

static void test_jwt(void) {
    char out[1024];
    size_t n = 0;
    authcore_jwt_keyset *ks = hs_keyset(0);

    CHECK_RC(verify_at(ks, NPM_TOKEN, strlen(NPM_TOKEN), 1700000030, AUTHCORE_JWT_USE_ANY, out, sizeof out),
             AUTHCORE_OK);
    CHECK(strncmp(out, "{\"email\":\"alice@example.com\",\"exp\":1700000900,", 45) == 0);
    /* A zeroed validation is the system clock: this 2023 token is expired. */
    CHECK_RC(verify_at(ks, NPM_TOKEN, strlen(NPM_TOKEN), 0, AUTHCORE_JWT_USE_ANY, out, sizeof out),
             AUTHCORE_JWT_EXPIRED);
    CHECK_RC(authcore_jwt_verify(ks, NPM_TOKEN, strlen(NPM_TOKEN), NULL, out, sizeof out, &n),
             AUTHCORE_JWT_EXPIRED);
    /* node-auth's 2FA temp token / refresh token is not an access token. */
    char tok[512];
    CHECK_RC(authcore_jwt_sign(ks, LIT("{\"sub\":\"u1\",\"token_use\":\"mfa_pending\",\"exp\":1700000300}"), tok,
                               sizeof tok, &n),
             AUTHCORE_OK);
    CHECK_RC(verify_at(ks, tok, n, 1700000000, AUTHCORE_JWT_USE_ACCESS, out, sizeof out),
             AUTHCORE_JWT_WRONG_TOKEN_USE);
    CHECK_RC(verify_at(ks, tok, n, 1700000000, AUTHCORE_JWT_USE_MFA_PENDING, out, sizeof out), AUTHCORE_OK);
    CHECK_RC(verify_at(ks, NPM_TOKEN, strlen(NPM_TOKEN), 1700000030, AUTHCORE_JWT_USE_ACCESS, out, sizeof out),
             AUTHCORE_JWT_WRONG_TOKEN_USE);
    CHECK_RC(verify_at(ks, tok, n, 1700000000, 77, out, sizeof out), AUTHCORE_INVALID_ARGUMENT);

    /* Hostile tokens. */
    CHECK_RC(verify_at(ks, LIT("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1MSJ9."), 1700000000, 0, out, sizeof out),
             AUTHCORE_JWT_ALG_NONE);
    CHECK_RC(verify_at(ks, LIT("not-a-jwt"), 1700000000, 0, out, sizeof out), AUTHCORE_JWT_MALFORMED);
    CHECK_RC(verify_at(ks, LIT("a.b.\xff"), 1700000000, 0, out, sizeof out), AUTHCORE_JWT_MALFORMED);
    CHECK_RC(verify_at(ks, "", 0, 1700000000, 0, out, sizeof out), AUTHCORE_JWT_MALFORMED);
    char *huge = malloc(AUTHCORE_JWT_MAX_TOKEN_LEN + 2);
    memset(huge, 'a', AUTHCORE_JWT_MAX_TOKEN_LEN + 1);
    CHECK_RC(verify_at(ks, huge, AUTHCORE_JWT_MAX_TOKEN_LEN + 1, 1700000000, 0, out, sizeof out),
             AUTHCORE_JWT_MALFORMED);
    free(huge);
    char tampered[sizeof NPM_TOKEN];
    memcpy(tampered, NPM_TOKEN, sizeof NPM_TOKEN);
    tampered[sizeof NPM_TOKEN - 3] ^= 1;
    CHECK_RC(verify_at(ks, tampered, strlen(tampered), 1700000030, 0, out, sizeof out),
             AUTHCORE_JWT_INVALID_SIGNATURE);

    /* Small buffers: size query and a buffer one byte short. */
    CHECK_RC(authcore_jwt_verify(ks, NPM_TOKEN, strlen(NPM_TOKEN), &(authcore_jwt_validation){.now = 1700000030},
                                 NULL, 0, &n),
             AUTHCORE_BUFFER_TOO_SMALL);
    size_t need = n;
    char *exact = malloc(need);
    CHECK_RC(authcore_jwt_verify(ks, NPM_TOKEN, strlen(NPM_TOKEN), &(authcore_jwt_validation){.now = 1700000030},
                                 exact, need - 1, &n),
             AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(n == need && exact[0] == '\0');
    CHECK_RC(authcore_jwt_verify(ks, NPM_TOKEN, strlen(NPM_TOKEN), &(authcore_jwt_validation){.now = 1700000030},
                                 exact, need, &n),
             AUTHCORE_OK);
    CHECK(n + 1 == need);
    free(exact);

    /* Key errors and NULLs. */
    CHECK_RC(authcore_jwt_keyset_add_hmac(ks, AUTHCORE_JWT_HS256, PW(SECRET), NULL, 0, 0), AUTHCORE_JWT_KEY_CONFIG);
    CHECK_RC(authcore_jwt_keyset_add_hmac(ks, 5, PW(SECRET), LIT("k"), 0), AUTHCORE_INVALID_ARGUMENT);
    CHECK_RC(authcore_jwt_keyset_add_hmac(ks, AUTHCORE_JWT_HS256, NULL, 0, LIT("k"), 0), AUTHCORE_JWT_INVALID_KEY);
    CHECK_RC(authcore_jwt_keyset_add_public_pem(ks, AUTHCORE_JWT_RS256, LIT("-----BEGIN PUBLIC KEY-----\n"), LIT("k")),
             AUTHCORE_JWT_INVALID_KEY);
    CHECK_RC(authcore_jwt_keyset_add_private_pem(ks, AUTHCORE_JWT_ES256, LIT("\xff"), LIT("k")), AUTHCORE_INVALID_UTF8);
    CHECK_RC(authcore_jwt_sign(ks, LIT("[]"), out, sizeof out, &n), AUTHCORE_JWT_INVALID_CLAIM);
    CHECK_RC(authcore_jwt_sign(ks, LIT("{not json"), out, sizeof out, &n), AUTHCORE_JWT_INVALID_CLAIM);
    CHECK_RC(authcore_jwt_sign(NULL, LIT("{}"), out, sizeof out, &n), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_jwt_verify(ks, NULL, 0, NULL, out, sizeof out, &n), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_jwt_verify(ks, LIT("a.b.c"), NULL, out, sizeof out, NULL), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_jwt_keyset_new(NULL), AUTHCORE_NULL_PARAMETER);
    authcore_jwt_validation v;
    memset(&v, 0, sizeof v);
    v.issuers_len = 1; /* with a NULL array */
    CHECK_RC(authcore_jwt_verify(ks, NPM_TOKEN, strlen(NPM_TOKEN), &v, out, sizeof out, &n), AUTHCORE_NULL_PARAMETER);
    authcore_jwt_keyset_free(ks);
    authcore_jwt_keyset_free(NULL);

    /* A key set with no signing key. */
    authcore_jwt_keyset *empty = NULL;
    CHECK_RC(authcore_jwt_keyset_new(&empty), AUTHCORE_OK);
    CHECK_RC(authcore_jwt_sign(empty, LIT("{}"), out, sizeof out, &n), AUTHCORE_JWT_KEY_CONFIG);
    CHECK_RC(verify_at(empty, NPM_TOKEN, strlen(NPM_TOKEN), 1700000030, 0, out, sizeof out), AUTHCORE_JWT_UNKNOWN_KID);
    CHECK_RC(authcore_jwt_keyset_jwks(empty, out, sizeof out, &n), AUTHCORE_OK);
    CHECK(strcmp(out, "{\"keys\":[]}") == 0);
    authcore_jwt_keyset_free(empty);
}

typedef struct {
    authcore_jwt_keyset *ks;
    int ok;
} thread_arg;

static void *verify_loop(void *p) {
    thread_arg *a = p;
    char out[512];
    for (int i = 0; i < 300; i++) {
        if (verify_at(a->ks, NPM_TOKEN, strlen(NPM_TOKEN), 1700000030, 0, out, sizeof out) == AUTHCORE_OK) {
            a->ok++;
        }
    }
    return NULL;
}

static void test_jwt_threads(void) {
    authcore_jwt_keyset *ks = hs_keyset(0);
    pthread_t t[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].ks = ks;
        args[i].ok = 0;
        CHECK(pthread_create(&t[i], NULL, verify_loop, &args[i]) == 0);
    }
    /* Keys are added while the other threads verify. */
    for (int i = 0; i < 40; i++) {
        char kid[16];
        int len = snprintf(kid, sizeof kid, "k%d", i);
        CHECK_RC(authcore_jwt_keyset_add_hmac(ks, AUTHCORE_JWT_HS512, PW(SECRET), kid, (size_t)len, 0), AUTHCORE_OK);
    }
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
        CHECK(args[i].ok == 300);
    }
    authcore_jwt_keyset_free(ks);
}

static void test_totp(void) {
    static const char S[] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    char code[AUTHCORE_TOTP_CODE_BUFFER_SIZE];
    size_t n = 0;
    uint64_t step = 0, last = 0;

    /* Enrolment: a new secret, its URL, then the first login and a replay. */
    char secret[AUTHCORE_TOTP_SECRET_BUFFER_SIZE];
    CHECK_RC(authcore_totp_generate_secret(secret, sizeof secret, &n), AUTHCORE_OK);
    CHECK(n == 32);
    char url[256];
    CHECK_RC(authcore_totp_otpauth_url(LIT("awesome-node-auth"), LIT("alice@example.com"), secret, n, NULL, url,
                                       sizeof url, &n),
             AUTHCORE_OK);
    CHECK(strncmp(url, "otpauth://totp/awesome-node-auth:alice%40example.com?secret=", 59) == 0);
    uint64_t now = (uint64_t)time(NULL);
    CHECK_RC(authcore_totp_generate(secret, 32, now, NULL, code, sizeof code, &n), AUTHCORE_OK);
    CHECK(n == 6);
    CHECK_RC(authcore_totp_verify(code, n, secret, 32, now, NULL, NULL, &step), AUTHCORE_OK);
    last = step;
    CHECK_RC(authcore_totp_verify(code, n, secret, 32, now, NULL, &last, &step), AUTHCORE_TOTP_REPLAYED);
    CHECK(authcore_http_status(AUTHCORE_TOTP_REPLAYED) == 401);

    /* Malformed codes are a clean 400, never a crash. */
    CHECK_RC(authcore_totp_verify(LIT("12a456"), LIT(S), 1700000015, NULL, NULL, &step), AUTHCORE_TOTP_MALFORMED_CODE);
    CHECK_RC(authcore_totp_verify(LIT("\xff\xff\xff\xff\xff\xff"), LIT(S), 1700000015, NULL, NULL, &step),
             AUTHCORE_TOTP_MALFORMED_CODE);
    CHECK_RC(authcore_totp_verify(NULL, 0, LIT(S), 1700000015, NULL, NULL, &step), AUTHCORE_TOTP_MALFORMED_CODE);
    CHECK_RC(authcore_totp_verify(NULL, 6, LIT(S), 1700000015, NULL, NULL, &step), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_totp_verify(LIT("661763"), LIT(S), 1700000015, NULL, NULL, NULL), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_totp_verify(LIT("661763"), LIT("JBSWY3DP===="), 1700000015, NULL, NULL, &step),
             AUTHCORE_TOTP_INVALID_SECRET);
    authcore_totp_config cfg = authcore_totp_config_default();
    CHECK(cfg.algorithm == AUTHCORE_TOTP_SHA1 && cfg.digits == 6 && cfg.period == 30 && cfg.window == 1);
    cfg.digits = 5;
    CHECK_RC(authcore_totp_generate(LIT(S), 0, &cfg, code, sizeof code, &n), AUTHCORE_TOTP_INVALID_CONFIG);
    cfg.digits = 8;
    CHECK_RC(authcore_totp_generate(LIT(S), 0, &cfg, code, 8, &n), AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(n == 9);
    cfg.algorithm = 3;
    CHECK_RC(authcore_totp_generate(LIT(S), 0, &cfg, code, sizeof code, &n), AUTHCORE_TOTP_INVALID_CONFIG);
}

static void test_pkce(void) {
    static const char V[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    static const char C[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    char ch[AUTHCORE_PKCE_CHALLENGE_BUFFER_SIZE];
    size_t n = 0;
    CHECK_RC(authcore_pkce_s256_challenge(LIT(V), ch, sizeof ch, &n), AUTHCORE_OK);
    CHECK(n == 43 && strcmp(ch, C) == 0);
    CHECK_RC(authcore_pkce_verify(LIT(V), LIT(C), LIT("S256"), false), AUTHCORE_OK);
    CHECK_RC(authcore_pkce_verify(LIT(V), LIT(C), LIT("plain"), false), AUTHCORE_PKCE_PLAIN_NOT_ALLOWED);
    CHECK_RC(authcore_pkce_verify(LIT(V), LIT(V), LIT("plain"), true), AUTHCORE_OK);
    CHECK_RC(authcore_pkce_verify(LIT(C), LIT(C), LIT("S256"), false), AUTHCORE_PKCE_VERIFICATION_FAILED);
    CHECK_RC(authcore_pkce_verify(LIT("short"), LIT(C), LIT("S256"), false), AUTHCORE_PKCE_INVALID_VERIFIER);
    CHECK_RC(authcore_pkce_verify(LIT(V), LIT(C), LIT("SHA256"), false), AUTHCORE_PKCE_UNSUPPORTED_METHOD);
    CHECK_RC(authcore_pkce_verify(LIT(V), LIT(C), NULL, 0, false), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_pkce_s256_challenge(LIT("bad verifier with spaces and long enough to pass"), ch, sizeof ch, &n),
             AUTHCORE_PKCE_INVALID_VERIFIER);
    CHECK_RC(authcore_pkce_s256_challenge(LIT(V), ch, 43, &n), AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(n == 44 && ch[0] == '\0');
}

static const char DOCS[] =
    "[{\"version\":\"1.0\",\"statements\":["
    "{\"sid\":\"EditorRead\",\"effect\":\"Allow\",\"principals\":[\"role:editor\"],\"actions\":[\"get*\"],"
    "\"resources\":[\"service:core/package:mfg/**\"]},"
    "{\"sid\":\"NoCost\",\"effect\":\"Deny\",\"principals\":[\"*\"],\"actions\":[\"getCost\"],"
    "\"resources\":[\"service:core/**\"]}]}]";

static void test_policy(void) {
    authcore_policy_decision d;
    char sid[32];
    size_t n = 0;
    static const char ALLOW[] =
        "{\"userId\":\"u1\",\"roles\":[\"child\"],\"action\":\"getMaterials\","
        "\"resource\":\"service:core/package:mfg/table:materials\","
        "\"directory\":{\"roleParents\":{\"child\":\"editor\"}}}";
    CHECK_RC(authcore_policy_evaluate_query(LIT(DOCS), LIT(ALLOW), &d, sid, sizeof sid, &n), AUTHCORE_OK);
    CHECK(d.allowed && d.reason == AUTHCORE_POLICY_REASON_ALLOWED && d.has_sid && strcmp(sid, "EditorRead") == 0);
    static const char DENY[] =
        "{\"userId\":\"u1\",\"roles\":[\"editor\"],\"actions\":[\"getMaterials\",\"getCost\"],"
        "\"resource\":\"service:core/package:mfg/table:materials\"}";
    CHECK_RC(authcore_policy_evaluate_query(LIT(DOCS), LIT(DENY), &d, sid, sizeof sid, &n), AUTHCORE_OK);
    CHECK(!d.allowed && d.reason == AUTHCORE_POLICY_REASON_EXPLICIT_DENY && d.action_index == 1);
    CHECK(strcmp(sid, "NoCost") == 0 && n == 6);
    static const char NONE[] = "{\"userId\":\"u2\",\"action\":\"getMaterials\",\"resource\":\"service:core/x\"}";
    CHECK_RC(authcore_policy_evaluate_query(LIT(DOCS), LIT(NONE), &d, NULL, 0, NULL), AUTHCORE_OK);
    CHECK(!d.allowed && d.reason == AUTHCORE_POLICY_REASON_NO_MATCH && !d.has_sid);
    static const char BADRES[] = "{\"userId\":\"u1\",\"roles\":[\"editor\"],\"action\":\"getX\",\"resource\":\"service:core/*\"}";
    CHECK_RC(authcore_policy_evaluate_query(LIT(DOCS), LIT(BADRES), &d, NULL, 0, NULL), AUTHCORE_OK);
    CHECK(!d.allowed && d.reason == AUTHCORE_POLICY_REASON_INVALID_REQUEST);
    /* The deprecated name gives the same decision. */
    CHECK_RC(authcore_policy_evaluate(LIT(DOCS), LIT(ALLOW), &d, sid, sizeof sid, &n), AUTHCORE_OK);
    CHECK(d.allowed && d.reason == AUTHCORE_POLICY_REASON_ALLOWED && strcmp(sid, "EditorRead") == 0);

    /* Failures leave a deny. */
    d.allowed = true;
    CHECK_RC(authcore_policy_evaluate_query(LIT(DOCS), LIT(ALLOW), &d, sid, 4, &n), AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(!d.allowed && n == 11);
    d.allowed = true;
    CHECK_RC(authcore_policy_evaluate_query(LIT(DOCS), LIT("{\"userId\":\"u1\",\"acton\":\"x\",\"resource\":\"r\"}"), &d,
                                      NULL, 0, NULL),
             AUTHCORE_POLICY_INVALID_REQUEST);
    CHECK(!d.allowed);
    d.allowed = true;
    CHECK_RC(authcore_policy_evaluate_query(LIT("[{\"statements\":[{\"effect\":\"Allow\",\"principals\":[\"role:*\"],"
                                          "\"actions\":[\"a\"],\"resources\":[\"r\"]}]}]"),
                                      LIT(ALLOW), &d, NULL, 0, NULL),
             AUTHCORE_POLICY_INVALID_PRINCIPAL);
    CHECK(!d.allowed);
    CHECK(strstr(message(), "role:*") != NULL);
    CHECK_RC(authcore_policy_evaluate_query(LIT("\xff"), LIT(ALLOW), &d, NULL, 0, NULL), AUTHCORE_INVALID_UTF8);
    CHECK_RC(authcore_policy_evaluate_query(LIT(DOCS), LIT(ALLOW), NULL, NULL, 0, NULL), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_policy_validate_document(LIT("{\"statements\":[{\"effect\":\"Allow\",\"principals\":[\"*\"],"
                                                   "\"actions\":[\"a\"],\"resources\":[\"a/**/b\"]}]}")),
             AUTHCORE_POLICY_INVALID_PATTERN);
    CHECK_RC(authcore_policy_validate_document(NULL, 0), AUTHCORE_NULL_PARAMETER);

    char out[512];
    CHECK_RC(authcore_policy_check_permission(
                 LIT(DOCS),
                 LIT("{\"packages\":[{\"packageId\":\"mfg\",\"tables\":[\"materials\"]}],\"userId\":\"u1\","
                     "\"roles\":[\"editor\"],\"groups\":[],\"resource\":\"service:core/package:mfg/table:materials\","
                     "\"action\":\"getMaterials\"}"),
                 out, sizeof out, &n),
             AUTHCORE_OK);
    CHECK(strcmp(out, "{\"action\":\"getMaterials\",\"allowed\":true,\"resource\":\"service:core/package:mfg/table:materials\"}") == 0);
    CHECK_RC(authcore_policy_check_permission(LIT(DOCS), LIT("{\"userId\":\"u1\",\"resource\":\"a//b\"}"), out,
                                              sizeof out, &n),
             AUTHCORE_POLICY_INVALID_RESOURCE);
    bool found = true;
    CHECK_RC(authcore_policy_derive_action_name(LIT("PATCH"), LIT("service:core/package:mfg/table:bom_lines"), out,
                                                sizeof out, &n, &found),
             AUTHCORE_OK);
    CHECK(found && strcmp(out, "patchBomLines") == 0);
    CHECK_RC(authcore_policy_crud_actions(LIT("t"), true, out, 20, &n), AUTHCORE_BUFFER_TOO_SMALL);
}

/* The value of the sample line that starts with `prefix` (followed by a space), or -1. */
static double metric_value(const char *text, const char *prefix) {
    size_t plen = strlen(prefix);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, prefix, plen) == 0 && line[plen] == ' ') return strtod(line + plen + 1, NULL);
    }
    return -1;
}

/* authcore_metrics_text: size query, too-small buffer, and the bcrypt KDF histogram counts
 * exactly the two bcrypt runs made here (hash + verify). */
static void test_metrics(void) {
    size_t need = 0, n = 0;
    CHECK_RC(authcore_metrics_text(NULL, 0, &need), AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(need > 1000);
    char small[8];
    CHECK_RC(authcore_metrics_text(small, sizeof small, &n), AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(small[0] == 0 && n == need);
    CHECK_RC(authcore_metrics_text(NULL, 5, &n), AUTHCORE_NULL_PARAMETER);
    static char before[65536], after[65536];
    CHECK_RC(authcore_metrics_text(before, sizeof before, &n), AUTHCORE_OK);
    CHECK(n == strlen(before) && strstr(before, "# TYPE authcore_verify_total counter\n") != NULL);
    const char *series = "authcore_kdf_duration_seconds_count{algorithm=\"bcrypt\"}";
    double b0 = metric_value(before, series);
    CHECK(b0 >= 0);
    char hash[61];
    bool ok = false;
    CHECK_RC(authcore_bcrypt_hash(PW("metrics-pw"), 4, hash, sizeof hash, &n), AUTHCORE_OK);
    CHECK_RC(authcore_bcrypt_verify(PW("metrics-pw"), hash, n, &ok), AUTHCORE_OK);
    CHECK(ok);
    CHECK_RC(authcore_metrics_text(after, sizeof after, &n), AUTHCORE_OK);
    CHECK(metric_value(after, series) == b0 + 2);
    CHECK(strstr(after, "metrics-pw") == NULL);
}

int main(void) {
    printf("authcore %s: C API tests (passwords, JWT, TOTP, PKCE, policies)\n", authcore_version());
    test_codes();
    test_passwords();
    test_jwt();
    test_jwt_threads();
    test_totp();
    test_pkce();
    test_policy();
    test_metrics();
    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
