/* test_hastatus.c — haStatus's table, problems and exit code from hasvr's
 * status JSON (lib/hastatus.c): a healthy pair, then one thing wrong at a
 * time (peer timed out, its guisvr stopped, database dirty, build
 * mismatch, file sync failed, two primaries, …), malformed and incomplete
 * JSON, and random input that must never crash it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "haproblem.h"
#include "hastatus.h"

/* The primary 127.0.0.1 and its in-sync secondary 127.0.0.2. */
static const char healthy_pair[] =
    "{ \"version\": 1, \"healthy\": true, \"problems\": [],"
    "  \"node\": { \"eid\": 1, \"addr\": \"127.0.0.1\", \"self\": true,"
    "    \"role\": \"PRIMARY\", \"epoch\": 3, \"build\": \"hasvr 0.3.0 abc\","
    "    \"services\": { \"highAvail\": \"running\","
    "                    \"highAvailSvr\": \"running\" },"
    "    \"db\": { \"state\": \"in-sync\", \"gen\": 4, \"lsn\": \"1/28832\","
    "              \"startupDone\": true },"
    "    \"haSync\": true, \"dbSync\": true, \"fileSync\": true,"
    "    \"pingable\": { \"addr\": \"10.0.0.254\", \"reachable\": true,"
    "                    \"ageMs\": 420 },"
    "    \"guisvrPid\": 1234, \"guisvrRestarts\": 0, \"uptimeSec\": 75 },"
    "  \"peers\": [ { \"eid\": 2, \"addr\": \"127.0.0.2\", \"self\": false,"
    "    \"alive\": true, \"heartbeatAgeMs\": 80, \"role\": \"SECONDARY\","
    "    \"epoch\": 3, \"build\": \"hasvr 0.3.0 abc\", \"buildMatch\": true,"
    "    \"configMatch\": true,"
    "    \"services\": { \"highAvail\": \"running\","
    "                    \"highAvailSvr\": \"running\" },"
    "    \"db\": { \"state\": \"in-sync\", \"lsn\": \"1/28832\","
    "              \"acked\": \"1/28832\", \"behindBytes\": 0,"
    "              \"behindCommits\": 0 },"
    "    \"rejected\": { \"malformed\": 0, \"mac\": 0, \"eid\": 0,"
    "                    \"replay\": 0, \"stale\": 0 } } ],"
    "  \"heartbeat\": { \"intervalMs\": 100, \"deadMs\": 500,"
    "    \"received\": 1200, \"accepted\": 1200,"
    "    \"rejected\": { \"malformed\": 0, \"mac\": 0, \"eid\": 0,"
    "                    \"replay\": 0, \"stale\": 0, \"unknownSource\": 0 } },"
    "  \"fileSync\": { \"result\": \"SUCCESS\", \"time\": 1795000000,"
    "                  \"ageSec\": 12, \"reason\": null } }";

static char err[512];

/* What hasvr answers for these facts: the problems lib/haproblem.c finds
 * in them, then any the JSON already names; healthy only if it says so
 * and none was found. NULL: not JSON (given to hastatus_format as is). */
