#!/bin/sh
# seeds.sh: (re)write the seed corpora tests/fuzz/corpus/NAME/ from the
# table tests' rows (tests/check_http1.c, the example configurations) and
# a few hand-picked inputs. Run from anywhere; it replaces the corpora.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/tests/fuzz/corpus
rm -rf "$out"
mkdir -p "$out/proxyproto" "$out/http1" "$out/headers" "$out/nulscan" \
    "$out/conf" "$out/logjson" "$out/e2e"

# seed DIR NAME SELECTOR TEXT: one file, TEXT with C escapes, after an
# octal selector byte (fuzz_http1's first byte) unless SELECTOR is "-".
seed() {
	if [ "$3" = - ]; then
		printf '%b' "$4" > "$out/$1/$2"
	else
		{ printf "\\$3"; printf '%b' "$4"; } > "$out/$1/$2"
	fi
}

# The first string of each one-line row of a table of check_http1.c.
rows() {
	sed -n "/$1\\[\\] = {/,/^};/p" "$top/tests/check_http1.c" |
	    sed -n "s/^	{ $2\"\\(\\([^\"\\\\]\\|\\\\.\\)*\\)\".*/\\1/p"
}

# Response heads: as parsed (selector 0), after HEAD (3), after an
# upgrade request (6).
i=0
rows resp_cases '"[^"]*", ' | while IFS= read -r r; do
	i=$((i + 1))
	seed http1 "resp-$i" 000 "$r"
	[ $((i % 4)) -eq 0 ] && seed http1 "resp-head-$i" 003 "$r"
	:
done
seed http1 resp-101 006 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'

# Chunk-size lines (selector 1).
i=0
rows chunk_cases '' | while IFS= read -r r; do
	i=$((i + 1))
	seed http1 "chunk-$i" 001 "$r"
done

# Requests (selector 2: HTTP/1.0, 5: HTTP/1.1): method, URI, then name
# and value pairs, NUL-separated.
seed http1 req-get 005 'GET\0/\0Host\0example.com'
seed http1 req-post 005 'POST\0/upload\0Host\0example.com\0Transfer-Encoding\0chunked'
seed http1 req-cl 005 'PUT\0/a?b=c\0Host\0h\0Content-Length\00010'
seed http1 req-abs 005 'GET\0http://example.com/x\0Host\0example.com'
seed http1 req-options 005 'OPTIONS\0*\0Host\0h:8080'
seed http1 req-10 002 'GET\0/\0Connection\0keep-alive, close'
seed http1 req-v6 005 'GET\0/\0Host\0[::1]:80'

# Headers: responses (selector 0, 2 after HEAD) and requests (3: HTTP/1.1,
# 7: from a trusted peer, 043: with a body), as fuzz_headers reads them.
i=0
rows resp_cases '"[^"]*", ' | while IFS= read -r r; do
	i=$((i + 1))
	[ $((i % 2)) -eq 0 ] && seed headers "resp-$i" 000 "$r"
	:
done
seed headers resp-hop 000 'HTTP/1.1 200 OK\r\nConnection: x-a, close\r\nX-A: 1\r\nKeep-Alive: 5\r\nX-Rule: client\r\nContent-Length: 0\r\n\r\n'
seed headers req-get 003 'GET\0/\0Host\0example.com\0X-Rule\0client'
seed headers req-hop 003 'GET\0/a\0Host\0h\0Connection\0x-b, keep-alive\0X-B\01\0TE\0trailers'
seed headers req-xff 007 'GET\0/\0Host\0h\0X-Forwarded-For\0198.51.100.7\0Forwarded\0for=x\0Via\01.0 a'
seed headers req-post 043 'POST\0/up\0Host\0h\0Content-Length\00008\0Expect\0100-continue'
seed headers req-10 001 'GET\0/\0Accept\0*/*'

# NUL scanner: heads with and without NUL, line ends of both kinds.
seed nulscan clean - 'GET / HTTP/1.1\r\nHost: a\r\n\r\nbody\0'
seed nulscan nul-head - 'GET / HTTP/1.1\r\nX: a\0b\r\n\r\n'
seed nulscan bare-lf - 'GET / HTTP/1.1\nHost: a\n\n\0'
seed nulscan cr-lines - 'GET /\r\r\n\r\r\nX'

