// The stack's listings, decoded from netlink into plain objects: links, addresses and routes from
// a dump (iothts_nldump), the TCP summary from NETLINK_SOCK_DIAG (iothts_tcp_summary).
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/ipv6.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "args.h"
#include "native_stack.h"
#include "netlink_lists.h"

namespace iothts {

namespace {

// Runs a netlink dump and calls parse(env, entry, header, attributes) for each message of the
// wanted type; returns the array of entries.
template <typename Payload, typename Parse>
Napi::Value Dump(Napi::Env env, const DumpSource &source, int request, int reply, Parse parse) {
  void *raw = nullptr;
  long len = Check(env, "ioth_nldialog", [&] { return source(request, &raw); }, EPROTO);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  int rest = static_cast<int>(len);
  for (auto *h = static_cast<nlmsghdr *>(raw); NLMSG_OK(h, rest); h = NLMSG_NEXT(h, rest)) {
    if (h->nlmsg_type != reply || h->nlmsg_len < NLMSG_LENGTH(sizeof(Payload))) continue;
    auto *payload = static_cast<const Payload *>(NLMSG_DATA(h));
    std::vector<const rtattr *> attrs(64, nullptr);
    int attrlen = h->nlmsg_len - NLMSG_LENGTH(sizeof(Payload));
    auto *a = reinterpret_cast<const rtattr *>(
        reinterpret_cast<const char *>(payload) + NLMSG_ALIGN(sizeof(Payload)));
    for (; RTA_OK(a, attrlen); a = RTA_NEXT(a, attrlen))
      if (a->rta_type < attrs.size()) attrs[a->rta_type] = a;
    Napi::Object entry = Napi::Object::New(env);
    parse(env, entry, payload, attrs);
    out.Set(n++, entry);
  }
  free(raw);
  return out;
}

Napi::Value AttrBytes(Napi::Env env, const rtattr *a) {
  if (a == nullptr) return env.Null();
  return Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t *>(RTA_DATA(a)), RTA_PAYLOAD(a));
}

Napi::Value AttrU32(Napi::Env env, const rtattr *a) {
  if (a == nullptr || RTA_PAYLOAD(a) < 4) return env.Null();
  return Napi::Number::New(env, *static_cast<const uint32_t *>(RTA_DATA(a)));
}

Napi::Value AttrString(Napi::Env env, const rtattr *a) {
  if (a == nullptr) return env.Null();
  return Napi::String::New(env, static_cast<const char *>(RTA_DATA(a)),
      strnlen(static_cast<const char *>(RTA_DATA(a)), RTA_PAYLOAD(a)));
}

const char *FamilyName(int family) {
  return family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "other";
}

// The link's IPv6 settings that time duplicate address detection, from IFLA_AF_SPEC's AF_INET6
// part (null when the link has none): { acceptDad, dadTransmits, rtrSolicitDelay (ms, the
// longest random wait before the first probe), retransTime (ms between probes) }.
Napi::Value Ipv6Settings(Napi::Env env, const rtattr *spec) {
  if (spec == nullptr) return env.Null();
  int len = RTA_PAYLOAD(spec);
  for (auto *af = static_cast<const rtattr *>(RTA_DATA(spec)); RTA_OK(af, len); af = RTA_NEXT(af, len)) {
    if (af->rta_type != AF_INET6) continue;
    const rtattr *conf = nullptr, *cache = nullptr;
    int inner = RTA_PAYLOAD(af);
    for (auto *a = static_cast<const rtattr *>(RTA_DATA(af)); RTA_OK(a, inner); a = RTA_NEXT(a, inner)) {
      if (a->rta_type == IFLA_INET6_CONF) conf = a;
      if (a->rta_type == IFLA_INET6_CACHEINFO) cache = a;
    }
    if (conf == nullptr || cache == nullptr || RTA_PAYLOAD(cache) < sizeof(ifla_cacheinfo)) return env.Null();
    size_t n = RTA_PAYLOAD(conf) / sizeof(int32_t);
    auto *values = static_cast<const int32_t *>(RTA_DATA(conf));
    auto value = [&](size_t i) { return i < n ? Napi::Number::New(env, values[i]) : env.Null(); };
    Napi::Object out = Napi::Object::New(env);
    out.Set("acceptDad", value(DEVCONF_ACCEPT_DAD));
    out.Set("dadTransmits", value(DEVCONF_DAD_TRANSMITS));
    out.Set("rtrSolicitDelay", value(DEVCONF_RTR_SOLICIT_DELAY));  // the kernel reports it in ms
    out.Set("retransTime", Napi::Number::New(env, static_cast<const ifla_cacheinfo *>(RTA_DATA(cache))->retrans_time));
    return out;
  }
  return env.Null();
}

DumpSource Of(struct ioth *stack) {
  return [stack](int request, void **raw) { return iothts_nldump(stack, request, AF_UNSPEC, raw); };
}

}  // namespace

