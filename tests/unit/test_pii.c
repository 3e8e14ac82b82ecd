/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pii: card (Luhn, IIN, length), SSN and IBAN validators; the
 * streaming PII and secret scanners over response bodies fed at every
 * split point (a value cut across two chunks is found once), order ids
 * that are not card numbers, secret formats. No EAL; ASan-clean.
 */
#include "tu_eal.h"
#include "mt_behav.h"
#include "mt_behav_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
test_validators(void)
{
	CU_ASSERT(mt_pii_card_valid("4111111111111111", 16));   /* Visa */
	CU_ASSERT(mt_pii_card_valid("5555555555554444", 16));   /* Mastercard */
	CU_ASSERT(mt_pii_card_valid("2223003122003222", 16));   /* Mastercard 2-series */
	CU_ASSERT(mt_pii_card_valid("378282246310005", 15));    /* Amex */
	CU_ASSERT(mt_pii_card_valid("6011111111111117", 16));   /* Discover */
	CU_ASSERT(mt_pii_card_valid("3530111333300000", 16));   /* JCB */
	CU_ASSERT(mt_pii_card_valid("30569309025904", 14));     /* Diners */
	CU_ASSERT(mt_pii_card_valid("6200000000000005", 16));   /* UnionPay */
	CU_ASSERT(!mt_pii_card_valid("4111111111111112", 16));  /* Luhn */
	CU_ASSERT(!mt_pii_card_valid("1234567812345670", 16));  /* Luhn ok, no IIN */
	CU_ASSERT(!mt_pii_card_valid("378282246310005", 14));
	CU_ASSERT(!mt_pii_card_valid("37828224631000", 14));    /* Amex must be 15 */
	CU_ASSERT(!mt_pii_card_valid("5555555555554444000", 19));
	CU_ASSERT(!mt_pii_card_valid("41111111111a1111", 16));

	CU_ASSERT(mt_pii_ssn_valid("123456789"));
	CU_ASSERT(mt_pii_ssn_valid("899010001"));
	CU_ASSERT(!mt_pii_ssn_valid("000123456"));
	CU_ASSERT(!mt_pii_ssn_valid("666123456"));
	CU_ASSERT(!mt_pii_ssn_valid("900123456"));
	CU_ASSERT(!mt_pii_ssn_valid("999123456"));
	CU_ASSERT(!mt_pii_ssn_valid("123006789"));
	CU_ASSERT(!mt_pii_ssn_valid("123450000"));

	CU_ASSERT(mt_pii_iban_valid("DE89370400440532013000", 22));
	CU_ASSERT(mt_pii_iban_valid("GB82WEST12345698765432", 22));
	CU_ASSERT(mt_pii_iban_valid("FR1420041010050500013M02606", 27));
	CU_ASSERT(mt_pii_iban_valid("NO9386011117947", 15));
	CU_ASSERT(!mt_pii_iban_valid("DE89370400440532013001", 22)); /* mod 97 */
	CU_ASSERT(!mt_pii_iban_valid("DE8937040044053201300", 21));  /* length */
	CU_ASSERT(!mt_pii_iban_valid("ZZ89370400440532013000", 22)); /* country */
}

static struct mt_behav_worker *W;

/* Scan @body as a JSON response in two chunks cut at @cut. */
static void
scan2(const char *body, size_t cut, struct mt_behav_rec *r, bool login)
{
	struct mt_behav_msg m;
	struct mt_flow_tuple tu = { .family = 4 };
	struct mt_txn t;
	size_t n = strlen(body);

	memset(&t, 0, sizeof(t));
	t.tuple = &tu;
	memset(t.resp.known, -1, sizeof(t.resp.known));
	t.resp.status_code = 200;
	t.resp.n_headers = 1;
	t.resp.headers[0].name = (struct mt_slice){ (const uint8_t *)"Content-Type", 12 };
	t.resp.headers[0].value = (struct mt_slice){ (const uint8_t *)"application/json", 16 };
	t.resp.known[MT_HDR_CONTENT_TYPE] = 0;
	memset(r, 0, sizeof(*r));
	if (login)
		r->flags |= MT_REC_LOGIN;
	mt_behav_resp_head(W, &t, r, &m);
	mt_behav_body(W, r, &m, (const uint8_t *)body, (uint32_t)cut);
	mt_behav_body(W, r, &m, (const uint8_t *)body + cut, (uint32_t)(n - cut));
	mt_behav_body_end(W, r, &m);
}

