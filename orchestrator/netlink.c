#include <config.h>
#include "netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

LOG_MODULE(netlink);

/* libnl speaks its own error codes (NLE_*); the rest of the daemon speaks
 * negative errno.  Translate the ones a caller can act on. */
static int
nle_to_errno(int nle)
{
    if (nle >= 0)
        return 0;
    switch (-nle) {
    case NLE_EXIST:         return -EEXIST;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:         return -ENODEV;
    case NLE_PERM:          return -EPERM;
    case NLE_NOACCESS:      return -EACCES;
    case NLE_NOMEM:         return -ENOMEM;
    case NLE_INVAL:
    case NLE_MSGTYPE_NOSUPPORT: return -EINVAL;
    case NLE_BUSY:          return -EBUSY;
    case NLE_RANGE:         return -ERANGE;
    case NLE_OPNOTSUPP:     return -EOPNOTSUPP;
    case NLE_AGAIN:         return -EAGAIN;
    case NLE_INTR:          return -EINTR;
    case NLE_BAD_SOCK:      return -EBADF;
    case NLE_NOADDR:        return -EADDRNOTAVAIL;
    case NLE_AF_NOSUPPORT:  return -EAFNOSUPPORT;
    default:                return -EIO;
    }
}

/* One socket per call: the calls are rare (per port, not per packet), a
 * private socket makes them safe from any thread, and the socket belongs
 * to the namespace the calling thread is in at that moment, which is what
 * lets callers act inside another namespace by setns()ing first. */
static void
sockp(struct nl_sock **sk)
{
    if (*sk)
        nl_socket_free(*sk);
}

static void
linkp(struct rtnl_link **l)
{
    if (*l)
        rtnl_link_put(*l);
}

static int
sock_open(struct nl_sock **ret)
{
    struct nl_sock *sk = nl_socket_alloc();
    if (!sk)
        return -ENOMEM;
    int r = nl_connect(sk, NETLINK_ROUTE);
    if (r < 0) {
        nl_socket_free(sk);
        return nle_to_errno(r);
    }
    *ret = sk;
    return 0;
}

static int
link_get(struct nl_sock *sk, const char *name, struct rtnl_link **ret)
{
    if (!name || !name_is_valid_ifname(name))
        return -EINVAL;
    int r = rtnl_link_get_kernel(sk, 0, name, ret);
    return r < 0 ? nle_to_errno(r) : 0;
}

static int link_set_up_in_netns(int netns_fd, const char *name);

static int
link_set_up(struct nl_sock *sk, const char *name, bool up)
{
    _cleanup_(linkp) struct rtnl_link *orig = NULL;
    _cleanup_(linkp) struct rtnl_link *chg = NULL;
    int r = link_get(sk, name, &orig);
    if (r < 0)
        return r;
    chg = rtnl_link_alloc();
    if (!chg)
        return -ENOMEM;
    if (up)
        rtnl_link_set_flags(chg, IFF_UP);
    else
        rtnl_link_unset_flags(chg, IFF_UP);
    return nle_to_errno(rtnl_link_change(sk, orig, chg, 0));
}

/* Creates the pair 'name' <-> 'peer', the peer in the namespace open at
 * 'peer_netns_fd' (-1: the caller's), both ends up.  On failure nothing
 * is left. */
