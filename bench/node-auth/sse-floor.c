// The floor of the SSE fan-out on this machine: a bare C server that speaks what
// sse-client.c expects (GET /stream: SSE headers and a chunked `connected` frame; GET
// /fire?n=K: K chunked frames to every stream socket, then `ok`), with nothing between the
// request and one send() per socket per frame (THREADS threads split the sockets). No server
// can deliver the frames faster than these sends take, so its fan-out time bounds ours.
//   cc -O2 -pthread -o .native/sse-floor sse-floor.c
//   .native/sse-floor 0 THREADS FRAMELEN   (prints its port; then: .native/sse-client PORT 10000)
// stderr: the time of the send loop per /fire.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

static int *streams; static int nstreams; static int threads = 1;
static char frame[8300]; static size_t framelen;
static int flags = MSG_NOSIGNAL;
typedef struct { int from, to; } part;
static void *writer(void *a) {
  part *p = a;
  for (int i = p->from; i < p->to; i++) send(streams[i], frame, framelen, flags);
  return NULL;
}
static double now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
int main(int argc, char **argv) {
  int port = atoi(argv[1]); threads = atoi(argv[2]); int flen = atoi(argv[3]);
  if (flen < 80) flen = 80;
  if (flen > 4096) flen = 4096;
  if (threads > 16) threads = 16;
  if (getenv("DONTWAIT")) flags |= MSG_DONTWAIT;
  streams = calloc(200000, sizeof(int));
  char body[8192]; int bl = 0;
  bl += sprintf(body + bl, "id: 00000000-0000-4000-8000-000000000001\nevent: bench.event\ndata: ");
  while (bl < flen - 3) body[bl++] = 'x';
  body[bl++] = '\n'; body[bl++] = '\n'; body[bl] = 0;
  framelen = sprintf(frame, "%x\r\n%s\r\n", bl, body);
  int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0); int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)}; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(l, (void *)&a, sizeof a) || listen(l, 4096)) { perror("listen"); return 1; }
  socklen_t al = sizeof a; getsockname(l, (void *)&a, &al); printf("%d\n", ntohs(a.sin_port)); fflush(stdout);
  int ep = epoll_create1(0);
  struct epoll_event e = {.events = EPOLLIN, .data.fd = l}; epoll_ctl(ep, EPOLL_CTL_ADD, l, &e);
  const char *hdr = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: keep-alive\r\nX-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n\r\n";
  const char *conn = "2a\r\nid: 1\nevent: connected\ndata: {\"x\":1234567}\n\n\r\n";
  struct epoll_event evs[256]; char req[4096];
  for (;;) {
    int k = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < k; i++) {
      int fd = evs[i].data.fd;
      if (fd == l) {
        int c;
        while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event ce = {.events = EPOLLIN, .data.fd = c}; epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
        continue;
      }
      ssize_t r = read(fd, req, sizeof req - 1);
      if (r <= 0) { epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL); close(fd); continue; }
      req[r] = 0;
      if (!strncmp(req, "GET /stream", 11)) {
        char out[1024]; int n = sprintf(out, "%s", hdr);
        // chunk of the connected frame
        n += sprintf(out + n, "%s", conn);
        send(fd, out, n, MSG_NOSIGNAL);
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
        streams[nstreams++] = fd;
      } else if (!strncmp(req, "GET /fire", 9)) {
        int n = 1; char *q = strstr(req, "n="); if (q) n = atoi(q + 2);
        double t0 = now_ms();
        for (int j = 0; j < n; j++) {
          if (threads <= 1) { part p = {0, nstreams}; writer(&p); }
          else {
            pthread_t th[16]; part ps[16]; int per = (nstreams + threads - 1) / threads;
            for (int t = 0; t < threads; t++) { ps[t].from = t * per; ps[t].to = (t + 1) * per > nstreams ? nstreams : (t + 1) * per; }
            for (int t = 1; t < threads; t++) pthread_create(&th[t], NULL, writer, &ps[t]);
            writer(&ps[0]);
            for (int t = 1; t < threads; t++) pthread_join(th[t], NULL);
          }
        }
        fprintf(stderr, "floor: %d x %d sends in %.2f ms\n", n, nstreams, now_ms() - t0);
        const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        send(fd, ok, strlen(ok), MSG_NOSIGNAL);
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL); close(fd);
      } else if (!strncmp(req, "GET /mem", 8)) {
        const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        send(fd, ok, strlen(ok), MSG_NOSIGNAL);
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL); close(fd);
      }
    }
  }
}
