/* SPDX-License-Identifier: MIT */
/* Keeps libiotlb-sim.la non-empty while its parts are being added. */
int iotlb__sim_placeholder_unused(void);
int iotlb__sim_placeholder_unused(void)
{
	return 0;
}