static char *
as_hasvr(const char *facts)
{
	json_t *root, *found, *given;
	json_error_t je;
	char *s;
	int healthy;

	if ((root = json_loads(facts, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	given = json_object_get(root, "problems");
	if (given != NULL && !json_is_null(given) && !json_is_array(given)) {
		json_decref(root);      /* malformed: hastatus_format's case */
		return NULL;
	}
	healthy = !json_is_false(json_object_get(root, "healthy"));
	found = haproblems_derive(root);
	CU_ASSERT_FATAL(found != NULL);
	if (json_is_array(given))
		json_array_extend(found, given);
	if (json_is_array(given) || json_array_size(found) > 0)
		json_object_set_new(root, "problems", found);
	else
		json_decref(found);
	if (json_is_boolean(json_object_get(root, "healthy")))
		json_object_set_new(root, "healthy", json_boolean(healthy &&
		    json_array_size(json_object_get(root, "problems")) == 0));
	s = json_dumps(root, 0);
	json_decref(root);
	return s;
}

/* hastatus_format, of what hasvr answers for these facts, into a string
 * (*out, malloc'ed). */
static int
format(const char *json, char **out)
{
	char *answer = as_hasvr(json);
	size_t n;
	FILE *fp;
	int rc;

	fp = open_memstream(out, &n);
	CU_ASSERT_FATAL(fp != NULL);
	err[0] = '\0';
	rc = hastatus_format(answer != NULL ? answer : json, fp, err,
	    sizeof(err));
	fclose(fp);
	free(answer);
	return rc;
}

/* The base JSON with the value at a dotted path ("peers.0.alive") set,
 * given as JSON text ("false", "null", "{…}"); "-" deletes it. A path
 * through something that is not an object or array (the fuzz replaced
 * it) leaves the JSON as it was. */
static char *
with(const char *base, const char *path, const char *value)
{
	json_t *root, *o, *v;
	char *p, *tok, *next, *s;
	json_error_t je;

	root = json_loads(base, 0, &je);
	CU_ASSERT_FATAL(root != NULL);
	p = strdup(path);
	o = root;
	for (tok = p; (next = strchr(tok, '.')) != NULL; tok = next + 1) {
		*next = '\0';
		o = json_is_array(o) ? json_array_get(o, (size_t)atoi(tok)) :
		    json_object_get(o, tok);
		if (o == NULL)
			break;
	}
	if (o == NULL)
		;
	else if (strcmp(value, "-") == 0)
		json_object_del(o, tok);
	else {
		v = json_loads(value, JSON_DECODE_ANY, &je);
		CU_ASSERT_FATAL(v != NULL);
		if (json_is_array(o))
			json_array_set_new(o, (size_t)atoi(tok), v);
		else
			json_object_set_new(o, tok, v);
	}
	s = json_dumps(root, 0);
	free(p);
	json_decref(root);
	return s;
}

/* with() applied to its own result. */
static void
set(char **json, const char *path, const char *value)
{
	char *s = with(*json, path, value);

	free(*json);
	*json = s;
}

static int
count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* The line of out that starts with prefix, or NULL (static copy). */
static const char *
line_of(const char *out, const char *prefix)
{
	static char line[1024];
	const char *p = out, *e;

	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			snprintf(line, sizeof(line), "%.*s",
			    (int)(e ? e - p : (long)strlen(p)), p);
			return line;
		}
		p = e ? e + 1 : NULL;
	}
	return NULL;
}

/* Every column of the header starts where it does in the rows. */
static void
check_columns(const char *out)
{
	static const char *const cols[] = { "role", "epoch", "highAvail ",
	    "highAvailSvr", "database", "heartbeat" };
	char head[1024], row[1024];
	const char *l;
	size_t i, at;

	l = line_of(out, "node ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	snprintf(head, sizeof(head), "%s", l);
	l = line_of(out, "127.0.0.2 ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	snprintf(row, sizeof(row), "%s", l);
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(head, cols[i]));
		at = (size_t)(strstr(head, cols[i]) - head);
		CU_ASSERT_FATAL(at < strlen(row));
		/* a column starts after two blanks, with a non-blank */
		CU_ASSERT(row[at] != ' ' && row[at - 1] == ' ' &&
		    row[at - 2] == ' ');
	}
}

static void
t_healthy(void)
{
	char *out;

	CU_ASSERT_EQUAL(format(healthy_pair, &out), HASTATUS_HEALTHY);
	CU_ASSERT_PTR_NOT_NULL(strstr(out,
	    "hasvr HA status (this node 127.0.0.1, eid 1)\n"));
	CU_ASSERT_PTR_NOT_NULL(line_of(out, "127.0.0.1 *  PRIMARY    3      "
	    "running    running       in-sync"));
	CU_ASSERT_STRING_EQUAL(line_of(out, "127.0.0.2 "), "127.0.0.2    "
	    "SECONDARY  3      running    running       in-sync (lag 0 B, 0 "
	    "commits)  80 ms ago");
	CU_ASSERT_STRING_EQUAL(line_of(out, "node "), "node         role       "
	    "epoch  highAvail  highAvailSvr  database                      "
	    "heartbeat");
	CU_ASSERT_STRING_EQUAL(line_of(out, "builds"), "builds match; configs "
	    "match; rejected heartbeats: 0 (mac 0, replay 0, stale 0, "
	    "malformed 0)");
	CU_ASSERT_STRING_EQUAL(line_of(out, "heartbeat every"), "heartbeat "
	    "every 100 ms, peer dead after 500 ms; received 1200, accepted "
	    "1200");
	CU_ASSERT_STRING_EQUAL(line_of(out, "sync:"),
	    "sync: HA on, database on, files on");
	CU_ASSERT_STRING_EQUAL(line_of(out, "pingable"),
	    "pingable IP 10.0.0.254: reachable (checked 420 ms ago)");
	CU_ASSERT_STRING_EQUAL(line_of(out, "guisvr"),
	    "guisvr pid 1234, restarted 0 times; hasvr up 1 min 15 s");
	CU_ASSERT_STRING_EQUAL(line_of(out, "file sync"),
	    "file sync: SUCCESS 12 s ago");
	CU_ASSERT(strlen(out) > 8 && strcmp(out + strlen(out) - 8,
	    "healthy\n") == 0);
	CU_ASSERT_PTR_NULL(strstr(out, "NOT HEALTHY"));
	check_columns(out);
	free(out);
	/* exit code only */
	CU_ASSERT_EQUAL(hastatus_format(healthy_pair, NULL, err, sizeof(err)),
	    HASTATUS_HEALTHY);
}

/* The primary's view of a secondary whose hasvr stopped 12 s ago. */
static char *
peer_timed_out(void)
{
	char *j = strdup(healthy_pair);

	set(&j, "peers.0.alive", "false");
	set(&j, "peers.0.heartbeatAgeMs", "12000");
	set(&j, "peers.0.services", "{\"highAvail\": \"timed-out (error)\","
	    "\"highAvailSvr\": \"timed-out (error)\"}");
	set(&j, "peers.0.db.state", "\"dirty\"");
	set(&j, "peers.0.db.behindBytes", "4096");
	set(&j, "peers.0.db.behindCommits", "3");
	return j;
}

static void
t_peer_timed_out(void)
{
	char *j = peer_timed_out(), *out;

	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_STRING_EQUAL(line_of(out, "127.0.0.2 "), "127.0.0.2    "
	    "SECONDARY  3      timed-out (error)  timed-out (error)  dirty (lag "
	    "4.0 KiB, 3 commits)  12 s ago");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NOT HEALTHY: 1 problem\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  - peer 127.0.0.2: heartbeat "
	    "timed out (last heard 12 s ago) — is hasvr running there? see "
	    "var/errorLog/ha.log on both nodes\n"));
	/* hasvr's own line is the same problem: shown once */
	CU_ASSERT_EQUAL(count(out, "heartbeat timed out"), 1);
	check_columns(out);
	free(out);

	/* never heard: no age, no role */
	set(&j, "peers.0.heartbeatAgeMs", "null");
	set(&j, "peers.0.role", "null");
	set(&j, "peers.0.epoch", "null");
	set(&j, "peers.0.buildMatch", "null");
	set(&j, "peers.0.configMatch", "null");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(line_of(out, "127.0.0.2 "),
	    "127.0.0.2    -        -      timed-out (error)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line_of(out, "127.0.0.2 "), "  never"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "peer 127.0.0.2: heartbeat timed "
	    "out, never heard — is hasvr running there, UDP port"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "highAvail.HMACKey"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "builds unknown (no peer heard); "
	    "configs unknown (no peer heard)"));
	free(out);
	free(j);

	/* the secondary's view of a dead primary: also no primary at all */
	j = strdup(healthy_pair);
	set(&j, "node.role", "\"SECONDARY\"");
	set(&j, "peers.0.role", "\"PRIMARY\"");
	set(&j, "peers.0.alive", "false");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NOT HEALTHY: 2 problems"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  - no node is PRIMARY"));
	free(out);
	free(j);
}

