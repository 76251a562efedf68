/*
 * The native contender of `npm run bench`: the same workloads as the JS contenders, with glibc's
 * pthreads (default mutex, cond, POSIX sem_t, and an event made of mutex + cond + flag).
 *
 * Built by bench/native.ts with `gcc -O2 -pthread`. Usage: pthread-bench [--quick] [--only id,id,...]
 * Sizes match bench/workloads.ts (one round of a full run, or a quick run).
 * Output, one fact a line, parsed by the harness:
 *   sample <workload> <value>          one measurement (units as in bench/workloads.ts)
 *   extra <workload> <key> <value>     a side figure, one per repetition (per-thread counts, ...)
 *   fail <workload> <reason...>        a correctness check failed (the harness fails the run)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int quick;
static const char *only;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int wanted(const char *id) {
  if (!only) return 1;
  size_t n = strlen(id);
  for (const char *p = only; (p = strstr(p, id)) != NULL; p += n) {
    if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return 1;
  }
  return 0;
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
  if (pthread_create(t, NULL, fn, arg) != 0) {
    perror("pthread_create");
    exit(2);
  }
}

/* A reusable barrier for the harness's own phases (outside every timed region). */
static pthread_barrier_t phase;

/* 1. uncontended lock + unlock ------------------------------------------------------------------- */

static void bench_lock(const char *id, int type) {
  pthread_mutexattr_t attr;
  pthread_mutex_t m;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, type);
  pthread_mutex_init(&m, &attr);
  long iters = quick ? 300000 : 5000000;
  int reps = 3;
  for (int r = -1; r < reps; r++) {
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
      pthread_mutex_lock(&m);
      pthread_mutex_unlock(&m);
    }
    double t1 = now_ns();
    if (r >= 0) printf("sample %s %.3f\n", id, (t1 - t0) / iters);
  }
  pthread_mutex_destroy(&m);
}

/* 2. cond ping-pong ------------------------------------------------------------------------------ */

static struct {
  pthread_mutex_t m;
  pthread_cond_t c;
  int turn;
  int reps, iters;
} pp = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};

static void *pingpong_thread(void *arg) {
  int role = (int)(intptr_t)arg;
  pthread_mutex_lock(&pp.m);
  for (int r = -1; r < pp.reps; r++) {
    double t0 = now_ns();
    for (int i = 0; i < pp.iters; i++) {
      while (pp.turn != role) pthread_cond_wait(&pp.c, &pp.m);
      pp.turn = 1 - role;
      pthread_cond_signal(&pp.c);
    }
    double t1 = now_ns();
    if (role == 0 && r >= 0) printf("sample pingpong %.3f\n", (t1 - t0) / (2.0 * pp.iters));
  }
  pthread_mutex_unlock(&pp.m);
  return NULL;
}

static void bench_pingpong(void) {
  pthread_t t[2];
  pp.turn = 0;
  pp.reps = quick ? 3 : 2;
  pp.iters = quick ? 300 : 4000;
  for (int i = 0; i < 2; i++) start_thread(&t[i], pingpong_thread, (void *)(intptr_t)i);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
}

/* 3. bounded buffer ------------------------------------------------------------------------------ */

#define CAP 64
static struct {
  pthread_mutex_t m;
  pthread_cond_t not_full, not_empty;
  int ring[CAP];
  int head, tail, count;
  long taken, target;
  int producers, consumers, items, reps;
  unsigned char *seen;
  double *starts, *ends;
} bb = {.m = PTHREAD_MUTEX_INITIALIZER, .not_full = PTHREAD_COND_INITIALIZER, .not_empty = PTHREAD_COND_INITIALIZER};

