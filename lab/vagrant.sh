#!/bin/bash
# The project's own `make vagrant-audit`: the Vagrantfile's VM, booted with vagrant and
# vagrant-libvirt from a box built here (lab/vagrant-box.sh), in the lab's libvirtd (lab/lab.sh,
# libvirt 9), audited over SSH, destroyed. Vagrant runs inside the lab's network namespace: its
# management network (a libvirt NAT network on VIRTNAT_MGMT_ADDRESS) is a bridge there, and
# nothing of it reaches this machine's own network.
#   lab/vagrant.sh audit [PYTEST ARGS...]   up, audit (exit code: the audit's), destroy
#   lab/vagrant.sh up | ssh-config | destroy | state | box
# `audit` brings the lab up first if it is down, and takes it down again at the end.
# PY: the Python with virtnat installed (.venv/bin/python); VIRTNAT_KEEP_VM=1 keeps the VM.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
NS=${LAB_NS:-virtnat-lab}
LAB_RUN=${LAB_RUN:-/run/virtnat-lab}
RUN=${VAGRANT_RUN:-/run/virtnat-vagrant}
PY=${PY:-.venv/bin/python}
. "$HERE/common.sh"

# What the Vagrantfile reads (see its header), and Vagrant's own home for the local box.
export VAGRANT_HOME=${VAGRANT_HOME:-/var/cache/virtnat/vagrant-home}
export VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_BOX_UPDATE_CHECK_DISABLE=1  # no calls to HashiCorp
export VIRTNAT_BOX=${VAGRANT_BOX_NAME:-virtnat/bookworm-lab}
# The lab's libvirtd, by its socket: never a default URI (LIBVIRT_DEFAULT_URI, a session daemon).
SOCKET=/run/libvirt/libvirt-sock
export VIRTNAT_LIBVIRT_URI="qemu+unix:///system?socket=$SOCKET"
export VIRTNAT_LIBVIRT_DRIVER=qemu  # TCG: /dev/kvm does not work here
export VIRTNAT_MGMT_NETWORK=virtnat-vagrant
export VIRTNAT_MGMT_ADDRESS=10.213.9.0/24  # the labs' 10.213.x; the VM's own libvirt has 192.168.122.0/24
export VIRTNAT_STORAGE_POOL=virtnat-vagrant
export VIRTNAT_CPUS=${VIRTNAT_CPUS:-2}
export VIRTNAT_BOOT_TIMEOUT=${VIRTNAT_BOOT_TIMEOUT:-600}  # TCG on a busy machine: Vagrant's 300 s is too close
export VIRTNAT_CONSOLE_LOG=$RUN/console.log
export VAGRANT_POOL_DIR=${VAGRANT_POOL_DIR:-/var/cache/virtnat/vagrant-pool}

in_ns() { ip netns exec "$NS" "$@"; }
virsh_() { in_ns virsh -c "$VIRTNAT_LIBVIRT_URI" "$@"; }
vagrant_() { (cd "$ROOT" && in_ns vagrant "$@"); }
stamp() {  # each line of stdin, with the seconds since $1 (without Vagrant's progress counters)
    local l; while IFS= read -r l; do
        l=$(printf '%s' "$l" | sed -E 's/(\x1b\[K)?Progress: [0-9]+%( \([^)]*\))?//g; s/\x1b\[K//g; s/\r//g')
        printf '[%3d s] %s\n' $((SECONDS - $1)) "$l"
    done
}

lab_libvirtd() {  # the libvirtd listening on the socket is the lab's: the pid the lab recorded
    local pid sockets; pid=$(cat "$LAB_RUN/libvirtd.pid" 2>/dev/null) || return 1
    [ -e "/run/netns/$NS" ] || return 1
    sockets=$(in_ns ss -xlpn) || return 1
    grep -E " $SOCKET [0-9]+ .*\(\(\"libvirtd\",pid=$pid," <<<"$sockets" >/dev/null
}