# PROXY protocol: the headers of tests/fuzz/README.md.
seed proxyproto v1-tcp4 - 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /'
seed proxyproto v1-tcp6 - 'PROXY TCP6 2001:db8::1 ::1 1234 80\r\n'
seed proxyproto v1-unknown - 'PROXY UNKNOWN\r\n'
sig='\r\n\r\n\0\r\nQUIT\n'
seed proxyproto v2-tcp4 - "$sig"'\041\021\0\014\177\0\0\001\012\0\0\002\324\061\001\273'
seed proxyproto v2-local - "$sig"'\040\0\0\0'

# Configurations: the shipped examples, and some values alone.
for f in "$top"/conf/*.ini; do
	cp "$f" "$out/conf/${f##*/}"
done
seed conf minimal - '[listener web]\nlisten = 127.0.0.1:8080\nupstream = app\n[upstream app]\nserver = 127.0.0.1:9000\n'
seed conf include - 'include = fuzz-inc.ini\ninclude = none/*.ini\n[listener web]\nlisten = 127.0.0.1:8080\nupstream = fuzzinc\nrequest_header = set X-A ${FUZZ_UNSET:-a$$b}\n'
seed conf dur - '250ms'
seed conf size - '64k'
seed conf bool - 'yes'
seed conf rules - '[listener web]\nlisten = 127.0.0.1:8080\nupstream = app\nrequest_header = set X-Client $remote_addr\nresponse_header = remove Server\n[upstream app]\nserver = 127.0.0.1:9000\nrequest_header = add X-Id $request_id\n'

# The JSON escaper: room byte (377: plenty) then bytes of every class of
# tests/check_log.c's esc_cases.
seed logjson plain 377 '/path?q=1'
seed logjson escapes 377 'a"b\\\\c\001\037\177'
seed logjson valid 377 '\302\200\337\277\340\240\200\357\277\277\360\220\200\200\364\217\277\277'
seed logjson overlong 377 '\300\200\340\200\200\360\200\200\200'
seed logjson surrogate 377 '\355\240\200\364\220\200\200\365'
seed logjson truncated 377 '\342\202x\360\237\230'
seed logjson short 012 'ab\303\251"\001\377'
# Whole client connections (fuzz_e2e): the selector picks the listener,
# 000 plain, 001 PROXY protocol, 002 small limits, 003 the admin.
seed e2e get 000 'GET /app/x?y=1 HTTP/1.1\r\nHost: www.example.com\r\nCookie: sid=0123456789abcdef\r\n\r\n'
seed e2e pipeline 000 'GET / HTTP/1.1\r\nHost: a\r\n\r\nHEAD /app/ HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.0\r\n\r\n'
seed e2e route-cond 000 'GET /x/y HTTP/1.1\r\nHost: b.example.com\r\nX-Canary: 1\r\n\r\n'
seed e2e post-cl 000 'POST /app/form HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2'
seed e2e post-chunked 000 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n'
seed e2e expect 000 'PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc'
seed e2e upgrade 000 'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
seed e2e absolute 000 'GET http://www.example.com/app/ HTTP/1.1\r\nHost: www.example.com\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\n\r\n'
seed e2e options 000 'OPTIONS * HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n'
seed e2e dotdot 000 'GET /app/../%2e%2e/x//y HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n'
seed e2e nul 000 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n'
seed e2e smuggle 000 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n'
seed e2e pp-v1 001 'PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'
seed e2e pp-v2 001 '\r\n\r\n\0\r\nQUIT\n\041\021\0\014\300\0\002\001\300\0\002\002\334\004\001\273GET / HTTP/1.1\r\nHost: a\r\n\r\n'
seed e2e small-headers 002 'GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n\r\n'
seed e2e small-body 002 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n'
seed e2e admin-status 003 'GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
seed e2e admin-post 003 'POST /drain HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nContent-Length: 12\r\n\r\nupstream=app'
