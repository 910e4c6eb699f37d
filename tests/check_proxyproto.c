/*
 * check_proxyproto: the PROXY protocol parser (proxy/http/proxyproto.c),
 * table driven. Valid v1 and v2 headers of every kind give their
 * addresses and their exact length, the connection's data after them left
 * alone; every prefix of one is "more"; malformed ones are refused, and as
 * early as the bytes allow (an HTTP or TLS client on its first byte); a
 * verdict never changes when bytes are added.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http/proxyproto.h"
#include "tests/check_main.h"

#define NELEM(a)	(int)(sizeof(a) / sizeof((a)[0]))

/* What a call leaves in *used when it must not write it. */
#define USED_UNSET	((size_t)999999)

/* The v2 signature, and runs of zero bytes to fill address blocks. */
#define SIG	"\r\n\r\n\0\r\nQUIT\n"
#define Z4	"\0\0\0\0"
#define Z16	Z4 Z4 Z4 Z4
#define Z100	Z16 Z16 Z16 Z16 Z16 Z16 Z4
#define Z108	Z100 Z4 Z4
#define Z216	Z108 Z108
#define Z500	Z100 Z100 Z100 Z100 Z100
#define Z512	Z500 Z4 Z4 Z4

/* 127.0.0.1 -> 10.0.0.2, 54321 -> 443: a v2 IPv4 address block. */
#define A4	"\x7f\x00\x00\x01" "\x0a\x00\x00\x02" "\xd4\x31\x01\xbb"
/* 2001:db8::1 -> 2001:db8::2, 1234 -> 80: a v2 IPv6 address block. */
#define A6	"\x20\x01\x0d\xb8" Z4 Z4 "\0\0\0\x01" \
		"\x20\x01\x0d\xb8" Z4 Z4 "\0\0\0\x02" "\x04\xd2\x00\x50"
/* Two TLVs, skipped: ALPN "h2" (5 bytes) and a NOOP (3 bytes). */
#define TLVS	"\x01\x00\x02" "h2" "\x04\x00\x00"

/* The longest IPv6 text address, 39 characters. */
#define F39	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
/* 100 bytes of a line that never ends. */
#define X10	"xxxxxxxxxx"
#define X100	X10 X10 X10 X10 X10 X10 X10 X10 X10 X10

/* The connection's own first bytes, after a header. */
#define GET	"GET / HTTP/1.1\r\nHost: a\r\n\r\n"

/* An input and what the parser must make of it. */
struct pp_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 status;
	size_t		 used;		/* on OK */
	int		 version, local, family;
	const char	*src, *dst;	/* text; NULL: all zero */
	unsigned	 sport, dport;
	const char	*why;		/* on BAD: a part of the reason */
};

/* Header h followed by the connection's data t; v1, with addresses. */
#define OK1(n, h, t, fam, a, b, p, q) \
	{ n, h t, sizeof(h t) - 1, PROXYPROTO_OK, sizeof(h) - 1, 1, 0, fam, \
	    a, b, p, q, NULL }
/* A v1 UNKNOWN header h followed by t. */
#define LOCAL1(n, h, t) \
	{ n, h t, sizeof(h t) - 1, PROXYPROTO_OK, sizeof(h) - 1, 1, 1, \
	    AF_UNSPEC, NULL, NULL, 0, 0, NULL }
/* A v2 header h followed by t. */
#define OK2(n, h, t, loc, fam, a, b, p, q) \
	{ n, h t, sizeof(h t) - 1, PROXYPROTO_OK, sizeof(h) - 1, 2, loc, \
	    fam, a, b, p, q, NULL }
/* A valid start, to be continued. */
#define MORE(n, s) \
	{ n, s, sizeof(s) - 1, PROXYPROTO_MORE, 0, 0, 0, 0, NULL, NULL, 0, \
	    0, NULL }
/* Refused, the reason containing w. */
#define BAD(n, s, w) \
	{ n, s, sizeof(s) - 1, PROXYPROTO_BAD, 0, 0, 0, 0, NULL, NULL, 0, 0, \
	    w }