static void *bb_thread(void *arg) {
  int index = (int)(intptr_t)arg;
  int nthreads = bb.producers + bb.consumers;
  for (int r = 0; r < bb.reps; r++) {
    pthread_barrier_wait(&phase);
    long base = (long)r * bb.items;
    double t0 = now_ns();
    if (index < bb.producers) {
      for (int k = index; k < bb.items; k += bb.producers) {
        pthread_mutex_lock(&bb.m);
        while (bb.count == CAP) pthread_cond_wait(&bb.not_full, &bb.m);
        bb.ring[bb.tail] = (int)(base + k);
        bb.tail = (bb.tail + 1) % CAP;
        bb.count++;
        pthread_cond_signal(&bb.not_empty);
        pthread_mutex_unlock(&bb.m);
      }
    } else {
      long target = base + bb.items;
      for (;;) {
        pthread_mutex_lock(&bb.m);
        while (bb.count == 0 && bb.taken < target) pthread_cond_wait(&bb.not_empty, &bb.m);
        if (bb.count == 0) {
          pthread_mutex_unlock(&bb.m);
          break;
        }
        int item = bb.ring[bb.head];
        bb.head = (bb.head + 1) % CAP;
        bb.count--;
        if (++bb.taken == target) pthread_cond_broadcast(&bb.not_empty);
        pthread_cond_signal(&bb.not_full);
        pthread_mutex_unlock(&bb.m);
        __atomic_fetch_add(&bb.seen[item], 1, __ATOMIC_RELAXED);
      }
    }
    double t1 = now_ns();
    bb.starts[r * nthreads + index] = t0;
    bb.ends[r * nthreads + index] = t1;
  }
  return NULL;
}

static void bench_bb(const char *id, int producers, int consumers) {
  int n = producers + consumers;
  bb.producers = producers;
  bb.consumers = consumers;
  bb.items = quick ? 20000 : 200000;
  bb.reps = 2 + 1;
  bb.head = bb.tail = bb.count = 0;
  bb.taken = 0;
  bb.seen = calloc((size_t)bb.items * bb.reps, 1);
  bb.starts = calloc((size_t)bb.reps * n, sizeof(double));
  bb.ends = calloc((size_t)bb.reps * n, sizeof(double));
  pthread_t t[8];
  pthread_barrier_init(&phase, NULL, (unsigned)n);
  for (int i = 0; i < n; i++) start_thread(&t[i], bb_thread, (void *)(intptr_t)i);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&phase);
  long bad = 0;
  for (long i = 0; i < (long)bb.items * bb.reps; i++) bad += bb.seen[i] != 1;
  if (bad) printf("fail %s %ld of %ld items were not consumed exactly once\n", id, bad, (long)bb.items * bb.reps);
  for (int r = 1; r < bb.reps; r++) {
    double lo = bb.starts[r * n], hi = bb.ends[r * n];
    for (int i = 1; i < n; i++) {
      if (bb.starts[r * n + i] < lo) lo = bb.starts[r * n + i];
      if (bb.ends[r * n + i] > hi) hi = bb.ends[r * n + i];
    }
    printf("sample %s %.1f\n", id, bb.items / ((hi - lo) / 1e9));
  }
  free(bb.seen);
  free(bb.starts);
  free(bb.ends);
}

/* 4. broadcast ----------------------------------------------------------------------------------- */

#define WAITERS 8
static struct {
  pthread_mutex_t m;
  pthread_cond_t c, ack_cond;
  int round, acks, ready, rounds;
  double last_ack;
} bc = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER, .ack_cond = PTHREAD_COND_INITIALIZER};

static void *bc_waiter(void *arg) {
  (void)arg;
  pthread_mutex_lock(&bc.m);
  int seen = bc.round;
  if (++bc.ready == WAITERS) pthread_cond_signal(&bc.ack_cond);
  for (int r = 0; r < bc.rounds; r++) {
    while (bc.round == seen) pthread_cond_wait(&bc.c, &bc.m);
    seen = bc.round;
    if (++bc.acks == WAITERS) {
      bc.last_ack = now_ns();
      pthread_cond_signal(&bc.ack_cond);
    }
  }
  pthread_mutex_unlock(&bc.m);
  return NULL;
}

