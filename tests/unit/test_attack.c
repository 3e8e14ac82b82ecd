/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_attack: the vendored ATT&CK v18.1 / OWASP API 2023 tables and the
 * metadata of every shipped rule file. Runs without EAL, and under ASan.
 */
#include "tu_eal.h"
#include "mt_attack.h"
#include "mt_engine.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_DIR TEST_SRCDIR "/configs/rules"

static void
test_technique_lookup(void)
{
	const struct mt_attack_technique *t = mt_attack_technique_find("T1190");
	size_t n_dep = 0, n_rev = 0;

	CU_ASSERT_FATAL(t != NULL);
	CU_ASSERT_STRING_EQUAL(t->name, "Exploit Public-Facing Application");
	CU_ASSERT_EQUAL(t->status, MT_ATTACK_ACTIVE);
	CU_ASSERT_PTR_NOT_NULL(strstr(t->tactics, "initial-access"));
	t = mt_attack_technique_find("T1595.002");
	CU_ASSERT(t != NULL && strcmp(t->name, "Vulnerability Scanning") == 0);
	t = mt_attack_technique_find("T1002");
	CU_ASSERT(t != NULL && t->status == MT_ATTACK_REVOKED);
	t = mt_attack_technique_find("T1026");
	CU_ASSERT(t != NULL && t->status == MT_ATTACK_DEPRECATED);
	CU_ASSERT_PTR_NULL(mt_attack_technique_find("T9999"));
	CU_ASSERT_PTR_NULL(mt_attack_technique_find("t1190"));
	CU_ASSERT_PTR_NULL(mt_attack_technique_find("T1190.999"));
	CU_ASSERT_PTR_NULL(mt_attack_technique_find(""));
	CU_ASSERT_PTR_NULL(mt_attack_technique_find(NULL));
	/* every entry is found by its id (the table is sorted) */
	for (size_t i = 0; i < mt_attack_n_techniques; i++) {
		CU_ASSERT_PTR_EQUAL(mt_attack_technique_find(mt_attack_techniques[i].id),
				    &mt_attack_techniques[i]);
		if (i > 0)
			CU_ASSERT(strcmp(mt_attack_techniques[i - 1].id, mt_attack_techniques[i].id) < 0);
		n_dep += mt_attack_techniques[i].status == MT_ATTACK_DEPRECATED;
		n_rev += mt_attack_techniques[i].status == MT_ATTACK_REVOKED;
	}
	CU_ASSERT(mt_attack_n_techniques > 600);
	CU_ASSERT(n_dep > 0);
	CU_ASSERT(n_rev > 0);
}

static void
test_tactic_owasp_lookup(void)
{
	const struct mt_attack_tactic *t = mt_attack_tactic_find("TA0006");
	const struct mt_owasp_category *o;

	CU_ASSERT(t != NULL && strcmp(t->shortname, "credential-access") == 0);
	CU_ASSERT_PTR_EQUAL(mt_attack_tactic_find("credential-access"), t);
	CU_ASSERT_PTR_NULL(mt_attack_tactic_find("TA0099"));
	CU_ASSERT_PTR_NULL(mt_attack_tactic_find(NULL));
	CU_ASSERT_EQUAL(mt_attack_n_tactics, 14);
	o = mt_owasp_find("API7:2023");
	CU_ASSERT(o != NULL && strcmp(o->name, "Server Side Request Forgery") == 0);
	CU_ASSERT_PTR_NOT_NULL(mt_owasp_find("API10:2023"));
	CU_ASSERT_PTR_NULL(mt_owasp_find("API11:2023"));
	CU_ASSERT_PTR_NULL(mt_owasp_find("API1:2019"));
	CU_ASSERT_EQUAL(mt_owasp_n_categories, 10);
}

