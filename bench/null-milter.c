/*
 * NAME
 *   null-milter - a libmilter filter that does nothing, as a yardstick
 * SYNOPSIS
 *   null-milter -p SOCKET [-t] [-n] [-m]
 * DESCRIPTION
 *   Asks the MTA for "no reply" (SMFIP_NR_*) on every step it offers, so
 *   that the MTA streams them, and answers only at end of message: accept.
 *   What is left of the time a message takes is libmilter and the socket.
 *
 *   -t  adds one header (X-Null-Milter: tagged) at end of message. The
 *       header and the verdict then leave as two small writes back to back,
 *       which over TCP with Nagle's algorithm on wait for the MTA's delayed
 *       ACK (about 40 ms on Linux).
 *   -n  sets TCP_NODELAY on the listening socket, as rampart-milter does;
 *       on Linux accepted sockets inherit it, and the wait goes away.
 *   -m  answers MAIL FROM (continue) instead of asking for no reply there,
 *       so that the MTA waits for it, as it must for any filter that may
 *       refuse a message before DATA (a rate limit): the ceiling for such a
 *       filter. Without it, the MTA waits for one reply per message (end of
 *       message); with it, two.
 *
 *   SOCKET is inet:PORT@HOST, inet6:PORT@HOST or unix:PATH. The filter
 *   stays in the foreground; SIGTERM or SIGINT stops it.
 */
#include <libmilter/mfapi.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The "no reply" flags asked for, each granted only if the MTA offers it. */
#define NO_REPLY_STEPS                                                                                  \
    (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | \
     SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NR_HDR)

static int tag_messages;
static unsigned long reply_steps; /* steps answered even when "no reply" is offered */

/* What one connection was granted at negotiation. */
struct granted {
    unsigned long steps;
};

static sfsistat pass(SMFICTX *ctx, unsigned long no_reply)
{
    const struct granted *g = smfi_getpriv(ctx);
    return g != NULL && (g->steps & no_reply) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
                             unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    struct granted *g = calloc(1, sizeof *g);
    (void)f2;
    (void)f3;
    if (g == NULL || smfi_setpriv(ctx, g) != MI_SUCCESS) {
        free(g);
        return SMFIS_REJECT;
    }
    g->steps = f1 & NO_REPLY_STEPS & ~reply_steps;
    *pf0 = f0 & SMFIF_ADDHDRS;
    *pf1 = g->steps;
    *pf2 = 0;
    *pf3 = 0;
    return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    (void)host;
    (void)addr;
    return pass(ctx, SMFIP_NR_CONN);
}

static sfsistat on_helo(SMFICTX *ctx, char *name)
{
    (void)name;
    return pass(ctx, SMFIP_NR_HELO);
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    (void)argv;
    return pass(ctx, SMFIP_NR_MAIL);
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
    (void)argv;
    return pass(ctx, SMFIP_NR_RCPT);
}

static sfsistat on_data(SMFICTX *ctx) { return pass(ctx, SMFIP_NR_DATA); }

static sfsistat on_unknown(SMFICTX *ctx, const char *cmd)
{
    (void)cmd;
    return pass(ctx, SMFIP_NR_UNKN);
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    (void)name;
    (void)value;
    return pass(ctx, SMFIP_NR_HDR);
}

static sfsistat on_eoh(SMFICTX *ctx) { return pass(ctx, SMFIP_NR_EOH); }

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    (void)chunk;
    (void)len;
    return pass(ctx, SMFIP_NR_BODY);
}

static sfsistat on_eom(SMFICTX *ctx)
{
    static char name[] = "X-Null-Milter", value[] = "tagged";
    if (tag_messages && smfi_addheader(ctx, name, value) != MI_SUCCESS)
        return SMFIS_TEMPFAIL;
    return SMFIS_ACCEPT;
}

static sfsistat on_abort(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
    free(smfi_getpriv(ctx));
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

/*
 * libmilter gives no handle on its listening socket: find it among the
 * process's descriptors, as rampart-milter does.
 */
static int set_nodelay_on_listeners(void)
{
    int fd, found = 0;
    for (fd = 0; fd < 1024; ++fd) {
        int listening = 0, domain = 0, one = 1;
        socklen_t len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
            continue;
        len = sizeof domain;
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || (domain != AF_INET && domain != AF_INET6))
            continue;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
            fprintf(stderr, "null-milter: TCP_NODELAY: %s\n", strerror(errno));
            return -1;
        }
        ++found;
    }
    return found;
}

static int usage(FILE *out, int status)
{
    fputs("usage: null-milter -p SOCKET [-t] [-n] [-m]\n"
          "  -p SOCKET  inet:PORT@HOST, inet6:PORT@HOST or unix:PATH\n"
          "  -t         add one header at end of message (two replies back to back)\n"
          "  -n         set TCP_NODELAY on the listening socket\n"
          "  -m         answer MAIL FROM, as a filter that may refuse before DATA must\n",
          out);
    return status;
}

int main(int argc, char **argv)
{
    static char filter_name[] = "null-milter";
    struct smfiDesc desc;
    char *socket_spec = NULL;
    int ch, nodelay = 0;

    while ((ch = getopt(argc, argv, "p:tnmh")) != -1) {
        switch (ch) {
        case 'p': socket_spec = optarg; break;
        case 't': tag_messages = 1; break;
        case 'n': nodelay = 1; break;
        case 'm': reply_steps |= SMFIP_NR_MAIL; break;
        case 'h': return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
    }
    if (socket_spec == NULL || optind != argc)
        return usage(stderr, 2);

    memset(&desc, 0, sizeof desc);
    desc.xxfi_name = filter_name;
    desc.xxfi_version = SMFI_VERSION;
    desc.xxfi_flags = SMFIF_ADDHDRS;
    desc.xxfi_connect = on_connect;
    desc.xxfi_helo = on_helo;
    desc.xxfi_envfrom = on_envfrom;
    desc.xxfi_envrcpt = on_envrcpt;
    desc.xxfi_header = on_header;
    desc.xxfi_eoh = on_eoh;
    desc.xxfi_body = on_body;
    desc.xxfi_eom = on_eom;
    desc.xxfi_abort = on_abort;
    desc.xxfi_close = on_close;
    desc.xxfi_unknown = on_unknown;
    desc.xxfi_data = on_data;
    desc.xxfi_negotiate = on_negotiate;

    if (smfi_setconn(socket_spec) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
        fprintf(stderr, "null-milter: cannot set up libmilter for %s\n", socket_spec);
        return 1;
    }
    if (smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "null-milter: cannot open %s: %s\n", socket_spec, strerror(errno));
        return 1;
    }
    if (nodelay && set_nodelay_on_listeners() < 0)
        return 1;
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
