/*
 * The C API under bad input: NULL pointers, buffers that are too small, invalid
 * UTF-8, NaN / infinite / negative / huge timestamps, huge bodies, the result-name and
 * HTTP-status helpers, the per-thread error message, and a signer/verifier round trip
 * as a C server would do it. Built with -Wall -Wextra -Werror and ASan/UBSan.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcore.h"
#include "check.h" /* CHECK, CHECK_RC, message(): ffi-tests/c-common */

#define S(lit) ((authcore_str){(lit), sizeof(lit) - 1})
#define NONE ((authcore_str){NULL, 0})

static const char SECRET_A_HASH[] =
    "eed3621935ff386c8af9282a64096fa5c4f52a44a162d86b311ee2f1434ced04";
static const char APPENDIX_SIG[] =
    "9fdc401b7eb309409286a40e661c1f672d4c6de470713241ac8b9d1993957f63";
static const char BODY[] = "{\"hello\":\"world\"}";

static int message_is(const char *want) {
    const char *got = message();
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "    message: \"%s\"\n    wanted:  \"%s\"\n", got, want);
        return 0;
    }
    return 1;
}

static int message_starts(const char *prefix) {
    const char *got = message();
    if (strncmp(got, prefix, strlen(prefix)) != 0) {
        fprintf(stderr, "    message: \"%s\"\n    wanted a prefix: \"%s\"\n", got, prefix);
        return 0;
    }
    return 1;
}

static authcore_sign_input appendix_input(void) {
    authcore_sign_input in = {S("post"), S("/v1/messages?x=1"), 1700000000000.0, S("nonce_1"),
                              (const uint8_t *)BODY, sizeof BODY - 1,
                              (authcore_str){SECRET_A_HASH, 64}};
    return in;
}

static void test_helpers(void) {
    CHECK(strcmp(authcore_result_name(AUTHCORE_OK), "OK") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_BAD_SIGNATURE), "BAD_SIGNATURE") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_CLIENT_IP_NOT_ALLOWED), "CLIENT_IP_NOT_ALLOWED") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_INVALID_ARGUMENT), "INVALID_ARGUMENT") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_INVALID_UTF8), "INVALID_UTF8") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_PANIC), "PANIC") == 0);
    CHECK(strcmp(authcore_result_name(AUTHCORE_HEADER_TOO_LARGE), "HEADER_TOO_LARGE") == 0);
    CHECK(strcmp(authcore_result_name(16), "UNKNOWN") == 0);
    CHECK(strcmp(authcore_result_name(0xFFFFFFFFu), "UNKNOWN") == 0);
    /* The 14 auth codes are 1..14, as in the core. */
    CHECK(AUTHCORE_MISSING_CLIENT_ID == 1 && AUTHCORE_INTERNAL_ERROR == 14);
    CHECK(AUTHCORE_NULL_PARAMETER == 200 && AUTHCORE_PANIC == 203);
    for (uint32_t code = 1; code <= 14; code++) {
        CHECK(strcmp(authcore_result_name(code), "UNKNOWN") != 0);
    }
    CHECK(authcore_http_status(AUTHCORE_OK) == 200);
    CHECK(authcore_http_status(AUTHCORE_MISSING_CLIENT_ID) == 401);
    CHECK(authcore_http_status(AUTHCORE_BAD_SIGNATURE) == 401);
    CHECK(authcore_http_status(AUTHCORE_REPLAYED_NONCE) == 401);
    CHECK(authcore_http_status(AUTHCORE_MISSING_CLIENT_IP) == 403);
    CHECK(authcore_http_status(AUTHCORE_CLIENT_IP_NOT_ALLOWED) == 403);
    CHECK(authcore_http_status(AUTHCORE_CLIENT_NOT_FOUND) == 404);
    CHECK(authcore_http_status(AUTHCORE_INTERNAL_ERROR) == 500);
    CHECK(authcore_http_status(AUTHCORE_INVALID_INPUT) == 500);
    CHECK(authcore_http_status(AUTHCORE_NULL_PARAMETER) == 500);
    CHECK(authcore_http_status(9999) == 500);
    CHECK(strcmp(authcore_version(), AUTHCORE_VERSION) == 0);
}

