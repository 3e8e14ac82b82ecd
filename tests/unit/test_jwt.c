/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_jwt: base64url, flat JSON lookup, our SHA-256/HMAC against
 * OpenSSL, JWT facts (alg none, empty signature, expiry, kid/jku/x5u/jwk
 * injection), HS256/RS256/ES256 verification with keys generated here,
 * algorithm confusion, and the request-head hits of the worker.
 * No EAL; ASan-clean.
 */
#include "tu_eal.h"
#include "mt_behav.h"
#include "mt_behav_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

static void
b64url(const uint8_t *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
		out[o++] = t[(v >> 6) & 63]; out[o++] = t[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63]; out[o++] = t[(v >> 6) & 63];
	}
	out[o] = '\0';
}

/* header.payload (unsigned) into out; returns its length */
static size_t
jws_input(const char *hdr, const char *pay, char *out)
{
	b64url((const uint8_t *)hdr, strlen(hdr), out);
	strcat(out, ".");
	b64url((const uint8_t *)pay, strlen(pay), out + strlen(out));
	return strlen(out);
}

static void
test_b64_json(void)
{
	uint8_t out[64];
	const char *v;
	size_t vl;
	const char *js = "{ \"a\" : {\"x\":[1,2,{\"y\":\"}\"}]}, \"sub\":\"u\\\"1\", \"exp\": 1700000000 , \"n\":null}";

	CU_ASSERT_EQUAL(mt_b64_decode("aGVsbG8", 7, out, sizeof(out), true), 5);
	CU_ASSERT(memcmp(out, "hello", 5) == 0);
	CU_ASSERT_EQUAL(mt_b64_decode("-_8", 3, out, sizeof(out), true), 2);
	CU_ASSERT(out[0] == 0xfb && out[1] == 0xff);
	CU_ASSERT_EQUAL(mt_b64_decode("+/8=", 4, out, sizeof(out), false), 2);
	CU_ASSERT_EQUAL(mt_b64_decode("a", 1, out, sizeof(out), true), -1);
	CU_ASSERT_EQUAL(mt_b64_decode("a*b", 3, out, sizeof(out), true), -1);
	CU_ASSERT_EQUAL(mt_json_find(js, strlen(js), "sub", &v, &vl), MT_J_STRING);
	CU_ASSERT(vl == 4 && memcmp(v, "u\\\"1", 4) == 0);
	CU_ASSERT_EQUAL(mt_json_find(js, strlen(js), "exp", &v, &vl), MT_J_NUMBER);
	CU_ASSERT(vl == 10 && memcmp(v, "1700000000", 10) == 0);
	CU_ASSERT_EQUAL(mt_json_find(js, strlen(js), "n", &v, &vl), MT_J_OTHER);
	CU_ASSERT_EQUAL(mt_json_find(js, strlen(js), "y", &v, &vl), MT_J_NONE); /* nested: not top level */
	CU_ASSERT_EQUAL(mt_json_find("{\"a\":", 5, "a", &v, &vl), MT_J_NONE);
	CU_ASSERT_EQUAL(mt_json_find("[1]", 3, "a", &v, &vl), MT_J_NONE);
}

static void
test_sha_hmac(void)
{
	uint8_t a[32], b[32];
	unsigned bl = 32;
	char msg[300];
	struct mt_sha256 s;

	for (size_t n = 0; n < sizeof(msg); n += 7) {
		memset(msg, 'a' + (int)(n % 26), sizeof(msg));
		mt_sha256_init(&s);
		mt_sha256_update(&s, msg, n / 2);
		mt_sha256_update(&s, msg + n / 2, n - n / 2);
		mt_sha256_final(&s, a);
		SHA256((const uint8_t *)msg, n, b);
		CU_ASSERT(memcmp(a, b, 32) == 0);
		static const char key[100] = "k3y-material-that-is-long-enough-to-be-hashed-first-because-over-64-bytes";

		for (size_t kl = 0; kl < sizeof(key); kl += 33) { /* 0, 33, 66 (> block: hashed), 99 */
			mt_hmac_sha256(key, kl, msg, n, a);
			HMAC(EVP_sha256(), key, (int)kl, (const uint8_t *)msg, n, b, &bl);
			CU_ASSERT(memcmp(a, b, 32) == 0);
		}
	}
	/* keyed hashes: stable within the process, differ across inputs */
	CU_ASSERT_EQUAL(mt_behav_keyed_hash("token", 5), mt_behav_keyed_hash("token", 5));
	CU_ASSERT_NOT_EQUAL(mt_behav_keyed_hash("token", 5), mt_behav_keyed_hash("tokeN", 5));
	CU_ASSERT_NOT_EQUAL(mt_behav_keyed_hash("", 0), 0);
}

