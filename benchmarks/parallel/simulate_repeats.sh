#!/usr/bin/env bash
# The two `parabo simulate` listings of docs/parallel.md ("`parabo simulate`"): one seed, then
# five (--repeats 5), on the quickstart study. Writes results/simulate_quickstart_{one,repeats5}.txt
# (about 5 min here; the coordinator column moves a little with the machine's load).
set -eu
cd "$(dirname "$0")/../.."   # the quickstart objective imports as examples.quickstart_objective
out=benchmarks/parallel/results
args=(examples/quickstart.yaml --workers 1,4,16 --duration 'lognormal(60s, 0.5)' --trials 60 --target 0.001 --no-plot)
parabo simulate "${args[@]}" 2>/dev/null > $out/simulate_quickstart_one.txt
parabo simulate "${args[@]}" --repeats 5 2>/dev/null > $out/simulate_quickstart_repeats5.txt
cat $out/simulate_quickstart_one.txt $out/simulate_quickstart_repeats5.txt
