#!/usr/bin/env bash
# Prints the `sh` code blocks of docs/agent-api.md (its curl examples), as a script. The agent
# tier runs it inside a pod netns next to a real agent on the real kernel, and requires every
# curl in it to get a 2xx answer (tests/vm/guest/agent-docs.sh), so the API docs cannot rot.
set -euo pipefail
cd "$(dirname "$0")/../.."
awk '/^```/ { if (inblock) { inblock = 0 } else { inblock = ($0 ~ /^```(sh|bash)$/) }; next }
     inblock { print }' docs/agent-api.md