static const struct pp_case cases[] = {
	/* v1, valid */
	OK1("v1 tcp4", "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
	    "", AF_INET, "192.168.0.1", "192.168.0.11", 56324, 443),
	OK1("v1 tcp4 + data",
	    "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", GET,
	    AF_INET, "192.168.0.1", "192.168.0.11", 56324, 443),
	OK1("v1 tcp4 longest",
	    "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", "",
	    AF_INET, "255.255.255.255", "255.255.255.255", 65535, 65535),
	OK1("v1 tcp4 zeros", "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n", "\r\n",
	    AF_INET, "0.0.0.0", "0.0.0.0", 0, 0),
	OK1("v1 tcp4 + v1 line as data",
	    "PROXY TCP4 10.1.2.3 10.4.5.6 1 2\r\n",
	    "PROXY TCP4 6.6.6.6 6.6.6.6 6 6\r\n",
	    AF_INET, "10.1.2.3", "10.4.5.6", 1, 2),
	OK1("v1 tcp6", "PROXY TCP6 2001:db8::1 2001:db8::2 1234 443\r\n", GET,
	    AF_INET6, "2001:db8::1", "2001:db8::2", 1234, 443),
	OK1("v1 tcp6 longest", "PROXY TCP6 " F39 " " F39 " 65535 65535\r\n",
	    "", AF_INET6, F39, F39, 65535, 65535),
	OK1("v1 tcp6 v4-mapped, upper case",
	    "PROXY TCP6 ::FFFF:10.0.0.1 ::1 80 8080\r\n", "",
	    AF_INET6, "::ffff:10.0.0.1", "::1", 80, 8080),
	LOCAL1("v1 unknown", "PROXY UNKNOWN\r\n", ""),
	LOCAL1("v1 unknown + data", "PROXY UNKNOWN\r\n", GET),
	LOCAL1("v1 unknown longest (107)",
	    "PROXY UNKNOWN " F39 " " F39 " 65535 65535\r\n", ""),
	LOCAL1("v1 unknown, anything before the CRLF",
	    "PROXY UNKNOWN whatever \x01\x7f\xff \0 here\r\n", "\n\n"),
	LOCAL1("v1 unknown, a v1 line as data", "PROXY UNKNOWN\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r\n"),

	/* v2, valid */
	OK2("v2 tcp4", SIG "\x21\x11\x00\x0c" A4, "", 0, AF_INET,
	    "127.0.0.1", "10.0.0.2", 54321, 443),
	OK2("v2 tcp4 + data", SIG "\x21\x11\x00\x0c" A4, GET, 0, AF_INET,
	    "127.0.0.1", "10.0.0.2", 54321, 443),
	OK2("v2 tcp4 + TLVs + data", SIG "\x21\x11\x00\x14" A4 TLVS, GET, 0,
	    AF_INET, "127.0.0.1", "10.0.0.2", 54321, 443),
	OK2("v2 tcp4 + v2 header as data", SIG "\x21\x11\x00\x0c" A4,
	    SIG "\x21\x11\x00\x0c" A4, 0, AF_INET, "127.0.0.1", "10.0.0.2",
	    54321, 443),
	OK2("v2 tcp4, 500 bytes of TLVs (the most)",
	    SIG "\x21\x11\x02\x00" A4 Z500, "", 0, AF_INET, "127.0.0.1",
	    "10.0.0.2", 54321, 443),
	OK2("v2 tcp6", SIG "\x21\x21\x00\x24" A6, "", 0, AF_INET6,
	    "2001:db8::1", "2001:db8::2", 1234, 80),
	OK2("v2 tcp6 + TLVs + data", SIG "\x21\x21\x00\x2c" A6 TLVS, GET, 0,
	    AF_INET6, "2001:db8::1", "2001:db8::2", 1234, 80),
	OK2("v2 udp4", SIG "\x21\x12\x00\x0c" A4, GET, 0, AF_INET,
	    "127.0.0.1", "10.0.0.2", 54321, 443),
	OK2("v2 udp6 + TLVs", SIG "\x21\x22\x00\x2c" A6 TLVS, "", 0,
	    AF_INET6, "2001:db8::1", "2001:db8::2", 1234, 80),
	OK2("v2 unix stream", SIG "\x21\x31\x00\xd8" Z216, GET, 0, AF_UNSPEC,
	    NULL, NULL, 0, 0),
	OK2("v2 unix dgram + TLVs", SIG "\x21\x32\x00\xe0" Z216 TLVS, "", 0,
	    AF_UNSPEC, NULL, NULL, 0, 0),
	OK2("v2 unix, no address (not read anyway)", SIG "\x21\x31\x00\x00",
	    "", 0, AF_UNSPEC, NULL, NULL, 0, 0),
	OK2("v2 proxy unspec", SIG "\x21\x00\x00\x00", GET, 0, AF_UNSPEC,
	    NULL, NULL, 0, 0),
	OK2("v2 proxy unspec, address block skipped",
	    SIG "\x21\x00\x00\x0c" A4, "", 0, AF_UNSPEC, NULL, NULL, 0, 0),
	OK2("v2 local", SIG "\x20\x00\x00\x00", "", 1, AF_UNSPEC, NULL, NULL,
	    0, 0),
	OK2("v2 local + TLVs + data", SIG "\x20\x00\x00\x08" TLVS, GET, 1,
	    AF_UNSPEC, NULL, NULL, 0, 0),
	OK2("v2 local tcp4, address ignored", SIG "\x20\x11\x00\x0c" A4, GET,
	    1, AF_UNSPEC, NULL, NULL, 0, 0),
	OK2("v2 local tcp6, no address", SIG "\x20\x21\x00\x00", GET, 1,
	    AF_UNSPEC, NULL, NULL, 0, 0),
	OK2("v2 local unix + TLVs", SIG "\x20\x31\x00\x08" TLVS, "", 1,
	    AF_UNSPEC, NULL, NULL, 0, 0),
	OK2("v2 local, 512 bytes (the most)", SIG "\x20\x00\x02\x00" Z512,
	    "", 1, AF_UNSPEC, NULL, NULL, 0, 0),

	/* valid starts */
	MORE("nothing", ""),
	MORE("P", "P"),
	MORE("PROXY", "PROXY"),
	MORE("PROXY ", "PROXY "),
	MORE("v1 unknown, no CRLF yet", "PROXY UNKNOWN"),
	MORE("v1 tcp4, the LF to come",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r"),
	MORE("v1 tcp6, the dport to come", "PROXY TCP6 ::1 ::1 80 4"),
	MORE("CR", "\r"),
	MORE("v2 signature", SIG),
	MORE("v2 fixed part", SIG "\x21\x11\x00\x0c"),
	MORE("v2 part of the address", SIG "\x21\x11\x00\x0c" "\x7f\x00"),
	MORE("v2 TLVs to come", SIG "\x21\x11\x00\x14" A4),

	/* not the PROXY protocol */
	BAD("HTTP request line", "GET / HTTP/1.1\r\n", "not a PROXY"),
	BAD("HTTP, first byte", "G", "not a PROXY"),
	BAD("TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	    "not a PROXY"),
	BAD("TLS, first byte", "\x16", "not a PROXY"),
	BAD("SSH banner", "SSH-2.0-OpenSSH_9.6\r\n", "not a PROXY"),
	BAD("lower case", "proxy TCP4 1.2.3.4 5.6.7.8 80 443\r\n",
	    "not a PROXY"),
	BAD("PROXY without space", "PROXY\r\n", "not a PROXY"),
	BAD("PROXYTCP4", "PROXYTCP4 1.2.3.4 5.6.7.8 80 443\r\n",
	    "not a PROXY"),
	BAD("PR OXY", "PR OXY", "not a PROXY"),
	BAD("PUT", "PUT /", "not a PROXY"),

	/* v1, malformed */
	BAD("v1 two spaces after PROXY",
	    "PROXY  TCP4 1.2.3.4 5.6.7.8 80 443\r\n", "empty field"),
	BAD("v1 two spaces after TCP4",
	    "PROXY TCP4  1.2.3.4 5.6.7.8 80 443\r\n", "empty field"),
	BAD("v1 two spaces between addresses",
	    "PROXY TCP4 1.2.3.4  5.6.7.8 80 443\r\n", "empty field"),
	BAD("v1 two spaces between ports",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 80  443\r\n", "empty field"),
	BAD("v1 space before CRLF", "PROXY TCP4 1.2.3.4 5.6.7.8 80 \r\n",
	    "empty field"),
	BAD("v1 nothing after PROXY", "PROXY \r\n", "empty field"),
	BAD("v1 trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 80 443 \r\n",
	    "more than five"),
	BAD("v1 sixth field", "PROXY TCP4 1.2.3.4 5.6.7.8 80 443 9\r\n",
	    "more than five"),
	BAD("v1 trailing space, no CRLF yet",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 80 443 ", "more than five"),
	BAD("v1 tab", "PROXY TCP4\t1.2.3.4 5.6.7.8 80 443\r\n", "protocol"),
	BAD("v1 no dport", "PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n", "missing"),
	BAD("v1 no ports", "PROXY TCP4 1.2.3.4 5.6.7.8\r\n", "missing"),
	BAD("v1 no dst", "PROXY TCP4 1.2.3.4\r\n", "missing"),
	BAD("v1 protocol only", "PROXY TCP4\r\n", "missing"),
	BAD("v1 LF only", "PROXY TCP4 1.2.3.4 5.6.7.8 80 443\n",
	    "LF without CR"),
	BAD("v1 LF mid-line", "PROXY TCP4 1.2.3.4\n", "LF without CR"),
	BAD("v1 LF CR", "PROXY TCP4 1.2.3.4 5.6.7.8 80 443\n\r",
	    "LF without CR"),
	BAD("v1 unknown LF only", "PROXY UNKNOWN\n", "LF without CR"),
	BAD("v1 CR then X", "PROXY TCP4 1.2.3.4 5.6.7.8 80 443\rX",
	    "CR without LF"),
	BAD("v1 CR CR LF", "PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r\r\n",
	    "CR without LF"),
	BAD("v1 unknown, lone CR", "PROXY UNKNOWN a\rb\r\n", "CR without LF"),
	BAD("v1 unknown, 108 bytes",
	    "PROXY UNKNOWN " F39 " " F39 " 65535 655350\r\n", "too long"),
	BAD("v1 unknown, no CRLF in 113 bytes", "PROXY UNKNOWN" X100,
	    "too long"),
	BAD("v1 unknown, 106 bytes and no CR",
	    "PROXY UNKNOWN" X10 X10 X10 X10 X10 X10 X10 X10 X10 "xxx",
	    "too long"),
	BAD("v1 TCP5", "PROXY TCP5 1.2.3.4 5.6.7.8 80 443\r\n", "protocol"),
	BAD("v1 UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 80 443\r\n", "protocol"),
	BAD("v1 tcp4 lower case", "PROXY tcp4 1.2.3.4 5.6.7.8 80 443\r\n",
	    "protocol"),
	BAD("v1 TCP46", "PROXY TCP46 1.2.3.4 5.6.7.8 80 443\r\n", "protocol"),
	BAD("v1 UNKN", "PROXY UNKN\r\n", "protocol"),
	BAD("v1 X, no CRLF yet", "PROXY X", "protocol"),
	BAD("v1 TCP4 with IPv6", "PROXY TCP4 ::1 ::1 80 443\r\n",
	    "source address"),
	BAD("v1 TCP6 with IPv4", "PROXY TCP6 1.2.3.4 5.6.7.8 80 443\r\n",
	    "source address"),
	BAD("v1 octet 256", "PROXY TCP4 256.1.1.1 5.6.7.8 80 443\r\n",
	    "source address"),
	BAD("v1 three octets", "PROXY TCP4 1.2.3 5.6.7.8 80 443\r\n",
	    "source address"),
	BAD("v1 leading zero octet", "PROXY TCP4 01.2.3.4 5.6.7.8 80 443\r\n",
	    "source address"),
	BAD("v1 empty octet", "PROXY TCP4 1..3.4 5.6.7.8 80 443\r\n",
	    "source address"),
	BAD("v1 dst leading zero", "PROXY TCP4 1.2.3.4 5.6.7.08 80 443\r\n",
	    "destination address"),
	BAD("v1 dst five octets", "PROXY TCP4 1.2.3.4 5.6.7.8.9 80 443\r\n",
	    "destination address"),
	BAD("v1 dst a name", "PROXY TCP4 1.2.3.4 localhost 80 443\r\n",
	    "destination address"),
	BAD("v1 IPv6 zone", "PROXY TCP6 fe80::1%eth0 ::1 80 443\r\n",
	    "source address"),
	BAD("v1 IPv6 brackets", "PROXY TCP6 [::1] ::1 80 443\r\n",
	    "source address"),
	BAD("v1 IPv6 letter g", "PROXY TCP6 fe80::g ::1 80 443\r\n",
	    "source address"),
	BAD("v1 IPv6 two ::", "PROXY TCP6 1::2::3 ::1 80 443\r\n",
	    "source address"),
	BAD("v1 IPv6 46 characters, no CRLF yet",
	    "PROXY TCP6 0000:0000:0000:0000:0000:0000:0000:0000:0000:0",
	    "source address"),
	BAD("v1 sport 65536", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 443\r\n",
	    "source port"),
	BAD("v1 sport -1", "PROXY TCP4 1.2.3.4 5.6.7.8 -1 443\r\n",
	    "source port"),
	BAD("v1 sport 0080", "PROXY TCP4 1.2.3.4 5.6.7.8 0080 443\r\n",
	    "source port"),
	BAD("v1 sport 00", "PROXY TCP4 1.2.3.4 5.6.7.8 00 443\r\n",
	    "source port"),
	BAD("v1 sport +80", "PROXY TCP4 1.2.3.4 5.6.7.8 +80 443\r\n",
	    "source port"),
	BAD("v1 sport 80a", "PROXY TCP4 1.2.3.4 5.6.7.8 80a 443\r\n",
	    "source port"),
	BAD("v1 sport 0x50", "PROXY TCP4 1.2.3.4 5.6.7.8 0x50 443\r\n",
	    "source port"),
	BAD("v1 sport 123456", "PROXY TCP4 1.2.3.4 5.6.7.8 123456 443\r\n",
	    "source port"),
	BAD("v1 sport 99999, no CRLF yet", "PROXY TCP4 1.2.3.4 5.6.7.8 99999",
	    "source port"),
	BAD("v1 dport 65536", "PROXY TCP4 1.2.3.4 5.6.7.8 80 65536\r\n",
	    "destination port"),
	BAD("v1 dport 0443", "PROXY TCP4 1.2.3.4 5.6.7.8 80 0443\r\n",
	    "destination port"),
	BAD("v1 NUL in dport", "PROXY TCP4 1.2.3.4 5.6.7.8 80 443\0\r\n",
	    "destination port"),

	/* v2, malformed */
	BAD("v2 signature byte 2", "\r\n\n\n\0\r\nQUIT\n\x21\x11\x00\x0c" A4,
	    "not a PROXY"),
	BAD("v2 signature NUL missing", "\r\n\r\n\r\nQUIT\n\x21\x11\x00\x0c" A4,
	    "not a PROXY"),
	BAD("v2 signature quit", "\r\n\r\n\0\r\nquit\n", "not a PROXY"),
	BAD("v2 signature last byte", "\r\n\r\n\0\r\nQUIT\r", "not a PROXY"),
	BAD("v2 version 1", SIG "\x11\x11\x00\x0c" A4, "version"),
	BAD("v2 version 3", SIG "\x31\x11\x00\x0c" A4, "version"),
	BAD("v2 version 0, decided at once", SIG "\x01", "version"),
	BAD("v2 command 2", SIG "\x22\x11\x00\x0c" A4, "command"),
	BAD("v2 command 15, decided at once", SIG "\x2f", "command"),
	BAD("v2 family 0x13", SIG "\x21\x13\x00\x0c" A4, "family"),
	BAD("v2 family 0x41", SIG "\x21\x41\x00\x0c" A4, "family"),
	BAD("v2 family 0x01 (UNSPEC over STREAM)", SIG "\x21\x01\x00\x00",
	    "family"),
	BAD("v2 family 0x10, decided at once", SIG "\x21\x10", "family"),
	BAD("v2 local, family 0xff", SIG "\x20\xff\x00\x00", "family"),
	BAD("v2 tcp4 length 11", SIG "\x21\x11\x00\x0b" "\x7f\x00\x00\x01"
	    "\x0a\x00\x00\x02" "\xd4\x31\x01", "too short"),
	BAD("v2 tcp4 length 0", SIG "\x21\x11\x00\x00", "too short"),
	BAD("v2 udp4 length 4", SIG "\x21\x12\x00\x04" "\x7f\x00\x00\x01",
	    "too short"),
	BAD("v2 tcp6 length 35, decided at once", SIG "\x21\x21\x00\x23",
	    "too short"),
	BAD("v2 tcp6 with an IPv4 block", SIG "\x21\x21\x00\x0c" A4,
	    "too short"),
	BAD("v2 length 513, decided at once", SIG "\x21\x11\x02\x01",
	    "too long"),
	BAD("v2 local length 65535", SIG "\x20\x00\xff\xff", "too long"),
	BAD("v2 unix length 513", SIG "\x21\x31\x02\x01" Z216, "too long"),
};

/* Both addresses and ports of pp are the same as of q. */
static int
pp_same(const struct proxyproto *pp, const struct proxyproto *q)
{
	return pp->version == q->version && pp->local == q->local &&
	    pp->family == q->family &&
	    memcmp(pp->src, q->src, sizeof(pp->src)) == 0 &&
	    memcmp(pp->dst, q->dst, sizeof(pp->dst)) == 0 &&
	    pp->sport == q->sport && pp->dport == q->dport;
}

/*
 * Parse in[0..len) from a heap copy of exactly len bytes (so that a read
 * past len is an overflow the sanitizers see), and check what holds for
 * every call: *out and *used untouched unless OK, a reason on BAD.
 */
static enum proxyproto_status
pp_run(const void *in, size_t len, struct proxyproto *out, size_t *used,
    const char **why)
{
	struct proxyproto	 untouched;
	enum proxyproto_status	 r;
	unsigned char		*copy;

	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, in, len);
	memset(out, 0xa5, sizeof(*out));
	memcpy(&untouched, out, sizeof(untouched));
	*used = USED_UNSET;
	*why = NULL;
	r = proxyproto_parse(copy, len, out, used, why);
	free(copy);
	ck_assert(r == PROXYPROTO_OK || r == PROXYPROTO_MORE ||
	    r == PROXYPROTO_BAD);
	if (r != PROXYPROTO_OK) {
		ck_assert_uint_eq(*used, USED_UNSET);
		ck_assert(memcmp(out, &untouched, sizeof(*out)) == 0);
	} else
		ck_assert_uint_le(*used, len);
	if (r == PROXYPROTO_BAD)
		ck_assert_ptr_nonnull(*why);
	if (r == PROXYPROTO_MORE)	/* the header's promise */
		ck_assert_uint_lt(len, PROXYPROTO_V2_MAX);
	return r;
}

/* The name of a status, for messages. */
static const char *
pp_status(int r)
{
	return r == PROXYPROTO_OK ? "OK" : r == PROXYPROTO_MORE ? "MORE" :
	    "BAD";
}

/* Check the address text want (NULL: zero) against addr of family. */
static void
pp_check_addr(const char *name, const char *want, int family,
    const unsigned char *addr)
{
	unsigned char	 a[16];

	memset(a, 0, sizeof(a));
	if (want != NULL)
		ck_assert_msg(inet_pton(family, want, a) == 1,
		    "%s: bad expected address %s", name, want);
	ck_assert_msg(memcmp(a, addr, sizeof(a)) == 0, "%s: want %s", name,
	    want != NULL ? want : "no address");
}

/* cases[_i]: the verdict, the length, the addresses, the reason. */
START_TEST(test_table)
{
	const struct pp_case	*c = &cases[_i];
	struct proxyproto	 pp;
	const char		*why;
	size_t			 used;
	int			 r;

	r = pp_run(c->in, c->len, &pp, &used, &why);
	ck_assert_msg(r == c->status, "%s: want %s, got %s (%s)", c->name,
	    pp_status(c->status), pp_status(r), why != NULL ? why : "");
	if (r == PROXYPROTO_BAD && c->why != NULL)
		ck_assert_msg(strstr(why, c->why) != NULL,
		    "%s: reason \"%s\", want \"%s\" in it", c->name, why,
		    c->why);
	if (r != PROXYPROTO_OK)
		return;
	ck_assert_msg(used == c->used, "%s: used %zu, want %zu", c->name,
	    used, c->used);
	ck_assert_int_eq(pp.version, c->version);
	ck_assert_int_eq(pp.local, c->local);
	ck_assert_int_eq(pp.family, c->family);
	pp_check_addr(c->name, c->src, c->family, pp.src);
	pp_check_addr(c->name, c->dst, c->family, pp.dst);
	ck_assert_uint_eq(pp.sport, c->sport);
	ck_assert_uint_eq(pp.dport, c->dport);
}
END_TEST

/*
 * Every prefix of cases[_i]: MORE until the verdict, then the same verdict
 * (the same header) for every longer one; a valid header's prefixes are
 * all MORE.
 */
START_TEST(test_prefixes)
{
	const struct pp_case	*c = &cases[_i];
	struct proxyproto	 pp, first;
	const char		*why;
	size_t			 k, used, firstused = 0, decided = 0;
	int			 r, verdict = PROXYPROTO_MORE;

	memset(&first, 0, sizeof(first));
	for (k = 0; k <= c->len; k++) {
		r = pp_run(c->in, k, &pp, &used, &why);
		if (verdict == PROXYPROTO_MORE && r != PROXYPROTO_MORE) {
			verdict = r;
			decided = k;
			first = pp;
			firstused = used;
			continue;
		}
		ck_assert_msg(r == verdict, "%s: %s at %zu bytes, %s at %zu",
		    c->name, pp_status(verdict), decided, pp_status(r), k);
		if (r == PROXYPROTO_OK)
			ck_assert(used == firstused && pp_same(&pp, &first));
	}
	if (c->status == PROXYPROTO_OK)
		ck_assert_msg(decided == c->used, "%s: OK at %zu bytes, "
		    "want %zu", c->name, decided, c->used);
	printf("%s: %s at %zu of %zu bytes\n", c->name, pp_status(verdict),
	    decided, c->len);
}
END_TEST

/* cases[_i] with any one byte more: the same verdict, the same header. */
START_TEST(test_extend)
{
	const struct pp_case	*c = &cases[_i];
	struct proxyproto	 pp, want;
	unsigned char		*in;
	const char		*why;
	size_t			 used, wantused;
	int			 b, r, status;

	status = pp_run(c->in, c->len, &want, &wantused, &why);
	if (status == PROXYPROTO_MORE)
		return;
	in = malloc(c->len + 1);
	ck_assert_ptr_nonnull(in);
	memcpy(in, c->in, c->len);
	for (b = 0; b < 256; b++) {
		in[c->len] = (unsigned char)b;
		r = pp_run(in, c->len + 1, &pp, &used, &why);
		ck_assert_msg(r == status, "%s + 0x%02x: %s, want %s",
		    c->name, b, pp_status(r), pp_status(status));
		if (r == PROXYPROTO_OK)
			ck_assert(used == wantused && pp_same(&pp, &want));
	}
	free(in);
}
END_TEST

/* Byte _i alone: MORE for 'P' and CR (a v1 or v2 start), else refused. */
START_TEST(test_first_byte)
{
	unsigned char		 b = (unsigned char)_i;
	struct proxyproto	 pp;
	const char		*why;
	size_t			 used;
	int			 r;

	r = pp_run(&b, 1, &pp, &used, &why);
	if (b == 'P' || b == '\r')
		ck_assert_int_eq(r, PROXYPROTO_MORE);
	else
		ck_assert_msg(r == PROXYPROTO_BAD, "0x%02x: %s", b,
		    pp_status(r));
}
END_TEST

/*
 * Byte _i of the v1 prefix "PROXY " or of the v2 signature changed to any
 * other value: refused once that byte is seen (but a first byte that
 * starts the other version, decided on the second), and with the rest
 * too.
 */
START_TEST(test_signature_bytes)
{
	static const unsigned char	 v1[] = "PROXY TCP4 1.2.3.4 5.6.7.8 "
					    "80 443\r\n";
	static const unsigned char	 v2[] = SIG "\x21\x11\x00\x0c" A4;
	const unsigned char		*h = _i < 6 ? v1 : v2;
	struct proxyproto		 pp;
	unsigned char			 in[64];
	const char			*why;
	size_t				 len, used, pos;
	int				 b;

	pos = _i < 6 ? (size_t)_i : (size_t)_i - 6;
	len = _i < 6 ? sizeof(v1) - 1 : sizeof(v2) - 1;
	for (b = 0; b < 256; b++) {
		if (b == h[pos])
			continue;
		memcpy(in, h, len);
		in[pos] = (unsigned char)b;
		if (pos > 0 || (b != 'P' && b != '\r'))
			ck_assert_msg(pp_run(in, pos + 1, &pp, &used, &why) ==
			    PROXYPROTO_BAD, "byte %zu = 0x%02x not refused",
			    pos, b);
		ck_assert_int_eq(pp_run(in, len, &pp, &used, &why),
		    PROXYPROTO_BAD);
	}
}
END_TEST

/* why may be NULL: the verdicts are the same without a reason. */
START_TEST(test_why_null)
{
	static const unsigned char	 bad[] = "GET / HTTP/1.1\r\n";
	static const unsigned char	 ok[] = "PROXY UNKNOWN\r\n";
	struct proxyproto		 pp;
	size_t				 used = 0;

	ck_assert_int_eq(proxyproto_parse(bad, sizeof(bad) - 1, &pp, &used,
	    NULL), PROXYPROTO_BAD);
	ck_assert_int_eq(proxyproto_parse(ok, 7, &pp, &used, NULL),
	    PROXYPROTO_MORE);
	ck_assert_int_eq(proxyproto_parse(ok, sizeof(ok) - 1, &pp, &used,
	    NULL), PROXYPROTO_OK);
	ck_assert_uint_eq(used, sizeof(ok) - 1);
}
END_TEST

/* The v2 ver_cmd byte _i: only 0x20 (LOCAL) and 0x21 (PROXY) pass. */
START_TEST(test_v2_ver_cmd)
{
	static const unsigned char	 h[] = SIG "\x21\x11\x00\x0c" A4;
	struct proxyproto		 pp;
	unsigned char			 in[sizeof(h)];
	const char			*why;
	size_t				 used;
	int				 r;

	memcpy(in, h, sizeof(h));
	in[12] = (unsigned char)_i;
	r = pp_run(in, 13, &pp, &used, &why);
	ck_assert_int_eq(r, _i == 0x20 || _i == 0x21 ? PROXYPROTO_MORE :
	    PROXYPROTO_BAD);
	r = pp_run(in, sizeof(h) - 1, &pp, &used, &why);
	ck_assert_int_eq(r, _i == 0x20 || _i == 0x21 ? PROXYPROTO_OK :
	    PROXYPROTO_BAD);
	if (r == PROXYPROTO_OK)
		ck_assert_int_eq(pp.local, _i == 0x20);
}
END_TEST

/*
 * The v2 fam byte _i, PROXY, 36 bytes of addresses: only the spec's seven
 * pass, with the family they name.
 */
START_TEST(test_v2_fam)
{
	static const unsigned char	 h[] = SIG "\x21\x00\x00\x24" A6;
	struct proxyproto		 pp;
	unsigned char			 in[sizeof(h)];
	const char			*why;
	size_t				 used;
	int				 r, want;

	switch (_i) {
	case 0x11:
	case 0x12:
		want = AF_INET;
		break;
	case 0x21:
	case 0x22:
		want = AF_INET6;
		break;
	case 0x00:
	case 0x31:
	case 0x32:
		want = AF_UNSPEC;
		break;
	default:
		want = -1;
	}
	memcpy(in, h, sizeof(h));
	in[13] = (unsigned char)_i;
	r = pp_run(in, 14, &pp, &used, &why);
	ck_assert_int_eq(r, want == -1 ? PROXYPROTO_BAD : PROXYPROTO_MORE);
	r = pp_run(in, sizeof(h) - 1, &pp, &used, &why);
	ck_assert_int_eq(r, want == -1 ? PROXYPROTO_BAD : PROXYPROTO_OK);
	if (r == PROXYPROTO_OK) {
		ck_assert_int_eq(pp.family, want);
		ck_assert_uint_eq(used, 16 + 36);
	}
}
END_TEST

/* The suite: the table, then the exhaustive byte checks. */
Suite *
check_suite(void)
{
	Suite	*s = suite_create("proxyproto");
	TCase	*tc = tcase_create("table");

	printf("proxyproto: %d table rows\n", NELEM(cases));
	tcase_add_loop_test(tc, test_table, 0, NELEM(cases));
	tcase_add_loop_test(tc, test_prefixes, 0, NELEM(cases));
	tcase_add_loop_test(tc, test_extend, 0, NELEM(cases));
	suite_add_tcase(s, tc);
	tc = tcase_create("bytes");
	tcase_add_loop_test(tc, test_first_byte, 0, 256);
	tcase_add_loop_test(tc, test_signature_bytes, 0, 6 + 12);
	tcase_add_loop_test(tc, test_v2_ver_cmd, 0, 256);
	tcase_add_loop_test(tc, test_v2_fam, 0, 256);
	tcase_add_test(tc, test_why_null);
	suite_add_tcase(s, tc);
	return s;
}
