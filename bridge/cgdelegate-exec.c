/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgdelegate-exec GROUP -- PATH ARGV0 [ARG...]: joins GROUP through cgdelegated (the container's
 * socket, /run/host/cgdelegate/socket or $CGDELEGATE_SOCKET), then execs PATH with ARGV0 ARG...
 * It is what cgdelegate-systemd-bridge puts in front of a unit's commands, so that a process is
 * in its limited groups before the unit's code runs: a unit that forks at once cannot escape
 * TasksMax= or MemoryMax=. The group is made if missing. While the daemon cannot be reached, or
 * its container has no leader yet, it retries for up to 10 s; then it runs the command anyway,
 * unconfined, and says so on stderr (the journal): a daemon outage must not stop the services.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgdelegate.h"

#define RETRY_USEC (100 * 1000)
#define RETRIES 100

static int join(const char *group) {
        int r = -ENOTCONN;
        for (int i = 0; i < RETRIES; i++) {
                cgd_client *c = NULL;
                r = cgd_client_open(getenv("CGDELEGATE_SOCKET"), &c);
                if (r >= 0) {
                        r = cgd_create_group(c, group, NULL, NULL);
                        if (r >= 0)
                                r = cgd_move_process(c, group, getpid(), NULL);
                        if (r < 0)
                                fprintf(stderr, "cgdelegate-exec: %s: %s: %s\n", group, cgd_client_error_name(c) ?: "",
                                        cgd_client_error_message(c) ?: strerror(-r));
                        cgd_client_free(c);
                }
                /* Worth waiting for: no daemon yet, or no leader yet. Any other refusal is final. */
                if (r >= 0 || (r != -ENOENT && r != -ECONNREFUSED && r != -ENOTCONN && r != -EOPNOTSUPP))
                        return r;
                usleep(RETRY_USEC);
        }
        return r;
}

int main(int argc, char *argv[]) {
        if (argc == 2 && strcmp(argv[1], "--version") == 0) { /* a group is a path: never "--version" */
                printf("cgdelegate-exec %s\n", CGD_VERSION);
                return 0;
        }
        if (argc < 5 || strcmp(argv[2], "--") != 0) {
                fprintf(stderr, "usage: cgdelegate-exec GROUP -- PATH ARGV0 [ARG...] | --version\n");
                return 2;
        }
        int r = join(argv[1]);
        if (r < 0)
                fprintf(stderr, "cgdelegate-exec: running %s outside %s, without its limits: %s\n", argv[3], argv[1],
                        strerror(-r));
        execv(argv[3], argv + 4);
        fprintf(stderr, "cgdelegate-exec: cannot run %s: %m\n", argv[3]);
        return 127;
}
