# Chart for the sluice benchmark: gnuplot -e "dir='contrib/bench/out'" chart.gp
# Reads dir/ratios.dat, dir/abs.dat and dir/labels.gp (written by report.py);
# writes dir/results.png. Top: ratios sluice/nginx and sluice/haproxy per
# figure (1.0 = parity). Bottom: each figure's values for the four servers.
if (!exists("dir")) dir = "."
load dir."/labels.gp"

set terminal pngcairo size 1600,1150 font "DejaVu Sans,10" noenhanced
set output dir."/results.png"
set multiplot title "sluice vs nginx vs HAProxy (".SUBTITLE.")" font ",13"

# --- ratios -----------------------------------------------------------------
set origin 0, 0.50
set size 1, 0.47
set title "sluice / other, per figure.  ↑ figures: above 1 favours sluice.  ↓ figures: below 1 favours sluice." font ",11"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.75 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set ylabel "ratio"
set xtics nomirror scale 0 font ",10"
set key top right
set bars 0.5
plot dir."/ratios.dat" using 2:3:4:xtic(1) title "sluice / nginx" lc rgb "#4477aa", \
     "" using 5:6:7 title "sluice / haproxy" lc rgb "#ee7733", \
     1 with lines dt 2 lw 1.5 lc rgb "black" notitle

# --- absolute values, one small panel per figure --------------------------------
unset key
unset grid
set linetype 1 lc rgb "#999999"
set linetype 2 lc rgb "#228833"
set linetype 3 lc rgb "#4477aa"
set linetype 4 lc rgb "#ee7733"
set style data boxes
set boxwidth 0.7
set xrange [-0.6:3.6]
set yrange [0:*]
unset ylabel
set grid ytics
set xtics ("origin" 0, "sluice" 1, "nginx" 2, "haproxy" 3) font ",9" scale 0
set ytics font ",9"
cols = 5
rows = (N + cols - 1) / cols
pw = 1.0 / cols
ph = 0.48 / rows
do for [i=1:N] {
    set origin pw * ((i - 1) % cols), 0.48 - ph * ((i - 1) / cols + 1)
    set size pw, ph
    set title TITLE[i] font ",10"
    plot dir."/abs.dat" index (i - 1) using 1:3:($1 + 1) with boxes lc variable fill solid 0.75 border -1, \
         "" index (i - 1) using 1:3:4:5 with yerrorbars pt -1 lc rgb "black"
}
unset multiplot
