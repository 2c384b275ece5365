/* OpenFlow connection to a bridge's management socket: see ofconn.h. */
#include <config.h>
#include "ofconn.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

LOG_MODULE(ovs_ofconn);

struct ofconn {
    int fd;                     /* Non-blocking unix stream socket. */
    uint32_t next_xid;          /* Next transaction id to hand out. */
    struct ofp_buf in;          /* Bytes received, not yet parsed. */
    struct ofp_buf pending;     /* Echo replies waiting for a message
                                 * boundary in the output. */
};

/* What a read loop is waiting for. */
struct ofconn_wait {
    uint32_t barrier_xid;       /* Done when its reply arrives. */
    bool hello_wanted;          /* Done when the switch's hello arrives. */
    bool done;                  /* Set when the awaited message came. */
    struct ofconn_result *res;  /* Errors are recorded here. */
};

uint32_t
ofconn_alloc_xids(struct ofconn *c, uint32_t n)
{
    uint32_t first = c->next_xid;
    c->next_xid += n;
    if (c->next_xid < first || c->next_xid == 0) {
        /* Wrapped: start again low, xids only need to be unique within a
         * batch in flight. */
        first = 1;
        c->next_xid = 1 + n;
    }
    return first;
}

/* Handles one complete message. */
static int
handle_msg(struct ofconn *c, const uint8_t *msg, size_t len,
           struct ofconn_wait *w)
{
    struct ofp_header_view h;
    ofp_parse_header(msg, len, &h);
    switch (h.type) {
    case OFPT_HELLO:
        if (h.version < OFP_VERSION_13)
            return -EPROTONOSUPPORT;
        if (w->hello_wanted)
            w->done = true;
        break;
    case OFPT_ECHO_REQUEST:
        ofp_put_echo_reply(&c->pending, msg, len);
        break;
    case OFPT_ERROR: {
        struct ofp_error e;
        if (ofp_parse_error(msg, len, &e))
            return -EPROTO;
        if (e.type == 0 /* HELLO_FAILED */)
            return -EPROTONOSUPPORT;
        if (w->res) {
            if (!w->res->n_errors)
                w->res->error = e;
            w->res->n_errors++;
        }
        LOG_DBG("error xid %u type %u code %u", e.xid, e.type, e.code);
        break;
    }
    case OFPT_BARRIER_REPLY:
        if (!w->hello_wanted && h.xid == w->barrier_xid)
            w->done = true;
        break;
    default:
        /* Bundle control replies, port status...: nothing to do. */
        break;
    }
    return 0;
}

/* Reads what is there and handles the complete messages. */
static int
read_some(struct ofconn *c, struct ofconn_wait *w)
{
    for (;;) {
        ofp_buf_reserve(&c->in, 65536);
        ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return -errno;
        }
        if (n == 0)
            return -ECONNRESET;
        c->in.len += (size_t) n;
    }
    size_t ofs = 0;
    while (ofs < c->in.len) {
        struct ofp_header_view h;
        int error = ofp_parse_header(c->in.data + ofs, c->in.len - ofs, &h);
        if (error == -EAGAIN || (!error && h.length > c->in.len - ofs))
            break;
        if (error)
            return error;
        error = handle_msg(c, c->in.data + ofs, h.length, w);
        if (error)
            return error;
        ofs += h.length;
    }
    memmove(c->in.data, c->in.data + ofs, c->in.len - ofs);
    c->in.len -= ofs;
    return 0;
}

/* Writes the 'n' buffers in 'bufs' in order, reading meanwhile, then
 * reads until 'w' is done.  Echo replies go out between our messages. */
static int
run(struct ofconn *c, const struct ofp_buf *const *bufs, size_t n,
    unsigned int timeout_ms, struct ofconn_wait *w)
{
    uint64_t deadline = time_ms() + timeout_ms;
    size_t bi = 0, ofs = 0;
    for (;;) {
        while (bi < n && ofs >= bufs[bi]->len) {
            bi++;
            ofs = 0;
        }
        bool writing = bi < n || c->pending.len;
        if (!writing && w->done)
            return 0;
        uint64_t now = time_ms();
        if (now >= deadline)
            return -ETIMEDOUT;
        struct pollfd pfd = { .fd = c->fd,
                              .events = POLLIN | (writing ? POLLOUT : 0) };
        int r = poll(&pfd, 1, (int) (deadline - now));
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r <= 0)
            continue;
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            int error = read_some(c, w);
            if (error)
                return error;
        }
        if (writing && (pfd.revents & POLLOUT)) {
            const struct ofp_buf *b = bi < n ? bufs[bi] : &c->pending;
            size_t o = bi < n ? ofs : 0;
            ssize_t k = send(c->fd, b->data + o, b->len - o, MSG_NOSIGNAL);
            if (k < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    continue;
                return errno == EPIPE ? -EPIPE : -errno;
            }
            if (bi < n) {
                ofs += (size_t) k;
            } else {
                /* Echo replies are small: drop what went, keep the rest. */
                memmove(c->pending.data, c->pending.data + k,
                        c->pending.len - (size_t) k);
                c->pending.len -= (size_t) k;
            }
        }
    }
}

