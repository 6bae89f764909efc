# Roofline chart; regenerate with: gnuplot llama-2-7b_a100_prefill-decode.gp
set terminal pngcairo size 1400,900 noenhanced font 'DejaVu Sans,11' pointscale 1.7
set output 'llama-2-7b_a100_prefill-decode.png'
set title 'llama-2-7b on a100-80g-sxm: batch 1, weights fp16, activations fp16, KV fp16, attention flash'
set logscale xy
set grid xtics ytics mxtics mytics lc rgb '#dddddd'
set xlabel 'Arithmetic intensity (FLOP/B)'
set ylabel 'Attainable performance (FLOP/s)'
set format x '%g'
set format y '%.0s %cFLOP/s'
set xrange [0.01:100000]
set yrange [100000000:10000000000000000]
set lmargin at screen 0.10000000000000001
set rmargin at screen 0.67244187127976196
set bmargin at screen 0.088888888888888892
set tmargin at screen 0.94444444444444442
set key at screen 0.68101329985119052, screen 0.94444444444444442 left top Left reverse
plot \
  'llama-2-7b_a100_prefill-decode.dat' index 0 with lines lw 2 dt 1 lc rgb '#1f77b4' title 'fp64 9.70 TFLOP/s', \
  'llama-2-7b_a100_prefill-decode.dat' index 1 with lines lw 2 dt 1 lc rgb '#d62728' title 'fp32 19.5 TFLOP/s', \
  'llama-2-7b_a100_prefill-decode.dat' index 2 with lines lw 2 dt 1 lc rgb '#2ca02c' title 'tf32 156 TFLOP/s', \
  'llama-2-7b_a100_prefill-decode.dat' index 3 with lines lw 2 dt 1 lc rgb '#9467bd' title 'fp16 312 TFLOP/s', \
  'llama-2-7b_a100_prefill-decode.dat' index 4 with lines lw 2 dt 1 lc rgb '#ff7f0e' title 'bf16 312 TFLOP/s', \
  'llama-2-7b_a100_prefill-decode.dat' index 5 with lines lw 2 dt 1 lc rgb '#8c564b' title 'int8 624 TFLOP/s', \
  'llama-2-7b_a100_prefill-decode.dat' index 6 with lines lw 2 dt 1 lc rgb '#17becf' title 'int4 1.25 PFLOP/s', \
  'llama-2-7b_a100_prefill-decode.dat' index 7 with lines lw 2 dt 2 lc rgb '#1f77b4' title 'HBM2e 2.04 TB/s', \
  'llama-2-7b_a100_prefill-decode.dat' index 8 with lines lw 2 dt 2 lc rgb '#d62728' title 'L2 7.22 TB/s', \
  'llama-2-7b_a100_prefill-decode.dat' index 9 with points pt 6 ps 1.4 lc rgb '#000000' title 'ridge points', \
  'llama-2-7b_a100_prefill-decode.dat' index 10 using 1:2 with points pt 7 ps 1 lc rgb '#2ca02c' title 'prefill: batch 1, 1024 tokens', \
  'llama-2-7b_a100_prefill-decode.dat' index 11 using 1:2 with points pt 6 ps 1 lc rgb '#9467bd' title 'prefill: batch 1, 1024 tokens (expected)', \
  'llama-2-7b_a100_prefill-decode.dat' index 12 using 1:2 with points pt 5 ps 1 lc rgb '#ff7f0e' title 'decode: batch 1, 1024 cached', \
  'llama-2-7b_a100_prefill-decode.dat' index 13 using 1:2 with points pt 4 ps 1 lc rgb '#8c564b' title 'decode: batch 1, 1024 cached (expected)', \
  'llama-2-7b_a100_prefill-decode.dat' index 14 using 1:2 with points pt 12 ps 1 lc rgb '#17becf' title 'decode: batch 8, 1024 cached (linear, attention)', \
  'llama-2-7b_a100_prefill-decode.dat' index 15 using 1:2 with points pt 10 ps 1 lc rgb '#1f77b4' title 'decode: batch 64, 1024 cached (linear, attention)', \
  'llama-2-7b_a100_prefill-decode.dat' index 16 with lines lw 1 dt 3 lc rgb '#1f77b4' notitle, \
  'llama-2-7b_a100_prefill-decode.dat' index 17 with lines lw 1 dt 3 lc rgb '#1f77b4' notitle, \
  'llama-2-7b_a100_prefill-decode.dat' index 18 with lines lw 1 dt 3 lc rgb '#1f77b4' notitle, \
  'llama-2-7b_a100_prefill-decode.dat' index 19 with lines lw 1 dt 3 lc rgb '#1f77b4' notitle, \
  'llama-2-7b_a100_prefill-decode.dat' index 20 with lines lw 1 dt 3 lc rgb '#1f77b4' notitle, \
  'llama-2-7b_a100_prefill-decode.dat' index 21 with lines lw 1 dt 3 lc rgb '#1f77b4' notitle, \
  'llama-2-7b_a100_prefill-decode.dat' index 22 with lines lw 1 dt 3 lc rgb '#1f77b4' notitle, \
  'llama-2-7b_a100_prefill-decode.dat' index 23 with lines lw 1 dt 3 lc rgb '#1f77b4' notitle, \
  'llama-2-7b_a100_prefill-decode.dat' index 24 with lines lw 1 dt 3 lc rgb '#1f77b4' notitle, \
  'llama-2-7b_a100_prefill-decode.dat' index 25 using 1:2:3 with labels left font ',9' tc rgb '#333333' notitle, \
  'llama-2-7b_a100_prefill-decode.dat' index 26 using 1:2:3 with labels left font ',9' tc rgb '#b00000' notitle, \
  keyentry title '1: attn_norm,mlp_norm,final_norm,lm_head,', \
  keyentry title '    q_proj,k_proj,v_proj,attention,o_proj,gate_proj,', \
  keyentry title '    up_proj,down_proj'
unset output
