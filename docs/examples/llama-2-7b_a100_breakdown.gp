# regenerate with: gnuplot llama-2-7b_a100_breakdown.gp
set terminal pngcairo size 1200,750 noenhanced font 'DejaVu Sans,11' pointscale 1.7
set output 'llama-2-7b_a100_breakdown.png'
set title 'llama-2-7b on a100-80g-sxm: where each step''s time goes (batch 8)'
set grid lc rgb '#dddddd'
set ylabel 'share of the step''s time (%)'
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set key outside right top box opaque
set yrange [0:*]
palette = '#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #aec7e8 #ffbb78 #98df8a #ff9896 #c5b0d5 #c49c94 #f7b6d2 #c7c7c7 #dbdb8d #9edae5'
plot for [i=2:18] 'llama-2-7b_a100_breakdown.dat' using i:xtic(1) title columnheader(i) lc rgb word(palette, (i-2)%20+1)
unset output
