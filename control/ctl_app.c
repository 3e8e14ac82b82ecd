/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_app.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <glob.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <pcap/pcap.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "ctl_alerts.h"
#include "ctl_api.h"
#include "ctl_behav.h"
#include "ctl_campaign.h"
#include "ctl_config.h"
#include "ctl_eve.h"
#include "ctl_rest.h"
#include "ctl_rules.h"
#include "dp_block.h"
#include "dp_plane.h"
#include "mt_engine.h"

#define CTL_MAX_EAL_ARGS 64
/* How long offline mode waits without progress before it gives up. */
#define CTL_STALL_NS (10ull * 1000000000ull)

static volatile sig_atomic_t ctl_signal_stop;
static volatile sig_atomic_t ctl_signal_reload;

struct ctl_app {
	struct ctl_config cfg;
	bool offline;
	const char *read_pcap;
	const char *write_pcap;
	const char *rules_override;
	const char *log_dir_override;
	const char *config_path;
	int checksum_override;        /* -1: none */
	int workers_override;         /* 0: none */
	bool rest_override;
	bool quiet;
	bool verbose;
	char prefix[64];
	uint64_t expected_packets;
	uint64_t *replay_ts;
	struct dp_plane *dp;
	struct ctl_rules *rules;
	struct ctl_behav *behav;
	struct ctl_alerts *alerts;
	struct ctl_campaign *campaigns;
	struct ctl_eve *eve;
	struct ctl_rest *rest;
	struct ctl_api api;
	pthread_mutex_t lock;         /* eve counters and stats vs. REST readers */
	pthread_mutex_t cfg_lock;     /* cfg replaced by a reload vs. GET /config */
	pthread_mutex_t reload_lock;  /* one configuration reload at a time */
	uint64_t start_ns;
};

static uint64_t
ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
ctl_on_signal(int sig)
{
	/* only flags: everything else happens in the loop */
	if (sig == SIGHUP)
		ctl_signal_reload = 1;
	else
		ctl_signal_stop = 1;
}

static void
ctl_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [EAL options] -- [-c CONFIG] [-S RULES] [-l LOGDIR] [-k all|none|auto]\n"
		"       %s -r IN.pcap [-w OUT.pcap] [-c CONFIG] [-S RULES] [-l LOGDIR] [-k all|none|auto]\n"
		"\n"
		"  -c, --config FILE     YAML configuration (built-in defaults otherwise)\n"
		"  -r, --read FILE       offline mode: process a capture and exit\n"
		"  -w, --write FILE      offline mode: write forwarded packets to FILE\n"
		"  -S, --rules FILE      load only this rule file\n"
		"  -l, --log-dir DIR     where eve.json and stats.json go\n"
		"  -k, --checksum MODE   validate checksums: all, none or auto\n"
		"      --workers N       worker lcores (offline: default 1)\n"
		"      --rest            offline mode: also serve the REST API\n"
		"  -q, --quiet           no per-alert console lines\n"
		"  -v, --verbose         DPDK log messages\n"
		"  -h, --help            this text\n", prog, prog);
}

/* ---- argument handling ---------------------------------------------------- */

static int
ctl_parse_app_args(struct ctl_app *app, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "read", required_argument, NULL, 'r' },
		{ "write", required_argument, NULL, 'w' },
		{ "rules", required_argument, NULL, 'S' },
		{ "log-dir", required_argument, NULL, 'l' },
		{ "checksum", required_argument, NULL, 'k' },
		{ "workers", required_argument, NULL, 'W' },
		{ "rest", no_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:r:w:S:l:k:qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			app->config_path = optarg;
			break;
		case 'r':
			app->read_pcap = optarg;
			app->offline = true;
			break;
		case 'w':
			app->write_pcap = optarg;
			break;
		case 'S':
			app->rules_override = optarg;
			break;
		case 'l':
			app->log_dir_override = optarg;
			break;
		case 'k':
			if (strcmp(optarg, "all") == 0)
				app->checksum_override = DP_CSUM_ALL;
			else if (strcmp(optarg, "none") == 0)
				app->checksum_override = DP_CSUM_NONE;
			else if (strcmp(optarg, "auto") == 0)
				app->checksum_override = DP_CSUM_AUTO;
			else {
				fprintf(stderr, "apiguard: -k takes all, none or auto (got '%s')\n", optarg);
				return -EINVAL;
			}
			break;
		case 'W': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (*end != '\0' || v < 1 || v > DP_MAX_WORKERS) {
				fprintf(stderr, "apiguard: --workers takes 1..%d (got '%s')\n",
					DP_MAX_WORKERS, optarg);
				return -EINVAL;
			}
			app->workers_override = (int)v;
			break;
		}
		case 'R':
			app->rest_override = true;
			break;
		case 'q':
			app->quiet = true;
			break;
		case 'v':
			app->verbose = true;
			break;
		case 'h':
			ctl_usage(stdout, argv[0]);
			return 1;
		default:
			ctl_usage(stderr, argv[0]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "apiguard: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (app->write_pcap != NULL && !app->offline) {
		fprintf(stderr, "apiguard: -w needs -r\n");
		return -EINVAL;
	}
	return 0;
}

/* Count a capture's records (net_pcap gives no end-of-file signal) and
 * keep their timestamps, in ns, for replay. Beyond CTL_REPLAY_TS_MAX
 * packets the times are not kept (8 bytes each) and flows run on the
 * wall clock instead. */
#define CTL_REPLAY_TS_MAX (32u << 20)

