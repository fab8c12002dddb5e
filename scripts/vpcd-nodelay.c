/*
 * vpcd-nodelay.so: preloaded into pcscd (LD_PRELOAD) by scripts/setup-pcsc.sh, for vsmartcard's vpcd
 * driver 0.8 as Debian 12 and Ubuntu ship it.
 *
 * 1. Latency. vpcd 0.8 sends each message to the virtual card as two send() calls, the 2-byte length and
 *    then the payload. Nagle's algorithm holds the payload back until the length is acknowledged, and the
 *    receiver delays that ACK (about 40 ms on Linux): every APDU costs ~44 ms instead of ~0.2 ms. Setting
 *    TCP_NODELAY on vpcd's TCP sockets sends the payload at once. (vpcd 0.9 fixed this upstream.)
 * 2. Exposure. vpcd 0.8 listens on 0.0.0.0, so anyone who can reach the host can become the card in the
 *    reader. Binds to the wildcard address are narrowed to loopback, unless TAPWALLET_VPCD_PUBLIC=1.
 *
 * pcscd opens no other TCP sockets: its own socket is a Unix one, left alone (the family is checked).
 * Tapwallet's own code; build: cc -shared -fPIC -O2 -o vpcd-nodelay.so vpcd-nodelay.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_bind)(int, const struct sockaddr *, socklen_t);

__attribute__((constructor)) static void resolve(void) {
  real_accept = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
  real_accept4 = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
  real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
  real_bind = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
}

/* TCP_NODELAY on an IPv4/IPv6 stream socket; anything else is left as it is. */
static void set_nodelay(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int type = 0;
  socklen_t tlen = sizeof type;
  if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM) return;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int accept(int fd, struct sockaddr *addr, socklen_t *addrlen) {
  int c = real_accept(fd, addr, addrlen);
  set_nodelay(c);
  return c;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags) {
  int c = real_accept4(fd, addr, addrlen, flags);
  set_nodelay(c);
  return c;
}

/* vpcd's reverse mode (it connects to the card) gets the same option. */
int connect(int fd, const struct sockaddr *addr, socklen_t addrlen) {
  set_nodelay(fd);
  return real_connect(fd, addr, addrlen);
}

int bind(int fd, const struct sockaddr *addr, socklen_t addrlen) {
  const char *pub = getenv("TAPWALLET_VPCD_PUBLIC");
  if (pub && strcmp(pub, "1") == 0) return real_bind(fd, addr, addrlen);
  if (addr && addr->sa_family == AF_INET && addrlen >= (socklen_t)sizeof(struct sockaddr_in)) {
    struct sockaddr_in in;
    memcpy(&in, addr, sizeof in);
    if (in.sin_addr.s_addr == htonl(INADDR_ANY)) {
      in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      return real_bind(fd, (const struct sockaddr *)&in, sizeof in);
    }
  } else if (addr && addr->sa_family == AF_INET6 && addrlen >= (socklen_t)sizeof(struct sockaddr_in6)) {
    struct sockaddr_in6 in6;
    memcpy(&in6, addr, sizeof in6);
    if (memcmp(&in6.sin6_addr, &in6addr_any, sizeof in6addr_any) == 0) {
      in6.sin6_addr = in6addr_loopback;
      return real_bind(fd, (const struct sockaddr *)&in6, sizeof in6);
    }
  }
  return real_bind(fd, addr, addrlen);
}
