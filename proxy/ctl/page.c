/*
 * page: the status page, as C strings. The inline style and script are
 * allowed by their SHA-256 in the Content-Security-Policy (hashes, not
 * 'unsafe-inline': an injected script would not run), so the pieces are
 * kept apart and joined once.
 *
 * The token: a browser's navigation cannot carry an Authorization
 * header, and the token must never be in a URL (logs, history, Referer)
 * nor in a cookie (the admin's token rules know no cookie, and a cookie
 * rides along on requests other sites make). So GET / is gated exactly
 * like GET /status (admin.c), and a browser gets it where /status needs
 * no token: a loopback admin, or public_read = on. If /status answers
 * 401 anyway (a reload changed the token rules under an open page), the
 * page asks for the token and sends it on its fetches as the API takes
 * it, Authorization: Bearer, keeping it in the tab's memory only.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "proxy/ctl/page.h"

/* Up to the inline style. */
static const char page_head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale="
	"1\">\n"
	"<meta name=\"referrer\" content=\"no-referrer\">\n"
	"<title>sluice status</title>\n"
	"<style>";

/* The inline style (its hash is in the CSP). */
static const char page_style[] =
	":root { --up: #1a7f37; --drain: #b35900; --gone: #6e7781;\n"
	"  --down: #cf222e; --bg: #f6f8fa; --line: #d0d7de; }\n"
	"[hidden] { display: none !important; }\n"
	"body { font: 14px/1.45 system-ui, sans-serif; margin: 0;\n"
	"  padding: 14px 24px; color: #1f2328; background: #fff; }\n"
	"header { display: flex; align-items: baseline; gap: 16px;\n"
	"  border-bottom: 1px solid var(--line); padding-bottom: 6px; }\n"
	"h1 { font-size: 20px; margin: 0; }\n"
	"h2 { font-size: 16px; margin: 18px 0 2px; }\n"
	".muted { color: #656d76; font-weight: normal; }\n"
	".stale #updated { color: var(--down); font-weight: 600; }\n"
	".stale main { opacity: .5; }\n"
	".cards { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; }"
	"\n"
	".card { border: 1px solid var(--line); border-radius: 6px;\n"
	"  padding: 4px 12px; min-width: 84px; background: var(--bg); }\n"
	".card b { display: block; font-size: 18px; }\n"
	".card .label { font-size: 12px; color: #656d76; }\n"
	"table { border-collapse: collapse; margin: 4px 0 6px;\n"
	"  font-variant-numeric: tabular-nums; }\n"
	"th, td { padding: 4px 12px; border-bottom: 1px solid var(--line);\n"
	"  text-align: left; white-space: nowrap; }\n"
	"th { background: var(--bg); font-size: 12px; color: #424a53; }\n"
	".n { text-align: right; }\n"
	".badge { display: inline-block; padding: 0 9px; border-radius: 10px;"
	"\n"
	"  color: #fff; font-weight: 600; font-size: 12px; }\n"
	".up, .running { background: var(--up); }\n"
	".draining, .notice { background: var(--drain); }\n"
	".drained, .stopping { background: var(--gone); }\n"
	".down { background: var(--down); }\n"
	"tr.busy td { background: #fff4d6; }\n"
	".banner { border-left: 5px solid var(--drain); background: #fff4d6;"
	"\n"
	"  padding: 8px 12px; margin: 12px 0; font-weight: 600; }\n"
	".errors { color: var(--down); font-family: monospace;\n"
	"  white-space: pre-wrap; margin: 4px 0; }\n"
	"#auth { border: 1px solid var(--down); border-radius: 6px;\n"
	"  padding: 8px 12px; margin: 12px 0; }\n";

/* The body, up to the inline script. */
static const char page_mid[] =
	"</style>\n"
	"</head>\n"
	"<body>\n"
	"<header><h1>sluice</h1><span id=\"updated\" class=\"muted\">reading"
	"\n"
	"/status...</span></header>\n"
	"<div id=\"auth\" hidden>/status needs this admin endpoint's token:\n"
	"<input id=\"token\" type=\"password\" autocomplete=\"off\">\n"
	"<button id=\"use\" type=\"button\">Use token</button>\n"
	"<span class=\"muted\">(kept in this tab's memory, sent as\n"
	"Authorization: Bearer; never in the URL)</span></div>\n"
	"<main id=\"main\"></main>\n"
	"<noscript>This page needs JavaScript; GET /status has the same\n"
	"figures as JSON.</noscript>\n"
	"<script>";

/* The inline script (its hash is in the CSP): it fetches /status
 * every second and renders it with textContent only. */
