/* SPDX-License-Identifier: Apache-2.0 */
/**
 * @file
 * The apiguard program: argument handling, live and offline (-r) modes,
 * start-up, the control loop, and shutdown.
 */
#ifndef CTL_APP_H
#define CTL_APP_H

/**
 * Run apiguard.
 * @return process exit status: 0 success, 2 usage/configuration/start-up error
 */
int ctl_app_main(int argc, char **argv);

#endif
