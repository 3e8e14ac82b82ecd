/* SPDX-License-Identifier: Apache-2.0 */
/*
 * REST actions of the attack campaigns (ctl_campaign.h): list with
 * filters, one campaign's timeline, and its ATT&CK Navigator layer (the
 * observed-layer code of ctl_layer.c, fed with that campaign's counts).
 */
#include "ctl_api.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

static int
ctl_camp_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static unsigned int
ctl_camp_unavailable(json_t **out)
{
	*out = ctl_api_error("unavailable", "campaign engine not running");
	return MHD_HTTP_SERVICE_UNAVAILABLE;
}

static unsigned int
ctl_camp_bad(json_t **out, const char *what)
{
	*out = ctl_api_error("bad_query", "%s", what);
	return MHD_HTTP_BAD_REQUEST;
}

unsigned int
ctl_api_campaigns(struct ctl_api *api, const struct ctl_api_campaign_args *q, json_t **out)
{
	struct ctl_campaign_filter f = { .stage = -1, .tactic = -1 };
	uint64_t v;
	json_t *arr;

	if (api->campaigns == NULL)
		return ctl_camp_unavailable(out);
	if (q->stage != NULL && (f.stage = ctl_campaign_tactic_index(q->stage)) < 0)
		return ctl_camp_bad(out, "stage must be a tactic (reconnaissance .. impact or TA id)");
	if (q->tactic != NULL && (f.tactic = ctl_campaign_tactic_index(q->tactic)) < 0)
		return ctl_camp_bad(out, "tactic must be a tactic (reconnaissance .. impact or TA id)");
	if (q->since != NULL) {
		if (ctl_camp_u64(q->since, UINT64_MAX / 1000000000ull, &v) != 0)
			return ctl_camp_bad(out, "since must be epoch seconds");
		f.since_ns = v * 1000000000ull;
	}
	if (q->until != NULL) {
		if (ctl_camp_u64(q->until, UINT64_MAX / 1000000000ull, &v) != 0)
			return ctl_camp_bad(out, "until must be epoch seconds");
		f.until_ns = v * 1000000000ull;
	}
	if (q->open != NULL) {
		if (strcmp(q->open, "1") != 0 && strcmp(q->open, "0") != 0 &&
		    strcmp(q->open, "true") != 0 && strcmp(q->open, "false") != 0)
			return ctl_camp_bad(out, "open must be 1, 0, true or false");
		f.open_only = q->open[0] == '1' || q->open[0] == 't';
	}
	if (q->limit != NULL) {
		if (ctl_camp_u64(q->limit, 10000, &v) != 0 || v == 0)
			return ctl_camp_bad(out, "limit must be 1..10000");
		f.limit = (uint32_t)v;
	}
	arr = ctl_campaign_list(api->campaigns, &f);
	*out = json_pack("{s:I,s:o,s:o}", "count", (json_int_t)json_array_size(arr),
			 "campaigns", arr, "stats", ctl_campaign_stats(api->campaigns));
	return MHD_HTTP_OK;
}

unsigned int
ctl_api_campaign_get(struct ctl_api *api, const char *id, json_t **out)
{
	uint64_t v;

	if (api->campaigns == NULL)
		return ctl_camp_unavailable(out);
	if (ctl_camp_u64(id, UINT64_MAX, &v) != 0 || v == 0)
		return ctl_camp_bad(out, "campaign id must be a positive integer");
	*out = ctl_campaign_get(api->campaigns, v);
	if (*out == NULL) {
		*out = ctl_api_error("not_found", "no campaign %" PRIu64, v);
		return MHD_HTTP_NOT_FOUND;
	}
	return MHD_HTTP_OK;
}

unsigned int
ctl_api_campaign_layer(struct ctl_api *api, const char *id, json_t **out)
{
	json_t *t, *counts, *per, *techs, *v, *e, *md;
	const char *key;
	char *tac;
	uint64_t cid;
	size_t i;

	if (api->campaigns == NULL)
		return ctl_camp_unavailable(out);
	if (ctl_camp_u64(id, UINT64_MAX, &cid) != 0 || cid == 0)
		return ctl_camp_bad(out, "campaign id must be a positive integer");
	t = ctl_campaign_techniques(api->campaigns, cid);
	if (t == NULL) {
		*out = ctl_api_error("not_found", "no campaign %" PRIu64, cid);
		return MHD_HTTP_NOT_FOUND;
	}
	per = json_object();
	json_object_foreach(json_object_get(t, "techniques"), key, v)
		json_object_set(per, key, json_object_get(v, "count"));
	counts = json_pack("{s:O,s:o,s:O,s:{}}", "alerts", json_object_get(t, "alerts"),
			   "mitre_technique_id", per, "owasp_api", json_object_get(t, "owasp_api"),
			   "technique_owasp");
	*out = ctl_layer_build("observed", NULL, counts);
	json_decref(counts);
	if (*out == NULL) {
		json_decref(t);
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	json_object_set_new(*out, "name", json_sprintf("apiguard campaign %" PRIu64, cid));
	json_object_set_new(*out, "description", json_sprintf(
		"ATT&CK techniques of campaign %" PRIu64 ", scored by alert count; the comment "
		"gives the order in which the campaign first used each", cid));
	/* The order each technique first appeared, for the timeline reading. */
	techs = json_object_get(*out, "techniques");
	json_array_foreach(techs, i, e) {
		json_t *tv = json_object_get(json_object_get(t, "techniques"),
					     json_string_value(json_object_get(e, "techniqueID")));
		json_int_t ord = json_integer_value(json_object_get(tv, "order"));
		json_int_t n = json_integer_value(json_object_get(tv, "count"));

		json_object_set_new(e, "comment", json_sprintf("#%lld, %lld alert(s)",
							       (long long)ord, (long long)n));
		/* ctl_layer_build() shares one metadata array between the
		 * entries of a technique: give each its own copy. */
		md = json_copy(json_object_get(e, "metadata"));
		json_array_append_new(md, json_pack("{s:s,s:o}", "name", "order", "value",
						    json_sprintf("%lld", (long long)ord)));
		json_object_set_new(e, "metadata", md);
	}
	tac = json_dumps(json_object_get(t, "tactics"), JSON_COMPACT);
	json_array_append_new(json_object_get(*out, "metadata"), json_pack("{s:s,s:s}",
		"name", "tactics", "value", tac ? tac : ""));
	free(tac);
	json_decref(t);
	return MHD_HTTP_OK;
}
