# virtnat's read-only probe: one shell run collects every command/file fact of a host.
# Its first line is "@@virtnat-probe 2 MARK"; each section is framed by "@@MARK begin NAME" and
# "@@MARK end NAME rc=N", and "@@MARK done" ends a complete run. MARK is random per run
# (VIRTNAT_MARK, or drawn here), so nothing a host's users control (a process's arguments, a
# guest's description) can open, close or end a section.
PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
LC_ALL=C
export PATH LC_ALL
NL='
'
IFS0=$IFS
M=${VIRTNAT_MARK:-$(od -An -N12 -tx1 /dev/urandom 2>/dev/null | tr -dc '0-9a-f')}
[ -n "$M" ] || M="$$$(date +%s%N)"
case $M in *[!0-9a-zA-Z]*) echo "VIRTNAT_MARK must be letters and digits" >&2; exit 2;; esac
echo "@@virtnat-probe 2 $M"
# The end marker starts a line of its own even when the output does not end in a newline.
section() { name=$1; shift; echo "@@$M begin $name"; "$@" 2>&1; printf '\n@@%s end %s rc=%s\n' "$M" "$name" "$?"; }

# A sysctl's value (one line) into v, read by the shell itself: $(cat FILE) forked twice per file.
value() { v=; { IFS= read -r v || :; } 2>/dev/null <"$1"; }
runtime() {
    for k in net/ipv4/ip_forward net/ipv4/conf/all/forwarding net/ipv6/conf/all/forwarding; do
        value /proc/sys/$k; printf '%s=%s\n' "$k" "$v"
    done
    # Each interface's own: the kernel forwards a packet only where it is on for the interface
    # the packet came in on (and "default", what an interface made later starts with).
    # br_netfilter (per network namespace since Linux 5.3): absent while the module is not loaded.
    for f in /proc/sys/net/ipv4/conf/*/forwarding /proc/sys/net/ipv6/conf/*/forwarding /proc/sys/net/bridge/bridge-nf-call-*; do
        case $f in */conf/all/*) continue ;; esac
        if [ -r "$f" ]; then value "$f"; printf '%s=%s\n' "${f#/proc/sys/}" "$v"; fi
    done
}
# readlink -f of an existing file into r: the shell resolves its directory (cd -P) where the file
# itself is no symlink and the shell's cd -P is physical (/proc/self resolves); else readlink.
# Changes the directory: call it in a subshell.
resolve() {
    if [ "$physical" = yes ] && [ ! -L "$1" ] && cd -P -- "${1%/*}/" 2>/dev/null; then r=${PWD%/}/${1##*/}
    else r=$(readlink -f "$1"); fi
}
physical=no
(cd -P /proc/self 2>/dev/null && [ "$PWD" != /proc/self ]) && physical=yes
sysctl_files() (
    for f in /etc/sysctl.d/*.conf /run/sysctl.d/*.conf /usr/local/lib/sysctl.d/*.conf \
             /usr/lib/sysctl.d/*.conf /lib/sysctl.d/*.conf /etc/sysctl.conf; do
        [ -f "$f" ] || continue
        resolve "$f"
        echo "@@file $f $r"
        cat "$f"
        echo
    done
)
# The daemons' /proc entries, "/proc/PID/comm:COMM" lines, into found.
daemons() { found=$(grep -sHxE 'firewalld|libvirtd|virtqemud|virtnetworkd|dnsmasq' /proc/[0-9]*/comm); }
# The links /proc/PID/$1 of found's daemons into paths, space separated (PIDs are digits).
links_of() {
    paths=; set -f; IFS=$NL
    for e in $found; do paths="$paths ${e%/comm:*}/$1"; done
    IFS=$IFS0; set +f
}
# Where links point, one line each, into t: one readlink for them all (a fork each cost more than
# the rest of these sections). Fails (t empty) where that could not be trusted: a link gone, a
# target holding a newline, a readlink that reads one link; the caller reads each on its own then.
targets() {
    [ "$#" -gt 0 ] && t=$(readlink "$@" 2>/dev/null) || { t=; return 1; }
    rest=$t k=1
    while :; do case $rest in *"$NL"*) rest=${rest#*"$NL"}; k=$((k + 1)) ;; *) break ;; esac; done
    [ "$k" = "$#" ] || { t=; return 1; }
}
# The first line of t into t1, the rest stays in t.
next_target() { t1=${t%%"$NL"*}; t=${t#*"$NL"}; }
# A daemon's arguments are its users' data: tabs, newlines and other control characters become
# spaces, so no argument can start a line of its own.
processes() {
    daemons; links_of ns/net
    if targets "/proc/$$/ns/net" $paths; then next_target; echo "self $t1"; batch=1
    else echo "self $(readlink /proc/$$/ns/net)"; batch=; fi
    set -f; IFS=$NL; set -- $found; IFS=$IFS0; set +f
    for e; do
        d=${e%/comm:*} comm=${e#*/comm:}
        if [ -n "$batch" ]; then next_target; else t1=$(readlink $d/ns/net); fi
        echo "${d#/proc/} $t1 $comm $(tr '\000-\037\177' ' ' <$d/cmdline)"
    done
}
# Who runs each of those daemons, and from which executable: "PID UID EXE". The uid is read by
# the shell from the status file's Uid: line.
owners() {
    daemons; links_of exe
    if targets $paths; then t=$(printf '%s\n' "$t" | tr '\000-\011\013-\037\177' ' '); batch=1; else batch=; fi
    set -f; IFS=$NL; set -- $found; IFS=$IFS0; set +f
    for e; do
        d=${e%/comm:*} uid=
        { while IFS= read -r line; do
            case $line in Uid:*) line=${line#Uid:}; line=${line#"${line%%[![:space:]]*}"}; uid=${line%%[!0-9]*}; break ;; esac
        done; } 2>/dev/null <$d/status
        if [ -n "$batch" ]; then next_target; else t1=$(readlink $d/exe | tr -d '\n' | tr '\000-\037\177' ' '); fi
        echo "${d#/proc/} ${uid:-?} $t1"
    done
}
binaries() {
    for b in dnsmasq iptables nft firewalld firewall-cmd libvirtd virtqemud virtnetworkd systemctl; do
        printf '%s ' "$b"; command -v $b || echo
    done
    for d in /usr/lib/systemd /lib/systemd; do
        [ -x "$d/systemd-sysctl" ] && { echo "systemd-sysctl $d/systemd-sysctl"; break; }
    done
    for d in /usr/lib64/libvirt/connection-driver /usr/lib/libvirt/connection-driver /usr/lib/*/libvirt/connection-driver; do
        [ -e "$d/libvirt_driver_network.so" ] && echo "network-driver $d/libvirt_driver_network.so"
    done
    return 0
}

# A file's lines, each behind "|" so that no line of a file is the probe's (the echo after them ends
# a last line that lacks its newline), or that it could not be read.
framed() {
    if [ -r "$1" ]; then echo "@@file $1"; sed 's/^/|/' "$1"; echo; else echo "@@unreadable $1"; fi
}

# What the next boot does with the daemons: on a systemd host (PID 1 is systemd) systemd's own
# view of their units; elsewhere `systemctl is-enabled` (it reads the symlinks, offline) and the
# unit files with their drop-ins (framed).
UNITS="firewalld.service libvirtd.service libvirtd.socket virtnetworkd.service virtnetworkd.socket virtqemud.service virtqemud.socket"
units() (
    for s in libvirt virtqemud virtnetworkd; do
        [ -S /run/libvirt/$s-sock-ro ] || [ -S /var/run/libvirt/$s-sock-ro ] && echo "socket $s"
    done
    if [ -d /run/systemd/system ]; then
        echo "systemd running"
        systemctl show -p Id,LoadState,ActiveState,UnitFileState,After,TriggeredBy $UNITS
        return
    fi
    echo "systemd not-running"
    command -v systemctl >/dev/null 2>&1 || { echo "systemctl not-found"; return 0; }
    dirs=""  # the search path, each directory once (with merged /usr, /lib is /usr/lib)
    for d in /etc/systemd/system /run/systemd/system /usr/local/lib/systemd/system /lib/systemd/system /usr/lib/systemd/system; do
        [ -d "$d" ] || continue
        if [ "$physical" = yes ] && cd -P -- "$d" 2>/dev/null; then r=$PWD; else r=$(readlink -f "$d"); fi
        case " $dirs " in *" $r "*) ;; *) dirs="$dirs $r" ;; esac
    done
    for u in $UNITS; do
        files=""
        for d in $dirs; do
            for f in "$d/$u" "$d/$u.d"/*.conf; do [ -e "$f" ] && files="$files $f"; done
        done
        # A unit with no file anywhere on the search path is not installed: no systemctl run for it.
        if [ -z "$files" ]; then echo "@@unit $u not-found"; continue; fi
        e=$(systemctl is-enabled $u 2>&1); echo "@@unit $u ${e##*"$NL"}"
        for f in $files; do
            [ -f "$f" ] || continue  # masked: a link to /dev/null
            framed "$f"
        done
    done
)

# Who sets each interface's forwarding at the next boot besides sysctl.d: systemd's version, whether
# udev runs (it applies sysctl.d to interfaces as they appear; not in a container), systemd-networkd's
# and NetworkManager's enablement, networkd's state of each link (which .network file it uses), and
# their files: networkd.conf and its drop-ins, .network files and drop-ins, NetworkManager's keyfiles.
# File names are printed only when made of safe characters, each file's first 64 KiB, 400 files at most.
link_config() {
    nl='
'
    # first lines cut by the shell: a `| head -n 1` (and sed, tr) forked once more each
    v=$(systemctl --version 2>/dev/null); v=${v%%"$nl"*}
    case $v in "systemd "[0-9]*) v=${v#systemd }; v=${v%%[!0-9]*} ;; *) v= ;; esac
    echo "systemd $v"
    if [ -S /run/udev/control ]; then echo "udev running"; else echo "udev not-running"; fi
    v=$(systemctl is-enabled systemd-networkd.service 2>/dev/null); echo "networkd ${v%%"$nl"*}"
    v=; command -v NetworkManager >/dev/null 2>&1 && v=$(NetworkManager --version 2>/dev/null); v=${v%%"$nl"*}
    while :; do case $v in *[!0-9.]*) v=${v%%[!0-9.]*}${v#*[!0-9.]} ;; *) break ;; esac; done
    echo "nm-version $v"
    v=$(systemctl is-enabled NetworkManager.service 2>/dev/null); echo "nm ${v%%"$nl"*}"
    for f in /run/systemd/netif/links/*; do
        case ${f##*/} in *[!0-9]*) continue ;; esac
        [ -r "$f" ] || continue
        echo "@@link ${f##*/}"; head -c 16384 "$f" | sed 's/^/|/'; echo
    done
    n=0 lib=/lib/systemd
    [ /lib/systemd -ef /usr/lib/systemd ] && lib=/nonexistent  # merged /usr: the same files once
    for f in /etc/systemd/networkd.conf /run/systemd/networkd.conf /usr/local/lib/systemd/networkd.conf \
             /usr/lib/systemd/networkd.conf $lib/networkd.conf \
             /etc/systemd/networkd.conf.d/*.conf /run/systemd/networkd.conf.d/*.conf \
             /usr/local/lib/systemd/networkd.conf.d/*.conf /usr/lib/systemd/networkd.conf.d/*.conf $lib/networkd.conf.d/*.conf \
             /etc/systemd/network/*.network /run/systemd/network/*.network /usr/local/lib/systemd/network/*.network \
             /usr/lib/systemd/network/*.network $lib/network/*.network \
             /etc/systemd/network/*.network.d/*.conf /run/systemd/network/*.network.d/*.conf \
             /usr/local/lib/systemd/network/*.network.d/*.conf /usr/lib/systemd/network/*.network.d/*.conf \
             $lib/network/*.network.d/*.conf \
             /etc/NetworkManager/system-connections/*.nmconnection /run/NetworkManager/system-connections/*.nmconnection; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        case $f in *[!A-Za-z0-9._@:+,=~/\ -]*) echo "@@unsafe-name"; continue ;; esac
        n=$((n + 1)); [ "$n" -le 400 ] || { echo "@@too-many"; break; }
        # only a symlink can resolve to /dev/null: every name here ends in .conf, .network or .nmconnection
        if [ -L "$f" ] && [ "$(readlink -f "$f")" = /dev/null ]; then echo "@@masked $f"
        elif [ -r "$f" ] && [ -f "$f" ]; then echo "@@file $f"; head -c 65536 "$f" | sed 's/^/|/'; echo
        else echo "@@unreadable $f"; fi
    done
    return 0
}

# Who keeps the firewall's rules past a boot (the packet path's fixes are made to last there):
# whether systemd runs, nftables.service's and netfilter-persistent's enablement, Docker's unit,
# the tables netfilter-persistent's /etc/iptables/rules.v4 holds (its "*table" and COMMIT lines
# only), and nftables.service's configuration with the files it includes, three deep. Names are
# printed only when made of safe characters; each file's first 64 KiB, 50 files at most.
nft_file() {
    [ -e "$1" ] || return 0
    case $1 in *[!A-Za-z0-9._@:+,=~/-]*) echo "@@unsafe-name"; return 0 ;; esac
    n=$((n + 1)); [ "$n" -le 50 ] || { echo "@@too-many"; return 0; }
    if [ -r "$1" ] && [ -f "$1" ]; then echo "@@file $1"; head -c 65536 "$1" | sed 's/^/|/'; echo
    else echo "@@unreadable $1"; return 0; fi
    [ "$2" -lt 3 ] || return 0
    incs=$(head -c 65536 "$1" | sed -n 's/^[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' | head -n 20)
    set -f
    for p in $incs; do
        case $p in /*) ;; *) p="/etc/$p" ;; esac
        case $p in *[!A-Za-z0-9._@:+,=~/*?-]*) echo "@@unsafe-name"; continue ;; esac
        set +f
        for g in $p; do nft_file "$g" $(($2 + 1)); done
        set -f
    done
    set +f
}
firewall_files() (
    IFS='
'
    if [ -d /run/systemd/system ]; then echo "systemd running"; else echo "systemd not-running"; fi
    for u in nftables.service netfilter-persistent.service docker.service; do
        v=$(systemctl is-enabled $u 2>/dev/null); echo "unit $u ${v%%"$IFS"*}"  # IFS: a newline
    done
    f=/etc/iptables/rules.v4
    if [ -r "$f" ] && [ -f "$f" ]; then
        echo "@@tables $f"; grep -E '^(\*[a-z]+|COMMIT)[[:space:]]*$' "$f" | head -n 40 | sed 's/^/|/'
    elif [ -e "$f" ]; then echo "@@unreadable $f"; fi
    n=0
    for f in /etc/nftables.conf /etc/sysconfig/nftables.conf; do nft_file "$f" 0; done
    return 0
)

# Reading libvirt must not start it: on a systemd host a connection to a socket whose daemon is
# stopped makes systemd start the daemon (socket activation). Prints the daemons a read-only
# connection would reach that are not running; libvirt is then not read.
libvirt_stopped() {
    [ -d /run/systemd/system ] || return 0
    if [ -S /run/libvirt/virtqemud-sock-ro ] || [ -S /var/run/libvirt/virtqemud-sock-ro ]; then
        need="virtqemud virtnetworkd"  # the client prefers the modular socket; networks are virtnetworkd's
    else
        need="libvirtd"
    fi
    for d in $need; do
        state=$(systemctl is-active $d.service 2>/dev/null)
        case $state in active|reloading|activating) ;; *) echo "$d.service ${state:-unknown} $d.socket $(systemctl is-active $d.socket 2>/dev/null)" ;; esac
    done
}

# libvirt's own state, read while its daemon is stopped: the persistent definitions, the autostart
# links, the live status of active networks and running guests (what the daemon reads at its start).
libvirt_files() {
    for f in /etc/libvirt/qemu/networks/*.xml /run/libvirt/network/*.xml /run/libvirt/qemu/*.xml; do
        [ -f "$f" ] || continue
        framed "$f"
    done
    for f in /etc/libvirt/qemu/networks/autostart/*.xml; do [ -e "$f" ] && echo "@@autostart ${f##*/}"; done
    return 0
}

