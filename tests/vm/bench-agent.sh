#!/usr/bin/env bash
# Measure netem-agent (issue 2, item 7) in one VM boot: binary size, idle RSS, time to apply a
# change through the agent against `tc` for the same change. Prints the figures (BENCH lines
# and a markdown table, see docs/benchmarks-agent.md). BENCH_N=N changes per method (50).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$("$here/build-agent.sh")
"$here/run.sh" -e "BENCH_N=${BENCH_N:-50}" "$here/guest/bench.sh" "$bin"
