/* gen_scn.c - behaviour scenarios for apiguard-gen.
 *
 * Every scenario is a "world" of benign users plus one actor. Benign
 * users keep one identity each for the whole capture (a JWT with
 * sub = user id, an API key or a session cookie; one client address in
 * its own /24), mostly read their own objects (their orders, their
 * profile), browse the catalogue, occasionally log in (sometimes after
 * a typo) and update their profile. The world starts WARMUP_US before
 * the actor so that baselines ("usual" limits, fields an endpoint
 * takes, bytes per identity) exist when the attack begins.
 *
 * The attack part of a scenario is exactly the requests marked with a
 * kind (recorded in the manifest's attack_requests); a "-benign" twin
 * runs the same actors without crossing a threshold. The assumed
 * thresholds (the detectors must fire within 50 malicious requests) are:
 *   enumeration   >= 20 ids in a +1 run per identity and template
 *                 (twin: runs of 8 over the user's own orders)
 *   many objects  >= 40 distinct ids per identity and template
 *                 (twin: 20 distinct own orders)
 *   error ratio   >= 20 responses with >= 80% 403/404 (twin: 7 of 30)
 *   404 spread    404s on >= 15 templates from one client (twin: 4)
 *   foreign       any read of another identity's learnt object (twin: 0)
 *   brute client  >= 10 login failures per client per minute (twin: 6)
 *   brute user    >= 10 failures per username per minute (twin: 4)
 *   spraying      one client failing on >= 10 usernames (twin: 6)
 *   stuffing      >= 10 clients that fail and never get in, >= 40
 *                 failures, >= 10 usernames (twin: 40 users, 10% typos,
 *                 then success)
 *   after fails   success from a new client after >= 5 failures from
 *                 that client's /24 (twin: 4 failures then success from
 *                 the known client)
 *   token/cookie  one credential from >= 4 /24s (twin: 2 /24s)
 *   bulk e-mail   >= 10 addresses in a response (twin: 3)
 *   bulk phone    >= 10 numbers in a response (twin: 3)
 *   excessive     >= 20x the median bytes per identity (twin: 3x)
 *   pagination    >= 20 consecutive pages (twin: 6)
 *   limit         >= 10x the usual limit (twin: 2x)
 * Token times are relative to the capture's timestamps, not wall time.
 */
#include "gen_scn.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#define WORLD_USERS 40
#define WORLD_US 100000000ULL  /* benign activity spans 100 s */
#define WARMUP_US 40000000ULL  /* the actor starts at 40 s */
#define MAX_USERS 160
#define MAX_OIDS 24
#define SCRIPT_THINK_US 120000 /* attack scripts: ~8 requests/s */
#define SERVER_HOST "api.example.com"

enum auth { AUTH_JWT, AUTH_KEY, AUTH_COOKIE, AUTH_NONE };

struct user {
	uint32_t uid, ip;
	int auth;
	char token[640];   /* bearer JWT, API key or session id */
	char cred[720];    /* header line(s) ending in CRLF */
	char username[48];
	uint32_t oids[MAX_OIDS];
	int noids;
	uint8_t first, last;
	const char *ua;
	uint64_t exp_s;
};

/* Routes the world's sessions use; weights can be biased per scenario. */
enum wroute {
	W_PROFILE, W_ORDER_LIST, W_ORDER, W_ORDER_FLAT, W_PRODUCTS,
	W_PRODUCT, W_PATCH, W_CREATE, W_ORDERS_PAGE, W_COUNT
};
static const uint8_t default_weights[W_COUNT] = { 16, 12, 18, 8, 18, 10, 6, 6, 6 };

struct ctx {
	struct gen_scn *s;
	struct gen_rng r;
	uint64_t now_s;
	struct user users[MAX_USERS];
	int nusers, nworld;
	uint8_t weights[W_COUNT];
	struct gen_sb body, tmp;
	int cur;              /* session being written, -1 none */
	int kind;             /* kind of malicious exchanges, -1 benign */
	uint64_t t0;          /* actor start */
	uint32_t next_oid;
	uint32_t next_net;    /* /24 allocator for world users */
	int gzip;             /* every response body gzip-encoded */
	char uri[1024];
};

/* ---------------------------------------------------------------- text */

static const char *const first_names[] = {
	"james", "mary", "john", "patricia", "robert", "jennifer", "michael",
	"linda", "william", "elizabeth", "david", "barbara", "richard", "susan",
	"joseph", "jessica", "thomas", "sarah", "charles", "karen", "daniel",
	"nancy", "matthew", "lisa", "anthony", "betty", "mark", "margaret",
	"sofia", "lukas", "amelie", "hiroshi",
};
static const char *const last_names[] = {
	"smith", "johnson", "williams", "brown", "jones", "garcia", "miller",
	"davis", "rodriguez", "martinez", "hernandez", "lopez", "gonzalez",
	"wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin",
	"lee", "perez", "thompson", "white", "harris", "sanchez", "clark",
	"ramirez", "lewis", "robinson", "mueller", "tanaka",
};
static const char *const user_agents[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"okhttp/4.12.0", "axios/1.6.8", "ShopApp/5.2.1 (Android 14; Pixel 8)",
};
static const char *const products[] = {
	"Ergonomic Mouse", "Wireless Keyboard", "Desk Lamp", "Backpack",
	"Water Bottle", "Headphones", "Monitor Stand", "Coffee Mug", "Webcam",
};
static const char *const order_status[] = { "paid", "processing", "shipped", "delivered" };
static const char *const passwords[] = {
	"123456", "password", "qwerty123", "letmein", "Summer2024!", "admin123",
	"iloveyou", "Welcome1", "P@ssw0rd", "dragon", "monkey", "football",
	"baseball", "shadow", "master", "trustno1", "sunshine", "princess",
};

