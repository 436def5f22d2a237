/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging and auditing. Every decision is one structured journal entry (CGD_CONTAINER=,
 * CGD_OPERATION=, CGD_PATH=, CGD_DETAIL=, CGD_RESULT=) or, without a journal, one stderr line, and
 * one Audit signal to subscribed admins. Client-supplied text is quoted and bounded; lines a
 * client can cause are rate-limited so a flood cannot fill the journal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "daemon.h"

#define AUDIT_BURST 200       /* lines a second before audit lines are dropped (counted) */

static int max_level = LOG_INFO;
static int use_journal = -1;

int log_set_level(const char *s) {
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };
        for (int i = 0; i < (int) ELEMENTSOF(names); i++)
                if (streq(s, names[i])) {
                        max_level = i;
                        return 0;
                }
        return -EINVAL;
}

static bool journal(void) {
        if (use_journal < 0)
                use_journal = getenv("JOURNAL_STREAM") || getenv("INVOCATION_ID");
        return use_journal;
}

void log_msg(int prio, const char *fmt, ...) {
        if (prio > max_level)
                return;
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (journal())
                sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%i", prio, "SYSLOG_IDENTIFIER=cgdelegated", NULL);
        else
                fprintf(stderr, "cgdelegated: %s\n", buf);
}

int log_errno(int r, const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        log_msg(LOG_ERR, "%s", buf);
        return r;
}

/* Client text in a log line: printable ASCII only, bounded. */
static void quote(const char *s, char *buf, size_t size) {
        static const char hex[] = "0123456789abcdef";
        size_t j = 0;
        for (; s && *s && j + 5 < size; s++) {
                unsigned char ch = (unsigned char) *s;
                if (ch >= 0x20 && ch < 0x7f) {
                        buf[j++] = (char) ch;
                        continue;
                }
                buf[j++] = '\\';
                buf[j++] = 'x';
                buf[j++] = hex[ch >> 4];
                buf[j++] = hex[ch & 15];
        }
        buf[j] = '\0';
}

bool log_limit(LogLimit *l, unsigned burst, const char *what) {
        time_t now = time(NULL);
        if (now != l->window) {
                if (l->dropped)
                        log_msg(LOG_WARNING, "%u %s not logged (more than %u a second)", l->dropped, what, burst);
                l->window = now;
                l->n = l->dropped = 0;
        }
        if (++l->n <= burst)
                return true;
        l->dropped++;
        return false;
}

void audit_log(Daemon *d, const Container *c, const char *op, const char *path, const char *detail, int result,
               const CgdRefusal *r) {
        char qpath[256], qdetail[512], res[CGD_MESSAGE_MAX + 64];
        quote(path, qpath, sizeof qpath);
        quote(detail, qdetail, sizeof qdetail);
        if (result >= 0)
                strcpy(res, "ok");
        else if (r && r->error >= 0 && r->error < _CGD_ERROR_MAX)
                snprintf(res, sizeof res, "%s: %s", cgd_error_name(r->error), r->message);
        else
                snprintf(res, sizeof res, "failed: %s", strerror(-result));
        const char *name = c ? c->name : "-";
        (void) server_emit_audit(d, name, op, qpath, qdetail, res);
        static LogLimit limit;
        if (!log_limit(&limit, AUDIT_BURST, "audit lines"))
                return;
        int prio = result >= 0 ? LOG_INFO : LOG_NOTICE;
        if (prio > max_level)
                return;
        if (journal())
                sd_journal_send("MESSAGE=%s %s %s %s: %s", name, op, qpath, qdetail, res, "PRIORITY=%i", prio,
                                "SYSLOG_IDENTIFIER=cgdelegated", "CGD_CONTAINER=%s", name, "CGD_OPERATION=%s", op,
                                "CGD_PATH=%s", qpath, "CGD_DETAIL=%s", qdetail, "CGD_RESULT=%s", res, NULL);
        else
                fprintf(stderr, "cgdelegated: audit container=%s op=%s path=%s detail=\"%s\" result=\"%s\"\n", name, op,
                        qpath, qdetail, res);
}