# libvirt's view for remote hosts (libvirt-python serves the local one), read-only, in the same
# single command.
T=""; command -v timeout >/dev/null 2>&1 && T="timeout 30"
virsh_all() {
    V="virsh -r -c $VIRTNAT_VIRSH"
    # `virsh version` probes the hypervisor (seconds); the daemon's own --version does not.
    section libvirt-version sh -c 'libvirtd --version || virtqemud --version || virtnetworkd --version'
    [ -z "$STOPPED" ] || return 0  # libvirt-files holds libvirt's view
    # Two virsh runs in all: one lists the UUIDs, one reads every definition (virsh takes
    # ';'-separated commands, and its `echo` frames each section). Networks and guests go by
    # UUID, which no name with spaces, quotes or semicolons can break; their names come from their XML.
    uuids=$($T virsh -r -c "$VIRTNAT_VIRSH" "net-list --all --uuid; echo @@$M domains; list --uuid" 2>&1); rc=$?
    nets=$(printf '%s\n' "$uuids" | sed "/^@@$M domains\$/,\$d")
    doms=$(printf '%s\n' "$uuids" | sed "1,/^@@$M domains\$/d")
    printf '@@%s begin virsh-networks\n%s\n@@%s end virsh-networks rc=%s\n' "$M" "$nets" "$M" "$rc"
    [ "$rc" = 0 ] || return 0
    printf '@@%s begin virsh-domains\n%s\n@@%s end virsh-domains rc=0\n' "$M" "$doms" "$M"
    batch=""
    for n in $(printf '%s\n' "$nets" | grep -xE '[0-9a-f-]{36}'); do
        batch="$batch echo @@$M begin net-info:$n; net-info $n; echo @@$M end net-info:$n rc=0;"
        batch="$batch echo @@$M begin net-xml:$n; net-dumpxml $n; echo @@$M end net-xml:$n rc=0;"
        batch="$batch echo @@$M begin net-xml-inactive:$n; net-dumpxml --inactive $n; echo @@$M end net-xml-inactive:$n rc=0;"
    done
    for d in $(printf '%s\n' "$doms" | grep -xE '[0-9a-f-]{36}'); do
        batch="$batch echo @@$M begin dom-xml:$d; dumpxml $d; echo @@$M end dom-xml:$d rc=0;"
    done
    [ -z "$batch" ] || $T virsh -r -c "$VIRTNAT_VIRSH" "$batch"
}
STOPPED=$(libvirt_stopped)
if [ -n "$STOPPED" ]; then
    printf '@@%s begin libvirt-stopped\n%s\n@@%s end libvirt-stopped rc=0\n' "$M" "$STOPPED" "$M"
    section libvirt-files libvirt_files
    [ -n "${VIRTNAT_VIRSH:-}" ] || section libvirt-version sh -c 'libvirtd --version || virtqemud --version || virtnetworkd --version'