/* Appends printf output; the tool is offline, so vsnprintf is fine. */
static void sbf(struct gen_sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sbf(struct gen_sb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	gen_sb_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static const char *urif(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *urif(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->uri, sizeof(c->uri), fmt, ap);
	va_end(ap);
	return c->uri;
}

static void put_date(struct gen_sb *b, struct gen_rng *r)
{
	sbf(b, "\"2024-%02u-%02uT%02u:%02u:%02uZ\"", gen_range(r, 1, 4),
	    gen_range(r, 1, 28), gen_below(r, 24), gen_below(r, 60), gen_below(r, 60));
}

static void put_digits(char *d, struct gen_rng *r, int n)
{
	for (int i = 0; i < n; i++)
		d[i] = (char)('0' + gen_below(r, 10));
	d[n] = 0;
}

/* Luhn check digit for the n digits in d (to be appended). */
static int luhn_digit(const char *d, int n)
{
	int sum = 0;
	for (int i = n - 1, dbl = 1; i >= 0; i--, dbl = !dbl) {
		int v = d[i] - '0';
		if (dbl) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return (10 - sum % 10) % 10;
}

/* Card number of a major network with a valid Luhn digit. */
static void make_card(char *out, struct gen_rng *r)
{
	static const char *const iin[] = { "4", "51", "53", "55", "2221", "2720",
					   "34", "37", "6011", "65" };
	const char *p = GEN_PICK(r, iin);
	int len = (p[0] == '3') ? 15 : 16;
	int pl = (int)strlen(p);
	memcpy(out, p, (size_t)pl);
	put_digits(out + pl, r, len - 1 - pl);
	out[len - 1] = (char)('0' + luhn_digit(out, len - 1));
	out[len] = 0;
}

/* 16 digits that look like a card but are not one: a Visa-like prefix
 * with a wrong Luhn digit, or a valid Luhn digit behind an IIN no
 * network uses (order numbers, tracking ids). */
static void make_non_card(char *out, struct gen_rng *r, int luhn_ok)
{
	if (luhn_ok) {
		out[0] = '9';
		out[1] = '0';
		put_digits(out + 2, r, 13);
		out[15] = (char)('0' + luhn_digit(out, 15));
	} else {
		out[0] = '4';
		put_digits(out + 1, r, 14);
		out[15] = (char)('0' + (luhn_digit(out, 15) + 1 + gen_below(r, 9)) % 10);
	}
	out[16] = 0;
}

/* Valid SSN: area 001-899 without 666, group 01-99, serial 0001-9999. */
static void make_ssn(char *out, struct gen_rng *r)
{
	unsigned area;
	do
		area = gen_range(r, 1, 899);
	while (area == 666);
	snprintf(out, 12, "%03u-%02u-%04u", area, gen_range(r, 1, 99), gen_range(r, 1, 9999));
}

/* SSN-shaped but invalid: area 000/666/9xx, group 00 or serial 0000. */
static void make_bad_ssn(char *out, struct gen_rng *r)
{
	unsigned k = gen_below(r, 4);
	unsigned area = k == 0 ? 0 : k == 1 ? 666 : gen_range(r, 900, 999);
	unsigned group = k == 3 ? 0 : gen_range(r, 1, 99);
	if (k == 3)
		area = gen_range(r, 1, 665);
	snprintf(out, 12, "%03u-%02u-%04u", area, group, k == 2 ? gen_range(r, 1, 9999) : 0u);
}

/* IBAN with correct (or deliberately wrong) ISO 7064 mod-97 digits. */
static void make_iban(char *out, struct gen_rng *r, int valid)
{
	static const struct { const char *cc; int len; int alpha4; } fmt[] = {
		{ "DE", 22, 0 }, { "GB", 22, 1 }, { "FR", 27, 0 }, { "NL", 18, 1 },
	};
	unsigned f = gen_below(r, 4);
	int len = fmt[f].len;
	char bban[32];
	int bl = len - 4;
	for (int i = 0; i < bl; i++)
		bban[i] = (fmt[f].alpha4 && i < 4) ? (char)('A' + gen_below(r, 26))
						   : (char)('0' + gen_below(r, 10));
	bban[bl] = 0;
	/* Rearranged: BBAN + country letters as numbers + "00". */
	unsigned rem = 0;
	char tail[8];
	snprintf(tail, sizeof(tail), "%c%c00", fmt[f].cc[0], fmt[f].cc[1]);
	const char *parts[2] = { bban, tail };
	for (int p = 0; p < 2; p++)
		for (const char *q = parts[p]; *q; q++) {
			if (*q >= 'A' && *q <= 'Z') {
				unsigned v = (unsigned)(*q - 'A' + 10);
				rem = (rem * 100 + v) % 97;
			} else {
				rem = (rem * 10 + (unsigned)(*q - '0')) % 97;
			}
		}
	unsigned check = 98 - rem;
	if (!valid)
		check = (check + 1 + gen_below(r, 90)) % 100;
	snprintf(out, 48, "%s%02u%s", fmt[f].cc, check, bban);
}

/* ---------------------------------------------------------------- tokens */

static void b64url_str(struct gen_sb *b, const char *s)
{
	gen_sb_b64url(b, s, strlen(s));
}

enum sigmode { SIG_HS256, SIG_EMPTY, SIG_RANDOM256, SIG_WRONG_KEY };

/* HS256 keys an attacker tries when forging tokens (jwt-bad-signature). */
static const char *const guessed_keys[] = { "secret", "your-256-bit-secret", "changeme",
					    "apiguard-gen-demo-hs256-secret-v2" };

/* JWT "header.payload.signature" into out (NUL-terminated). */
static void make_jwt(struct ctx *c, char *out, size_t cap, const char *hdr,
		     uint32_t sub, const char *role, uint64_t iat, uint64_t exp,
		     int sig)
{
	struct gen_sb *t = &c->tmp, pl = { 0 };
	t->len = 0;
	b64url_str(t, hdr);
	gen_sb_putc(t, '.');
	sbf(&pl, "{\"sub\":\"%u\",\"role\":\"%s\",\"scope\":\"orders:read orders:write profile\","
		 "\"iss\":\"https://auth.example.com/\",\"aud\":\"api.example.com\","
		 "\"iat\":%llu,\"exp\":%llu,\"jti\":\"", sub, role,
	    (unsigned long long)iat, (unsigned long long)exp);
	gen_sb_uuid(&pl, &c->r);
	GEN_SB_LIT(&pl, "\"}");
	gen_sb_b64url(t, pl.p, pl.len);
	free(pl.p);
	size_t signed_len = t->len;
	gen_sb_putc(t, '.');
	if (sig == SIG_HS256 || sig == SIG_WRONG_KEY) {
		unsigned char mac[32];
		unsigned int ml = sizeof(mac);
		const char *key = sig == SIG_HS256 ? GEN_SCN_JWT_SECRET : GEN_PICK(&c->r, guessed_keys);
		HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)t->p, signed_len, mac,
		     &ml);
		gen_sb_b64url(t, mac, ml);
	} else if (sig == SIG_RANDOM256) {
		uint8_t s[256];
		for (size_t i = 0; i < sizeof(s); i++)
			s[i] = (uint8_t)gen_rand64(&c->r);
		gen_sb_b64url(t, s, sizeof(s));
	}
	size_t n = t->len < cap - 1 ? t->len : cap - 1;
	memcpy(out, t->p, n);
	out[n] = 0;
}

#define HDR_HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static void set_cred(struct user *u)
{
	/* Through a local buffer: gcc -O3 cannot tell that token and cred
	 * (two members of *u) do not overlap (-Wrestrict). */
	char buf[sizeof(u->cred)];

	switch (u->auth) {
	case AUTH_JWT:
		snprintf(buf, sizeof(buf), "Authorization: Bearer %s\r\n", u->token);
		break;
	case AUTH_KEY:
		snprintf(buf, sizeof(buf), "X-Api-Key: %s\r\n", u->token);
		break;
	case AUTH_COOKIE:
		snprintf(buf, sizeof(buf),
			 "Cookie: session=%s; theme=light; lang=en-US\r\n", u->token);
		break;
	default:
		buf[0] = 0;
		break;
	}
	memcpy(u->cred, buf, sizeof(buf));
}

/* Next /24 for a world user: 198.18.N.0/24, one network per user. */
static uint32_t world_ip(struct ctx *c)
{
	uint32_t net = 1 + (c->next_net++ * 37) % 250;
	return (198u << 24) | (18u << 16) | (net << 8) | gen_range(&c->r, 2, 253);
}

static uint32_t ip4(unsigned a, unsigned b, unsigned cc, unsigned d)
{
	return (a << 24) | (b << 16) | (cc << 8) | d;
}

static struct user *user_new(struct ctx *c, int auth, uint32_t ip)
{
	if (c->nusers >= MAX_USERS) {
		fprintf(stderr, "apiguard-gen: scenario user table full\n");
		exit(1);
	}
	struct user *u = &c->users[c->nusers++];
	struct gen_sb t = { 0 };
	memset(u, 0, sizeof(*u));
	u->uid = 100000 + (uint32_t)c->nusers * 7919 % 800000 + gen_below(&c->r, 7);
	u->ip = ip;
	u->auth = auth;
	u->first = (uint8_t)gen_below(&c->r, 32);
	u->last = (uint8_t)gen_below(&c->r, 32);
	u->ua = GEN_PICK(&c->r, user_agents);
	snprintf(u->username, sizeof(u->username), "%s.%s%u", first_names[u->first],
		 last_names[u->last], (unsigned)c->nusers);
	u->exp_s = c->now_s + 3600 + gen_below(&c->r, 3600);
	if (auth == AUTH_JWT) {
		make_jwt(c, u->token, sizeof(u->token), HDR_HS256, u->uid, "customer",
			 c->now_s - gen_below(&c->r, 1800), u->exp_s, SIG_HS256);
	} else if (auth == AUTH_KEY) {
		GEN_SB_LIT(&t, "ak_");
		gen_sb_randalnum(&t, &c->r, 32);
	} else if (auth == AUTH_COOKIE) {
		gen_sb_randalnum(&t, &c->r, 40);
	}
	if (t.len)
		snprintf(u->token, sizeof(u->token), "%.*s", (int)t.len, t.p);
	free(t.p);
	set_cred(u);
	u->noids = (int)gen_range(&c->r, 4, 10);
	for (int i = 0; i < u->noids; i++)
		u->oids[i] = c->next_oid += gen_range(&c->r, 3, 40);
	return u;
}

/* ---------------------------------------------------------------- sessions */

static void sess_begin(struct ctx *c, uint32_t ip, uint64_t start_us, uint32_t think_us)
{
	struct gen_scn *s = c->s;
	if (s->ns == s->caps) {
		s->caps = s->caps ? 2 * s->caps : 256;
		s->s = realloc(s->s, s->caps * sizeof(*s->s));
		if (!s->s) {
			fprintf(stderr, "apiguard-gen: out of memory\n");
			exit(1);
		}
	}
	struct gen_scn_sess *ss = &s->s[s->ns];
	memset(ss, 0, sizeof(*ss));
	ss->start_us = start_us;
	ss->client_ip = ip;
	ss->think_us = think_us;
	ss->first = (uint32_t)s->nx;
	ss->small_split = gen_chance(&c->r, 0.1);
	c->cur = (int)s->ns++;
}

static void sess_end(struct ctx *c)
{
	struct gen_scn_sess *ss = &c->s->s[c->cur];
	ss->count = (uint32_t)c->s->nx - ss->first;
	if (!ss->count) /* nothing was sent: drop it */
		c->s->ns--;
	c->cur = -1;
}

/* Writes a request; the response follows with resp(). */
static void req(struct ctx *c, const struct user *u, const char *method, const char *uri,
		const char *cred, const char *ctype, const char *body, int malicious)
{
	struct gen_scn *s = c->s;
	if (s->nx == s->capx) {
		s->capx = s->capx ? 2 * s->capx : 1024;
		s->x = realloc(s->x, s->capx * sizeof(*s->x));
		if (!s->x) {
			fprintf(stderr, "apiguard-gen: out of memory\n");
			exit(1);
		}
	}
	struct gen_scn_xchg *x = &s->x[s->nx++];
	struct gen_sb *b = &s->buf;
	memset(x, 0, sizeof(*x));
	x->req_off = (uint32_t)b->len;
	x->kind = (int8_t)(malicious ? c->kind : -1);
	snprintf(x->method, sizeof(x->method), "%s", method);
	gen_sb_puts(b, method);
	gen_sb_putc(b, ' ');
	x->uri_off = (uint32_t)(b->len - x->req_off);
	gen_sb_puts(b, uri);
	x->uri_len = (uint32_t)strlen(uri);
	sbf(b, " HTTP/1.1\r\nHost: " SERVER_HOST "\r\nUser-Agent: %s\r\n"
	       "Accept: application/json\r\nAccept-Encoding: gzip, deflate, br\r\n",
	    u ? u->ua : "python-requests/2.31.0");
	gen_sb_puts(b, cred ? cred : (u ? u->cred : ""));
	GEN_SB_LIT(b, "X-Request-Id: ");
	gen_sb_uuid(b, &c->r);
	GEN_SB_LIT(b, "\r\n");
	if (body)
		sbf(b, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    ctype ? ctype : "application/json", strlen(body));
	GEN_SB_LIT(b, "Connection: keep-alive\r\n\r\n");
	x->head_len = (uint32_t)(b->len - x->req_off);
	if (body)
		gen_sb_puts(b, body);
	x->req_len = (uint32_t)(b->len - x->req_off);
}

static const char *reason(int st)
{
	switch (st) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	default: return "OK";
	}
}

/* Replace @p body by its gzip encoding (what nginx sends with gzip on). */
static void gzip_body(struct gen_sb *body)
{
	z_stream z;
	uLong cap;
	uint8_t *out;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		fprintf(stderr, "apiguard-gen: zlib init failed\n");
		exit(1);
	}
	cap = deflateBound(&z, (uLong)body->len) + 32;
	out = malloc(cap);
	if (!out) {
		fprintf(stderr, "apiguard-gen: out of memory\n");
		exit(1);
	}
	z.next_in = (Bytef *)body->p;
	z.avail_in = (uInt)body->len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		fprintf(stderr, "apiguard-gen: gzip failed\n");
		exit(1);
	}
	body->len = 0;
	gen_sb_put(body, out, cap - z.avail_out);
	deflateEnd(&z);
	free(out);
}

/* Response to the last request, with c->body as the body. PII-bearing
 * responses are chunked at random cut points often enough that the
 * detectors must stream. */
static void resp_ex(struct ctx *c, int status, double chunk_share, const char *extra_hdr)
{
	struct gen_scn *s = c->s;
	struct gen_scn_xchg *x = &s->x[s->nx - 1];
	struct gen_sb *b = &s->buf, *body = &c->body;
	int has_body = status != 204 && body->len > 0;
	int chunked = has_body && gen_chance(&c->r, chunk_share);
	x->status = (uint16_t)status;
	x->chunked = (uint8_t)chunked;
	x->resp_off = (uint32_t)b->len;
	if (has_body && c->gzip)
		gzip_body(body);
	time_t t = (time_t)(c->now_s + s->s[c->cur].start_us / 1000000);
	struct tm tm;
	char date[40];
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	sbf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: nginx/1.24.0\r\n", status,
	    reason(status), date);
	if (status != 204) {
		GEN_SB_LIT(b, "Content-Type: application/json; charset=utf-8\r\n");
		if (chunked)
			GEN_SB_LIT(b, "Transfer-Encoding: chunked\r\n");
		else
			sbf(b, "Content-Length: %zu\r\n", has_body ? body->len : 0);
	}
	if (has_body && c->gzip)
		GEN_SB_LIT(b, "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n");
	if (status == 401)
		GEN_SB_LIT(b, "WWW-Authenticate: Bearer realm=\"api\"\r\n");
	if (extra_hdr)
		gen_sb_puts(b, extra_hdr);
	GEN_SB_LIT(b, "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
		      "Connection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\n");
	if (has_body && !chunked) {
		gen_sb_put(b, body->p, body->len);
	} else if (chunked) {
		size_t off = 0;
		while (off < body->len) {
			size_t rest = body->len - off;
			size_t n = rest <= 64 ? rest : 1 + gen_below(&c->r, (uint32_t)(rest < 4096 ? rest : 4096));
			gen_sb_hex(b, n);
			GEN_SB_LIT(b, "\r\n");
			gen_sb_put(b, body->p + off, n);
			GEN_SB_LIT(b, "\r\n");
			off += n;
		}
		GEN_SB_LIT(b, "0\r\n\r\n");
	}
	x->resp_len = (uint32_t)(b->len - x->resp_off);
	body->len = 0;
}

