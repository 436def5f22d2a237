/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers every file of libcgd uses: cleanup attributes in the style of systemd
 * (_cleanup_free_, _cleanup_close_, TAKE_PTR, TAKE_FD), string-vector helpers and a few
 * arithmetic macros. Nothing here touches the file system.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closing keeps errno, so a cleanup never hides the error being returned. */
static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_PTR(p)                             \
        ({                                      \
                __typeof__(p) _taken = (p);     \
                (p) = NULL;                     \
                _taken;                         \
        })
#define TAKE_FD(fd)                             \
        ({                                      \
                int _taken_fd = (fd);           \
                (fd) = -EBADF;                  \
                _taken_fd;                      \
        })

/* A NULL-terminated array of malloc'ed strings. */
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char * const *l);
bool strv_contains(char * const *l, const char *s); /* l may be NULL */
/* Appends a copy of s; on failure l is unchanged. */
int strv_extend(char ***l, size_t *n, const char *s);
/* Appends s itself, taking ownership on success only. */
int strv_push(char ***l, size_t *n, char *s);

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}
static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* Returns -errno for a failed libc call, never 0 even when errno was not set. */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* Doubly linked lists through the items' own link fields (named by prev and next); head points
 * at the first item. */
#define LIST_PREPEND(head, item, prev, next)                    \
        do {                                                    \
                (item)->prev = NULL;                            \
                (item)->next = (head);                          \
                if (head)                                       \
                        (head)->prev = (item);                  \
                (head) = (item);                                \
        } while (0)

#define LIST_REMOVE(head, item, prev, next)                     \
        do {                                                    \
                if ((item)->prev)                               \
                        (item)->prev->next = (item)->next;      \
                else                                            \
                        (head) = (item)->next;                  \
                if ((item)->next)                               \
                        (item)->next->prev = (item)->prev;      \
                (item)->prev = (item)->next = NULL;             \
        } while (0)
