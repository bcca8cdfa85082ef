/*  rc_config.h - the INI configuration of the three programs (libinih).
    Every key is validated while it is read, so an error names FILE:LINE.
    The config is plain data read by every part, so unlike our objects its
    struct is public: a new key is one field and one table row. */
#ifndef RC_CONFIG_H
#define RC_CONFIG_H

#include "rc_ids.h"
#include "rc_keys.h"
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
    int keep_releases;                   /* rollback points kept besides current */
    char *user;                          /* run hooks as this user */
    int health_rise;                     /* idle checks passed in a row to become healthy */
    int health_fall;                     /* idle checks failed in a row to become unhealthy */
    int64_t fetch_timeout_ms;            /* a download's whole time */
    int64_t max_artifact_bytes;          /* a download's size */
    int64_t max_unpacked_bytes;          /* file bytes an archive may unpack to */
    char *artifact_sources;              /* URL prefixes a coordinator may name (rc_sources.h) */
    char *trusted_signers;               /* directory of public signing keys, or NULL */
    uint64_t seen[RC_CONFIG_SEEN_WORDS]; /* bit per key: duplicates are errors */
    int releases_dir_line;               /* where releases_dir was set, for errors */
} rc_app_config_t;

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
    /* [coordinator], [client] */
    char *control_endpoint;
    /* [coordinator], [agent] */
    int64_t heartbeat_interval_ms;
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

void rc_config_test (bool verbose);

#endif