static void test_null_pointers(void) {
    char out[AUTHCORE_HEX_BUFFER_SIZE];
    size_t n = 0;
    bool flag = false;
    authcore_sign_input in = appendix_input();

    CHECK_RC(authcore_hash_client_secret(NULL, 0, NULL, 0, out, sizeof out, &n),
             AUTHCORE_NULL_PARAMETER);
    CHECK(message_is("`secret` must not be NULL"));
    CHECK_RC(authcore_hash_client_secret("x", 1, NULL, 0, out, sizeof out, NULL),
             AUTHCORE_NULL_PARAMETER);
    CHECK(message_is("`out_written` must not be NULL"));
    CHECK_RC(authcore_hash_client_secret("x", 1, NULL, 0, NULL, sizeof out, &n),
             AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_hash_body(NULL, 5, out, sizeof out, &n), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_sign_request(NULL, out, sizeof out, &n), AUTHCORE_NULL_PARAMETER);
    CHECK(message_is("`input` must not be NULL"));
    authcore_sign_input no_nonce = in;
    no_nonce.nonce = NONE;
    CHECK_RC(authcore_sign_request(&no_nonce, out, sizeof out, &n), AUTHCORE_NULL_PARAMETER);
    CHECK(message_is("`input->nonce` must not be NULL"));
    authcore_sign_input body_null = in;
    body_null.body = NULL; /* with a non-zero length */
    CHECK_RC(authcore_sign_request(&body_null, out, sizeof out, &n), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_verify_request_signature(&in, APPENDIX_SIG, 64, NULL),
             AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_verify_request_signature(&in, NULL, 64, &flag), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_safe_equal_hex("a", 1, NULL, 1, &flag), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_normalize_path(NULL, 0, out, sizeof out, &n), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_message_canonical(NULL, 2, out, sizeof out, &n), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_sign_message(NULL, NULL), AUTHCORE_NULL_PARAMETER);
    authcore_message_input mi = {S("c"), S("{}"), S("s"), false, NONE};
    authcore_signed_message sm;
    CHECK_RC(authcore_sign_message(&mi, NULL), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_verify_message(&mi, NULL, 0, &flag), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_is_client_ip_allowed("1.2.3.4", 7, NULL, 3, &flag), AUTHCORE_NULL_PARAMETER);
    CHECK(message_is("`rules` must not be NULL"));
    CHECK_RC(authcore_normalize_allowed_ip_rules(NULL, 0, out, sizeof out, &n, NULL),
             AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_parse_stored_client_record(NULL, 0, out, sizeof out, &n), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_verify_with_record(NULL, NULL), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_nonce_key(NULL, 0, NULL, 0, "n", 1, 0, out, sizeof out, &n),
             AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_generate_nonce(out, sizeof out, NULL), AUTHCORE_NULL_PARAMETER);
    CHECK_RC(authcore_error_message(NULL, 3, &n), AUTHCORE_NULL_PARAMETER);

    /* The deprecated name of authcore_normalize_allowed_ip_rules gives the same result. */
    {
        authcore_str rules[] = {S(" 10.0.0.1/032 "), S("10.0.0.1/32")};
        size_t count = 0;
        CHECK_RC(authcore_normalize_allowed_ips(rules, 2, out, sizeof out, &n, &count), AUTHCORE_OK);
        CHECK(count == 1 && n == 11 && strcmp(out, "10.0.0.1/32") == 0);
    }
    /* So do the deprecated names of authcore_is_client_ip_allowed,
       authcore_parse_stored_client_record and authcore_propagation_build_queue_name
       (authcore_policy_evaluate: test_primitives_api.c). */
    {
        authcore_str rules[] = {S("10.0.0.0/8")};
        bool a = false, b = true;
        CHECK_RC(authcore_ip_allowed("10.1.2.3", 8, rules, 1, &a), AUTHCORE_OK);
        CHECK_RC(authcore_is_client_ip_allowed("10.1.2.3", 8, rules, 1, &b), AUTHCORE_OK);
        CHECK(a && b);
        CHECK_RC(authcore_ip_allowed("11.1.2.3", 8, rules, 1, &a), AUTHCORE_OK);
        CHECK(!a);
        char old_rec[256], canon[256];
        size_t on = 0, cn = 0;
        CHECK_RC(authcore_parse_record("legacy-hash", 11, old_rec, sizeof old_rec, &on), AUTHCORE_OK);
        CHECK_RC(authcore_parse_stored_client_record("legacy-hash", 11, canon, sizeof canon, &cn),
                 AUTHCORE_OK);
        CHECK(on == cn && strcmp(old_rec, canon) == 0 && strstr(canon, "legacy-hash") != NULL);
        CHECK_RC(authcore_propagation_queue_name("mgmt-1", 6, out, sizeof out, &n), AUTHCORE_OK);
        CHECK(strcmp(out, "hmac-mgmt-1.queue") == 0);
        CHECK_RC(authcore_propagation_queue_name("bad_name", 8, out, sizeof out, &n),
                 AUTHCORE_PROPAGATION_INVALID_QUEUE_NAME);
    }

    /* The IP candidates of a request in the original's order, decided by the core:
     * metadata.ip, metadata.ips[], metadata.forwardedFor, x-forwarded-for, remoteAddress;
     * entries without a string are skipped, absent fields give nothing. */
    {
        authcore_str ip[] = {S("1.1.1.1")};
        authcore_str ips[] = {S("2.2.2.2"), {NULL, 0}, S("3.3.3.3")};
        authcore_str remote[] = {S("6.6.6.6")};
        authcore_ip_sources src = {
            .ip = {ip, 1},
            .ips = {ips, 3},
            .forwarded_for = {NULL, 0},
            .forwarded_header = S("bogus, 5.5.5.5"),
            .remote_address = {remote, 1},
        };
        size_t count = 0;
        CHECK_RC(authcore_ip_candidates(&src, out, sizeof out, &n, &count), AUTHCORE_OK);
        static const char want[] = "1.1.1.1\0" "2.2.2.2\0" "3.3.3.3\0" "bogus, 5.5.5.5\0" "6.6.6.6";
        CHECK(count == 5 && n == sizeof want - 1 && memcmp(out, want, sizeof want) == 0);
        authcore_ip_sources none = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
        CHECK_RC(authcore_ip_candidates(&none, out, sizeof out, &n, &count), AUTHCORE_OK);
        CHECK(count == 0 && n == 0);
        CHECK_RC(authcore_ip_candidates(NULL, out, sizeof out, &n, &count), AUTHCORE_NULL_PARAMETER);
    }

    /* NULL is the empty input where a length of 0 is given for bytes and arrays. */
    CHECK_RC(authcore_hash_body(NULL, 0, out, sizeof out, &n), AUTHCORE_OK);
    CHECK(strcmp(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    CHECK_RC(authcore_is_client_ip_allowed("bogus", 5, NULL, 0, &flag), AUTHCORE_OK);
    CHECK(flag);
    CHECK_RC(authcore_sign_message(&mi, &sm), AUTHCORE_OK);
}

static void test_buffers(void) {
    char small[AUTHCORE_HEX_LEN]; /* one byte short */
    size_t n = 0;
    memset(small, 'x', sizeof small);
    CHECK_RC(authcore_hash_client_secret("secret_a", 8, NULL, 0, small, sizeof small, &n),
             AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(n == AUTHCORE_HEX_BUFFER_SIZE);
    CHECK(small[0] == '\0');
    CHECK(message_is("output buffer holds 64 bytes, 65 needed"));

    /* Size query, then an exact heap buffer (ASan checks the bounds). */
    authcore_sign_input in = appendix_input();
    CHECK_RC(authcore_build_signing_payload(&in, NULL, 0, &n), AUTHCORE_BUFFER_TOO_SMALL);
    size_t need = n;
    char *payload = malloc(need);
    CHECK(payload != NULL);
    if (payload != NULL) {
        CHECK_RC(authcore_build_signing_payload(&in, payload, need, &n), AUTHCORE_OK);
        CHECK(n + 1 == need);
        CHECK(strcmp(payload, "POST\n/v1/messages?x=1\n1700000000000\nnonce_1\n"
                              "93a23971a914e5eacbf0a8d25154cda309c3c1c72fbb9914d47c60f3cb681588") == 0);
        CHECK_RC(authcore_build_signing_payload(&in, payload, need - 1, &n),
                 AUTHCORE_BUFFER_TOO_SMALL);
        CHECK(n == need);
        free(payload);
    }
    /* A success clears the message; asking for it does not. */
    char hex[AUTHCORE_HEX_BUFFER_SIZE];
    CHECK_RC(authcore_hash_client_secret("x", 1, NULL, 0, hex, 1, &n), AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(message_starts("output buffer holds 1 bytes"));
    CHECK(message_starts("output buffer holds 1 bytes"));
    CHECK_RC(authcore_hash_client_secret("x", 1, NULL, 0, hex, sizeof hex, &n), AUTHCORE_OK);
    CHECK(message_is(""));
    /* The message itself honours the buffer rules. */
    CHECK_RC(authcore_normalize_path("//[", 3, hex, sizeof hex, &n), AUTHCORE_INVALID_INPUT);
    char tiny[4];
    CHECK_RC(authcore_error_message(tiny, sizeof tiny, &n), AUTHCORE_BUFFER_TOO_SMALL);
    CHECK(n == strlen("Invalid URL") + 1);
    CHECK(message_is("Invalid URL"));
}

static void test_invalid_utf8(void) {
    char out[256];
    size_t n = 0;
    bool flag = false;
    static const char bad[] = "/a\xff" "b";
    CHECK_RC(authcore_normalize_path(bad, 4, out, sizeof out, &n), AUTHCORE_INVALID_UTF8);
    CHECK(message_is("`path` is not valid UTF-8 (invalid byte at offset 2)"));
    /* A lone surrogate encoded as CESU-8 is not UTF-8 either. */
    CHECK_RC(authcore_hash_client_secret("\xed\xa0\x80", 3, NULL, 0, out, sizeof out, &n),
             AUTHCORE_INVALID_UTF8);
    CHECK_RC(authcore_safe_equal_hex("\xc3", 1, "ab", 2, &flag), AUTHCORE_INVALID_UTF8);
    authcore_sign_input in = appendix_input();
    in.secret = (authcore_str){"\xff", 1};
    CHECK_RC(authcore_sign_request(&in, out, sizeof out, &n), AUTHCORE_INVALID_UTF8);
    CHECK(message_starts("`input->secret` is not valid UTF-8"));
    authcore_message_input mi = {S("c"), (authcore_str){"\"\xfe\"", 3}, S("s"), false, NONE};
    authcore_signed_message sm;
    CHECK_RC(authcore_sign_message(&mi, &sm), AUTHCORE_INVALID_UTF8);
    /* Bodies are bytes: invalid UTF-8 is hashed like the original (U+FFFD first). */
    CHECK_RC(authcore_hash_body((const uint8_t *)"\xff", 1, out, sizeof out, &n), AUTHCORE_OK);
    CHECK(strcmp(out, "83d544ccc223c057d2bf80d3f2a32982c32c3c0db8e2674820da5064783fb097") == 0);
    /* Embedded NULs are text, lengths are explicit. */
    CHECK_RC(authcore_normalize_path("/\0x", 3, out, sizeof out, &n), AUTHCORE_OK);
    CHECK(n == 5 && strcmp(out, "/%00x") == 0);
    /* JSON that does not parse. */
    CHECK_RC(authcore_message_canonical("{\"a\":", 5, out, sizeof out, &n), AUTHCORE_INVALID_INPUT);
}

static const char *payload_timestamp(double ts, char *out, size_t len) {
    authcore_sign_input in = {S("get"), S("/x"), ts, S("n"), NULL, 0, S("k")};
    size_t n = 0;
    if (authcore_build_signing_payload(&in, out, len, &n) != AUTHCORE_OK) {
        return "<error>";
    }
    char *start = strchr(strchr(out, '\n') + 1, '\n') + 1;
    *strchr(start, '\n') = '\0';
    return start;
}

static void test_timestamps(void) {
    char buf[256];
    CHECK(strcmp(payload_timestamp(NAN, buf, sizeof buf), "NaN") == 0);
    CHECK(strcmp(payload_timestamp(INFINITY, buf, sizeof buf), "Infinity") == 0);
    CHECK(strcmp(payload_timestamp(-INFINITY, buf, sizeof buf), "-Infinity") == 0);
    CHECK(strcmp(payload_timestamp(-1, buf, sizeof buf), "-1") == 0);
    CHECK(strcmp(payload_timestamp(-0.0, buf, sizeof buf), "0") == 0);
    CHECK(strcmp(payload_timestamp(1e21, buf, sizeof buf), "1e+21") == 0);
    CHECK(strcmp(payload_timestamp(1e300, buf, sizeof buf), "1e+300") == 0);
    CHECK(strcmp(payload_timestamp(12.5, buf, sizeof buf), "12.5") == 0);
    CHECK(strcmp(payload_timestamp(5e-324, buf, sizeof buf), "5e-324") == 0);

    /* On the verify side the header is text parsed with Number(): non-finite values are
       INVALID_TIMESTAMP, negative and whitespace-only ones fall out of the window. */
    struct {
        const char *header;
        authcore_result want;
    } cases[] = {
        {"NaN", AUTHCORE_INVALID_TIMESTAMP},      {"Infinity", AUTHCORE_INVALID_TIMESTAMP},
        {"-Infinity", AUTHCORE_INVALID_TIMESTAMP}, {"1e400", AUTHCORE_INVALID_TIMESTAMP},
        {"12abc", AUTHCORE_INVALID_TIMESTAMP},    {"-1700000000000", AUTHCORE_TIMESTAMP_SKEW},
        {"   ", AUTHCORE_TIMESTAMP_SKEW},         {"0x18BCFE56800", AUTHCORE_OK},
        {" 1.7e12 ", AUTHCORE_OK},
    };
    static const char record[] = "{\"secretHash\":\"eed3621935ff386c8af9282a64096fa5c4f52a44a16"
                                 "2d86b311ee2f1434ced04\",\"expiresAt\":null,\"allowedIps\":[]}";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        authcore_verify_request req = {
            S("POST"), S("/v1/messages?x=1"), S("app_a"), (authcore_str){APPENDIX_SIG, 64},
            (authcore_str){cases[i].header, strlen(cases[i].header)}, S("nonce_1"),
            (const uint8_t *)BODY, sizeof BODY - 1, 1700000000000.0,
            AUTHCORE_DEFAULT_MAX_SKEW_MS, S(record), NULL, 0};
        authcore_verification v;
        CHECK_RC(authcore_verify_with_record(&req, &v), cases[i].want);
        if (cases[i].want == AUTHCORE_OK) {
            CHECK(v.timestamp == 1700000000000.0 && v.status == 200);
        } else {
            CHECK(v.status == 401);
        }
    }
    /* Settings fail closed: NaN (or infinite) now/maxSkew would make every comparison false
       in JavaScript (any request accepted at any age); here it is INVALID_ARGUMENT. */
    authcore_verify_request req = {
        S("POST"), S("/v1/messages?x=1"), S("app_a"), (authcore_str){APPENDIX_SIG, 64},
        S("1700000000000"), S("nonce_1"), (const uint8_t *)BODY, sizeof BODY - 1, NAN, NAN,
        S(record), NULL, 0};
    authcore_verification v;
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_INVALID_ARGUMENT);
    CHECK(message_is("now must be a finite number") && v.status == 500);
    req.now_ms = 1700000000000.0;
    const double bad_skews[] = {NAN, INFINITY, -INFINITY, AUTHCORE_MAX_SKEW_MS + 1};
    for (size_t i = 0; i < sizeof bad_skews / sizeof bad_skews[0]; i++) {
        req.max_skew_ms = bad_skews[i];
        CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_INVALID_ARGUMENT);
        CHECK(message_is("maxSkewMs must be a finite number no greater than 86400000"));
    }
    req.max_skew_ms = AUTHCORE_DEFAULT_MAX_SKEW_MS;
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_OK);
    /* The claim covers the rest of the window: ceil(300000 / 1000) + 1. */
    CHECK(v.nonce_ttl_seconds == 301);
    /* A client 4 s ahead (request stamped now + 4000): ceil(304000 / 1000) + 1. */
    CHECK(authcore_nonce_ttl_seconds(1700000004000.0, 1700000000000.0, 300000) == 305);
    CHECK(authcore_nonce_ttl_seconds(1700000000000.0, 1700000000000.0, 5000) == 6);
    CHECK(authcore_nonce_ttl_seconds(1700000000000.0, 1700000005000.0, 5000) == 1);
    CHECK(authcore_nonce_ttl_seconds(1700000000000.0, 1700000000000.0, NAN) == 0);
    CHECK(authcore_nonce_ttl_seconds(NAN, 1700000000000.0, 5000) == 0);
    CHECK(authcore_nonce_ttl_seconds(1700000000000.0, INFINITY, 5000) == 0);
    /* Oversized headers are refused before they are parsed (431). */
    char big[AUTHCORE_MAX_NONCE_BYTES + 1];
    memset(big, 'n', sizeof big);
    req.nonce = (authcore_str){big, sizeof big};
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_HEADER_TOO_LARGE);
    CHECK(v.status == 431 && message_is("Header x-nonce exceeds 256 bytes"));
    CHECK(authcore_http_status(AUTHCORE_HEADER_TOO_LARGE) == 431);
    req.nonce = S("nonce_1");
    /* A negative window rejects everything (like the original). */
    req.max_skew_ms = -1;
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_TIMESTAMP_SKEW);
    CHECK(message_is("Request timestamp skew is too large (> -1ms)"));
    /* Nonce keys render the parsed timestamp the JavaScript way. */
    char key[128];
    size_t n = 0;
    CHECK_RC(authcore_nonce_key(NULL, 0, "app_a", 5, "nonce_1", 7, 1e21, key, sizeof key, &n),
             AUTHCORE_OK);
    CHECK(strcmp(key, "hmacauth:nonce:app_a:nonce_1:1e+21") == 0);
}

