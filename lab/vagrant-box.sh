#!/bin/bash
# Builds, once, the Vagrant box the project's own `make vagrant-audit` boots: the systemd lab's
# Debian 12 tree (lab/labsd.sh: libvirt 9, firewalld, dnsmasq, sshd, the default network
# defined and autostarted, forwarding persisted) copied and made a VM of its own: Debian's
# kernel and an initramfs installed inside the copy (never on this machine), DHCP on its NIC
# (systemd-networkd), the user vagrant with Vagrant's insecure key and passwordless sudo.
# The box is box.img (qcow2 of an ext4 image of the tree, no partition table, no bootloader)
# + metadata.json + a Vagrantfile that boots the box's own kernel and initrd directly.
# Cached in CACHE; a box whose stamp matches is reused as is, and added to VAGRANT_HOME.
#   lab/vagrant-box.sh        build (if needed) and add the box; prints nothing else on stdout
# Environment: VAGRANT_HOME (required: the Vagrant home the box is added to), VAGRANT_BOX_CACHE,
# VAGRANT_BOX_NAME, VAGRANT_POOL_DIR (stale volumes of an older box are removed from it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${VAGRANT_BOX_CACHE:-/var/cache/virtnat/vagrant-box}
NAME=${VAGRANT_BOX_NAME:-virtnat/bookworm-lab}
POOL_DIR=${VAGRANT_POOL_DIR:-/var/cache/virtnat/vagrant-pool}
SRC=${LABSD_ROOT:-/var/cache/virtnat/bookworm-systemd}
TREE=$CACHE/tree
BOX=$CACHE/virtnat-bookworm.box
: "${VAGRANT_HOME:?set VAGRANT_HOME}"
NS=virtnat-vagrant-box  # only for common.sh's log()
. "$HERE/common.sh"
# Change RECIPE when anything this script puts in the box changes: the cached box is built anew.
RECIPE=1
# The kernel and initramfs; sudo for the vagrant user; rsync for the synced folder; what the
# Vagrantfile's provisioner would install and the labsd tree lacks (so it skips apt: no internet).
EXTRA="linux-image-amd64 initramfs-tools sudo rsync qemu-system-x86 bridge-utils"
CPATH=/usr/sbin:/usr/bin:/sbin:/bin

in_tree() { chroot "$TREE" env -i PATH=$CPATH DEBIAN_FRONTEND=noninteractive "$@"; }

tree() {  # the source tree (built by the systemd lab, cached), copied and extended
    if [ ! -f "$SRC/.virtnat-labsd" ]; then
        log "vagrant-box: building the systemd lab's tree $SRC first (lab/labsd.sh, ~2 min)"
        LABSD_LIBVIRT=9 LABSD_ROOT=$SRC "$HERE/labsd.sh" tree
    fi
    if grep -q " $TREE[/ ]" /proc/mounts; then log "vagrant-box: $TREE is mounted: a build is running?"; exit 1; fi
    rm -rf "$TREE"
    mkdir -p "$CACHE"
    cp -a "$SRC" "$TREE"
    rm -f "$TREE/.virtnat-labsd"
    # Only the initramfs we need (the disk is virtio, the root ext4): small, quick to unpack under TCG.
    mkdir -p "$TREE/etc/initramfs-tools/conf.d"
    echo 'MODULES=list' >"$TREE/etc/initramfs-tools/conf.d/virtnat"
    printf 'virtio_pci\nvirtio_blk\next4\n' >>"$TREE/etc/initramfs-tools/modules"
    printf '#!/bin/sh\nexit 101\n' >"$TREE/usr/sbin/policy-rc.d"  # nothing starts while installing
    chmod +x "$TREE/usr/sbin/policy-rc.d"
    mount -t proc proc "$TREE/proc"
    trap 'umount "$TREE/proc" 2>/dev/null || true' EXIT
    log "vagrant-box: installing $EXTRA in the copy (about a minute)"
    in_tree apt-get update -qq
    in_tree apt-get install -y -qq --no-install-recommends $EXTRA >/dev/null
    in_tree apt-get clean
    umount "$TREE/proc"
    trap - EXIT
    rm -f "$TREE/usr/sbin/policy-rc.d"
    rm -rf "$TREE"/var/lib/apt/lists/*
    # A VM, not a container: libvirt's cgroups work again (labsd's tree turned them off for nspawn).
    sed -i '/^cgroup_controllers = \[ \]$/d' "$TREE/etc/libvirt/qemu.conf"
    echo '/dev/vda / ext4 errors=remount-ro 0 1' >"$TREE/etc/fstab"
    echo virtnat-vm >"$TREE/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tvirtnat-vm\n' >"$TREE/etc/hosts"
    # The NIC (virtio: enp*/ens*) takes its address from Vagrant's management network by DHCP.
    printf '[Match]\nName=en*\n\n[Network]\nDHCP=yes\n' >"$TREE/etc/systemd/network/50-dhcp.network"
    systemctl --root="$TREE" enable -q systemd-networkd.service
    # Nothing the audit is about, and costly under TCG: apt's timers.
    systemctl --root="$TREE" mask -q apt-daily.timer apt-daily-upgrade.timer
    # The host's provisioning, as provision/provision.sh leaves it: forwarding persisted (IPv6 too).
    printf 'net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n' >"$TREE/etc/sysctl.d/60-virtnat.conf"
    # Vagrant's user: the insecure key (Vagrant replaces it at the first `up`), passwordless sudo.
    in_tree useradd -m -s /bin/bash vagrant
    install -d -m 700 "$TREE/home/vagrant/.ssh"
    install -m 600 "$(insecure_key)" "$TREE/home/vagrant/.ssh/authorized_keys"
    in_tree chown -R vagrant:vagrant /home/vagrant/.ssh
    echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >"$TREE/etc/sudoers.d/vagrant"
    chmod 440 "$TREE/etc/sudoers.d/vagrant"
}

