/*
 * proxyproto: the PROXY protocol header, versions 1 and 2 (see
 * proxyproto.h).
 *
 * Every check is made on whatever prefix has arrived, and only checks that
 * no longer input could undo: a prefix is refused only when no header
 * starts with it, so a verdict never changes as bytes are added.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "proxy/http/proxyproto.h"

/* What a v1 line starts with. */
#define PP_V1_PREFIX	"PROXY "
#define PP_V1_PREFIXLEN	6

/* The 12 bytes a v2 header starts with (a NUL among them). */
static const unsigned char pp_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* The fixed part of a v2 header: signature, ver_cmd, fam, length. */
#define PP_V2_HDRLEN	16

/* The longest v1 address: INET_ADDRSTRLEN and INET6_ADDRSTRLEN less NUL. */
#define PP_V1_ADDR4MAX	15
#define PP_V1_ADDR6MAX	45

/* The fields of a TCP4 or TCP6 line after "PROXY ". */
enum pp_v1_field {
	PP_V1_PROTO = 0,
	PP_V1_SRC,
	PP_V1_DST,
	PP_V1_SPORT,
	PP_V1_DPORT,
	PP_V1_NFIELDS
};

/* Set *why (when wanted) and say BAD. */
static enum proxyproto_status
pp_bad(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return PROXYPROTO_BAD;
}

