#!/usr/bin/env bash
# Build an initramfs (uncompressed cpio newc) that runs one guest script on the VM kernel.
#
#   tests/vm/initramfs.sh [-o OUT] [-m MODULE]... [-e KEY=VALUE]... GUEST_SCRIPT [FILE[:DEST]]...
#
# Contents: busybox-static (all applets in /bin), the host's real iproute2 `ip`/`tc`, iputils
# `ping`, `curl`, `jq` and `bash` (busybox's tc cannot add netem and its ip ignores a veth peer
# name) in /usr/bin, the shared libraries of every ELF file put in, tc's distribution tables,
# kernel modules (sch_netem, veth, bridge, sch_tbf, sch_prio, cls_flower + their deps, plus
# each -m) with a
# modules.dep, and /init.
# Each FILE is copied to DEST, or to /usr/local/bin/<name> without one (PATH order inside the
# guest: /usr/local/bin, /usr/bin, /usr/sbin, /bin, /sbin); ELF files get their debug info
# stripped (NETEM_VM_STRIP=0 keeps it) and their shared libraries copied.
# tests/vm/guest/lib.sh is put at /guest/lib.sh for guest scripts to source.
# -e lines go into /guest/env, which /init sources before running the script.
#
# /init mounts proc/sys/dev/run/tmp, loads the modules, brings lo up, then runs
# `bash /guest/script` in /tmp and prints a marker line before `poweroff -f`:
#   NETEM-VM-RESULT: PASS            (script exited 0)
#   NETEM-VM-RESULT: FAIL rc=N       (otherwise)
# tests/vm/run.sh turns that marker into its exit status.
#
# Prints the path of the archive on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${NETEM_VM_CACHE:-$repo/.cache/vm}

out=
modules=(sch_netem veth bridge sch_tbf sch_prio cls_flower)
envs=()
while getopts "o:m:e:" opt; do
    case $opt in
    o) out=$OPTARG ;;
    m) modules+=("$OPTARG") ;;
    e) envs+=("$OPTARG") ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [[ $# -lt 1 ]]; then
    echo "usage: $0 [-o OUT] [-m MODULE]... [-e KEY=VALUE]... GUEST_SCRIPT [FILE[:DEST]]..." >&2
    exit 2
fi
guest=$1
shift
[[ -f $guest ]] || { echo "initramfs.sh: no guest script $guest" >&2; exit 2; }
out=${out:-$cache/initramfs-$(basename "$guest" .sh).cpio}

eval "$("$here/kernel.sh")"

root=$(mktemp -d "${TMPDIR:-/tmp}/netem-vm-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib64,proc,sys,dev,run,tmp,etc,guest,root}
# /var/run must be /run (ip netns keeps its mounts in /run/netns).
mkdir -p "$root/var"
ln -s ../run "$root/var/run"

# busybox first: the real binaries below shadow its applets through PATH order.
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$root/bin/$applet"
done

# Copy an ELF file plus every shared library it needs (as ldd resolves them on this host).
libs_of() {
    ldd "$1" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }' || true
}
put() { # put SRC DEST
    mkdir -p "$root$(dirname "$2")"
    cp -L "$1" "$root$2"
    local lib
    for lib in $(libs_of "$1"); do
        [[ -e $root$lib ]] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
    done
}
for tool in /usr/sbin/ip /usr/sbin/tc /usr/bin/ping /usr/bin/curl /usr/bin/jq /usr/bin/bash; do
    put "$tool" "/usr/bin/$(basename "$tool")"
done
# tc's delay distribution tables (tc looks in its lib dir).
tcdir=$(dirname "$(ls /usr/lib/*/tc/normal.dist /usr/lib/tc/normal.dist 2>/dev/null | head -1)")
mkdir -p "$root$tcdir"
cp "$tcdir"/*.dist "$root$tcdir/"

for spec in "$@"; do
    src=${spec%%:*}
    dest=${spec#*:}
    [[ $spec == *:* ]] || dest=/usr/local/bin/$(basename "$src")
    [[ -e $src ]] || { echo "initramfs.sh: no such file $src" >&2; exit 2; }
    put "$src" "$dest"
    # Debug builds are mostly debug info (a debug kubectl-netem is ~170 MB): drop it, keeping
    # symbols for backtraces, so the initramfs stays small in guest RAM. NETEM_VM_STRIP=0 keeps it.
    if [[ ${NETEM_VM_STRIP:-1} != 0 ]] && head -c 4 "$root$dest" | grep -q ELF; then
        strip --strip-debug "$root$dest" 2>/dev/null || true
    fi
done

# Modules and their dependencies, from the kernel tree's modules.dep.
kmod=$VM_MODDIR/lib/modules/$VM_KVER
dst=$root/lib/modules/$VM_KVER
mkdir -p "$dst"
cp "$kmod"/modules.builtin "$kmod"/modules.order "$dst/" 2>/dev/null || true
for m in "${modules[@]}"; do
    # Module names treat - and _ alike.
    pat=$(echo "$m" | sed 's/[-_]/[-_]/g')
    line=$(grep -E "(^|/)$pat\.ko(\.[a-z]+)?:" "$kmod/modules.dep" | head -1) || true
    if [[ -z $line ]]; then
        if grep -qE "/$pat\.ko" "$kmod/modules.builtin"; then continue; fi
        echo "initramfs.sh: module $m not found in $VM_KVER" >&2
        exit 2
    fi
    for f in ${line%%:*} ${line#*:}; do
        mkdir -p "$dst/$(dirname "$f")"
        cp "$kmod/$f" "$dst/$f"
    done
done
busybox depmod -b "$root" "$VM_KVER"
printf '%s\n' "${modules[@]}" >"$root/etc/vm-modules"

cp "$guest" "$root/guest/script"
# Helpers every guest script may source (. /guest/lib.sh).
cp "$here/guest/lib.sh" "$root/guest/lib.sh"
printf '%s\n' "${envs[@]+"${envs[@]}"}" >"$root/guest/env"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

cat >"$root/init" <<'INIT'
#!/bin/sh
export PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
for m in $(cat /etc/vm-modules); do
    modprobe "$m" || echo "init: modprobe $m failed"
done
ip link set lo up
hostname netem-vm
set -a
. /guest/env
set +a
echo "NETEM-VM-BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)s kernel=$(uname -r)"
cd /tmp
# Through a pipe, so the guest's programs see no terminal (the console is one) and print
# plain logs, not progress bars.
{ bash /guest/script; echo $? >/run/guest.rc; } 2>&1 | cat
rc=$(cat /run/guest.rc 2>/dev/null || echo 255)
if [ "$rc" -eq 0 ]; then
    echo "NETEM-VM-RESULT: PASS"
else
    echo "NETEM-VM-RESULT: FAIL rc=$rc"
fi
sync
poweroff -f
INIT
chmod +x "$root/init"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | busybox cpio -o -H newc -R 0:0 >"$out.tmp" 2>/dev/null)
mv "$out.tmp" "$out"
echo "$out"
