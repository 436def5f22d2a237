/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/error.c: error names both ways, and the refusal message, which must be one
 * line of valid UTF-8 whatever a client put into it (a control character, a byte of no UTF-8
 * sequence, a character cut by a "%.64s"), and never end in half an escape.
 */
#include <string.h>

#include "testutil.h"

#include "error.h"

static void test_names(void **state) {
        for (CgdError e = 0; e < _CGD_ERROR_MAX; e++) {
                assert_non_null(cgd_error_name(e));
                assert_int_equal(cgd_error_from_name(cgd_error_name(e)), e);
                assert_true(cgd_error_errno(e) < 0);
        }
        assert_null(cgd_error_name(_CGD_ERROR_MAX));
        assert_int_equal(cgd_error_from_name("org.cgdelegate.Error.Nope"), _CGD_ERROR_INVALID);
        assert_int_equal(cgd_error_from_name(NULL), _CGD_ERROR_INVALID);
}

static void test_message(void **state) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "plain", "plain" },
                { "a\nb", "a\\x0ab" },                             /* a second log line */
                { "tab\there\x7f", "tab\\x09here\\x7f" },
                { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" }, /* kept */
                { "cut \xe2\x82", "cut \\xe2\\x82" },              /* "%.64s" inside a character */
                { "\xff\xfe", "\\xff\\xfe" },
                { "\xc0\xaf", "\\xc0\\xaf" },                      /* overlong '/' */
                { "\xed\xa0\x80", "\\xed\\xa0\\x80" },             /* a surrogate */
                { "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },    /* above U+10FFFF */
                { "\xe0\x80\x80", "\\xe0\\x80\\x80" },             /* overlong */
        };
        CgdRefusal r;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(cgd_refuse(&r, CGD_ERROR_INVALID_PATH, "%s", cases[i].in), -EINVAL);
                assert_int_equal(r.error, CGD_ERROR_INVALID_PATH);
                assert_string_equal(r.message, cases[i].out);
        }
        assert_int_equal(cgd_refuse(NULL, CGD_ERROR_BUSY, "x"), -EBUSY);
}

/* At the end of the buffer: whole characters and whole escapes only. */
static void test_message_full(void **state) {
        char in[2 * CGD_MESSAGE_MAX];
        CgdRefusal r;

        memset(in, 'a', sizeof in);
        in[sizeof in - 1] = '\0';
        cgd_refuse(&r, CGD_ERROR_FAILED, "%s", in);
        assert_int_equal(strlen(r.message), CGD_MESSAGE_MAX - 1);

        for (size_t i = 0; i + 3 < sizeof in; i += 3)
                memcpy(in + i, "\xe2\x82\xac", 3); /* euros, cut somewhere by the raw buffer */
        in[sizeof in - 1 - (sizeof in - 1) % 3] = '\0';
        cgd_refuse(&r, CGD_ERROR_FAILED, "%s", in);
        assert_int_equal(strlen(r.message) % 3, 0);
        assert_true(strlen(r.message) >= CGD_MESSAGE_MAX - 3);

        memset(in, '\n', sizeof in);
        in[sizeof in - 1] = '\0';
        cgd_refuse(&r, CGD_ERROR_FAILED, "%s", in);
        assert_int_equal(strlen(r.message) % 4, 0);
        assert_true(strlen(r.message) >= CGD_MESSAGE_MAX - 4);
}

static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_message),
        cmocka_unit_test(test_message_full),
};

TEST_MAIN(tests, NULL, NULL)