/* 1 when c is a decimal digit (not isdigit: no locale here). */
static int
pp_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* 1 when c is a hexadecimal digit. */
static int
pp_xdigit(unsigned char c)
{
	return pp_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * Whether s[0..n), all or the start of a v1 address of the family, can
 * still be one: the characters of the family's text form, no longer than
 * its longest, and (IPv4) no number with a leading zero, which the spec
 * forbids lest it be read as octal; inet_pton of some libcs would take it.
 * Necessary, not sufficient: inet_pton has the last word on a whole one.
 */
static int
pp_v1_addr_chars(const unsigned char *s, size_t n, int family)
{
	size_t	 i;

	if (n > (family == AF_INET ? PP_V1_ADDR4MAX : PP_V1_ADDR6MAX))
		return 0;
	for (i = 0; i < n; i++) {
		if (family == AF_INET) {
			if (!pp_digit(s[i]) && s[i] != '.')
				return 0;
			if (s[i] == '0' && (i == 0 || s[i - 1] == '.') &&
			    i + 1 < n && pp_digit(s[i + 1]))
				return 0;
		} else if (!pp_xdigit(s[i]) && s[i] != ':' && s[i] != '.')
			return 0;
	}
	return 1;
}

/*
 * Check the v1 address s[0..n) (all of it when whole, else what has come)
 * and, when whole, store it in addr.
 */
static enum proxyproto_status
pp_v1_addr(const unsigned char *s, size_t n, int whole, int family,
    unsigned char *addr, const char **why, const char *reason)
{
	char	 text[PP_V1_ADDR6MAX + 1];

	if (!pp_v1_addr_chars(s, n, family))
		return pp_bad(why, reason);
	if (!whole)
		return PROXYPROTO_MORE;
	memcpy(text, s, n);
	text[n] = '\0';
	if (inet_pton(family, text, addr) != 1)
		return pp_bad(why, reason);
	return PROXYPROTO_OK;
}

/*
 * Check the v1 port s[0..n) (all of it when whole, else what has come)
 * and, when whole, store it in *port. Strict where the spec is: decimal
 * digits only (no sign), no leading zero but "0" itself, at most 65535.
 * Each test holds for a prefix too: more digits never make a port valid.
 */
static enum proxyproto_status
pp_v1_port(const unsigned char *s, size_t n, int whole, uint16_t *port,
    const char **why, const char *reason)
{
	unsigned long	 v = 0;
	size_t		 i;

	if (n > 5 || (n > 1 && s[0] == '0'))
		return pp_bad(why, reason);
	for (i = 0; i < n; i++) {
		if (!pp_digit(s[i]))
			return pp_bad(why, reason);
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return pp_bad(why, reason);
	if (!whole)
		return PROXYPROTO_MORE;
	*port = (uint16_t)v;
	return PROXYPROTO_OK;
}

/*
 * Check the protocol field s[0..n) of a line that is not UNKNOWN: "TCP4"
 * or "TCP6" when whole, the start of one of them else.
 */
static enum proxyproto_status
pp_v1_proto(const unsigned char *s, size_t n, int whole, int *family,
    const char **why)
{
	if (n == 4 && memcmp(s, "TCP4", 4) == 0)
		*family = AF_INET;
	else if (n == 4 && memcmp(s, "TCP6", 4) == 0)
		*family = AF_INET6;
	else if (n >= 4 || whole || memcmp(s, "TCP", n) != 0)
		return pp_bad(why, "PROXY v1: unknown protocol (not TCP4, "
		    "TCP6 or UNKNOWN)");
	return whole ? PROXYPROTO_OK : PROXYPROTO_MORE;
}

/* Check field f, s[0..n), of a TCP4 or TCP6 line, storing it when whole. */
static enum proxyproto_status
pp_v1_field(enum pp_v1_field f, const unsigned char *s, size_t n, int whole,
    struct proxyproto *pp, const char **why)
{
	if (n == 0 && whole)
		return pp_bad(why, "PROXY v1: empty field (two spaces, or a "
		    "space before the CRLF)");
	switch (f) {
	case PP_V1_PROTO:
		return pp_v1_proto(s, n, whole, &pp->family, why);
	case PP_V1_SRC:
		return pp_v1_addr(s, n, whole, pp->family, pp->src, why,
		    "PROXY v1: bad source address");
	case PP_V1_DST:
		return pp_v1_addr(s, n, whole, pp->family, pp->dst, why,
		    "PROXY v1: bad destination address");
	case PP_V1_SPORT:
		return pp_v1_port(s, n, whole, &pp->sport, why,
		    "PROXY v1: bad source port");
	default:
		return pp_v1_port(s, n, whole, &pp->dport, why,
		    "PROXY v1: bad destination port");
	}
}

/*
 * Check the text s[0..n) after "PROXY " and before the CR (ended: the CR
 * has come; else n is what has come so far). OK when it is a whole line's,
 * with pp filled.
 */
static enum proxyproto_status
pp_v1_fields(const unsigned char *s, size_t n, int ended,
    struct proxyproto *pp, const char **why)
{
	enum proxyproto_status	 r;
	enum pp_v1_field	 f;
	size_t			 start, i = 0;

	/* The spec: after UNKNOWN, ignore anything up to the CRLF. */
	if (memcmp(s, "UNKNOWN", n < 7 ? n : 7) == 0 && (n >= 7 || !ended)) {
		if (n < 7)
			return PROXYPROTO_MORE;
		pp->local = 1;
		pp->family = AF_UNSPEC;
		return PROXYPROTO_OK;
	}
	for (f = PP_V1_PROTO; f < PP_V1_NFIELDS; f++) {
		start = i;
		while (i < n && s[i] != ' ')
			i++;
		r = pp_v1_field(f, s + start, i - start, i < n || ended, pp,
		    why);
		if (r != PROXYPROTO_OK)
			return r;
		if (i == n)
			break;
		i++;			/* the one space */
	}
	if (f < PP_V1_DPORT)
		return pp_bad(why, "PROXY v1: missing fields");
	if (f == PP_V1_NFIELDS)
		return pp_bad(why, "PROXY v1: more than five fields");
	return PROXYPROTO_OK;
}

/*
 * A v1 line: buf[0..len) starts with "PROXY " (or what has come of it).
 * The CRLF must be within PROXYPROTO_V1_MAX bytes; a lone CR or LF, which
 * the spec says must not end a line, is refused wherever it is.
 */
static enum proxyproto_status
pp_v1(const unsigned char *buf, size_t len, struct proxyproto *pp,
    size_t *used, const char **why)
{
	enum proxyproto_status	 r;
	size_t			 end, n;

	n = len < PROXYPROTO_V1_MAX ? len : PROXYPROTO_V1_MAX;
	for (end = PP_V1_PREFIXLEN; end < n; end++)
		if (buf[end] == '\r' || buf[end] == '\n')
			break;
	if (end < n && buf[end] == '\n')
		return pp_bad(why, "PROXY v1: LF without CR");
	if (end >= PROXYPROTO_V1_MAX - 1)
		return pp_bad(why, "PROXY v1: line too long (no CRLF in "
		    "107 bytes)");
	if (end + 1 < len && buf[end + 1] != '\n')
		return pp_bad(why, "PROXY v1: CR without LF");
	pp->version = 1;
	r = pp_v1_fields(buf + PP_V1_PREFIXLEN, end - PP_V1_PREFIXLEN,
	    end < n, pp, why);
	if (r != PROXYPROTO_OK)
		return r;
	if (end + 1 >= len)
		return PROXYPROTO_MORE;	/* the LF is still to come */
	*used = end + 2;
	return PROXYPROTO_OK;
}

/*
 * The size of one address of the v2 fam byte: 4 or 16, 0 for those whose
 * addresses are not read (UNSPEC, AF_UNIX), or -1 for a byte the spec does
 * not list. Strict: only its seven, with LOCAL as with PROXY; UDP counts
 * as TCP (the same addresses and ports).
 */
static int
pp_v2_asize(unsigned char fam)
{
	switch (fam) {
	case 0x11:		/* TCP over IPv4 */
	case 0x12:		/* UDP over IPv4 */
		return 4;
	case 0x21:		/* TCP over IPv6 */
	case 0x22:		/* UDP over IPv6 */
		return 16;
	case 0x00:		/* UNSPEC */
	case 0x31:		/* UNIX stream */
	case 0x32:		/* UNIX datagram */
		return 0;
	default:
		return -1;
	}
}

/*
 * Fill pp from the whole v2 header at buf, the command cmd (0 LOCAL, 1
 * PROXY) and addresses of asize bytes each (0: none read).
 */
static void
pp_v2_fill(const unsigned char *buf, int cmd, int asize,
    struct proxyproto *pp)
{
	const unsigned char	*a = buf + PP_V2_HDRLEN;

	pp->version = 2;
	if (cmd == 0 || asize == 0) {
		pp->local = cmd == 0;
		pp->family = AF_UNSPEC;
		return;
	}
	pp->family = asize == 4 ? AF_INET : AF_INET6;
	memcpy(pp->src, a, (size_t)asize);
	memcpy(pp->dst, a + asize, (size_t)asize);
	a += 2 * asize;
	pp->sport = (uint16_t)(a[0] << 8 | a[1]);
	pp->dport = (uint16_t)(a[2] << 8 | a[3]);
}

/*
 * A v2 header: buf[0..len) starts with the signature (or what has come of
 * it). Each byte of the fixed part is checked as soon as it is there; the
 * TLVs after the addresses are skipped, not read. A LOCAL header's address
 * block, whatever its size, is skipped too (the spec: its family is
 * ignored).
 */
static enum proxyproto_status
pp_v2(const unsigned char *buf, size_t len, struct proxyproto *pp,
    size_t *used, const char **why)
{
	size_t	 alen;
	int	 asize, cmd;

	if (len < 13)
		return PROXYPROTO_MORE;
	if ((buf[12] >> 4) != 2)
		return pp_bad(why, "PROXY v2: version is not 2");
	if ((cmd = buf[12] & 0x0f) > 1)
		return pp_bad(why, "PROXY v2: command is neither LOCAL nor "
		    "PROXY");
	if (len < 14)
		return PROXYPROTO_MORE;
	if ((asize = pp_v2_asize(buf[13])) == -1)
		return pp_bad(why, "PROXY v2: bad family and protocol byte");
	if (len < PP_V2_HDRLEN)
		return PROXYPROTO_MORE;
	alen = (size_t)buf[14] << 8 | buf[15];
	if (PP_V2_HDRLEN + alen > PROXYPROTO_V2_MAX)
		return pp_bad(why, "PROXY v2: too long (over 512 bytes of "
		    "addresses and TLVs)");
	if (cmd == 1 && alen < (size_t)(2 * asize + (asize > 0 ? 4 : 0)))
		return pp_bad(why, "PROXY v2: address block too short for "
		    "its family");
	if (len < PP_V2_HDRLEN + alen)
		return PROXYPROTO_MORE;
	pp_v2_fill(buf, cmd, asize, pp);
	*used = PP_V2_HDRLEN + alen;
	return PROXYPROTO_OK;
}

/* Read the PROXY header at the start of buf[0..len) (see proxyproto.h). */
enum proxyproto_status
proxyproto_parse(const unsigned char *buf, size_t len, struct proxyproto *out,
    size_t *used, const char **why)
{
	struct proxyproto	 pp;
	enum proxyproto_status	 r;
	size_t			 n, u = 0;

	if (len == 0)
		return PROXYPROTO_MORE;
	memset(&pp, 0, sizeof(pp));
	if (buf[0] == 'P') {
		n = len < PP_V1_PREFIXLEN ? len : PP_V1_PREFIXLEN;
		if (memcmp(buf, PP_V1_PREFIX, n) != 0)
			return pp_bad(why, "not a PROXY header");
		if (len < PP_V1_PREFIXLEN)
			return PROXYPROTO_MORE;
		r = pp_v1(buf, len, &pp, &u, why);
	} else {
		n = len < sizeof(pp_v2_sig) ? len : sizeof(pp_v2_sig);
		if (memcmp(buf, pp_v2_sig, n) != 0)
			return pp_bad(why, "not a PROXY header");
		r = pp_v2(buf, len, &pp, &u, why);
	}
	if (r == PROXYPROTO_OK) {
		*out = pp;
		*used = u;
	}
	return r;
}