static void test_huge_bodies(void) {
    char out[AUTHCORE_HEX_BUFFER_SIZE];
    size_t n = 0;
    uint8_t one = 'a';
    /* Lengths are checked before any byte is read (ASan would report a read). */
    CHECK_RC(authcore_hash_body(&one, (size_t)AUTHCORE_MAX_BODY_BYTES + 1, out, sizeof out, &n),
             AUTHCORE_INVALID_INPUT);
    CHECK(message_starts("body too large: 536870889 bytes"));
    CHECK_RC(authcore_hash_body(&one, SIZE_MAX, out, sizeof out, &n), AUTHCORE_INVALID_INPUT);
    authcore_sign_input in = appendix_input();
    in.body = &one;
    in.body_len = SIZE_MAX;
    CHECK_RC(authcore_sign_request(&in, out, sizeof out, &n), AUTHCORE_INVALID_INPUT);
    CHECK_RC(authcore_normalize_path("/", SIZE_MAX, out, sizeof out, &n), AUTHCORE_INVALID_INPUT);
    authcore_str many = S("1.2.3.4");
    bool flag = false;
    CHECK_RC(authcore_is_client_ip_allowed("1.2.3.4", 7, &many, SIZE_MAX / 2, &flag), AUTHCORE_INVALID_INPUT);

    /* Real large bodies: FIPS 180-2's one million 'a', and 64 MiB signed and verified. */
    size_t big_len = 64u << 20;
    uint8_t *big = malloc(big_len);
    CHECK(big != NULL);
    if (big == NULL) {
        return;
    }
    memset(big, 'a', big_len);
    CHECK_RC(authcore_hash_body(big, 1000000, out, sizeof out, &n), AUTHCORE_OK);
    CHECK(strcmp(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
    in = appendix_input();
    in.body = big;
    in.body_len = big_len;
    char sig[AUTHCORE_HEX_BUFFER_SIZE];
    CHECK_RC(authcore_sign_request(&in, sig, sizeof sig, &n), AUTHCORE_OK);
    CHECK_RC(authcore_verify_request_signature(&in, sig, n, &flag), AUTHCORE_OK);
    CHECK(flag);
    big[big_len - 1] = 'b';
    CHECK_RC(authcore_verify_request_signature(&in, sig, n, &flag), AUTHCORE_OK);
    CHECK(!flag);
    free(big);
}

/* A C server's view: sign with the plain secret's hash, verify against the stored
   record, then claim the nonce key. */
static void test_round_trip(void) {
    char secret_hash[AUTHCORE_HEX_BUFFER_SIZE], nonce[64], sig[AUTHCORE_HEX_BUFFER_SIZE];
    char record[256], key[256];
    size_t n = 0, nonce_len = 0, sig_len = 0;
    CHECK_RC(authcore_hash_client_secret("s3cret", 6, "pepper", 6, secret_hash,
                                         sizeof secret_hash, &n),
             AUTHCORE_OK);
    CHECK_RC(authcore_generate_nonce(nonce, sizeof nonce, &nonce_len), AUTHCORE_OK);
    CHECK(nonce_len == 32);
    authcore_sign_input in = {S("put"), S("https://api.example/v1/x?b=2#f"), 1700000000123.0,
                              (authcore_str){nonce, nonce_len}, (const uint8_t *)BODY,
                              sizeof BODY - 1, (authcore_str){secret_hash, 64}};
    CHECK_RC(authcore_sign_request(&in, sig, sizeof sig, &sig_len), AUTHCORE_OK);
    int len = snprintf(record, sizeof record,
                       "{\"secretHash\":\"%s\",\"createdAt\":1,\"updatedAt\":1,"
                       "\"expiresAt\":1700000002000,\"allowedIps\":[\"10.0.0.0/8\"]}",
                       secret_hash);
    authcore_str ips[] = {NONE, S("unknown"), S("10.1.2.3")};
    authcore_verify_request req = {S("PUT"), S("/v1/x?b=2"), S("  tenant-app\t"),
                                   (authcore_str){sig, sig_len}, S("1700000000123"),
                                   (authcore_str){nonce, nonce_len}, (const uint8_t *)BODY,
                                   sizeof BODY - 1, 1700000001000.0,
                                   AUTHCORE_DEFAULT_MAX_SKEW_MS,
                                   (authcore_str){record, (size_t)len}, ips, 3};
    authcore_verification v;
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_OK);
    CHECK(v.status == 200 && v.client_id_offset == 2 && v.client_id_len == 10);
    CHECK(memcmp(req.client_id.ptr + v.client_id_offset, "tenant-app", 10) == 0);
    CHECK_RC(authcore_nonce_key("tenant", 6, req.client_id.ptr + v.client_id_offset,
                                v.client_id_len, nonce, nonce_len, v.timestamp, key, sizeof key,
                                &n),
             AUTHCORE_OK);
    CHECK(strncmp(key, "tenant:nonce:tenant-app:", 24) == 0);
    CHECK(strcmp(key + n - 14, ":1700000000123") == 0);

    /* Tampered body: BAD_SIGNATURE with the expected signature for logging. */
    req.body_len -= 1;
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_BAD_SIGNATURE);
    CHECK(v.status == 401 && strlen(v.expected_signature) == 64);
    CHECK(strcmp(v.expected_signature, sig) != 0);
    req.body_len += 1;
    /* Outside the allow-list: 403 before the signature is even looked at. */
    authcore_str outside[] = {S("192.168.1.1")};
    req.ip_candidates = outside;
    req.ip_candidates_len = 1;
    req.signature = S("00");
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_CLIENT_IP_NOT_ALLOWED);
    CHECK(v.status == 403);
    CHECK(message_is("Client IP '192.168.1.1' is not allowed for clientId 'tenant-app'"));
    /* Expired after 1700000002000 (still inside the skew window). */
    req.ip_candidates = ips;
    req.ip_candidates_len = 3;
    req.signature = (authcore_str){sig, sig_len};
    req.now_ms = 1700000002001.0;
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_CLIENT_EXPIRED);
}

