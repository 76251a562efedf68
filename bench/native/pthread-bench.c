/*
 * The native contender of `npm run bench`: the same workloads as the JS contenders, with glibc's
 * pthreads (default mutex, cond, POSIX sem_t, and an event made of mutex + cond + flag).
 *
 * Built by bench/native.ts with `gcc -O2 -pthread`. Usage: pthread-bench [--quick] [--only id,id,...]
 * Sizes match bench/workloads.ts (one round of a full run, or a quick run).
 * Output, one fact a line, parsed by the harness:
 *   metric <workload> <key> <value>    one measurement of one of the workload's metrics (keys and units as
 *                                      in bench/workloads.ts)
 *   control <value>                    the control loop, run once at start (ns per CAS + exchange pair)
 *   fail <workload> <reason...>        a correctness check failed (the harness fails the run)
 *
 * Multi-thread workloads are timed as the JS ones are (bench/roles.ts, timedReps): all threads meet at a
 * barrier, thread 0 reads the wall clock and the process CPU clock (every thread's time), releases the
 * others through a second barrier, and reads both clocks again after a third barrier that every thread
 * reaches when its part is done.
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

static double clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

/* CPU time of the whole process (all its threads), as Node's process.cpuUsage() reports it for JS. */
static double cpu_ns(void) { return clock_ns(CLOCK_PROCESS_CPUTIME_ID); }

static void metric(const char *id, const char *key, double value) { printf("metric %s %s %.4f\n", id, key, value); }

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

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) {
    perror("calloc");
    exit(2);
  }
  return p;
}

/* Timed repetitions (see the top of the file) ---------------------------------------------------- */

#define MAX_REPS 8
static struct {
  pthread_barrier_t barrier;
  double t0, c0;
  double wall[MAX_REPS], cpu[MAX_REPS];
} timed;

static void timed_init(int threads) { pthread_barrier_init(&timed.barrier, NULL, (unsigned)threads); }
static void timed_destroy(void) { pthread_barrier_destroy(&timed.barrier); }

/* Repetition r starts (r < 0: a warm-up, not recorded). */
static void timed_begin(int index) {
  if (index == 0) {
    timed.t0 = now_ns();
    timed.c0 = cpu_ns();
  }
  pthread_barrier_wait(&timed.barrier);
}

static void timed_end(int index, int r) {
  pthread_barrier_wait(&timed.barrier);
  if (index == 0 && r >= 0) {
    timed.wall[r] = now_ns() - timed.t0;
    timed.cpu[r] = cpu_ns() - timed.c0;
  }
}

/* 0. control: the floor of a lock + unlock pair, a CAS and an exchange, on one thread ----------------- */

static void control(void) {
  static int word;
  long iters = quick ? 200000 : 1000000;
  for (int r = -1; r < 2; r++) {
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
      int expected = 0;
      __atomic_compare_exchange_n(&word, &expected, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
      __atomic_exchange_n(&word, 0, __ATOMIC_SEQ_CST);
    }
    if (r >= 0) printf("control %.4f\n", (now_ns() - t0) / iters);
  }
}

/* 1. uncontended lock + unlock ------------------------------------------------------------------- */

static void bench_lock(const char *key, int type) {
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
    if (r >= 0) metric("lock", key, (t1 - t0) / iters);
  }
  pthread_mutex_destroy(&m);
}

/* 2. cond ping-pong, P pairs: each pair alternates through its own mutex and cond ---------------------- */

typedef struct {
  pthread_mutex_t m;
  pthread_cond_t c;
  int turn;
} __attribute__((aligned(64))) pair_t;

static struct {
  pair_t *pairs;
  int reps, iters;
} pp;

static void *pingpong_thread(void *arg) {
  int index = (int)(intptr_t)arg;
  pair_t *p = &pp.pairs[index >> 1];
  int role = index & 1;
  pthread_barrier_wait(&timed.barrier);
  for (int r = -1; r < pp.reps; r++) {
    timed_begin(index);
    pthread_mutex_lock(&p->m);
    for (int i = 0; i < pp.iters; i++) {
      while (p->turn != role) pthread_cond_wait(&p->c, &p->m);
      p->turn = 1 - role;
      pthread_cond_signal(&p->c);
    }
    pthread_mutex_unlock(&p->m);
    timed_end(index, r);
  }
  return NULL;
}

static void bench_pingpong(const char *id, int pairs, int iters) {
  int n = 2 * pairs;
  pp.pairs = aligned_alloc(64, sizeof(pair_t) * (size_t)pairs);
  if (!pp.pairs) exit(2);
  for (int i = 0; i < pairs; i++) {
    pthread_mutex_init(&pp.pairs[i].m, NULL);
    pthread_cond_init(&pp.pairs[i].c, NULL);
    pp.pairs[i].turn = 0;
  }
  pp.reps = quick ? 2 : 3;
  pp.iters = iters;
  pthread_t *t = xcalloc((size_t)n, sizeof(pthread_t));
  timed_init(n);
  for (int i = 0; i < n; i++) start_thread(&t[i], pingpong_thread, (void *)(intptr_t)i);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  timed_destroy();
  double handoffs = 2.0 * iters * pairs;
  for (int r = 0; r < pp.reps; r++) {
    metric(id, "wall", timed.wall[r] / handoffs / 1e3);
    metric(id, "cpu", timed.cpu[r] / handoffs / 1e3);
  }
  free(t);
  free(pp.pairs);
}