// links() -> [{ index, name, flags, type, mtu, mac: Buffer|null, ipv6: {...}|null }]
Napi::Value NativeStack::JS_Links(const Napi::CallbackInfo &info) {
  Args{info, "links"}.Count(0);
  InUse stack{*this, info};
  return ListLinks(info.Env(), Of(stack));
}

Napi::Value ListLinks(Napi::Env env, const DumpSource &source) {
  return Dump<ifinfomsg>(env, source, RTM_GETLINK, RTM_NEWLINK,
      [](Napi::Env env, Napi::Object e, const ifinfomsg *m, const std::vector<const rtattr *> &at) {
        e.Set("index", Napi::Number::New(env, m->ifi_index));
        e.Set("name", AttrString(env, at[IFLA_IFNAME]));
        e.Set("flags", Napi::Number::New(env, m->ifi_flags));
        e.Set("type", Napi::Number::New(env, m->ifi_type));
        e.Set("mtu", AttrU32(env, at[IFLA_MTU]));
        e.Set("mac", AttrBytes(env, at[IFLA_ADDRESS]));
        e.Set("ipv6", Ipv6Settings(env, at[IFLA_AF_SPEC]));
      });
}

// addresses() -> [{ index, family, address: Buffer, prefixLen, scope, flags }]
Napi::Value NativeStack::JS_Addresses(const Napi::CallbackInfo &info) {
  Args{info, "addresses"}.Count(0);
  InUse stack{*this, info};
  return ListAddresses(info.Env(), Of(stack));
}

Napi::Value ListAddresses(Napi::Env env, const DumpSource &source) {
  return Dump<ifaddrmsg>(env, source, RTM_GETADDR, RTM_NEWADDR,
      [](Napi::Env env, Napi::Object e, const ifaddrmsg *m, const std::vector<const rtattr *> &at) {
        e.Set("index", Napi::Number::New(env, m->ifa_index));
        e.Set("family", FamilyName(m->ifa_family));
        // IFA_LOCAL is the local address where it differs from IFA_ADDRESS (point-to-point).
        e.Set("address", AttrBytes(env, at[IFA_LOCAL] ? at[IFA_LOCAL] : at[IFA_ADDRESS]));
        e.Set("prefixLen", Napi::Number::New(env, m->ifa_prefixlen));
        e.Set("scope", Napi::Number::New(env, m->ifa_scope));
        Napi::Value flags = AttrU32(env, at[IFA_FLAGS]);
        e.Set("flags", flags.IsNull() ? Napi::Number::New(env, m->ifa_flags) : flags);
      });
}

// routes() -> [{ family, dst: Buffer|null, dstLen, gateway: Buffer|null, index, table, ... }]
Napi::Value NativeStack::JS_Routes(const Napi::CallbackInfo &info) {
  Args{info, "routes"}.Count(0);
  InUse stack{*this, info};
  return ListRoutes(info.Env(), Of(stack));
}