static void
t_peer_guisvr_stopped(void)
{
	char *j = with(healthy_pair, "peers.0.services.highAvailSvr",
	    "\"stopped\""), *out;

	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(line_of(out, "127.0.0.2 "),
	    "running    stopped  "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  - peer 127.0.0.2: highAvailSvr "
	    "(guisvr) is stopped — see var/errorLog/ha.log and guiDaemon.0 "
	    "there\n"));
	free(out);
	free(j);

	/* this node's own guisvr */
	j = with(healthy_pair, "node.services.highAvailSvr", "\"starting\"");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "this node: highAvailSvr (guisvr) "
	    "is starting"));
	free(out);
	free(j);
}

static void
t_dirty(void)
{
	char *j = strdup(healthy_pair), *out;

	set(&j, "peers.0.db.state", "\"dirty\"");
	set(&j, "peers.0.db.behindBytes", "1572864");
	set(&j, "peers.0.db.behindCommits", "340");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(line_of(out, "127.0.0.2 "),
	    "  dirty (lag 1.5 MiB, 340 commits)  80 ms ago"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  - peer 127.0.0.2: database "
	    "dirty, 1.5 MiB and 340 commits behind — it catches up by itself"));
	check_columns(out);
	free(out);

	/* the secondary's own view */
	set(&j, "peers.0.db.state", "\"in-sync\"");
	set(&j, "node.db.state", "\"dirty\"");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(line_of(out, "127.0.0.1 *"), "  dirty"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "this node: database is dirty"));
	free(out);
	free(j);
}

