/*
 * version: sluice's version, in one place. The command line (-V), /status,
 * /metrics (sluice_build_info) and the Via comment read it from here;
 * debian/changelog's top entry must say the same (tests/check_docs.c).
 */
#ifndef SLUICE_BASE_VERSION_H
#define SLUICE_BASE_VERSION_H

#define SLUICE_VERSION		"0.1.0"

#endif
