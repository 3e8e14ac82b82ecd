/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * EVE JSON output (Suricata's layout) for alerts, plus the console line
 * that the demo prints. Runs on the control thread only.
 */
#ifndef CTL_EVE_H
#define CTL_EVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "dp_plane.h"

struct ctl_eve;

/**
 * Open the EVE log (append) at @p path; NULL path: no file.
 * @param console  also print one line per alert to stdout
 * @return writer or NULL (errno set)
 */
struct ctl_eve *ctl_eve_open(const char *path, bool console);

/** Configuration reload: print console lines or not from now on. */
void ctl_eve_set_console(struct ctl_eve *e, bool console);

/** Flush and close. */
void ctl_eve_close(struct ctl_eve *e);

/**
 * Build the EVE object of one alert (caller owns the reference).
 * @param iface name of the input interface, or NULL
 */
json_t *ctl_eve_alert_json(const struct dp_alert *a, const char *iface);

/** Write one alert (json line + console). Callback for dp_plane_drain_alerts. */
void ctl_eve_write_alert(void *eve, const struct dp_alert *a);

/**
 * As ctl_eve_write_alert() with the alert's object already built by
 * ctl_eve_alert_json() (so that other consumers can share it).
 */
void ctl_eve_write(struct ctl_eve *e, const struct dp_alert *a, json_t *o);

/**
 * Write one non-alert event (e.g. "campaign") as a JSON line; not counted
 * as an alert, no console line. Does not take @p o.
 */
void ctl_eve_write_event(struct ctl_eve *e, json_t *o);

/** Flush buffered lines to disk. */
void ctl_eve_flush(struct ctl_eve *e);

/** Alerts written so far. */
uint64_t ctl_eve_count(const struct ctl_eve *e);

/** Per-technique and per-OWASP alert counts seen so far (for the summary). */
json_t *ctl_eve_tag_counts(const struct ctl_eve *e);

/** Format a time in ns since the epoch as Suricata does (local offset +0000). */
void ctl_eve_timestamp(uint64_t ns, char *buf, size_t len);

#endif
