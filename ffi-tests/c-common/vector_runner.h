/*
 * The scaffolding of the C vector runner (ffi-tests/c/run_vectors.c): the case loop, text
 * results, error and boolean checks.
 *
 * Include it after the generated vectors header (VECTORS, VECTOR_COUNT, VECTOR_FILES,
 * VECTOR_FILE_COUNT), with VECTOR_CASE defined as that header's case type, which has the
 * fields file, id, op_name, expect_error, expect_status, expect_message_suffix, expect_text
 * and expect_bool. The runner defines check_text(), the comparison of a successful text
 * result.
 *
 * expect_error is the name of the expected result (authcore_result_name), NULL for success,
 * or "*" for any failure: a recorded refusal of an original that names no reason C has (its
 * HTTP status, expect_status, and its message, expect_message_suffix, are still checked
 * when set).
 *
 * Every text result is fetched twice: a size query (out = NULL, out_len = 0) that must
 * answer AUTHCORE_BUFFER_TOO_SMALL with the exact size, then into a heap buffer of exactly
 * that size, so AddressSanitizer sees any off-by-one write.
 */
#ifndef AUTHCORE_FFI_TESTS_VECTOR_RUNNER_H
#define AUTHCORE_FFI_TESTS_VECTOR_RUNNER_H

#ifndef VECTOR_CASE
#error "define VECTOR_CASE as the generated case type before including vector_runner.h"
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "check.h"

/* The case being run. */
static const VECTOR_CASE *current = NULL;

