/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the test programs: temporary trees and test data. */
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "testutil.h"

char *test_tmpdir(void) {
        const char *base = getenv("TMPDIR") ?: "/tmp";
        char *p = NULL;
        assert_true(asprintf(&p, "%s/cgd-test.XXXXXX", base) > 0);
        assert_non_null(mkdtemp(p));
        return p;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return type == FTW_DP ? rmdir(path) : unlink(path);
}

void test_rm_rf(const char *path) {
        if (path)
                (void) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void test_write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
}

char *test_read_data(const char *name) {
        const char *dir = getenv("CGD_TEST_DATA") ?: "tests/data";
        _cleanup_free_ char *path = NULL;
        assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
        FILE *f = fopen(path, "re");
        if (!f)
                fail_msg("cannot open test data %s", path);
        char *buf = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&buf, &size);
        assert_non_null(out);
        int c;
        while ((c = fgetc(f)) != EOF)
                fputc(c, out);
        fclose(f);
        fclose(out);
        return buf;
}
