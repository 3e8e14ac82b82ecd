/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenAPI 3 import (JSON or YAML): each operation becomes a template that
 * takes precedence over learned ones, and a request body schema with
 * properties tells mass_assignment which privilege fields the endpoint
 * legitimately takes. Analytics thread (or before it starts).
 */
#include "mt_behav.h"
#include "mt_behav_an_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <yaml.h>

#define MAX_OPS 4096

static json_t *
yaml_to_json(yaml_document_t *d, yaml_node_t *n, int depth)
{
	json_t *o;

	if (n == NULL || depth > 64)
		return json_null();
	switch (n->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)n->data.scalar.value;
		char *end;
		long long v;

		if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return json_stringn(s, n->data.scalar.length);
		if (!strcmp(s, "true"))
			return json_true();
		if (!strcmp(s, "false"))
			return json_false();
		if (!strcmp(s, "null") || !strcmp(s, "~") || *s == '\0')
			return json_null();
		v = strtoll(s, &end, 10);
		if (*end == '\0')
			return json_integer(v);
		return json_stringn(s, n->data.scalar.length);
	}
	case YAML_SEQUENCE_NODE:
		o = json_array();
		for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
			json_array_append_new(o, yaml_to_json(d, yaml_document_get_node(d, *i), depth + 1));
		return o;
	case YAML_MAPPING_NODE:
		o = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(d, p->key);

			if (k && k->type == YAML_SCALAR_NODE)
				json_object_set_new(o, (const char *)k->data.scalar.value,
						    yaml_to_json(d, yaml_document_get_node(d, p->value), depth + 1));
		}
		return o;
	default:
		return json_null();
	}
}

static json_t *
parse_any(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je);
	yaml_parser_t ps;
	yaml_document_t doc;

	if (root)
		return root;
	yaml_parser_initialize(&ps);
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	if (!yaml_parser_load(&ps, &doc)) {
		if (err)
			snprintf(err, errlen, "line %zu: %s", ps.problem_mark.line + 1,
				 ps.problem ? ps.problem : "not JSON or YAML");
		yaml_parser_delete(&ps);
		return NULL;
	}
	root = yaml_to_json(&doc, yaml_document_get_root_node(&doc), 0);
	yaml_document_delete(&doc);
	yaml_parser_delete(&ps);
	return root;
}

/* Resolve a local "$ref": "#/components/schemas/Name". */
static json_t *
deref(json_t *root, json_t *s)
{
	const char *ref = json_string_value(json_object_get(s, "$ref"));
	char buf[256], *tok, *save;
	json_t *cur = root;

	if (ref == NULL)
		return s;
	if (strncmp(ref, "#/", 2) != 0 || strlen(ref) >= sizeof(buf))
		return NULL;
	snprintf(buf, sizeof(buf), "%s", ref + 2);
	for (tok = strtok_r(buf, "/", &save); tok && cur; tok = strtok_r(NULL, "/", &save))
		cur = json_object_get(cur, tok);
	return cur;
}

static void
collect_props(const struct mt_behav_params *p, json_t *root, json_t *schema, struct oa_op *op,
	      int depth)
{
	json_t *props, *all;
	const char *name;
	json_t *v;
	size_t i;

	schema = schema ? deref(root, schema) : NULL;
	if (schema == NULL || depth > 8)
		return;
	props = json_object_get(schema, "properties");
	if (json_is_object(props)) {
		op->has_body = 1;
		json_object_foreach(props, name, v) {
			int k = mt_strlist_find(&p->privilege_fields, name, strlen(name));

			if (k >= 0)
				op->allowed_priv |= 1u << k;
		}
	}
	all = json_object_get(schema, "allOf");
	json_array_foreach(all, i, v)
		collect_props(p, root, v, op, depth + 1);
}

int
mt_behav_openapi_import(struct mt_behav *b, const char *text, size_t len, char *err, size_t errlen)
{
	static const char *const methods[] = { "get", "put", "post", "delete", "patch", "head", "options" };
	json_t *root = parse_any(text, len, err, errlen), *paths, *item;
	struct oa_op *ops;
	uint32_t n = 0;
	char base[64] = "";
	const char *path;

	if (root == NULL)
		return -EINVAL;
	if (!json_is_string(json_object_get(root, "openapi")) ||
	    strncmp(json_string_value(json_object_get(root, "openapi")), "3.", 2) != 0) {
		if (err)
			snprintf(err, errlen, "openapi: expected an OpenAPI 3.x document");
		json_decref(root);
		return -EINVAL;
	}
	paths = json_object_get(root, "paths");
	if (!json_is_object(paths)) {
		if (err)
			snprintf(err, errlen, "paths: missing or not an object");
		json_decref(root);
		return -EINVAL;
	}
	{ /* servers[0].url path prefix ("https://api.example.com/v1" -> "/v1") */
		const char *u = json_string_value(json_object_get(json_array_get(
					json_object_get(root, "servers"), 0), "url"));
		const char *s = u ? strstr(u, "://") : NULL;

		s = s ? strchr(s + 3, '/') : (u && u[0] == '/' ? u : NULL);
		if (s && strlen(s) < sizeof(base)) {
			snprintf(base, sizeof(base), "%s", s);
			while (strlen(base) && base[strlen(base) - 1] == '/')
				base[strlen(base) - 1] = '\0';
		}
	}
	ops = calloc(MAX_OPS, sizeof(*ops));
	if (ops == NULL) {
		json_decref(root);
		return -ENOMEM;
	}
	json_object_foreach(paths, path, item) {
		if (path[0] != '/' || !json_is_object(item))
			continue;
		for (unsigned m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			json_t *o = json_object_get(item, methods[m]);
			struct oa_op *op;
			json_t *content, *ct;
			const char *ctn;
			struct mt_tmpl_out to;

			if (!json_is_object(o))
				continue;
			if (n >= MAX_OPS) {
				if (err)
					snprintf(err, errlen, "paths: more than %d operations", MAX_OPS);
				free(ops);
				json_decref(root);
				return -EINVAL;
			}
			op = &ops[n];
			for (unsigned k = 0; methods[m][k] && k < sizeof(op->method) - 1; k++)
				op->method[k] = (char)(methods[m][k] - 32);
			snprintf(op->tmpl, sizeof(op->tmpl), "%s%s", base, path);
			while (strlen(op->tmpl) > 1 && op->tmpl[strlen(op->tmpl) - 1] == '/')
				op->tmpl[strlen(op->tmpl) - 1] = '\0';
			mt_tmpl_path(op->tmpl, strlen(op->tmpl), &to);
			op->n_segs = to.n_segs;
			content = json_object_get(json_object_get(o, "requestBody"), "content");
			json_object_foreach(content, ctn, ct)
				if (strstr(ctn, "json") || strstr(ctn, "form"))
					collect_props(&b->p, root, json_object_get(ct, "schema"), op, 0);
			n++;
		}
	}
	json_decref(root);
	free(b->ops);
	b->ops = ops;
	b->n_ops = n;
	return (int)n;
}