static void
all_splits(const char *body, const uint16_t want[MT_PII__COUNT], uint8_t secrets, uint32_t records)
{
	struct mt_behav_rec r;
	size_t n = strlen(body);
	unsigned bad = 0;

	for (size_t cut = 0; cut <= n; cut++) {
		scan2(body, cut, &r, false);
		if (memcmp(r.pii, want, sizeof(r.pii)) != 0 || r.secrets != secrets ||
		    r.resp_records != records) {
			if (bad++ == 0)
				printf("\n  cut %zu: pii %u %u %u %u %u secrets %x records %u in %.60s", cut,
				       r.pii[0], r.pii[1], r.pii[2], r.pii[3], r.pii[4], r.secrets,
				       r.resp_records, body);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_stream_pii(void)
{
	const uint16_t none[MT_PII__COUNT] = { 0 };

	all_splits("{\"card\":\"4111 1111 1111 1111\",\"ssn\":\"123-45-6789\",\"iban\":\"DE89 3704 0044 0532 0130 00\","
		   "\"email\":\"jane.doe+x@mail.example.co.uk\",\"phone\":\"+1 415 555 2671\"}",
		   (const uint16_t[]){ 1, 1, 1, 1, 1 }, 0, 0);
	all_splits("[{\"id\":1,\"pan\":\"5555555555554444\"},{\"id\":2,\"pan\":\"378282246310005\"},"
		   "{\"id\":3,\"tel\":\"(415) 555-2671\"}]",
		   (const uint16_t[]){ 2, 0, 0, 0, 1 }, 0, 3);
	/* invalid: area 666, Luhn failure, bad IBAN checksum, no TLD, digits glued to letters */
	all_splits("{\"a\":\"666-12-3456\",\"b\":\"4111111111111112\",\"c\":\"DE89370400440532013001\","
		   "\"d\":\"user@localhost\",\"e\":\"ab4111111111111111\",\"f\":\"v1.2.3\"}", none, 0, 0);
}

static void
test_order_ids(void)
{
	char body[8192];
	size_t off = 0;
	struct mt_behav_rec r;
	unsigned luhn_ok = 0;

	off += (size_t)snprintf(body + off, sizeof(body) - off, "{\"orders\":[");
	for (int i = 0; i < 100; i++) {
		char id[20];

		snprintf(id, sizeof(id), "40000000%08d", 1000 + i * 7);
		luhn_ok += mt_pii_card_valid(id, 16);
		off += (size_t)snprintf(body + off, sizeof(body) - off, "%s{\"order_id\":%s,\"total\":12.5}",
					i ? "," : "", id);
	}
	snprintf(body + off, sizeof(body) - off, "]}");
	scan2(body, off / 2, &r, false);
	CU_ASSERT(luhn_ok > 0);              /* some ids pass Luhn and the Visa IIN ... */
	CU_ASSERT_EQUAL(r.pii[MT_PII_CARD], luhn_ok);
	CU_ASSERT_EQUAL(r.card_tokens, 100); /* ... but they are a small share, without context */
	CU_ASSERT(!(r.flags & MT_REC_CARD_CONTEXT));
	CU_ASSERT_EQUAL(r.resp_records, 100);
}

static void
test_stream_secrets(void)
{
	const uint16_t none[MT_PII__COUNT] = { 0 };
	struct mt_behav_rec r;

	all_splits("{\"k\":\"-----BEGIN RSA PRIVATE KEY-----\\nMIIEow...\"}", none, MT_SECRET_PRIVKEY, 0);
	/* a key id under a secret-looking name is also a high-entropy value */
	all_splits("{\"aws_access_key_id\":\"AKIAIOSFODNN7EXAMPLE\"}", none, MT_SECRET_CLOUD | MT_SECRET_ENTROPY, 0);
	all_splits("{\"creds\":[\"AKIAIOSFODNN7EXAMPLE\"]}", none, MT_SECRET_CLOUD, 0);
	all_splits("{\"maps\":\"AIzaSyA-1234567890abcdefghijklmnopqrstu\"}", none, MT_SECRET_CLOUD, 0);
	all_splits("DefaultEndpointsProtocol=https;AccountName=x;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;",
		   none, MT_SECRET_CLOUD, 0);
	all_splits("{\"t\":\"ghp_1234567890abcdefghijklmnopqrstuvwxyz\"}", none, MT_SECRET_TOKEN, 0);
	all_splits("{\"t\":\"xoxb-123456789012-abcdefghijkl\"}", none, MT_SECRET_TOKEN, 0);
	all_splits("{\"t\":\"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"}", none, MT_SECRET_TOKEN, 0);
	all_splits("{\"client_secret\":\"q8Zr7XvN2pLk4Tm9Wb3Yc6Hd1Fg5Js0A\"}", none, MT_SECRET_ENTROPY, 0);
	all_splits("{\"t\":\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlc2lnbmF0dXJl\"}",
		   none, MT_SECRET_JWT, 0);
	/* not secrets: a password policy sentence, a short AKIA word, a UUID */
	all_splits("{\"password_hint\":\"must have eight characters or more\",\"x\":\"AKIA1234\","
		   "\"id\":\"550e8400-e29b-41d4-a716-446655440000\"}", none, 0, 0);
	/* JWTs in login responses are expected */
	scan2("{\"access_token\":\"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlc2lnbmF0dXJl\"}", 10,
	      &r, true);
	CU_ASSERT_EQUAL(r.secrets, 0);
}

static void
test_bulk_counts(void)
{
	char body[16384];
	size_t off = 0;
	struct mt_behav_rec r;

	off += (size_t)snprintf(body + off, sizeof(body) - off, "[");
	for (int i = 0; i < 50; i++)
		off += (size_t)snprintf(body + off, sizeof(body) - off,
					"%s{\"id\":%d,\"email\":\"user%d@example.com\",\"phone\":\"+44 20 7946 %04d\"}",
					i ? "," : "", i, i, i);
	snprintf(body + off, sizeof(body) - off, "]");
	for (size_t cut = 1; cut < strlen(body); cut += 97) {
		scan2(body, cut, &r, false);
		CU_ASSERT_EQUAL(r.pii[MT_PII_EMAIL], 50);
		CU_ASSERT_EQUAL(r.pii[MT_PII_PHONE], 50);
		CU_ASSERT_EQUAL(r.resp_records, 50);
	}
}

/*
 * The bulk scanners (skipping runs that cannot matter) must agree with the
 * byte-at-a-time state machines on every record field, whatever the chunking.
 * Bodies are random mixes of fragments that open and close every machine.
 */
static const char *const frag[] = {
	"{", "}", "[", "]", ",", ":", "\"", "\\\"", " ", "-", ".", "@", "+", "(", ")",
	"\"pan\":\"4111111111111111\"", "\"x\":\"5555555555554444\"",
	"\"card\":", "\"pan\":\"", "\"id\":", "\"uuid\":\"", "\"client_secret\":\"", "\"name\":\"",
	"4111 1111 1111 1111", "4111111111111111", "5555555555554444", "123-45-6789",
	"+1 415 555 2671", "(415) 555-2671", "415.555.2671", "42", "19.99", "true", "null",
	"DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "GB82WEST12345698765432",
	"jane.doe+x@mail.example.co.uk", "user@localhost", "a@b.cd", "Smith", "John Q Public",
	"AKIAIOSFODNN7EXAMPLE", "AIzaSyA-1234567890abcdefghijklmnopqrstu",
	"ghp_1234567890abcdefghijklmnopqrstuvwxyz", "xoxb-123456789012-abcdefghijkl",
	"sk_live_4eC39HqLyjWDarjtT1zdp7dc", "q8Zr7XvN2pLk4Tm9Wb3Yc6Hd1Fg5Js0A",
	"-----BEGIN RSA PRIVATE KEY-----", "PRIVATE KEY", "PRIV", "KEY-----",
	"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlc2lnbmF0dXJl",
	"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
	"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789",
	"lorem ipsum dolor", "x_y-z", "%41", "\xc3\xa9", "\t\r\n",
};

static void
ref_scan(const char *body, size_t n, struct mt_behav_rec *r, struct mt_behav_msg *m)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)body[i];

		mt_pii_byte(m, r, c);
		mt_secret_byte(m, r, c, false);
		mt_kv_byte(W, m, r, c);
		m->prev = c;
	}
	mt_behav_body_end(W, r, m);
}

