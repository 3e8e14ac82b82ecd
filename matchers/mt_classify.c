/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Classification table (classtype -> description, priority) in Suricata's
 * classification.config format, plus a built-in copy identical to
 * configs/classification.config for when none is configured (test_rules
 * checks that the two agree).
 */
#include "mt_engine_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char mt_builtin_classification[] =
	"config classification: not-suspicious,Not Suspicious Traffic,3\n"
	"config classification: unknown,Unknown Traffic,3\n"
	"config classification: bad-unknown,Potentially Bad Traffic, 2\n"
	"config classification: attempted-recon,Attempted Information Leak,2\n"
	"config classification: successful-recon-limited,Information Leak,2\n"
	"config classification: successful-recon-largescale,Large Scale Information Leak,2\n"
	"config classification: attempted-dos,Attempted Denial of Service,2\n"
	"config classification: successful-dos,Denial of Service,2\n"
	"config classification: attempted-user,Attempted User Privilege Gain,1\n"
	"config classification: unsuccessful-user,Unsuccessful User Privilege Gain,1\n"
	"config classification: successful-user,Successful User Privilege Gain,1\n"
	"config classification: attempted-admin,Attempted Administrator Privilege Gain,1\n"
	"config classification: successful-admin,Successful Administrator Privilege Gain,1\n"
	"config classification: rpc-portmap-decode,Decode of an RPC Query,2\n"
	"config classification: shellcode-detect,Executable code was detected,1\n"
	"config classification: string-detect,A suspicious string was detected,3\n"
	"config classification: suspicious-filename-detect,A suspicious filename was detected,2\n"
	"config classification: suspicious-login,An attempted login using a suspicious username was detected,2\n"
	"config classification: system-call-detect,A system call was detected,2\n"
	"config classification: tcp-connection,A TCP connection was detected,4\n"
	"config classification: trojan-activity,A Network Trojan was detected, 1\n"
	"config classification: unusual-client-port-connection,A client was using an unusual port,2\n"
	"config classification: network-scan,Detection of a Network Scan,3\n"
	"config classification: denial-of-service,Detection of a Denial of Service Attack,2\n"
	"config classification: non-standard-protocol,Detection of a non-standard protocol or event,2\n"
	"config classification: protocol-command-decode,Generic Protocol Command Decode,3\n"
	"config classification: web-application-activity,access to a potentially vulnerable web application,2\n"
	"config classification: web-application-attack,Web Application Attack,1\n"
	"config classification: misc-activity,Misc activity,3\n"
	"config classification: misc-attack,Misc Attack,2\n"
	"config classification: icmp-event,Generic ICMP event,3\n"
	"config classification: inappropriate-content,Inappropriate Content was Detected,1\n"
	"config classification: policy-violation,Potential Corporate Privacy Violation,1\n"
	"config classification: default-login-attempt,Attempt to login by a default username and password,2\n"
	"config classification: targeted-activity,Targeted Malicious Activity was Detected,1\n"
	"config classification: exploit-kit,Exploit Kit Activity Detected,1\n"
	"config classification: external-ip-check,Device Retrieving External IP Address Detected,2\n"
	"config classification: domain-c2,Domain Observed Used for C2 Detected,1\n"
	"config classification: pup-activity,Possibly Unwanted Program Detected,2\n"
	"config classification: credential-theft,Successful Credential Theft Detected,1\n"
	"config classification: social-engineering,Possible Social Engineering Attempted,2\n"
	"config classification: coin-mining,Crypto Currency Mining Activity Detected,2\n"
	"config classification: command-and-control,Malware Command and Control Activity Detected,1\n";

static int
parse_text(struct mt_pool *pool, const char *text, const char *origin,
	   struct mt_classes *out, struct mt_errors *errs)
{
	size_t cap = 64, n = 0;
	struct mt_class *v = malloc(sizeof(*v) * cap);
	char *copy = strdup(text), *save = NULL, *line;
	uint32_t lineno = 0;
	int bad = 0;

	if (v == NULL || copy == NULL) {
		free(v);
		free(copy);
		return -ENOMEM;
	}
	/* strtok_r would skip empty lines and lose the numbering */
	for (line = copy; line != NULL; line = save) {
		char *nl = strchr(line, '\n'), *s, *f[3], *end;
		long prio;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		s = mt_trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "config classification:", 22) != 0) {
			mt_err_add(errs, origin, lineno, "classification",
				   "expected 'config classification: name,description,priority'");
			bad++;
			continue;
		}
		s += 22;
		f[0] = strtok_r(s, ",", &end);
		f[1] = f[0] ? strtok_r(NULL, ",", &end) : NULL;
		f[2] = f[1] ? strtok_r(NULL, "", &end) : NULL;
		if (f[2] == NULL) {
			mt_err_add(errs, origin, lineno, "classification",
				   "expected three comma-separated fields");
			bad++;
			continue;
		}
		errno = 0;
		prio = strtol(mt_trim(f[2]), &end, 10);
		if (errno || *end || prio < 1 || prio > 255) {
			mt_err_add(errs, origin, lineno, "classification",
				   "priority must be a number in 1..255");
			bad++;
			continue;
		}
		if (n == cap) {
			struct mt_class *nv = realloc(v, sizeof(*v) * cap * 2);
			if (nv == NULL)
				break;
			v = nv;
			cap *= 2;
		}
		f[0] = mt_trim(f[0]);
		f[1] = mt_trim(f[1]);
		v[n].name = mt_pool_strndup(pool, f[0], strlen(f[0]));
		v[n].desc = mt_pool_strndup(pool, f[1], strlen(f[1]));
		v[n].prio = (uint16_t)prio;
		n++;
	}
	free(copy);
	if (bad) {
		free(v);
		return -EINVAL;
	}
	out->v = mt_pool_alloc(pool, sizeof(*v) * (n + 1));
	if (out->v == NULL) {
		free(v);
		return -ENOMEM;
	}
	memcpy(out->v, v, sizeof(*v) * n);
	out->n = n;
	free(v);
	return 0;
}

int
mt_classes_load(struct mt_pool *pool, const char *path, struct mt_classes *out,
		struct mt_errors *errs)
{
	FILE *f;
	char *buf;
	long len;
	int rc;

	if (path == NULL)
		return parse_text(pool, mt_builtin_classification, "<built-in classification>",
				  out, errs);
	f = fopen(path, "rb");
	if (f == NULL) {
		mt_err_add(errs, path, 0, "classification_file", "cannot open: %s",
			   strerror(errno));
		return -ENOENT;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		mt_err_add(errs, path, 0, "classification_file", "cannot read");
		return -EIO;
	}
	buf = malloc((size_t)len + 1);
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		fclose(f);
		mt_err_add(errs, path, 0, "classification_file", "cannot read");
		return -EIO;
	}
	buf[len] = '\0';
	fclose(f);
	rc = parse_text(pool, buf, path, out, errs);
	free(buf);
	return rc;
}

const struct mt_class *
mt_classes_find(const struct mt_classes *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return &c->v[i];
	return NULL;
}