/* 3. bounded buffer ------------------------------------------------------------------------------ */

#define CAP 64
static struct {
  pthread_mutex_t m;
  pthread_cond_t not_full, not_empty;
  int ring[CAP];
  int head, tail, count;
  long taken;
  int producers, consumers, items, reps;
  unsigned char *seen;
} bb = {.m = PTHREAD_MUTEX_INITIALIZER, .not_full = PTHREAD_COND_INITIALIZER, .not_empty = PTHREAD_COND_INITIALIZER};

static void *bb_thread(void *arg) {
  int index = (int)(intptr_t)arg;
  pthread_barrier_wait(&timed.barrier);
  /* Repetition 0 warms up; the items of repetition k are k * items ... (k + 1) * items - 1. */
  for (int k = 0; k < bb.reps; k++) {
    timed_begin(index);
    long base = (long)k * bb.items;
    if (index < bb.producers) {
      for (int i = index; i < bb.items; i += bb.producers) {
        pthread_mutex_lock(&bb.m);
        while (bb.count == CAP) pthread_cond_wait(&bb.not_full, &bb.m);
        bb.ring[bb.tail] = (int)(base + i);
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
    timed_end(index, k - 1);
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
  bb.seen = xcalloc((size_t)bb.items * bb.reps, 1);
  pthread_t t[8];
  timed_init(n);
  for (int i = 0; i < n; i++) start_thread(&t[i], bb_thread, (void *)(intptr_t)i);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  timed_destroy();
  long bad = 0;
  for (long i = 0; i < (long)bb.items * bb.reps; i++) bad += bb.seen[i] != 1;
  if (bad) printf("fail %s %ld of %ld items were not consumed exactly once\n", id, bad, (long)bb.items * bb.reps);
  for (int r = 0; r < bb.reps - 1; r++) {
    metric(id, "rate", bb.items / (timed.wall[r] / 1e9));
    metric(id, "cpu", timed.cpu[r] / bb.items);
  }
  free(bb.seen);
}

/* 4. broadcast ----------------------------------------------------------------------------------- */

#define MAX_WAITERS 32
/* The timed rounds are read in this many blocks for the CPU time per round. */
#define CPU_BLOCKS 5
static struct {
  pthread_mutex_t m;
  pthread_cond_t c, ack_cond;
  int waiters, round, acks, ready, rounds;
  double last_ack;
} bc = {.m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER, .ack_cond = PTHREAD_COND_INITIALIZER};

static void *bc_waiter(void *arg) {
  (void)arg;
  pthread_mutex_lock(&bc.m);
  int seen = bc.round;
  if (++bc.ready == bc.waiters) pthread_cond_signal(&bc.ack_cond);
  for (int r = 0; r < bc.rounds; r++) {
    while (bc.round == seen) pthread_cond_wait(&bc.c, &bc.m);
    seen = bc.round;
    if (++bc.acks == bc.waiters) {
      bc.last_ack = now_ns();
      pthread_cond_signal(&bc.ack_cond);
    }
  }
  pthread_mutex_unlock(&bc.m);
  return NULL;
}

static void bench_broadcast(const char *id, int waiters) {
  int warm = quick ? 3 : 20;
  int timed_rounds = quick ? 20 : 100;
  int block = timed_rounds / CPU_BLOCKS;
  bc.waiters = waiters;
  bc.rounds = warm + timed_rounds;
  bc.round = bc.acks = bc.ready = 0;
  pthread_t t[MAX_WAITERS];
  for (int i = 0; i < waiters; i++) start_thread(&t[i], bc_waiter, NULL);
  pthread_mutex_lock(&bc.m);
  while (bc.ready < waiters) pthread_cond_wait(&bc.ack_cond, &bc.m);
  double c0 = 0;
  for (int r = 0; r < bc.rounds; r++) {
    if (r >= warm && (r - warm) % block == 0) c0 = cpu_ns();
    bc.acks = 0;
    bc.round++;
    double t0 = now_ns();
    pthread_cond_broadcast(&bc.c);
    while (bc.acks < waiters) pthread_cond_wait(&bc.ack_cond, &bc.m);
    if (r >= warm) metric(id, "latency", (bc.last_ack - t0) / 1e3);
    if (r >= warm && (r - warm) % block == block - 1) metric(id, "cpu", (cpu_ns() - c0) / block / 1e3);
  }
  pthread_mutex_unlock(&bc.m);
  for (int i = 0; i < waiters; i++) pthread_join(t[i], NULL);
}

/* 5. contended mutex ----------------------------------------------------------------------------- */

#define MAX_CONTENDERS 16
static struct {
  pthread_mutex_t m;
  long counter, atomic_counter;
  int stop, threads, reps;
  double ms;
  long counts[MAX_CONTENDERS];
  double starts[MAX_CONTENDERS], ends[MAX_CONTENDERS];
} ct = {.m = PTHREAD_MUTEX_INITIALIZER};

static void *contended_thread(void *arg) {
  int index = (int)(intptr_t)arg;
  long local = 0;
  pthread_barrier_wait(&timed.barrier);
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
    pthread_t t[MAX_CONTENDERS];
    timed_init(threads);
    for (int i = 0; i < threads; i++) start_thread(&t[i], contended_thread, (void *)(intptr_t)i);
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    timed_destroy();
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
    double seconds = (hi - lo) / 1e9;
    metric(id, "rate", total / seconds);
    if (threads > 1) {
      metric(id, "slowest", mn / seconds);
      metric(id, "fastest", mx / seconds);
    }
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
  int n = quick ? 2 : 4;
  pthread_t t[16];
  memset(vc.created, 0, sizeof vc.created);
  vc.quit = 0;
  pthread_mutex_lock(&vc.bql);
  for (int i = 0; i < n; i++) {
    double t0 = now_ns(), c0 = cpu_ns();
    start_thread(&t[i], vcpu_thread, (void *)(intptr_t)i);
    while (!vc.created[i]) pthread_cond_wait(&vc.cpu_cond, &vc.bql);
    metric("vcpu", "wall", (now_ns() - t0) / 1e6);
    metric("vcpu", "cpu", (cpu_ns() - c0) / 1e6);
  }
  vc.quit = 1;
  pthread_cond_broadcast(&vc.halt_cond);
  pthread_mutex_unlock(&vc.bql);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
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
  pthread_barrier_wait(&timed.barrier);
  for (int r = -1; r < ho.reps; r++) {
    timed_begin(role);
    for (int i = 0; i < ho.iters; i++) {
      if (role == 0) {
        sem_post(&ho.a);
        sem_wait(&ho.b);
      } else {
        sem_wait(&ho.a);
        sem_post(&ho.b);
      }
    }
    timed_end(role, r);
  }
  return NULL;
}

static void *event_thread(void *arg) {
  int role = (int)(intptr_t)arg;
  pthread_barrier_wait(&timed.barrier);
  for (int r = -1; r < ho.reps; r++) {
    timed_begin(role);
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
    timed_end(role, r);
  }
  return NULL;
}

static void bench_handoff(const char *id, void *(*fn)(void *)) {
  ho.reps = quick ? 2 : 3;
  ho.iters = quick ? 300 : 4000;
  sem_init(&ho.a, 0, 0);
  sem_init(&ho.b, 0, 0);
  pthread_t t[2];
  timed_init(2);
  for (int i = 0; i < 2; i++) start_thread(&t[i], fn, (void *)(intptr_t)i);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  timed_destroy();
  for (int r = 0; r < ho.reps; r++) {
    metric(id, "wall", timed.wall[r] / (2.0 * ho.iters) / 1e3);
    metric(id, "cpu", timed.cpu[r] / (2.0 * ho.iters) / 1e3);
  }
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
  control();
  if (wanted("lock")) {
    bench_lock("time", PTHREAD_MUTEX_DEFAULT);
    bench_lock("errorcheck", PTHREAD_MUTEX_ERRORCHECK);
  }
  /* Round trips per pair and repetition, as in bench/workloads.ts (pingpongParams). */
  if (wanted("pingpong")) bench_pingpong("pingpong", 1, quick ? 300 : 4000);
  if (wanted("pingpong-4")) bench_pingpong("pingpong-4", 4, quick ? 200 : 2000);
  if (wanted("pingpong-8")) bench_pingpong("pingpong-8", 8, quick ? 200 : 2000);
  if (wanted("pingpong-16")) bench_pingpong("pingpong-16", 16, quick ? 200 : 2000);
  if (wanted("bb-1x1")) bench_bb("bb-1x1", 1, 1);
  if (wanted("bb-2x2")) bench_bb("bb-2x2", 2, 2);
  if (wanted("broadcast")) bench_broadcast("broadcast", 8);
  if (wanted("broadcast-32")) bench_broadcast("broadcast-32", 32);
  if (wanted("contended-1")) bench_contended("contended-1", 1);
  if (wanted("contended-2")) bench_contended("contended-2", 2);
  if (wanted("contended-4")) bench_contended("contended-4", 4);
  if (wanted("contended-16")) bench_contended("contended-16", 16);
  if (wanted("vcpu")) bench_vcpu();
  if (wanted("sem")) bench_handoff("sem", sem_thread);
  if (wanted("event")) bench_handoff("event", event_thread);
  return 0;
}
