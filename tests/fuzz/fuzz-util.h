/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the libFuzzer targets of tests/fuzz/ share: the entry point's prototype (libFuzzer calls
 * it; no header of its own declares it), a NUL-terminated copy of the input for the C-string
 * APIs, and FUZZ_CHECK(), which names the broken invariant and aborts so that libFuzzer keeps the
 * input as a crash. docs/fuzzing.md says what each target covers.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test, not a refusal of the input: abort() when it fails. */
#define FUZZ_CHECK(cond, ...)                                                                   \
        do {                                                                                    \
                if (!(cond)) {                                                                  \
                        fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond); \
                        fprintf(stderr, __VA_ARGS__);                                           \
                        fputc('\n', stderr);                                                    \
                        abort();                                                                \
                }                                                                               \
        } while (0)

/* data as a C string, cut at its first NUL as every C string caller would cut it. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);

        if (!s)
                abort();
        if (size > 0)
                memcpy(s, data, size);
        s[size] = '\0';
        return s;
}
