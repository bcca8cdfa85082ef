/*  rc_addr.h - a numeric TCP address as config files give it: IPV4:PORT,
    [IPV6]:PORT or localhost:PORT. Numeric only, so the agent connects
    without a resolver that could block its loop. */
#ifndef RC_ADDR_H
#define RC_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* Parses text ("127.0.0.1:9999", "[::1]:9999", "localhost:9999"; no
   scheme) into *addr and *len. localhost is 127.0.0.1. 0, or -1 when text
   is not such an address. */
int rc_addr_parse (const char *text, struct sockaddr_storage *addr, socklen_t *len);

/* True when text is a "tcp://" followed by an address rc_addr_parse takes. */
bool rc_addr_tcp_url (const char *text);

/* True when text names a stream socket as haproxy_socket keys do: an
   absolute unix socket path that fits sun_path, or an rc_addr_tcp_url. */
bool rc_addr_socket_valid (const char *text);

#endif
