// The client side of the SSE fan-out benchmark: N loopback SSE connections read with one epoll
// loop in C, so the time measured is the server's (a Node client spends ~20 us of JavaScript per
// socket read, which hid the server's write path behind the client's own work).
//   sse-client PORT N
// Connects N clients (GET /stream), waits until every one has its `connected` frame, prints
// "ready". Then reads commands on stdin:
//   fire K   -> GET /fire?n=K; prints the ms until every open client has K more frames
//   keep M   -> closes all but the first M clients; prints "ok"
//   quit
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char MARK[] = "event: bench.event";
static const char CONNECTED[] = "event: connected";
#define MARK_LEN (sizeof(MARK) - 1)

typedef struct {
  int fd;
  int connected;
  int open;
  long long marks;
  char tail[64];
  size_t tail_len;
} client;

static client *clients;
static int n_clients, port, ep;
static long long total_marks;
static int n_connected;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int dial(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) { perror("socket"); exit(1); }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) { perror("connect"); exit(1); }
  return fd;
}

static void send_all(int fd, const char *s) {
  // Blocking-ish send of a short request on a fresh socket.
  size_t n = strlen(s), at = 0;
  while (at < n) {
    ssize_t w = write(fd, s + at, n - at);
    if (w > 0) at += (size_t)w;
    else if (w < 0 && (errno == EAGAIN || errno == ENOTCONN || errno == EINPROGRESS)) {
      struct timespec t = {0, 100000};
      nanosleep(&t, NULL);
    } else { perror("write"); exit(1); }
  }
}

static char buf[1 << 20];

static void on_readable(client *c) {
  for (;;) {
    size_t cap = sizeof buf - c->tail_len;
    ssize_t r = read(c->fd, buf + c->tail_len, cap);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (r <= 0) {
      if (c->open) { c->open = 0; close(c->fd); }
      return;
    }
    memcpy(buf, c->tail, c->tail_len);
    size_t len = c->tail_len + (size_t)r;
    if (!c->connected && memmem(buf, len, CONNECTED, sizeof(CONNECTED) - 1)) {
      c->connected = 1;
      n_connected++;
    }
    const char *p = buf, *end = buf + len;
    for (;;) {
      const char *k = memmem(p, (size_t)(end - p), MARK, MARK_LEN);
      if (!k) break;
      c->marks++;
      total_marks++;
      p = k + MARK_LEN;
    }
    size_t keep = MARK_LEN - 1;
    size_t from = (size_t)(p - buf);
    if (len - from > keep) from = len - keep;
    c->tail_len = len - from;
    memcpy(c->tail, buf + from, c->tail_len);
    // A short read took everything there was: no second read just to see EAGAIN (epoll is
    // level-triggered and reports the socket again if more arrived), which halves the
    // client's syscalls per frame.
    if ((size_t)r < cap) return;
  }
}

static void loop_until(long long target_marks, int target_connected) {
  struct epoll_event evs[1024];
  while (total_marks < target_marks || n_connected < target_connected) {
    int k = epoll_wait(ep, evs, 1024, 60000);
    if (k == 0) { fprintf(stderr, "sse-client: timed out (%lld/%lld marks, %d/%d connected)\n", total_marks, target_marks, n_connected, target_connected); exit(2); }
    for (int i = 0; i < k; i++) {
      int idx = (int)evs[i].data.u64;
      if (idx >= 0 && idx < n_clients && clients[idx].open) on_readable(&clients[idx]);
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: sse-client PORT N\n"); return 1; }
  port = atoi(argv[1]);
  n_clients = atoi(argv[2]);
  clients = calloc((size_t)n_clients, sizeof *clients);
  ep = epoll_create1(0);
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int at = 0; at < n_clients; at += 500) {
    int end = at + 500 < n_clients ? at + 500 : n_clients;
    for (int i = at; i < end; i++) {
      clients[i].fd = dial();
      clients[i].open = 1;
    }
    for (int i = at; i < end; i++) {
      send_all(clients[i].fd, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
      struct epoll_event e = {.events = EPOLLIN, .data.u64 = (unsigned long long)i};
      epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &e);
    }
    loop_until(0, end);
  }
  printf("ready\n");
  char line[128];
  while (fgets(line, sizeof line, stdin)) {
    int k;
    if (sscanf(line, "fire %d", &k) == 1) {
      int open = 0;
      for (int i = 0; i < n_clients; i++) open += clients[i].open;
      long long target = total_marks + (long long)open * k;
      double t0 = now_ms();
      int f = dial();
      char req[128];
      snprintf(req, sizeof req, "GET /fire?n=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", k);
      send_all(f, req);
      loop_until(target, 0);
      printf("%.3f\n", now_ms() - t0);
      close(f);
    } else if (sscanf(line, "keep %d", &k) == 1) {
      for (int i = k; i < n_clients; i++)
        if (clients[i].open) { clients[i].open = 0; close(clients[i].fd); }
      printf("ok\n");
    } else if (strncmp(line, "quit", 4) == 0) {
      break;
    }
  }
  return 0;
}
