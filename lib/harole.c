/* harole.c — the names of the roles (see harole.h). */
#include <string.h>

#include "harole.h"

static const struct {
	const char *name, *word;
} roles[HA_ROLE_COUNT] = {
	[HA_ROLE_STARTING] = { "STARTING", "none" },
	[HA_ROLE_PRIMARY] = { "PRIMARY", "primary" },
	[HA_ROLE_SECONDARY] = { "SECONDARY", "secondary" },
	[HA_ROLE_STANDALONE] = { "STANDALONE", "standalone" },
};

const char *
ha_role_name(int role)
{
	return role >= 0 && role < HA_ROLE_COUNT ? roles[role].name :
	    "UNKNOWN";
}

const char *
ha_role_word(int role)
{
	return role >= 0 && role < HA_ROLE_COUNT ? roles[role].word :
	    "unknown";
}

int
ha_role_parse(const char *word)
{
	int i;

	for (i = 0; word != NULL && i < HA_ROLE_COUNT; i++)
		if (strcmp(word, roles[i].word) == 0)
			return i;
	return -1;
}
