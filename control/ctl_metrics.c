/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition (format 0.0.4) of the data-plane counters and
 * the control plane's own numbers. Each metric family is written once with
 * HELP and TYPE, then all its series; counters end in _total.
 */
#include "ctl_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counters that are levels, not running totals. */
static bool
ctl_metric_is_gauge(const char *name)
{
	return strstr(name, "active") != NULL || strstr(name, "in_use") != NULL ||
	       strstr(name, "current") != NULL;
}

static void
ctl_metric_name(char *buf, size_t len, const char *prefix, const char *name, bool counter)
{
	size_t off = (size_t)snprintf(buf, len, "%s", prefix), i;

	for (i = 0; name[i] && off + 1 < len; i++) {
		char c = name[i];

		buf[off++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '_' ? c : '_';
	}
	buf[off] = '\0';
	if (counter && (off < 6 || strcmp(buf + off - 6, "_total") != 0))
		snprintf(buf + off, len - off, "_total");
}

/* A label value with \\, \" and \n escaped. */
static void
ctl_metric_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void
ctl_metric_head(FILE *f, const char *name, const char *help, bool counter)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, counter ? "counter" : "gauge");
}

/*
 * One family per counter name of @p arr's objects (workers or ports), one
 * series per element, labelled @p label = element's "id" or "name".
 */
static void
ctl_metric_group(FILE *f, json_t *arr, const char *prefix, const char *label, const char *what)
{
	json_t *first = json_array_get(arr, 0), *v, *el;
	const char *key;
	size_t i;

	json_object_foreach(first, key, v) {
		char name[160], help[256];
		bool counter;

		if (!json_is_integer(v) || strcmp(key, "id") == 0)
			continue;
		counter = !ctl_metric_is_gauge(key);
		ctl_metric_name(name, sizeof(name), prefix, key, counter);
		snprintf(help, sizeof(help), "%s counter %s.", what, key);
		ctl_metric_head(f, name, help, counter);
		json_array_foreach(arr, i, el) {
			json_t *lv = json_object_get(el, label);

			fprintf(f, "%s{%s=\"", name, strcmp(label, "name") == 0 ? "port" : "worker");
			if (json_is_string(lv))
				ctl_metric_label(f, json_string_value(lv));
			else
				fprintf(f, "%lld", (long long)json_integer_value(lv));
			fprintf(f, "\"} %lld\n", (long long)json_integer_value(json_object_get(el, key)));
		}
	}
}

static void
ctl_metric_labelled(FILE *f, json_t *obj, const char *name, const char *label, const char *help)
{
	const char *k;
	json_t *v;

	ctl_metric_head(f, name, help, true);
	json_object_foreach(obj, k, v) {
		fprintf(f, "%s{%s=\"", name, label);
		ctl_metric_label(f, k);
		fprintf(f, "\"} %lld\n", (long long)json_integer_value(v));
	}
}

/* The behaviour analytics stage: flat counters, then one family per
 * table column labelled by table. */
/* One family per key of a flat object of integers: PREFIXkey. */
static void
ctl_metric_flat(FILE *f, json_t *o, const char *prefix, const char *help_lead, bool counter)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		char name[160], help[200];

		ctl_metric_name(name, sizeof(name), prefix, k, counter);
		snprintf(help, sizeof(help), "%s %s.", help_lead, k);
		ctl_metric_head(f, name, help, counter);
		fprintf(f, "%s %lld\n", name, (long long)json_integer_value(v));
	}
}

static void
ctl_metric_behaviour(FILE *f, json_t *b)
{
	static const struct { const char *key, *name, *help; bool counter; } cols[] = {
		{ "entries", "apiguard_behaviour_table_entries", "Entries in a behaviour table.", false },
		{ "capacity", "apiguard_behaviour_table_capacity", "Capacity of a behaviour table.", false },
		{ "evictions", "apiguard_behaviour_table_evictions_total",
		  "LRU evictions from a behaviour table.", true },
	};
	json_t *tabs = json_object_get(b, "tables"), *v;
	const char *k;
	size_t i;

	json_object_foreach(b, k, v) {
		char name[160], help[200];
		bool counter = strstr(k, "entries") == NULL && strstr(k, "active") == NULL;

		if (!json_is_integer(v))
			continue;
		ctl_metric_name(name, sizeof(name), "apiguard_behaviour_", k, counter);
		snprintf(help, sizeof(help), "Behaviour analytics %s %s.", counter ? "counter" : "level",
			 k);
		ctl_metric_head(f, name, help, counter);
		fprintf(f, "%s %lld\n", name, (long long)json_integer_value(v));
	}
	if (json_object_size(tabs) == 0)
		return;
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		ctl_metric_head(f, cols[i].name, cols[i].help, cols[i].counter);
		json_object_foreach(tabs, k, v) {
			fprintf(f, "%s{table=\"", cols[i].name);
			ctl_metric_label(f, k);
			fprintf(f, "\"} %lld\n",
				(long long)json_integer_value(json_object_get(v, cols[i].key)));
		}
	}
}

/* The campaign engine (ctl_campaign_stats()): named families, stages as
 * labels. Keys the table does not know are skipped, not guessed at. */