static int
veth_create(const char *name, const char *peer, int peer_netns_fd)
{
    _cleanup_(sockp) struct nl_sock *sk = NULL;
    int r;

    if (!name || !peer || !name_is_valid_ifname(name)
        || !name_is_valid_ifname(peer)
        || (peer_netns_fd < 0 && !strcmp(name, peer)))
        return -EINVAL;
    r = sock_open(&sk);
    if (r < 0)
        return r;
    /* Built by hand rather than with rtnl_link_veth_add(), which pins the
     * peer to the namespace of getpid(): a thread that entered another
     * namespace must get both ends where it stands.  NLM_F_EXCL: an
     * existing 'name' or 'peer' makes the kernel refuse the pair. */
    _cleanup_(linkp) struct rtnl_link *veth = rtnl_link_veth_alloc();
    if (!veth)
        return -ENOMEM;
    rtnl_link_set_name(veth, name);
    /* get_peer takes a reference: drop it once named. */
    struct rtnl_link *pl = rtnl_link_veth_get_peer(veth);
    rtnl_link_set_name(pl, peer);
    if (peer_netns_fd >= 0)
        rtnl_link_set_ns_fd(pl, peer_netns_fd);
    rtnl_link_put(pl);
    r = nle_to_errno(rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL));
    if (r < 0)
        return r;
    /* A peer in another namespace cannot come up in the request itself:
     * the kernel configures it before the pair is joined, and opening a
     * veth without its peer fails (ENOTCONN); it comes up from inside. */
    r = link_set_up(sk, name, true);
    if (r >= 0)
        r = peer_netns_fd >= 0 ? link_set_up_in_netns(peer_netns_fd, peer)
                               : link_set_up(sk, peer, true);
    if (r < 0) {
        /* Leave nothing half made: the peer goes with our end. */
        _cleanup_(linkp) struct rtnl_link *l = NULL;
        if (link_get(sk, name, &l) == 0)
            rtnl_link_delete(sk, l);
        LOG_WARN("veth %s/%s: cannot set up: %s", name, peer, strerror(-r));
        return r;
    }
    LOG_DBG("veth %s <-> %s%s created", name, peer,
            peer_netns_fd >= 0 ? " (in a namespace)" : "");
    return 0;
}

int
netlink_veth_create(const char *name, const char *peer)
{
    return veth_create(name, peer, -1);
}

int
netlink_veth_create_in_netns(const char *name, const char *peer,
                             int peer_netns_fd)
{
    if (peer_netns_fd < 0)
        return -EINVAL;
    return veth_create(name, peer, peer_netns_fd);
}

int
netlink_link_delete(const char *name)
{
    _cleanup_(sockp) struct nl_sock *sk = NULL;
    _cleanup_(linkp) struct rtnl_link *l = NULL;
    int r = sock_open(&sk);
    if (r < 0)
        return r;
    r = link_get(sk, name, &l);
    if (r < 0)
        return r;
    return nle_to_errno(rtnl_link_delete(sk, l));
}

bool
netlink_link_exists(const char *name)
{
    _cleanup_(sockp) struct nl_sock *sk = NULL;
    _cleanup_(linkp) struct rtnl_link *l = NULL;
    if (sock_open(&sk) < 0)
        return false;
    return link_get(sk, name, &l) == 0;
}

int
netlink_link_set_up(const char *name, bool up)
{
    _cleanup_(sockp) struct nl_sock *sk = NULL;
    int r = sock_open(&sk);
    if (r < 0)
        return r;
    return link_set_up(sk, name, up);
}

/* Sets 'name' up from inside the namespace at 'netns_fd': a netlink socket
 * talks to the namespace its creating thread was in, so this thread visits
 * the namespace for as long as it takes to open one.  setns() on a network
 * namespace affects only the calling thread. */
static int
link_set_up_in_netns(int netns_fd, const char *name)
{
    _cleanup_close_ int self = open("/proc/thread-self/ns/net",
                                    O_RDONLY | O_CLOEXEC);
    _cleanup_(sockp) struct nl_sock *sk = NULL;
    int r;

    if (self < 0)
        return -errno;
    if (setns(netns_fd, CLONE_NEWNET) < 0)
        return -errno;
    r = sock_open(&sk);
    if (setns(self, CLONE_NEWNET) < 0) {
        /* This thread would keep working in the SF's namespace: nothing
         * sane can follow. */
        LOG_ERR("cannot return to own network namespace: %s",
                strerror(errno));
        abort();
    }
    if (r < 0)
        return r;
    return link_set_up(sk, name, true);
}

