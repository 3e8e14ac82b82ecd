/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lookups over the ATT&CK and OWASP tables generated at build time
 * (mt_attack_tables.c). Techniques are sorted by id: binary search.
 */
#include "mt_attack.h"

#include <string.h>

const struct mt_attack_technique *
mt_attack_technique_find(const char *id)
{
	size_t lo = 0, hi = mt_attack_n_techniques;

	if (id == NULL)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id, mt_attack_techniques[mid].id);

		if (c == 0)
			return &mt_attack_techniques[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct mt_attack_tactic *
mt_attack_tactic_find(const char *id_or_name)
{
	if (id_or_name == NULL)
		return NULL;
	for (size_t i = 0; i < mt_attack_n_tactics; i++)
		if (strcmp(mt_attack_tactics[i].id, id_or_name) == 0 ||
		    strcmp(mt_attack_tactics[i].shortname, id_or_name) == 0)
			return &mt_attack_tactics[i];
	return NULL;
}

const struct mt_owasp_category *
mt_owasp_find(const char *id)
{
	if (id == NULL)
		return NULL;
	for (size_t i = 0; i < mt_owasp_n_categories; i++)
		if (strcmp(mt_owasp_categories[i].id, id) == 0)
			return &mt_owasp_categories[i];
	return NULL;
}