static const char page_script[] =
	"'use strict';\n"
	"/*\n"
	" * Every string from /status is set with textContent, never parsed a"
	"s\n"
	" * HTML: server names and reload errors come from config files.\n"
	" */\n"
	"var token = null, timer = null, busy = false;\n"
	"\n"
	"function $(id) { return document.getElementById(id); }\n"
	"\n"
	"function el(tag, cls, text) {\n"
	"  var e = document.createElement(tag);\n"
	"  if (cls) e.className = cls;\n"
	"  if (text !== undefined && text !== null) e.textContent = String(te"
	"xt);\n"
	"  return e;\n"
	"}\n"
	"\n"
	"function add(parent, child) { parent.appendChild(child); return chil"
	"d; }\n"
	"\n"
	"function clock(t) {\n"
	"  return t ? new Date(t * 1000).toTimeString().slice(0, 8) : '-';\n"
	"}\n"
	"\n"
	"function secs(ms) { return (ms / 1000).toFixed(1) + ' s'; }\n"
	"\n"
	"function card(box, value, label, cls) {\n"
	"  var c = add(box, el('div', 'card'));\n"
	"  var b = add(c, el('b', null, cls ? null : value));\n"
	"  if (cls) add(b, el('span', 'badge ' + cls, value));\n"
	"  add(c, el('span', 'label', label));\n"
	"}\n"
	"\n"
	"function table(parent, heads) {\n"
	"  var t = add(parent, el('table')), tr = add(t, el('tr'));\n"
	"  heads.forEach(function (h) {\n"
	"    add(tr, el('th', /^#/.test(h) ? 'n' : null, h.replace(/^#/, ''))"
	");\n"
	"  });\n"
	"  return t;\n"
	"}\n"
	"\n"
	"function cells(tr, list) {\n"
	"  list.forEach(function (v) {\n"
	"    var td = add(tr, el('td', typeof v === 'number' ? 'n' : null));"
	"\n"
	"    if (v instanceof Node) add(td, v); else td.textContent = String("
	"v);\n"
	"  });\n"
	"}\n"
	"\n"
	"/* What a server does now, in a word, and its colour. */\n"
	"function verdict(s) {\n"
	"  var busy = s.in_flight > 0;\n"
	"  if (s.state === 'draining')\n"
	"    return busy ? ['removed, draining', 'draining'] :\n"
	"      ['removed', 'drained'];\n"
	"  if (s.admin === 'drain')\n"
	"    return busy ? ['draining', 'draining'] : ['drained', 'drained'];"
	"\n"
	"  if (s.weight === 0)\n"
	"    return busy ? ['weight 0, draining', 'draining'] :\n"
	"      ['weight 0', 'drained'];\n"
	"  return s.health === 'up' ? ['up', 'up'] : ['down', 'down'];\n"
	"}\n"
	"\n"
	"function drainText(d, left) {\n"
	"  if (!d) return '';\n"
	"  var t = (left ? left : 'none') + ' left';\n"
	"  if (d.since) t += ', since ' + clock(d.since);\n"
	"  if (d.deadline)\n"
	"    return t + ', ended at ' + clock(d.deadline) + ' (in ' +\n"
	"      secs(d.left_ms) + ')';\n"
	"  return t + ', no deadline';\n"
	"}\n"
	"\n"
	"function server(t, s) {\n"
	"  var v = verdict(s), tr = add(t, el('tr', s.in_flight > 0 &&\n"
	"    v[1] === 'draining' ? 'busy' : null));\n"
	"  var w = String(s.weight);\n"
	"  if (s.weight !== s.configured_weight)\n"
	"    w += ' (file ' + s.configured_weight + ')';\n"
	"  tr.setAttribute('data-server', s.name);\n"
	"  cells(tr, [s.name, s.address, el('span', 'badge ' + v[1], v[0]),\n"
	"    s.health, s.admin === 'drain' ? 'drained' : 'enabled', w,\n"
	"    s.in_flight, s.idle, s.busy, s.requests,\n"
	"    s.max_conns ? s.slots + ' / ' + s.max_conns : '-',\n"
	"    drainText(s.drain, s.in_flight)]);\n"
	"  tr.children[6].className = 'n inflight';\n"
	"}\n"
	"\n"
	"function upstream(box, u) {\n"
	"  var h = add(box, el('h2', null, 'upstream ' + u.name + ' '));\n"
	"  add(h, el('span', 'muted', 'queue ' + u.queue_depth + ', waited ' "
	"+\n"
	"    u.queue_waited + ', overflows ' + u.queue_overflows +\n"
	"    ', timeouts ' + u.queue_timeouts));\n"
	"  var t = table(box, ['server', 'address', 'state', 'health', 'admin"
	"',\n"
	"    'weight', '#in flight', '#idle', '#busy', '#requests',\n"
	"    'max conns', 'drain']);\n"
	"  u.servers.forEach(function (s) { server(t, s); });\n"
	"}\n"
	"\n"
	"function render(st) {\n"
	"  var box = document.createDocumentFragment(), r = st.last_reload;\n"
	"  var c = add(box, el('div', 'cards'));\n"
	"  card(c, st.state, 'state', st.state);\n"
	"  card(c, st.ready ? 'yes' : 'no', 'ready');\n"
	"  card(c, st.generation, 'generation');\n"
	"  card(c, st.in_flight, 'in flight');\n"
	"  card(c, st.connections + ' / ' + st.max_connections, 'connections'"
	");\n"
	"  card(c, st.workers, 'workers');\n"
	"  card(c, st.reloads.ok + ' / ' + st.reloads.failed, 'reloads ok / f"
	"ailed');\n"
	"  card(c, r.time ? clock(r.time) + (r.ok ? ' ok' : ' failed') : 'nev"
	"er',\n"
	"    'last reload');\n"
	"  card(c, st.pid, 'pid');\n"
	"  if (st.drain)\n"
	"    add(box, el('div', 'banner', 'Shutting down (' + st.state + '): "
	"' +\n"
	"      st.in_flight + ' exchange(s) and ' + st.connections +\n"
	"      ' connection(s) left; hard stop at ' + clock(st.drain.deadline"
	") +\n"
	"      ' (in ' + secs(st.drain.left_ms) + ')'));\n"
	"  if (!r.ok && r.errors.length)\n"
	"    add(box, el('div', 'errors', 'last reload failed:\\n' +\n"
	"      r.errors.join('\\n')));\n"
	"  add(box, el('h2', null, 'listeners'));\n"
	"  var t = table(box, ['listener', 'address', '#connections', 'max'])"
	";\n"
	"  st.listeners.forEach(function (l) {\n"
	"    cells(add(t, el('tr')), [l.name, l.listen, l.connections,\n"
	"      l.max_connections || '-']);\n"
	"  });\n"
	"  st.upstreams.forEach(function (u) { upstream(box, u); });\n"
	"  $('main').replaceChildren(box);\n"
	"}\n"
	"\n"
	"function shown(text, stale) {\n"
	"  $('updated').textContent = text;\n"
	"  document.body.classList.toggle('stale', stale);\n"
	"}\n"
	"\n"
	"function poll() {\n"
	"  var head = {}, ctl, t;\n"
	"  if (busy) return;\n"
	"  busy = true;\n"
	"  ctl = new AbortController();\n"
	"  t = setTimeout(function () { ctl.abort(); }, 5000);\n"
	"  clearTimeout(timer);\n"
	"  if (token) head.Authorization = 'Bearer ' + token;\n"
	"  fetch('/status', { headers: head, cache: 'no-store',\n"
	"    credentials: 'omit', redirect: 'error', signal: ctl.signal })\n"
	"    .then(function (r) {\n"
	"      $('auth').hidden = r.status !== 401;\n"
	"      if (!r.ok) throw new Error('/status answered ' + r.status);\n"
	"      return r.json();\n"
	"    })\n"
	"    .then(function (st) {\n"
	"      render(st);\n"
	"      shown('updated ' + new Date().toTimeString().slice(0, 8), fals"
	"e);\n"
	"    })\n"
	"    .catch(function (e) { shown('stale: ' + e.message, true); })\n"
	"    .finally(function () {\n"
	"      clearTimeout(t);\n"
	"      busy = false;\n"
	"      timer = setTimeout(poll, 1000);\n"
	"    });\n"
	"}\n"
	"\n"
	"$('use').addEventListener('click', function () {\n"
	"  token = $('token').value || null;\n"
	"  $('token').value = '';\n"
	"  poll();\n"
	"});\n"
	"poll();\n";