/* Check every "key value" of @p key in one metadata option text. */
static int
check_values(const char *file, int line, const char *text, const char *key, int *count)
{
	const char *p = text;
	size_t kl = strlen(key);
	int bad = 0;

	while ((p = strstr(p, key)) != NULL) {
		char id[32];
		size_t n = 0;

		p += kl;
		if (*p != ' ')
			continue;
		while (*p == ' ')
			p++;
		while (p[n] && p[n] != ',' && p[n] != ';' && !isspace((unsigned char)p[n]) &&
		       n < sizeof(id) - 1)
			n++;
		memcpy(id, p, n);
		id[n] = '\0';
		(*count)++;
		if (strcmp(key, "mitre_technique_id") == 0) {
			const struct mt_attack_technique *t = mt_attack_technique_find(id);
			if (t == NULL || t->status != MT_ATTACK_ACTIVE) {
				fprintf(stderr, "%s:%d: technique %s %s\n", file, line, id,
					t == NULL ? "unknown" : "not active");
				bad++;
			}
		} else if (strcmp(key, "mitre_tactic_id") == 0) {
			if (strncmp(id, "TA", 2) != 0 || mt_attack_tactic_find(id) == NULL) {
				fprintf(stderr, "%s:%d: tactic %s unknown\n", file, line, id);
				bad++;
			}
		} else if (mt_owasp_find(id) == NULL) {
			fprintf(stderr, "%s:%d: owasp %s unknown\n", file, line, id);
			bad++;
		}
	}
	return bad;
}

static void
test_shipped_rules(void)
{
	DIR *d = opendir(RULES_DIR);
	struct dirent *de;
	int n_files = 0, n_tech = 0, n_tac = 0, n_owasp = 0, n_rules = 0;

	CU_ASSERT_FATAL(d != NULL);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char path[1024];
		char *text, *line, *save = NULL;
		int lineno = 0;
		struct mt_errors er = {0};
		struct mt_engine *e;
		const char *fp = path;

		if (l < 7 || strcmp(de->d_name + l - 6, ".rules") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", RULES_DIR, de->d_name);
		text = tu_read_file(path, NULL);
		CU_ASSERT_FATAL(text != NULL);
		n_files++;
		/* an independent scan of the text, not the engine's parser */
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			lineno++;
			if (line[strspn(line, " \t")] == '#')
				continue;
			CU_ASSERT_EQUAL(check_values(path, lineno, line, "mitre_technique_id", &n_tech), 0);
			CU_ASSERT_EQUAL(check_values(path, lineno, line, "mitre_tactic_id", &n_tac), 0);
			CU_ASSERT_EQUAL(check_values(path, lineno, line, "owasp_api", &n_owasp), 0);
		}
		free(text);
		/* and the engine loads the file, with metadata on every rule */
		e = mt_engine_build_files(NULL, &fp, 1, &er);
		for (size_t i = 0; i < er.n; i++)
			fprintf(stderr, "%s:%u [%s] %s\n", er.v[i].file, er.v[i].line, er.v[i].keyword,
				er.v[i].reason);
		CU_ASSERT_FATAL(e != NULL);
		for (size_t i = 0; i < mt_engine_rule_count(e); i++) {
			const struct mt_rule_info *r = mt_engine_rule(e, i);
			CU_ASSERT(r->n_techniques >= 1);
			CU_ASSERT(r->n_tactics >= 1);
			CU_ASSERT(r->n_owasp >= 1);
			CU_ASSERT(r->sid >= 2200001);
			for (uint8_t k = 0; k < r->n_techniques; k++)
				CU_ASSERT(mt_attack_technique_find(r->techniques[k])->status == MT_ATTACK_ACTIVE);
			n_rules++;
		}
		mt_engine_destroy(e);
		mt_errors_clear(&er);
	}
	closedir(d);
	CU_ASSERT(n_files >= 1);
	CU_ASSERT(n_rules >= 10);
	CU_ASSERT(n_tech >= n_rules);
	CU_ASSERT(n_tac >= n_rules);
	CU_ASSERT(n_owasp >= n_rules);
}

int
main(void)
{
	CU_pSuite su;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	su = CU_add_suite("matchers_attack", NULL, NULL);
	CU_add_test(su, "technique_lookup", test_technique_lookup);
	CU_add_test(su, "tactic_owasp_lookup", test_tactic_owasp_lookup);
	CU_add_test(su, "shipped_rules", test_shipped_rules);
	return tu_run_all();
}
