#!/usr/bin/env bash
# Plots bench/results.md (written by run_all.sh): construction and fast verification time against
# the number of tokens, log-log, for the hub rows with d = 16, m = 2 and no width cap.
# Writes bench/scaling.svg. Needs gnuplot (apt-get install gnuplot-nox).
set -euo pipefail
cd "$(dirname "$0")"
command -v gnuplot >/dev/null || { echo "gnuplot not installed: no plot"; exit 0; }
data=$(mktemp); trap 'rm -f "$data"' EXIT
# Table columns: | family | N | n | d | m | width | tokens | L | P | construct | verify fast | ...
awk -F'|' '$2 ~ /hub/ && $5+0 == 16 && $6+0 == 2 && $7 ~ /-/ {gsub(/ /, ""); print $8, $11, $12}' results.md |
  sort -n > "$data"
[ -s "$data" ] || { echo "no rows to plot"; exit 0; }
gnuplot <<GP
set terminal svg size 640,420 font "sans,11" noenhanced
set output "scaling.svg"
# Least squares in log space, as run_all.sh's table: log t = la + b log x.
g(x) = la + b * x
la = 0.5; b = 0.5  # not zero: fit steps relative to the start value
set fit quiet
set fit nologfile  # no fit.log beside the plot
fit g(x) "$data" using (log(\$1)):(log(\$3)) via la, b
set logscale xy
set xlabel "tokens (sum of n_j)"
set ylabel "seconds"
set key top left
set grid
set title "interpcert: exact construction and verification time (hub datasets, d = 16, m = 2)"
plot "$data" using 1:2 with linespoints pt 7 title "construct", \
     "$data" using 1:3 with linespoints pt 5 title "verify (fast, exact)", \
     exp(la) * x**b with lines dt 2 title sprintf("fit: verify time ~ tokens^%.2f", b)
GP
echo "wrote bench/scaling.svg"
