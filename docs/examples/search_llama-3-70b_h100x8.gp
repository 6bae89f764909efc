# regenerate with: gnuplot search_llama-3-70b_h100x8.gp
set terminal pngcairo size 1200,750 noenhanced font 'DejaVu Sans,11' pointscale 1.7
set output 'search_llama-3-70b_h100x8.png'
set title 'llama-3-70b on 8 x h100-sxm: deployments'
set grid lc rgb '#dddddd'
set xlabel 'tokens/s per user (1 / TPOT p90)'
set ylabel 'output tokens/s per GPU'
set key outside right top box opaque
set yrange [0:*]
set arrow from first 33.333333333333336, graph 0 to first 33.333333333333336, graph 1 nohead lw 2 dt 3 lc rgb '#555555'
set label 'TPOT p90 target 30.0 ms' at first 33.333333333333336, graph 0.95 right offset -0.7,0 tc rgb '#555555'
plot \
  'search_llama-3-70b_h100x8.dat' index 0 with points pt 6 ps 0.8 lc rgb '#1f77b4' axes x1y1 title 'misses the TPOT target only', \
  'search_llama-3-70b_h100x8.dat' index 1 with points pt 6 ps 0.8 lc rgb '#2ca02c' axes x1y1 title 'meets both targets', \
  'search_llama-3-70b_h100x8.dat' index 2 with linespoints lw 2 pt 7 lc rgb '#d62728' axes x1y1 title 'Pareto frontier', \
  'search_llama-3-70b_h100x8.dat' index 3 with points pt 7 ps 2.2 lc rgb '#000000' axes x1y1 title 'choice'
unset output
