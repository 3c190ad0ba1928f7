# Bar charts of one HTTP-bench run, from the .dat files bench/http/report.py writes.
# Usage: gnuplot -e "dat='PREFIX'; out='PREFIX'" bench/http/charts.gnuplot
#   reads  PREFIXthroughput.dat (requests/s per workload and server) and PREFIXtargets.dat
#   (measured keyvad/peer ratio and goal per target), writes PREFIXthroughput.png and
#   PREFIXtargets.png.
set terminal pngcairo size 1200,560 font "sans,10" noenhanced
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set xtics rotate by -30 nomirror
set key top right

set output out."throughput.png"
set title "HTTP bench: requests per second, wrk -t2 with pre-built requests on loopback (higher is better)"
set format y "%.0s%c"
set ylabel "requests/s"
set yrange [0:*]
plot for [i=2:6] dat."throughput.dat" using i:xtic(1) title columnheader(i)

set output out."targets.png"
set title "Targets: keyvad ÷ peer requests/s, measured and goal (same run)"
set format y "%.1f"
set ylabel "ratio"
set yrange [0:*]
set offsets 0, 0, graph 0.2, 0  # room above the highest goal for the key
plot for [i=2:3] dat."targets.dat" using i:xtic(1) title columnheader(i)