static void
t_build_mismatch(void)
{
	char *j = strdup(healthy_pair), *out;

	set(&j, "peers.0.buildMatch", "false");
	set(&j, "peers.0.build", "\"hasvr 0.2.0 def\"");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "build MISMATCH with 127.0.0.2; "
	    "configs match"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  - peer 127.0.0.2 runs another "
	    "build (hasvr 0.2.0 def): database sync is refused until every "
	    "node runs the same build\n"));
	free(out);

	set(&j, "peers.0.buildMatch", "true");
	set(&j, "peers.0.configMatch", "false");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "builds match; config MISMATCH "
	    "with 127.0.0.2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "peer 127.0.0.2: haSvr.cfg differs"));
	free(out);
	free(j);
}

static void
t_rejected(void)
{
	char *j = strdup(healthy_pair), *out;

	set(&j, "heartbeat.rejected.mac", "10");
	set(&j, "heartbeat.rejected.replay", "2");
	set(&j, "heartbeat.rejected.unknownSource", "3");
	set(&j, "peers.0.rejected.mac", "10");
	set(&j, "peers.0.rejected.replay", "2");
	/* counted, shown, but not a problem of this node */
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_HEALTHY);
	CU_ASSERT_STRING_EQUAL(line_of(out, "builds"), "builds match; configs "
	    "match; rejected heartbeats: 15 (mac 10, replay 2, stale 0, "
	    "malformed 0, unknownSource 3); 12 from 127.0.0.2");
	free(out);
	free(j);
}

static void
t_filesync(void)
{
	char *j = strdup(healthy_pair), *out;

	set(&j, "fileSync.result", "\"FAIL\"");
	set(&j, "fileSync.ageSec", "180");
	set(&j, "fileSync.reason", "\"rsync exited with 255: Permission "
	    "denied (publickey)\"");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_STRING_EQUAL(line_of(out, "file sync"), "file sync: FAIL 3 "
	    "min 0 s ago: rsync exited with 255: Permission denied (publickey)");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  - file sync FAILED 3 min 0 s ago: "
	    "rsync exited with 255: Permission denied (publickey) — check the "
	    "SSH trust and rsync with haTrustCheck; see var/errorLog/ha.log\n"));
	free(out);

	set(&j, "fileSync.result", "null");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_HEALTHY);
	CU_ASSERT_STRING_EQUAL(line_of(out, "file sync"),
	    "file sync: not run yet");
	free(out);
	set(&j, "node.fileSync", "false");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_HEALTHY);
	CU_ASSERT_STRING_EQUAL(line_of(out, "file sync"), "file sync: off");
	CU_ASSERT_STRING_EQUAL(line_of(out, "sync:"),
	    "sync: HA on, database on, files OFF");
	free(out);
	free(j);
}

