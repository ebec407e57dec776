#!/bin/sh
# How rules.json and routes.json were recorded (iproute2 6.1, Debian 12), in a network namespace
# of their own: every kind of policy rule and of route the packet-path model resolves.
set -e
ip netns add vt-rules
ip -n vt-rules link set lo up
ip -n vt-rules link add v0 type veth peer name v1
ip -n vt-rules link set v0 up && ip -n vt-rules link set v1 up
ip -n vt-rules addr add 10.99.0.1/24 dev v0
for r in "priority 100 from 10.0.0.0/8 to 192.168.1.0/24 lookup 100" "priority 101 not fwmark 0xca6c/0xffff lookup 51820" \
         "priority 102 fwmark 0x10 blackhole" "priority 103 iif d0 oif lo unreachable" \
         "priority 104 ipproto udp sport 53 dport 1000-2000 prohibit" "priority 105 uidrange 0-1000 goto 200" \
         "priority 106 tos 0x10 nop" "priority 107 lookup main suppress_prefixlength 0" \
         "priority 108 lookup main suppress_ifgroup 3" "priority 200 lookup 52" "priority 109 from all lookup 5210" \
         "priority 110 iif lo lookup local"; do
    ip -n vt-rules rule add $r
done
ip -n vt-rules route add default via 10.99.0.2 dev v0
ip -n vt-rules route add default dev v1 table 51820
ip -n vt-rules route add 10.0.0.0/8 dev v1 table 100
ip -n vt-rules route add throw 10.5.0.0/16 table 100
ip -n vt-rules route add blackhole 10.6.0.0/16 table 100
ip -n vt-rules route add unreachable default table 52
ip -n vt-rules route add prohibit 10.7.0.0/16 table 52
ip -n vt-rules -j -4 rule show > rules.json
ip -n vt-rules -j -4 route show table all > routes.json
ip netns del vt-rules