/* The value of the sample line that starts with `series` (followed by a space), or -1. */
static double metric_value(const char *text, const char *series) {
    size_t plen = strlen(series);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, series, plen) == 0 && line[plen] == ' ') return strtod(line + plen + 1, NULL);
    }
    return -1;
}

static const char *const OUTCOMES[] = {"OK", "REPLAYED_NONCE", "BAD_SIGNATURE", "MISSING_NONCE",
                                       "UNKNOWN_CLIENT", "INVALID_ARGUMENT"};
#define N_OUTCOMES (sizeof OUTCOMES / sizeof OUTCOMES[0])

static void verify_counts(double out[N_OUTCOMES]) {
    static char text[65536];
    size_t n = 0;
    CHECK_RC(authcore_metrics_text(text, sizeof text, &n), AUTHCORE_OK);
    for (size_t i = 0; i < N_OUTCOMES; i++) {
        char series[128];
        snprintf(series, sizeof series, "authcore_verify_total{outcome=\"%s\"}", OUTCOMES[i]);
        out[i] = metric_value(text, series);
        CHECK(out[i] >= 0);
    }
}

/* The sans-IO verifier counts in the core's metrics: its rejections itself, and the
 * accepted / replayed outcome when the caller reports its nonce claim
 * (authcore_verify_nonce_claimed). The scraped counters move by exactly what was done. */
