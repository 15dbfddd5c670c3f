#!/usr/bin/env bash
# Prints every `kubectl netem ...` command that README.md and docs/*.md show in their `sh` and
# `console` code blocks, and every `kubectl patch ...` that docs/*.md show, one per line as
# `FILE:LINE<TAB>COMMAND` (without a `$ ` prompt and without a trailing `# comment`), in
# document order. The cluster tier runs them all against local sandboxes on the real kernel,
# so the docs cannot rot (tests/vm/guest/docs.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
for f in README.md docs/*.md; do
    awk -v file="$f" '
        /^```/ {
            if (inblock) { inblock = 0 } else { inblock = ($0 ~ /^```(sh|console|bash)$/) }
            next
        }
        inblock {
            line = $0
            sub(/^\$ /, "", line)
            if (line !~ /^kubectl netem / && !(file ~ /^docs\// && line ~ /^kubectl patch /)) next
            sub(/[ \t]+#.*$/, "", line)
            printf "%s:%d\t%s\n", file, NR, line
        }' "$f"
done
