/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ATT&CK Navigator layers (layer format 4.5) of what the loaded rules can
 * report (coverage) and of what the alerts reported (observed).
 */
#include "ctl_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mt_attack.h"

/* One Navigator technique entry per tactic the technique belongs to
 * (Navigator draws a technique once under each tactic column). */
static void
ctl_layer_add(json_t *techniques, const char *id, json_int_t score, const char *comment,
	      json_t *metadata)
{
	const struct mt_attack_technique *t = mt_attack_technique_find(id);
	char tactics[256], *tac, *save = NULL;
	int n = 0;

	snprintf(tactics, sizeof(tactics), "%s", t && t->tactics ? t->tactics : "");
	for (tac = strtok_r(tactics, ",", &save); tac != NULL; tac = strtok_r(NULL, ",", &save)) {
		while (*tac == ' ')
			tac++;
		json_array_append_new(techniques, json_pack(
			"{s:s,s:s,s:I,s:s,s:b,s:O,s:[],s:b}", "techniqueID", id, "tactic", tac,
			"score", score, "comment", comment, "enabled", 1, "metadata", metadata,
			"links", "showSubtechniques", 0));
		n++;
	}
	if (n == 0)   /* not in the vendored table: no tactic to place it under */
		json_array_append_new(techniques, json_pack(
			"{s:s,s:I,s:s,s:b,s:O,s:[],s:b}", "techniqueID", id, "score", score,
			"comment", comment, "enabled", 1, "metadata", metadata, "links",
			"showSubtechniques", 0));
}

json_t *
ctl_layer_build(const char *kind, json_t *coverage, json_t *counts)
{
	bool observed = strcmp(kind, "observed") == 0;
	json_t *techniques = json_array(), *layer_md = json_array();
	json_int_t max = 1;
	const char *id;
	json_t *v;

	if (!observed) {
		json_object_foreach(coverage, id, v) {
			char comment[1024];
			size_t off = 0, i;
			json_t *sid;

			off += (size_t)snprintf(comment, sizeof(comment), "sids:");
			json_array_foreach(v, i, sid)
				if (off < sizeof(comment))
					off += (size_t)snprintf(comment + off, sizeof(comment) - off,
								"%s %lld", i ? "," : "",
								(long long)json_integer_value(sid));
			{
				json_t *md = json_array();

				ctl_layer_add(techniques, id, 1, comment, md);
				json_decref(md);
			}
		}
		/* Navigator wants metadata values as strings. */
		json_array_append_new(layer_md, json_pack("{s:s,s:o}", "name", "techniques",
			"value", json_sprintf("%zu", json_object_size(coverage))));
	} else {
		json_t *pairs = json_object_get(counts, "technique_owasp");

		json_object_foreach(json_object_get(counts, "mitre_technique_id"), id, v) {
			json_int_t n = json_integer_value(v);
			json_t *md = json_array(), *per = json_object_get(pairs, id), *c;
			const char *ow;
			char comment[64];

			snprintf(comment, sizeof(comment), "%lld alert(s)", (long long)n);
			json_array_append_new(md, json_pack("{s:s,s:o}", "name", "alerts",
							    "value", json_sprintf("%lld", (long long)n)));
			json_object_foreach(per, ow, c)
				json_array_append_new(md, json_pack("{s:s,s:o}", "name", ow, "value",
					json_sprintf("%lld", (long long)json_integer_value(c))));
			ctl_layer_add(techniques, id, n, comment, md);
			json_decref(md);
			if (n > max)
				max = n;
		}
		json_object_foreach(json_object_get(counts, "owasp_api"), id, v) {
			const struct mt_owasp_category *oc = mt_owasp_find(id);
			char name[160];

			snprintf(name, sizeof(name), "%s %s", id, oc ? oc->name : "");
			json_array_append_new(layer_md, json_pack("{s:s,s:o}", "name", name, "value",
				json_sprintf("%lld", (long long)json_integer_value(v))));
		}
		json_array_append_new(layer_md, json_pack("{s:s,s:o}", "name", "alerts", "value",
			json_sprintf("%lld", (long long)json_integer_value(
				json_object_get(counts, "alerts")))));
	}
	return json_pack("{s:s,s:{s:s,s:s,s:s},s:s,s:s,s:{s:[sssssss]},s:i,"
			 "s:{s:s,s:s,s:b,s:b,s:b,s:b,s:s},s:b,s:o,"
			 "s:{s:[ss],s:i,s:I},s:[],s:o,s:[],s:b,s:s,s:b,s:b,s:b}",
		"name", observed ? "apiguard observed" : "apiguard coverage",
		"versions", "attack", "18", "navigator", "4.9.1", "layer", "4.5",
		"domain", "enterprise-attack",
		"description", observed ?
			"ATT&CK techniques reported by apiguard alerts, scored by alert count" :
			"ATT&CK techniques the loaded apiguard rules can report",
		"filters", "platforms", "Linux", "macOS", "Windows", "Network Devices",
			"Containers", "IaaS", "SaaS",
		"sorting", 0,
		"layout", "layout", "side", "aggregateFunction", "average", "showID", 1,
			"showName", 1, "showAggregateScores", 0, "countUnscored", 0,
			"expandedSubtechniques", "none",
		"hideDisabled", 0,
		"techniques", techniques,
		"gradient", "colors", "#ffffff", observed ? "#e03c31" : "#66b1ff",
			"minValue", 0, "maxValue", max,
		"legendItems",
		"metadata", layer_md,
		"links",
		"showTacticRowBackground", 0,
		"tacticRowBackground", "#dddddd",
		"selectTechniquesAcrossTactics", 1,
		"selectSubtechniquesWithParent", 0,
		"selectVisibleTechniques", 0);
}

/* The OpenAPI document is control/openapi.json, compiled in with the
 * dashboard (see ctl_www.h). */
#include "ctl_www.h"

json_t *
ctl_openapi_doc(void)
{
	const struct ctl_www_file *w;

	for (w = ctl_www_files; w->path != NULL; w++)
		if (strcmp(w->path, "/openapi.json") == 0)
			return json_loadb((const char *)w->data, w->len, 0, NULL);
	return NULL;
}