static int
ctl_count_pcap(const char *path, uint64_t *count, uint64_t **times, char **err)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	uint64_t n = 0, cap = 0;
	uint64_t *ts = NULL;
	int rc;

	if (p == NULL) {
		if (asprintf(err, "%s: %s", path, ebuf) < 0)
			*err = NULL;
		return -EINVAL;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		if (asprintf(err, "%s: link type %d is not Ethernet", path, pcap_datalink(p)) < 0)
			*err = NULL;
		pcap_close(p);
		return -EINVAL;
	}
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		if (ts != NULL || n == 0) {
			if (n == cap && cap < CTL_REPLAY_TS_MAX) {
				uint64_t *nt = realloc(ts, (cap ? cap * 2 : 4096) * sizeof(*ts));

				if (nt == NULL) {
					free(ts);
					ts = NULL;
				} else {
					ts = nt;
					cap = cap ? cap * 2 : 4096;
				}
			}
			if (ts != NULL && n < cap)
				ts[n] = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
			else if (ts != NULL) {
				free(ts);
				ts = NULL;
			}
		}
		n++;
	}
	if (rc == PCAP_ERROR) {
		/* A truncated last record: net_pcap stops there too. */
		fprintf(stderr, "apiguard: %s: %s (counting %llu packets before it)\n", path,
			pcap_geterr(p), (unsigned long long)n);
	}
	pcap_close(p);
	*count = n;
	*times = ts;
	return 0;
}

/* Offline mode sets up EAL itself: no hugepages, no PCI, a net_pcap vdev,
 * a unique runtime prefix (several runs at once), one lcore per worker. */
static int
ctl_offline_eal_args(struct ctl_app *app, char **out, int *n, char *store, size_t store_len)
{
	size_t off = 0;
	cpu_set_t cpus;
	int allowed[CPU_SETSIZE], n_allowed = 0, i, lcores;
	size_t mem_mb = dp_plane_mem_estimate(&app->cfg.dp) >> 20;
	bool software = app->cfg.dp.n_workers > 1;

#define CTL_ARG(...) do {                                                   \
		out[(*n)++] = store + off;                                  \
		off += (size_t)snprintf(store + off, store_len - off, __VA_ARGS__) + 1; \
	} while (0)

	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0) {
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &cpus))
				allowed[n_allowed++] = i;
	}
	if (n_allowed == 0)
		allowed[n_allowed++] = 0;
	snprintf(app->prefix, sizeof(app->prefix), "apiguard_r_%d_%llx", (int)getpid(),
		 (unsigned long long)(ctl_now_ns() & 0xffffffffull));
	*n = 0;
	CTL_ARG("apiguard");
	CTL_ARG("--no-huge");
	CTL_ARG("-m");
	CTL_ARG("%zu", mem_mb + 64);
	CTL_ARG("--no-pci");
	CTL_ARG("--no-telemetry");
	CTL_ARG("--file-prefix=%s", app->prefix);
	lcores = 1 + app->cfg.dp.n_workers + (software ? 1 : 0);
	{
		char map[512];
		size_t m = 0;

		for (i = 0; i < lcores && m < sizeof(map); i++)
			m += (size_t)snprintf(map + m, sizeof(map) - m, "%s%d@%d", i ? "," : "", i,
					      allowed[i % n_allowed]);
		CTL_ARG("--lcores=%s", map);
	}
	if (app->write_pcap != NULL)
		CTL_ARG("--vdev=net_pcap0,rx_pcap=%s,tx_pcap=%s", app->read_pcap, app->write_pcap);
	else
		CTL_ARG("--vdev=net_pcap0,rx_pcap=%s", app->read_pcap);
	if (!app->verbose)
		CTL_ARG("--log-level=*:error");
	out[*n] = NULL;
	return off <= store_len ? 0 : -ENOSPC;
#undef CTL_ARG
}

