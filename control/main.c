/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl_app.h"

int
main(int argc, char **argv)
{
	return ctl_app_main(argc, argv);
}
