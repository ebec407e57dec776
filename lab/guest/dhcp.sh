#!/bin/sh
# udhcpc's script in the lab guest: applies a lease (address, router) and remembers it in
# /tmp for /init. Only "bound"/"renew" change anything: a failed round keeps the last lease.
case "$1" in
    bound|renew)
        old=$(cat /tmp/addr 2>/dev/null)
        if [ "$old" != "$ip" ]; then
            ip addr flush dev "$interface"
            ip addr add "$ip/${mask:-24}" dev "$interface"
        fi
        router=${router%% *}
        [ -n "$router" ] && ip route replace default via "$router" dev "$interface"
        echo "$ip" >/tmp/addr
        echo "${router:-}" >/tmp/router
        ;;
esac
exit 0
