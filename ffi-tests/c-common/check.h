/*
 * Shared by the C tests of ffi-tests/c (compiled with
 * -I ffi-tests/c-common): the check and failure counters, the CHECK / CHECK_RC macros of
 * the API tests, and the two ways the tests read the per-thread error message.
 *
 * Header-only: every test is one translation unit, so the counters are static and the
 * helpers static inline (a test that does not use one gets no unused warning).
 */
#ifndef AUTHCORE_FFI_TESTS_CHECK_H
#define AUTHCORE_FFI_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcore.h"

/* Checks run (CHECK, CHECK_RC; the vector runners count failures only) and failed. */
__attribute__((unused)) static int checks = 0;
static int failures = 0;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        checks++;                                                                     \
        if (!(cond)) {                                                                \
            failures++;                                                               \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
        }                                                                             \
    } while (0)

#define CHECK_RC(call, want)                                                          \
    do {                                                                              \
        authcore_result rc_ = (call);                                                 \
        checks++;                                                                     \
        if (rc_ != (want)) {                                                          \
            failures++;                                                               \
            fprintf(stderr, "FAIL %s:%d: %s returned %s, want %s\n", __FILE__,        \
                    __LINE__, #call, authcore_result_name(rc_),                       \
                    authcore_result_name(want));                                      \
        }                                                                             \
    } while (0)

/* The message of the last failing call on this thread, in a per-thread buffer. */
static inline const char *message(void) {
    static _Thread_local char buf[512];
    size_t n = 0;
    if (authcore_error_message(buf, sizeof buf, &n) != AUTHCORE_OK) {
        return "<message unavailable>";
    }
    return buf;
}

/* The same message fetched as the text results are: a size query that must answer
 * AUTHCORE_BUFFER_TOO_SMALL with the exact size, then a heap buffer of exactly that size.
 * The caller frees it; NULL when there is no message or a step disagrees. */
static inline char *last_message(void) {
    size_t need = 0;
    if (authcore_error_message(NULL, 0, &need) != AUTHCORE_BUFFER_TOO_SMALL || need == 0) {
        return NULL;
    }
    char *buf = malloc(need);
    size_t n = 0;
    if (buf == NULL || authcore_error_message(buf, need, &n) != AUTHCORE_OK || n + 1 != need) {
        free(buf);
        return NULL;
    }
    return buf;
}

#endif