int
ofconn_open(const char *path, unsigned int timeout_ms,
            struct ofconn **ret_conn)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        int error = -errno;
        close(fd);
        return error;
    }
    struct ofconn *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    c->next_xid = 1;
    struct ofp_buf hello = { 0 };
    ofp_put_hello(&hello, ofconn_alloc_xids(c, 1));
    const struct ofp_buf *bufs[] = { &hello };
    struct ofconn_wait w = { .hello_wanted = true };
    int error = run(c, bufs, 1, timeout_ms, &w);
    ofp_buf_free(&hello);
    if (!error) {
        /* No packet-ins, port status or flow-removed messages: nobody
         * reads this connection between batches. */
        struct ofp_buf async = { 0 };
        ofp_put_set_async_none(&async, ofconn_alloc_xids(c, 1));
        struct ofconn_result res;
        error = ofconn_transact(c, &async, timeout_ms, &res);
        ofp_buf_free(&async);
    }
    if (error) {
        ofconn_close(c);
        return error;
    }
    *ret_conn = c;
    return 0;
}

void
ofconn_close(struct ofconn *c)
{
    if (!c)
        return;
    close(c->fd);
    ofp_buf_free(&c->in);
    ofp_buf_free(&c->pending);
    free(c);
}

int
ofconn_check(struct ofconn *c)
{
    struct ofconn_wait w = { .done = true };
    struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
    if (poll(&pfd, 1, 0) <= 0)
        return 0;
    /* Echo replies queued here go out with the next batch. */
    return read_some(c, &w);
}

int
ofconn_transact(struct ofconn *c, const struct ofp_buf *msgs,
                unsigned int timeout_ms, struct ofconn_result *ret)
{
    struct ofp_buf barrier = { 0 };
    struct ofconn_wait w = { .barrier_xid = ofconn_alloc_xids(c, 1),
                             .res = ret };
    memset(ret, 0, sizeof *ret);
    ofp_put_barrier(&barrier, w.barrier_xid);
    const struct ofp_buf *bufs[] = { msgs, &barrier };
    int error = run(c, bufs, 2, timeout_ms, &w);
    ofp_buf_free(&barrier);
    if (error)
        return error;
    return ret->n_errors ? -EPROTO : 0;
}

int
ofconn_bundle_apply(struct ofconn *c, uint32_t bundle_id,
                    const struct ofp_buf *adds, unsigned int timeout_ms,
                    struct ofconn_result *ret)
{
    const uint16_t flags = ONF_BF_ATOMIC | ONF_BF_ORDERED;
    uint64_t deadline = time_ms() + timeout_ms;

    /* Phase 1: open and fill the bundle.  Nothing is applied yet, so an
     * error here (a message OVS could not decode) costs only a discard. */
    struct ofp_buf open = { 0 };
    ofp_put_bundle_ctrl(&open, ofconn_alloc_xids(c, 1), bundle_id,
                        ONF_BCT_OPEN_REQUEST, flags);
    struct ofp_buf barrier = { 0 };
    struct ofconn_wait w = { .barrier_xid = ofconn_alloc_xids(c, 1),
                             .res = ret };
    memset(ret, 0, sizeof *ret);
    ofp_put_barrier(&barrier, w.barrier_xid);
    const struct ofp_buf *bufs[] = { &open, adds, &barrier };
    int error = run(c, bufs, 3, timeout_ms, &w);
    ofp_buf_free(&open);
    ofp_buf_free(&barrier);
    if (error)
        return error;

    /* Phase 2: commit, or discard what phase 1 left. */
    bool ok = !ret->n_errors;
    struct ofconn_result res2;
    struct ofp_buf ctl = { 0 };
    ofp_put_bundle_ctrl(&ctl, ofconn_alloc_xids(c, 1), bundle_id,
                        ok ? ONF_BCT_COMMIT_REQUEST : ONF_BCT_DISCARD_REQUEST,
                        flags);
    uint64_t now = time_ms();
    error = ofconn_transact(c, &ctl, now < deadline ? deadline - now : 1,
                            &res2);
    ofp_buf_free(&ctl);
    if (!ok) {
        /* The first error names the failed message: keep it. */
        return error == -EPROTO || !error ? -EPROTO : error;
    }
    if (error == -EPROTO)
        *ret = res2;
    return error;
}