static void bench_broadcast(void) {
  int warm = quick ? 3 : 20;
  bc.rounds = warm + (quick ? 20 : 100);
  bc.round = bc.acks = bc.ready = 0;
  pthread_t t[WAITERS];
  for (int i = 0; i < WAITERS; i++) start_thread(&t[i], bc_waiter, NULL);
  pthread_mutex_lock(&bc.m);
  while (bc.ready < WAITERS) pthread_cond_wait(&bc.ack_cond, &bc.m);
  for (int r = 0; r < bc.rounds; r++) {
    bc.acks = 0;
    bc.round++;
    double t0 = now_ns();
    pthread_cond_broadcast(&bc.c);
    while (bc.acks < WAITERS) pthread_cond_wait(&bc.ack_cond, &bc.m);
    if (r >= warm) printf("sample broadcast %.1f\n", (bc.last_ack - t0) / 1e3);
  }
  pthread_mutex_unlock(&bc.m);
  for (int i = 0; i < WAITERS; i++) pthread_join(t[i], NULL);
}

/* 5. contended mutex ----------------------------------------------------------------------------- */

static struct {
  pthread_mutex_t m;
  long counter, atomic_counter;
  int stop, threads, reps;
  double ms;
  long counts[8];
  double starts[8], ends[8];
} ct = {.m = PTHREAD_MUTEX_INITIALIZER};

static void *contended_thread(void *arg) {
  int index = (int)(intptr_t)arg;
  long local = 0;
  pthread_barrier_wait(&phase);
  double t0 = now_ns();
  for (;;) {
    for (int k = 0; k < 64; k++) {
      pthread_mutex_lock(&ct.m);
      ct.counter++;
      pthread_mutex_unlock(&ct.m);
      __atomic_fetch_add(&ct.atomic_counter, 1, __ATOMIC_SEQ_CST);
    }
    local += 64;
    if (index == 0 && now_ns() - t0 >= ct.ms * 1e6) __atomic_store_n(&ct.stop, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ct.stop, __ATOMIC_SEQ_CST)) break;
  }
  ct.ends[index] = now_ns();
  ct.starts[index] = t0;
  ct.counts[index] = local;
  return NULL;
}

static void bench_contended(const char *id, int threads) {
  int reps = 2 + 1;
  ct.ms = quick ? 60 : 250;
  for (int r = 0; r < reps; r++) {
    ct.counter = ct.atomic_counter = 0;
    ct.stop = 0;
    pthread_t t[8];
    pthread_barrier_init(&phase, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) start_thread(&t[i], contended_thread, (void *)(intptr_t)i);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&phase);
    if (ct.counter != ct.atomic_counter) {
      printf("fail %s lost updates: locked counter %ld != atomic counter %ld\n", id, ct.counter,
             ct.atomic_counter);
    }
    double lo = ct.starts[0], hi = ct.ends[0];
    long mn = ct.counts[0], mx = ct.counts[0], total = 0;
    for (int i = 0; i < threads; i++) {
      if (ct.starts[i] < lo) lo = ct.starts[i];
      if (ct.ends[i] > hi) hi = ct.ends[i];
      if (ct.counts[i] < mn) mn = ct.counts[i];
      if (ct.counts[i] > mx) mx = ct.counts[i];
      total += ct.counts[i];
    }
    if (r == 0) continue;
    printf("sample %s %.1f\n", id, total / ((hi - lo) / 1e9));
    printf("extra %s minPerThread %ld\n", id, mn);
    printf("extra %s maxPerThread %ld\n", id, mx);
  }
}

/* 6. vCPU start ---------------------------------------------------------------------------------- */

static struct {
  pthread_mutex_t bql;
  pthread_cond_t cpu_cond, halt_cond;
  int created[16];
  int quit;
} vc = {.bql = PTHREAD_MUTEX_INITIALIZER, .cpu_cond = PTHREAD_COND_INITIALIZER, .halt_cond = PTHREAD_COND_INITIALIZER};

static void *vcpu_thread(void *arg) {
  int index = (int)(intptr_t)arg;
  pthread_mutex_lock(&vc.bql);
  vc.created[index] = 1;
  pthread_cond_signal(&vc.cpu_cond);
  while (!vc.quit) pthread_cond_wait(&vc.halt_cond, &vc.bql);
  pthread_mutex_unlock(&vc.bql);
  return NULL;
}

