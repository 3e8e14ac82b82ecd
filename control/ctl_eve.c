/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_eve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>

struct ctl_eve {
	FILE *f;
	bool console;
	uint64_t count;
	json_t *by_technique;   /* id -> count */
	json_t *by_owasp;
	json_t *by_sid;
};

struct ctl_eve *
ctl_eve_open(const char *path, bool console)
{
	struct ctl_eve *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	if (path != NULL) {
		e->f = fopen(path, "a");
		if (e->f == NULL) {
			int saved = errno;

			free(e);
			errno = saved;
			return NULL;
		}
	}
	e->console = console;
	e->by_technique = json_object();
	e->by_owasp = json_object();
	e->by_sid = json_object();
	return e;
}

void
ctl_eve_close(struct ctl_eve *e)
{
	if (e == NULL)
		return;
	if (e->f != NULL)
		fclose(e->f);
	json_decref(e->by_technique);
	json_decref(e->by_owasp);
	json_decref(e->by_sid);
	free(e);
}

void
ctl_eve_timestamp(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char base[32];

	gmtime_r(&s, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06u+0000", base, (unsigned int)((ns / 1000ull) % 1000000ull));
}

static void
ctl_eve_ip(const struct mt_flow_tuple *t, const uint8_t *ip, char *buf, size_t len)
{
	if (inet_ntop(t->family == 6 ? AF_INET6 : AF_INET, ip, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
}

static json_t *
ctl_eve_strings(const char *const *v, uint8_t n)
{
	json_t *a = json_array();
	uint8_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *
ctl_eve_alert_json(const struct dp_alert *a, const char *iface)
{
	const struct mt_rule_info *r = a->rule;
	const struct mt_flow_tuple *t = &a->tuple;
	char ts[64], cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN], proto[16];
	json_t *o = json_object(), *al = json_object(), *md = json_object(), *http = json_object();
	bool to_client = a->dir == 1;

	ctl_eve_timestamp(a->ts_ns, ts, sizeof(ts));
	ctl_eve_ip(t, t->client_ip, cip, sizeof(cip));
	ctl_eve_ip(t, t->server_ip, sip, sizeof(sip));
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "flow_id", json_integer((json_int_t)t->flow_id));
	if (iface != NULL)
		json_object_set_new(o, "in_iface", json_string(iface));
	json_object_set_new(o, "event_type", json_string("alert"));
	/* Like Suricata: source is the sender of the packet that matched. */
	json_object_set_new(o, "src_ip", json_string(to_client ? sip : cip));
	json_object_set_new(o, "src_port", json_integer(to_client ? t->server_port : t->client_port));
	json_object_set_new(o, "dest_ip", json_string(to_client ? cip : sip));
	json_object_set_new(o, "dest_port", json_integer(to_client ? t->client_port : t->server_port));
	json_object_set_new(o, "proto", json_string("TCP"));
	json_object_set_new(o, "tx_id", json_integer((json_int_t)a->txn_id));
	json_object_set_new(o, "app_proto", json_string("http"));
	json_object_set_new(o, "direction", json_string(to_client ? "to_client" : "to_server"));

	json_object_set_new(al, "action", json_string(a->outcome == DP_OUTCOME_BLOCKED ?
						      "blocked" : "allowed"));
	json_object_set_new(al, "gid", json_integer(r->gid));
	json_object_set_new(al, "signature_id", json_integer(r->sid));
	json_object_set_new(al, "rev", json_integer(r->rev));
	json_object_set_new(al, "signature", json_string(r->msg ? r->msg : ""));
	json_object_set_new(al, "category", json_string(r->category ? r->category : ""));
	json_object_set_new(al, "severity", json_integer(r->severity));
	json_object_set_new(al, "rule_action", json_string(mt_action_name((enum mt_action)r->action)));
	json_object_set_new(md, "mitre_technique_id", ctl_eve_strings(r->techniques, r->n_techniques));
	json_object_set_new(md, "mitre_tactic_id", ctl_eve_strings(r->tactics, r->n_tactics));
	json_object_set_new(md, "owasp_api", ctl_eve_strings(r->owasp, r->n_owasp));
	json_object_set_new(al, "metadata", md);
	json_object_set_new(o, "alert", al);

	if (a->host_len)
		json_object_set_new(http, "hostname", json_stringn(a->host, a->host_len));
	json_object_set_new(http, "url", json_stringn(a->uri, a->uri_len));
	if (a->ua_len)
		json_object_set_new(http, "http_user_agent", json_stringn(a->ua, a->ua_len));
	if (a->ctype_len)
		json_object_set_new(http, "http_content_type", json_stringn(a->ctype, a->ctype_len));
	json_object_set_new(http, "http_method", json_stringn(a->method, a->method_len));
	snprintf(proto, sizeof(proto), "HTTP/%u.%u", a->http_major, a->http_minor);
	json_object_set_new(http, "protocol", json_string(proto));
	if (a->status)
		json_object_set_new(http, "status", json_integer(a->status));
	json_object_set_new(http, "length", json_integer((json_int_t)(to_client ?
					a->resp_content_length : a->req_content_length)));
	json_object_set_new(o, "http", http);
	if (a->evidence_len > 0) {
		/* Behaviour detections: their evidence, as the "apiguard" object. */
		json_t *ev = json_loadb(a->evidence, a->evidence_len, 0, NULL);

		if (ev != NULL)
			json_object_set_new(o, "apiguard", ev);
	}
	return o;
}

static void
ctl_eve_count_tags(struct ctl_eve *e, const struct mt_rule_info *r)
{
	char sid[16];
	uint8_t i;

	for (i = 0; i < r->n_techniques; i++) {
		json_t *v = json_object_get(e->by_technique, r->techniques[i]);

		json_object_set_new(e->by_technique, r->techniques[i],
				    json_integer(v ? json_integer_value(v) + 1 : 1));
	}
	for (i = 0; i < r->n_owasp; i++) {
		json_t *v = json_object_get(e->by_owasp, r->owasp[i]);

		json_object_set_new(e->by_owasp, r->owasp[i],
				    json_integer(v ? json_integer_value(v) + 1 : 1));
	}
	snprintf(sid, sizeof(sid), "%u", r->sid);
	{
		json_t *v = json_object_get(e->by_sid, sid);

		json_object_set_new(e->by_sid, sid, json_integer(v ? json_integer_value(v) + 1 : 1));
	}
}

static void
ctl_eve_console(const struct dp_alert *a)
{
	const struct mt_rule_info *r = a->rule;
	const struct mt_flow_tuple *t = &a->tuple;
	char ts[64], cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN], tags[256];
	size_t off = 0;
	uint8_t i;

	ctl_eve_timestamp(a->ts_ns, ts, sizeof(ts));
	ctl_eve_ip(t, t->client_ip, cip, sizeof(cip));
	ctl_eve_ip(t, t->server_ip, sip, sizeof(sip));
	tags[0] = '\0';
	for (i = 0; i < r->n_techniques && off < sizeof(tags); i++)
		off += (size_t)snprintf(tags + off, sizeof(tags) - off, "%s%s", i ? "," : "ATT&CK ",
					r->techniques[i]);
	for (i = 0; i < r->n_owasp && off < sizeof(tags); i++)
		off += (size_t)snprintf(tags + off, sizeof(tags) - off, "%s%s",
					i ? "," : (off ? " | OWASP " : "OWASP "), r->owasp[i]);
	printf("%s [%s] [%u:%u:%u] %s [%s] {TCP} %s:%u -> %s:%u %.*s %.*s\n", ts,
	       a->outcome == DP_OUTCOME_BLOCKED ? "BLOCKED" : "alert", r->gid, r->sid, r->rev,
	       r->msg ? r->msg : "", tags, cip, t->client_port, sip, t->server_port,
	       (int)a->method_len, a->method, (int)RTE_MIN(a->uri_len, (uint16_t)80), a->uri);
}

void
ctl_eve_write(struct ctl_eve *e, const struct dp_alert *a, json_t *o)
{
	e->count++;
	ctl_eve_count_tags(e, a->rule);
	if (e->f != NULL && o != NULL) {
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

		if (s != NULL) {
			fputs(s, e->f);
			fputc('\n', e->f);
			free(s);
		}
	}
	if (__atomic_load_n(&e->console, __ATOMIC_RELAXED))
		ctl_eve_console(a);
}

void
ctl_eve_set_console(struct ctl_eve *e, bool console)
{
	if (e != NULL)
		__atomic_store_n(&e->console, console, __ATOMIC_RELAXED);
}

void
ctl_eve_write_event(struct ctl_eve *e, json_t *o)
{
	char *s;

	if (e->f == NULL || o == NULL)
		return;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s != NULL) {
		fputs(s, e->f);
		fputc('\n', e->f);
		free(s);
	}
}

void
ctl_eve_write_alert(void *arg, const struct dp_alert *a)
{
	struct ctl_eve *e = arg;
	json_t *o = e->f != NULL ? ctl_eve_alert_json(a, NULL) : NULL;

	ctl_eve_write(e, a, o);
	json_decref(o);
}

void
ctl_eve_flush(struct ctl_eve *e)
{
	if (e->f != NULL)
		fflush(e->f);
	if (e->console)
		fflush(stdout);
}

uint64_t
ctl_eve_count(const struct ctl_eve *e)
{
	return e->count;
}

json_t *
ctl_eve_tag_counts(const struct ctl_eve *e)
{
	/* Copies: the caller serialises them after releasing the lock the
	 * writer (ctl_eve_write_alert) holds, so references would race. */
	return json_pack("{s:I,s:o,s:o,s:o}", "alerts", (json_int_t)e->count,
			 "mitre_technique_id", json_deep_copy(e->by_technique),
			 "owasp_api", json_deep_copy(e->by_owasp),
			 "signature_id", json_deep_copy(e->by_sid));
}
