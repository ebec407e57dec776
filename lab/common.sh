# Shared by the labs: logging, waiting, and finding a namespace's processes.
# Needs NS set by the caller.
log() { echo "lab: $*" >&2; }

wait_for() {  # wait_for SECONDS DESCRIPTION CMD...
    local t=$1 what=$2; shift 2
    for _ in $(seq $((t * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    log "timed out after ${t}s waiting for $what"; return 1
}

ns_pids() {  # every process whose network namespace is the lab's
    [ -e "/run/netns/$NS" ] || return 0
    local ino; ino=$(stat -L -c %i "/run/netns/$NS")
    for p in /proc/[0-9]*; do
        [ "$(stat -L -c %i "$p/ns/net" 2>/dev/null)" = "$ino" ] && echo "${p#/proc/}"
    done
    return 0
}

ns_pid_of() {  # the pid of the lab's own process named $1 (other labs may run one too)
    local p; for p in $(ns_pids); do
        [ "$(cat /proc/$p/comm 2>/dev/null)" = "$1" ] && grep -q . "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return 0; }
    done
    return 1
}

guest_xml() {  # the tiny guest of LAB.md: no disk, no option ROM, TCG; its tap joins virbr0
    cat <<XML
<domain type='qemu'>
  <name>$GUEST</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices>
    <interface type='network'><source network='default'/><model type='virtio'/>
      <rom enabled='no'/></interface>
  </devices>
</domain>
XML
}
