/*  rc_config.h - the INI configuration of the three programs (libinih).
    Every key is validated while it is read, so an error names FILE:LINE.
    The config is plain data read by every part, so unlike our objects its
    struct is public: a new key is one field and one table row. */
#ifndef RC_CONFIG_H
#define RC_CONFIG_H

#include "rc_check_config.h"
#include "rc_ids.h"
#include "rc_keys.h"
#include "rc_webhook.h"
#include <stdint.h>

/* The longest config line read, newline excluded. A longer line is an error
   naming FILE:LINE, never split into two (libinih's default buffer is 200
   bytes and would cut the line, its tail read as another key). */
#define RC_CONFIG_LINE_MAX 4096
/* libinih keeps a section name in 50 bytes (MAX_SECTION in its ini.c, not
   exported): a longer [app NAME] would be cut silently, so it is refused. */
#define RC_CONFIG_SECTION_MAX 49

typedef enum {
    RC_ROLE_COORDINATOR,
    RC_ROLE_AGENT,
    RC_ROLE_CLIENT,
} rc_role_t;

/* Words of the bit set that remembers which keys a section gave (64 keys
   a word); rc_config.c checks its key table fits. */
#define RC_CONFIG_SEEN_WORDS 4

/* The built-in load balancer providers ([app] lb); their names are in
   rc_config.c's table, their code in agent/lb.c. */
typedef enum {
    RC_LB_NONE,
    RC_LB_HAPROXY,
    RC_LB_NGINX,
} rc_lb_kind_t;

/* Longest BACKEND/SERVER name; HAProxy's own limit on a proxy or server
   name is lower. */
#define RC_LB_SERVER_MAX 128
/* haproxy_server and nginx_server name at most this many servers */
#define RC_LB_SERVERS_MAX 16
/* slots = PORT,PORT: an app has no slots or exactly two */
#define RC_SLOTS_MAX 2

typedef struct {
    char *name;         /* from [app NAME] */
    char *releases_dir; /* holds releases/ and current */
    char *install;      /* hook command lines, run by /bin/sh -c */
    char *restart;
    char *drain;
    char *undrain;
    char *health_url;     /* http(s) GET, 2xx = healthy */
    char *health_body;    /* optional: body must contain this */
    char *health_command; /* exit 0 = healthy */
    int64_t health_interval_ms;
    int64_t hook_timeout_ms;
    int keep_releases;          /* rollback points kept besides current */
    char *user;                 /* run hooks as this user */
    int health_rise;            /* idle checks passed in a row to become healthy */
    int health_fall;            /* idle checks failed in a row to become unhealthy */
    int64_t fetch_timeout_ms;   /* a download's whole time */
    int64_t max_artifact_bytes; /* a download's size */
    int64_t max_unpacked_bytes; /* file bytes an archive may unpack to */
    char *artifact_sources;     /* URL prefixes a coordinator may name (rc_sources.h) */
    char *trusted_signers;      /* directory of public signing keys, or NULL */
    rc_lb_kind_t lb;            /* built-in drain provider, RC_LB_NONE when unset */
    char *haproxy_socket;       /* runtime API: a unix socket path or tcp://HOST:PORT */
    char **haproxy_servers;     /* BACKEND/SERVER names, haproxy_server_count of them */
    size_t haproxy_server_count;
    char *nginx_upstream_file; /* absolute: the include file the agent owns */
    char **nginx_servers;      /* HOST:PORT, maybe with {port}/{slot}, nginx_server_count */
    size_t nginx_server_count;
    char *nginx_test;           /* command line checking NGINX's config (nginx -t) */
    char *nginx_reload;         /* command line reloading it (nginx -s reload) */
    int64_t drain_timeout_ms;   /* the provider's drain waits this long for sessions to end */
    int64_t undrain_timeout_ms; /* its undrain waits this long for the LB's check to say UP */
    /* Surge clones: two instance slots, each on its own port (slots =
       8080,8081); slot_count is 0 when the app has none. An update starts
       the new release on the idle slot beside the serving one. */
    uint16_t slot_ports[RC_SLOTS_MAX];
    size_t slot_count;
    int64_t keep_warm_ms; /* the old slot keeps running this long after a switch */
    char *stop;           /* hook: stops the instance on ROLLCLONE_PORT */
    /* run_once_NAME = command: what deploy --before/--after NAME runs here,
       run_once_count of each, in the file's order */
    char **run_once_names;
    char **run_once_commands;
    size_t run_once_count;
    uint64_t seen[RC_CONFIG_SEEN_WORDS]; /* bit per key: duplicates are errors */
    int releases_dir_line;               /* where releases_dir was set, for errors */
} rc_app_config_t;