static void resp(struct ctx *c, int status)
{
	resp_ex(c, status, 0.15, NULL);
}

static void err_body(struct ctx *c, const char *code)
{
	c->body.len = 0;
	sbf(&c->body, "{\"error\":\"%s\"}", code);
}

/* ---------------------------------------------------------------- bodies */

static void body_user(struct ctx *c, uint32_t uid, const struct user *u)
{
	struct gen_sb *b = &c->body;
	unsigned f = u ? u->first : gen_below(&c->r, 32), l = u ? u->last : gen_below(&c->r, 32);
	sbf(b, "{\"id\":%u,\"username\":\"%s.%s\",\"email\":\"%s.%s@example.com\","
	       "\"phone\":\"+1-202-555-%04u\",\"role\":\"customer\",\"status\":\"active\","
	       "\"created_at\":", uid, first_names[f], last_names[l], first_names[f],
	    last_names[l], gen_range(&c->r, 100, 199));
	put_date(b, &c->r);
	sbf(b, ",\"preferences\":{\"newsletter\":%s,\"language\":\"en-US\"},"
	       "\"loyalty\":{\"tier\":\"silver\",\"points\":%u}}",
	    gen_chance(&c->r, 0.5) ? "true" : "false", gen_below(&c->r, 50000));
}

static void body_order(struct gen_sb *b, struct gen_rng *r, uint32_t oid, uint32_t uid)
{
	sbf(b, "{\"id\":%u,\"user_id\":%u,\"status\":\"%s\",\"currency\":\"USD\",\"items\":[",
	    oid, uid, GEN_PICK(r, order_status));
	unsigned n = gen_range(r, 1, 3);
	for (unsigned i = 0; i < n; i++)
		sbf(b, "%s{\"product_id\":%u,\"name\":\"%s\",\"quantity\":%u,\"unit_price\":%u.%02u}",
		    i ? "," : "", gen_range(r, 1000, 1999), GEN_PICK(r, products),
		    gen_range(r, 1, 3), gen_range(r, 2, 300), gen_below(r, 100));
	sbf(b, "],\"total\":%u.%02u,\"created_at\":", gen_range(r, 10, 900), gen_below(r, 100));
	put_date(b, r);
	gen_sb_putc(b, '}');
}

static void body_products(struct ctx *c, unsigned page, unsigned limit, unsigned n)
{
	struct gen_sb *b = &c->body;
	sbf(b, "{\"page\":%u,\"limit\":%u,\"total\":%u,\"items\":[", page, limit, 40 * limit);
	for (unsigned i = 0; i < n; i++)
		sbf(b, "%s{\"id\":%u,\"sku\":\"SKU-%05u\",\"name\":\"%s\",\"price\":%u.%02u,\"stock\":%u}",
		    i ? "," : "", 1000 + (page - 1) * limit + i, 1000 + (page - 1) * limit + i,
		    GEN_PICK(&c->r, products), gen_range(&c->r, 2, 400),
		    gen_below(&c->r, 100), gen_below(&c->r, 500));
	GEN_SB_LIT(b, "]}");
}

/* ---------------------------------------------------------------- world */

static void login(struct ctx *c, struct user *u, const char *password, int ok, int form,
		  int malicious, const struct user *as_client)
{
	const struct user *cl = as_client ? as_client : u;
	char body[256];
	if (form)
		snprintf(body, sizeof(body), "username=%s&password=%s&grant_type=password",
			 u->username, password);
	else
		snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}",
			 u->username, password);
	req(c, cl, "POST", "/api/v1/auth/login", "",
	    form ? "application/x-www-form-urlencoded" : "application/json", body, malicious);
	if (!ok) {
		err_body(c, "invalid credentials");
		resp(c, 401);
		return;
	}
	if (u->auth == AUTH_COOKIE) {
		char sc[720];
		sbf(&c->body, "{\"user\":{\"id\":%u,\"username\":\"%s\"}}", u->uid, u->username);
		snprintf(sc, sizeof(sc), "Set-Cookie: session=%s; Path=/; HttpOnly; Secure\r\n",
			 u->token);
		resp_ex(c, 200, 0.15, sc);
		return;
	}
	sbf(&c->body, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
		      "\"user\":{\"id\":%u,\"username\":\"%s\"}}",
	    u->auth == AUTH_JWT ? u->token : "", u->uid, u->username);
	resp(c, 200);
}

static void typo_password(char *pw, size_t n, struct gen_rng *r)
{
	snprintf(pw, n, "%s%u", GEN_PICK(r, passwords), gen_below(r, 10));
}

/* One benign request by u, along the scenario's route weights. */
static void world_request(struct ctx *c, struct user *u)
{
	struct gen_rng *r = &c->r;
	unsigned x = gen_below(r, 100), acc = 0, w = 0;
	for (w = 0; w < W_COUNT; w++) {
		acc += c->weights[w];
		if (x < acc)
			break;
	}
	uint32_t oid = u->oids[gen_below(r, (uint32_t)u->noids)];
	switch (w) {
	case W_ORDER_LIST:
		req(c, u, "GET", urif(c, "/api/v1/users/%u/orders", u->uid), NULL, NULL, NULL, 0);
		GEN_SB_LIT(&c->body, "{\"items\":[");
		for (int i = 0; i < u->noids; i++) {
			if (i)
				gen_sb_putc(&c->body, ',');
			body_order(&c->body, r, u->oids[i], u->uid);
		}
		GEN_SB_LIT(&c->body, "]}");
		resp(c, 200);
		break;
	case W_ORDER:
	case W_ORDER_FLAT:
		if (w == W_ORDER)
			req(c, u, "GET", urif(c, "/api/v1/users/%u/orders/%u", u->uid, oid), NULL,
			    NULL, NULL, 0);
		else
			req(c, u, "GET", urif(c, "/api/v1/orders/%u", oid), NULL, NULL, NULL, 0);
		body_order(&c->body, r, oid, u->uid);
		resp(c, 200);
		break;
	case W_PRODUCTS: {
		static const uint8_t lim[] = { 20, 20, 20, 25, 25, 50 };
		unsigned page = gen_chance(r, 0.6) ? 1 : gen_range(r, 2, 3);
		unsigned limit = GEN_PICK(r, lim);
		req(c, u, "GET", urif(c, "/api/v1/products?page=%u&limit=%u", page, limit), NULL,
		    NULL, NULL, 0);
		body_products(c, page, limit, limit);
		resp(c, 200);
		break;
	}
	case W_PRODUCT: {
		unsigned pid = gen_range(r, 1000, 1400);
		req(c, u, "GET", urif(c, "/api/v1/products/%u", pid), NULL, NULL, NULL, 0);
		if (gen_chance(r, 0.03)) {
			err_body(c, "not found");
			resp(c, 404);
		} else {
			sbf(&c->body, "{\"id\":%u,\"name\":\"%s\",\"price\":%u.99,\"stock\":%u}", pid,
			    GEN_PICK(r, products), gen_range(r, 2, 400), gen_below(r, 500));
			resp(c, 200);
		}
		break;
	}
	case W_PATCH: {
		char body[200];
		if (gen_chance(r, 0.5))
			snprintf(body, sizeof(body), "{\"phone\":\"+1-202-555-%04u\"}",
				 gen_range(r, 100, 199));
		else
			snprintf(body, sizeof(body),
				 "{\"display_name\":\"%s\",\"preferences\":{\"newsletter\":%s}}",
				 first_names[u->first], gen_chance(r, 0.5) ? "true" : "false");
		req(c, u, "PATCH", urif(c, "/api/v1/users/%u", u->uid), NULL, NULL, body, 0);
		body_user(c, u->uid, u);
		resp(c, 200);
		break;
	}
	case W_CREATE: {
		char body[200];
		snprintf(body, sizeof(body),
			 "{\"items\":[{\"product_id\":%u,\"quantity\":%u}],\"payment_method\":\"card\"}",
			 gen_range(r, 1000, 1400), gen_range(r, 1, 3));
		req(c, u, "POST", urif(c, "/api/v1/users/%u/orders", u->uid), NULL, NULL, body, 0);
		uint32_t n = c->next_oid += gen_range(r, 3, 40);
		if (u->noids < MAX_OIDS)
			u->oids[u->noids++] = n;
		body_order(&c->body, r, n, u->uid);
		resp(c, 201);
		break;
	}
	case W_ORDERS_PAGE: {
		unsigned page = gen_chance(r, 0.8) ? 1 : 2;
		req(c, u, "GET", urif(c, "/api/v1/orders?page=%u&limit=10", page), NULL, NULL, NULL, 0);
		sbf(&c->body, "{\"page\":%u,\"items\":[", page);
		for (int i = 0; i < u->noids && i < 10; i++) {
			if (i)
				gen_sb_putc(&c->body, ',');
			body_order(&c->body, r, u->oids[i], u->uid);
		}
		GEN_SB_LIT(&c->body, "]}");
		resp(c, 200);
		break;
	}
	default:
		req(c, u, "GET", urif(c, "/api/v1/users/%u", u->uid), NULL, NULL, NULL, 0);
		body_user(c, u->uid, u);
		resp(c, 200);
		break;
	}
}

/* Sessions of one world user: 2-3 visits, the first starting with a
 * login for JWT and cookie users (sometimes after one typo). */
static void world_user(struct ctx *c, struct user *u)
{
	struct gen_rng *r = &c->r;
	unsigned visits = gen_range(r, 2, 3);
	uint64_t starts[3];
	for (unsigned v = 0; v < visits; v++)
		starts[v] = gen_below(r, (uint32_t)(WORLD_US - 15000000));
	for (unsigned i = 1; i < visits; i++)
		for (unsigned j = i; j > 0 && starts[j - 1] > starts[j]; j--) {
			uint64_t t = starts[j];
			starts[j] = starts[j - 1];
			starts[j - 1] = t;
		}
	for (unsigned v = 0; v < visits; v++) {
		sess_begin(c, u->ip, starts[v], 1500000);
		if (v == 0 && u->auth != AUTH_KEY) {
			if (gen_chance(r, 0.08)) {
				char pw[32];
				typo_password(pw, sizeof(pw), r);
				login(c, u, pw, 0, gen_chance(r, 0.3), 0, NULL);
			}
			login(c, u, "correct-horse-battery", 1, gen_chance(r, 0.3), 0, NULL);
		}
		unsigned n = gen_range(r, 3, 6);
		for (unsigned i = 0; i < n; i++)
			world_request(c, u);
		sess_end(c);
	}
}

