#!/usr/bin/env bash
# Boot the Debian kernel (it has sch_netem) under qemu TCG and run one guest script in it.
#
#   tests/vm/run.sh [-m MODULE]... [-e KEY=VALUE]... GUEST_SCRIPT [FILE[:DEST]]...
#
# The initramfs is built by initramfs.sh (see there for what the guest has and where FILEs go).
# The guest's console (serial) is printed as it comes; the exit status is 0 iff the guest
# printed `NETEM-VM-RESULT: PASS` (its script exited 0), 1 on FAIL, 124 if no marker came
# before the timeout (a hang or a kernel panic).
#
# Environment: NETEM_VM_TIMEOUT (seconds, default 600), NETEM_VM_MEM (MiB, default 1024),
# NETEM_VM_SMP (default 2), NETEM_VM_LOG (keep the console log at this path).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
timeout_s=${NETEM_VM_TIMEOUT:-600}
mem=${NETEM_VM_MEM:-1024}
smp=${NETEM_VM_SMP:-2}

passthru=()
while getopts "m:e:" opt; do
    case $opt in
    m | e) passthru+=("-$opt" "$OPTARG") ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ $# -ge 1 ]] || { echo "usage: $0 [-m MODULE]... [-e KEY=VALUE]... GUEST_SCRIPT [FILE[:DEST]]..." >&2; exit 2; }

eval "$("$here/kernel.sh")"
work=$(mktemp -d "${TMPDIR:-/tmp}/netem-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
initrd=$("$here/initramfs.sh" -o "$work/initramfs.cpio" "${passthru[@]+"${passthru[@]}"}" "$@")
log=${NETEM_VM_LOG:-$work/console.log}

start=$(date +%s.%N)
# The uncompressed vmlinux boots directly (qemu's PVH entry), which skips the slow in-guest
# decompression of the bzImage under TCG. /dev/kvm here cannot boot it, hence TCG.
# random.trust_cpu: -cpu max emulates RDRAND, so getrandom() does not wait for entropy.
set +e
timeout -k 5 "$timeout_s" qemu-system-x86_64 \
    -accel tcg -cpu max -smp "$smp" -m "$mem" \
    -kernel "$VM_VMLINUX" -initrd "$initrd" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 random.trust_cpu=on" \
    -display none -monitor none -serial stdio -no-reboot \
    </dev/null 2>&1 | tr -d '\r' | tee "$log"
qemu_rc=${PIPESTATUS[0]}
set -e
secs=$(echo "$(date +%s.%N) - $start" | bc)

if grep -q '^NETEM-VM-RESULT: PASS' "$log"; then
    printf 'run.sh: %s PASS in %.1f s\n' "$(basename "$1")" "$secs" >&2
    exit 0
elif grep -q '^NETEM-VM-RESULT: FAIL' "$log"; then
    printf 'run.sh: %s FAIL in %.1f s\n' "$(basename "$1")" "$secs" >&2
    exit 1
fi
printf 'run.sh: %s gave no result marker (qemu rc=%s, timeout %ss) after %.1f s\n' \
    "$(basename "$1")" "$qemu_rc" "$timeout_s" "$secs" >&2
exit 124
