/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration loader (ctl_config_load_string) on arbitrary YAML.
 * A load that fails must give an error message and leave the output
 * untouched; one that succeeds must give values inside the ranges the
 * data plane relies on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_config.h"
#include "fz_common.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_config c, before;
	char *err = NULL;
	int rc;

	ctl_config_defaults(&c);
	before = c;
	rc = ctl_config_load_string((const char *)data, size, "<fuzz>", &c, &err);
	if (rc == 0) {
		if (c.dp.n_workers == 0 || c.dp.n_workers > DP_MAX_WORKERS ||
		    c.dp.n_ports > DP_MAX_PORTS || c.n_rule_files > CTL_MAX_RULE_FILES ||
		    c.n_vars > CTL_MAX_VARS)
			fz_fail("accepted a configuration out of range (workers %u ports %u)",
				c.dp.n_workers, c.dp.n_ports);
		for (unsigned int i = 0; i < c.dp.n_ports; i++)
			if (memchr(c.dp.ports[i].name, 0, sizeof(c.dp.ports[i].name)) == NULL ||
			    c.dp.ports[i].peer >= (int)c.dp.n_ports || c.dp.ports[i].peer < -1)
				fz_fail("port %u: bad name or peer %d", i, c.dp.ports[i].peer);
	} else {
		if (rc > 0)
			fz_fail("positive return %d", rc);
		if (err == NULL)
			fz_fail("failed (%d) without a message", rc);
		fz_sink += (uint32_t)strlen(err);
		if (memcmp(&c, &before, sizeof(c)) != 0)
			fz_fail("a failed load changed the output");
	}
	free(err);
	return 0;
}