static void world_build(struct ctx *c, int nusers)
{
	for (int i = 0; i < nusers; i++) {
		unsigned x = gen_below(&c->r, 100);
		int auth = x < 60 ? AUTH_JWT : x < 80 ? AUTH_KEY : AUTH_COOKIE;
		user_new(c, auth, world_ip(c));
	}
	c->nworld = nusers;
	for (int i = 0; i < nusers; i++)
		world_user(c, &c->users[i]);
	c->s->users = (uint32_t)nusers;
}

/* A world user with a given credential type (for victims). */
static struct user *world_user_with(struct ctx *c, int auth)
{
	for (int i = 0; i < c->nworld; i++)
		if (c->users[i].auth == auth)
			return &c->users[i];
	return &c->users[0];
}

/* Actor script session: a fast client on one connection. */
static void script_begin(struct ctx *c, uint32_t ip, uint64_t at)
{
	sess_begin(c, ip, at, SCRIPT_THINK_US);
}

#define ATK_IP ip4(203, 0, 113, 66)

/* ---------------------------------------------------------------- BOLA */

static void a_bola_enum(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	if (benign) {
		/* Customers whose 8 orders have consecutive ids read them in order. */
		for (int k = 0; k < 6; k++) {
			struct user *u = user_new(c, AUTH_JWT, world_ip(c));
			uint32_t base = c->next_oid + 1;
			c->next_oid += 8;
			sess_begin(c, u->ip, c->t0 + (uint64_t)k * 5000000, 900000);
			for (uint32_t i = 0; i < 8; i++) {
				req(c, u, "GET", urif(c, "/api/v1/users/%u/orders/%u", u->uid, base + i),
				    NULL, NULL, NULL, 0);
				body_order(&c->body, r, base + i, u->uid);
				resp(c, 200);
			}
			sess_end(c);
		}
		return;
	}
	struct user *a = user_new(c, AUTH_JWT, ATK_IP);
	uint32_t ubase = 200100, obase = 5100001;
	script_begin(c, a->ip, c->t0);
	for (uint32_t i = 0; i < 120; i++) {
		uint32_t uid = ubase + i / 4, oid = obase + i;
		req(c, a, "GET", urif(c, "/api/v1/users/%u/orders/%u", uid, oid), NULL, NULL, NULL, 1);
		if (gen_chance(r, 0.75)) {
			body_order(&c->body, r, oid, uid);
			resp(c, 200);
		} else {
			err_body(c, "not found");
			resp(c, 404);
		}
	}
	sess_end(c);
}

static void a_bola_many(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	if (benign) {
		for (int k = 0; k < 4; k++) {
			struct user *u = user_new(c, AUTH_JWT, world_ip(c));
			while (u->noids < 20)
				u->oids[u->noids++] = c->next_oid += gen_range(r, 3, 40);
			sess_begin(c, u->ip, c->t0 + (uint64_t)k * 8000000, 700000);
			for (int i = 0; i < 20; i++) {
				req(c, u, "GET", urif(c, "/api/v1/orders/%u", u->oids[i]), NULL, NULL,
				    NULL, 0);
				body_order(&c->body, r, u->oids[i], u->uid);
				resp(c, 200);
			}
			sess_end(c);
		}
		return;
	}
	struct user *a = user_new(c, AUTH_JWT, ATK_IP);
	for (int s = 0; s < 6; s++) {
		script_begin(c, a->ip, c->t0 + (uint64_t)s * 9000000);
		for (int i = 0; i < 50; i++) {
			uint32_t oid = gen_range(r, 3000000, 6999999);
			req(c, a, "GET", urif(c, "/api/v1/orders/%u", oid), NULL, NULL, NULL, 1);
			if (gen_chance(r, 0.85)) {
				body_order(&c->body, r, oid, gen_range(r, 100000, 899999));
				resp(c, 200);
			} else {
				err_body(c, "not found");
				resp(c, 404);
			}
		}
		sess_end(c);
	}
}

static void a_bola_errors(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	if (benign) {
		/* A user with stale links: 5 of 30 are 404 and 2 are 403. */
		struct user *u = user_new(c, AUTH_JWT, world_ip(c));
		sess_begin(c, u->ip, c->t0, 1500000);
		for (int i = 0; i < 30; i++) {
			if (i % 6 == 5 || i == 13 || i == 26) {
				uint32_t oid = gen_range(r, 3000000, 6999999);
				req(c, u, "GET", urif(c, "/api/v1/users/%u/orders/%u", u->uid, oid), NULL,
				    NULL, NULL, 0);
				int st = (i == 13 || i == 26) ? 403 : 404;
				err_body(c, st == 403 ? "forbidden" : "not found");
				resp(c, st);
			} else {
				world_request(c, u);
			}
		}
		sess_end(c);
		return;
	}
	struct user *a = user_new(c, AUTH_JWT, ATK_IP);
	script_begin(c, a->ip, c->t0);
	for (int i = 0; i < 80; i++) {
		uint32_t uid = gen_range(r, 100000, 899999);
		if (gen_chance(r, 0.5))
			req(c, a, "GET", urif(c, "/api/v1/users/%u", uid), NULL, NULL, NULL, 1);
		else
			req(c, a, "GET", urif(c, "/api/v1/users/%u/orders/%u", uid,
					      gen_range(r, 3000000, 6999999)), NULL, NULL, NULL, 1);
		unsigned x = gen_below(r, 100);
		if (x < 55) {
			err_body(c, "forbidden");
			resp(c, 403);
		} else if (x < 95) {
			err_body(c, "not found");
			resp(c, 404);
		} else {
			body_user(c, uid, NULL);
			resp(c, 200);
		}
	}
	sess_end(c);
}

static void a_scan_404(struct ctx *c, int benign)
{
	static const char *const paths[] = {
		"/api/v1/admin", "/api/v1/admin/users", "/api/v2/users", "/api/internal/debug",
		"/.env", "/api/v1/swagger.json", "/swagger-ui.html", "/graphql", "/api/graphql",
		"/api/v1/users/export", "/api/v1/config", "/api/v1/debug/vars", "/server-status",
		"/actuator/health", "/api/v1/backup.zip", "/api/v1/.git/config", "/wp-json/wp/v2/users",
		"/api/v1/metrics", "/api/v1/internal/tokens", "/api/v3/orders", "/api/v1/accounts",
		"/api/v1/payments/refund", "/api/v1/reports/all", "/api/v1/invoices", "/console",
		"/api/v1/employees", "/api/v1/keys", "/api/v1/settings", "/phpinfo.php", "/api/v1/ping",
		"/api/v1/status/full", "/api/v1/audit", "/api/v1/logs", "/api/v1/files", "/api/v1/upload",
		"/api/v1/system", "/api/v1/tenants", "/api/v1/partners", "/api/v1/webhooks/test",
		"/api/v1/oauth/clients",
	};
	struct gen_rng *r = &c->r;
	if (benign) {
		struct user *u = user_new(c, AUTH_JWT, world_ip(c));
		sess_begin(c, u->ip, c->t0, 1500000);
		for (int i = 0; i < 16; i++) {
			if (i % 4 == 1) {
				req(c, u, "GET", paths[20 + i / 4], NULL, NULL, NULL, 0);
				err_body(c, "not found");
				resp(c, 404);
			} else {
				world_request(c, u);
			}
		}
		sess_end(c);
		return;
	}
	script_begin(c, ATK_IP, c->t0);
	for (int i = 0; i < 120; i++) {
		const char *p = paths[i % 40];
		const char *suffix[] = { "", "/1", "?debug=true" };
		req(c, NULL, "GET", urif(c, "%s%s", p, suffix[i / 40]), "", NULL, NULL, 1);
		unsigned x = gen_below(r, 100);
		err_body(c, x < 85 ? "not found" : "unauthorized");
		resp(c, x < 85 ? 404 : 401);
	}
	sess_end(c);
}

/* A creates orders (ids in its 201 responses and lists); B reads them. */
static void a_bola_foreign(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	struct user *a = user_new(c, AUTH_JWT, world_ip(c));
	struct user *b = user_new(c, AUTH_JWT, benign ? world_ip(c) : ATK_IP);
	a->noids = b->noids = 0;
	/* Interleaved allocation: A's and B's ids are neighbours. */
	for (int side = 0; side < 2; side++) {
		struct user *u = side ? b : a;
		sess_begin(c, u->ip, c->t0 + (uint64_t)side * 20000000, 700000);
		for (int i = 0; i < 10; i++) {
			char body[160];
			snprintf(body, sizeof(body),
				 "{\"items\":[{\"product_id\":%u,\"quantity\":1}],\"payment_method\":\"card\"}",
				 gen_range(r, 1000, 1400));
			req(c, u, "POST", urif(c, "/api/v1/users/%u/orders", u->uid), NULL, NULL, body, 0);
			uint32_t oid = side ? a->oids[i] + 1 : (c->next_oid += 2 + gen_below(r, 5));
			u->oids[u->noids++] = oid;
			body_order(&c->body, r, oid, u->uid);
			resp(c, 201);
		}
		req(c, u, "GET", urif(c, "/api/v1/users/%u/orders", u->uid), NULL, NULL, NULL, 0);
		GEN_SB_LIT(&c->body, "{\"items\":[");
		for (int i = 0; i < u->noids; i++) {
			if (i)
				gen_sb_putc(&c->body, ',');
			body_order(&c->body, r, u->oids[i], u->uid);
		}
		GEN_SB_LIT(&c->body, "]}");
		resp(c, 200);
		sess_end(c);
	}
	c->next_oid += 10;
	/* B reads: A's objects in the attack, its own in the twin. */
	sess_begin(c, b->ip, c->t0 + 35000000, 400000);
	for (int i = 0; i < 10; i++) {
		struct user *owner = benign ? b : a;
		req(c, b, "GET", urif(c, "/api/v1/orders/%u", owner->oids[i]), NULL, NULL, NULL, !benign);
		body_order(&c->body, r, owner->oids[i], owner->uid);
		resp(c, 200);
	}
	sess_end(c);
}

/* ---------------------------------------------------------------- logins */

static void a_brute_client(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	struct user *v1 = &c->users[1], *v2 = &c->users[2];
	if (benign) {
		/* An office NAT: six colleagues, each one typo, then success. */
		uint32_t ip = ip4(192, 0, 2, 10);
		sess_begin(c, ip, c->t0, 8000000);
		for (int k = 0; k < 6; k++) {
			struct user *u = &c->users[3 + k];
			char pw[32];
			typo_password(pw, sizeof(pw), r);
			login(c, u, pw, 0, k & 1, 0, NULL);
			login(c, u, "correct-horse-battery", 1, k & 1, 0, NULL);
		}
		sess_end(c);
		return;
	}
	struct user cl = { .ua = "python-requests/2.31.0" };
	script_begin(c, ATK_IP, c->t0);
	for (int i = 0; i < 60; i++) {
		struct user *v = i & 1 ? v2 : v1;
		char pw[32];
		snprintf(pw, sizeof(pw), "%s%s", passwords[i % 18], i >= 18 ? "!" : "");
		login(c, v, pw, 0, i % 3 == 0, 1, &cl);
	}
	sess_end(c);
}