static void
ctl_metric_campaigns(FILE *f, json_t *cs)
{
	static const struct { const char *key, *name, *help; bool counter; } m[] = {
		{ "campaigns", "apiguard_campaigns", "Campaigns held in the campaign table.", false },
		{ "open", "apiguard_campaigns_open", "Open campaigns (an alert within idle seconds).", false },
		{ "max_campaigns", "apiguard_campaigns_capacity", "Campaign table capacity.", false },
		{ "created", "apiguard_campaigns_created_total", "Campaigns started.", true },
		{ "alerts", "apiguard_campaign_alerts_total", "Alerts the campaign engine observed.", true },
		{ "alerts_linked", "apiguard_campaign_alerts_linked_total",
		  "Alerts linked into a campaign.", true },
		{ "unlinked", "apiguard_campaign_alerts_unlinked_total",
		  "Alerts without any key to link.", true },
		{ "events", "apiguard_campaign_events_total", "Campaign events written to eve.json.", true },
		{ "merges", "apiguard_campaign_merges_total", "Campaigns merged into another.", true },
		{ "campaigns_evicted", "apiguard_campaigns_evicted_total",
		  "Campaigns evicted from a full table.", true },
		{ "keys", "apiguard_campaign_keys", "Link keys in the key table.", false },
		{ "max_keys", "apiguard_campaign_keys_capacity", "Key table capacity.", false },
		{ "keys_expired", "apiguard_campaign_keys_expired_total",
		  "Link keys dropped (expired, or their campaign gone).", true },
		{ "keys_refused", "apiguard_campaign_keys_refused_total",
		  "Link keys refused by a full key table.", true },
		{ "alert_refs_dropped", "apiguard_campaign_alert_refs_dropped_total",
		  "Alert references not kept (per-campaign cap).", true },
		{ "blocks", "apiguard_campaign_policy_blocks_total",
		  "Addresses and identities blocked by the response policy.", true },
		{ "block_failures", "apiguard_campaign_policy_block_failures_total",
		  "Response-policy blocks that failed.", true },
	};
	json_t *v;
	const char *k;
	size_t i;

	if (!json_is_object(cs))
		return;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		v = json_object_get(cs, m[i].key);
		if (!json_is_integer(v))
			continue;
		ctl_metric_head(f, m[i].name, m[i].help, m[i].counter);
		fprintf(f, "%s %lld\n", m[i].name, (long long)json_integer_value(v));
	}
	if (json_object_size(json_object_get(cs, "by_stage")) > 0) {
		ctl_metric_head(f, "apiguard_campaigns_by_stage",
				"Campaigns held, by the furthest ATT&CK tactic reached.", false);
		json_object_foreach(json_object_get(cs, "by_stage"), k, v) {
			fprintf(f, "apiguard_campaigns_by_stage{stage=\"");
			ctl_metric_label(f, k);
			fprintf(f, "\"} %lld\n", (long long)json_integer_value(v));
		}
	}
	if (json_object_size(json_object_get(cs, "stage_reached")) > 0)
		ctl_metric_labelled(f, json_object_get(cs, "stage_reached"),
				    "apiguard_campaign_stage_reached_total", "stage",
				    "Times a campaign's stage advanced to this tactic.");
}

char *
ctl_metrics_render(json_t *stats, json_t *counts, json_t *info)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *k;
	json_t *v;

	if (f == NULL)
		return NULL;
	ctl_metric_head(f, "apiguard_up", "1 while apiguard answers.", false);
	fprintf(f, "apiguard_up 1\n");
	json_object_foreach(info, k, v) {
		char name[160];
		bool counter = strncmp(k, "rule_changes", 12) == 0;

		ctl_metric_name(name, sizeof(name), "apiguard_", k, counter);
		ctl_metric_head(f, name, counter ? "Rule changes (API, reload, SIGHUP) since start." :
				"Control-plane state.", counter);
		if (json_is_real(v))
			fprintf(f, "%s %.3f\n", name, json_real_value(v));
		else
			fprintf(f, "%s %lld\n", name, (long long)json_integer_value(v));
	}
	ctl_metric_group(f, json_object_get(stats, "workers"), "apiguard_worker_", "id", "Worker");
	ctl_metric_group(f, json_object_get(stats, "ports"), "apiguard_port_", "name", "Port");
	ctl_metric_flat(f, json_object_get(stats, "io"), "apiguard_io_",
			"Software distribution stage counter", true);
	ctl_metric_flat(f, json_object_get(stats, "memory"), "apiguard_memory_", "Process memory:",
			false);
	ctl_metric_behaviour(f, json_object_get(stats, "behaviour"));
	ctl_metric_campaigns(f, json_object_get(stats, "campaigns"));
	ctl_metric_head(f, "apiguard_alerts_total", "Alerts received by the control plane.", true);
	fprintf(f, "apiguard_alerts_total %lld\n",
		(long long)json_integer_value(json_object_get(counts, "alerts")));
	ctl_metric_labelled(f, json_object_get(counts, "signature_id"), "apiguard_rule_hits_total",
			    "sid", "Alerts per rule.");
	ctl_metric_labelled(f, json_object_get(counts, "mitre_technique_id"),
			    "apiguard_technique_alerts_total", "technique",
			    "Alerts per ATT&CK technique.");
	ctl_metric_labelled(f, json_object_get(counts, "owasp_api"), "apiguard_owasp_alerts_total",
			    "owasp", "Alerts per OWASP API Security Top 10 category.");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
