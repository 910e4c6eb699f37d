# Chart for the sluice benchmark: gnuplot -e "dir='contrib/bench/out'" chart.gp
# Reads dir/ratios.dat, dir/abs.dat, dir/grid.dat and dir/labels.gp (written
# by report.py); writes dir/results.png. Top: ratios sluice/nginx and
# sluice/haproxy per figure (1.0 = parity). Middle (when the grid ran): the
# same ratios of MB/s per grid cell. Bottom: each figure's values for the
# five servers (the origin is the ceiling, the floor a bare evhttp server).
if (!exists("dir")) dir = "."
load dir."/labels.gp"

# Bands, as fractions of the height: ratios, grid, small panels.
if (GRID_N > 0) {
    set terminal pngcairo size 1600,1600 font "DejaVu Sans,10" noenhanced
    top_y = 0.68; top_h = 0.30; grid_y = 0.36; grid_h = 0.31; abs_h = 0.35
} else {
    set terminal pngcairo size 1600,1150 font "DejaVu Sans,10" noenhanced
    top_y = 0.50; top_h = 0.47; abs_h = 0.48
}
set output dir."/results.png"
set multiplot title "sluice vs nginx vs HAProxy (".SUBTITLE.")" font ",13"

# --- ratios -----------------------------------------------------------------
set origin 0, top_y
set size 1, top_h
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

# --- the grid: one pair of bars per cell ------------------------------------------
if (GRID_N > 0) {
    set origin 0, grid_y
    set size 1, grid_h
    set title GRID_TITLE font ",11"
    set xtics rotate by 45 right font ",9"
    plot dir."/grid.dat" using 2:3:4:xtic(1) title "sluice / nginx" lc rgb "#4477aa", \
         "" using 5:6:7 title "sluice / haproxy" lc rgb "#ee7733", \
         1 with lines dt 2 lw 1.5 lc rgb "black" notitle
    set xtics norotate
}

# --- absolute values, one small panel per figure --------------------------------
unset key
unset grid
set linetype 1 lc rgb "#999999"
set linetype 2 lc rgb "#bbbbbb"
set linetype 3 lc rgb "#228833"
set linetype 4 lc rgb "#4477aa"
set linetype 5 lc rgb "#ee7733"
set style data boxes
set boxwidth 0.7
set xrange [-0.6:4.6]
set yrange [0:*]
unset ylabel
set grid ytics
set xtics ("origin" 0, "floor" 1, "sluice" 2, "nginx" 3, "haproxy" 4) font ",8" scale 0 rotate by 30 right
set ytics font ",9"
cols = 5
rows = (N + cols - 1) / cols
pw = 1.0 / cols
ph = abs_h / rows
do for [i=1:N] {
    set origin pw * ((i - 1) % cols), abs_h - ph * ((i - 1) / cols + 1)
    set size pw, ph
    set title TITLE[i] font ",10"
    plot dir."/abs.dat" index (i - 1) using 1:3:($1 + 1) with boxes lc variable fill solid 0.75 border -1, \
         "" index (i - 1) using 1:3:4:5 with yerrorbars pt -1 lc rgb "black"
}
unset multiplot