static void
test_bulk_equals_bytewise(void)
{
	struct mt_flow_tuple tu = { .family = 4 };
	struct mt_txn t;
	char body[4096];
	unsigned bad = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	memset(&t, 0, sizeof(t));
	t.tuple = &tu;
	memset(t.resp.known, -1, sizeof(t.resp.known));
	t.resp.status_code = 200;
	t.resp.n_headers = 1;
	t.resp.headers[0].name = (struct mt_slice){ (const uint8_t *)"Content-Type", 12 };
	t.resp.headers[0].value = (struct mt_slice){ (const uint8_t *)"application/json", 16 };
	t.resp.known[MT_HDR_CONTENT_TYPE] = 0;
	for (int iter = 0; iter < 20000; iter++) {
		struct mt_behav_rec ra, rb;
		struct mt_behav_msg ma, mb;
		size_t n = 0, off = 0;

		while (n < sizeof(body) - 200) {
			const char *f;

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			if ((seed >> 61) == 0 && n > (size_t)(iter & 1) * 200)
				break;
			f = frag[(seed >> 33) % (sizeof(frag) / sizeof(frag[0]))];
			memcpy(body + n, f, strlen(f));
			n += strlen(f);
		}
		memset(&ra, 0, sizeof(ra));
		memset(&rb, 0, sizeof(rb));
		mt_behav_resp_head(W, &t, &ra, &ma);
		mt_behav_resp_head(W, &t, &rb, &mb);
		ref_scan(body, n, &ra, &ma);
		while (off < n) {
			size_t k;

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			k = 1 + (size_t)((seed >> 33) % ((seed >> 62) ? 400 : 7));
			if (k > n - off)
				k = n - off;
			mt_behav_body(W, &rb, &mb, (const uint8_t *)body + off, (uint32_t)k);
			off += k;
		}
		mt_behav_body_end(W, &rb, &mb);
		if (memcmp(ra.pii, rb.pii, sizeof(ra.pii)) != 0 || ra.secrets != rb.secrets ||
		    ra.resp_records != rb.resp_records || ra.flags != rb.flags ||
		    ra.card_tokens != rb.card_tokens || ra.n_resp_ids != rb.n_resp_ids ||
		    memcmp(ra.resp_ids, rb.resp_ids, sizeof(ra.resp_ids)) != 0) {
			if (bad++ == 0)
				printf("\n  iter %d: pii %u/%u %u/%u %u/%u %u/%u %u/%u secrets %x/%x "
				       "records %u/%u flags %x/%x ids %u/%u", iter,
				       ra.pii[0], rb.pii[0], ra.pii[1], rb.pii[1], ra.pii[2], rb.pii[2],
				       ra.pii[3], rb.pii[3], ra.pii[4], rb.pii[4], ra.secrets, rb.secrets,
				       ra.resp_records, rb.resp_records, ra.flags, rb.flags,
				       ra.n_resp_ids, rb.n_resp_ids);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);

	/* card context comes from the tokenizer state at the card, not at the
	 * chunk edge: one chunk holding the whole body */
	{
		struct mt_behav_rec r;

		scan2("{\"x\":1,\"pan\":\"4111111111111111\"}", 0, &r, false);
		CU_ASSERT(r.flags & MT_REC_CARD_CONTEXT);
		scan2("{\"pan\":1,\"x\":\"4111111111111111\"}", 0, &r, false);
		CU_ASSERT(!(r.flags & MT_REC_CARD_CONTEXT));
		CU_ASSERT_EQUAL(r.pii[MT_PII_CARD], 1);
	}
}

static void
test_kmp(void)
{
	uint8_t f[16];

	mt_kmp_table("PRIVATE KEY-----", 16, f);
	CU_ASSERT(memcmp(f, mt_pk_fail, 16) == 0);
	mt_kmp_table("abab", 4, f);
	CU_ASSERT(f[0] == 0 && f[1] == 0 && f[2] == 1 && f[3] == 2);
}

static void
test_bench(void)
{
	char *body = malloc(1 << 16);
	size_t off = 0;
	struct mt_behav_rec r;
	struct timespec t0, t1;
	double ns;
	int iters = 200;

	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	off += (size_t)snprintf(body, 1 << 16, "[");
	while (off < (1 << 16) - 200)
		off += (size_t)snprintf(body + off, (1 << 16) - off,
					"{\"id\":%zu,\"name\":\"Item %zu\",\"price\":19.99,\"sku\":\"SKU-%zu\"},",
					off, off, off * 7);
	body[off - 1] = ']';
	body[off] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < iters; i++)
		scan2(body, off / 3, &r, false);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / ((double)iters * (double)off);
	printf("\n  response body scan: %.2f ns/byte (%.0f MB/s per core) ", ns, 1e3 / ns);
	CU_ASSERT(ns < 200);
	free(body);
}