Napi::Value ListRoutes(Napi::Env env, const DumpSource &source) {
  return Dump<rtmsg>(env, source, RTM_GETROUTE, RTM_NEWROUTE,
      [](Napi::Env env, Napi::Object e, const rtmsg *m, const std::vector<const rtattr *> &at) {
        e.Set("family", FamilyName(m->rtm_family));
        e.Set("dst", AttrBytes(env, at[RTA_DST]));
        e.Set("dstLen", Napi::Number::New(env, m->rtm_dst_len));
        e.Set("gateway", AttrBytes(env, at[RTA_GATEWAY]));
        e.Set("prefsrc", AttrBytes(env, at[RTA_PREFSRC]));
        Napi::Value oif = AttrU32(env, at[RTA_OIF]);
        e.Set("index", oif.IsNull() ? Napi::Number::New(env, 0) : oif);
        Napi::Value table = AttrU32(env, at[RTA_TABLE]);
        e.Set("table", table.IsNull() ? Napi::Number::New(env, m->rtm_table) : table);
        e.Set("protocol", Napi::Number::New(env, m->rtm_protocol));
        e.Set("scope", Napi::Number::New(env, m->rtm_scope));
        e.Set("type", Napi::Number::New(env, m->rtm_type));
        e.Set("metric", AttrU32(env, at[RTA_PRIORITY]));
      });
}

// tcpSummary() -> { sockets, unacked, unackedBytes }: three arrays indexed by TCP state (1
// ESTABLISHED ... 11 CLOSING, 12 NEW_SYN_RECV), counting the stack's TCP sockets (IPv4 and IPv6),
// those with bytes not yet acknowledged (a FIN counts as one; for LISTEN, the backlog), and those
// bytes; and every socket but the listening ones with its endpoints, state and unacknowledged
// bytes ({ state, local, localPort, remote, remotePort, unackedBytes }), for the linger to tell
// whose peer is a socket of this process. From NETLINK_SOCK_DIAG inside the stack.
Napi::Value NativeStack::JS_TcpSummary(const Napi::CallbackInfo &info) {
  Args{info, "tcpSummary"}.Count(0);
  Napi::Env env = info.Env();
  InUse stack{*this, info};
  struct iothts_tcp_summary sum;
  std::unique_ptr<iothts_tcp_conn, decltype(&free)> owned(nullptr, &free);  // also when Check throws
  Check(env, "sock_diag", [&] {
    int rv = iothts_tcp_summary(stack, &sum);
    owned.reset(sum.conns);
    return rv;
  }, EPROTO);
  Napi::Array sockets = Napi::Array::New(env, IOTHTS_TCP_STATES);
  Napi::Array unacked = Napi::Array::New(env, IOTHTS_TCP_STATES);
  Napi::Array bytes = Napi::Array::New(env, IOTHTS_TCP_STATES);
  for (uint32_t i = 0; i < IOTHTS_TCP_STATES; i++) {
    sockets.Set(i, Napi::Number::New(env, sum.sockets[i]));
    unacked.Set(i, Napi::Number::New(env, sum.unacked[i]));
    bytes.Set(i, Napi::Number::New(env, static_cast<double>(sum.unacked_bytes[i])));
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("sockets", sockets);
  out.Set("unacked", unacked);
  out.Set("unackedBytes", bytes);
  Napi::Array conns = Napi::Array::New(env, sum.nconns);
  for (size_t i = 0; i < sum.nconns; i++) {
    const iothts_tcp_conn &c = sum.conns[i];
    int family = c.family == AF_INET6 ? AF_INET6 : AF_INET;
    char local[INET6_ADDRSTRLEN], remote[INET6_ADDRSTRLEN];
    inet_ntop(family, c.local, local, sizeof(local));
    inet_ntop(family, c.remote, remote, sizeof(remote));
    Napi::Object e = Napi::Object::New(env);
    e.Set("state", Napi::Number::New(env, c.state));
    e.Set("local", Napi::String::New(env, local));
    e.Set("localPort", Napi::Number::New(env, c.local_port));
    e.Set("remote", Napi::String::New(env, remote));
    e.Set("remotePort", Napi::Number::New(env, c.remote_port));
    e.Set("unackedBytes", Napi::Number::New(env, c.unacked_bytes));
    conns.Set(static_cast<uint32_t>(i), e);
  }
  out.Set("connections", conns);
  return out;
}

}  // namespace iothts
