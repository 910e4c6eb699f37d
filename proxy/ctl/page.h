/*
 * page: the admin endpoint's status page (GET /), for the admin (admin.c)
 * alone. One self-contained HTML document, its style and script inline
 * (nothing from another origin: no script, font, image or CDN), that
 * reads /status every second from its own origin and shows it: the
 * process, its listeners, each upstream as a table of its servers, and
 * what drains. It holds no data itself and has no control: actions stay
 * on the API. Main thread only (the admin's).
 */
#ifndef SLUICE_CTL_PAGE_H
#define SLUICE_CTL_PAGE_H

/* The document, NUL-terminated; static, never freed. */
const char	*page_html(void);

/*
 * The Content-Security-Policy it is served with: nothing but its own
 * inline style and script (by their SHA-256) and fetches to its own
 * origin; no framing. Static; NULL when the hashes cannot be made.
 */
const char	*page_csp(void);

#endif
