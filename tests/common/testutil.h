/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every cmocka test program shares: the includes cmocka wants, TAP output, skipping with a
 * reason, and temporary directories that clean themselves up.
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "macro.h"

/* cmocka 1.1.5 cannot carry a reason with skip(): print it as a TAP comment first. */
#define skip_because(...)                                       \
        do {                                                    \
                print_message("# skipped: " __VA_ARGS__);       \
                print_message("\n");                            \
                skip();                                         \
        } while (0)

/* Runs a group with TAP output; the exit code is the number of failed tests. */
#define TEST_MAIN(tests, setup, teardown)                                          \
        int main(void) {                                                           \
                cmocka_set_message_output(CM_OUTPUT_TAP);                          \
                return cmocka_run_group_tests_name(__FILE__, tests, setup, teardown); \
        }

/* mkdtemp() below $TMPDIR (or /tmp); returns a malloc'ed path. */
char *test_tmpdir(void);
/* rm -rf of a directory made by test_tmpdir() (never follows symlinks). */
void test_rm_rf(const char *path);
/* Writes a whole file, aborting the test on failure. */
void test_write_file(const char *path, const char *text);
/* Reads a whole file from tests/data (relative to the source tree); aborts on failure. */
char *test_read_data(const char *name);
