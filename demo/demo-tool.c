/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Workloads for the README's demo, run inside the demo container: "forks N" forks N children
 * that wait (and says how many forks the kernel allowed), "spin MS" burns CPU for MS ms, "hog MB"
 * touches MB MiB of memory (the VM lane's OOM test; a limit below MB ends it with SIGKILL).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int forks(int n) {
        int made = 0;
        for (int i = 0; i < n; i++) {
                pid_t p = fork();
                if (p == 0) {
                        pause();
                        _exit(0);
                }
                if (p > 0)
                        made++;
                else
                        printf("  fork %d refused: %s\n", i + 1, strerror(errno));
        }
        printf("  %d of %d forks allowed\n", made, n);
        return 0;
}

static int spin(long ms) {
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        do
                clock_gettime(CLOCK_MONOTONIC, &now);
        while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
        return 0;
}

static int hog(long mb) {
        size_t size = (size_t) mb << 20;
        volatile char *p = malloc(size); /* volatile: every page is really touched */
        if (!p)
                return 1;
        for (size_t i = 0; i < size; i += 4096)
                p[i] = 1;
        printf("  touched %ld MiB\n", mb);
        free((char *) p);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc == 3 && strcmp(argv[1], "forks") == 0)
                return forks(atoi(argv[2]));
        if (argc == 3 && strcmp(argv[1], "spin") == 0)
                return spin(atol(argv[2]));
        if (argc == 3 && strcmp(argv[1], "hog") == 0)
                return hog(atol(argv[2]));
        fprintf(stderr, "usage: cgd-demo-tool forks N | spin MS | hog MB\n");
        return 2;
}