static void bench_vcpu(void) {
  int runs = 1, n = 4;
  for (int r = 0; r < runs; r++) {
    pthread_t t[16];
    memset(vc.created, 0, sizeof vc.created);
    vc.quit = 0;
    pthread_mutex_lock(&vc.bql);
    for (int i = 0; i < n; i++) {
      double t0 = now_ns();
      start_thread(&t[i], vcpu_thread, (void *)(intptr_t)i);
      while (!vc.created[i]) pthread_cond_wait(&vc.cpu_cond, &vc.bql);
      printf("sample vcpu %.4f\n", (now_ns() - t0) / 1e6);
    }
    vc.quit = 1;
    pthread_cond_broadcast(&vc.halt_cond);
    pthread_mutex_unlock(&vc.bql);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  }
}

/* 7. semaphore and event hand-offs --------------------------------------------------------------- */

typedef struct {
  pthread_mutex_t m;
  pthread_cond_t c;
  int flag;
} event_t;

static void event_set(event_t *e) {
  pthread_mutex_lock(&e->m);
  e->flag = 1;
  pthread_cond_broadcast(&e->c);
  pthread_mutex_unlock(&e->m);
}

static void event_reset(event_t *e) {
  pthread_mutex_lock(&e->m);
  e->flag = 0;
  pthread_mutex_unlock(&e->m);
}

static void event_wait(event_t *e) {
  pthread_mutex_lock(&e->m);
  while (!e->flag) pthread_cond_wait(&e->c, &e->m);
  pthread_mutex_unlock(&e->m);
}

static struct {
  sem_t a, b;
  event_t ea, eb;
  int reps, iters;
} ho = {.ea = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0},
        .eb = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0}};

static void *sem_thread(void *arg) {
  int role = (int)(intptr_t)arg;
  for (int r = -1; r < ho.reps; r++) {
    double t0 = now_ns();
    for (int i = 0; i < ho.iters; i++) {
      if (role == 0) {
        sem_post(&ho.a);
        sem_wait(&ho.b);
      } else {
        sem_wait(&ho.a);
        sem_post(&ho.b);
      }
    }
    double t1 = now_ns();
    if (role == 0 && r >= 0) printf("sample sem %.3f\n", (t1 - t0) / (2.0 * ho.iters));
  }
  return NULL;
}

static void *event_thread(void *arg) {
  int role = (int)(intptr_t)arg;
  for (int r = -1; r < ho.reps; r++) {
    double t0 = now_ns();
    for (int i = 0; i < ho.iters; i++) {
      if (role == 0) {
        event_set(&ho.ea);
        event_wait(&ho.eb);
        event_reset(&ho.eb);
      } else {
        event_wait(&ho.ea);
        event_reset(&ho.ea);
        event_set(&ho.eb);
      }
    }
    double t1 = now_ns();
    if (role == 0 && r >= 0) printf("sample event %.3f\n", (t1 - t0) / (2.0 * ho.iters));
  }
  return NULL;
}

static void bench_handoff(void *(*fn)(void *)) {
  ho.reps = quick ? 3 : 2;
  ho.iters = quick ? 300 : 4000;
  sem_init(&ho.a, 0, 0);
  sem_init(&ho.b, 0, 0);
  pthread_t t[2];
  for (int i = 0; i < 2; i++) start_thread(&t[i], fn, (void *)(intptr_t)i);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  sem_destroy(&ho.a);
  sem_destroy(&ho.b);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      quick = 1;
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      fprintf(stderr, "usage: %s [--quick] [--only id,id,...]\n", argv[0]);
      return 2;
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (wanted("lock")) {
    bench_lock("lock", PTHREAD_MUTEX_DEFAULT);
    bench_lock("lock-errorcheck", PTHREAD_MUTEX_ERRORCHECK);
  }
  if (wanted("pingpong")) bench_pingpong();
  if (wanted("bb-1x1")) bench_bb("bb-1x1", 1, 1);
  if (wanted("bb-2x2")) bench_bb("bb-2x2", 2, 2);
  if (wanted("broadcast")) bench_broadcast();
  if (wanted("contended-2")) bench_contended("contended-2", 2);
  if (wanted("contended-4")) bench_contended("contended-4", 4);
  if (wanted("vcpu")) bench_vcpu();
  if (wanted("sem")) bench_handoff(sem_thread);
  if (wanted("event")) bench_handoff(event_thread);
  return 0;
}
