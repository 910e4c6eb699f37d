#!/bin/sh
# depcheck.sh: the dependency rule of doc/ARCHITECTURE.md, checked on the
# #include lines of the tree (run from the top; `make depcheck`).
#
#  1. What each place may include (the project's headers by folder, and
#     <event2/...> and <openssl/...>); see the table below.
#  2. No include circle between modules (a .c and its .h are one module):
#     the module graph must sort topologically (tsort).
#  3. No file outside the server side (proxy/back/) writes a server field.
#  4. Lines of conf/, tls/ and proxy/ fit in 80 columns (doc/STYLE.md).
#
# Prints every violation and exits 1 when there is one, else prints a
# one-line summary and exits 0.
set -u
cd "$(dirname "$0")/.." || exit 2

# place: a pattern of files, the folders it may include ("spine" is the
# headers directly in proxy/), and whether libevent and OpenSSL are allowed.
rules='
conf/*		|conf				|-	|-
tls/*		|conf tls			|-	|ssl
proxy/http/*	|http				|-	|-
proxy/base/*	|base conf			|event	|-
proxy/back/*	|back http base conf tls		|event	|ssl
proxy/front/*	|front http base conf tls spine	|event	|ssl
proxy/ctl/*	|ctl spine front back http base conf tls	|event	|ssl
proxy/main.c	|ctl				|-	|-
proxy/*		|spine back front http base conf tls	|event	|ssl
'

bad=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# The folder a project header is in: conf, tls, spine, or a proxy wing.
folder() {
	case $1 in
	proxy/*/*)	f=${1#proxy/}; echo "${f%%/*}" ;;
	proxy/*)	echo spine ;;
	*)		echo "${1%%/*}" ;;
	esac
}

# The rule line of a source file: the first pattern it matches.
rule_of() {
	echo "$rules" | while IFS='|' read -r pat allow ev ssl; do
		set -f			# the patterns are not file names here
		pat=$(echo $pat)
		[ -z "$pat" ] && continue
		case $1 in
		$pat)	echo "$(echo $allow)|$(echo $ev)|$(echo $ssl)"
			return ;;
		esac
	done
}

files=$(ls conf/*.[ch] tls/*.[ch] proxy/*.[ch] proxy/*/*.[ch] 2>/dev/null)
for f in $files; do
	r=$(rule_of "$f")
	allow=${r%%|*}; rest=${r#*|}; ev=${rest%%|*}; ssl=${rest#*|}
	grep -n '^#include' "$f" > "$tmp/inc"
	while IFS= read -r line; do
		n=${line%%:*}
		inc=$(echo "$line" | sed -n 's/.*#include *[<"]\([^>"]*\)[>"].*/\1/p')
		case $line in
		*'<event2/'*)
			if [ "$ev" = - ]; then
				echo "$f:$n: includes <$inc>: no libevent here"
				bad=1
			fi ;;
		*'<openssl/'*)
			if [ "$ssl" = - ]; then
				echo "$f:$n: includes <$inc>: no OpenSSL here"
				bad=1
			fi ;;
		*'"'*)
			d=$(folder "$inc")
			case " $allow " in
			*" $d "*) ;;
			*)	echo "$f:$n: includes \"$inc\" ($d): not allowed" \
				    "(may use: $allow)"
				bad=1 ;;
			esac
			# a private header (X_int.h, X_local.h) is X's own
			mod=${inc%.h}; mod=${mod%_int}; mod=${mod%_local}
			me=${f%.[ch]}; me=${me%_int}; me=${me%_local}
			[ "$mod" != "$me" ] && echo "$me $mod" >> "$tmp/edges"
			;;
		esac
	done < "$tmp/inc"
done

# 2. circles
if [ -s "$tmp/edges" ] && ! tsort "$tmp/edges" > /dev/null 2> "$tmp/tsort"
then
	echo "include circle between modules:"
	sed -e 's/^tsort: [^:]*: /  /' -e 's/^tsort: /  /' "$tmp/tsort"
	bad=1
fi

# 3. server fields written outside proxy/back/
fields='state|admin_drain|weight_override|conf_weight|drain_ev|drain_expired|check_ev|check_uc|check_status|inflight|requests|connects|reuses|invalid|held|retired|safe_fresh|refs|health|learn'
for f in $(ls proxy/*.c proxy/*/*.c | grep -v '^proxy/back/'); do
	grep -nE "(srv|s|ex->srv|h->srv)->($fields)[^a-z_]*( =[^=]|\+\+|--)|SLUICE_(STORE|INC|DEC|ADD)\(&(srv|s|ex->srv|h->srv)->($fields)\b" \
	    "$f" | while IFS= read -r line; do
		echo "$f:${line%%:*}: writes a server field outside proxy/back/"
	done | tee -a "$tmp/writes"
done
[ -s "$tmp/writes" ] && bad=1

# 4. 80 columns, a tab being eight
for f in $files; do
	expand -t8 "$f" | awk -v f="$f" 'length($0) > 80 {
		print f ":" NR ": " length($0) " columns"; bad = 1 }
	END { exit bad }' || bad=1
done

if [ $bad -ne 0 ]; then
	echo "depcheck: the dependency rule is broken (doc/ARCHITECTURE.md)"
	exit 1
fi
echo "depcheck: $(echo "$files" | wc -w) files, $(sort -u "$tmp/edges" |
    wc -l) module dependencies, no circle, the rule holds"