fi
[ -n "${VIRTNAT_VIRSH:-}" ] && virsh_all

# Two groups run side by side: what the shell reads itself (files, /proc, systemctl), and the
# links (VIRTNAT_IP), firewall, routes and sockets, read by their own commands. The second
# group's output is held (it is JSON and ruleset text) until the first's has passed, so the
# sections come whole; the first's, raw files among it, passes through untouched.
host_sections() {
    section runtime runtime
    section sysctl-files sysctl_files
    section processes processes
    section process-owners owners
    section binaries binaries
    section units units
    section link-config link_config
    section firewall-files firewall_files
}
# The packet path: iptables-legacy's own tables (both netfilters run), routes, listening sockets.
legacy_save() { command -v iptables-legacy-save >/dev/null 2>&1 || { echo "iptables-legacy-save: not found"; return 127; }; iptables-legacy-save; }
command_sections() {
    if [ -n "${VIRTNAT_IP:-}" ]; then
        section ip-link ip -j -d link show
        section ip-addr ip -j addr show
    fi
    section iptables-save iptables-save
    section nft nft -j list ruleset
    section iptables-legacy-save legacy_save
    section routes ip -j -4 route show table all
    section route-rules ip -j -4 rule show
    section sockets ss -l -n -p -t -u
}
host_sections | { held=$(command_sections </dev/null); cat; printf '%s\n' "$held"; }
echo "@@$M done"