static int
ctl_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
ctl_remove_runtime_dir(const char *prefix)
{
	char path[256];

	snprintf(path, sizeof(path), "/var/run/dpdk/%s", prefix);
	(void)nftw(path, ctl_rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- rule generations ----------------------------------------------------- */

/* The rule files of @p cfg (or -S, or the built-in pack) into @p list
 * (CTL_MAX_RULE_FILES entries) or the glob @p g. */
static int
ctl_rule_files(const struct ctl_app *app, const struct ctl_config *cfg, char **list,
	       char ***files, size_t *n, glob_t *g)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	if (app->rules_override != NULL) {
		list[0] = (char *)app->rules_override;
		*files = list;
		*n = 1;
		return 0;
	}
	if (cfg->n_rule_files > 0) {
		for (i = 0; i < cfg->n_rule_files; i++)
			list[i] = (char *)cfg->rule_files[i];
		*files = list;
		*n = cfg->n_rule_files;
		return 0;
	}
	/* The built-in pack: from the source tree when run from a build
	 * directory, else the installed copy. */
	if (glob(AG_SOURCE_RULES "/*.rules", 0, NULL, g) != 0 &&
	    glob(AG_DEFAULT_RULES "/*.rules", 0, NULL, g) != 0) {
		*files = NULL;
		*n = 0;
		return 0;
	}
	*files = g->gl_pathv;
	*n = g->gl_pathc;
	return 0;
}

/* Start-up: the rules object builds the first generation (errors printed). */

/* With no rules.cache-dir configured, compiled rule databases are cached in
 * CTL_DEFAULT_CACHE_DIR when it can be created: a restart (or the next
 * offline run) then loads in a fraction of a second instead of recompiling.
 * The cache is keyed by the rules and the Hyperscan version, so it is
 * never stale; if the directory cannot be made, nothing is cached. */
#define CTL_DEFAULT_CACHE_DIR "/var/cache/apiguard"

static const char *
ctl_default_cache_dir(void)
{
	if (mkdir(CTL_DEFAULT_CACHE_DIR, 0700) != 0 && errno != EEXIST)
		return NULL;
	return access(CTL_DEFAULT_CACHE_DIR, W_OK) == 0 ? CTL_DEFAULT_CACHE_DIR : NULL;
}

/* Everything a rules object reads from configuration @p cfg. The pointers
 * go into @p cfg, @p vars, @p list and @p gl (globfree() it after use). */
struct ctl_sources {
	struct ctl_rules_params rp;
	struct mt_var vars[CTL_MAX_VARS];
	char *list[CTL_MAX_RULE_FILES];
	char store[CTL_PATH_MAX * 2 + 2];
	glob_t gl;
};

static void
ctl_sources_of(const struct ctl_app *app, const struct ctl_config *cfg, struct ctl_sources *s)
{
	char **files;
	size_t n, i;

	memset(&s->rp, 0, sizeof(s->rp));
	for (i = 0; i < cfg->n_vars; i++) {
		s->vars[i].name = cfg->vars[i].name;
		s->vars[i].value = cfg->vars[i].value;
	}
	ctl_rule_files(app, cfg, s->list, &files, &n, &s->gl);
	if (cfg->api_rules_file[0] == '/')
		snprintf(s->store, sizeof(s->store), "%s", cfg->api_rules_file);
	else
		snprintf(s->store, sizeof(s->store), "%s/%s", cfg->log_dir, cfg->api_rules_file);
	s->rp.files = (const char *const *)files;
	s->rp.n_files = n;
	s->rp.vars = s->vars;
	s->rp.n_vars = cfg->n_vars;
	s->rp.classification_file = cfg->classification_file[0] ? cfg->classification_file : NULL;
	s->rp.cache_dir = cfg->rule_cache_dir[0] ? cfg->rule_cache_dir : ctl_default_cache_dir();
	s->rp.store_path = s->store;
	s->rp.n_workers = cfg->dp.n_workers;
}

static struct ctl_rules *
ctl_rules_init(struct ctl_app *app)
{
	static struct ctl_sources src;   /* start-up only */
	struct mt_errors errs = { 0 };
	struct ctl_rules *r;
	char *store = src.store;
	size_t n, i;

	ctl_sources_of(app, &app->cfg, &src);
	n = src.rp.n_files;
	r = ctl_rules_create(&src.rp, &errs);
	if (r == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "apiguard: %s:%u: %s: %s\n", errs.v[i].file,
				errs.v[i].line, errs.v[i].keyword, errs.v[i].reason);
		if (errs.n == 0)
			fprintf(stderr, "apiguard: rules: %s\n", strerror(errno));
		mt_errors_clear(&errs);
	} else if (!app->quiet || app->verbose) {
		fprintf(stderr, "apiguard: %zu rules loaded from %zu file(s)", ctl_rules_count(r), n);
		if (ctl_rules_api_count(r) > 0)
			fprintf(stderr, " and %zu from %s", ctl_rules_api_count(r), store);
		fprintf(stderr, "\n");
	}
	globfree(&src.gl);
	return r;
}

/* ---- stats ---------------------------------------------------------------- */

struct ctl_stats_ctx {
	json_t *workers;
	json_t *ports;
	json_t *total;
	json_t *io;
	json_t *analytics;
	const struct dp_plane *dp;
};

static void
ctl_stat_cb(void *arg, const char *group, int index, const char *name, uint64_t value)
{
	struct ctl_stats_ctx *c = arg;
	json_t *o;

	if (strcmp(group, "total") == 0) {
		o = c->total;
	} else if (strcmp(group, "io") == 0) {
		o = c->io;
	} else if (strcmp(group, "analytics") == 0) {
		o = c->analytics;
	} else if (strcmp(group, "worker") != 0 && strcmp(group, "port") != 0) {
		return;   /* a group this layout does not know yet */
	} else {
		json_t *arr = strcmp(group, "worker") == 0 ? c->workers : c->ports;

		while (json_array_size(arr) <= (size_t)index) {
			json_t *n = json_object();

			if (arr == c->ports)
				json_object_set_new(n, "name", json_string(
					dp_plane_port_name(c->dp, (uint16_t)json_array_size(arr))));
			else
				json_object_set_new(n, "id", json_integer((json_int_t)json_array_size(arr)));
			json_array_append_new(arr, n);
		}
		o = json_array_get(arr, (size_t)index);
	}
	json_object_set_new(o, name, json_integer((json_int_t)value));
}

/*
 * Process memory, for dashboards and the soak run: resident set, the C
 * heap in use (glibc; 0 under sanitizers that replace malloc) and DPDK's
 * heap in use (pools, tables, rings; preallocated at start-up).
 */
static json_t *
ctl_memory_stats(void)
{
	struct rte_malloc_socket_stats ms;
	uint64_t rss = 0, dpdk = 0;
	long pages = 0, resident = 0;
	struct mallinfo2 mi = mallinfo2();
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned int s;

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &resident) == 2)
			rss = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
	for (s = 0; s < rte_socket_count(); s++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &ms) == 0)
			dpdk += ms.heap_allocsz_bytes;
	return json_pack("{s:I,s:I,s:I,s:I}", "rss_bytes", (json_int_t)rss,
			 "heap_in_use_bytes", (json_int_t)(mi.uordblks + mi.hblkhd),
			 "heap_free_bytes", (json_int_t)mi.fordblks,
			 "dpdk_heap_in_use_bytes", (json_int_t)dpdk);
}

