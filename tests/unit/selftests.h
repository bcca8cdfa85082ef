/*  selftests.h - every module's rc_x_test, run by the Check binary. New
    modules add one line to RC_SELFTESTS. */
#ifndef RC_SELFTESTS_H
#define RC_SELFTESTS_H

#include <stdbool.h>

#define RC_SELFTESTS(X)                                                                            \
    X (rc_time_test)                                                                               \
    X (rc_ids_test)                                                                                \
    X (rc_join_test)                                                                               \
    X (rc_keys_test)                                                                               \
    X (rc_envelope_test)                                                                           \
    X (rc_config_test)                                                                             \
    X (rc_config_read_test)                                                                        \
    X (rc_systemd_test)                                                                            \
    X (rc_keyring_test)                                                                            \
    X (rc_seal_test)                                                                               \
    X (rc_store_test)                                                                              \
    X (rc_store_group_test)                                                                        \
    X (rc_store_fleet_test)                                                                        \
    X (rc_store_pages_test)                                                                        \
    X (rc_retention_config_test)                                                                   \
    X (rc_store_retention_test)                                                                    \
    X (rc_store_backup_test)                                                                       \
    X (rc_deployments_test)                                                                        \
    X (rc_strategy_test)                                                                           \
    X (rc_rollout_test)                                                                            \
    X (rc_bluegreen_test)                                                                          \
    X (rc_fleet_test)                                                                              \
    X (rc_zap_test)                                                                                \
    X (rc_control_test)                                                                            \
    X (rc_child_test)                                                                              \
    X (rc_releases_test)                                                                           \
    X (rc_transfer_test)                                                                           \
    X (rc_fetch_test)                                                                              \
    X (rc_health_test)                                                                             \
    X (rc_lb_test)                                                                                 \
    X (rc_slots_test)                                                                              \
    X (rc_unpack_test)                                                                             \
    X (rc_journal_test)                                                                            \
    X (rc_journal_record_test)                                                                     \
    X (rc_report_test)                                                                             \
    X (rc_run_once_test)                                                                           \
    X (rc_once_test)                                                                               \
    X (rc_executor_test)                                                                           \
    X (rc_executor_slots_test)                                                                     \
    X (rc_executor_ramp_test)                                                                      \
    X (rc_text_test)                                                                               \
    X (rc_channel_test)                                                                            \
    X (rc_privsep_test)                                                                            \
    X (rc_sources_test)                                                                            \
    X (rc_signature_test)                                                                          \
    X (rc_window_test)                                                                             \
    X (rc_engine_scale_test)                                                                       \
    X (rc_slide_test)                                                                              \
    X (rc_freeze_test)                                                                             \
    X (rc_plan_test)                                                                               \
    X (rc_keyring_operators_test)                                                                  \
    X (rc_cli_term_test)                                                                           \
    X (rc_cli_json_test)                                                                           \
    X (rc_webhook_test)                                                                            \
    X (rc_webhook_outbox_test)                                                                     \
    X (rc_webhook_config_test)                                                                     \
    X (rc_checks_test)                                                                             \
    X (rc_expo_test)                                                                               \
    X (rc_figures_test)                                                                            \
    X (rc_metrics_http_test)                                                                       \
    X (rc_secmem_test)                                                                             \
    X (rc_fleet_scale_test)                                                                        \
    X (rc_status_summary_test)

#define RC_DECLARE(fn) void fn (bool verbose);
RC_SELFTESTS (RC_DECLARE)
#undef RC_DECLARE

#endif
