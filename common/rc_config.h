/*  rc_config.h - the INI configuration of the three programs (libinih).
    Every key is validated while it is read, so an error names FILE:LINE.
    The config is plain data read by every part, so unlike our objects its
    struct is public: a new key is one field and one table row. */
#ifndef RC_CONFIG_H
#define RC_CONFIG_H

#include "rc_ids.h"
#include "rc_keys.h"
#include <stdint.h>

typedef enum {
    RC_ROLE_COORDINATOR,
    RC_ROLE_AGENT,
    RC_ROLE_CLIENT,
} rc_role_t;

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
    int keep_releases; /* rollback points kept besides current */
    char *user;        /* run hooks as this user */
    unsigned seen;     /* bit per key: duplicates are errors */
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
    int64_t offline_grace_ms; /* default of deploy --offline-grace; 0 = the health timeout */
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
    unsigned seen; /* bit per main-section key */
} rc_config_t;

/* Reads FILE for role. Returns the config, or NULL with "FILE:LINE: reason"
   (one line) in err. */
rc_config_t *rc_config_load (const char *path, rc_role_t role, char *err, size_t errlen);
void rc_config_destroy (rc_config_t **self_p);

/* The app named name, or NULL. */
const rc_app_config_t *rc_config_app (const rc_config_t *self, const char *name);

void rc_config_test (bool verbose);

#endif