static struct mt_behav_params P;

static uint8_t
facts(const char *hdr, const char *pay, const char *sig, char *ident, size_t *il)
{
	char tok[2048];
	struct mt_jwt j;

	jws_input(hdr, pay, tok);
	strcat(tok, ".");
	strcat(tok, sig);
	if (mt_jwt_decode(tok, strlen(tok), &j) != 0)
		return 0;
	return mt_jwt_facts(&j, &P, 1700000000, ident, 256, il);
}

static void
test_facts(void)
{
	char id[256];
	size_t il;
	uint8_t f;

	f = facts("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"iss\":\"idp\",\"tid\":\"t1\",\"exp\":1800000000}",
		  "c2ln", id, &il);
	CU_ASSERT_EQUAL(f, MT_JWT_PRESENT);
	CU_ASSERT(il == 12 && memcmp(id, "idp|alice|t1", 12) == 0);
	CU_ASSERT_EQUAL(facts("{\"alg\":\"none\"}", "{\"sub\":\"a\"}", "", id, &il),
			MT_JWT_PRESENT | MT_JWT_ALG_NONE);
	CU_ASSERT_EQUAL(facts("{\"alg\":\"NoNe\"}", "{\"sub\":\"a\"}", "", id, &il) & MT_JWT_ALG_NONE,
			MT_JWT_ALG_NONE);
	CU_ASSERT_EQUAL(facts("{\"alg\":\"HS256\"}", "{\"sub\":\"a\"}", "", id, &il),
			MT_JWT_PRESENT | MT_JWT_EMPTY_SIG);
	CU_ASSERT(facts("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":1699999000}", "eA", id, &il) & MT_JWT_EXPIRED);
	CU_ASSERT(!(facts("{\"alg\":\"HS256\"}", "{\"sub\":\"a\",\"exp\":1699999990}", "eA", id, &il) & MT_JWT_EXPIRED));
	CU_ASSERT(facts("{\"alg\":\"HS256\",\"kid\":\"../../dev/null\"}", "{}", "eA", id, &il) & MT_JWT_HDR_INJECT);
	CU_ASSERT(facts("{\"alg\":\"HS256\",\"kid\":\"x' UNION SELECT 'a\"}", "{}", "eA", id, &il) & MT_JWT_HDR_INJECT);
	CU_ASSERT(!(facts("{\"alg\":\"HS256\",\"kid\":\"key-2024-01\"}", "{}", "eA", id, &il) & MT_JWT_HDR_INJECT));
	CU_ASSERT(facts("{\"alg\":\"RS256\",\"jku\":\"https://evil.example/jwks.json\"}", "{}", "eA", id, &il) & MT_JWT_HDR_INJECT);
	CU_ASSERT(facts("{\"alg\":\"RS256\",\"x5u\":\"http://10.0.0.1/c.pem\"}", "{}", "eA", id, &il) & MT_JWT_HDR_INJECT);
	CU_ASSERT(facts("{\"alg\":\"RS256\",\"jwk\":{\"kty\":\"RSA\"}}", "{}", "eA", id, &il) & MT_JWT_HDR_INJECT);
	snprintf(P.jwt_allowed_jku_hosts.v[0], MT_BEHAV_STR_MAX, "idp.example.com");
	P.jwt_allowed_jku_hosts.n = 1;
	CU_ASSERT(!(facts("{\"alg\":\"RS256\",\"jku\":\"https://idp.example.com/jwks\"}", "{}", "eA", id, &il) & MT_JWT_HDR_INJECT));
	CU_ASSERT(facts("{\"alg\":\"RS256\",\"jku\":\"https://idp.example.com@evil.io/jwks\"}", "{}", "eA", id, &il) & MT_JWT_HDR_INJECT);
	P.jwt_allowed_jku_hosts.n = 0;
	CU_ASSERT_EQUAL(facts("{\"alg\":\"HS256\"}", "{\"name\":\"x\"}", "eA", id, &il), MT_JWT_PRESENT);
	CU_ASSERT_EQUAL(il, 0);
}

static char *
pem_pub(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out;
	long n;

	PEM_write_bio_PUBKEY(b, k);
	n = BIO_get_mem_data(b, &p);
	out = strndup(p, (size_t)n);
	BIO_free(b);
	return out;
}

static size_t
sign(EVP_PKEY *k, const char *in, uint8_t *sig, bool es)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t sl = 512;

	EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k);
	EVP_DigestSign(c, sig, &sl, (const uint8_t *)in, strlen(in));
	EVP_MD_CTX_free(c);
	if (es) { /* DER -> JOSE r||s */
		const uint8_t *q = sig;
		ECDSA_SIG *e = d2i_ECDSA_SIG(NULL, &q, (long)sl);
		const BIGNUM *r, *s;

		ECDSA_SIG_get0(e, &r, &s);
		memset(sig, 0, 64);
		BN_bn2binpad(r, sig, 32);
		BN_bn2binpad(s, sig + 32, 32);
		ECDSA_SIG_free(e);
		sl = 64;
	}
	return sl;
}