static void
t_other_problems(void)
{
	char *j = strdup(healthy_pair), *out;

	/* two primaries */
	set(&j, "peers.0.role", "\"PRIMARY\"");
	set(&j, "peers.0.epoch", "2");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  - 2 primaries: 127.0.0.1 (epoch "
	    "3) and 127.0.0.2 (epoch 2)"));
	free(out);
	free(j);

	/* pingable IP down */
	j = with(healthy_pair, "node.pingable.reachable", "false");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_STRING_EQUAL(line_of(out, "pingable"),
	    "pingable IP 10.0.0.254: NOT REACHABLE (checked 420 ms ago)");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  - pingable IP 10.0.0.254 does "
	    "not answer"));
	free(out);
	free(j);
	j = with(healthy_pair, "node.pingable.addr", "null");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_HEALTHY);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "pingable IP: none configured"));
	free(out);
	free(j);

	/* starting */
	j = with(healthy_pair, "node.role", "\"STARTING\"");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "this node is still starting"));
	CU_ASSERT_PTR_NULL(strstr(out, "no node is PRIMARY"));
	free(out);
	free(j);

	/* hasvr's own problems: shown when not explained here */
	j = strdup(healthy_pair);
	set(&j, "healthy", "false");
	set(&j, "problems", "[\"disk full: var/xdb/log\", 7]");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NOT HEALTHY: 2 problems\n"
	    "  - disk full: var/xdb/log\n  - hasvr reported a problem that is "
	    "not text (problems[1])"));
	free(out);
	/* not healthy, no reason given */
	set(&j, "problems", "[]");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "hasvr reports this node as not "
	    "healthy without naming a problem"));
	free(out);
	/* healthy, but a check here disagrees: not healthy */
	free(j);
	j = with(healthy_pair, "peers.0.alive", "false");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	free(out);
	free(j);

	/* control characters from the JSON never reach the terminal */
	j = with(healthy_pair, "problems", "[\"evil\\u001b[2Jline\\nnext\"]");
	set(&j, "healthy", "false");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NULL(strchr(out, '\033'));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "evil?[2Jline?next"));
	free(out);
	free(j);
}

/* What hasvr alone knows (start-up waits, faults, switches, its own
 * files) comes as facts too; each problem carries its code and whom it is
 * about, and haStatus prints hasvr's problems in hasvr's order. */
static void
t_daemon_problems(void)
{
	char *j = strdup(healthy_pair), *out, *answer;
	json_t *root, *probs, *p;
	json_error_t je;
	size_t i;
	static const char *const codes[] = { "sync-off", "role-changed",
	    "fault", "state-file" };

	set(&j, "node.haSync", "false");
	set(&j, "node.roleChangedAgoMs", "4200");
	set(&j, "node.fault", "\"the disk holding its database refuses "
	    "writes: No space left on device\"");
	set(&j, "node.faultStays", "true");
	set(&j, "node.stateWriteFailed", "\"/var/haSvr.state\"");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NOT HEALTHY: 4 problems\n"
	    "  - HA sync is disabled (haCtl sync ha on)\n"
	    "  - highAvailSvr's role was changed behind hasvr's back 4 s ago"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n  - this node's database server "
	    "cannot serve: the disk holding its database refuses writes: No "
	    "space left on device — this primary has no in-sync secondary to "
	    "hand over to"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n  - cannot write /var/haSvr.state "
	    "(epoch and role)"));
	free(out);
	/* the JSON carries the codes */
	answer = as_hasvr(j);
	root = json_loads(answer, 0, &je);
	CU_ASSERT_FATAL(root != NULL);
	probs = json_object_get(root, "problems");
	CU_ASSERT_EQUAL_FATAL(json_array_size(probs), 4);
	json_array_foreach(probs, i, p) {
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p,
		    "code")), codes[i]);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p,
		    "about")), "self");
		CU_ASSERT_EQUAL(haproblem_code(codes[i]) != 0, 1);
		CU_ASSERT_STRING_EQUAL(haproblem_name(haproblem_code(codes[i])),
		    codes[i]);
	}
	CU_ASSERT(json_is_false(json_object_get(root, "healthy")));
	json_decref(root);
	free(answer);
	free(j);

	/* a dead peer: its heartbeats, not its guisvr, are the problem */
	j = peer_timed_out();
	answer = as_hasvr(j);
	root = json_loads(answer, 0, &je);
	probs = json_object_get(root, "problems");
	CU_ASSERT_EQUAL(json_array_size(probs), 1);
	p = json_array_get(probs, 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "code")),
	    "peer-timeout");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(p, "about")),
	    "127.0.0.2");
	json_decref(root);
	free(answer);
	free(j);

	/* starting: the peers it waits for, or the primary it will not
	 * follow */
	j = with(healthy_pair, "node.role", "\"STARTING\"");
	set(&j, "node.waitsForAll", "[\"127.0.0.2\", \"127.0.0.3\"]");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "  - this node is still starting: it "
	    "served before (epoch 3) and waits until it has heard every peer"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "not heard yet: 127.0.0.2, "
	    "127.0.0.3 — "));
	free(out);
	set(&j, "node.waitsForAll", "null");
	set(&j, "node.stalePrimary", "{\"addr\": \"127.0.0.2\", \"epoch\": 2}");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NOT HEALTHY: 1 problem\n  - peer "
	    "127.0.0.2 is PRIMARY at epoch 2, below this node's epoch 3"));
	free(out);
	free(j);

	/* a secondary whose first sync is not done */
	j = with(healthy_pair, "node.role", "\"SECONDARY\"");
	set(&j, "peers.0.role", "\"PRIMARY\"");
	set(&j, "node.db.startupDone", "false");
	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NOT HEALTHY: 1 problem\n  - "
	    "database startup sync not done yet"));
	free(out);
	free(j);
}