static json_t *
ctl_action_stats(void *arg)
{
	struct ctl_app *app = arg;
	struct ctl_stats_ctx c = {
		.workers = json_array(), .ports = json_array(), .total = json_object(),
		.io = json_object(), .analytics = json_object(), .dp = app->dp,
	};
	char ts[64];
	json_t *o, *tags, *behav;

	/* Only the eve counters need the control loop's lock: the behaviour
	 * figures wait for the analytics stage's lock, and holding ours
	 * meanwhile would stop the alert drain (the alert ring fills). */
	dp_plane_stats(app->dp, ctl_stat_cb, &c);
	behav = ctl_api_behaviour_stats(app->behav, c.analytics);
	pthread_mutex_lock(&app->lock);
	tags = ctl_eve_tag_counts(app->eve);
	pthread_mutex_unlock(&app->lock);
	ctl_eve_timestamp((uint64_t)time(NULL) * 1000000000ull, ts, sizeof(ts));
	o = json_pack("{s:s,s:f,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
		      "timestamp", ts,
		      "uptime_s", (double)(ctl_now_ns() - app->start_ns) / 1e9,
		      "distribution", dp_plane_distribution(app->dp),
		      "rule_generation", (json_int_t)ctl_rules_generation(app->rules),
		      "total", c.total, "workers", c.workers, "ports", c.ports, "io", c.io,
		      "behaviour", behav, "alerts", tags, "memory", ctl_memory_stats());
	json_decref(c.analytics);
	return o;
}

static int
ctl_write_stats(struct ctl_app *app)
{
	char path[CTL_PATH_MAX * 2 + 2];
	json_t *o;
	int rc;

	if (!app->cfg.stats_enabled)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", app->cfg.log_dir, app->cfg.stats_file);
	o = ctl_action_stats(app);
	rc = json_dump_file(o, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (rc != 0)
		fprintf(stderr, "apiguard: cannot write %s\n", path);
	return rc;
}

static uint64_t
ctl_total(json_t *stats, const char *name)
{
	return (uint64_t)json_integer_value(json_object_get(json_object_get(stats, "total"), name));
}

static void
ctl_print_summary(struct ctl_app *app, double secs)
{
	json_t *s = ctl_action_stats(app);
	json_t *al = json_object_get(s, "alerts");
	uint64_t pkts = ctl_total(s, "rx_packets");
	const char *k;
	json_t *v;

	printf("\n=== apiguard summary ===\n");
	printf("packets: %llu received, %llu forwarded, %llu dropped by verdict (%llu flow), "
	       "%llu malformed, %llu bad checksum\n",
	       (unsigned long long)pkts, (unsigned long long)ctl_total(s, "tx_packets"),
	       (unsigned long long)ctl_total(s, "drop_verdict"),
	       (unsigned long long)ctl_total(s, "drop_flow"),
	       (unsigned long long)ctl_total(s, "malformed"),
	       (unsigned long long)ctl_total(s, "csum_bad"));
	printf("flows: %llu created, %llu timed out, %llu evicted\n",
	       (unsigned long long)ctl_total(s, "flow_created"),
	       (unsigned long long)ctl_total(s, "flow_timed_out"),
	       (unsigned long long)ctl_total(s, "flow_evicted"));
	printf("http: %llu requests, %llu responses, %llu parse errors\n",
	       (unsigned long long)ctl_total(s, "http_requests"),
	       (unsigned long long)ctl_total(s, "http_responses"),
	       (unsigned long long)ctl_total(s, "http_parse_errors"));
	printf("alerts: %llu\n", (unsigned long long)json_integer_value(json_object_get(al, "alerts")));
	json_object_foreach(json_object_get(al, "mitre_technique_id"), k, v)
		printf("  ATT&CK %-12s %lld\n", k, (long long)json_integer_value(v));
	json_object_foreach(json_object_get(al, "owasp_api"), k, v)
		printf("  OWASP  %-12s %lld\n", k, (long long)json_integer_value(v));
	printf("time: %.3f s, %.0f packets/s\n", secs, secs > 0 ? (double)pkts / secs : 0.0);
	json_decref(s);
}

/* ---- attack campaigns -------------------------------------------------------- */

/* Response policy: block through the data plane's blocklist, with the
 * alert's clock (packet time offline), as the analytics stage does. */
static int
ctl_campaign_block_cb(void *arg, const struct ctl_campaign_block *b)
{
	struct dp_block_key k;

	if (b->identity)
		dp_block_identity_key(&k, b->id_hash);
	else
		dp_block_client_key(&k, b->family, b->addr);
	return dp_block_add(arg, &k, b->now_ns, b->expires_ns == UINT64_MAX ?
			    DP_BLOCK_FOREVER : b->expires_ns, 0, b->reason);
}

/* LOGDIR/campaign-settings.json (if present) over the defaults; read before
 * the data plane starts so that a bad file stops start-up early. */
static int
ctl_campaign_settings(const char *log_dir, struct ctl_campaign_params *p, char **err)
{
	char path[CTL_PATH_MAX * 2 + 32];
	json_error_t je;
	json_t *j;
	int rc;

	ctl_campaign_params_default(p);
	snprintf(path, sizeof(path), "%s/campaign-settings.json", log_dir);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		if (access(path, F_OK) != 0)
			return 0;
		if (asprintf(err, "%s:%d: %s", path, je.line, je.text) < 0)
			*err = NULL;
		return -EINVAL;
	}
	rc = ctl_campaign_params_load(p, j, err);
	json_decref(j);
	return rc;
}