/* A [webhook NAME] section (coordinator): where events are POSTed. */
typedef struct {
    char *name;                 /* from [webhook NAME] */
    char *url;                  /* http:// or https:// */
    char *events;               /* fnmatch globs over event kinds, or NULL for all */
    char *secret;               /* the HMAC key: secret, or secret_file's content */
    char *secret_file;          /* where the key was read from, or NULL */
    char *file_secret;          /* secret_file's content, until the section is whole */
    rc_webhook_format_t format; /* json (default) | slack */
    int line;                   /* the section's first key, for errors */
    uint64_t seen[RC_CONFIG_SEEN_WORDS];
} rc_webhook_config_t;

typedef struct {
    char *path; /* the file read */
    char *dir;  /* its directory: relative paths start here */
    rc_role_t role;
    /* [coordinator] */
    char *data_dir;
    char *agent_endpoint;
    char *publish_endpoint;
    char *agent_keys_dir;
    char *operator_keys_dir;
    int64_t offline_after_ms;
    int64_t event_retention_ms;   /* events and release history older are pruned */
    int64_t deployment_retention; /* finished deployments kept, the newest */
    int64_t offline_grace_ms;     /* default of deploy --offline-grace; 0 = the health timeout */
    char *read_only_operator_keys_dir; /* operators who may only read, or NULL */
    char *freeze;                      /* weekly freeze windows (rc_window.h), or NULL */
    int64_t webhook_max_age_ms;        /* undelivered webhook rows older are dropped */
    /* [webhook NAME] sections (coordinator) */
    rc_webhook_config_t *webhooks;
    size_t webhook_count;
    rc_check_config_t *checks; /* [check NAME] analysis gates, check_count of them */
    size_t check_count;
    /* [coordinator], [client] */
    char *control_endpoint;
    /* [coordinator], [agent] */
    int64_t heartbeat_interval_ms;
    char *metrics_endpoint; /* HOST:PORT of the Prometheus endpoint, or NULL (off) */
    /* [agent] */
    char *id;
    char *coordinator_endpoint;
    char *coordinator_publish_endpoint;
    char *state_dir;
    char *labels_text;
    char *user; /* the network side of the daemon runs as this user */
    rc_label_t labels[RC_LABELS_MAX];
    size_t label_count;
    /* keys: ours, and the coordinator's public key (agent, client) */
    char *secret_key;
    zcert_t *cert;
    char *coordinator_public_key;
    char server_key[RC_Z85_KEY_LEN + 1];
    /* [app NAME] sections (agent) */
    rc_app_config_t *apps;
    size_t app_count;
    uint64_t seen[RC_CONFIG_SEEN_WORDS]; /* bit per main-section key */
} rc_config_t;

/* Reads FILE for role. Returns the config, or NULL with "FILE:LINE: reason"
   (one line) in err. */
rc_config_t *rc_config_load (const char *path, rc_role_t role, char *err, size_t errlen);
void rc_config_destroy (rc_config_t **self_p);

/* What --check adds to loading: the directories and users the config names
   exist (key directories, state_dir, apps' users), nothing created. Returns
   0, or -1 with a one-line reason in err. */
int rc_config_check (const rc_config_t *self, char *err, size_t errlen);

/* The app named name, or NULL. */
const rc_app_config_t *rc_config_app (const rc_config_t *self, const char *name);
/* The command of app's run_once_NAME key, or NULL when it has none
   (borrowed). */
const char *rc_app_run_once (const rc_app_config_t *app, const char *name);

/* Splits "B/S, B2/S2" (commas and/or spaces) into *servers (count of them,
   the caller frees each and the array); each must be BACKEND/SERVER, both
   non-empty, [A-Za-z0-9._:-]. -1 with err set on a bad list. */
int rc_config_lb_servers (const char *text, char ***servers, size_t *count, char *err,
                          size_t errlen);
/* The same for nginx_server: HOST:PORT addresses ({port} for the port and
   {slot} anywhere allowed), err says which is not one. */
int rc_config_nginx_servers (const char *text, char ***servers, size_t *count, char *err,
                             size_t errlen);
/* True when addr is HOST:PORT or [IPV6]:PORT as an nginx_server may say it;
   with placeholders, {port} may stand for PORT and {slot} anywhere. */
bool rc_config_nginx_address_valid (const char *addr, bool placeholders);
/* The name of an lb kind ("haproxy"), "" for none. */
const char *rc_config_lb_name (rc_lb_kind_t kind);
void rc_config_test (bool verbose);

#endif