/* mt_secret_key_name() against the plain definition (any of the names
 * anywhere in the key) on keys built around every name and on random keys. */
static bool
key_name_ref(const char *k, size_t n)
{
	static const char *const names[] = { "secret", "passw", "pwd", "private_key", "privatekey",
					     "api_key", "apikey", "access_key", "accesskey",
					     "auth_token", "credential", "signing_key" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (memmem(k, n, names[i], strlen(names[i])) != NULL)
			return true;
	return false;
}

static void
test_secret_key_names(void)
{
	static const char *const parts[] = { "", "x", "client_", "_v2", "secre", "secret", "pass",
		"passw", "pw", "pwd", "private_ke", "private_key", "privatekey", "api_", "api_key",
		"apikey", "acces", "access_key", "accesskey", "auth_toke", "auth_token", "credentia",
		"credential", "signing_ke", "signing_key", "s", "p", "a", "c" };
	const size_t np = sizeof(parts) / sizeof(parts[0]);
	unsigned int seed = 7;
	char k[96];

	for (size_t i = 0; i < np; i++)
		for (size_t j = 0; j < np; j++)
			for (size_t m = 0; m < np; m += 3) {
				int n = snprintf(k, sizeof(k), "%s%s%s", parts[i], parts[j], parts[m]);

				CU_ASSERT_EQUAL(mt_secret_key_name(k, (size_t)n), key_name_ref(k, (size_t)n));
			}
	for (int it = 0; it < 20000; it++) {
		static const char alpha[] = "secrtpaswdivk_yucnlgho";
		size_t n = (size_t)(rand_r(&seed) % 24);

		for (size_t i = 0; i < n; i++)
			k[i] = alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
		CU_ASSERT_EQUAL(mt_secret_key_name(k, n), key_name_ref(k, n));
	}
}

int
main(void)
{
	CU_pSuite s;
	struct mt_behav_params p;
	int rc;

	mt_behav_params_defaults(&p);
	W = mt_behav_worker_create(&p);
	if (W == NULL || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("pii", NULL, NULL);
	CU_add_test(s, "validators", test_validators);
	CU_add_test(s, "streaming PII at every split", test_stream_pii);
	CU_add_test(s, "order ids are not cards", test_order_ids);
	CU_add_test(s, "streaming secrets at every split", test_stream_secrets);
	CU_add_test(s, "bulk e-mail and phone counts", test_bulk_counts);
	CU_add_test(s, "bulk scan equals byte-at-a-time", test_bulk_equals_bytewise);
	CU_add_test(s, "kmp tables", test_kmp);
	CU_add_test(s, "secret key names", test_secret_key_names);
	CU_add_test(s, "bench", test_bench);
	rc = tu_run_all();
	mt_behav_worker_destroy(W);
	return rc;
}