/* Reports a failure of the current case. */
__attribute__((format(printf, 1, 2))) static inline void fail(const char *fmt, ...) {
    failures++;
    fprintf(stderr, "FAIL %s#%s [%s]: ", current->file, current->id, current->op_name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static inline int same(const char *p, size_t n, authcore_str want) {
    return n == want.len && (n == 0 || memcmp(p, want.ptr, n) == 0);
}

/* A printable copy for failure messages (embedded NULs shown as \0); the caller frees. */
static inline char *show(const char *p, size_t n) {
    char *s = malloc(n * 2 + 1);
    size_t j = 0;
    for (size_t i = 0; s != NULL && i < n; i++) {
        if (p[i] == '\0') {
            s[j++] = '\\';
            s[j++] = '0';
        } else {
            s[j++] = p[i];
        }
    }
    if (s != NULL) {
        s[j] = '\0';
    }
    return s;
}

/* A text-producing call on the case: out, out_len, out_written are the last three
 * arguments. */
typedef authcore_result (*text_fn)(const VECTOR_CASE *c, char *out, size_t out_len,
                                   size_t *out_written);

typedef struct {
    authcore_result rc;
    char *text; /* heap, NUL-terminated, only when rc == AUTHCORE_OK */
    size_t len;
} text_result;

/* Size query, then the call into a heap buffer of exactly the size it answered. */
static inline text_result call_text(text_fn fn) {
    text_result res = {AUTHCORE_OK, NULL, 0};
    size_t need = 0;
    authcore_result r = fn(current, NULL, 0, &need);
    if (r != AUTHCORE_BUFFER_TOO_SMALL) {
        res.rc = r; /* an error the size query already reports */
        if (r == AUTHCORE_OK) {
            fail("size query returned OK for an empty buffer");
            res.rc = AUTHCORE_PANIC;
        }
        return res;
    }
    char *buf = malloc(need);
    if (buf == NULL) {
        fail("out of memory");
        res.rc = AUTHCORE_PANIC;
        return res;
    }
    size_t n = (size_t)-1;
    r = fn(current, buf, need, &n);
    res.rc = r;
    if (r != AUTHCORE_OK) {
        free(buf);
        return res;
    }
    if (n + 1 != need || buf[n] != '\0') {
        fail("written length disagrees with the size query");
    }
    res.text = buf;
    res.len = n;
    return res;
}

/* Checks a failure (result rc, HTTP status) against the expectation; every failure must
 * have a message. */
static inline void check_error(authcore_result rc, uint16_t status) {
    const char *name = authcore_result_name(rc);
    if (current->expect_error == NULL) {
        char *msg = last_message();
        fail("expected success, got %s: %s", name, msg ? msg : "(no message)");
        free(msg);
        return;
    }
    bool any = strcmp(current->expect_error, "*") == 0;
    if (!any && strcmp(name, current->expect_error) != 0) {
        char *msg = last_message();
        fail("expected error %s, got %s (%s)", current->expect_error, name, msg ? msg : "");
        free(msg);
        return;
    }
    if (any && (rc == AUTHCORE_PANIC || rc == AUTHCORE_BUFFER_TOO_SMALL)) {
        fail("expected a refusal, got %s", name);
    }
    if (current->expect_status != 0 && status != current->expect_status) {
        fail("expected HTTP status %d, got %u (%s)", current->expect_status, (unsigned)status, name);
    }
    char *msg = last_message();
    if (msg == NULL || msg[0] == '\0') {
        fail("error %s without a message", name);
    } else if (current->expect_message_suffix.ptr != NULL) {
        size_t n = strlen(msg), k = current->expect_message_suffix.len;
        if (n < k || memcmp(msg + n - k, current->expect_message_suffix.ptr, k) != 0) {
            fail("%s: message \"%s\" does not end with \"%.*s\"", name, msg, (int)k,
                 current->expect_message_suffix.ptr);
        }
    }
    free(msg);
}

/* True when the call succeeded and success was expected; otherwise the outcome is checked
 * against the expected error, whose HTTP status is `status`. */
static inline bool expect_success_status(authcore_result rc, uint16_t status) {
    if (rc != AUTHCORE_OK) {
        check_error(rc, status);
        return false;
    }
    if (current->expect_error != NULL) {
        fail("expected error %s, got success", current->expect_error);
        return false;
    }
    return true;
}

/* The same, the status being the HTTP status of the result. */
static inline bool expect_success(authcore_result rc) {
    return expect_success_status(rc, authcore_http_status(rc));
}

/* A boolean result against expect_bool. */
static inline void run_bool(authcore_result rc, bool got) {
    if (expect_success(rc) && (int)got != current->expect_bool) {
        fail("got %s, want %s", got ? "true" : "false", current->expect_bool ? "true" : "false");
    }
}

/* Compares a text result with expect_text; true when equal. */
static inline bool expect_text_equal(const char *text, size_t len) {
    if (same(text, len, current->expect_text)) {
        return true;
    }
    char *got = show(text, len);
    char *want = show(current->expect_text.ptr, current->expect_text.len);
    fail("got\n    \"%s\"\nwant\n    \"%s\"", got ? got : "?", want ? want : "?");
    free(got);
    free(want);
    return false;
}

/* Defined by each runner: checks a successful text result of the current case. */
static void check_text(const char *text, size_t len);

/* A text result: fetched twice (call_text), then an error checked against the expected
 * one, or the text by check_text(). */
static inline void run_text(text_fn fn) {
    text_result r = call_text(fn);
    if (r.rc != AUTHCORE_OK) {
        check_error(r.rc, authcore_http_status(r.rc));
        return;
    }
    if (current->expect_error != NULL) {
        fail("expected error %s, got success: %s", current->expect_error, r.text);
    } else {
        check_text(r.text, r.len);
    }
    free(r.text);
}

static inline void fail_unknown_op(void) {
    fail("unknown op \"%s\": this runner does not know it", current->op_name);
}

/* True when the file of case `c` starts with one of the `n` prefixes (no prefix: every file). */
static inline bool selected(const VECTOR_CASE *c, int n, const char *const *prefixes) {
    for (int i = 0; i < n; i++) {
        if (strncmp(c->file, prefixes[i], strlen(prefixes[i])) == 0) {
            return true;
        }
    }
    return n == 0;
}

/* Runs every case (of the files starting with one of the `n` prefixes, when n > 0) through
 * run_case (the runner's dispatch on the op) and prints the summary. Returns the exit
 * status: 0 only when every case passed and at least one ran. */
static inline int run_vectors(const char *title, void (*run_case)(const VECTOR_CASE *c), int n,
                              const char *const *prefixes) {
    printf("authcore %s: %s, %d cases\n", authcore_version(), title, VECTOR_COUNT);
    for (int i = 0; i < VECTOR_FILE_COUNT; i++) {
        printf("  %s\n", VECTOR_FILES[i]);
    }
    int ran = 0;
    int failed_cases = 0;
    for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++) {
        current = &VECTORS[i];
        if (!selected(current, n, prefixes)) {
            continue;
        }
        int before = failures;
        run_case(current);
        ran++;
        if (failures != before) {
            failed_cases++;
        }
    }
    printf("%d passed, %d failed\n", ran - failed_cases, failed_cases);
    return failed_cases == 0 && ran > 0 ? 0 : 1;
}

#endif