static void test_sans_io_metrics(void) {
    char secret_hash[AUTHCORE_HEX_BUFFER_SIZE], sig[AUTHCORE_HEX_BUFFER_SIZE], record[256];
    size_t n = 0, sig_len = 0;
    CHECK_RC(authcore_hash_client_secret("m3trics", 7, NULL, 0, secret_hash, sizeof secret_hash, &n),
             AUTHCORE_OK);
    authcore_sign_input in = {S("POST"), S("/v1/m"), 1700000000000.0, S("metrics-nonce"),
                              (const uint8_t *)BODY, sizeof BODY - 1, (authcore_str){secret_hash, 64}};
    CHECK_RC(authcore_sign_request(&in, sig, sizeof sig, &sig_len), AUTHCORE_OK);
    int len = snprintf(record, sizeof record, "{\"secretHash\":\"%s\",\"createdAt\":1,\"updatedAt\":1}",
                       secret_hash);
    authcore_verify_request req = {S("POST"), S("/v1/m"), S("metrics-app"), (authcore_str){sig, sig_len},
                                   S("1700000000000"), S("metrics-nonce"), (const uint8_t *)BODY,
                                   sizeof BODY - 1, 1700000000500.0, AUTHCORE_DEFAULT_MAX_SKEW_MS,
                                   (authcore_str){record, (size_t)len}, NULL, 0};
    authcore_verification v;
    double before[N_OUTCOMES], after[N_OUTCOMES];
    authcore_metrics_set_enabled(1);
    verify_counts(before);

    /* Accepted twice by the checks: the first claim wins, the second is a replay. */
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_OK);
    CHECK_RC(authcore_verify_nonce_claimed(1), AUTHCORE_OK);
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_OK);
    CHECK_RC(authcore_verify_nonce_claimed(0), AUTHCORE_REPLAYED_NONCE);
    CHECK(authcore_http_status(AUTHCORE_REPLAYED_NONCE) == 401);
    /* Tampered body, three times. */
    req.body_len -= 1;
    for (int i = 0; i < 3; i++) CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_BAD_SIGNATURE);
    req.body_len += 1;
    /* No nonce header. */
    req.nonce = NONE;
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_MISSING_NONCE);
    req.nonce = S("metrics-nonce");
    /* No stored record. */
    req.record = NONE;
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_UNKNOWN_CLIENT);
    req.record = (authcore_str){record, (size_t)len};
    /* A method that is not valid UTF-8: an argument error. */
    req.method = (authcore_str){"\xff", 1};
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_INVALID_UTF8);
    req.method = S("POST");
    /* Recording off: nothing moves. */
    authcore_metrics_set_enabled(0);
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_OK);
    CHECK_RC(authcore_verify_nonce_claimed(1), AUTHCORE_OK);
    req.body_len -= 1;
    CHECK_RC(authcore_verify_with_record(&req, &v), AUTHCORE_BAD_SIGNATURE);
    req.body_len += 1;
    authcore_metrics_set_enabled(1);

    verify_counts(after);
    const double want[N_OUTCOMES] = {1, 1, 3, 1, 1, 1};
    for (size_t i = 0; i < N_OUTCOMES; i++) {
        if (after[i] - before[i] != want[i]) {
            fprintf(stderr, "    authcore_verify_total{outcome=\"%s\"}: +%g, wanted +%g\n", OUTCOMES[i],
                    after[i] - before[i], want[i]);
        }
        CHECK(after[i] - before[i] == want[i]);
    }
}