/* The end. */
static const char page_tail[] =
	"</script>\n"
	"</body>\n"
	"</html>\n";

/* The pieces joined. */
static char	page_doc[sizeof(page_head) + sizeof(page_style) +
		    sizeof(page_mid) + sizeof(page_script) +
		    sizeof(page_tail)];

/* The policy: two hashes of 44 base64 characters and the fixed rest. */
static char	page_policy[512];

/* See page.h. */
const char *
page_html(void)
{
	if (page_doc[0] == '\0')
		snprintf(page_doc, sizeof(page_doc), "%s%s%s%s%s", page_head,
		    page_style, page_mid, page_script, page_tail);
	return page_doc;
}

/* 'sha256-BASE64' of text into out (at least 60 bytes); -1 on failure. */
static int
page_hash(const char *text, char *out, size_t len)
{
	unsigned char	md[EVP_MAX_MD_SIZE], b64[64];
	unsigned int	mdlen;

	if (EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != 32 ||
	    EVP_EncodeBlock(b64, md, (int)mdlen) != 44)
		return -1;
	return snprintf(out, len, "'sha256-%s'", b64) < (int)len ? 0 : -1;
}

/* See page.h. */
const char *
page_csp(void)
{
	char	script[64], style[64];

	if (page_policy[0] != '\0')
		return page_policy;
	if (page_hash(page_script, script, sizeof(script)) == -1 ||
	    page_hash(page_style, style, sizeof(style)) == -1)
		return NULL;
	snprintf(page_policy, sizeof(page_policy), "default-src 'none'; "
	    "script-src %s; style-src %s; connect-src 'self'; "
	    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	    script, style);
	return page_policy;
}
