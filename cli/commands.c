/*  commands.c - the command table of `rollclone`: each command's usage,
    help text and options, written once. `rollclone help`, `COMMAND --help`,
    option parsing, the bash and zsh completion scripts and the COMMANDS
    section of rollclone(1) are all made from it, so none can drift. */
#include "cli.h"
#include "rc_defaults.h"

#include <string.h>

#define JSON_OPTION                                                                                \
    {                                                                                              \
        "json", 'j', NULL, "print JSON instead of text", NULL                                      \
    }

const rc_cli_option_t rc_cli_global_options[] = {
    {"config", 'c', "FILE",
     "the client configuration; else $ROLLCLONE_CONFIG, else " RC_DEFAULT_CLIENT_CONFIG, "@file"},
    {"timeout", 't', "DUR", "how long to wait for each answer of the coordinator (default 5s)",
     NULL},
    {"help", 'h', NULL, "show the commands, or with a command its help", NULL},
    {"version", 'V', NULL, "print the version", NULL},
    {NULL, 0, NULL, NULL, NULL},
};

const rc_cli_command_t rc_cli_commands[] = {
    {"deploy",
     "rollouts",
     "(--app APP --version V --artifact URL --sha256 HEX | --retry ID) [OPTIONS]",
     "start a deployment and print its id",
     "Rolls APP out to version V over the hosts that run it, batch by batch: each host "
     "installs the artifact, leaves the load balancer, switches, passes its health check, "
     "soaks and comes back. When more hosts fail than --max-fail allows, the deployment "
     "fails and, unless --no-auto-rollback, every host it changed is rolled back.\n\n"
     "Defaults: --batch 1,25% (one canary host, then a quarter at a time), --max-fail 0, "
     "--soak 10s, --health-timeout 5m, --progress-deadline 10m, no pause, automatic "
     "rollback on.\n\n"
     "The URL must be http://, https:// or file://, with no user name, no . or .. or empty "
     "path segments, no encoded separators (%2e%2e, %2f) and no fragment; each agent takes "
     "it only under its app's artifact_sources.\n\n"
     "--plan asks the coordinator what the deployment would do (the batches host by host, "
     "the hosts it would skip and why, the failure budget in hosts and the worst-case time) "
     "and stores nothing. --retry ID runs a finished deployment again on the hosts that "
     "failed or were skipped; its app, version, artifact and strategy are taken from it "
     "unless given. With --wait the exit code tells how the deployment ended: 0 succeeded, 1 "
     "failed or rolled back.\n\n"
     "--before NAME and --after NAME run a command once on one host of the selection: the "
     "agent's own [app APP] run_once_NAME (NAME is [A-Za-z0-9_-], a name, never a command "
     "line). before runs ahead of the first batch (a DB migration): when it fails the "
     "deployment fails and no host is touched. after runs once the last batch is done (a "
     "smoke test): when it fails the deployment fails and, with auto-rollback, every updated "
     "host is rolled back. They run on --run-on HOST, or on the first online, healthy host of "
     "the selection (for after, one that was updated), within the progress deadline; status "
     "and events show where, the exit code and the output's tail. A --retry runs only the "
     "run-once steps given to it, not those of the deployment it retries.\n\n"
     "--check NAME (repeatable, up to 8) holds every batch to an analysis gate: the "
     "coordinator's [check NAME] (a PromQL query asked of Prometheus, or a server's 5xx share "
     "in HAProxy's stats) is evaluated for each host of the batch every interval while it "
     "soaks, and once more after the whole batch has finished; the next batch starts only when "
     "every host passed. A check that fails `failures` evaluations in a row fails the host "
     "(reason check:NAME, the value in the events), which counts against --max-fail and rolls "
     "back like a failed health check. A NAME the coordinator's config does not have is refused "
     "(exit 2) and nothing is stored. A --retry is held only to the checks given to it.\n\n"
     "--window N|N% replaces the fixed batches after the ramp with a sliding window: at most "
     "N hosts (or N% of the selected hosts, rounded up, at least one) are in flight, and a "
     "new host starts as soon as one finishes (healthy for --soak, or failed), so a slow host "
     "holds no other. The --batch ramp still comes first, each of its entries one batch "
     "(without --batch: one canary host): --batch 1 --window 10% is one canary, then a window "
     "of 10%. The failure budget acts as with batches: once it is exceeded no new host "
     "starts, those in flight finish, then the rollback. --pause and manual gates hold the "
     "ramp's batches and the start of the window; pause, resume, abort and freezes hold the "
     "window's new starts. A window does not go with --check (an analysis gate judges whole "
     "batches): refused, exit 2. With --strategy blue-green the hosts stage in the window, "
     "then switch at once as always.\n\n"
     "A deployment rolls back (automatically, on abort, or with `rollclone rollback "
     "--deployment ID`) --rollback-batch hosts at a time, by default its largest batch or "
     "its window, whichever is larger, the hosts updated last going back first.",
     0,
     0,
     NULL,
     rc_cli_cmd_deploy,
     {
         {"app", 'a', "APP", "the application, as the agents' configs name it", NULL},
         {"version", 'v', "V", "the version to install", NULL},
         {"artifact", 'A', "URL", "where agents fetch the release archive", NULL},
         {"sha256", 's', "HEX", "the artifact's checksum, which agents verify (required)", NULL},
         {"signature", 'G', "FILE",
          "a `rollclone sign` file sent with the instruction (apps with trusted_signers)", "@file"},
         {"select", 'S', "K=V,...", "only the hosts with all these labels", NULL},
         {"batch", 'b', "N|N%|RAMP",
          "hosts per batch: a count, a percentage or a ramp like 1,10%,50%; the last repeats",
          NULL},
         {"window", 'W', "N|N%",
          "after the --batch ramp (default: one canary), keep N hosts in flight, starting one as "
          "soon as one finishes",
          NULL},
         {"rollback-batch", 'R', "N|N%",
          "hosts rolled back at a time (default: the largest batch or the window)", NULL},
         {"max-fail", 'm', "N|N%", "failed hosts tolerated (default 0)", NULL},
         {"soak", 'k', "DUR", "how long a host stays healthy after its update (default 10s)", NULL},
         {"health-timeout", 'H', "DUR", "how long a host may take to become healthy (default 5m)",
          NULL},
         {"progress-deadline", 'P', "DUR",
          "no host finishing within this fails the deployment (default 10m)", NULL},
         {"offline-grace", 'g', "DUR",
          "how long a host that went offline in its step may take to come back", NULL},
         {"pause", 'p', "DUR|manual", "wait between batches, or until `rollclone resume`",
          "manual"},
         {"no-auto-rollback", 'n', NULL, "on failure, stop but do not roll back", NULL},
         {"wait", 'w', NULL, "follow the deployment to its end; the exit code tells how it ended",
          NULL},
         {"plan", 'L', NULL, "show what would happen and store nothing", NULL},
         {"retry", 'r', "ID", "run deployment ID again on its failed and skipped hosts", NULL},
         {"ignore-freeze", 'I', NULL, "start batches even inside a freeze window", NULL},
         {"before", 'B', "NAME", "run the agents' run_once_NAME once before the first batch", NULL},
         {"after", 'F', "NAME", "run the agents' run_once_NAME once after the last batch", NULL},
         {"run-on", 'O', "HOST", "the host of the selection that runs --before/--after", NULL},
         {"check", 'c', "NAME",
          "hold each batch to the coordinator's [check NAME] analysis gate (repeatable)", NULL},
         {"strategy", 'T', "rolling|blue-green",
          "rolling (default), or blue-green: stage on every host's idle slot, then switch all",
          "rolling blue-green"},
         JSON_OPTION,
     }},
    {"status",
     "rollouts",
     "[ID] [--json] [--watch] [--limit N]",
     "the state of one deployment, or of the recent ones",
     "Without ID, the recent deployments (10 unless --limit says otherwise; the coordinator "
     "gives at most 100). With ID, that deployment host by host: batch, state, phase, "
     "versions, time, and why a host failed with the last lines of its hook's output. A "
     "blue-green deployment before its switch also says until when its staged slots stay "
     "warm (keep_warm), or how many are no longer warm: those are staged again when the "
     "switch starts.\n\n"
     "status ID --watch follows the deployment like deploy --wait and exits the same way: "
     "0 when it succeeded, 1 when it failed or was rolled back.",
     0,
     1,
     NULL,
     rc_cli_cmd_status,
     {
         JSON_OPTION,
         {"watch", 'w', NULL, "follow ID until it ends (or the list, until interrupted)", NULL},
         {"limit", 'l', "N", "how many recent deployments", NULL},
     }},
    {"pause",
     "rollouts",
     "ID [--json]",
     "hold a deployment after its current batch",
     "The hosts in flight finish; no new batch starts until `rollclone resume ID`.",
     1,
     1,
     NULL,
     rc_cli_cmd_pause,
     {JSON_OPTION}},
    {"resume",
     "rollouts",
     "ID [--json]",
     "let a paused deployment go on",
     "Also opens the gate of a deployment started with --pause manual, once it waits there "
     "(its batch done; with blue-green, every host staged before the switch). A resume sent "
     "earlier is refused (exit 2) and opens nothing; one that lifts `rollclone pause` while "
     "hosts are in flight leaves the gate closed.",
     1,
     1,
     NULL,
     rc_cli_cmd_resume,
     {JSON_OPTION}},
    {"abort",
     "rollouts",
     "ID [--no-rollback] [--json]",
     "stop a deployment",
     "Hosts in flight finish, no new one starts, and every host the deployment changed is "
     "rolled back unless --no-rollback is given.",
     1,
     1,
     NULL,
     rc_cli_cmd_abort,
     {
         {"no-rollback", 'n', NULL, "leave the hosts already updated as they are", NULL},
         JSON_OPTION,
     }},
    {"rollback",
     "rollouts",
     "(--deployment ID | --host H --app APP [--to VERSION]) [--wait]",
     "roll back a deployment, or one host's app",
     "Rolls back every host a deployment touched, or one host's app to its previous release "
     "(or to the rollback point VERSION). --plan shows the hosts it would touch and stores "
     "nothing. With --wait the exit code is 0 when the hosts were rolled back, 1 otherwise.",
     0,
     0,
     NULL,
     rc_cli_cmd_rollback,
     {
         {"deployment", 'd', "ID", "every host this deployment changed", NULL},
         {"host", 'o', "H", "one host (with --app)", NULL},
         {"app", 'a', "APP", "the host's app to roll back", NULL},
         {"to", 't', "VERSION", "a rollback point instead of the previous release", NULL},
         {"wait", 'w', NULL, "follow the rollback to its end", NULL},
         {"plan", 'L', NULL, "show what would happen and store nothing", NULL},
         JSON_OPTION,
     }},
    {"events",
     "rollouts",
     "[ID] [--json] [--limit N] [--before ID]",
     "the audit log, of one deployment or of all",
     "The newest 50 events unless --limit says otherwise (at most 1000 a page), oldest line "
     "first, with the operator key that asked for what an operator asked. --before ID shows "
     "the page before the event ID: the id of the oldest shown, which the command names on "
     "standard error when there are older ones. With --json the output is an object whose "
     "events array holds the page, whose more says whether older events remain and whose "
     "next_before is the ID of the next page (null on the last one).",
     0,
     1,
     NULL,
     rc_cli_cmd_events,
     {
         JSON_OPTION,
         {"limit", 'l', "N", "how many events", NULL},
         {"before", 'b', "ID", "the page before this event", NULL},
     }},
    {"freeze",
     "rollouts",
     "[--until TIME|DUR] [--clear] [--reason TEXT] [--json]",
     "show, set or lift the operator's freeze",
     "No batch starts during a freeze: a running deployment waits at its next batch boundary "
     "and goes on by itself when the freeze ends (deploy --ignore-freeze overrides it). "
     "Without options, shows the freeze windows of the coordinator's config and the "
     "operator's freeze. --until sets (or moves) the operator's freeze until TIME, written "
     "2026-12-24T08:00:00Z, 2026-12-24T08:00+01:00, 2026-12-24 08:00 (local time), or as a "
     "duration from now such as 2h; --clear lifts it.",
     0,
     0,
     NULL,
     rc_cli_cmd_freeze,
     {
         {"until", 'u', "TIME|DUR", "freeze until then", NULL},
         {"clear", 'C', NULL, "lift the operator's freeze", NULL},
         {"reason", 'R', "TEXT", "why, recorded in the event", NULL},
         JSON_OPTION,
     }},
    {"hosts",
     "fleet",
     "[--json]",
     "the fleet: state, health, labels, apps, rollback points",
     "Every known host: id, state (online or offline), health, labels, and per app the "
     "current version and the rollback points.",
     0,
     0,
     NULL,
     rc_cli_cmd_hosts,
     {JSON_OPTION}},
    {"info",
     "fleet",
     "[--json]",
     "the coordinator: version, uptime, agents, dropped frames",
     "The coordinator's version, uptime, agents online and offline, the frames it dropped, "
     "the agent messages it refused for being over a limit (states_refused), the older ones it "
     "ignored (messages_stale) and the store writes it deferred for an agent over its share "
     "(writes_throttled). A coordinator of another protocol version is reported as such "
     "(exit 3).",
     0,
     0,
     NULL,
     rc_cli_cmd_info,
     {JSON_OPTION}},
    {"history",
     "fleet",
     "HOST [--json] [--limit N] [--before ID]",
     "what was deployed to a host, and when",
     "The releases and rollback points of HOST over time: the newest 100 entries unless "
     "--limit says otherwise (at most 1000 a page). --before ID shows the page before the "
     "entry ID; with --json, more and next_before tell whether and how to get it.",
     1,
     1,
     NULL,
     rc_cli_cmd_history,
     {
         JSON_OPTION,
         {"limit", 'l', "N", "how many entries", NULL},
         {"before", 'b', "ID", "the page before this entry", NULL},
     }},
    {"backup",
     "fleet",
     "PATH [--json]",
     "an online copy of the coordinator's database",
     "The coordinator writes a copy of its database at PATH on its own host (a relative PATH "
     "is taken from the current directory) while it goes on working, and answers when the "
     "copy is complete (an hour unless --timeout says otherwise). The file must not exist "
     "(exit 2) and its directory must be writable by the coordinator. To restore: stop the "
     "coordinator, move coordinator.db and its -wal and -shm files out of data_dir, copy the "
     "backup there as coordinator.db, owned by the coordinator's user, and start it.",
     1,
     1,
     "@file",
     rc_cli_cmd_backup,
     {JSON_OPTION}},
    {"keygen",
     "keys",
     "[--signing] [--json] PATH",
     "write a CURVE (or signing) key pair",
     "Writes a new CURVE key pair: the public key to PATH and the secret key to PATH_secret "
     "(mode 0600), in czmq's zcert format. With --signing, an ed25519 artifact signing pair "
     "(libsodium): copy PATH into the trusted_signers directory of the agents' apps and keep "
     "PATH_secret where releases are built, never on the coordinator. Refuses to overwrite a "
     "key. Needs no configuration and no coordinator.",
     1,
     1,
     "@file",
     rc_cli_cmd_keygen,
     {{"signing", 's', NULL, "an ed25519 artifact signing pair instead", NULL}, JSON_OPTION}},
    {"sign",
     "keys",
     "--key SECRET [--version V] [--app APP] [--output FILE] [--json] ARTIFACT",
     "sign an artifact for agents that set trusted_signers",
     "Writes ARTIFACT.sig (or --output): a detached ed25519 signature over the artifact's "
     "sha256, the version given by --version and the app given by --app. Without them the "
     "signature is valid for any version or app (*); with --version, a signed v1 cannot be "
     "deployed as v2. Needs no configuration and no coordinator.",
     1,
     1,
     "@file",
     rc_cli_cmd_sign,
     {
         {"key", 'k', "SECRET", "the signing secret key (keygen --signing)", "@file"},
         {"version", 'v', "V", "bind the signature to this version", NULL},
         {"app", 'a', "APP", "bind the signature to this app", NULL},
         {"output", 'o', "FILE", "where to write the signature", "@file"},
         JSON_OPTION,
     }},
    {"help",
     "shell",
     "[COMMAND] [--man]",
     "the commands, or one command's help",
     "Without COMMAND, lists the commands; with it, the same help as `rollclone COMMAND "
     "--help`. --man prints the COMMANDS section of rollclone(1) in roff, which the build "
     "puts into the man page.",
     0,
     1,
     "@command",
     rc_cli_cmd_help,
     {{"man", 'm', NULL, "the commands as the man page's roff", NULL}}},
    {"completion",
     "shell",
     "bash|zsh",
     "print a shell completion script",
     "Prints the completion script for bash or zsh, made from the same command table as this "
     "help. The packages install both; by hand: source <(rollclone completion bash).",
     1,
     1,
     "bash zsh",
     rc_cli_cmd_completion,
     {{NULL, 0, NULL, NULL, NULL}}},
};

const size_t rc_cli_n_commands = sizeof rc_cli_commands / sizeof rc_cli_commands[0];

const rc_cli_command_t *
rc_cli_command_find (const char *name)
{
    for (size_t i = 0; i < rc_cli_n_commands; i++)
        if (strcmp (rc_cli_commands[i].name, name) == 0)
            return &rc_cli_commands[i];
    return NULL;
}