static void *thread_main(void *arg) {
    long id = (long)(intptr_t)arg;
    long *bad = malloc(sizeof *bad);
    *bad = 0;
    char out[128];
    size_t n = 0;
    for (int i = 0; i < 500; i++) {
        if (id % 2 == 0) {
            if (authcore_hash_client_secret("x", 1, NULL, 0, out, sizeof out, &n) != AUTHCORE_OK ||
                strcmp(message(), "") != 0) {
                (*bad)++;
            }
        } else {
            if (authcore_normalize_path("//[", 3, out, sizeof out, &n) != AUTHCORE_INVALID_INPUT ||
                strcmp(message(), "Invalid URL") != 0) {
                (*bad)++;
            }
        }
    }
    return bad;
}

static void test_threads(void) {
    pthread_t t[8];
    for (long i = 0; i < 8; i++) {
        CHECK(pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)i) == 0);
    }
    for (int i = 0; i < 8; i++) {
        void *ret = NULL;
        CHECK(pthread_join(t[i], &ret) == 0);
        CHECK(ret != NULL && *(long *)ret == 0);
        free(ret);
    }
}

int main(void) {
    test_helpers();
    test_null_pointers();
    test_buffers();
    test_invalid_utf8();
    test_timestamps();
    test_huge_bodies();
    test_round_trip();
    test_threads();
    test_sans_io_metrics();
    printf("test_api: %d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
