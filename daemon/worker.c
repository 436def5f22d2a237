/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Slow kernel writes off the event loop. A memory limit below usage makes the kernel reclaim
 * synchronously, cpuset.mems migrates memory, and a freeze waits for every task to stop: any of
 * them can take seconds, and no other container may wait for that. Such a request becomes a job
 * for one worker thread; the job's container is not read from until the job is done (its
 * requests stay in order, and its tree is never written from two threads), and the reply is
 * sent from the loop thread, since sd-bus objects belong to it.
 */
#include <pthread.h>
#include <sys/eventfd.h>

#include "daemon.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static Job *queue_head, *queue_tail, *done_head;
static int done_fd = -EBADF;
static bool stopping;
static pthread_t thread;
static bool thread_started;

static void *worker_main(void *arg) {
        (void) arg;
        pthread_mutex_lock(&lock);
        for (;;) {
                while (!queue_head && !stopping)
                        pthread_cond_wait(&wake, &lock);
                if (stopping)
                        break;
                Job *j = queue_head;
                queue_head = j->next;
                if (!queue_head)
                        queue_tail = NULL;
                pthread_mutex_unlock(&lock);
                j->result = j->run(j); /* only cgroupfs, through the container's tree fds */
                pthread_mutex_lock(&lock);
                j->next = done_head;
                done_head = j;
                (void) eventfd_write(done_fd, 1);
        }
        pthread_mutex_unlock(&lock);
        return NULL;
}

static int on_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        eventfd_t n;
        (void) eventfd_read(fd, &n);
        pthread_mutex_lock(&lock);
        Job *list = done_head;
        done_head = NULL;
        pthread_mutex_unlock(&lock);
        while (list) {
                Job *j = list;
                list = j->next;
                Container *c = j->container;
                c->job = NULL;
                j->finish(j);
                sd_bus_message_unref(j->message);
                free(j);
                if (c->end_reason)
                        registry_container_ended(c, c->end_reason);
                else
                        server_resume_container(c->daemon, c);
        }
        return 0;
}

int worker_init(Daemon *d) {
        done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (done_fd < 0)
                return -errno;
        int r = sd_event_add_io(d->event, &d->worker_source, done_fd, EPOLLIN, on_done, d);
        if (r < 0)
                return r;
        r = -pthread_create(&thread, NULL, worker_main, NULL);
        thread_started = r == 0;
        return r;
}

void worker_done(Daemon *d) {
        if (thread_started) {
                pthread_mutex_lock(&lock);
                stopping = true;
                pthread_cond_signal(&wake);
                pthread_mutex_unlock(&lock);
                (void) pthread_join(thread, NULL);
                thread_started = false;
        }
        d->worker_source = sd_event_source_disable_unref(d->worker_source);
        done_fd = safe_close(done_fd);
}

/* Takes j; the container is held (not read from) until j's finish() has run on the loop. */
void worker_submit(Job *j) {
        j->message = sd_bus_message_ref(j->message);
        j->container->job = j;
        pthread_mutex_lock(&lock);
        j->next = NULL;
        if (queue_tail)
                queue_tail->next = j;
        else
                queue_head = j;
        queue_tail = j;
        pthread_cond_signal(&wake);
        pthread_mutex_unlock(&lock);
}
