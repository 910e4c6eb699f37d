/*
 * sluice: a reverse proxy that drains. main only reads the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/ctl/lifecycle.h"
#include "proxy/ctl/upgrade.h"

/* Print the usage text to fp. */
static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: sluice [-t] [-c FILE]\n"
	    "       sluice -V | --version\n"
	    "\n"
	    "  -c FILE        configuration file (default "
	    "%s/sluice/sluice.ini)\n"
	    "  -t             check the configuration, print every error, "
	    "exit\n"
	    "  -V, --version  print the version (-v too)\n"
	    "  -h, --help     print this help\n"
	    "\n"
	    "sluice runs in the foreground. Signals:\n"
	    "  SIGHUP           reload the configuration (a bad file changes "
	    "nothing)\n"
	    "  SIGTERM, SIGINT  drain and exit; a second one stops at once\n"
	    "  SIGQUIT          stop at once\n"
	    "  SIGUSR1          reopen the log files\n"
	    "  SIGUSR2          upgrade: start the binary at this path on the\n"
	    "                   same sockets, then drain and exit\n"
	    "\n"
	    "Exit status: 0 after a clean stop or a good check, 1 on a bad "
	    "configuration\nor a failure to start.\n", SYSCONFDIR);
}

int
main(int argc, char *argv[])
{
	const char	*path = SYSCONFDIR "/sluice/sluice.ini";
	int		 ch, check = 0;

	upgrade_init(argc, argv);
	/* the two long options, alone on the line as GNU tools take them */
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("sluice %s\n", lifecycle_version());
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	while ((ch = getopt(argc, argv, "c:thvV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
		case 'V':
			printf("sluice %s\n", lifecycle_version());
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	return check ? lifecycle_check(path) : lifecycle_run(path);
}
