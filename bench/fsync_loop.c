/*
 * bench/fsync_loop.c - the baseline for the 4 KiB PUT benchmark.
 *
 * What a durable object PUT has to do at the very least, without HTTP, auth,
 * metadata or a listing index: N writer threads each loop
 *
 *     open(tmp, O_CREAT|O_EXCL|O_WRONLY) ; write(4 KiB) ; fsync(file) ;
 *     close ; rename(tmp, final) ; fsync(directory)
 *
 * for DURATION seconds in DIR (on the same filesystem as Stowage's data),
 * each thread into its own subdirectory of DIR (no contention on one
 * directory's lock; Stowage spreads objects over hashed directories too).
 * This is the shape DESIGN.md requires of an object PUT (temp file, fsync,
 * rename, fsync the directory). N is set to the wrk connection count, so both
 * sides are offered the same concurrency.
 *
 * Output, one line:  ops=<n> seconds=<s> ops_per_sec=<r> p50_ms=<x> p99_ms=<y>
 *
 * Usage: fsync_loop DIR THREADS SECONDS [SIZE]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *base;
static double duration;
static size_t size = 4096;

typedef struct {
    int id;
    long ops;
    double *lat; /* milliseconds */
    size_t nlat, cap;
} worker;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path)
{
    fprintf(stderr, "fsync_loop: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void *run(void *arg)
{
    worker *w = arg;
    char dir[4096], tmp[4200], fin[4200];
    snprintf(dir, sizeof dir, "%s/w%d", base, w->id);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        die("mkdir", dir);
    char *buf = malloc(size);
    for (size_t i = 0; i < size; i++)
        buf[i] = (char)('a' + (i * 7 + (size_t)w->id) % 26);
    double start = now(), end = start + duration;
    for (long i = 0;; i++) {
        double t0 = now();
        if (t0 >= end)
            break;
        snprintf(tmp, sizeof tmp, "%s/.tmp-%ld", dir, i);
        snprintf(fin, sizeof fin, "%s/obj-%ld", dir, i);
        int fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0)
            die("open", tmp);
        if (write(fd, buf, size) != (ssize_t)size)
            die("write", tmp);
        if (fsync(fd) != 0)
            die("fsync", tmp);
        close(fd);
        if (rename(tmp, fin) != 0)
            die("rename", tmp);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0)
            die("fsync dir", dir);
        close(dfd);
        double ms = (now() - t0) * 1000.0;
        if (w->nlat == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
        }
        w->lat[w->nlat++] = ms;
        w->ops++;
    }
    free(buf);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s DIR THREADS SECONDS [SIZE]\n", argv[0]);
        return 2;
    }
    base = argv[1];
    int n = atoi(argv[2]);
    duration = atof(argv[3]);
    if (argc > 4)
        size = (size_t)atol(argv[4]);
    if (n < 1 || duration <= 0)
        return 2;
    pthread_t *th = calloc((size_t)n, sizeof *th);
    worker *ws = calloc((size_t)n, sizeof *ws);
    double t0 = now();
    for (int i = 0; i < n; i++) {
        ws[i].id = i;
        pthread_create(&th[i], NULL, run, &ws[i]);
    }
    long ops = 0;
    size_t nlat = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        ops += ws[i].ops;
        nlat += ws[i].nlat;
    }
    double secs = now() - t0;
    double *all = malloc((nlat ? nlat : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof *all);
        k += ws[i].nlat;
        free(ws[i].lat);
    }
    qsort(all, nlat, sizeof *all, cmp);
    double p50 = nlat ? all[nlat / 2] : 0, p99 = nlat ? all[(size_t)((double)nlat * 0.99)] : 0;
    printf("ops=%ld seconds=%.2f ops_per_sec=%.1f p50_ms=%.2f p99_ms=%.2f\n", ops, secs,
           (double)ops / secs, p50, p99);
    free(all);
    free(ws);
    free(th);
    return 0;
}