static int
verify(const struct mt_jwt_keyset *ks, const char *tok)
{
	struct mt_jwt j;

	if (mt_jwt_decode(tok, strlen(tok), &j) != 0)
		return -9;
	return mt_jwt_verify(ks, &j);
}

static void
test_verify(void)
{
	struct mt_behav_params p = P;
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char *rpem = pem_pub(rsa), *epem = pem_pub(ec);
	char tok[4096], in[1024];
	uint8_t sig[512], mac[32];
	struct mt_jwt_keyset *ks;
	const char *pay = "{\"sub\":\"bob\",\"exp\":1900000000}";
	size_t sl;

	CU_ASSERT_FATAL(rsa && ec && rpem && epem);
	/* the jwt.io HS256 example */
	strcpy(p.jwt_keys[0].alg, "HS256");
	strcpy(p.jwt_keys[0].material, "your-256-bit-secret");
	strcpy(p.jwt_keys[1].alg, "RS256");
	snprintf(p.jwt_keys[1].material, MT_BEHAV_PEM_MAX, "%s", rpem);
	strcpy(p.jwt_keys[2].alg, "ES256");
	snprintf(p.jwt_keys[2].material, MT_BEHAV_PEM_MAX, "%s", epem);
	p.n_jwt_keys = 3;
	ks = mt_jwt_keyset_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	CU_ASSERT_EQUAL(verify(ks, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"), 1);
	CU_ASSERT_EQUAL(verify(ks, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIzfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"), 0);

	jws_input("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", pay, in);
	sl = sign(rsa, in, sig, false);
	snprintf(tok, sizeof(tok), "%s.", in);
	b64url(sig, sl, tok + strlen(tok));
	CU_ASSERT_EQUAL(verify(ks, tok), 1);
	/* Change one signature character to another valid base64url one
	 * (flipping an ASCII bit could make it invalid, a different error). */
	tok[strlen(tok) - 3] = tok[strlen(tok) - 3] == 'A' ? 'B' : 'A';
	CU_ASSERT_EQUAL(verify(ks, tok), 0);

	jws_input("{\"alg\":\"ES256\"}", pay, in);
	sl = sign(ec, in, sig, true);
	snprintf(tok, sizeof(tok), "%s.", in);
	b64url(sig, sl, tok + strlen(tok));
	CU_ASSERT_EQUAL(verify(ks, tok), 1);
	jws_input("{\"alg\":\"ES256\"}", "{\"sub\":\"admin\",\"exp\":1900000000}", in);
	snprintf(tok, sizeof(tok), "%s.", in); /* same signature, other claims */
	b64url(sig, sl, tok + strlen(tok));
	CU_ASSERT_EQUAL(verify(ks, tok), 0);

	/* algorithm confusion: HS256 signed with the RSA public key text */
	jws_input("{\"alg\":\"HS256\"}", pay, in);
	mt_hmac_sha256(rpem, strlen(rpem), in, strlen(in), mac);
	snprintf(tok, sizeof(tok), "%s.", in);
	b64url(mac, 32, tok + strlen(tok));
	CU_ASSERT_EQUAL(verify(ks, tok), 0);
	/* alg none: not a signature question (own detector) */
	jws_input("{\"alg\":\"none\"}", pay, in);
	snprintf(tok, sizeof(tok), "%s.", in);
	CU_ASSERT_EQUAL(verify(ks, tok), -1);
	/* an alg with no configured key is invalid */
	jws_input("{\"alg\":\"PS256\"}", pay, in);
	snprintf(tok, sizeof(tok), "%s.AAAA", in);
	CU_ASSERT_EQUAL(verify(ks, tok), 0);
	mt_jwt_keyset_destroy(ks);

	/* a PEM that is not a key, an RSA key declared ES256 */
	strcpy(p.jwt_keys[0].material, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
	strcpy(p.jwt_keys[0].alg, "RS256");
	p.n_jwt_keys = 1;
	CU_ASSERT_PTR_NULL(mt_jwt_keyset_create(&p));
	snprintf(p.jwt_keys[0].material, MT_BEHAV_PEM_MAX, "%s", rpem);
	strcpy(p.jwt_keys[0].alg, "ES256");
	CU_ASSERT_PTR_NULL(mt_jwt_keyset_create(&p));
	free(rpem);
	free(epem);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

/* The worker reports forged tokens at request head. */
static void
test_worker_hits(void)
{
	struct mt_behav_params p = P;
	struct mt_behav_worker *w;
	struct mt_flow_tuple tu = { .family = 4, .client_ip = { 10, 0, 0, 1 } };
	struct mt_txn t;
	struct mt_behav_rec r;
	struct mt_behav_msg m;
	const struct mt_rule_info *hits[MT_BEHAV_REQ_HITS];
	char auth[1024], in[512];
	unsigned n;

	strcpy(p.jwt_keys[0].alg, "HS256");
	strcpy(p.jwt_keys[0].material, "s3cr3t");
	p.n_jwt_keys = 1;
	w = mt_behav_worker_create(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	memset(&t, 0, sizeof(t));
	t.tuple = &tu;
	t.ts_ns = 1700000000ULL * 1000000000ULL;
	memset(t.req.known, -1, sizeof(t.req.known));
	t.req.method = (struct mt_slice){ (const uint8_t *)"GET", 3 };
	t.req.uri = (struct mt_slice){ (const uint8_t *)"/api/v1/me", 10 };
	t.req.n_headers = 1;
	t.req.headers[0].name = (struct mt_slice){ (const uint8_t *)"Authorization", 13 };
	t.req.known[MT_HDR_AUTHORIZATION] = 0;

	jws_input("{\"alg\":\"none\"}", "{\"sub\":\"admin\"}", in);
	snprintf(auth, sizeof(auth), "Bearer %s.", in);
	t.req.headers[0].value = (struct mt_slice){ (const uint8_t *)auth, (uint32_t)strlen(auth) };
	n = mt_behav_req_head(w, &t, &r, &m, hits, MT_BEHAV_REQ_HITS);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(n >= 1 && hits[0]->sid == 2300022);
	CU_ASSERT_EQUAL(r.id_kind, MT_ID_JWT);

	{ /* good HS256 token: no hits, verified, identity from sub */
		uint8_t mac[32];

		jws_input("{\"alg\":\"HS256\"}", "{\"sub\":\"carol\",\"exp\":1900000000}", in);
		mt_hmac_sha256("s3cr3t", 6, in, strlen(in), mac);
		snprintf(auth, sizeof(auth), "Bearer %s.", in);
		b64url(mac, 32, auth + strlen(auth));
		t.req.headers[0].value = (struct mt_slice){ (const uint8_t *)auth, (uint32_t)strlen(auth) };
		n = mt_behav_req_head(w, &t, &r, &m, hits, MT_BEHAV_REQ_HITS);
		CU_ASSERT_EQUAL(n, 0);
		CU_ASSERT(r.jwt & MT_JWT_SIG_OK);
		/* same token again: answered by the cache */
		mt_behav_req_head(w, &t, &r, &m, hits, MT_BEHAV_REQ_HITS);
		CU_ASSERT_EQUAL(mt_behav_worker_stats(w)->jwt_cache_hits, 1);
		/* wrong key, expired */
		jws_input("{\"alg\":\"HS256\"}", "{\"sub\":\"carol\",\"exp\":1600000000}", in);
		snprintf(auth, sizeof(auth), "Bearer %s.", in);
		b64url(mac, 32, auth + strlen(auth));
		t.req.headers[0].value = (struct mt_slice){ (const uint8_t *)auth, (uint32_t)strlen(auth) };
		n = mt_behav_req_head(w, &t, &r, &m, hits, MT_BEHAV_REQ_HITS);
		CU_ASSERT_EQUAL(n, 2);
		CU_ASSERT(n == 2 && hits[0]->sid == 2300024 && hits[1]->sid == 2300026);
	}
	mt_behav_worker_destroy(w);
}

int
main(void)
{
	CU_pSuite s;

	mt_behav_params_defaults(&P);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("jwt", NULL, NULL);
	CU_add_test(s, "base64url and flat JSON", test_b64_json);
	CU_add_test(s, "sha256 and hmac vs OpenSSL", test_sha_hmac);
	CU_add_test(s, "facts", test_facts);
	CU_add_test(s, "HS256 RS256 ES256 verification", test_verify);
	CU_add_test(s, "worker request-head hits", test_worker_hits);
	return tu_run_all();
}