int
netlink_link_move_to_netns(const char *name, int netns_fd,
                           const char *new_name)
{
    _cleanup_(sockp) struct nl_sock *sk = NULL;
    _cleanup_(linkp) struct rtnl_link *orig = NULL;
    _cleanup_(linkp) struct rtnl_link *chg = NULL;
    int r;

    if (netns_fd < 0 || (new_name && !name_is_valid_ifname(new_name)))
        return -EINVAL;
    r = sock_open(&sk);
    if (r < 0)
        return r;
    r = link_get(sk, name, &orig);
    if (r < 0)
        return r;
    chg = rtnl_link_alloc();
    if (!chg)
        return -ENOMEM;
    /* Move and rename in one request: the kernel applies the name in the
     * target namespace, so the device never carries the SF's name (which
     * may clash) in ours. */
    rtnl_link_set_ns_fd(chg, netns_fd);
    if (new_name && strcmp(new_name, name))
        rtnl_link_set_name(chg, new_name);
    r = nle_to_errno(rtnl_link_change(sk, orig, chg, 0));
    if (r < 0)
        return r;
    /* A device moved to another namespace always arrives down. */
    r = link_set_up_in_netns(netns_fd, new_name ? new_name : name);
    if (r < 0)
        LOG_WARN("%s moved but not up: %s", new_name ? new_name : name,
                 strerror(-r));
    return r;
}

int
netlink_link_get_mac(const char *name, uint8_t ret_mac[6])
{
    _cleanup_(sockp) struct nl_sock *sk = NULL;
    _cleanup_(linkp) struct rtnl_link *l = NULL;
    int r = sock_open(&sk);
    if (r < 0)
        return r;
    r = link_get(sk, name, &l);
    if (r < 0)
        return r;
    struct nl_addr *a = rtnl_link_get_addr(l);
    if (!a || nl_addr_get_len(a) != 6)
        return -EAFNOSUPPORT;
    memcpy(ret_mac, nl_addr_get_binary_addr(a), 6);
    return 0;
}

int
netlink_link_tx_offload_off(const char *name)
{
    struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
    struct ifreq ifr;
    _cleanup_close_ int fd = -1;

    if (!name || !name_is_valid_ifname(name))
        return -EINVAL;
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_data = (void *) &ev;
    /* Turning TX checksumming off makes the kernel drop the features that
     * depend on it (TSO, GSO with checksum), which is what the userspace
     * datapath needs: it does not complete partial checksums. */
    if (ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
        int e = errno;
        LOG_DBG("%s: tx checksum offload off: %s", name, strerror(e));
        return -e;
    }
    return 0;
}

int
netlink_link_set_group(const char *name, uint32_t group)
{
    _cleanup_(sockp) struct nl_sock *sk = NULL;
    _cleanup_(linkp) struct rtnl_link *orig = NULL;
    _cleanup_(linkp) struct rtnl_link *chg = NULL;
    int r = sock_open(&sk);
    if (r < 0)
        return r;
    r = link_get(sk, name, &orig);
    if (r < 0)
        return r;
    chg = rtnl_link_alloc();
    if (!chg)
        return -ENOMEM;
    rtnl_link_set_group(chg, group);
    return nle_to_errno(rtnl_link_change(sk, orig, chg, 0));
}

int
netlink_group_delete(uint32_t group)
{
    _cleanup_(sockp) struct nl_sock *sk = NULL;
    struct nl_msg *msg;
    struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = 0 };
    int r;

    /* Group 0 is every device without a group, loopback included. */
    if (group == 0)
        return -EINVAL;
    r = sock_open(&sk);
    if (r < 0)
        return r;
    /* libnl builds delete requests by index or name only; by group is a
     * plain RTM_DELLINK with IFLA_GROUP and no device. */
    msg = nlmsg_alloc_simple(RTM_DELLINK, NLM_F_ACK);
    if (!msg)
        return -ENOMEM;
    if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0
        || nla_put_u32(msg, IFLA_GROUP, group) < 0) {
        nlmsg_free(msg);
        return -ENOMEM;
    }
    r = nl_send_auto(sk, msg);
    nlmsg_free(msg);
    if (r < 0)
        return nle_to_errno(r);
    r = nl_wait_for_ack(sk);
    return r < 0 ? nle_to_errno(r) : 0;
}