insecure_key() {  # Vagrant's insecure public key, as the distribution's vagrant ships it
    local k; k=$(ls /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub /usr/share/vagrant/keys/vagrant.pub 2>/dev/null | head -1)
    [ -n "$k" ] || { log "vagrant-box: Vagrant's insecure key not found: is vagrant installed?"; exit 1; }
    echo "$k"
}

box() {  # the tree as an ext4 image in qcow2, with the kernel and initrd beside it, in a tar
    local dir=$CACHE/box kernel initrd
    rm -rf "$dir" "$BOX"
    mkdir -p "$dir"
    kernel=$(ls "$TREE"/boot/vmlinuz-* | sort -V | tail -1)
    initrd=$(ls "$TREE"/boot/initrd.img-* | sort -V | tail -1)
    cp "$kernel" "$dir/vmlinuz"
    cp "$initrd" "$dir/initrd.img"
    mkfs.ext4 -q -F -L virtnat-root -d "$TREE" "$dir/root.raw" 4G
    qemu-img convert -O qcow2 "$dir/root.raw" "$dir/box.img"
    rm -f "$dir/root.raw"
    echo '{"provider": "libvirt", "format": "qcow2", "virtual_size": 4}' >"$dir/metadata.json"
    cat >"$dir/Vagrantfile" <<'RUBY'
# The box has no bootloader: libvirt boots its kernel and initrd (beside this file) directly.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.kernel = File.join(__dir__, "vmlinuz")
    libvirt.initrd = File.join(__dir__, "initrd.img")
    libvirt.cmd_line = "root=/dev/vda rw console=ttyS0"
  end
end
RUBY
    tar -C "$dir" -cf "$BOX" metadata.json Vagrantfile box.img vmlinuz initrd.img
    rm -rf "$dir"
}

vagrant_() { VAGRANT_CHECKPOINT_DISABLE=1 vagrant "$@"; }

main() {
    local stamp t0=$SECONDS
    stamp="vagrant-box recipe $RECIPE: $EXTRA on $(cat "$SRC/.virtnat-labsd" 2>/dev/null || echo 'a new tree')"
    if [ "$(cat "$CACHE/.ready" 2>/dev/null)" != "$stamp" ] || [ ! -f "$BOX" ]; then
        rm -f "$CACHE/.ready"
        tree
        stamp="vagrant-box recipe $RECIPE: $EXTRA on $(cat "$SRC/.virtnat-labsd")"
        box
        echo "$stamp" >"$CACHE/.ready"
        rm -rf "$TREE"  # the box holds it all
        # The box anew: its older copies go (Vagrant's, and the volume vagrant-libvirt uploaded
        # into the storage pool, named after the box: it would be used again as is).
        vagrant_ box remove -f --all "$NAME" >/dev/null 2>&1 || true
        rm -f "$POOL_DIR/${NAME//\//-VAGRANTSLASH-}_vagrant_box_image_"*
        log "vagrant-box: $BOX built in $((SECONDS - t0)) s ($(du -h "$BOX" | cut -f1))"
    fi
    if ! grep -q "^$NAME " <<<"$(vagrant_ box list 2>/dev/null)"; then
        vagrant_ box add -f --name "$NAME" "$BOX" >&2
    fi
    log "vagrant-box: box $NAME ready in $VAGRANT_HOME ($((SECONDS - t0)) s)"
}

main
