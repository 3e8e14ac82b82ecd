/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * MITRE ATT&CK Enterprise v18.1 and OWASP API Security Top 10 (2023)
 * tables, vendored in matchers/attack/ and compiled in at build time.
 */
#ifndef MT_ATTACK_H
#define MT_ATTACK_H

#include <stddef.h>

/** Status of a technique in ATT&CK v18.1. */
enum mt_attack_status {
	MT_ATTACK_ACTIVE = 0,
	MT_ATTACK_DEPRECATED,
	MT_ATTACK_REVOKED,
};

/** One technique or sub-technique. */
struct mt_attack_technique {
	const char *id;       /**< "T1110.004" */
	const char *name;
	const char *tactics;  /**< comma-separated tactic shortnames */
	int status;           /**< enum mt_attack_status */
};

/** One tactic. */
struct mt_attack_tactic {
	const char *id;        /**< "TA0006" */
	const char *shortname; /**< "credential-access" */
	const char *name;
};

/** One OWASP API Security Top 10 2023 category. */
struct mt_owasp_category {
	const char *id;        /**< "API1:2023" */
	const char *name;
};

extern const struct mt_attack_technique mt_attack_techniques[];
extern const size_t mt_attack_n_techniques;
extern const struct mt_attack_tactic mt_attack_tactics[];
extern const size_t mt_attack_n_tactics;
extern const struct mt_owasp_category mt_owasp_categories[];
extern const size_t mt_owasp_n_categories;

/** Technique by id (exact, case-sensitive), any status; NULL if unknown. */
const struct mt_attack_technique *mt_attack_technique_find(const char *id);

/** Tactic by id ("TA0006") or shortname; NULL if unknown. */
const struct mt_attack_tactic *mt_attack_tactic_find(const char *id_or_name);

/** OWASP category by id ("API1:2023"); NULL if unknown. */
const struct mt_owasp_category *mt_owasp_find(const char *id);

#endif /* MT_ATTACK_H */