static void
t_malformed(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{ "", "not valid JSON" },
		{ "{", "not valid JSON: line 1" },
		{ "{\"version\": 1, \"version\": 1}", "not valid JSON" },
		{ "null", "not valid JSON" },
		{ "[]", "not a JSON object" },
		{ "{}", "\"version\" is missing" },
		{ "{\"version\": \"1\"}", "\"version\" is missing or not a number" },
		{ "{\"version\": 2}", "version 2, this tool reads version 1" },
		{ "{\"version\": 1}", "\"healthy\" is missing" },
		{ "{\"version\": 1, \"healthy\": 1}", "\"healthy\" is missing" },
		{ "{\"version\": 1, \"healthy\": true}", "\"node\" is missing" },
		{ "{\"version\": 1, \"healthy\": true, \"node\": []}",
		  "\"node\" is missing or not an object" },
		{ "{\"version\": 1, \"healthy\": true, \"node\": {}}",
		  "\"node.addr\" is missing" },
		{ "{\"version\": 1, \"healthy\": true, \"node\": {\"addr\": 5}}",
		  "\"node.addr\" is missing or not a string" },
		{ "{\"version\": 1, \"healthy\": true, \"node\": {\"addr\": \"a\"}}",
		  "\"node.role\" is missing" },
		{ "{\"version\": 1, \"healthy\": true, \"node\": {\"addr\": \"a\","
		  "\"role\": \"PRIMARY\"}}", "\"peers\" is missing" },
		{ "{\"version\": 1, \"healthy\": true, \"node\": {\"addr\": \"a\","
		  "\"role\": \"PRIMARY\"}, \"peers\": {}}",
		  "\"peers\" is missing or not an array" },
		{ "{\"version\": 1, \"healthy\": true, \"node\": {\"addr\": \"a\","
		  "\"role\": \"PRIMARY\"}, \"peers\": [1]}",
		  "peers[0] is not an object" },
		{ "{\"version\": 1, \"healthy\": true, \"node\": {\"addr\": \"a\","
		  "\"role\": \"PRIMARY\"}, \"peers\": [{}]}",
		  "\"peers[0].addr\" is missing" },
		{ "{\"version\": 1, \"healthy\": true, \"node\": {\"addr\": \"a\","
		  "\"role\": \"PRIMARY\"}, \"peers\": [], \"problems\": 3}",
		  "\"problems\" is not an array" },
	};
	size_t i;
	char *out;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL(format(cases[i].json, &out), HASTATUS_UNKNOWN);
		if (strstr(err, cases[i].want) == NULL)
			fprintf(stderr, "\ncase %zu: got '%s'\n", i, err);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].want));
		CU_ASSERT(strncmp(err, "status from hasvr: ", 19) == 0);
		CU_ASSERT_STRING_EQUAL(out, "");        /* nothing printed */
		free(out);
	}

	/* jansson quotes the byte it stopped at: never a raw control
	 * character in the message (found by tests/fuzz/fuzz_hastatus) */
	CU_ASSERT_EQUAL(format("\x12", &out), HASTATUS_UNKNOWN);
	CU_ASSERT_PTR_NULL(strchr(err, '\x12'));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "near '?'"));
	free(out);
	CU_ASSERT_EQUAL(hastatus_peer_eid("\x1b[2J", "127.0.0.2",
	    &(uint32_t){ 0 }, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(strchr(err, '\x1b'));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not valid JSON"));
}

/* Only what the table needs; everything optional missing or null. */
static void
t_minimal(void)
{
	const char *j = "{\"version\": 1, \"healthy\": true, \"problems\": null,"
	    "\"node\": {\"addr\": \"127.0.0.1\", \"role\": \"PRIMARY\","
	    "\"services\": null, \"db\": 3, \"pingable\": [], \"epoch\": null},"
	    "\"peers\": [{\"addr\": \"127.0.0.2\", \"alive\": true, \"db\": {"
	    "\"behindBytes\": null}, \"services\": {\"highAvail\": 1},"
	    "\"rejected\": null}], \"heartbeat\": null, \"fileSync\": \"x\"}";
	char *out;

	CU_ASSERT_EQUAL(format(j, &out), HASTATUS_PROBLEMS);
	CU_ASSERT_STRING_EQUAL(line_of(out, "127.0.0.1 *"), "127.0.0.1 *  "
	    "PRIMARY  ?      ?          ?             ?         -");
	CU_ASSERT_PTR_NOT_NULL(strstr(line_of(out, "127.0.0.2 "),
	    "127.0.0.2    -        -      ?          ?             ?         never"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "rejected heartbeats: ?"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "this node: highAvailSvr (guisvr) "
	    "is ?"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "sync: HA ?, database ?, files ?"));
	free(out);

	/* alone: no peers at all */
	CU_ASSERT_EQUAL(format("{\"version\": 1, \"healthy\": true, \"node\": "
	    "{\"addr\": \"127.0.0.1\", \"role\": \"PRIMARY\", \"services\": "
	    "{\"highAvail\": \"running\", \"highAvailSvr\": \"running\"}, "
	    "\"db\": {\"state\": \"alone\"}}, \"peers\": []}", &out),
	    HASTATUS_HEALTHY);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "builds unknown (no peer heard)"));
	free(out);
}

