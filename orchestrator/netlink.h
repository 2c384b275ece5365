/* Network devices through rtnetlink (libnl-3): veth pairs, moving devices
 * into network namespaces, renaming, addresses.  Used by the vSwitch
 * drivers (to make the veth pair of an SF port) and by the engines (to give
 * the SF its end).  Names are checked with name_is_valid_ifname() by the
 * callers.  Functions return 0 or a negative errno. */
#ifndef CORCH_NETLINK_H
#define CORCH_NETLINK_H 1

#include <stdbool.h>
#include <stdint.h>

/* Creates a veth pair 'name' <-> 'peer' in the caller's namespace, both
 * ends up.  -EEXIST if either exists. */
int netlink_veth_create(const char *name, const char *peer);
/* Creates a veth pair whose end 'name' is in the caller's namespace and
 * whose end 'peer' is made directly in the namespace open at
 * 'peer_netns_fd' (IFLA_NET_NS_FD on the peer), under that name: unlike a
 * move (netlink_link_move_to_netns()), no RCU grace period is waited for.
 * Both ends up.  -EEXIST if 'name' exists here or 'peer' there. */
int netlink_veth_create_in_netns(const char *name, const char *peer,
                                 int peer_netns_fd);
/* Deletes a device (a veth's peer goes with it).  -ENODEV if absent. */
int netlink_link_delete(const char *name);
/* Whether a device of that name exists in the caller's namespace. */
bool netlink_link_exists(const char *name);
int netlink_link_set_up(const char *name, bool up);
/* Moves device 'name' into the namespace open at 'netns_fd', renaming it
 * 'new_name' there (NULL keeps the name) and setting it up. */
int netlink_link_move_to_netns(const char *name, int netns_fd,
                               const char *new_name);
/* The device's MAC address. */
int netlink_link_get_mac(const char *name, uint8_t ret_mac[6]);
/* Disables TX checksum offload (needed for TCP across the userspace
 * datapath).  Best effort. */
int netlink_link_tx_offload_off(const char *name);
/* Puts device 'name' in device group 'group' (kept across namespaces). */
int netlink_link_set_group(const char *name, uint32_t group);
/* Deletes every device of 'group' in the caller's namespace in one batch
 * (one RCU wait for all, instead of one per device); 0 if there is none.
 * Group 0 (devices without a group) is refused: -EINVAL. */
int netlink_group_delete(uint32_t group);

#endif
