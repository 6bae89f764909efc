# Roofline chart; regenerate with: gnuplot llama-2-7b_a100-h100-mi300x.gp
set terminal pngcairo size 1400,900 noenhanced font 'DejaVu Sans,11' pointscale 1.7
set output 'llama-2-7b_a100-h100-mi300x.png'
set title 'llama-2-7b on a100-80g-sxm vs others: batch 8, weights fp16, activations fp16, KV fp16, attention flash'
set logscale xy
set grid xtics ytics mxtics mytics lc rgb '#dddddd'
set xlabel 'Arithmetic intensity (FLOP/B)'
set ylabel 'Attainable performance (FLOP/s)'
set format x '%g'
set format y '%.0s %cFLOP/s'
set xrange [0.01:100000]
set yrange [1000000000:10000000000000000]
set lmargin at screen 0.10000000000000001
set rmargin at screen 0.7144847470238096
set bmargin at screen 0.088888888888888892
set tmargin at screen 0.94444444444444442
set key at screen 0.72305617559523805, screen 0.94444444444444442 left top Left reverse
plot \
  'llama-2-7b_a100-h100-mi300x.dat' index 0 with lines lw 2 dt 1 lc rgb '#1f77b4' title 'a100-80g-sxm fp32 19.5 TFLOP/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 1 with lines lw 2 dt 1 lc rgb '#1f77b4' title 'a100-80g-sxm fp16 312 TFLOP/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 2 with lines lw 2 dt 1 lc rgb '#d62728' title 'h100-sxm fp32 67.0 TFLOP/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 3 with lines lw 2 dt 1 lc rgb '#d62728' title 'h100-sxm fp16 990 TFLOP/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 4 with lines lw 2 dt 1 lc rgb '#2ca02c' title 'mi300x fp32 163 TFLOP/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 5 with lines lw 2 dt 1 lc rgb '#2ca02c' title 'mi300x fp16 1.31 PFLOP/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 6 with lines lw 2 dt 2 lc rgb '#1f77b4' title 'a100-80g-sxm HBM2e 2.04 TB/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 7 with lines lw 2 dt 2 lc rgb '#1f77b4' title 'a100-80g-sxm L2 7.22 TB/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 8 with lines lw 2 dt 2 lc rgb '#d62728' title 'h100-sxm HBM3 3.35 TB/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 9 with lines lw 2 dt 2 lc rgb '#2ca02c' title 'mi300x HBM3 5.30 TB/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 10 with lines lw 2 dt 2 lc rgb '#2ca02c' title 'mi300x Infinity Cache (MALL) 17.2 TB/s', \
  'llama-2-7b_a100-h100-mi300x.dat' index 11 with points pt 6 ps 1.4 lc rgb '#000000' title 'ridge points', \
  'llama-2-7b_a100-h100-mi300x.dat' index 12 using 1:2 with points pt 7 ps 1 lc rgb '#1f77b4' title 'prefill: batch 8, 1024 tokens', \
  'llama-2-7b_a100-h100-mi300x.dat' index 13 using 1:2 with points pt 6 ps 1 lc rgb '#1f77b4' title 'prefill: batch 8, 1024 tokens (expected)', \
  'llama-2-7b_a100-h100-mi300x.dat' index 14 using 1:2 with points pt 5 ps 1 lc rgb '#1f77b4' title 'decode: batch 8, 1024 cached', \
  'llama-2-7b_a100-h100-mi300x.dat' index 15 using 1:2 with points pt 4 ps 1 lc rgb '#1f77b4' title 'decode: batch 8, 1024 cached (expected)', \
  'llama-2-7b_a100-h100-mi300x.dat' index 16 using 1:2 with points pt 7 ps 1 lc rgb '#d62728' title 'h100-sxm prefill: batch 8, 1024 tokens', \
  'llama-2-7b_a100-h100-mi300x.dat' index 17 using 1:2 with points pt 5 ps 1 lc rgb '#d62728' title 'h100-sxm decode: batch 8, 1024 cached', \
  'llama-2-7b_a100-h100-mi300x.dat' index 18 using 1:2 with points pt 7 ps 1 lc rgb '#2ca02c' title 'mi300x prefill: batch 8, 1024 tokens', \
  'llama-2-7b_a100-h100-mi300x.dat' index 19 using 1:2 with points pt 5 ps 1 lc rgb '#2ca02c' title 'mi300x decode: batch 8, 1024 cached', \
  'llama-2-7b_a100-h100-mi300x.dat' index 20 using 1:2:3 with labels left font ',9' tc rgb '#333333' notitle, \
  'llama-2-7b_a100-h100-mi300x.dat' index 21 using 1:2:3 with labels left font ',9' tc rgb '#b00000' notitle, \
  keyentry title '1: attn_norm,mlp_norm,final_norm'
unset output
