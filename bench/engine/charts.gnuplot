# Bar charts of one engine-bench run, from the .dat files keyva_engine_bench --dat writes.
# Usage: gnuplot -e "dat='PREFIX'; out='PREFIX'" bench/engine/charts.gnuplot
#   reads  PREFIXthroughput.dat and PREFIXratio.dat,
#   writes PREFIXthroughput.png (ops/s per engine, log scale) and PREFIXratio.png (keyva ÷ peers).
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
set title "Engine bench: operations per second (log scale; higher is better)"
set logscale y
set format y "%.0s%c"
set ylabel "ops/s"
plot for [i=2:5] dat."throughput.dat" using i:xtic(1) title columnheader(i)

set output out."ratio.png"
set title "keyva ÷ peer throughput (above 1: keyva is faster)"
unset logscale y
set format y "%.1f"
set ylabel "ratio"
set yrange [0:*]
plot for [i=2:3] dat."ratio.dat" using i:xtic(1) title columnheader(i), \
     1 with lines dashtype 2 linecolor rgb "black" title "parity"
