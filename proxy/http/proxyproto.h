/*
 * proxyproto: the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) that a load balancer in front of sluice sends before
 * the client's bytes, to say whom the connection is really from. A pure
 * parser: bytes in, a verdict and the addresses out; no allocation, any
 * thread. The caller (the client side, when a listener expects the
 * header) reads, calls proxyproto_parse with everything read so far, and
 * reads again on PROXYPROTO_MORE.
 *
 * The parser decides as early as the bytes allow: a client that speaks
 * HTTP or TLS straight away is refused on its first byte, not after a
 * timeout, and a malformed header as soon as the malformed byte is seen.
 * A verdict never changes when more bytes are added after it.
 */
#ifndef SLUICE_HTTP_PROXYPROTO_H
#define SLUICE_HTTP_PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROXYPROTO_V1_MAX	107	/* the spec's longest v1 line, CRLF
					 * included */
#define PROXYPROTO_V2_MAX	(16 + 512)	/* header + addresses + TLVs
						 * we accept */

/* What a PROXY header said. */
struct proxyproto {
	int		 version;	/* 1 or 2 */
	int		 local;		/* v2 LOCAL command, or v1 UNKNOWN: no
					 * address (the connection's own
					 * peer stands) */
	int		 family;	/* AF_INET, AF_INET6, or AF_UNSPEC
					 * when local or the family is
					 * unknown or unsupported (v2
					 * AF_UNIX, UNSPEC) */
	unsigned char	 src[16], dst[16];	/* network byte order; 4
						 * bytes used for AF_INET */
	uint16_t	 sport, dport;	/* host byte order */
};

enum proxyproto_status {
	PROXYPROTO_MORE = 0,	/* a valid prefix so far: read more (and call
				 * again with everything so far) */
	PROXYPROTO_OK = 1,	/* complete: *used bytes are the header, what
				 * follows is the connection's data */
	PROXYPROTO_BAD = -1,	/* not a PROXY header, malformed, or too
				 * long: *why says which */
};

/*
 * Read the PROXY header at the start of buf[0..len) (the first bytes of a
 * connection; len 0 is allowed). On PROXYPROTO_OK, *out is filled (the
 * unused address bytes zero) and *used is the header's length, at most
 * len; *out and *used are not touched otherwise. On PROXYPROTO_BAD, *why
 * (when why is not NULL) points at a static sentence saying what was
 * wrong. Never reads past len. After PROXYPROTO_MORE len is below
 * PROXYPROTO_V2_MAX: a caller may size its buffer by that.
 */
enum proxyproto_status	proxyproto_parse(const unsigned char *buf, size_t len,
			    struct proxyproto *out, size_t *used,
			    const char **why);

#endif