/* At exit, next to stats.json: every campaign with its timeline. */
static void
ctl_campaign_write(struct ctl_app *app)
{
	char path[CTL_PATH_MAX * 2 + 16];
	json_t *d;

	if (app->campaigns == NULL)
		return;
	snprintf(path, sizeof(path), "%s/campaigns.json", app->cfg.log_dir);
	d = ctl_campaign_dump(app->campaigns);
	if (d == NULL || json_dump_file(d, path, JSON_INDENT(1)) != 0)
		fprintf(stderr, "apiguard: cannot write %s\n", path);
	json_decref(d);
}

/* ---- main loop ------------------------------------------------------------- */

/* One alert: eve.json and console, then the REST ring (which keeps the
 * object; rule pointers are not kept past this call). */
static void
ctl_on_alert(void *arg, const struct dp_alert *a)
{
	struct ctl_app *app = arg;
	json_t *o = ctl_eve_alert_json(a, NULL);

	ctl_eve_write(app->eve, a, o);
	if (o != NULL && app->campaigns != NULL) {
		/* Campaign events follow the alert that caused them. */
		json_t *evs = ctl_campaign_observe(app->campaigns, o, a->ts_ns), *ev;
		size_t i;

		json_array_foreach(evs, i, ev)
			ctl_eve_write_event(app->eve, ev);
		json_decref(evs);
	}
	if (o != NULL && app->alerts != NULL)
		ctl_alerts_push(app->alerts, o);
	else
		json_decref(o);
}

/*
 * Drain the alert ring: everything, or (@p bounded) at most what it held
 * when the call began. One batch per lock hold: under a sustained alert
 * flood the ring never empties, and REST readers (GET /stats, /alerts)
 * must get the lock between batches; the main loop must get back to
 * signals and reaping.
 */
static void
ctl_drain_some(struct ctl_app *app, bool bounded)
{
	unsigned int n, batches = 0, max = app->cfg.dp.alert_ring / 4096 + 2;

	do {
		pthread_mutex_lock(&app->lock);
		n = dp_plane_drain_alerts(app->dp, ctl_on_alert, app, 4096);
		ctl_eve_flush(app->eve);
		pthread_mutex_unlock(&app->lock);
	} while (n == 4096 && (!bounded || ++batches < max));
}

static void
ctl_drain(struct ctl_app *app)
{
	ctl_drain_some(app, false);
}

/* Before a retired generation is freed: the alerts that may point at its
 * rules are in the ring already (it has quiesced), so what the ring holds
 * now is enough. */
static void
ctl_drain_cb(void *arg)
{
	ctl_drain_some(arg, true);
}

static void ctl_default_ports(struct ctl_config *cfg);

/* What the command line overrides in any configuration (start and reload). */
static void
ctl_apply_overrides(const struct ctl_app *app, struct ctl_config *cfg)
{
	if (app->checksum_override >= 0)
		cfg->dp.checksum = (uint8_t)app->checksum_override;
	if (app->workers_override > 0)
		cfg->dp.n_workers = (uint16_t)app->workers_override;
	if (app->log_dir_override != NULL)
		snprintf(cfg->log_dir, sizeof(cfg->log_dir), "%s", app->log_dir_override);
	if (app->quiet)
		cfg->console_alerts = false;
	if (app->offline) {
		/* One port, both ways: what is forwarded goes to -w (or nowhere). */
		memset(cfg->dp.ports, 0, sizeof(cfg->dp.ports));
		snprintf(cfg->dp.ports[0].name, DP_PORT_NAME_MAX, "net_pcap0");
		cfg->dp.ports[0].peer = 0;
		cfg->dp.n_ports = 1;
		if (!app->rest_override)
			cfg->rest_enabled = false;
	}
}

/* "FILE:LINE: KEY: REASON" lines of a rejected configuration, as JSON. */
static json_t *
ctl_config_errors_json(const char *text)
{
	json_t *a = json_array();
	const char *p = text ? text : "";

	while (*p != '\0') {
		const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
		char line[1024], clean[1024], *c1, *c2;
		json_t *e;

		snprintf(line, sizeof(line), "%.*s", (int)(end - p), p);
		ctl_utf8_clean(clean, sizeof(clean), line);
		c1 = strstr(clean, ": ");
		/* FILE:LINE: the first ": " ends the line number */
		e = json_object();
		if (c1 != NULL && (c2 = memrchr(clean, ':', (size_t)(c1 - clean))) != NULL &&
		    c2 > clean) {
			char *key = c1 + 2, *reason = strstr(key, ": ");

			*c1 = '\0';
			*c2 = '\0';
			json_object_set_new(e, "file", json_string(clean));
			json_object_set_new(e, "line", json_integer(strtol(c2 + 1, NULL, 10)));
			if (reason != NULL) {
				*reason = '\0';
				json_object_set_new(e, "key", json_string(key));
				json_object_set_new(e, "reason", json_string(reason + 2));
			} else {
				json_object_set_new(e, "reason", json_string(key));
			}
		} else {
			json_object_set_new(e, "reason", json_string(clean));
		}
		if (clean[0] != '\0')
			json_array_append_new(a, e);
		else
			json_decref(e);
		p = nl ? nl + 1 : end;
	}
	return a;
}

/*
 * Configuration reload (SIGHUP and POST /api/v1/config/reload): re-read the
 * YAML file (when one was given) and the rule files. Keys that apply at run
 * time (ctl_config_merge_runtime()) go into one new generation together
 * with the recompiled rules, published like any rule change: no worker
 * pauses, no flow is dropped. Keys that size memory, name ports, outputs or
 * the listener keep their running values and are reported as needing a
 * restart. A file with any error, or rules that fail to compile, change
 * nothing.
 */