static void
t_peer_eid(void)
{
	char *j = strdup(healthy_pair);
	uint32_t eid = 0;

	CU_ASSERT_EQUAL(hastatus_peer_eid(j, "127.0.0.2", &eid, err,
	    sizeof(err)), 0);
	CU_ASSERT_EQUAL(eid, 2);
	CU_ASSERT_EQUAL(hastatus_peer_eid(j, "127.0.0.1", &eid, err,
	    sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "127.0.0.1 is this node: give a peer's "
	    "address");
	CU_ASSERT_EQUAL(hastatus_peer_eid(j, "127.0.0.9", &eid, err,
	    sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "127.0.0.9 is not a peer of this node "
	    "(peers: 127.0.0.2 eid 2)");
	CU_ASSERT_EQUAL(hastatus_peer_eid(j, "node2", &eid, err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'node2' is not a numeric"));
	set(&j, "peers.0.addr", "\"::1\"");
	set(&j, "peers.0.eid", "5");
	CU_ASSERT_EQUAL(hastatus_peer_eid(j, "0:0::0001", &eid, err,
	    sizeof(err)), 0);
	CU_ASSERT_EQUAL(eid, 5);
	CU_ASSERT_EQUAL(hastatus_peer_eid("{", "::1", &eid, err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not valid JSON"));
	free(j);
}

/* ---- fuzz ------------------------------------------------------------- */

static const char *const fuzz_paths[] = {
	"version", "healthy", "problems", "node", "node.addr", "node.role",
	"node.epoch", "node.services", "node.services.highAvailSvr", "node.db",
	"node.db.state", "node.pingable", "node.pingable.addr",
	"node.pingable.reachable", "node.pingable.ageMs", "node.uptimeSec",
	"node.guisvrPid", "node.haSync", "peers", "peers.0", "peers.0.addr",
	"peers.0.alive", "peers.0.heartbeatAgeMs", "peers.0.role",
	"peers.0.epoch", "peers.0.buildMatch", "peers.0.build",
	"peers.0.services", "peers.0.services.highAvail", "peers.0.db",
	"peers.0.db.state", "peers.0.db.behindBytes", "peers.0.rejected",
	"peers.0.rejected.mac", "heartbeat", "heartbeat.rejected",
	"heartbeat.rejected.mac", "heartbeat.intervalMs", "fileSync",
	"fileSync.result", "fileSync.ageSec", "fileSync.reason",
};
static const char *const fuzz_values[] = {
	"null", "true", "false", "0", "-1", "9223372036854775807",
	"-9223372036854775808", "1e300", "-1e300", "0.5", "\"\"", "\"x\"",
	"\"PRIMARY\"", "\"FAIL\"", "\"dirty\"", "\"running\"", "[]", "{}",
	"[null]", "[{}]", "[\"a\", 1]", "{\"addr\": \"1.2.3.4\"}", "-",
};

/* Fields replaced by values of every type, then random bytes and bit
 * flips: an answer every time, never a crash (ASan watches). */
static void
t_fuzz(void)
{
	const size_t np = sizeof(fuzz_paths) / sizeof(fuzz_paths[0]);
	const size_t nv = sizeof(fuzz_values) / sizeof(fuzz_values[0]);
	char *j, *out, buf[2048];
	size_t i, k, n, len;
	FILE *null;
	int rc;

	null = fopen("/dev/null", "w");
	CU_ASSERT_FATAL(null != NULL);
	for (i = 0; i < np; i++)
		for (k = 0; k < nv; k++) {
			j = with(healthy_pair, fuzz_paths[i], fuzz_values[k]);
			rc = hastatus_format(j, null, err, sizeof(err));
			CU_ASSERT(rc == HASTATUS_HEALTHY ||
			    rc == HASTATUS_PROBLEMS || rc == HASTATUS_UNKNOWN);
			free(j);
		}
	srandom(777);
	for (i = 0; i < 3000; i++) {
		j = strdup(healthy_pair);
		for (k = 0; k < 3; k++)
			set(&j, fuzz_paths[random() % np],
			    fuzz_values[random() % (nv - 1)]);
		CU_ASSERT(hastatus_format(j, null, err, sizeof(err)) !=
		    HASTATUS_NOT_RUNNING);
		free(j);
	}
	len = strlen(healthy_pair);
	for (i = 0; i < 20000; i++) {
		memcpy(buf, healthy_pair, len + 1);
		for (k = 0, n = 1 + random() % 4; k < n; k++)
			buf[random() % len] = (char)(1 + random() % 255);
		rc = hastatus_format(buf, null, err, sizeof(err));
		CU_ASSERT(rc == HASTATUS_HEALTHY || rc == HASTATUS_PROBLEMS ||
		    rc == HASTATUS_UNKNOWN);
	}
	for (i = 0; i < 20000; i++) {
		n = (size_t)(random() % (sizeof(buf) - 1));
		for (k = 0; k < n; k++)
			buf[k] = (char)(1 + random() % 255);
		buf[n] = '\0';
		CU_ASSERT_EQUAL(hastatus_format(buf, null, err, sizeof(err)),
		    HASTATUS_UNKNOWN);
	}
	fclose(null);
	/* something was printed for the healthy one all along */
	CU_ASSERT_EQUAL(format(healthy_pair, &out), HASTATUS_HEALTHY);
	free(out);
}

void
test_hastatus_register(void)
{
	CU_pSuite s = CU_add_suite("hastatus", NULL, NULL);

	CU_add_test(s, "healthy pair", t_healthy);
	CU_add_test(s, "peer timed out", t_peer_timed_out);
	CU_add_test(s, "peer's highAvailSvr stopped", t_peer_guisvr_stopped);
	CU_add_test(s, "dirty with lag", t_dirty);
	CU_add_test(s, "build and config mismatch", t_build_mismatch);
	CU_add_test(s, "rejected heartbeats", t_rejected);
	CU_add_test(s, "file sync", t_filesync);
	CU_add_test(s, "other problems", t_other_problems);
	CU_add_test(s, "hasvr's own problems", t_daemon_problems);
	CU_add_test(s, "malformed JSON", t_malformed);
	CU_add_test(s, "missing and null fields", t_minimal);
	CU_add_test(s, "peer eid from address", t_peer_eid);
	CU_add_test(s, "random fields and bytes", t_fuzz);
}