pool() {  # the storage pool for the box's volume and the VM's disk, cached across labs
    mkdir -p "$VAGRANT_POOL_DIR"
    if ! virsh_ pool-info "$VIRTNAT_STORAGE_POOL" >/dev/null 2>&1; then
        virsh_ pool-define-as "$VIRTNAT_STORAGE_POOL" dir --target "$VAGRANT_POOL_DIR" >/dev/null
    fi
    local info; info=$(virsh_ pool-info "$VIRTNAT_STORAGE_POOL")  # (grep -q on a pipe: SIGPIPE under pipefail)
    grep -Eq '^State:[[:space:]]+running' <<<"$info" || virsh_ pool-start "$VIRTNAT_STORAGE_POOL" >/dev/null
    virsh_ pool-refresh "$VIRTNAT_STORAGE_POOL" >/dev/null
    # A VM's disk (DOMAIN.img) whose domain is gone (a VM kept, then the lab taken down) would
    # stop `vagrant up` ("volume already created"): the pool is this script's own, it goes.
    local vol
    for vol in $(virsh_ vol-list "$VIRTNAT_STORAGE_POOL" | awk 'NR > 2 && $1 {print $1}' | grep -v '_vagrant_box_image_'); do
        virsh_ dominfo "${vol%.img}" >/dev/null 2>&1 && continue
        log "vagrant: removing $vol, the disk of a VM that is gone"
        virsh_ vol-delete --pool "$VIRTNAT_STORAGE_POOL" "$vol" >/dev/null
    done
}

box() {
    local t0=$SECONDS
    "$HERE/vagrant-box.sh"
    echo "$((SECONDS - t0))" >"$RUN/box.seconds"
}

up() {
    lab_libvirtd || { log "vagrant: the lab (lab/lab.sh, LAB=9) is not up"; return 1; }
    mkdir -p "$RUN"
    box
    pool
    : >"$VIRTNAT_CONSOLE_LOG"
    local t0=$SECONDS
    log "vagrant: vagrant up (TCG: a minute or two until SSH answers; console: $VIRTNAT_CONSOLE_LOG)"
    vagrant_ up --provider=libvirt 2>&1 | stamp "$t0" | tee "$RUN/up.log" >&2
    echo "$((SECONDS - t0))" >"$RUN/up.seconds"
    log "vagrant: up in $((SECONDS - t0)) s, SSH answered at $(grep -m1 'Machine booted and ready' "$RUN/up.log" | grep -oE '^\[ *[0-9]+' | tr -d '[ ') s"
}

ssh_config() {
    mkdir -p "$ROOT/.vagrant"
    vagrant_ ssh-config >"$ROOT/.vagrant/ssh-config"
}

destroy() {
    local t0=$SECONDS
    if [ -e "/run/netns/$NS" ]; then vagrant_ destroy -f >&2 || true; fi
    mkdir -p "$RUN"
    echo "$((SECONDS - t0))" >"$RUN/destroy.seconds"
    log "vagrant: destroyed in $((SECONDS - t0)) s"
}

state() {  # what Vagrant can leave in the lab's libvirt: domains, networks, volumes (but the box's
    # own volume, a cache kept for the next run), bridges
    virsh_ list --all --name | sed '/^$/d; s/^/domain /'
    virsh_ net-list --all --name | sed '/^$/d; s/^/network /'
    if virsh_ pool-info "$VIRTNAT_STORAGE_POOL" >/dev/null 2>&1; then
        virsh_ pool-refresh "$VIRTNAT_STORAGE_POOL" >/dev/null
        virsh_ vol-list "$VIRTNAT_STORAGE_POOL" | awk 'NR > 2 && $1 {print $1}' | grep -v '_vagrant_box_image_' | sed 's/^/volume /' || true
    fi
    in_ns ip -br link | awk '{print $1}' | grep -E '^virbr' | sed 's/^/link /' || true
}

audit() {
    local owns_lab= rc=0 t0
    if ! lab_libvirtd; then
        LAB_GEN=9 "$HERE/lab.sh" up
        owns_lab=1
    fi
    # shellcheck disable=SC2064
    trap "[ \"\${VIRTNAT_KEEP_VM:-}\" = 1 ] || destroy; [ -z '$owns_lab' ] || LAB_GEN=9 '$HERE/lab.sh' down" EXIT
    up
    ssh_config
    t0=$SECONDS
    (cd "$ROOT" && in_ns "$PY" -m pytest -p no:cacheprovider --report-dir="$ROOT/reports" --hosts=ssh://default \
        --ssh-config=.vagrant/ssh-config --sudo "$@") || rc=$?
    echo "$((SECONDS - t0))" >"$RUN/audit.seconds"
    log "vagrant: audit exit $rc in $((SECONDS - t0)) s"
    return "$rc"
}

case "${1:-}" in
    audit) shift; audit "$@" ;;
    up) up ;;
    ssh-config) ssh_config; cat "$ROOT/.vagrant/ssh-config" ;;
    destroy) destroy ;;
    state) state ;;
    box) mkdir -p "$RUN"; box ;;
    *) echo "usage: $0 audit [PYTEST ARGS...] | up | ssh-config | destroy | state | box" >&2; exit 2 ;;
esac
