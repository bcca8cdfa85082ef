/*  rc_addr.c - numeric TCP addresses (rc_addr.h). */
#include "rc_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

int
rc_addr_parse (const char *text, struct sockaddr_storage *addr, socklen_t *len)
{
    char host[INET6_ADDRSTRLEN];
    const char *port_text;
    bool v6 = text[0] == '[';
    if (v6) {
        const char *close = strchr (text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
            return -1;
        memcpy (host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port_text = close + 2;
    }
    else {
        const char *colon = strrchr (text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof host)
            return -1;
        memcpy (host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
        port_text = colon + 1;
    }
    char *end = NULL;
    errno = 0;
    long port = strtol (port_text, &end, 10);
    if (port_text[0] < '0' || port_text[0] > '9' || errno || *end || port < 1 || port > 65535)
        return -1;
    memset (addr, 0, sizeof *addr);
    if (v6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
        if (inet_pton (AF_INET6, host, &in6->sin6_addr) != 1)
            return -1;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons ((uint16_t)port);
        *len = sizeof *in6;
        return 0;
    }
    struct sockaddr_in *in = (struct sockaddr_in *)addr;
    if (strcmp (host, "localhost") == 0)
        snprintf (host, sizeof host, "127.0.0.1");
    if (inet_pton (AF_INET, host, &in->sin_addr) != 1)
        return -1;
    in->sin_family = AF_INET;
    in->sin_port = htons ((uint16_t)port);
    *len = sizeof *in;
    return 0;
}

bool
rc_addr_tcp_url (const char *text)
{
    struct sockaddr_storage addr;
    socklen_t len;
    return strncmp (text, "tcp://", 6) == 0 && rc_addr_parse (text + 6, &addr, &len) == 0;
}

bool
rc_addr_socket_valid (const char *text)
{
    if (text[0] == '/')
        return strlen (text) < sizeof ((struct sockaddr_un *)0)->sun_path;
    return rc_addr_tcp_url (text);
}