static void a_brute_user(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	struct user *v = &c->users[4];
	if (benign) {
		for (int k = 0; k < 2; k++) {
			struct user *u = &c->users[4 + k];
			sess_begin(c, u->ip, c->t0 + (uint64_t)k * 20000000, 4000000);
			for (int i = 0; i < (k ? 3 : 4); i++) {
				char pw[32];
				typo_password(pw, sizeof(pw), r);
				login(c, u, pw, 0, 0, 0, NULL);
			}
			login(c, u, "correct-horse-battery", 1, 0, 0, NULL);
			sess_end(c);
		}
		return;
	}
	/* Distributed: 20 addresses, two guesses each, one username. */
	for (int k = 0; k < 20; k++) {
		struct user cl = { .ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36" };
		script_begin(c, ip4(100, 64 + k, gen_range(r, 0, 255), gen_range(r, 2, 250)),
			     c->t0 + (uint64_t)k * 1500000);
		for (int i = 0; i < 2; i++)
			login(c, v, passwords[(2 * k + i) % 18], 0, 0, 1, &cl);
		sess_end(c);
	}
}

static void a_spray(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	if (benign) {
		uint32_t ip = ip4(192, 0, 2, 20);
		sess_begin(c, ip, c->t0, 5000000);
		for (int k = 0; k < 6; k++) {
			struct user *u = &c->users[10 + k];
			char pw[32];
			typo_password(pw, sizeof(pw), r);
			login(c, u, pw, 0, 0, 0, NULL);
			login(c, u, "correct-horse-battery", 1, 0, 0, NULL);
		}
		sess_end(c);
		return;
	}
	struct user cl = { .ua = "python-requests/2.31.0" };
	script_begin(c, ATK_IP, c->t0);
	for (int i = 0; i < 60; i++) {
		struct user tmp = c->users[i % c->nworld];
		if (i >= c->nworld)
			snprintf(tmp.username, sizeof(tmp.username), "%s.%s",
				 first_names[i % 32], last_names[(i * 7) % 32]);
		login(c, &tmp, "Spring2024!", 0, i & 1, 1, &cl);
	}
	sess_end(c);
}

static void a_stuffing(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	if (benign) {
		for (int k = 0; k < c->nworld; k++) {
			struct user *u = &c->users[k];
			sess_begin(c, u->ip, c->t0 + gen_below(r, 40000000), 3000000);
			if (gen_chance(r, 0.1)) {
				char pw[32];
				typo_password(pw, sizeof(pw), r);
				login(c, u, pw, 0, 0, 0, NULL);
			}
			login(c, u, "correct-horse-battery", 1, 0, 0, NULL);
			world_request(c, u);
			sess_end(c);
		}
		return;
	}
	/* 30 bots x 4 leaked pairs each, 2 of 120 succeed. */
	for (int k = 0; k < 30; k++) {
		struct user cl = { .ua = GEN_PICK(r, user_agents) };
		script_begin(c, ip4(45, 10 + k, gen_range(r, 0, 255), gen_range(r, 2, 250)),
			     c->t0 + (uint64_t)k * 600000);
		c->s->s[c->cur].think_us = 900000;
		for (int i = 0; i < 4; i++) {
			int n = k * 4 + i;
			struct user tmp = c->users[n % c->nworld];
			int ok = n == 37 || n == 101;
			if (!ok)
				snprintf(tmp.username, sizeof(tmp.username), "%s%u@%s", first_names[n % 32],
					 1960 + n % 50, n & 1 ? "gmail.com" : "yahoo.com");
			login(c, &tmp, ok ? "correct-horse-battery" : GEN_PICK(r, passwords), ok,
			      n % 3 == 0, 1, &cl);
		}
		sess_end(c);
	}
}

static void a_login_after_failures(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	struct user *v = world_user_with(c, AUTH_JWT);
	if (benign) {
		sess_begin(c, v->ip, c->t0, 5000000);
		for (int i = 0; i < 4; i++) {
			char pw[32];
			typo_password(pw, sizeof(pw), r);
			login(c, v, pw, 0, 0, 0, NULL);
		}
		login(c, v, "correct-horse-battery", 1, 0, 0, NULL);
		world_request(c, v);
		sess_end(c);
		return;
	}
	/* Online guessing: ten wrong passwords, then the one that works. The
	 * guesser learns it is right only from the success answer, so that
	 * answer goes to the guessing client. */
	struct user cl = { .ua = "python-requests/2.31.0" };
	script_begin(c, ATK_IP, c->t0);
	for (int i = 0; i < 10; i++) /* passwords[4] is the right one */
		login(c, v, passwords[i < 4 ? i : i + 1], 0, 0, 1, &cl);
	login(c, v, passwords[4], 1, 0, 1, &cl);
	sess_end(c);
	/* The guessed password, then used from yet another network. */
	struct user cl2 = { .ua = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0" };
	script_begin(c, ip4(198, 51, 100, 23), c->t0 + 6000000);
	login(c, v, passwords[4], 1, 0, 1, &cl2);
	sess_end(c);
}

/* ---------------------------------------------------------------- credentials */

static void reuse(struct ctx *c, int benign, int auth)
{
	struct gen_rng *r = &c->r;
	struct user *v = world_user_with(c, auth);
	if (benign) {
		/* Home and phone (two /24s); another user's DHCP churn
		 * inside one /24. */
		uint32_t ips[2] = { v->ip, ip4(172, 20, 7, 41) };
		for (int k = 0; k < 2; k++) {
			sess_begin(c, ips[k], c->t0 + (uint64_t)k * 15000000, 1500000);
			for (int i = 0; i < 5; i++)
				world_request(c, v);
			sess_end(c);
		}
		struct user *w = &c->users[7];
		for (int k = 0; k < 3; k++) {
			sess_begin(c, (w->ip & 0xffffff00u) | (uint32_t)(20 + k),
				   c->t0 + (uint64_t)k * 10000000, 1500000);
			for (int i = 0; i < 3; i++)
				world_request(c, w);
			sess_end(c);
		}
		return;
	}
	for (int k = 0; k < 12; k++) {
		struct user thief = *v;
		thief.ua = GEN_PICK(r, user_agents);
		script_begin(c, ip4(100, 80 + k * 3, gen_range(r, 0, 255), gen_range(r, 2, 250)),
			     c->t0 + (uint64_t)k * 1200000);
		c->s->s[c->cur].think_us = 400000;
		for (int i = 0; i < 5; i++) {
			int kind = c->kind;
			world_request(c, &thief);
			c->s->x[c->s->nx - 1].kind = (int8_t)kind;
		}
		sess_end(c);
	}
}

static void a_token_reuse(struct ctx *c, int benign) { reuse(c, benign, AUTH_JWT); }
static void a_cookie_reuse(struct ctx *c, int benign) { reuse(c, benign, AUTH_COOKIE); }

/* Requests with a forged token: attacker claims the victim's identity. */
static void forged(struct ctx *c, const char *hdr, int sig, uint64_t iat, uint64_t exp,
		   int n)
{
	struct gen_rng *r = &c->r;
	struct user *v = world_user_with(c, AUTH_JWT);
	struct user a = *v;
	a.ip = ATK_IP;
	a.ua = "python-requests/2.31.0";
	make_jwt(c, a.token, sizeof(a.token), hdr, v->uid, "admin", iat, exp, sig);
	set_cred(&a);
	script_begin(c, a.ip, c->t0);
	for (int i = 0; i < n; i++) {
		if (i % 2) {
			req(c, &a, "GET", "/api/v1/admin/users?page=1&limit=20", NULL, NULL, NULL, 1);
			err_body(c, "invalid token");
			resp(c, 401);
		} else {
			req(c, &a, "GET", urif(c, "/api/v1/users/%u", v->uid), NULL, NULL, NULL, 1);
			if (gen_chance(r, 0.5)) {
				body_user(c, v->uid, v);
				resp(c, 200);
			} else {
				err_body(c, "invalid token");
				resp(c, 401);
			}
		}
	}
	sess_end(c);
}

/* Benign users with legitimate but unusual tokens (other algorithms,
 * kid headers, tokens that expire late in the capture). */
static void odd_but_valid_tokens(struct ctx *c, int variant)
{
	static const char *const hdrs[] = {
		"{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"2024-05-rsa-1\"}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k-2024-05\"}",
		"{\"alg\":\"HS256\",\"kid\":\"a1b2c3d4e5\"}",
	};
	for (int k = 0; k < 3; k++) {
		struct user *u = user_new(c, AUTH_JWT, world_ip(c));
		/* Expires 60 s after its last use in the expired twin. */
		uint64_t exp = variant == 2 ? c->now_s + (c->t0 + 30000000) / 1000000 + 60 : u->exp_s;
		make_jwt(c, u->token, sizeof(u->token), hdrs[k], u->uid, "customer",
			 c->now_s - 600, exp, k == 0 ? SIG_RANDOM256 : SIG_HS256);
		set_cred(u);
		sess_begin(c, u->ip, c->t0 + (uint64_t)k * 9000000, 1000000);
		for (int i = 0; i < 6; i++)
			world_request(c, u);
		sess_end(c);
	}
}

static void a_jwt_none(struct ctx *c, int benign)
{
	if (benign) {
		odd_but_valid_tokens(c, 0);
		return;
	}
	forged(c, "{\"alg\":\"none\",\"typ\":\"JWT\"}", SIG_EMPTY, c->now_s, c->now_s + 86400, 8);
}

static void a_jwt_empty_sig(struct ctx *c, int benign)
{
	if (benign) {
		odd_but_valid_tokens(c, 1);
		return;
	}
	forged(c, HDR_HS256, SIG_EMPTY, c->now_s, c->now_s + 86400, 8);
}

/* jwt-bad-signature: the victim's claims with role admin, signed with keys
 * an attacker guesses. The appliance knows the real key (scenario
 * settings). Twin: correctly signed tokens, with kid headers and an admin
 * role, doing the same requests. */
static void a_jwt_bad_sig(struct ctx *c, int benign)
{
	if (benign) {
		static const char *const hdrs[] = {
			HDR_HS256,
			"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k-2024-05\"}",
			"{\"alg\":\"HS256\",\"kid\":\"a1b2c3d4e5\"}",
		};
		for (int k = 0; k < 3; k++) {
			struct user *u = user_new(c, AUTH_JWT, world_ip(c));
			make_jwt(c, u->token, sizeof(u->token), hdrs[k], u->uid, k ? "customer" : "admin",
				 c->now_s - 600, u->exp_s, SIG_HS256);
			set_cred(u);
			sess_begin(c, u->ip, c->t0 + (uint64_t)k * 9000000, 1000000);
			for (int i = 0; i < 8; i++)
				world_request(c, u);
			sess_end(c);
		}
		return;
	}
	forged(c, HDR_HS256, SIG_WRONG_KEY, c->now_s, c->now_s + 3600, 8);
}

static void a_jwt_expired(struct ctx *c, int benign)
{
	if (benign) {
		odd_but_valid_tokens(c, 2);
		return;
	}
	forged(c, HDR_HS256, SIG_HS256, c->now_s - 3 * 86400, c->now_s - 2 * 86400, 8);
}

static void a_jwt_kid(struct ctx *c, int benign)
{
	if (benign) {
		odd_but_valid_tokens(c, 0);
		return;
	}
	forged(c, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"../../../../../../dev/null\"}",
	       SIG_HS256, c->now_s, c->now_s + 3600, 4);
	forged(c, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"x' UNION SELECT 'secret' -- \"}",
	       SIG_HS256, c->now_s, c->now_s + 3600, 4);
}

static void a_jwt_jku(struct ctx *c, int benign)
{
	if (benign) {
		odd_but_valid_tokens(c, 0);
		return;
	}
	forged(c, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"jku\":\"https://attacker.example.net/.well-known/jwks.json\"}",
	       SIG_RANDOM256, c->now_s, c->now_s + 3600, 4);
	forged(c, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5u\":\"http://198.51.100.7/cert.pem\"}",
	       SIG_RANDOM256, c->now_s, c->now_s + 3600, 4);
}

static void a_apikey_url(struct ctx *c, int benign)
{
	static const char *const atk[] = { "api_key", "apikey", "key", "access_key" };
	static const char *const ok[] = { "keyword=blue+mug&sort=price", "api_version=2024-05-01",
					   "sort_key=created_at&order=desc", "monkey=false" };
	struct user *v = world_user_with(c, AUTH_KEY);
	struct user u = *v;
	sess_begin(c, u.ip, c->t0, 900000);
	for (int i = 0; i < 8; i++) {
		if (benign)
			req(c, &u, "GET", urif(c, "/api/v1/products?%s", ok[i % 4]), NULL, NULL, NULL, 0);
		else
			req(c, &u, "GET", urif(c, "/api/v1/products?page=1&%s=%s", atk[i % 4], u.token),
			    "", NULL, NULL, 1);
		body_products(c, 1, 20, 20);
		resp(c, 200);
	}
	sess_end(c);
}

/* ---------------------------------------------------------------- data exposure */

/* Listing with PII records; records() writes one record. Responses are
 * mostly chunked and sometimes cut into small segments. */
typedef void (*record_fn)(struct ctx *c, int i, int bad);

static void leak(struct ctx *c, const char *path, record_fn rec, int pages, int per_page,
		 int benign, struct user *who, int auth_hdr)
{
	struct user a_store;
	struct user *a = who;
	if (!a) {
		a = user_new(c, AUTH_JWT, ATK_IP);
		a_store = *a;
		a = &a_store;
	}
	script_begin(c, a->ip, c->t0);
	c->s->s[c->cur].small_split = 1;
	c->s->s[c->cur].think_us = 600000;
	for (int p = 1; p <= pages; p++) {
		req(c, a, "GET", urif(c, path, p), auth_hdr ? NULL : "", NULL, NULL, !benign);
		sbf(&c->body, "{\"page\":%d,\"items\":[", p);
		for (int i = 0; i < per_page; i++) {
			if (i)
				gen_sb_putc(&c->body, ',');
			rec(c, i, benign);
		}
		GEN_SB_LIT(&c->body, "]}");
		resp_ex(c, 200, 0.6, NULL);
	}
	sess_end(c);
	/* Second connection at MSS segmentation. */
	script_begin(c, a->ip, c->t0 + 20000000);
	c->s->s[c->cur].small_split = 0;
	c->s->s[c->cur].think_us = 600000;
	for (int p = pages + 1; p <= pages + 3; p++) {
		req(c, a, "GET", urif(c, path, p), auth_hdr ? NULL : "", NULL, NULL, !benign);
		sbf(&c->body, "{\"page\":%d,\"items\":[", p);
		for (int i = 0; i < per_page; i++) {
			if (i)
				gen_sb_putc(&c->body, ',');
			rec(c, i, benign);
		}
		GEN_SB_LIT(&c->body, "]}");
		resp_ex(c, 200, 0.6, NULL);
	}
	sess_end(c);
}

static void rec_card(struct ctx *c, int i, int bad)
{
	char num[24], ord[24];
	struct gen_rng *r = &c->r;
	if (!bad) {
		make_card(num, r);
		sbf(&c->body, "{\"customer_id\":%u,\"name\":\"%s %s\",\"card\":{\"number\":\"%s\","
			      "\"exp\":\"%02u/%02u\",\"cvv\":\"%03u\"}}",
		    gen_range(r, 100000, 899999), first_names[i % 32], last_names[(i * 3) % 32],
		    num, gen_range(r, 1, 12), gen_range(r, 25, 30), gen_range(r, 100, 999));
		return;
	}
	make_non_card(num, r, i & 1);
	make_non_card(ord, r, !(i & 1));
	sbf(&c->body, "{\"order_number\":\"%s\",\"tracking\":\"%s\",\"created_ms\":%llu,"
		      "\"payment\":{\"brand\":\"visa\",\"last4\":\"%04u\",\"masked\":\"**** **** **** %04u\"}}",
	    num, ord, (unsigned long long)(c->now_s * 1000 + gen_below(r, 100000000)),
	    gen_below(r, 10000), gen_below(r, 10000));
}

static void rec_ssn(struct ctx *c, int i, int bad)
{
	char ssn[16];
	if (bad)
		make_bad_ssn(ssn, &c->r);
	else
		make_ssn(ssn, &c->r);
	sbf(&c->body, "{\"employee_id\":%u,\"name\":\"%s %s\",\"%s\":\"%s\",\"hired\":\"2021-%02u-%02u\"}",
	    5000 + (unsigned)i, first_names[i % 32], last_names[(i * 5) % 32],
	    bad ? "tax_reference" : "ssn", ssn, gen_range(&c->r, 1, 12), gen_range(&c->r, 1, 28));
}

static void rec_iban(struct ctx *c, int i, int bad)
{
	char iban[48];
	make_iban(iban, &c->r, !bad);
	sbf(&c->body, "{\"payout_id\":%u,\"beneficiary\":\"%s %s\",\"%s\":\"%s\",\"amount\":%u.%02u}",
	    70000 + (unsigned)i, first_names[i % 32], last_names[(i * 7) % 32],
	    bad ? "reference" : "iban", iban, gen_range(&c->r, 10, 9000), gen_below(&c->r, 100));
}

static void rec_email(struct ctx *c, int i, int bad)
{
	(void)bad;
	sbf(&c->body, "{\"id\":%u,\"name\":\"%s %s\",\"email\":\"%s.%s%d@example.com\"}",
	    100000 + (unsigned)i * 13, first_names[i % 32], last_names[(i * 11) % 32],
	    first_names[i % 32], last_names[(i * 11) % 32], i);
}

static void rec_phone(struct ctx *c, int i, int bad)
{
	(void)bad;
	if (i % 2)
		sbf(&c->body, "{\"contact_id\":%u,\"phone\":\"+1-202-555-%04u\"}",
		    300 + (unsigned)i, gen_range(&c->r, 100, 199));
	else
		sbf(&c->body, "{\"contact_id\":%u,\"phone\":\"+44 20 7946 %04u\"}",
		    300 + (unsigned)i, gen_range(&c->r, 0, 999));
}

static void a_pii(struct ctx *c, int benign, const char *path, const char *ok_path,
		  record_fn rec, int per_page_bad, int per_page_ok)
{
	if (benign) {
		struct user *u = user_new(c, AUTH_JWT, world_ip(c));
		char p[128];
		snprintf(p, sizeof(p), ok_path, u->uid);
		/* The path has one %d left for the page. */
		leak(c, p, rec, 5, per_page_ok, 1, u, 1);
		return;
	}
	leak(c, path, rec, 8, per_page_bad, 0, NULL, 1);
}

static void a_pii_cards(struct ctx *c, int b)
{
	a_pii(c, b, "/api/v1/admin/customers?page=%d&limit=25",
	      "/api/v1/users/%u/orders?page=%%d&limit=10", rec_card, 25, 10);
}
static void a_pii_ssn(struct ctx *c, int b)
{
	a_pii(c, b, "/api/v1/admin/employees?page=%d&limit=25",
	      "/api/v1/users/%u/tax-documents?page=%%d", rec_ssn, 25, 10);
}
static void a_pii_iban(struct ctx *c, int b)
{
	a_pii(c, b, "/api/v1/admin/payouts?page=%d&limit=25",
	      "/api/v1/users/%u/payouts?page=%%d", rec_iban, 25, 10);
}
static void a_pii_email(struct ctx *c, int b)
{
	a_pii(c, b, "/api/v1/admin/users/export?page=%d&limit=60",
	      "/api/v1/users/%u/team?page=%%d", rec_email, 60, 3);
}
static void a_pii_phone(struct ctx *c, int b)
{
	a_pii(c, b, "/api/v1/admin/contacts?page=%d&limit=60",
	      "/api/v1/users/%u/contacts?page=%%d", rec_phone, 60, 3);
}

/* A customer with contact details: what an export of an account base
 * carries. */
static void rec_contact(struct ctx *c, int i, int bad)
{
	(void)bad;
	sbf(&c->body, "{\"customer_id\":%u,\"name\":\"%s %s\",\"email\":\"%s.%s%d@example.com\","
		      "\"phone\":\"+1-202-555-%04u\",\"tier\":\"gold\"}",
	    500000 + (unsigned)i * 17, first_names[i % 32], last_names[(i * 5) % 32],
	    first_names[i % 32], last_names[(i * 5) % 32], i, 100 + (unsigned)(i % 100));
}

/*
 * Bulk exfiltration (2300054): one identity pulls the customer base out
 * page after page. Benign twin: users read their own small team pages,
 * and one account owner pages through their own contact list, just under
 * the detector's record threshold.
 */
static void a_exfil_bulk(struct ctx *c, int b)
{
	if (b) {
		for (int k = 0; k < 3; k++) {
			struct user *u = user_new(c, AUTH_JWT, world_ip(c));
			char p[128];

			snprintf(p, sizeof(p), "/api/v1/users/%u/team?page=%%d", u->uid);
			leak(c, p, rec_contact, 2, 3, 1, u, 1);
		}
		{
			/* Just below the record threshold (250; a contact carries
			 * two sensitive values, an e-mail and a phone): 12 pages of
			 * 10 of the owner's own contacts, 240 values, each page
			 * under the per-response e-mail and phone counts (20). */
			struct user *u = user_new(c, AUTH_JWT, world_ip(c));
			char p[128];

			snprintf(p, sizeof(p), "/api/v1/users/%u/contacts?page=%%d&limit=10", u->uid);
			leak(c, p, rec_contact, 9, 10, 1, u, 1);
		}
		return;
	}
	leak(c, "/api/v1/admin/customers/export?page=%d&limit=80", rec_contact, 6, 80, 0, NULL, 1);
}

static void put_pem_body(struct gen_sb *b, struct gen_rng *r, int lines)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (int l = 0; l < lines; l++) {
		for (int i = 0; i < 64; i++)
			gen_sb_putc(b, b64[gen_below(r, 64)]);
		GEN_SB_LIT(b, "\\n");
	}
}

static void secret_resp(struct ctx *c, int kind, int benign, int i)
{
	struct gen_sb *b = &c->body;
	struct gen_rng *r = &c->r;
	GEN_SB_LIT(b, "{\"service\":\"billing\",\"environment\":\"production\",");
	if (kind == 0) {
		static const char *const types[] = { "RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY",
						     "OPENSSH PRIVATE KEY" };
		const char *t = benign ? (i & 1 ? "CERTIFICATE" : "PUBLIC KEY") : types[i % 4];
		sbf(b, "\"%s\":\"-----BEGIN %s-----\\nMII", benign ? "tls_certificate" : "tls_key", t);
		put_pem_body(b, r, benign ? 6 : 20);
		sbf(b, "-----END %s-----\\n\"", t);
	} else if (kind == 1) {
		if (benign) {
			sbf(b, "\"aws_region\":\"us-east-1\",\"s3_bucket\":\"assets-prod-%u\","
			       "\"key_id_hint\":\"AKIA****%04u\",\"gcp_project\":\"shop-prod\"", i,
			    gen_below(r, 10000));
		} else {
			static const char up[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
			GEN_SB_LIT(b, "\"AWS_ACCESS_KEY_ID\":\"");
			GEN_SB_LIT(b, "AKIA");
			for (int k = 0; k < 16; k++)
				gen_sb_putc(b, up[gen_below(r, 32)]);
			GEN_SB_LIT(b, "\",\"AWS_SECRET_ACCESS_KEY\":\"");
			gen_sb_randalnum(b, r, 40);
			GEN_SB_LIT(b, "\",\"GOOGLE_API_KEY\":\"AIza");
			gen_sb_randalnum(b, r, 35);
			GEN_SB_LIT(b, "\",\"AZURE_STORAGE_CONNECTION_STRING\":\"DefaultEndpointsProtocol=https;"
				      "AccountName=shopprod;AccountKey=");
			gen_sb_randalnum(b, r, 86);
			GEN_SB_LIT(b, "==;EndpointSuffix=core.windows.net\"");
		}
	} else {
		if (benign) {
			sbf(b, "\"github\":{\"connected\":true,\"token_hint\":\"ghp_****%04u\"},"
			       "\"stripe\":{\"mode\":\"live\",\"key_hint\":\"sk_live_****%04u\"}",
			    gen_below(r, 10000), gen_below(r, 10000));
		} else {
			GEN_SB_LIT(b, "\"github\":{\"token\":\"ghp_");
			gen_sb_randalnum(b, r, 36);
			GEN_SB_LIT(b, "\"},\"slack\":{\"bot_token\":\"xoxb-");
			sbf(b, "%u-%u-", gen_range(r, 100000000, 999999999), gen_range(r, 100000000, 999999999));
			gen_sb_randalnum(b, r, 24);
			GEN_SB_LIT(b, "\"},\"stripe\":{\"secret_key\":\"sk_live_");
			gen_sb_randalnum(b, r, 32);
			GEN_SB_LIT(b, "\"}");
		}
	}
	GEN_SB_LIT(b, ",\"updated_at\":");
	put_date(b, r);
	gen_sb_putc(b, '}');
}

static void a_secret(struct ctx *c, int benign, int kind)
{
	static const char *const paths[] = { "/api/v1/debug/config", "/api/v1/debug/env",
					     "/api/v1/integrations" };
	struct user *a = benign ? user_new(c, AUTH_JWT, world_ip(c)) : user_new(c, AUTH_JWT, ATK_IP);
	script_begin(c, a->ip, c->t0);
	c->s->s[c->cur].think_us = 800000;
	for (int i = 0; i < 4; i++) {
		req(c, a, "GET", paths[kind], NULL, NULL, NULL, !benign);
		secret_resp(c, kind, benign, i);
		resp_ex(c, 200, 0.5, NULL);
	}
	sess_end(c);
}

/* secret-entropy: generic credentials (no provider prefix) in a config
 * endpoint's responses. The twin's responses are just as random-looking,
 * but under keys that name no secret: UUIDs, hex ETags and sha256
 * digests, a base64 thumbnail, 18-digit numeric ids, and secret-sounding
 * keys whose values are prose, numbers or short words. */
static void entropy_resp(struct ctx *c, int benign, int i)
{
	static const char b62[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char hex[] = "0123456789abcdef";
	static const char *const keys[] = { "api_secret", "client_secret", "signing_key",
					    "db_password", "webhook_secret" };
	struct gen_sb *b = &c->body;
	struct gen_rng *r = &c->r;

	sbf(b, "{\"service\":\"partner-sync\",\"id\":\"");
	gen_sb_uuid(b, r);
	GEN_SB_LIT(b, "\",");
	if (!benign) {
		/* two generic secrets per response, 32-48 base62 characters */
		for (int k = 0; k < 2; k++) {
			sbf(b, "\"%s\":\"", keys[(i + k * 2) % 5]);
			for (unsigned n = gen_range(r, 32, 48); n > 0; n--)
				gen_sb_putc(b, b62[gen_below(r, 62)]);
			GEN_SB_LIT(b, "\",");
		}
	} else {
		char id[24];

		GEN_SB_LIT(b, "\"etag\":\"W/\\\"");
		for (int n = 0; n < 32; n++)
			gen_sb_putc(b, hex[gen_below(r, 16)]);
		GEN_SB_LIT(b, "\\\"\",\"sha256\":\"");
		for (int n = 0; n < 64; n++)
			gen_sb_putc(b, hex[gen_below(r, 16)]);
		GEN_SB_LIT(b, "\",\"thumbnail\":\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA");
		for (int n = 0; n < 600; n++)
			gen_sb_putc(b, b64[gen_below(r, 64)]);
		GEN_SB_LIT(b, "==\",\"external_ids\":[");
		for (int k = 0; k < 3; k++) {
			/* snowflake-like: 18 digits behind a prefix no card network uses */
			id[0] = '9';
			id[1] = '0';
			put_digits(id + 2, r, 16);
			id[18] = 0;
			sbf(b, "%s%s", k ? "," : "", id);
		}
		GEN_SB_LIT(b, "],\"request_id\":\"");
		gen_sb_uuid(b, r);
		GEN_SB_LIT(b, "\",\"secret_question\":\"What was the name of your first pet?\","
			      "\"password_min_length\":12,\"password_policy\":\"strong\","
			      "\"client_secret_expires_at\":0,");
	}
	GEN_SB_LIT(b, "\"updated_at\":");
	put_date(b, r);
	gen_sb_putc(b, '}');
}

static void a_secret_entropy(struct ctx *c, int benign)
{
	struct user *a = benign ? user_new(c, AUTH_JWT, world_ip(c)) : user_new(c, AUTH_JWT, ATK_IP);
	script_begin(c, a->ip, c->t0);
	c->s->s[c->cur].think_us = 800000;
	for (int i = 0; i < 6; i++) {
		req(c, a, "GET", benign ? urif(c, "/api/v1/partners/%u/sync", 40 + i) :
					  "/api/v1/debug/partners", NULL, NULL, NULL, !benign);
		entropy_resp(c, benign, i);
		resp_ex(c, 200, 0.5, NULL);
	}
	sess_end(c);
}

static void a_secret_privkey(struct ctx *c, int b) { a_secret(c, b, 0); }
static void a_secret_cloudkey(struct ctx *c, int b) { a_secret(c, b, 1); }
static void a_secret_token(struct ctx *c, int b) { a_secret(c, b, 2); }

static void a_unauth_sensitive(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	struct user anon = { .ua = "curl/8.4.0", .ip = ip4(198, 51, 100, 77) };
	script_begin(c, anon.ip, c->t0);
	c->s->s[c->cur].think_us = 500000;
	for (int i = 0; i < 20; i++) {
		if (benign) {
			if (i % 2) {
				req(c, &anon, "GET", urif(c, "/api/v1/products/%u", gen_range(r, 1000, 1400)),
				    "", NULL, NULL, 0);
				sbf(&c->body, "{\"id\":%u,\"name\":\"%s\",\"price\":19.99}",
				    gen_range(r, 1000, 1400), GEN_PICK(r, products));
			} else {
				req(c, &anon, "GET", "/api/v1/status", "", NULL, NULL, 0);
				GEN_SB_LIT(&c->body, "{\"status\":\"ok\",\"version\":\"5.2.1\"}");
			}
			resp(c, 200);
			continue;
		}
		uint32_t uid = gen_range(r, 100000, 899999);
		req(c, &anon, "GET", urif(c, "/api/v1/public/customers/%u", uid), "", NULL, NULL, 1);
		unsigned f = gen_below(r, 32), l = gen_below(r, 32);
		sbf(&c->body, "{\"id\":%u,\"name\":\"%s %s\",\"email\":\"%s.%s@example.com\","
			      "\"phone\":\"+1-202-555-%04u\",\"date_of_birth\":\"19%02u-%02u-%02u\","
			      "\"address\":{\"street\":\"%u Oak Ave\",\"city\":\"Springfield\",\"zip\":\"%05u\"}}",
		    uid, first_names[f], last_names[l], first_names[f], last_names[l],
		    gen_range(r, 100, 199), gen_range(r, 50, 99), gen_range(r, 1, 12),
		    gen_range(r, 1, 28), gen_range(r, 1, 999), gen_range(r, 10000, 99999));
		resp(c, 200);
	}
	sess_end(c);
}

static void a_excessive_data(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	struct user *a = user_new(c, AUTH_JWT, benign ? world_ip(c) : ATK_IP);
	int n = benign ? 2 : 40, rows = benign ? 40 : 200;
	script_begin(c, a->ip, c->t0);
	c->s->s[c->cur].think_us = benign ? 4000000 : 300000;
	for (int i = 0; i < n; i++) {
		req(c, a, "GET", urif(c, "/api/v1/users/%u/transactions?month=2024-%02d", a->uid,
				      1 + i % 12), NULL, NULL, NULL, !benign);
		GEN_SB_LIT(&c->body, "{\"items\":[");
		for (int k = 0; k < rows; k++) {
			sbf(&c->body, "%s{\"id\":\"tx_%u\",\"amount\":%u.%02u,\"currency\":\"USD\","
				      "\"merchant\":\"%s store\",\"category\":\"retail\",\"booked_at\":",
			    k ? "," : "", gen_range(r, 10000000, 99999999), gen_range(r, 1, 500),
			    gen_below(r, 100), GEN_PICK(r, products));
			put_date(&c->body, r);
			gen_sb_putc(&c->body, '}');
		}
		GEN_SB_LIT(&c->body, "]}");
		resp_ex(c, 200, 0.3, NULL);
	}
	sess_end(c);
}

static void a_pagination_walk(struct ctx *c, int benign)
{
	struct gen_rng *r = &c->r;
	if (benign) {
		for (int k = 0; k < 3; k++) {
			struct user *u = user_new(c, AUTH_JWT, world_ip(c));
			sess_begin(c, u->ip, c->t0 + (uint64_t)k * 10000000, 2000000);
			for (unsigned p = 1; p <= 6; p++) {
				req(c, u, "GET", urif(c, "/api/v1/products?page=%u&limit=20", p), NULL, NULL,
				    NULL, 0);
				body_products(c, p, 20, 20);
				resp(c, 200);
			}
			sess_end(c);
		}
		return;
	}
	struct user *a = user_new(c, AUTH_JWT, ATK_IP);
	script_begin(c, a->ip, c->t0);
	for (unsigned p = 1; p <= 100; p++) {
		req(c, a, "GET", urif(c, "/api/v1/orders?page=%u&limit=10", p), NULL, NULL, NULL, 1);
		sbf(&c->body, "{\"page\":%u,\"items\":[", p);
		for (int i = 0; i < 10; i++) {
			if (i)
				gen_sb_putc(&c->body, ',');
			body_order(&c->body, r, 3000000 + p * 10 + (unsigned)i,
				   gen_range(r, 100000, 899999));
		}
		GEN_SB_LIT(&c->body, "]}");
		resp(c, 200);
	}
	sess_end(c);
}

static void a_limit_abuse(struct ctx *c, int benign)
{
	static const char *const atk[] = {
		"/api/v1/products?page=1&limit=10000", "/api/v1/orders?page=1&limit=5000",
		"/api/v1/products?page=1&per_page=2000", "/api/v1/products?page=1&size=9999",
	};
	static const char *const ok[] = {
		"/api/v1/products?page=1&limit=50", "/api/v1/orders?page=1&limit=20",
		"/api/v1/products?page=2&limit=50", "/api/v1/products?page=1&limit=25",
	};
	struct user *a = user_new(c, AUTH_JWT, benign ? world_ip(c) : ATK_IP);
	script_begin(c, a->ip, c->t0);
	c->s->s[c->cur].think_us = 1500000;
	for (int i = 0; i < 8; i++) {
		const char *u = benign ? ok[i % 4] : atk[i % 4];
		req(c, a, "GET", u, NULL, NULL, NULL, !benign);
		/* The server caps listings at 200 items. */
		body_products(c, 1, benign ? 50 : 10000, benign ? 50 : 200);
		resp_ex(c, 200, 0.3, NULL);
	}
	sess_end(c);
}

static void a_mass_assignment(struct ctx *c, int benign)
{
	static const char *const atk[] = {
		"{\"display_name\":\"%s\",\"role\":\"admin\"}",
		"{\"isAdmin\":true}",
		"{\"phone\":\"+1-202-555-0100\",\"permissions\":[\"*\"],\"is_staff\":true}",
		"{\"role\":\"superuser\",\"account_type\":\"internal\"}",
	};
	static const char *const ok[] = {
		"{\"display_name\":\"%s\",\"timezone\":\"Europe/Berlin\"}",
		"{\"preferences\":{\"newsletter\":false}}",
		"{\"phone\":\"+1-202-555-0100\",\"locale\":\"de-DE\"}",
		"{\"display_name\":\"%s\"}",
	};
	struct user *a = user_new(c, AUTH_JWT, benign ? world_ip(c) : ATK_IP);
	script_begin(c, a->ip, c->t0);
	c->s->s[c->cur].think_us = 2000000;
	for (int i = 0; i < 6; i++) {
		char body[256];
		snprintf(body, sizeof(body), benign ? ok[i % 4] : atk[i % 4], first_names[a->first]);
		req(c, a, "PATCH", urif(c, "/api/v1/users/%u", a->uid), NULL, NULL, body, !benign);
		body_user(c, a->uid, a);
		resp(c, 200);
	}
	sess_end(c);
}

/* ---------------------------------------------------------------- table */

typedef void (*actor_fn)(struct ctx *c, int benign);

struct scn_def {
	const char *name;
	actor_fn fn;
	uint32_t sids[3];
	int weight_bias; /* route emphasised in the world's traffic */
	const char *settings; /* detector settings the appliance needs (JSON), or NULL */
	int gzip;        /* every response body gzip-encoded (world and actor) */
};

/* The appliance verifies HS256 signatures with the generator's key. */
#define SETTINGS_JWT_KEY "{\"jwt\": {\"keys\": [{\"alg\": \"HS256\", \"secret\": \"" \
	GEN_SCN_JWT_SECRET "\"}]}}"

static const struct scn_def scenarios[] = {
	{ "bola-enum", a_bola_enum, { 2300001 }, W_ORDER },
	{ "bola-many", a_bola_many, { 2300002 }, W_ORDER_FLAT },
	{ "bola-errors", a_bola_errors, { 2300003 }, -1 },
	{ "scan-404", a_scan_404, { 2300004 }, -1 },
	{ "bola-foreign", a_bola_foreign, { 2300005 }, W_ORDER_FLAT },
	{ "brute-client", a_brute_client, { 2300010 }, -1 },
	{ "brute-user", a_brute_user, { 2300011 }, -1 },
	{ "spray", a_spray, { 2300012 }, -1 },
	{ "stuffing", a_stuffing, { 2300013 }, -1 },
	{ "login-after-failures", a_login_after_failures, { 2300014 }, -1 },
	{ "token-reuse", a_token_reuse, { 2300020 }, -1 },
	{ "cookie-reuse", a_cookie_reuse, { 2300021 }, -1 },
	{ "jwt-none", a_jwt_none, { 2300022 }, -1 },
	{ "jwt-empty-sig", a_jwt_empty_sig, { 2300023 }, -1 },
	{ "jwt-expired", a_jwt_expired, { 2300024 }, -1 },
	{ "jwt-kid-injection", a_jwt_kid, { 2300025 }, -1 },
	{ "jwt-jku", a_jwt_jku, { 2300025 }, -1 },
	{ "apikey-url", a_apikey_url, { 2300027 }, -1 },
	{ "pii-cards", a_pii_cards, { 2300030 }, -1 },
	{ "pii-ssn", a_pii_ssn, { 2300031 }, -1 },
	{ "pii-iban", a_pii_iban, { 2300032 }, -1 },
	{ "pii-email-bulk", a_pii_email, { 2300033 }, -1 },
	{ "pii-phone-bulk", a_pii_phone, { 2300034 }, -1 },
	{ "secret-privkey", a_secret_privkey, { 2300040 }, -1 },
	{ "secret-cloudkey", a_secret_cloudkey, { 2300041 }, -1 },
	{ "secret-token", a_secret_token, { 2300042 }, -1 },
	{ "secret-entropy", a_secret_entropy, { 2300043 }, -1 },
	{ "jwt-bad-signature", a_jwt_bad_sig, { 2300026 }, -1, SETTINGS_JWT_KEY, 0 },
	{ "pii-cards-gzip", a_pii_cards, { 2300030 }, -1, NULL, 1 },
	{ "secret-privkey-gzip", a_secret_privkey, { 2300040 }, -1, NULL, 1 },
	{ "unauth-sensitive", a_unauth_sensitive, { 2300050 }, -1 },
	{ "excessive-data", a_excessive_data, { 2300051 }, -1 },
	{ "exfil-bulk", a_exfil_bulk, { 2300054 }, -1 },
	{ "pagination-walk", a_pagination_walk, { 2300052 }, W_ORDERS_PAGE },
	{ "limit-abuse", a_limit_abuse, { 2300053 }, W_PRODUCTS },
	{ "mass-assignment", a_mass_assignment, { 2300060 }, W_PATCH },
};
#define N_SCN (sizeof(scenarios) / sizeof(scenarios[0]))

/* behaviour-demo: a little of everything, staggered every 6 s. */
static const char *const demo_parts[] = {
	"bola-enum", "brute-client", "token-reuse", "jwt-none", "pii-cards",
	"secret-cloudkey", "mass-assignment", "apikey-url", "unauth-sensitive",
	"limit-abuse",
};
#define N_DEMO (sizeof(demo_parts) / sizeof(demo_parts[0]))

static const struct scn_def *find_def(const char *name, int *benign)
{
	size_t n = strlen(name);
	*benign = 0;
	for (size_t i = 0; i < N_SCN; i++) {
		size_t l = strlen(scenarios[i].name);
		if (!strncmp(name, scenarios[i].name, l) &&
		    (n == l || !strcmp(name + l, "-benign"))) {
			*benign = n != l;
			return &scenarios[i];
		}
	}
	return NULL;
}

int gen_scn_known(const char *name)
{
	int b;
	return !strcmp(name, "behaviour-demo") || find_def(name, &b) != NULL;
}

void gen_scn_list(FILE *out)
{
	for (size_t i = 0; i < N_SCN; i++)
		fprintf(out, "%s%s %s-benign", i ? " " : "", scenarios[i].name, scenarios[i].name);
	fprintf(out, " behaviour-demo\n");
}

const uint32_t *gen_scn_kind_sids(const char *kind)
{
	int b;
	const struct scn_def *d = find_def(kind, &b);
	static const uint32_t none[1] = { 0 };
	return d && !b ? d->sids : none;
}

static void add_sids(struct gen_scn *s, const uint32_t *sids)
{
	for (int i = 0; i < 3 && sids[i]; i++) {
		int dup = 0;
		for (int k = 0; k < s->nsids; k++)
			dup |= s->sids[k] == sids[i];
		if (!dup && s->nsids < GEN_SCN_MAX_SIDS)
			s->sids[s->nsids++] = sids[i];
	}
}

static int sess_cmp(const void *a, const void *b)
{
	const struct gen_scn_sess *x = a, *y = b;
	if (x->start_us != y->start_us)
		return x->start_us < y->start_us ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

int gen_scn_build(struct gen_scn *s, const char *name, uint64_t seed, uint64_t base_us)
{
	int benign = 0;
	const struct scn_def *d = NULL;
	int demo = !strcmp(name, "behaviour-demo");
	if (!demo && !(d = find_def(name, &benign)))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->benign_twin = benign;

	static struct ctx c; /* large: user table */
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.cur = -1;
	c.kind = -1;
	c.now_s = base_us / 1000000;
	c.next_oid = 3100000;
	gen_rng_seed(&c.r, seed ^ 0x5ce7a2105ULL);
	memcpy(c.weights, default_weights, sizeof(c.weights));
	c.gzip = d ? d->gzip : 0;
	s->settings = d ? d->settings : NULL;
	if (d && d->weight_bias >= 0) {
		/* Take 14 points from products for the emphasised route. */
		c.weights[W_PRODUCTS] -= 14;
		c.weights[d->weight_bias] += 14;
	}
	world_build(&c, WORLD_USERS);
	c.t0 = WARMUP_US;
	if (demo) {
		for (size_t i = 0; i < N_DEMO; i++) {
			const struct scn_def *p = find_def(demo_parts[i], &benign);
			s->kinds[s->nkinds] = p->name;
			c.kind = s->nkinds++;
			add_sids(s, p->sids);
			c.t0 = WARMUP_US + i * 5000000;
			p->fn(&c, 0);
		}
	} else {
		if (!benign) {
			s->kinds[0] = d->name;
			s->nkinds = 1;
			c.kind = 0;
			add_sids(s, d->sids);
		}
		d->fn(&c, benign);
	}
	qsort(s->s, s->ns, sizeof(*s->s), sess_cmp);
	free(c.body.p);
	free(c.tmp.p);
	return 0;
}

void gen_scn_free(struct gen_scn *s)
{
	free(s->buf.p);
	free(s->x);
	free(s->s);
	memset(s, 0, sizeof(*s));
}