static unsigned int
ctl_config_reload(void *arg, json_t **out)
{
	struct ctl_app *app = arg;
	struct ctl_config *next, *merged;
	struct ctl_config_change ch[64];
	struct ctl_sources *src;
	struct mt_errors errs = { 0 };
	json_t *applied, *restart;
	unsigned int st;
	char *err = NULL;
	size_t n, i;
	int rc;

	next = malloc(sizeof(*next));
	merged = malloc(sizeof(*merged));
	src = malloc(sizeof(*src));
	if (next == NULL || merged == NULL || src == NULL) {
		free(next);
		free(merged);
		free(src);
		*out = ctl_api_error("internal", "out of memory");
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	pthread_mutex_lock(&app->reload_lock);
	ctl_config_defaults(next);
	if (app->config_path != NULL) {
		rc = ctl_config_load(app->config_path, next, &err);
		if (rc != 0) {
			*out = json_pack("{s:{s:s,s:s,s:o}}", "error",
				"code", rc == -EINVAL ? "invalid_config" : "config_unreadable",
				"message", "the running configuration is unchanged",
				"errors", ctl_config_errors_json(err));
			st = rc == -EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_CONFLICT;
			free(err);
			goto done;
		}
	}
	ctl_apply_overrides(app, next);
	if (!app->offline && next->dp.n_ports == 0)
		ctl_default_ports(next);
	n = ctl_config_diff(&app->cfg, next, ch, sizeof(ch) / sizeof(ch[0]));
	*merged = app->cfg;
	ctl_config_merge_runtime(merged, next);
	ctl_sources_of(app, merged, src);
	rc = ctl_rules_reconfigure(app->rules, &src->rp, &merged->dp, &errs);
	globfree(&src->gl);
	if (rc != 0) {
		*out = json_pack("{s:{s:s,s:s,s:o}}", "error",
			"code", rc == -EINVAL ? "invalid_rules" : "internal",
			"message", "the running configuration and rules are unchanged",
			"errors", ctl_rules_errors_json(&errs));
		st = rc == -EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR;
		mt_errors_clear(&errs);
		goto done;
	}
	pthread_mutex_lock(&app->cfg_lock);
	app->cfg = *merged;
	pthread_mutex_unlock(&app->cfg_lock);
	ctl_eve_set_console(app->eve, merged->console_alerts);
	ctl_rest_set_max_body(app->rest, merged->rest_max_body);
	applied = json_array();
	restart = json_array();
	for (i = 0; i < n && i < sizeof(ch) / sizeof(ch[0]); i++)
		json_array_append_new(ch[i].runtime ? applied : restart, json_string(ch[i].path));
	*out = json_pack("{s:b,s:I,s:I,s:o,s:o}", "reloaded", 1,
			 "generation", (json_int_t)ctl_rules_generation(app->rules),
			 "rules", (json_int_t)ctl_rules_count(app->rules),
			 "applied", applied, "restart_required", restart);
	st = MHD_HTTP_OK;
done:
	pthread_mutex_unlock(&app->reload_lock);
	free(next);
	free(merged);
	free(src);
	return st;
}

/* SIGHUP: the same path as POST /api/v1/config/reload. */
static void
ctl_sighup_reload(struct ctl_app *app)
{
	json_t *out = NULL, *e;
	unsigned int st = ctl_config_reload(app, &out);
	size_t i;

	if (st == 200) {
		fprintf(stderr, "apiguard: SIGHUP: configuration and rules reloaded: generation "
			"%llu, %zu rules\n", (unsigned long long)ctl_rules_generation(app->rules),
			ctl_rules_count(app->rules));
		json_array_foreach(json_object_get(out, "applied"), i, e)
			fprintf(stderr, "apiguard: SIGHUP: applied %s\n", json_string_value(e));
		json_array_foreach(json_object_get(out, "restart_required"), i, e)
			fprintf(stderr, "apiguard: SIGHUP: %s changed: takes effect after a restart\n",
				json_string_value(e));
	} else {
		fprintf(stderr, "apiguard: SIGHUP: reload failed, running configuration and rules "
			"unchanged\n");
		json_array_foreach(json_object_get(json_object_get(out, "error"), "errors"), i, e) {
			const char *kw = json_string_value(json_object_get(e, "keyword"));

			if (kw == NULL)
				kw = json_string_value(json_object_get(e, "key"));
			fprintf(stderr, "apiguard: %s:%lld: %s: %s\n",
				json_string_value(json_object_get(e, "file")),
				(long long)json_integer_value(json_object_get(e, "line")),
				kw ? kw : "", json_string_value(json_object_get(e, "reason")));
		}
	}
	json_decref(out);
}

static int
ctl_run(struct ctl_app *app)
{
	uint64_t last_progress = ctl_now_ns(), last_seen = 0;

	while (!ctl_signal_stop) {
		struct timespec ts = { 0, 2000000 };

		nanosleep(&ts, NULL);
		ctl_drain_some(app, true);
		if (ctl_signal_reload) {
			ctl_signal_reload = 0;
			ctl_sighup_reload(app);
		}
		/* Old generations: freed once quiesced and without open bodies. */
		ctl_rules_reap(app->rules, ctl_drain_cb, app);
		if (app->offline) {
			json_t *s;
			uint64_t seen;

			if (dp_plane_input_done(app->dp, app->expected_packets))
				break;
			s = ctl_action_stats(app);
			seen = ctl_total(s, "rx_packets");
			json_decref(s);
			if (seen != last_seen) {
				last_seen = seen;
				last_progress = ctl_now_ns();
			} else if (ctl_now_ns() - last_progress > CTL_STALL_NS) {
				fprintf(stderr, "apiguard: input stalled at %llu of %llu packets; "
					"stopping\n", (unsigned long long)seen,
					(unsigned long long)app->expected_packets);
				break;
			}
		}
	}
	return 0;
}

/* Default ports in live mode: every DPDK port, consecutive ones paired. */
static void
ctl_default_ports(struct ctl_config *cfg)
{
	uint16_t pid, n = 0;

	RTE_ETH_FOREACH_DEV(pid) {
		if (n == DP_MAX_PORTS)
			break;
		rte_eth_dev_get_name_by_port(pid, cfg->dp.ports[n].name);
		cfg->dp.ports[n].peer = -1;
		n++;
	}
	for (pid = 0; pid + 1 < n; pid += 2) {
		cfg->dp.ports[pid].peer = (int)pid + 1;
		cfg->dp.ports[pid + 1].peer = (int)pid;
	}
	cfg->dp.n_ports = n;
}

int
ctl_app_main(int argc, char **argv)
{
	struct ctl_app app;
	struct ctl_campaign_params camp_params;
	char *eal_argv[CTL_MAX_EAL_ARGS];
	char eal_store[4096];
	char *err = NULL;
	int eal_argc, app_argc, sep = -1, i, rc, status = 0;
	char **app_argv;
	uint64_t t0;

	memset(&app, 0, sizeof(app));
	app.checksum_override = -1;
	pthread_mutex_init(&app.lock, NULL);
	pthread_mutex_init(&app.cfg_lock, NULL);
	pthread_mutex_init(&app.reload_lock, NULL);
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	/* "apiguard [EAL] -- [app]" or, without "--", app options only. */
	app_argv = sep >= 0 ? argv + sep : argv;
	app_argc = sep >= 0 ? argc - sep : argc;
	if (sep >= 0)
		app_argv[0] = argv[0];
	rc = ctl_parse_app_args(&app, app_argc, app_argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;

	ctl_config_defaults(&app.cfg);
	if (app.config_path != NULL &&
	    ctl_config_load(app.config_path, &app.cfg, &err) != 0) {
		fprintf(stderr, "apiguard: configuration rejected:\n%s\n", err ? err : "");
		free(err);
		return 2;
	}
	ctl_apply_overrides(&app, &app.cfg);
	if (mkdir(app.cfg.log_dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "apiguard: log directory %s: %s\n", app.cfg.log_dir, strerror(errno));
		return 2;
	}

	if (app.offline) {
		if (ctl_count_pcap(app.read_pcap, &app.expected_packets, &app.replay_ts, &err) != 0) {
			fprintf(stderr, "apiguard: %s\n", err ? err : "cannot read the capture");
			free(err);
			return 2;
		}
		if (ctl_offline_eal_args(&app, eal_argv, &eal_argc, eal_store, sizeof(eal_store)) != 0) {
			fprintf(stderr, "apiguard: EAL arguments too long\n");
			return 2;
		}
	} else {
		eal_argc = sep >= 0 ? sep : 1;
		for (i = 0; i < eal_argc && i < CTL_MAX_EAL_ARGS - 1; i++)
			eal_argv[i] = argv[i];
		eal_argv[eal_argc] = NULL;
	}

	rc = rte_eal_init(eal_argc, eal_argv);
	if (rc < 0) {
		fprintf(stderr, "apiguard: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		if (app.offline)
			ctl_remove_runtime_dir(app.prefix);
		return 2;
	}
	if (!app.offline && app.cfg.dp.n_ports == 0)
		ctl_default_ports(&app.cfg);

	{
		/* Detector settings changed through the API persist next to
		 * the other outputs and come back at start-up. */
		char path[CTL_PATH_MAX * 2 + 16];

		snprintf(path, sizeof(path), "%s/detectors.json", app.cfg.log_dir);
		app.behav = ctl_behav_create(path, &err);
		if (app.behav == NULL) {
			fprintf(stderr, "apiguard: detector settings rejected: %s\n",
				err ? err : strerror(errno));
			free(err);
			status = 2;
			goto out_eal;
		}
	}
	if (ctl_campaign_settings(app.cfg.log_dir, &camp_params, &err) != 0) {
		fprintf(stderr, "apiguard: campaign settings rejected: %s\n", err ? err : "");
		free(err);
		status = 2;
		goto out_eal;
	}
	app.rules = ctl_rules_init(&app);
	if (app.rules == NULL) {
		status = 2;
		goto out_eal;
	}
	rc = ctl_behav_attach(app.behav, app.rules, NULL, NULL);
	if (rc != 0) {
		fprintf(stderr, "apiguard: detector settings: %s\n", strerror(-rc));
		status = 2;
		goto out_gen;
	}
	{
		/* Detector settings (LOGDIR/detectors.json) size the analytics
		 * tables: their "limits" only take effect here. */
		static struct mt_behav_params bp;

		ctl_behav_get(app.behav, &bp);
		app.cfg.dp.behav = &bp;
		app.dp = dp_plane_create(&app.cfg.dp, &err);
		app.cfg.dp.behav = NULL;
	}
	if (app.dp == NULL) {
		fprintf(stderr, "apiguard: data plane: %s\n", err ? err : "failed");
		free(err);
		status = 2;
		goto out_gen;
	}
	rc = ctl_behav_attach(app.behav, NULL, dp_plane_analytics(app.dp),
			      dp_plane_blocklist(app.dp));
	if (rc != 0) {
		fprintf(stderr, "apiguard: detector settings: %s\n", strerror(-rc));
		status = 2;
		goto out_dp;
	}
	{
		char path[CTL_PATH_MAX * 2 + 2];

		snprintf(path, sizeof(path), "%s/%s", app.cfg.log_dir, app.cfg.eve_file);
		app.eve = ctl_eve_open(app.cfg.eve_enabled ? path : NULL, app.cfg.console_alerts);
		if (app.eve == NULL) {
			fprintf(stderr, "apiguard: cannot open %s: %s\n", path, strerror(errno));
			status = 2;
			goto out_dp;
		}
	}
	if (app.replay_ts != NULL)
		dp_plane_set_replay_times(app.dp, app.replay_ts, app.expected_packets);
	if (app.offline) {
		struct mt_behav_params bp;
		bool respond = camp_params.n_policy > 0;

		/* Response policies (campaign stages, blocking detectors) act
		 * through the analytics stage and the control plane: in lockstep
		 * their blocks land before the next packet, as they would live. */
		ctl_behav_get(app.behav, &bp);
		for (i = 0; i < MT_DET__COUNT; i++)
			respond |= bp.det[i].action != MT_BEHAV_ALERT && bp.det[i].enabled;
		dp_plane_set_rx_backpressure(app.dp, true);
		dp_plane_set_lockstep(app.dp, respond);
	}
	app.start_ns = ctl_now_ns();
	app.alerts = ctl_alerts_create(app.cfg.alert_ring);
	if (app.alerts == NULL) {
		fprintf(stderr, "apiguard: cannot allocate the alert ring\n");
		status = 2;
		goto out_eve;
	}
	app.campaigns = ctl_campaign_create(&camp_params, ctl_campaign_block_cb,
					    dp_plane_blocklist(app.dp));
	if (app.campaigns == NULL) {
		fprintf(stderr, "apiguard: cannot allocate the campaign tables\n");
		status = 2;
		goto out_eve;
	}
	app.api.cfg = &app.cfg;
	app.api.rules = app.rules;
	app.api.alerts = app.alerts;
	app.api.behav = app.behav;
	app.api.campaigns = app.campaigns;
	app.api.stats = ctl_action_stats;
	app.api.stats_arg = &app;
	app.api.config_reload = ctl_config_reload;
	app.api.config_reload_arg = &app;
	app.api.cfg_lock = &app.cfg_lock;
	app.api.start_ns = app.start_ns;
	if (app.cfg.rest_enabled) {
		char audit[CTL_PATH_MAX * 2 + 2];
		struct ctl_rest_params rp = {
			.listen = app.cfg.rest_listen,
			.tokens_file = app.cfg.rest_tokens_file,
			.tls_cert = app.cfg.rest_tls_cert,
			.tls_key = app.cfg.rest_tls_key,
			.audit_log = audit,
			.max_body = app.cfg.rest_max_body,
			.sse_heartbeat = app.cfg.rest_sse_heartbeat,
			.max_streams = app.cfg.rest_max_streams,
			.max_connections = app.cfg.rest_max_connections,
		};

		if (app.cfg.rest_audit_log[0] == '/')
			snprintf(audit, sizeof(audit), "%s", app.cfg.rest_audit_log);
		else
			snprintf(audit, sizeof(audit), "%s/%s", app.cfg.log_dir, app.cfg.rest_audit_log);
		app.rest = ctl_rest_start(&rp, &app.api, &err);
		if (app.rest == NULL) {
			fprintf(stderr, "apiguard: %s\n", err ? err : "REST failed");
			free(err);
			status = 2;
			goto out_eve;
		}
		fprintf(stderr, "apiguard: REST API on %s%s (%s)\n", app.api.tls ? "https://" : "",
			app.cfg.rest_listen, app.api.tokens ? "bearer tokens" :
			"no tokens file: loopback clients only");
	}

	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = ctl_on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	t0 = ctl_now_ns();
	rc = dp_plane_start(app.dp, ctl_rules_current(app.rules));
	if (rc != 0) {
		fprintf(stderr, "apiguard: cannot launch lcores: %s\n", strerror(-rc));
		status = 2;
	} else {
		fprintf(stderr, "apiguard: running: %u worker(s), %u port(s), %s distribution, "
			"%s time%s\n", dp_plane_n_workers(app.dp), dp_plane_n_ports(app.dp),
			dp_plane_distribution(app.dp),
			dp_plane_packet_time(app.dp) ? "packet" : "wall-clock",
			app.offline ? ", offline" : "");
		ctl_rules_attach(app.rules, app.dp);
		__atomic_store_n(&app.api.ready, 1, __ATOMIC_RELEASE);
		ctl_run(&app);
	}
	/* No rule change may publish into a stopping data plane. */
	ctl_rest_stop(app.rest);
	app.rest = NULL;
	ctl_rules_attach(app.rules, NULL);
	dp_plane_stop(app.dp);
	ctl_drain(&app);
	ctl_write_stats(&app);
	ctl_campaign_write(&app);
	ctl_print_summary(&app, (double)(ctl_now_ns() - t0) / 1e9);
out_eve:
	ctl_rest_stop(app.rest);
	ctl_alerts_destroy(app.alerts);
	ctl_campaign_destroy(app.campaigns);
	ctl_eve_close(app.eve);
out_dp:
	dp_plane_destroy(app.dp);
out_gen:
	ctl_rules_destroy(app.rules);
out_eal:
	ctl_behav_destroy(app.behav);
	rte_eal_cleanup();
	if (app.offline)
		ctl_remove_runtime_dir(app.prefix);
	free(app.replay_ts);
	return status;
}
