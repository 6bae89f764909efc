# Roofline chart; regenerate with: gnuplot host_tiny_measured.gp
set terminal pngcairo size 1400,900 noenhanced font 'DejaVu Sans,11' pointscale 1.7
set output 'host_tiny_measured.png'
set title 'preset tiny (2 layers) on host: predicted (filled) and measured (open) time per op'
set logscale xy
set grid xtics ytics mxtics mytics lc rgb '#dddddd'
set xlabel 'Arithmetic intensity (FLOP/B)'
set ylabel 'Attainable performance (FLOP/s)'
set format x '%g'
set format y '%.0s %cFLOP/s'
set xrange [0.001:10000]
set yrange [10000000:10000000000000]
set lmargin at screen 0.10000000000000001
set rmargin at screen 0.64748930431547624
set bmargin at screen 0.088888888888888892
set tmargin at screen 0.94444444444444442
set key at screen 0.65606073288690481, screen 0.94444444444444442 left top Left reverse
plot \
  'host_tiny_measured.dat' index 0 with lines lw 2 dt 1 lc rgb '#1f77b4' title 'fp64 249 GFLOP/s', \
  'host_tiny_measured.dat' index 1 with lines lw 2 dt 1 lc rgb '#d62728' title 'fp32 495 GFLOP/s', \
  'host_tiny_measured.dat' index 2 with lines lw 2 dt 1 lc rgb '#2ca02c' title 'bf16 1.02 TFLOP/s', \
  'host_tiny_measured.dat' index 3 with lines lw 2 dt 1 lc rgb '#9467bd' title 'int8 1.92 TFLOP/s', \
  'host_tiny_measured.dat' index 4 with lines lw 2 dt 2 lc rgb '#ff7f0e' title 'DRAM 48.6 GB/s', \
  'host_tiny_measured.dat' index 5 with lines lw 2 dt 2 lc rgb '#8c564b' title 'L1d 961 GB/s', \
  'host_tiny_measured.dat' index 6 with lines lw 2 dt 2 lc rgb '#17becf' title 'L2 410 GB/s', \
  'host_tiny_measured.dat' index 7 with lines lw 2 dt 2 lc rgb '#1f77b4' title 'L3 231 GB/s', \
  'host_tiny_measured.dat' index 8 with points pt 6 ps 1.4 lc rgb '#000000' title 'ridge points', \
  'host_tiny_measured.dat' index 9 using 1:2 with points pt 7 ps 1 lc rgb '#c0392b' title 'prefill: batch 1, 64 tokens, weights fp32: predicted', \
  'host_tiny_measured.dat' index 10 using 1:2 with points pt 6 ps 1 lc rgb '#c0392b' title 'prefill: batch 1, 64 tokens, weights fp32: measured', \
  'host_tiny_measured.dat' index 11 using 1:2 with points pt 5 ps 1 lc rgb '#6a3d9a' title 'decode: batch 1, 256 cached, weights fp32: predicted', \
  'host_tiny_measured.dat' index 12 using 1:2 with points pt 4 ps 1 lc rgb '#6a3d9a' title 'decode: batch 1, 256 cached, weights fp32: measured', \
  'host_tiny_measured.dat' index 13 with lines lw 1 dt 3 lc rgb '#c0392b' notitle, \
  'host_tiny_measured.dat' index 14 with lines lw 1 dt 3 lc rgb '#6a3d9a' notitle, \
  'host_tiny_measured.dat' index 15 using 1:2:3 with labels left font ',9' tc rgb '#333333' notitle, \
  'host_tiny_measured.dat' index 16 using 1:2:3 with labels left font ',9' tc rgb '#b00000' notitle
unset output
