#!/bin/sh
# Installs Debian packages the project needs, if any is missing, without letting their
# maintainer scripts start a daemon: firewalld or libvirtd started in this machine's own
# network namespace would rewrite its firewall (only the lab's namespaces may run them).
set -eu
dpkg -s "$@" >/dev/null 2>&1 && exit 0
own_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
fi
trap '[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
