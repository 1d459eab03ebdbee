// agent-sandbox-exec --make-netns FILE HOSTIF AGENT_ADDR HOST_ADDR [localnet]
//
// Makes an isolated agent's network in this one process (the server used to run unshare, sh and ip
// twice: five programs, whose start-up dominated under load): a new network namespace bound at FILE
// (an existing empty file), IPv6 off and loopback up inside, a veth pair `eth0` (inside, AGENT_ADDR/31,
// up, default route via HOST_ADDR) / HOSTIF (in the caller's namespace, HOST_ADDR/31, up, IPv6 off,
// `route_localnet` on when the 5th argument says `localnet`). Netlink makes the pair; ioctls set
// addresses, flags and the route. Exit 0, or 1 with "step: reason" on stderr (the server then unbinds
// and removes what exists).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <net/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

static int failed(const char *step) {
    fprintf(stderr, "%s: %s\n", step, strerror(errno));
    return 1;
}

static int write_text(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t length = (ssize_t)strlen(text);
    int ok = write(fd, text, (size_t)length) == length;
    close(fd);
    return ok ? 0 : -1;
}

struct request {
    struct nlmsghdr header;
    struct ifinfomsg info;
    char attributes[512];
};

static struct rtattr *add_attribute(struct request *request, unsigned short type, const void *data, size_t length) {
    struct rtattr *attribute = (struct rtattr *)((char *)request + NLMSG_ALIGN(request->header.nlmsg_len));
    attribute->rta_type = type;
    attribute->rta_len = (unsigned short)RTA_LENGTH(length);
    if (length) memcpy(RTA_DATA(attribute), data, length);
    request->header.nlmsg_len = NLMSG_ALIGN(request->header.nlmsg_len) + RTA_ALIGN(attribute->rta_len);
    return attribute;
}

static void end_nest(struct request *request, struct rtattr *nest) {
    nest->rta_len = (unsigned short)((char *)request + request->header.nlmsg_len - (char *)nest);
}

/// Creates the veth pair `inside` (here) / `outside` (in the namespace of `peer_namespace`).
static int make_veth(const char *inside, const char *outside, int peer_namespace) {
    struct request request;
    memset(&request, 0, sizeof request);
    request.header.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    request.header.nlmsg_type = RTM_NEWLINK;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
    request.info.ifi_family = AF_UNSPEC;
    add_attribute(&request, IFLA_IFNAME, inside, strlen(inside) + 1);
    struct rtattr *link = add_attribute(&request, IFLA_LINKINFO, NULL, 0);
    add_attribute(&request, IFLA_INFO_KIND, "veth", 5);
    struct rtattr *data = add_attribute(&request, IFLA_INFO_DATA, NULL, 0);
    struct rtattr *peer = add_attribute(&request, VETH_INFO_PEER, NULL, 0);
    request.header.nlmsg_len += sizeof(struct ifinfomsg);
    add_attribute(&request, IFLA_IFNAME, outside, strlen(outside) + 1);
    add_attribute(&request, IFLA_NET_NS_FD, &peer_namespace, sizeof peer_namespace);
    end_nest(&request, peer);
    end_nest(&request, data);
    end_nest(&request, link);

    int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (sock < 0) return -1;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(sock, &request, request.header.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        close(sock);
        return -1;
    }
    char reply[1024];
    ssize_t count = recv(sock, reply, sizeof reply, 0);
    close(sock);
    struct nlmsghdr *answer = (struct nlmsghdr *)reply;
    if (count < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || answer->nlmsg_type != NLMSG_ERROR) {
        errno = EPROTO;
        return -1;
    }
    int error = ((struct nlmsgerr *)NLMSG_DATA(answer))->error;
    if (error != 0) {
        errno = -error;
        return -1;
    }
    return 0;
}

static void set_address(struct sockaddr *target, const char *address) {
    struct sockaddr_in *in = (struct sockaddr_in *)target;
    memset(in, 0, sizeof *in);
    in->sin_family = AF_INET;
    inet_pton(AF_INET, address, &in->sin_addr);
}

/// `name` gets `address`/31 and is brought up (with loopback-style flags for `lo`, no address).
static int configure(int sock, const char *name, const char *address) {
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (address) {
        set_address(&request.ifr_addr, address);
        if (ioctl(sock, SIOCSIFADDR, &request) != 0) return -1;
        set_address(&request.ifr_netmask, "255.255.255.254");
        if (ioctl(sock, SIOCSIFNETMASK, &request) != 0) return -1;
        // A /31 has no broadcast address (RFC 3021); SIOCSIFADDR set the classful one.
        set_address(&request.ifr_broadaddr, "0.0.0.0");
        if (ioctl(sock, SIOCSIFBRDADDR, &request) != 0) return -1;
    }
    if (ioctl(sock, SIOCGIFFLAGS, &request) != 0) return -1;
    request.ifr_flags |= IFF_UP;
    return ioctl(sock, SIOCSIFFLAGS, &request);
}

static int default_route(int sock, const char *gateway, const char *device) {
    struct rtentry route;
    memset(&route, 0, sizeof route);
    set_address(&route.rt_dst, "0.0.0.0");
    set_address(&route.rt_genmask, "0.0.0.0");
    set_address(&route.rt_gateway, gateway);
    route.rt_flags = RTF_UP | RTF_GATEWAY;
    route.rt_dev = (char *)device;
    return ioctl(sock, SIOCADDRT, &route);
}

int make_netns_main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: agent-sandbox-exec --make-netns FILE HOSTIF AGENT_ADDR HOST_ADDR [localnet]\n");
        return 2;
    }
    const char *file = argv[2], *host_interface = argv[3], *agent_address = argv[4], *host_address = argv[5];
    int localnet = argc > 6 && strcmp(argv[6], "localnet") == 0;
    int original = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original < 0) return failed("open /proc/self/ns/net");
    if (unshare(CLONE_NEWNET) != 0) return failed("unshare(CLONE_NEWNET)");
    if (mount("/proc/self/ns/net", file, NULL, MS_BIND, NULL) != 0) return failed("bind the namespace");
    write_text("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    write_text("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return failed("socket");
    if (configure(sock, "lo", NULL) != 0) return failed("lo up");
    if (make_veth("eth0", host_interface, original) != 0) return failed("veth pair");
    if (configure(sock, "eth0", agent_address) != 0) return failed("eth0 address");
    if (default_route(sock, host_address, "eth0") != 0) return failed("default route");
    close(sock);

    if (setns(original, CLONE_NEWNET) != 0) return failed("setns back");
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", host_interface);
    write_text(path, "1");
    if (localnet) {
        snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/route_localnet", host_interface);
        if (write_text(path, "1") != 0) return failed("route_localnet");
    }
    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return failed("socket");
    if (configure(sock, host_interface, host_address) != 0) return failed("host end address");
    close(sock);
    return 0;
}
