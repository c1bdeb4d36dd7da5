#!/usr/bin/env python3
"""Generate docs/conformance.md: one row per CPE-binding sentence of TR-069 Amendment 5
(/work/shared/spec/requirements-cpe.md, R001..R609), with our status and the evidence.

The mapping below is hand-written after reading the code and the tests: section defaults
(DEFAULTS, matched by the longest section prefix) and per-requirement rows (ROWS). Evidence
is written compactly and expanded here:

    I:file:Class::test   -> tests/integration/test_<file>.py::Class::test
    U:file:test          -> tests/unit/test_<file>.c::test
    S:path:function      -> the source file and function (for "met, untested")

Every cited test and function is checked to exist in the tree; a missing one is an error
(exit status 1), so the document cannot cite evidence that is not there.

Usage: scripts/conformance.py [--spec PATH] [--out docs/conformance.md] [--check]
"""
import argparse
import os
import re
import sys
from collections import Counter, OrderedDict

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SPEC = os.environ.get("PX_SHARED_DIR", os.path.join(ROOT, "..", "shared"))

MET, UNTESTED, PARTIAL, NOT_YET, NA = "met", "met, untested", "partial", "not yet", "n/a"
STATUSES = [MET, UNTESTED, PARTIAL, NOT_YET, NA]

VD = "not yet (virtual devices)"

# ---- Section defaults: (status, evidence, note) -------------------------------------------
DEFAULTS = {
    "3.1 ": (NA, "", "ACS discovery by DHCP is not offered: proxierd is configured with "
                     "acs.url (docs/configuration.md)"),
    "3.6.1": (NA, "", "the optional Alias-Based Addressing Mechanism is not offered "
                      "(ManagementServer.AliasBasedAddressing = false, mgmt.c computed_value)"),
    "A.4.1.4": (NA, "", "GetOptions (deprecated) is not offered: answered 9000 (rpc.c)"),
    "A.4.1.10": (NA, "", "Software Module Management is not offered: ChangeDUState is "
                         "answered 9000 (rpc.c methods[])"),
    "A.4.2.1": (NA, "", "Kicked / Annex D (deprecated) is not offered"),
    "A.4.2.3": (NA, "", "DUStateChangeComplete: Software Module Management is not offered"),
    "A.4.2.4": (NA, "", "AutonomousDUStateChangeComplete: Software Module Management is not "
                        "offered"),
    "C.": (NA, "", "Vouchers (deprecated): SetVouchers is answered 9000"),
    "D.": (NA, "", "Annex D web identity management (deprecated) is not offered"),
    "F.": (NA, "", "Annex F device-gateway association is not offered: the ManageableDevice "
                   "table stays empty"),
    "G.": (MET, "", "UDP Connection Requests and STUN (Annex G): connreq/udp_cr.c, stun.c"),
    "G.2.2": (NA, "", "binds the STUN server / ACS"),
    "H.": (NA, "", "UUIDs for Deployment Units: Software Module Management is not offered"),
    "J.": (VD, "", "Virtual CWMP Devices / Embedded Objects come with the adapters"),
    "K.": (MET, "", "XMPP Connection Requests (Annex K): connreq/xmpp_*.c"),
    "K.2.2": (NA, "", "binds the ACS"),
    "K.3": (NA, "", "binds the XMPP server"),
    "L.": (NA, "", "standby (Annex L, WAKEUP): proxierd runs on an always-on host and offers "
                   "no StandbyPolicy"),
    "M.": (NA, "", "UDP lightweight notifications (Annex M) are not offered: Notification "
                   "3-6 is refused with 9003"),
    "IV.": (NA, "", "Appendix IV (UPnP IGD discovery for Annex G) is not offered"),
}

# ---- Evidence shorthands ---------------------------------------------------------------------
I_FIRST = "I:session:FirstContact::test_first_inform_has_bootstrap_boot_identity_and_forced_parameters"
I_RESTART_BOOT = "I:session:FirstContact::test_restart_sends_boot_without_bootstrap"
I_URL_BOOTSTRAP = "I:session:FirstContact::test_acs_url_change_brings_bootstrap_to_the_new_url"
I_V12 = "I:session:Negotiation::test_use_cwmp_version_12_is_honoured"
I_BADV = "I:session:Negotiation::test_version_we_did_not_offer_aborts_the_session"
I_STO = "I:session:Negotiation::test_session_timeout_header_is_offered"
I_V10 = "I:session:Negotiation::test_refused_inform_makes_the_retry_fall_back_to_cwmp_10"
I_ONLY12 = "I:session:Negotiation::test_offering_only_cwmp_12"
I_8005 = "I:session:Retries::test_8005_makes_the_cpe_resend_the_identical_inform"
I_RETRYCOUNT = "I:session:Retries::test_inform_fault_fails_the_session_and_retry_count_grows_then_resets"
I_HTTPERR = "I:session:Retries::test_http_errors_and_dropped_connections_are_retried"
I_MALFORMED = "I:session:Retries::test_malformed_acs_reply_fails_the_session"
I_DROP_EMPTY = "I:session:DroppedConnection::test_empty_post"
I_DROP_RESPONSE = "I:session:DroppedConnection::test_rpc_response"
I_DROP_FAULT = "I:session:DroppedConnection::test_fault_response"
I_DROP_REQUEST = "I:session:DroppedConnection::test_cpe_request"
I_ONECONN = "I:session:Transport::test_session_uses_one_connection_and_returns_the_cookie"
I_REDIRECT = "I:session:Transport::test_redirect_chain_is_followed_for_the_session_only"
I_HOLD = "I:session:Transport::test_hold_requests_is_honoured"
I_GZIP = "I:session:Transport::test_gzip_and_the_415_fallback"
I_DIGEST = "I:session:DigestAuth::test_digest_with_the_default_username_of_3_4_4"
I_WRONGPW = "I:session:DigestAuth::test_wrong_password_fails_and_is_retried"
I_TLS = "I:session:TLS::test_https_with_ca_verification_and_preemptive_basic"
I_TLSBAD = "I:session:TLS::test_untrusted_acs_certificate_is_refused"
I_TLS_CLOCK = "I:session:TLS::test_a_clock_not_yet_set_ignores_certificate_dates"
I_BASIC = "I:session:BasicAuth::test_basic"
I_REBOOT = "I:events:Reboot::test_reboot_after_the_session_then_boot_and_m_reboot_with_the_command_key"
I_REBOOT_AFTER = "I:events:Reboot::test_reboot_action_command_runs_after_the_session"
I_FR = "I:events:FactoryReset::test_factory_reset_forgets_acs_settings_and_bootstraps"
I_SCHED = "I:events:Scheduled::test_schedule_inform_brings_scheduled_and_its_command_key"
I_SCHED_RESTART = "I:events:Scheduled::test_a_scheduled_inform_survives_a_restart"
I_SCHED_TWO = "I:events:Scheduled::test_two_schedule_informs_give_two_m_events_and_one_scheduled"
I_PERIODIC = "I:events:Periodic::test_periodic_informs_follow_the_interval_the_acs_sets"
I_KILL9 = "I:events:Durability::test_kill_9_during_the_inform_loses_no_event"
I_ROW8 = "I:restart_policy:RestartPolicy::test_each_table_8_row_after_kill_9"
I_CR_KILL9 = "I:restart_policy:RestartPolicy::test_a_connection_request_is_not_sent_again_after_kill_9"
I_RO_CACHE = "I:restart_policy:ReadOnlyCache::test_events_the_cache_cannot_store_still_go_in_the_inform"
I_FULL_DISK = "I:storage:FullDisk::test_sessions_go_on_and_the_cache_recovers"
I_KILL9_VALUES = "I:events:Durability::test_values_set_by_the_acs_survive_kill_9"
I_FORCED_ACTIVE = "I:notify:Notifications::test_forced_active_parameter_starts_a_session_with_value_change"
I_PASSIVE = "I:notify:Notifications::test_passive_change_rides_on_the_next_inform_once"
I_PASSIVE_REBOOT = "I:notify:Notifications::test_pending_passive_change_is_discarded_on_reboot"
I_ACS_OWN = "I:notify:Notifications::test_the_acs_own_sets_cause_no_notification"
I_DURING = "I:notify:Notifications::test_change_during_a_session_waits_for_the_next_one"
I_THROTTLE = "I:notify:Notifications::test_active_notification_throttle"
I_CTL_BUSY = "I:notify:ControlSocket::test_set_is_refused_during_a_session"
I_CTL = "I:notify:ControlSocket::test_get_set_and_errors"
I_LARGE = "I:hostile:HostileACS::test_a_large_valid_request_is_accepted"
I_BADARGS = "I:hostile:BadArguments::test_known_method_with_bad_arguments_gets_9003_and_the_session_goes_on"
I_BILLION = "I:hostile:HostileACS::test_billion_laughs"
# RPC tests (tests/integration/test_rpc_*.py)
I_SPV_OK = "I:rpc_values:SetValues::test_set_applies_every_value_reads_back_and_updates_the_parameter_key"
I_SPV_EMPTY = "I:rpc_values:SetValues::test_empty_parameter_list_sets_only_the_parameter_key"
I_SPV_9007 = "I:rpc_values:SetValues::test_bad_value_is_9007_named_in_set_parameter_values_fault"
I_SPV_9006 = "I:rpc_values:SetValues::test_wrong_xsi_type_is_9006_but_xsd_string_is_tolerated"
I_SPV_RO = "I:rpc_values:SetValues::test_read_only_and_unknown_parameters"
I_SPV_ATOMIC = "I:rpc_values:SetValues::test_one_bad_entry_changes_nothing_and_every_bad_one_is_named"
I_SPV_DUP = "I:rpc_values:SetValues::test_duplicate_parameter_is_9003_and_changes_nothing"
I_SPV_PERSIST = "I:rpc_values:SetValues::test_values_and_parameter_key_survive_a_restart"
I_GPV_TYPES = "I:rpc_values:GetValues::test_full_names_carry_their_xsd_types"
I_GPV_PARTIAL = "I:rpc_values:GetValues::test_partial_path_returns_the_whole_branch_in_order"
I_GPV_EMPTYOBJ = "I:rpc_values:GetValues::test_object_without_parameters_gives_an_empty_list"
I_GPV_9005 = "I:rpc_values:GetValues::test_invalid_names_are_9005"
I_GPV_HIDDEN = "I:rpc_values:GetValues::test_hidden_parameters_read_as_empty_strings"
I_GPN_ALL = "I:rpc_names:GetNames::test_empty_path_lists_every_object_and_parameter"
I_GPN_NEXT = "I:rpc_names:GetNames::test_partial_path_with_next_level_is_the_children_only"
I_GPN_EMPTY = "I:rpc_names:GetNames::test_empty_objects"
I_GPN_WRITABLE = "I:rpc_names:GetNames::test_writable_means_add_object_for_tables_and_delete_object_for_instances"
I_GPN_9005 = "I:rpc_names:GetNames::test_invalid_paths_are_9005"
I_GPN_PARAM = "I:rpc_names:GetNames::test_full_parameter_path"
I_ATTR_012 = "I:rpc_attributes:Attributes::test_notification_values_0_1_2_are_stored_and_read_back"
I_ATTR_ACL = "I:rpc_attributes:Attributes::test_access_list_subscriber_and_the_two_change_flags"
I_ATTR_UNKNOWN = "I:rpc_attributes:Attributes::test_unknown_access_list_entities_are_ignored"
I_ATTR_RO = "I:rpc_attributes:Attributes::test_access_list_of_a_read_only_parameter_is_stored"
I_ATTR_9009 = "I:rpc_attributes:Attributes::test_active_notification_on_a_can_deny_parameter_is_9009"
I_ATTR_FORCED = "I:rpc_attributes:Attributes::test_forced_active_parameter_reads_2_whatever_is_set"
I_ATTR_LW = "I:rpc_attributes:Attributes::test_lightweight_notification_is_9003"
I_ATTR_PARTIAL = "I:rpc_attributes:Attributes::test_partial_paths_set_and_get_every_parameter_below"
I_ATTR_ORDER = "I:rpc_attributes:Attributes::test_entries_apply_in_order_later_ones_win"
I_ATTR_ATOMIC = "I:rpc_attributes:Attributes::test_one_bad_entry_changes_nothing"
I_ATTR_9005 = "I:rpc_attributes:Attributes::test_invalid_names_are_9005"
I_ATTR_PERSIST = "I:rpc_attributes:Attributes::test_attributes_survive_a_restart"
I_ADD = "I:rpc_objects:Objects::test_add_creates_a_row_with_defaults_and_updates_count_and_key"
I_ADD_DEL = "I:rpc_objects:Objects::test_new_row_is_settable_and_the_values_go_with_delete"
I_OBJ_COUNT = "I:rpc_objects:Objects::test_count_follows_adds_and_deletes"
I_OBJ_NOREUSE = "I:rpc_objects:Objects::test_instance_numbers_are_never_reused"
I_OBJ_PERSIST = "I:rpc_objects:Objects::test_instances_values_and_numbering_survive_a_restart"
I_OBJ_9005 = "I:rpc_objects:Objects::test_names_that_are_no_table_are_9005_and_change_nothing"
I_OBJ_9001 = "I:rpc_objects:Objects::test_read_only_tables_are_refused_with_9001"
I_RPCM = "I:rpc_misc:Methods::test_get_rpc_methods_lists_the_implemented_methods"
I_9000 = "I:rpc_misc:Methods::test_unknown_and_optional_methods_we_do_not_offer_are_9000"
I_TIMEOUT30 = "I:session:Timeouts::test_no_response_for_30_s_fails_the_session"
I_TRACE = "I:session:Trace::test_trace_dumps_soap_with_passwords_masked"
I_INFORMPARAM = "I:events:InformParameter::test_rows_add_parameters_to_matching_informs"

U_TABLE3 = "U:core:test_retry_ranges_follow_table_3"
U_TABLE8 = "U:core:test_event_policies_follow_table_8"
U_USER = "U:core:test_username_of_3_4_4"
U_NOTIFY_DEF = "U:notify:test_defaults_and_canDeny"
U_NOTIFY_ONCE = "U:notify:test_changes_recorded_once_and_only_with_notification"
U_NOTIFY_LATE = "U:notify:test_late_change_survives_the_confirmation"
U_HDRS = "U:http:test_request_headers"
U_REUSE = "U:http:test_connection_reused"
U_RECONNECT = "U:http:test_server_close_reconnects"
U_CLOSE = "U:http:test_free_closes_connection"
U_BASIC = "U:http:test_basic_auth"
U_MD5 = "U:http:test_digest_md5"
U_MD5SESS = "U:http:test_digest_md5_sess"
U_COOKIES = "U:http:test_cookies"
U_REDIR = "U:http:test_redirect_chain"
U_REDIR_COOKIES = "U:http:test_redirect_carries_cookies"
U_REDIR_LIMIT = "U:http:test_redirect_limit"
U_GZIP = "U:http:test_gzip_request"
U_415 = "U:http:test_gzip_415_fallback"
U_TIMEOUT = "U:http:test_timeout"
U_DROPPED = "U:http:test_dropped_post_not_resent"
U_DIGEST_CLOSE = "U:http:test_digest_challenge_then_close"
U_REFUSED = "U:http:test_connection_refused"
U_TLS_BASIC = "U:http:test_tls_preemptive_basic"
U_TLS_VERIFY = "U:http:test_tls_verifies_server"
U_TLS_CLIENT = "U:http:test_tls_client_certificate"
U_TLS_DOWNGRADE = "U:http:test_tls_no_downgrade_redirect"
U_LARGE = "U:soap:test_large_valid_envelope"
U_MANY = "U:soap:test_write_many_values"
U_INFORM = "U:soap:test_write_inform"
U_FAULTS = "U:soap:test_write_faults"
U_HEADERS = "U:soap:test_parse_headers"
U_DUP_HEADERS = "U:soap:test_parse_duplicate_headers"
I_DUP_HEADERS = "I:hostile:Headers::test_two_ids_are_a_malformed_message_that_ends_the_session"
I_MUST_UNDERSTAND = ("I:hostile:Headers::"
                     "test_unknown_must_understand_header_gets_a_must_understand_fault")
U_NAMES_NEXT = "U:dm_model:test_names_next_level"
U_NAMES_ALL = "U:dm_model:test_names_all"
U_NAMES_FAULTS = "U:dm_model:test_names_faults"
U_EXPAND = "U:dm_model:test_expand"
U_NOREUSE = "U:dm_model:test_instances_not_reused"
U_CHECKSET = "U:dm_model:test_check_set"
U_SETFAULTS = "U:dm_model:test_set_faults"
U_ADDDEL = "U:dm_model:test_add_delete"
U_NEXT_SURVIVES = "U:cache:test_instance_next_counter_survives"
U_CRASH = "U:cache:test_crash_safety_sigkill"
U_TRACE = "U:common:test_trace_masks_passwords"
I_SPV_SPANNING = "I:rpc_objects:Objects::test_set_spanning_two_providers_is_atomic"
I_64_EVENTS = "I:events:Scheduled::test_more_than_64_events_drop_the_oldest_m_events"
I_SCHED_SAME_KEY = "I:events:Scheduled::test_same_command_key_updates_the_delay"
I_IP_NO_VC = "I:events:InformParameter::test_rows_stay_out_of_a_value_change_inform"
I_MAX_ROWS = "I:events:InformParameter::test_a_table_holds_at_most_max_instances_rows"
I_CTL_ACL = "I:notify:ControlSocket::test_access_list_without_subscriber_refuses_local_sets"
I_ACL_DEFAULT = "I:rpc_attributes:Attributes::test_default_access_list_grants_subscriber"
U_LOCALTIME = "U:soap:test_helpers"
# XMPP connection requests (Annex K): tests/integration/test_connreq_xmpp.py, test_xmpp_cr.c
X_CR = "I:connreq_xmpp:ConnectionRequests::test_request_from_acs_starts_one_session"
X_AUTH = "I:connreq_xmpp:ConnectionRequests::test_wrong_credentials_are_not_authorized"
X_UNKNOWN = "I:connreq_xmpp:ConnectionRequests::test_unknown_iq_is_service_unavailable"
X_DURING = ("I:connreq_xmpp:ConnectionRequests::"
            "test_requests_during_a_session_get_one_session_after_it")
X_RATE = "I:connreq_xmpp:ConnectionRequests::test_rate_limit_is_503"
X_IGNORED = "I:connreq_xmpp:AllowedJabberIDs::test_foreign_jid_is_ignored_by_default"
X_REFUSED = ("I:connreq_xmpp:AllowedJabberIDs::"
             "test_foreign_jid_is_refused_with_503_when_configured")
X_FOREIGN_PW = ("I:connreq_xmpp:AllowedJabberIDs::"
                "test_wrong_credentials_from_a_foreign_jid_are_ignored")
X_BARE = "I:connreq_xmpp:AllowedJabberIDs::test_bare_jid_entry_matches_any_resource"
X_JID = "I:connreq_xmpp:JabberIdAndReconnect::test_jabber_id_is_reported_and_readable"
X_RESTART = "I:connreq_xmpp:JabberIdAndReconnect::test_server_restart_reconnects_with_backoff"
X_BY_ACS = "I:connreq_xmpp:ConfiguredByAcs::test_add_object_and_set_parameters"
X_BOOT_JID = "I:connreq_xmpp:BootWait::test_first_inform_carries_the_bound_jid"
X_BOOT_SILENT = "I:connreq_xmpp:BootWait::test_silent_server_delays_boot_by_boot_wait_at_most"
X_BOOT_REFUSED = "I:connreq_xmpp:BootWait::test_refused_server_ends_the_wait_at_once"
U_XMPP_JIDS = "U:xmpp_cr:test_allowed_jids"
U_XMPP_RETRY = "U:xmpp_cr:test_retry_window"
U_XMPP_REPLY = "U:xmpp_cr:test_reply_stanzas"
U_XMPP_SCHEMA = "U:xmpp_cr:test_schema_has_xmpp"
# UDP connection requests and STUN (Annex G): tests/integration/test_connreq_udp.py,
# test_udp_cr.c, test_stun.c
G_CR = "I:connreq_udp:UdpConnectionRequests::test_genieacs_request_starts_exactly_one_session"
G_ENC = "I:connreq_udp:UdpConnectionRequests::test_uppercase_signature_and_percent_encoded_username"
G_RESTART = "I:connreq_udp:UdpConnectionRequests::test_replay_is_refused_after_a_restart"
G_DURING = ("I:connreq_udp:UdpConnectionRequests::"
            "test_request_during_a_session_starts_exactly_one_after_it")
G_NAT = "I:connreq_udp:Stun::test_binding_discovery_nat_and_binding_change"
G_NONAT = "I:connreq_udp:Stun::test_no_nat_when_the_mapped_address_is_ours"
G_401 = "I:connreq_udp:Stun::test_message_integrity_after_401"
G_RTX = "I:connreq_udp:Stun::test_retransmission_when_the_server_is_silent"
U_G_VECTOR = "U:udp_cr:test_genieacs_datagram_and_vector"
U_G_REPLAY = "U:udp_cr:test_replay_rules"
U_G_SIG = "U:udp_cr:test_signature_is_case_insensitive_and_checked"
U_G_BAD = "U:udp_cr:test_malformed_datagrams"
U_G_BODY = "U:udp_cr:test_percent_decoding"
U_G_KEEP = "U:udp_cr:test_keepalive_period"
U_STUN_ATTRS = "U:stun:test_request_carries_table_107_attributes"
U_STUN_CHANGE = "U:stun:test_binding_change_only_with_crb"
G_DISCOVER = ("I:connreq_udp:BindingTimeoutDiscovery::"
              "test_discovers_the_nat_timeout_and_keeps_alive_with_it")
G_DISCOVER_401 = "I:connreq_udp:BindingTimeoutDiscovery::test_the_test_is_signed_only_after_a_401"
G_DISCOVER_RFC5389 = ("I:connreq_udp:BindingTimeoutDiscovery::"
                      "test_a_server_without_response_address_ends_the_discovery")
U_G_SEARCH = "U:udp_cr:test_binding_timeout_search"
U_G_SHRINK = "U:udp_cr:test_binding_timeout_shrinks"
U_STUN_RA = "U:stun:test_response_address"
I_KILL9_OBJECTS = "I:events:Durability::test_objects_and_attributes_survive_kill_9"
I_RETRY_CUT = "I:session:Retries::test_a_new_event_cuts_the_retry_wait_short"
I_COOKIES = "I:session:Transport::test_every_cookie_of_the_session_comes_back"
H_CR_FAILED = ("I:connreq_http:HttpConnectionRequest::"
               "test_a_failed_connection_request_session_is_not_retried_with_its_event")
H_CR_BODY = "I:connreq_http:HttpConnectionRequest::test_a_body_in_the_request_is_ignored"
T_TC_FAULTS = "I:transfer:Download::test_transfer_complete_8005_and_fault"
U_STUN_MI = "U:stun:test_message_integrity"
U_STUN_MAPPED = "U:stun:test_mapped_address"

# HTTP connection requests (3.2.2, 3.4.5): tests/integration/test_connreq_http.py,
# test_digest.c, test_connreq.c
_H = "I:connreq_http:HttpConnectionRequest::"
H_URL = _H + "test_url_is_in_the_inform_with_a_random_path"
H_PORT = _H + "test_changed_port_at_restart_is_a_value_change_and_the_path_stays"
H_CURL = _H + "test_curl_md5_gets_200_empty_and_one_connection_request_session"
H_ACS = _H + "test_acs_connection_request"
H_RAW = _H + "test_sha256_and_md5_sess_from_a_raw_client"
H_CHAL = _H + "test_default_challenge_is_one_md5_with_qop_auth"
H_GENIE = _H + "test_genieacs_style_client_succeeds_by_default"
H_URLLIB = _H + "test_urllib_digest_handler_succeeds_by_default"
H_NOT_OFFERED = _H + "test_md5_is_refused_where_only_sha256_is_offered"
H_WRONG = _H + "test_wrong_password_and_missing_auth_get_401_and_no_session"
H_REPLAY = _H + "test_replayed_authorization_is_refused"
H_URI = _H + "test_uri_must_be_the_request_uri"
H_NOUSER = _H + "test_empty_username_refuses_everything"
H_405 = _H + "test_unknown_path_404_and_post_405"
H_BURST = _H + "test_burst_of_100_during_a_session_starts_exactly_one_more"
H_DURING = _H + "test_request_during_a_session_gets_200_and_exactly_one_session_after_it"
H_TEN = _H + "test_ten_requests_within_two_seconds_are_all_answered_200"
H_FLOOD = _H + "test_a_flood_starts_a_bounded_number_of_sessions_and_warns_once"
H_RATE = _H + "test_rate_limit_burst_2"
H_OFF = _H + "test_disabled_by_the_acs_publishes_an_empty_url_and_answers_404"
H_EXACT = _H + "test_the_request_target_must_be_the_path_byte_for_byte"
H_DEADLINE = _H + "test_a_slow_request_is_closed_at_its_deadline_though_it_keeps_sending"
H_SLOW_ADDR = _H + "test_a_valid_request_gets_through_slow_clients_on_every_slot_of_its_address"
H_SLOW_ALL = _H + "test_a_valid_request_gets_through_slow_clients_on_every_slot"
U_SLOTS = "U:http_slots:test_per_address_closes_that_address_oldest_incomplete"
U_DG_VECTORS = "U:digest:test_rfc7616_md5_and_sha256_vectors"
U_DG_SESS = "U:digest:test_md5_sess_vector"
U_DG_REPLAY = "U:digest:test_nonce_count_replay_is_refused"
U_DG_OFFERED = "U:digest:test_only_offered_algorithms_are_accepted"
U_DG_MISLABEL = "U:digest:test_md5_response_named_sha256_is_refused"
U_CRQ_COALESCE = "U:connreq:test_accept_then_coalesce_while_pending"
U_CRQ_DURING = "U:connreq:test_during_a_session_one_session_follows"
U_CRQ_DEFAULTS = "U:connreq:test_defaults_accept_an_acs_and_bound_a_flood"
U_CRQ_BUCKET = "U:connreq:test_token_bucket_limits_and_refills"

# File transfers (3.4.3, A.3.2.8, A.3.3.2/3, A.4.1.5/7/8/9): tests/integration/test_transfer.py
# (a real file server, file_server.py), test_transfer.c; sources in proxier/transfer/
T_WEB = "I:transfer:Download::test_web_content_download_is_reported_in_the_next_session"
T_CFG = "I:transfer:Download::test_vendor_configuration_runs_the_config_action"
T_FAULTS = "I:transfer:Download::test_failures_have_their_a51_codes"
T_FW_BAD = "I:transfer:Download::test_a_firmware_that_fails_to_apply_is_9018"
T_REQ = "I:transfer:Download::test_request_faults"
T_TLS = "I:transfer:AuthAndTls::test_digest_over_https_with_the_acs_trust"
T_KILL9 = "I:transfer:Restart::test_kill9_mid_download_resumes_and_reports_once"
T_FW = "I:transfer:Restart::test_firmware_completion_follows_the_reboot_with_boot"
T_QUEUE = "I:transfer:Queue::test_delay_queue_states_cancel_and_9004"
T_SCHED_LATE = ("I:transfer:Schedule::"
                "test_a_download_that_outlives_its_window_is_not_applied")
T_SCHED = "I:transfer:Schedule::test_windows_modes_and_faults"
T_UPLOAD = "I:transfer:Upload::test_upload_with_basic_auth_and_its_failure"
T_LOG = "I:transfer:LogUpload::test_the_last_lines_without_passwords"
T_DEFAULT_DL = ("I:transfer:DefaultInstall::"
                "test_download_works_and_the_directory_is_created_owner_only")
T_NO_FW = "I:transfer:DefaultInstall::test_a_firmware_still_needs_an_action"
T_BACKUP = "I:transfer:ConfigBackup::test_upload_sends_the_documented_backup_of_what_was_set"
T_RESTORE = "I:transfer:ConfigBackup::test_download_of_the_backup_restores_it"
T_CORRUPT = ("I:transfer:ConfigBackup::"
             "test_a_corrupt_or_invalid_backup_fails_with_9018_and_changes_nothing")
T_OVERRIDE = "I:transfer:ConfiguredSources::test_configured_files_override_the_built_in_ones"
T_AUTO = "I:transfer:Autonomous::test_local_download_is_reported_only_when_the_policy_allows"
U_WIN_CHECK = "U:transfer:test_windows_check"
U_WIN_NEXT = "U:transfer:test_windows_next"
U_FETCH_FAULTS = "U:transfer:test_fetch_faults"
S_CONSIDER = "S:proxier/transfer/transfer.c:consider"
S_FETCHED = "S:proxier/transfer/transfer.c:on_fetched"
S_CHECK = "S:proxier/transfer/transfer.c:check_request"
S_CHECK_URL = "S:proxier/transfer/transfer.c:check_url"
S_RECOVER = "S:proxier/transfer/transfer.c:recover"
S_FILL = "S:proxier/transfer/transfer.c:fill_request"
S_APPLY = "S:proxier/transfer/transfer_apply.c:transfer_apply_start"
S_REQ_REPLY = "S:proxier/session/session.c:handle_request_reply"


def ev(*items):
    return list(items)


# ---- Per-requirement rows: id -> (status, [evidence...], note) -------------------------------
ROWS = {
    "R001": (PARTIAL, [], "HTTP/1.1 (libcurl, libmicrohttpd), SOAP 1.1 (libxml2), TLS "
             "(OpenSSL), RFC 2617/7616 digest, RFC 3489 STUN and RFC 6120 XMPP (libstrophe) are "
             "followed where we implement the feature; see the partial rows of each; DHCP "
             "references apply to a feature not offered"),
    "R013": (MET, ev(I_TLS, I_TLSBAD), "https:// URL => TLS, server verified"),
    "R014": (MET, ev(I_URL_BOOTSTRAP), "the next session goes to the URL the ACS set"),
    "R015": (MET, ev(I_CTL), "URL only from the configuration file/command line (root) or "
             "the 0600 control socket; the test checks the socket mode"),
    "R017": (PARTIAL, [], "libcurl tries the resolved addresses in resolver order (happy "
             "eyeballs), not a random pick"),
    "R018": (PARTIAL, [], "libcurl falls through to the next resolved address within one "
             "attempt; no random re-selection across sessions"),
    "R019": (UNTESTED, ev("S:proxier/session/http.c:set_http"), "libcurl's DNS cache is off "
             "(CURLOPT_DNS_CACHE_TIMEOUT 0): each new connection asks the resolver, which keeps "
             "to the TTL"),
    "R020": (PARTIAL, [], "no address affinity is stored (SHOULD)"),
    "R021": (PARTIAL, [], "no address affinity (SHOULD)"),
    "R022": (PARTIAL, [], "no address affinity (SHOULD)"),
    # 3.2.1
    "R023": (MET, ev(I_FIRST, I_RESTART_BOOT, I_PERIODIC, I_SCHED, H_CURL, I_URL_BOOTSTRAP,
                     I_FORCED_ACTIVE, I_THROTTLE, I_RETRYCOUNT, T_WEB, T_AUTO),
             "every condition, connection requests (HTTP, UDP, XMPP) and transfer "
             "completion included"),
    "R024": (MET, ev(I_PASSIVE, U_NOTIFY_ONCE), "one record per parameter (cache notify list)"),
    "R025": (MET, ev(I_THROTTLE), "DefaultActiveNotificationThrottle delays, then one session"),
    "R026": (MET, ev(T_AUTO), "ManagementServer.AutonomousTransferCompletePolicy (Enable and "
             "the three filters) decides (transfer.c policy_allows)"),
    "R027": (MET, ev(U_CLOSE), "http_conn_free closes the connection when the session ends"),
    # 3.2.1.1
    "R028": (MET, ev(I_RETRYCOUNT, I_HTTPERR), ""),
    "R029": (MET, ev(I_RETRYCOUNT), "RetryCount persisted in the cache (endpoint.c)"),
    "R030": (MET, ev(I_V10), "suspect_old_acs in session.c"),
    "R031": (MET, ev(U_TABLE3, I_RETRYCOUNT, I_RETRY_CUT), "a new event ends the wait at "
             "once (endpoint_add_event -> kick_cb)"),
    "R032": (MET, ev(U_TABLE3), "uniform random pick in the range (retry_wait_seconds)"),
    "R033": (MET, ev("I:session:Retries::test_a_reboot_resets_the_retry_wait_but_not_the_retry_count"),
             "post_boot_retries is not persisted: a restart starts from the first range, "
             "while RetryCount goes on"),
    "R034": (MET, ev(I_RETRYCOUNT, I_HTTPERR), "RetryCount in every Inform"),
    "R035": (MET, ev(U_TABLE3), "config defaults 5 and 2000, the ManagementServer factory "
             "defaults"),
    "R036": (MET, ev(U_TABLE3), "n >= 10 stays at the tenth range"),
    "R037": (MET, ev(I_RETRYCOUNT, I_HTTPERR), ""),
    "R038": (MET, ev(I_RETRYCOUNT), "RetryCount back to 0 after a successful session"),
    "R039": (UNTESTED, ev("S:proxier/session/http.c:set_http"), "no CURLOPT_LOCALPORT: the "
             "kernel picks a fresh ephemeral port for every connection"),
    "R040": (MET, ev(H_CURL, H_ACS), "HTTP listener (connreq/http_cr.c); UDP and XMPP too"),
    "R041": (MET, ev(H_PORT, H_OFF), "ConnectionRequestURL is active-notify by default: a "
             "changed URL brings 4 VALUE CHANGE"),
    # 3.2.2.1 (shown through HTTP; connreq_admit serves every transport)
    "R042": (MET, ev(H_ACS, H_CURL, H_SLOW_ADDR, H_SLOW_ALL), "any source; only the "
             "credentials count, also while slow clients hold every connection slot"),
    "R043": (MET, ev(H_RATE, H_FLOOD, U_CRQ_BUCKET, U_CRQ_DEFAULTS), "per-endpoint token "
             "bucket of the requests that start a session ([connection_request] rate_burst "
             "20, one more every rate_interval 3 s): an ACS's normal use is never refused, "
             "a flood starts at most 40 sessions in its first minute and 20 a minute after"),
    "R044": (MET, ev(H_RATE, H_FLOOD), "HTTP 503; logged at warn, rate-limited"),
    "R045": (MET, ev(H_CURL, H_ACS), "the session starts as soon as the 200 is sent"),
    "R046": (MET, ev(H_BURST, H_TEN, U_CRQ_COALESCE), "accepted, its session not yet "
             "started: coalesced"),
    "R047": (MET, ev(H_BURST, H_TEN, U_CRQ_COALESCE), "200 while the session is due (also "
             "when it is to follow a running one), no second session, no token spent"),
    "R048": (MET, ev(H_DURING), "the running session goes on"),
    "R049": (MET, ev(H_DURING, U_CRQ_DURING), "HTTP, UDP, XMPP: success and exactly one "
             "session after the running one (3.2.2.2 option (b), R062)"),
    "R050": (MET, ev(H_ACS, H_BURST, H_TEN, H_SLOW_ADDR, H_SLOW_ALL, H_DEADLINE, U_SLOTS),
             "refused only when rate-limited or offline; connection limits close the oldest "
             "incomplete connection (of the address, or of the heaviest one) instead of "
             "refusing a new one, and a request has a deadline (connection_timeout)"),
    "R051": (MET, ev(H_RATE, H_FLOOD, H_WRONG), "no session after a 503 or a 401"),
    # 3.2.2.2
    "R052": (MET, ev(H_405, H_EXACT), "binds the ACS; the listener answers other methods "
             "405, and 404 to any request-target but the path byte for byte"),
    "R053": (MET, ev(H_URL, H_PORT), "160-bit random path per endpoint, kept across restarts"),
    "R054": (MET, ev(H_CR_BODY), "a body is read and ignored"),
    "R055": (MET, ev(H_WRONG, H_REPLAY, H_URI, H_NOUSER, H_NOT_OFFERED, U_DG_REPLAY,
                     U_DG_OFFERED, U_DG_MISLABEL), "own digest verifier (connreq/digest.c): "
             "nonce MAC and expiry, nc replay, uri binding, only offered algorithms, a response "
             "hashed with another algorithm than named is refused"),
    "R056": (MET, ev(H_CURL, H_RAW), "200 with Content-Length: 0"),
    "R057": (MET, ev(H_CURL), "the session starts from MHD_OPTION_NOTIFY_COMPLETED, once "
             "the 200 is on the wire"),
    "R058": (MET, ev(H_RATE, H_FLOOD, U_CRQ_BUCKET), ""),
    "R059": (MET, ev(H_RATE), ""),
    "R060": (MET, ev(H_RATE), ""),
    "R061": (MET, ev(H_DURING), ""),
    "R062": (MET, ev(H_DURING, H_BURST), "option (b): 200 for every request, exactly one "
             "session after the running one, whatever their number"),
    "R063": (NA, [], "option (a) is not taken (R062)"),
    "R064": (MET, ev(H_DURING, H_BURST), "its event is queued when the running session has "
             "ended and its changes are applied, and the session starts at once "
             "(endpoint_add_event_after_session)"),
    # 3.3
    "R065": (UNTESTED, ev("S:proxier/session/http.c:http_set_tls"), "libcurl + OpenSSL 3 offer "
             "TLS 1.2/1.3; no test asserts the negotiated version"),
    "R066": (UNTESTED, ev("S:proxier/session/http.c:http_set_tls"), "standard ClientHello by "
             "OpenSSL; no test"),
    "R067": (MET, ev(I_TLS, U_TLS_DOWNGRADE), "HTTPS URL => TLS; no redirect to plain HTTP"),
    "R068": (MET, ev(I_FIRST), "every integration test"),
    "R069": (NA, [], "binds the ACS"),
    "R070": (MET, ev(U_TLS_VERIFY, I_TLSBAD), ""),
    "R071": (MET, ev(U_TLS_VERIFY, "I:session:TLS::test_a_certificate_for_another_host_is_refused"),
             "the CA and the host name (CURLOPT_SSL_VERIFYHOST 2, SAN before CN)"),
    "R072": (MET, ev(I_TLS), "acs.ca_file / acs.ca_path, else the system store"),
    "R073": (UNTESTED, ev("S:proxier/session/http.c:conn_redirect"), "curl verifies the host of "
             "the URL it connects to, i.e. the redirect target; no TLS-to-TLS redirect test"),
    "R074": (PARTIAL, [], "proxierd does not wait for clock synchronisation (SHOULD); it "
             "contacts the ACS at once and relies on R075"),
    "R075": (MET, ev(I_TLS_CLOCK), "while the clock is before 2026-01-01 (HTTP_CLOCK_FLOOR, "
             "the source's release) certificate dates are ignored, for sessions and file "
             "transfers; CA and host name are still checked. A clock that is wrong but later "
             "than that is trusted"),
    "R076": (NA, ev(U_TLS_CLIENT), "the client certificate (acs.client_cert) is provisioned by "
             "the operator; its CN is not ours to choose"),
    "R077": (NA, [], "as R076"),
    "R078": (NA, [], "binds the ACS"),
    "R079": (NA, [], "binds the ACS's HTTP responses"),
    # 3.4.2
    "R080": (MET, ev(U_REUSE, I_ONECONN), ""),
    "R081": (MET, ev(U_REUSE, I_ONECONN), ""),
    "R082": (MET, ev(U_RECONNECT), ""),
    "R083": (MET, ev(U_MD5), "authorised request on the challenged connection"),
    "R084": (UNTESTED, ev("S:proxier/session/http.c:set_http"), "libcurl honours "
             "'Connection: close' on a 401; the /close fixture is not combined with a challenge"),
    "R085": (MET, ev(I_HTTPERR, U_REFUSED), ""),
    "R086": (MET, ev(I_TIMEOUT30, U_TIMEOUT), "no response for 30 s fails the session; "
             "acs.timeout cannot go below 30"),
    "R087": (NA, [], "binds the ACS"),
    "R088": (MET, ev(U_COOKIES, I_ONECONN), "the test ACS flags any POST without the cookie"),
    "R089": (MET, ev(I_COOKIES), "every cookie of the session on every later POST"),
    "R090": (MET, ev(U_CLOSE), ""),
    "R091": (MET, ev(U_REDIR, I_REDIRECT), ""),
    "R092": (MET, ev(U_REDIR), "the fixture cycles 301/302/307"),
    "R093": (MET, ev(I_REDIRECT, U_REDIR), "redirect of the Inform POST and of later POSTs"),
    "R094": (MET, ev(U_REDIR, I_REDIRECT), ""),
    "R095": (MET, ev(U_REDIR), "same method and body re-sent"),
    "R096": (MET, ev(U_REDIR), "a new connection starts from the configured URL"),
    "R097": (MET, ev(I_REDIRECT), "ManagementServer.URL unchanged after the redirect"),
    "R098": (MET, ev(U_REDIR_LIMIT), "5 followed, the 6th fails"),
    "R099": (UNTESTED, ev("S:proxier/session/http.c:conn_redirect"), "as R073"),
    "R100": (MET, ev(U_REDIR), "the fixture's redirects carry a body that is ignored"),
    "R101": (MET, ev(U_REDIR_COOKIES), ""),
    "R102": (MET, ev(U_REDIR_COOKIES), "cookies copied to the new host (cookies_follow)"),
    # 3.4.4 / 3.4.5 / 3.4.6 / 3.4.7
    "R107": (NA, [], "binds the ACS"),
    "R108": (MET, ev(U_BASIC, U_MD5, I_BASIC, I_DIGEST), ""),
    "R109": (MET, ev(U_TLS_BASIC, I_TLS), "no 401 round trip over TLS"),
    "R110": (MET, ev(U_MD5), "no new challenge on the next POST"),
    "R111": (MET, ev(U_USER, I_DIGEST), "default <OUI>-<ProductClass>-<Serial>"),
    "R112": (MET, ev(U_USER, I_DIGEST), "percent-encoded as 3.4.4 asks"),
    "R113": (NA, [], "the password is provisioned (acs.password); uniqueness is the "
             "operator's"),
    "R114": (NA, [], "as R113"),
    "R115": (NA, [], "definition: the configured password is the shared secret"),
    "R116": (MET, ev(I_GPV_HIDDEN, I_TRACE, U_TRACE, I_CTL), "passwords read as \"\" (GPV, "
             "control socket), masked in the SOAP trace"),
    "R117": (MET, ev(U_MD5, H_CHAL, H_URLLIB), "qop=auth checked by the fixture; the CR "
             "listener offers and requires qop=auth"),
    "R118": (UNTESTED, ev("S:proxier/session/http.c:set_http"), "libcurl draws a new cnonce per "
             "challenge; no test compares cnonces"),
    "R119": (MET, ev(U_MD5, H_CURL, H_GENIE, H_URLLIB, U_DG_VECTORS), "client (session) and "
             "CR listener, which offers one MD5 challenge by default "
             "(connection_request.digest_algorithms; docs/operations.md says why)"),
    "R120": (MET, ev(U_MD5SESS, H_RAW, U_DG_SESS), "client (session); the CR listener when "
             "connection_request.digest_algorithms lists MD5-sess (default: MD5 alone)"),
    "R121": (MET, ev(U_REUSE), "one POST at a time per connection; CURLPIPE_NOTHING"),
    "R122": (MET, ev(U_GZIP), "gzip requests; any coding curl decodes accepted"),
    "R123": (MET, ev(U_GZIP, I_GZIP), "Content-Encoding from ManagementServer.HTTPCompression"),
    "R124": (MET, ev(U_415, I_GZIP), "the same body goes again uncompressed at once (one round "
             "trip instead of a session retry), and the endpoint sends plain messages until it "
             "restarts"),
    "R125": (MET, ev(U_LARGE, I_LARGE), ""),
    "R126": (MET, ev(U_MANY), "no response size limit"),
    "R127": (UNTESTED, ev("S:proxier/soap/soap_write.c:soap_write_inform"), "the writers emit "
             "only ID, SessionTimeout and SupportedCWMPVersions headers"),
    "R128": (MET, ev(I_HOLD, U_HEADERS), ""),
    "R129": (NA, [], "binds the ACS"),
    "R130": (MET, ev(I_STO, U_INFORM), "SessionTimeout only on the Inform, >= 30 "
             "(config_validate)"),
    "R131": (MET, ev(I_FIRST), ""),
    "R132": (MET, ev(I_ONLY12, I_V10), ""),
    "R133": (NA, [], "binds the ACS"),
    "R134": (NA, [], "binds the ACS"),
    "R135": (UNTESTED, ev("S:proxier/soap/soap_write.c:soap_write_inform"), "never written"),
    "R136": (NA, [], "binds the ACS"),
    "R137": (NA, [], "ChangeDUState is not offered (answered 9000)"),
    # 3.7
    "R151": (MET, ev(I_FIRST), "the test ACS answers 400 to a session not opened by an Inform"),
    "R152": (MET, ev(U_CLOSE), ""),
    "R153": (MET, ev(I_V12), ""),
    "R154": (MET, ev(I_BADV), "the session is aborted and retried"),
    "R155": (MET, ev(I_V10, I_ONLY12), "negotiate_version infers from the namespace (<= 1.2)"),
    "R156": (MET, ev(I_V10), "responses in the cwmp-1-0 namespace, no 1.3+ headers"),
    "R157": (MET, ev(I_RETRYCOUNT, I_BADV), ""),
    "R158": (MET, ev(I_CTL_BUSY, I_DURING, I_SPV_SPANNING), "local changes are refused while "
             "a session runs; a SetParameterValues over several providers is one transaction"),
    "R159": (MET, ev(I_DURING), ""),
    "R160": (MET, ev(I_DURING, I_CTL_BUSY), "the control socket is the only outside writer "
             "today"),
    "R161": (MET, ev(I_CTL_BUSY), ""),
    "R162": (MET, ev(I_ONECONN, I_BADARGS), "the test ACS checks the cwmp:ID and method of "
             "every response"),
    "R163": (MET, ev(T_WEB, T_UPLOAD, I_HOLD), "TransferCompletes go after the InformResponse "
             "and after each ACS exchange, one outstanding at a time, never while HoldRequests "
             "is true (session_next); the test ACS flags every Table 7 violation; no test holds "
             "a pending TransferComplete back with HoldRequests"),
    "R164": (MET, ev(I_ONECONN, I_HOLD), ""),
    "R165": (MET, ev(I_HOLD, T_WEB), "requests are collected when the Inform is built and a "
             "transfer that finishes during a session is announced after it (transfer.c "
             "announce); the test ACS flags any request after the empty POST"),
    "R166": (MET, ev(I_HOLD), "as R165"),
    "R167": (MET, ev(I_HOLD, I_ONECONN), "Table 7 as checked by the test ACS"),
    "R168": (MET, ev(I_ONECONN, I_HOLD), ""),
    "R169": (MET, ev(I_ONECONN), ""),
    "R170": (MET, ev(I_TIMEOUT30, U_TIMEOUT), "per-request timeout, 30 s by default"),
    "R171": (MET, ev(I_DROP_EMPTY, I_DROP_RESPONSE, I_DROP_FAULT, I_DROP_REQUEST, U_DROPPED,
                     U_DIGEST_CLOSE, I_TIMEOUT30),
             "a POST that gets no response, empty, response, fault or TransferComplete, is not "
             "re-sent: libcurl's own re-send on a new connection (after a reused one closed "
             "without a byte) is refused by a pre-request callback (session/http.c), only a "
             "response (401, 3xx, 415) lets the same body go again; the session fails and is "
             "retried after a Table 3 wait; also with Digest and gzip "
             "(DroppedConnectionDigestGzip)"),
    "R172": (MET, ev(I_RETRYCOUNT), ""),
    "R173": (MET, ev(I_MALFORMED, I_BILLION, I_DUP_HEADERS, U_DUP_HEADERS, I_MUST_UNDERSTAND),
             "a Table 4 header twice (two cwmp:ID) is an invalid SOAP structure; a response "
             "with an unknown mustUnderstand=\"1\" header cannot be processed (SOAP 1.1 "
             "4.2.3) and ends the session, a request with one is answered with a "
             "soap-env:MustUnderstand fault (detail 9003) and the session goes on"),
    "R174": (MET, ev(I_HTTPERR), ""),
    "R175": (MET, ev(U_BASIC, I_WRONGPW), "a 401 after authenticating ends the session"),
    "R176": (MET, ev(I_ONECONN), ""),
    "R177": (MET, ev(T_TC_FAULTS), "a fault other than 8005 to a TransferComplete skips to "
             "the next request and the session goes on; its events stay queued"),
    "R178": (MET, ev(I_REBOOT_AFTER), "Reboot/FactoryReset run after the session"),
    "R179": (MET, ev(I_HTTPERR, I_RETRYCOUNT, I_DROP_REQUEST), ""),
    # 3.7.1.5
    "R180": (MET, ev(I_KILL9, I_RETRYCOUNT, I_RO_CACHE, I_FULL_DISK), "durable queue in the "
             "cache, each event in one transaction with the state change that caused it; an "
             "event the cache cannot store (read-only, full disk) is kept in memory and still "
             "sent"),
    "R181": (MET, ev(I_FORCED_ACTIVE, I_DURING), "session_wanted starts the next session after "
             "the current one"),
    "R182": (MET, ev(I_HTTPERR), "events leave the queue only on InformResponse"),
    "R183": (MET, ev(I_HTTPERR, I_REBOOT, I_RO_CACHE), "a delivered event the "
             "cache cannot delete is hidden in memory"),
    "R184": (NA, [], "binds the ACS"),
    "R185": (MET, ev(U_TABLE8, I_ROW8), "events.c policies[], at_restart column per code"),
    "R186": (MET, ev(I_RETRYCOUNT), ""),
    "R187": (MET, ev(U_TABLE8, T_WEB, T_AUTO), "Table 8 is data (events.c); every event we "
             "produce is produced, including 7/10 confirmed by (Autonomous)TransferComplete"
             "Response; the DU ones are n/a"),
    "R188": (MET, ev(I_FIRST, I_FR, I_URL_BOOTSTRAP), "first start, factory reset, URL change"),
    "R189": (MET, ev(I_BADV, I_KILL9, U_TABLE8), "BOOTSTRAP survives failures and kill -9; the "
             "others are discarded on BOOTSTRAP (endpoint_add_event)"),
    "R190": (MET, ev(U_TABLE8, I_RESTART_BOOT, I_ROW8), "discarded_on_restart at "
             "endpoint_start"),
    "R191": (MET, ev(U_TABLE8, I_ROW8), "kept across a kill -9"),
    "R192": (MET, ev(U_TABLE8, I_ROW8), "kept across a kill -9; fired in one "
             "transaction with its M ScheduleInform"),
    "R193": (MET, ev(U_TABLE8, I_PASSIVE_REBOOT), "4 VALUE CHANGE: retried until reboot"),
    "R194": (MET, ev(U_TABLE8, H_CR_FAILED, I_CR_KILL9, I_ROW8), "dropped with "
             "its failed session and at every start (also after a kill -9); the retry does not "
             "carry it"),
    "R195": (MET, ev(U_TABLE8, T_WEB, T_KILL9), "kept until its last TransferComplete is "
             "answered (session.c request_delivered), also while an M event of a transfer "
             "that ended during the session waits; stored in the cache"),
    "R196": (NA, ev(U_TABLE8), "8 DIAGNOSTICS COMPLETE: no diagnostics are offered; policy in "
             "events.c"),
    "R197": (MET, ev(U_TABLE8, T_AUTO), "deleted only when the last AutonomousTransferComplete "
             "is answered"),
    "R198": (NA, [], "Software Module Management not offered"),
    "R199": (NA, [], "Software Module Management not offered"),
    "R200": (NA, [], "WAKEUP / StandbyPolicy not offered"),
    "R201": (MET, ev(I_REBOOT, U_TABLE8, I_ROW8), "queued in one transaction "
             "with forgetting the Reboot's CommandKey"),
    "R202": (MET, ev(I_SCHED_RESTART, U_TABLE8, I_ROW8), ""),
    "R203": (MET, ev(U_TABLE8, T_WEB, T_FAULTS), "deleted with the TransferCompleteResponse "
             "of its transfer"),
    "R204": (MET, ev(U_TABLE8, T_SCHED), "as R203"),
    "R205": (MET, ev(U_TABLE8, T_UPLOAD), "as R203"),
    "R206": (NA, [], "Software Module Management not offered"),
    "R207": (NA, [], "proxierd defines no vendor events"),
    "R208": (MET, ev(I_FIRST, I_PASSIVE), "one Inform carries every queued event"),
    "R209": (MET, ev(I_8005), "identical bytes re-sent"),
    "R210": (MET, ev(T_TC_FAULTS), "as R177: the request comes again in the next session"),
    "R211": (NA, [], "binds the ACS"), "R212": (NA, [], "binds the ACS"),
    "R213": (NA, [], "binds the ACS"), "R214": (NA, [], "binds the ACS"),
    "R215": (NA, [], "binds the ACS"), "R216": (NA, [], "binds the ACS"),
    "R217": (NA, [], "binds the ACS"), "R218": (NA, [], "binds the ACS"),
    "R219": (NA, [], "binds the ACS"),
    # A.2
    "R220": (MET, ev(U_INFORM, I_GPV_TYPES), "dateTime values in UTC with Z (except "
             "CurrentTime, see R353)"),
    "R221": (MET, ev(I_OBJ_NOREUSE, I_OBJ_PERSIST, U_NOREUSE), "numbers of deleted rows are "
             "never reused, also after a restart"),
    "R222": (MET, ev(U_NOREUSE), "the next number only grows"),
    "R223": (MET, ev(U_NEXT_SURVIVES), "instances persisted; no outside entity can renumber"),
    "R224": (MET, ev(U_NAMES_NEXT, I_GPN_WRITABLE), ""),
    "R225": (MET, ev(I_RPCM, I_FIRST), "GetRPCMethods answered; Inform sent"),
    "R226": (NA, [], "no vendor-specific methods"),
    "R227": (NA, [], "binds the ACS"),
    # A.3.2.1 SetParameterValues
    "R228": (NA, [], "binds the ACS (R229 is the CPE side)"),
    "R229": (MET, ev(I_SPV_DUP, I_SPV_EMPTY), "9003 for duplicates; empty list sets only the "
             "ParameterKey"),
    "R230": (MET, ev(I_SPV_OK, I_SPV_ATOMIC, I_SPV_DUP), ""),
    "R231": (NA, [], "Alias-Based Addressing not offered"),
    "R232": (MET, ev(I_SPV_ATOMIC, I_SPV_SPANNING), "one cache transaction over every "
             "provider's writes and the ParameterKey (setvalues.c)"),
    "R233": (MET, ev(I_SPV_9007, I_SPV_RO), ""),
    "R234": (MET, ev(I_SPV_ATOMIC, I_SPV_SPANNING), "a refusal by any provider rolls every "
             "write back"),
    "R235": (MET, ev(I_KILL9_VALUES, U_CRASH), "values and ParameterKey commit in one "
             "transaction; a crash leaves all or nothing"),
    "R236": (UNTESTED, ev("S:proxier/core/setvalues.c:setvalues_add"), "every value "
             "is checked before any is applied; no order dependence; no test permutes"),
    "R237": (MET, ev(I_SPV_OK), "Status 0: applied before the response"),
    "R238": (NA, [], "no change needs the session to end: Status is always 0"),
    "R239": (MET, ev(I_SPV_OK), "read back in the same session"),
    "R240": (NA, [], "no parameter needs a reboot"),
    "R241": (NA, [], "binds the ACS"),
    "R242": (MET, ev(I_SPV_PERSIST, I_KILL9_VALUES), ""),
    "R243": (MET, ev(I_GPV_9005), "\"device.DeviceInfo.UpTime\" is 9005"),
    "R244": (UNTESTED, ev("S:proxier/dm/dm_type.c:dm_value_check"), "string values stored as "
             "given; enumerations compared with strcmp; no test"),
    "R245": (MET, ev(I_SPV_RO, U_CHECKSET), "InformParameter.77.Enable is 9005"),
    "R246": (NA, [], "Alias-Based Addressing not offered"),
    "R247": (MET, ev(I_SPV_9007), "type, range, enumeration and size checks"),
    "R248": (MET, ev(I_SPV_9007, I_SPV_ATOMIC), "one SetParameterValuesFault per parameter"),
    "R249": (UNTESTED, ev("S:proxier/dm/dm_request.c:dm_check_set"), "only the schema's type, "
             "range and access are checked"),
    # A.3.2.2 / A.3.2.3
    "R250": (MET, ev(I_GPV_EMPTYOBJ, I_GPV_PARTIAL), "a partial path with nothing below is an "
             "empty list"),
    "R251": (MET, ev(I_GPV_9005, U_EXPAND), ""),
    "R252": (MET, ev(I_GPN_NEXT, I_GPN_ALL, U_NAMES_NEXT), ""),
    "R253": (MET, ev(I_GPN_EMPTY, U_NAMES_NEXT), ""),
    "R254": (MET, ev(I_GPN_WRITABLE, U_NAMES_ALL), ""),
    "R255": (MET, ev(I_GPN_9005, U_NAMES_FAULTS), ""),
    "R256": (MET, ev(U_NAMES_FAULTS, I_GPN_PARAM), "NextLevel true on a parameter is 9003"),
    # A.3.2.4 / A.3.2.5
    "R257": (MET, ev(I_ATTR_012, I_ATTR_ATOMIC), "one cache transaction"),
    "R258": (MET, ev(I_ATTR_ATOMIC, I_ATTR_9005), ""),
    "R259": (MET, ev(I_ATTR_ATOMIC), ""),
    "R260": (MET, ev(I_KILL9_OBJECTS, U_CRASH), "one SQLite transaction, committed before the "
             "response"),
    "R261": (MET, ev(I_ATTR_ORDER), ""),
    "R262": (MET, ev(I_ATTR_PERSIST), ""),
    "R263": (NA, [], "Alias-Based Addressing not offered"),
    "R264": (UNTESTED, ev("S:proxier/core/notify.c:notify_attr_set"), "only "
             "rpc_set_parameter_attributes writes attributes; the control socket has no "
             "attribute command"),
    "R265": (MET, ev(I_PASSIVE), "1 = passive"),
    "R266": (MET, ev(I_THROTTLE, I_FORCED_ACTIVE), "2 = active"),
    "R267": (NA, [], "lightweight notification not offered (3-6 refused with 9003)"),
    "R268": (NA, [], "lightweight notification not offered"),
    "R269": (UNTESTED, ev("S:proxier/rpc/rpc_objects.c:delete_done"), "a deleted object's "
             "parameters are dropped, never reported as changed"),
    "R270": (MET, ev(I_ATTR_9009, U_NOTIFY_DEF), "passive accepted even on canDeny parameters"),
    "R271": (NA, [], "lightweight notification not offered"),
    "R272": (MET, ev(I_ATTR_ACL, I_ATTR_UNKNOWN), "\"Subscriber\" kept, other entities ignored "
             "(join_access)"),
    "R273": (MET, ev(I_ATTR_RO), ""),
    "R274": (MET, ev(I_ATTR_RO, I_ATTR_ACL), ""),
    "R275": (MET, ev(I_ATTR_9009, U_NOTIFY_DEF), ""),
    "R276": (MET, ev(I_ATTR_9009), "partial path over a canDeny parameter refused"),
    "R277": (MET, ev(I_ATTR_LW, U_NOTIFY_DEF), ""),
    "R278": (MET, ev(I_ATTR_PARTIAL), "empty list for a partial path with nothing below"),
    "R279": (MET, ev(I_PASSIVE), "as R265"),
    "R280": (MET, ev(I_THROTTLE), "as R266"),
    "R281": (NA, [], "lightweight notification not offered"),
    "R282": (NA, [], "lightweight notification not offered"),
    "R283": (NA, [], "describes AccessList entities (binds the ACS / vendors)"),
    # A.3.2.6 AddObject
    "R284": (NA, [], "Alias-Based Addressing not offered"),
    "R285": (NA, [], "Alias-Based Addressing not offered (InformParameter rows still get "
             "Alias cpe-<n>)"),
    "R286": (MET, ev(I_OBJ_9005, I_OBJ_9001, U_ADDDEL), "9005 / 9001, nothing changed"),
    "R287": (MET, ev(I_ADD), "the row comes with all its parameters (defaults)"),
    "R288": (MET, ev(I_KILL9_OBJECTS), "one SQLite transaction, committed before the "
             "response"),
    "R289": (MET, ev(I_ADD), "Status 0"),
    "R290": (NA, [], "never deferred: Status is always 0"),
    "R291": (MET, ev(I_ADD, I_ADD_DEL), "read, set and deleted in the same session"),
    "R292": (MET, ev(I_ADD_DEL), "SPV/SPA/GPV on the new row"),
    "R293": (NA, [], "no object creation needs a reboot"),
    "R294": (NA, [], "binds the ACS"),
    "R295": (MET, ev(I_OBJ_PERSIST), ""),
    "R296": (MET, ev(I_OBJ_9005), "a path without the final dot is 9005 "
             "(check_object_name)"),
    "R297": (MET, ev(I_ADD, I_OBJ_9005), "key set on success only"),
    "R298": (MET, ev(I_MAX_ROWS, I_OBJ_NOREUSE), "cwmp.max_instances rows per table "
             "(default 256), 9004 beyond"),
    "R299": (NA, [], "Alias-Based Addressing not offered"),
    # A.3.2.7 DeleteObject
    "R300": (MET, ev(I_ADD_DEL), "values and attributes gone; every RPC on the row is 9005"),
    "R301": (MET, ev(I_ADD_DEL), "Status 0"),
    "R302": (NA, [], "never deferred"),
    "R303": (MET, ev(I_ADD_DEL, I_OBJ_COUNT), ""),
    "R304": (NA, [], "no deletion needs a reboot"),
    "R305": (NA, [], "binds the ACS"),
    "R306": (MET, ev(I_OBJ_9005, I_OBJ_9001), ""),
    "R307": (MET, ev(I_ADD_DEL), "the whole instance goes"),
    "R308": (MET, ev(I_KILL9_OBJECTS), "one transaction, committed before the response"),
    "R309": (MET, ev(I_OBJ_PERSIST), "a deleted row stays deleted after a restart"),
    "R310": (MET, ev(I_ADD_DEL), "key del-1 set; a failed DeleteObject leaves it"),
    "R311": (MET, ev(I_OBJ_9005, U_ADDDEL), ""),
    # 3.4.3 File Transfers
    "R103": (MET, ev("I:transfer:Download::test_a_file_on_the_acs_host_comes_over_a_second_connection"),
             "option 2: every transfer has its own curl handle and connection while the "
             "session keeps its own (a session's connection cache is private, CURLOPT_SHARE)"),
    "R104": (MET, ev(T_TLS), "HTTPS with the [acs] CA settings, host name verified"),
    "R105": (MET, ev(T_TLS), "https:// => TLS; no redirect from HTTPS to HTTP "
             "(CURLOPT_REDIR_PROTOCOLS_STR)"),
    "R106": (MET, ev(T_TLS, T_UPLOAD), "the server's challenge picks: Digest (download), Basic "
             "(upload)"),
    # A.3.2.8 Download
    "R312": (MET, ev(T_WEB, T_FAULTS), "Status 1 in the DownloadResponse, then TransferComplete"),
    "R313": (MET, ev(T_CFG, T_FW_BAD, T_FW, T_RESTORE, T_CORRUPT), "success only after the "
             "apply action exited 0 (firmware: after the reboot), the file was stored, or a "
             "configuration backup (no config_action) was restored and committed"),
    "R314": (MET, ev(T_CFG, T_FW_BAD, T_RESTORE, T_CORRUPT), "the configured action is the "
             "criterion: exit 0 = in use; non-zero = 9018; the built-in restore: committed = in "
             "use, refused (checked whole first, all or nothing) = 9018"),
    "R315": (MET, ev(T_FW), "a firmware is reported after the reboot, with 1 BOOT"),
    "R316": (PARTIAL, ev(T_FW), "the TransferComplete goes in the first session after the "
             "reboot, but SoftwareVersion is the restarted daemon's [device] software_version: "
             "it shows the new image only if the image brings that configuration (see the gaps)"),
    "R317": (MET, ev(T_FAULTS, T_FW_BAD, T_CORRUPT), "each failure is reported once with its A.5.1 code, "
             "never retried (a restart mid-transfer starts it again within its hour, R337)"),
    "R318": (MET, ev(T_QUEUE), "every request is queued with its own time"),
    "R319": (MET, ev(T_KILL9, T_SCHED), "rows in the cache (schema v2) from the request to the "
             "TransferCompleteResponse"),
    "R320": (MET, ev(T_QUEUE), "[transfer] max_queue (3..1000, default 8): the test queues 3 "
             "and gets 9004 for the 4th"),
    "R321": (MET, ev(T_WEB, T_FAULTS), "one TransferComplete per transfer, each once"),
    "R322": (MET, ev(T_RESTORE), "a restored configuration backup is committed to the cache "
             "in one transaction (the test reads the cache file and restarts); a config_action "
             "owns the persistence of what it applies; stored types stay in [transfer] dir"),
    "R323": (NA, [], "binds whoever defines a vendor FileType"),
    "R324": (MET, ev(T_FW, T_FW_BAD), "the domain-name half binds the FileType's definer; "
             "\"1 Firmware Upgrade Image\" is accepted when [transfer] firmware_action is set "
             "(9003 otherwise: firmware downloads are then not supported)"),
    "R325": (NA, [], "binds the ACS / the vendor (one URL per firmware is what we accept)"),
    "R326": (MET, ev(T_WEB), "\"2 Web Content\" is stored under its TargetFileName"),
    "R327": (MET, ev(T_TLS), "each request fetches again (no cache): two Downloads of one URL "
             "are two GETs; only http and https are offered (9013)"),
    "R328": (MET, ev(T_CFG, T_FAULTS), "FileSize 0 means no limit is assumed"),
    "R329": (MET, ev(T_CFG), "FileSize 0: fetched up to [transfer] max_file_size"),
    "R330": (UNTESTED, ev(S_FETCHED), "a wrong FileSize is logged, never a failure; no test "
             "sends a wrong one"),
    "R331": (UNTESTED, ev("S:proxier/transfer/transfer.c:target_name"), "we never take a name "
             "from the file: TargetFileName, else the URL's last segment, is used for stored "
             "types; action types ignore it"),
    "R332": (MET, ev(T_QUEUE), "a non-zero DelaySeconds never starts in the requesting session "
             "and starts at its time"),
    "R333": (UNTESTED, ev(S_CONSIDER), "not begun within an hour of its time => failed, "
             "reported with 9010; no test waits an hour"),
    "R334": (UNTESTED, ev(S_FETCHED), "the apply starts as soon as the fetch completes"),
    "R335": (UNTESTED, ev(S_FETCHED), "as R334 (the Multicast half is n/a: only http/https)"),
    "R336": (NA, [], "Multicast downloads are not offered (only http/https; others are 9013)"),
    "R337": (MET, ev(T_KILL9, T_SCHED), "the Multicast half is n/a; a queued or interrupted "
             "transfer is taken up again after a restart (transfer.c recover)"),
    "R338": (NA, [], "SuccessURL: downloads are never initiated by a browser here"),
    "R339": (NA, [], "as R338"),
    "R340": (NA, [], "FailureURL: as R338"),
    "R341": (NA, [], "as R338"),
    "R342": (MET, ev(T_WEB), "Status is always 1: a TransferComplete follows"),
    "R343": (MET, ev(T_QUEUE), "9004"),
    "R344": (MET, ev(T_REQ), "userinfo in the URL => 9003"),
    "R345": (MET, ev(T_REQ), "a FileSize beyond [transfer] max_file_size (the space we give "
             "to downloads; free disk space is not looked at) => 9010"),
    # A.3.3.2 TransferComplete / A.3.3.3 AutonomousTransferComplete
    "R358": (MET, ev(T_TC_FAULTS, "S:proxier/transfer/transfer.c:delivered"), "the row and "
             "the event stay until the matching response: 8005 re-sends the identical request, "
             "another fault leaves it for the next session"),
    "R359": (MET, ev(T_WEB, T_FAULTS), "StartTime recorded when the transfer starts; the "
             "Unknown Time if it never started"),
    "R360": (MET, ev(T_WEB), "CompleteTime recorded at the outcome"),
    "R361": (UNTESTED, ev(S_REQ_REPLY), "as R358 (the same code path; the test faults a "
             "TransferComplete, not an AutonomousTransferComplete)"),
    "R362": (NA, [], "binds whoever defines a vendor FileType"),
    "R363": (UNTESTED, ev(S_FILL), "StartTime recorded as for TransferComplete; the "
             "autonomous test does not look at it"),
    "R364": (UNTESTED, ev(S_FILL), "as R363, CompleteTime"),
    # A.4.1.5 Upload
    "R370": (MET, ev(T_UPLOAD), "a refused upload is reported (9012), not retried"),
    "R371": (MET, ev(T_UPLOAD, T_QUEUE), "one queue for every kind of transfer"),
    "R372": (UNTESTED, ev(S_RECOVER), "uploads are rows like downloads; only downloads are "
             "restarted in a test"),
    "R373": (MET, ev(T_QUEUE), "one queue, max_queue counts uploads too"),
    "R374": (MET, ev(T_UPLOAD), ""),
    "R375": (NA, [], "binds whoever defines a vendor FileType"),
    "R376": (MET, ev(T_UPLOAD, T_LOG, T_BACKUP), "HTTP PUT of the configured file, or of the "
             "built-in one (a configuration backup, the log ring); the file server records it"),
    "R377": (UNTESTED, ev(S_CONSIDER), "same scheduling as Download (R332); no test delays "
             "an upload"),
    "R378": (UNTESTED, ev(S_CONSIDER, S_RECOVER), "reported as failed with 9011; no test "
             "waits out the hour"),
    "R379": (MET, ev(T_UPLOAD), "Status is always 1: a TransferComplete follows"),
    "R380": (UNTESTED, ev(S_CHECK), "the queue check Download uses (tested there, R343)"),
    "R381": (UNTESTED, ev(S_CHECK_URL), "the URL check Download uses (tested there, R344)"),
    # A.4.1.7 GetAllQueuedTransfers
    "R383": (NA, [], "binds whoever defines a vendor FileType"),
    # A.4.1.8 ScheduleDownload
    "R384": (MET, ev(U_WIN_NEXT, U_WIN_CHECK), "the second window is used when the first "
             "is missed"),
    "R385": (MET, ev(T_SCHED), "a completion is announced only when no session runs, so its "
             "TransferComplete is in a later session"),
    "R386": (MET, ev(T_SCHED), "same apply as Download (R313)"),
    "R387": (MET, ev(T_SCHED), "as R314"),
    "R388": (UNTESTED, ev("S:proxier/transfer/transfer.c:complete_after_reboot"), "same "
             "firmware path as Download (R315); no ScheduleDownload of a firmware is tested"),
    "R389": (PARTIAL, ev("S:proxier/transfer/transfer.c:complete_after_reboot"), "as R316 "
             "(same firmware path; no ScheduleDownload of a firmware is tested)"),
    "R390": (MET, ev(T_SCHED), "no usable window => 9020, reported; MaxRetries is not used "
             "(no retries, which every value permits)"),
    "R391": (MET, ev(T_SCHED), "each request keeps its own windows"),
    "R392": (MET, ev(T_SCHED), "rows in the cache: the test stops the daemon while "
             "ScheduleDownloads wait for their windows and they run after the restart"),
    "R393": (MET, ev(T_QUEUE), "one queue for every kind of transfer"),
    "R394": (MET, ev(T_SCHED), ""),
    "R395": (UNTESTED, ev(S_APPLY), "as R322"),
    "R396": (MET, ev(T_SCHED_LATE, U_WIN_NEXT), "started only inside a window; a fetch that "
             "outlasts its window is not applied (9020)"),
    "R397": (NA, [], "binds whoever defines a vendor FileType"),
    "R398": (UNTESTED, ev("S:proxier/transfer/transfer_apply.c:transfer_apply_supported"),
             "the domain-name half binds the definer; \"1 Firmware Upgrade Image\" is accepted "
             "with firmware_action set; no test schedules one"),
    "R399": (NA, [], "binds the ACS / the vendor"),
    "R400": (MET, ev(T_SCHED), "\"2 Web Content\" is stored (the test's ScheduleDownloads)"),
    "R401": (UNTESTED, ev("S:proxier/transfer/transfer.c:start"), "each transfer fetches "
             "again, as for Download (R327)"),
    "R402": (MET, ev(T_SCHED), "FileSize 0 in the test's requests"),
    "R403": (MET, ev(T_SCHED), "as R329"),
    "R404": (UNTESTED, ev(S_FETCHED), "as R330"),
    "R405": (MET, ev(T_SCHED, T_SCHED_LATE, U_WIN_NEXT), "performed and applied inside a "
             "window"),
    "R406": (MET, ev(T_SCHED, U_WIN_CHECK), "one or two windows accepted; overlapping, "
             "backwards or zero windows => 9003"),
    "R407": (NA, [], "binds whoever defines a vendor WindowMode"),
    "R408": (NA, [], "binds whoever defines a vendor WindowMode"),
    "R409": (MET, ev(U_WIN_CHECK, T_SCHED), "\"1 At Any Time\": starts at the window's start"),
    "R410": (MET, ev(T_SCHED), "\"2 Immediately\": started at the window's start"),
    "R411": (MET, ev(T_SCHED, U_WIN_NEXT), "\"3 When Idle\" is supported; idle means no CWMP "
             "session runs, the only activity proxierd knows of (see the gaps)"),
    "R412": (NA, ev(T_SCHED), "the optional \"4 Confirmation Needed\" is not offered "
             "(no user to ask): refused with 9003 as R415 says"),
    "R413": (UNTESTED, ev("S:proxier/transfer/transfer_windows.c:transfer_windows_format"),
             "UserMessage is never used (not even stored)"),
    "R414": (UNTESTED, ev(S_CHECK), "the queue check Download uses (tested there, R343)"),
    "R415": (MET, ev(T_SCHED, U_WIN_CHECK, T_REQ), "unsupported mode, overlap, zero windows "
             "=> 9003 (userinfo: the URL check of Download)"),
    "R416": (UNTESTED, ev(S_CHECK), "the FileSize check Download uses (tested there, R345)"),
    # A.4.1.9 CancelTransfer
    "R417": (MET, ev(T_QUEUE), "a running transfer => 9021; a queued one is removed and never "
             "reported"),
    "R418": (UNTESTED, ev("S:proxier/transfer/transfer.c:transfer_queue_cancel"), "every "
             "matching queued transfer is cancelled, 9021 if one of them runs or is done; the "
             "test's CommandKeys are all different"),
    # A.3.2.9 Reboot
    "R346": (MET, ev(I_REBOOT_AFTER), ""),
    "R347": (NA, [], "no configuration change needs a reboot"),
    "R348": (NA, [], "binds the ACS"),
    "R349": (PARTIAL, ev(I_REBOOT_AFTER), "true with one endpoint; main.c hook_reboot stops the "
             "loop at once, without waiting for other endpoints' sessions (Virtual Devices)"),
    # A.3.3.1 Inform
    "R350": (MET, ev(I_FIRST), ""),
    "R351": (MET, ev(I_FIRST, I_SCHED_TWO), ""),
    "R352": (MET, ev(I_64_EVENTS), "the oldest M events leave the queue (session.c "
             "drop_excess_events)"),
    "R353": (MET, ev(U_LOCALTIME, U_INFORM), "soap_format_local_time: local time with the "
             "offset, daylight saving included"),
    "R354": (MET, ev(I_FIRST, I_PASSIVE, I_FORCED_ACTIVE), ""),
    "R355": (UNTESTED, ev("S:proxier/core/notify.c:on_change"), "the record is per parameter, "
             "whatever the value; no test changes a value back"),
    "R356": (MET, ev(I_PASSIVE_REBOOT), "pending list and 4 VALUE CHANGE discarded together"),
    "R357": (MET, ev(I_FIRST, I_PASSIVE, I_INFORMPARAM, I_IP_NO_VC), "InformParameter rows "
             "stay out of an Inform carrying 4 VALUE CHANGE"),
    # A.4.1.2 ScheduleInform
    "R365": (MET, ev(I_SCHED_TWO), ""),
    "R366": (MET, ev(I_SCHED_RESTART), ""),
    "R367": (UNTESTED, ev("S:proxier/core/endpoint.c:endpoint_schedule_inform"), "unbounded "
             "list; tests queue two"),
    "R368": (MET, ev(I_SCHED_SAME_KEY), "the queued entry's time is replaced"),
    # A.4.1.6 FactoryReset
    "R382": (MET, ev(I_FR), "after the session, then BOOTSTRAP"),
    # L: the one negative requirement we do meet
    "R598": (UNTESTED, ev("S:proxier/core/events.c:events_policy"), "proxierd never issues "
             "13 WAKEUP"),
    "R594": (NA, [], "standby not offered"),
    # K XMPP Connection Requests
    "R568": (MET, ev(X_CR, X_JID), "STARTTLS (certificate checked against the CA file and "
             "the JID domain), SASL, resource bind (xmpp_thread.c)"),
    "R569": (MET, ev(X_CR, X_IGNORED, X_RESTART), "one stream per endpoint, whitespace "
             "keepalive, reconnect with back-off"),
    "R570": (MET, ev(U_XMPP_SCHEMA, X_JID, X_BY_ACS), "XMPPBasic:1 and XMPPConnReq:1 "
             "parameters: Device.XMPP.Connection.{i}. and the ManagementServer ConnReq* ones"),
    "R571": (MET, ev(X_BY_ACS, X_CR), "only the row ConnReqXMPPConnection names is connected; "
             "disabling it ends the stream"),
    "R572": (MET, ev(X_JID, X_RESTART, U_XMPP_RETRY), "ConnReqJabberID = bound JID; "
             "whitespace keepalive every KeepAliveInterval; reconnect per Appendix III.4.5"),
    "R573": (MET, ev(X_BOOT_JID, X_BOOT_SILENT, X_BOOT_REFUSED), "the BOOT session waits for "
             "the stream ([xmpp] boot_wait, at most; not when the server refuses), so a changed "
             "ConnReqJabberID rides on the BOOT Inform as 4 VALUE CHANGE"),
    "R574": (MET, ev(X_CR), "TLS is negotiated whenever the server offers it and required "
             "with UseTLS (the [xmpp] default); requests over a stream without TLS are refused"),
    "R575": (MET, ev(X_CR), "SASL (SCRAM-SHA-1 with Prosody) before any request is accepted"),
    "R576": (MET, ev(X_IGNORED, X_BARE, U_XMPP_JIDS), "ConnReqAllowedJabberIDs: bare entry = "
             "any resource, full entry = exact, local part and domain case-insensitive"),
    "R577": (UNTESTED, ev("S:proxier/connreq/connreq.c:connreq_start"), "every transport of "
             "transports[] runs side by side"),
    "R578": (MET, ev(X_AUTH, X_IGNORED, X_FOREIGN_PW), "JID, TLS, username and password "
             "checked on the loop before connreq_admit"),
    "R579": (MET, ev(X_CR), "6 CONNECTION REQUEST session, one per accepted request"),
    "R580": (MET, ev(X_RATE), "connreq_admit's token bucket"),
    "R581": (MET, ev(X_RATE), "error code 503 service-unavailable, Figure 21"),
    "R582": (MET, ev(X_DURING), "the running session goes on"),
    "R583": (MET, ev(X_DURING), "the first alternative: an empty result for every request "
             "and exactly one session after the running one"),
    "R584": (MET, ev(X_DURING), "the session after starts as soon as the running one ended"),
    "R585": (MET, ev(X_IGNORED, X_FOREIGN_PW, X_REFUSED), "a request from a JID not allowed or "
             "over a stream without TLS gets no reply and starts nothing ([xmpp] "
             "ignore_unauthorized_jids, default true; false answers 503 service-unavailable); "
             "an allowed JID with wrong credentials gets not-authorized (R591)"),
    "R590": (MET, ev(X_UNKNOWN, U_XMPP_REPLY), "other IQ get/set: service-unavailable"),
    "R591": (MET, ev(X_AUTH, U_XMPP_REPLY), "Figure 22, no code attribute, request echoed"),
    # G UDP Connection Requests and STUN
    "R481": (MET, ev(G_NAT, G_NONAT), "STUN Binding Requests tell whether a NAT maps us "
             "(NATDetected)"),
    "R482": (MET, ev(G_NAT), "keep-alive Binding Requests from the connection-request port"),
    "R483": (MET, ev(G_NAT), "MAPPED-ADDRESS becomes UDPConnectionRequestAddress (value change "
             "reported) and is announced with BINDING-CHANGE"),
    "R484": (PARTIAL, ev(G_NAT), "UDPConnReq:1 parameters are served; "
             "UDPConnectionRequestAddressNotificationLimit is not in the gateway schema"),
    "R485": (MET, ev(G_NAT, G_NONAT), "RFC 3489 Binding Requests while STUNEnable is true"),
    "R486": (MET, ev(G_NAT), "the duties listed below"),
    "R487": (MET, ev(G_NAT), "STUNServerAddress:STUNServerPort, else the ACS URL's host "
             "(resolved with evdns)"),
    "R488": (MET, ev(G_NAT), "every Binding Request leaves the connection-request socket"),
    "R489": (MET, ev(G_NAT), "the mapped address of the latest Binding Response is kept"),
    "R490": (MET, ev(G_NAT), "each keep-alive response is compared again"),
    "R491": (MET, ev(G_401, U_STUN_MI), "after a 401, one retry with USERNAME and "
             "MESSAGE-INTEGRITY (key STUNPassword)"),
    "R492": (MET, ev(G_401, U_STUN_MI), "responses to a signed request without valid "
             "integrity are discarded"),
    "R493": (PARTIAL, ev("S:proxier/connreq/udp_cr.c:local_address"), "the local address is "
             "determined when STUN is (re)configured; a later change of it is only seen at the "
             "next keep-alive's mapped address, and NATDetected compares with the old one"),
    "R494": (MET, ev(G_NAT, G_401), "integrity only in the retry after a 401"),
    "R495": (MET, ev(G_NAT, U_G_KEEP), "keep-alive from the connection-request port"),
    "R496": (MET, ev(U_G_KEEP), "the period is never below STUNMinimumKeepAlivePeriod"),
    "R497": (MET, ev(U_G_KEEP, G_NAT), "STUNMaximumKeepAlivePeriod when set"),
    "R498": (MET, ev(G_DISCOVER, U_G_SEARCH, G_NAT), "discovery from a secondary port when "
             "the minimum and maximum keep-alive periods differ; none when they are equal"),
    "R499": (MET, ev(G_DISCOVER, U_G_SEARCH, U_G_SHRINK), "doubling from the minimum, then "
             "halving the gap; re-tested every 10 keep-alives"),
    "R500": (MET, ev(G_DISCOVER, G_DISCOVER_401, G_DISCOVER_RFC5389, U_STUN_RA),
             "RESPONSE-ADDRESS = the primary's mapped address; a server that ignores it ends "
             "the discovery"),
    "R501": (MET, ev(G_NAT), "both: Table 107 attributes and UDPConnectionRequestAddress"),
    "R502": (MET, ev(U_STUN_ATTRS, G_NAT), "exact 20-byte value"),
    "R503": (MET, ev(U_STUN_ATTRS, G_NAT), "in every request (all leave the primary port)"),
    "R504": (MET, ev(G_DISCOVER, G_DISCOVER_401, U_STUN_RA), "the discovery's tests from the "
             "secondary port carry no 0xC001 (the encoder refuses it with RESPONSE-ADDRESS)"),
    "R505": (MET, ev(U_STUN_ATTRS, G_NAT), "USERNAME = STUNUsername padded with spaces"),
    "R506": (MET, ev(G_NAT), "first binding and every change: an immediate request with "
             "BINDING-CHANGE"),
    "R507": (MET, ev(G_NAT, U_STUN_CHANGE), "only in that request"),
    "R508": (MET, ev(G_RTX), "RFC 3489 9.3 retransmission: 100 ms doubling to 1.6 s, 9.5 s"),
    "R509": (UNTESTED, ev("S:proxier/connreq/udp_cr.c:timer_cb"), "a failed BINDING-CHANGE "
             "request is not repeated until the binding changes again"),
    "R510": (MET, ev(G_NAT), "UDPConnectionRequestAddress follows the mapped address"),
    "R511": (MET, ev(G_NAT, G_401), "NATDetected true when the mapped address or port "
             "differs from the socket's"),
    "R512": (MET, ev(G_NAT), "a change is reported with dm_value_changed: active "
             "notification gives a 4 VALUE CHANGE Inform carrying it"),
    "R513": (MET, ev(G_NONAT, G_CR), "NATDetected false and the local address:port"),
    "R514": (MET, ev(G_CR), "[connection_request] udp_port (default: the number of port)"),
    "R515": (MET, ev(G_CR, G_NAT), "the listener runs whether or not STUN is enabled"),
    "R516": (UNTESTED, ev("S:proxier/connreq/connreq.c:connreq_start"), "every transport of "
             "transports[] runs side by side"),
    "R517": (MET, ev(G_CR, U_G_BAD, U_G_SIG), "parsed strictly, then validated and "
             "authenticated per endpoint"),
    "R518": (MET, ev(G_RESTART, U_G_REPLAY), "ts and id of the last accepted request are kept "
             "in the cache, also across restarts"),
    "R519": (NA, [], "the record is kept across reboots (G.2.1.4 MAY)"),
    "R520": (NA, [], "no time window is enforced"),
    "R521": (MET, ev(U_G_VECTOR, U_G_SIG, G_CR), "HMAC-SHA1 over ts|id|un|cn keyed with "
             "ConnectionRequestPassword, constant-time, hex case-insensitive"),
    "R522": (MET, ev(G_CR, G_DURING), "connreq_admit; no reply in any case"),
    "R523": (MET, ev(G_CR, U_G_BAD), "dropped silently (debug log); ts recorded only when "
             "accepted"),
    "R524": (MET, ev(U_G_BODY), "anything after the header section is ignored"),
    "R525": (MET, ev(G_CR), "first byte 0/1 = STUN, a letter = a request"),
}

# Requirements in "not yet"/n/a sections that bind someone else.
ACS_SIDE = {
    "R586": "binds the ACS", "R587": "binds the ACS", "R588": "binds the ACS",
    "R589": "binds the XMPP server", "R592": "binds the XMPP server", "R606": "binds the ACS",
}

TABLE5 = [
    # (method, CPE requirement, our status, evidence, note)
    ("GetRPCMethods", "REQUIRED", MET, [I_RPCM], "rpc.c handle_get_rpc_methods lists the methods "
     "with a handler"),
    ("SetParameterValues", "REQUIRED", MET, [I_SPV_OK, I_SPV_ATOMIC, I_SPV_SPANNING],
     "atomic across providers"),
    ("GetParameterValues", "REQUIRED", MET, [I_GPV_TYPES, I_GPV_9005], ""),
    ("GetParameterNames", "REQUIRED", MET, [I_GPN_ALL, I_GPN_9005], ""),
    ("SetParameterAttributes", "REQUIRED", MET, [I_ATTR_012, I_ATTR_ATOMIC], ""),
    ("GetParameterAttributes", "REQUIRED", MET, [I_ATTR_012, I_ATTR_PARTIAL], ""),
    ("AddObject", "REQUIRED", MET, [I_ADD, I_OBJ_9005, I_OBJ_PERSIST], ""),
    ("DeleteObject", "REQUIRED", MET, [I_ADD_DEL, I_OBJ_9005], ""),
    ("Reboot", "REQUIRED", MET, [I_REBOOT, I_REBOOT_AFTER], ""),
    ("Download", "REQUIRED if downloads are supported", MET,
     [T_WEB, T_REQ, T_FAULTS, T_DEFAULT_DL, T_RESTORE, T_NO_FW],
     "rpc_transfer.c on the queue of proxier/transfer/; with nothing configured every type "
     "but firmware works (3 Vendor Configuration File: the built-in restore)"),
    ("ScheduleDownload", "OPTIONAL", MET, [T_SCHED, T_SCHED_LATE, U_WIN_NEXT], "modes 1-3; "
     "\"4 Confirmation Needed\" is 9003; \"3 When Idle\" means no session (R411)"),
    ("Upload", "OPTIONAL", MET, [T_UPLOAD, T_LOG, T_BACKUP, T_OVERRIDE], "FileType 1 from "
     "[transfer] upload_config or else a configuration backup, 2 from upload_log or else the "
     "log ring; the others are 9003"),
    ("FactoryReset", "OPTIONAL", MET, [I_FR], ""),
    ("GetQueuedTransfers (deprecated)", "OPTIONAL", MET, [T_QUEUE], "the ACS's transfers, "
     "States 1-3"),
    ("GetAllQueuedTransfers", "OPTIONAL", MET, [T_QUEUE], "autonomous ones included"),
    ("CancelTransfer", "OPTIONAL", MET, [T_QUEUE], "9021 once a transfer runs"),
    ("ScheduleInform", "OPTIONAL", MET, [I_SCHED, I_SCHED_TWO, I_SCHED_SAME_KEY],
     "the same CommandKey updates the queued one"),
    ("ChangeDUState", "OPTIONAL", NA, [I_9000], "answered 9000"),
    ("SetVouchers (deprecated)", "OPTIONAL", NA, [I_9000], "answered 9000"),
    ("GetOptions (deprecated)", "OPTIONAL", NA, [I_9000], "answered 9000"),
    ("Inform (CPE calls)", "REQUIRED", MET, [I_FIRST, I_8005], ""),
    ("GetRPCMethods (CPE calls)", "OPTIONAL", NA, [], "never called"),
    ("TransferComplete (CPE calls)", "REQUIRED if transfers are supported", MET,
     [T_WEB, T_FAULTS, T_UPLOAD], "a fault answering it has no test (R358)"),
    ("AutonomousTransferComplete (CPE calls)", "OPTIONAL", MET, [T_AUTO],
     "for the control socket's download/upload, per AutonomousTransferCompletePolicy"),
    ("DUStateChangeComplete (CPE calls)", "OPTIONAL (required with ChangeDUState)", NA, [], ""),
    ("AutonomousDUStateChangeComplete (CPE calls)", "OPTIONAL", NA, [], ""),
    ("RequestDownload (CPE calls)", "OPTIONAL", NA, [], "never called"),
    ("Kicked (deprecated, CPE calls)", "OPTIONAL", NA, [], "never called"),
]

TABLE8 = [
    # (code, cumulative, confirmed by, policy, our status, evidence, note)
    ("0 BOOTSTRAP", "Single", "InformResponse", "never discarded; discards all others",
     MET, [I_FIRST, I_FR, I_URL_BOOTSTRAP, I_KILL9], "endpoint_add_event, endpoint_start"),
    ("1 BOOT", "Single", "InformResponse", "retry until reboot", MET,
     [I_RESTART_BOOT, U_TABLE8, I_ROW8, I_RO_CACHE], "dropped at start, a new one queued; "
     "sent from memory when the cache is read-only"),
    ("2 PERIODIC", "Single", "InformResponse", "never discarded (except BOOTSTRAP)", MET,
     [I_PERIODIC, U_TABLE8, I_ROW8], "kept across a kill -9"),
    ("3 SCHEDULED", "Single", "InformResponse", "never discarded (except BOOTSTRAP)", MET,
     [I_SCHED, I_SCHED_TWO, I_ROW8], "always with M ScheduleInform: both and "
     "the schedule list in one transaction"),
    ("4 VALUE CHANGE", "Single", "InformResponse", "retry until reboot; discarded on BOOTSTRAP",
     MET, [I_FORCED_ACTIVE, I_PASSIVE, I_PASSIVE_REBOOT], ""),
    ("5 KICKED (deprecated)", "Single", "KickedResponse", "MAY retry", NA, [],
     "Annex D not offered; policy row in events.c"),
    ("6 CONNECTION REQUEST", "Single", "InformResponse", "MUST NOT retry", MET,
     [H_CURL, G_CR, X_CR, U_TABLE8, H_CR_FAILED, I_CR_KILL9, I_ROW8],
     "produced by the three transports; dropped when its session fails (session_finish) and "
     "at every start, a kill -9 included (at_restart)"),
    ("7 TRANSFER COMPLETE", "Single", "TransferCompleteResponse",
     "never discarded (except BOOTSTRAP)", MET, [T_WEB, T_KILL9, U_TABLE8],
     "deleted after the session's last TransferCompleteResponse, kept while another M event "
     "waits (session.c request_delivered)"),
    ("8 DIAGNOSTICS COMPLETE", "Single", "InformResponse", "retry until reboot", NA, [],
     "no diagnostics offered; policy row in events.c"),
    ("9 REQUEST DOWNLOAD", "Single", "RequestDownloadResponse", "MAY retry", NA, [],
     "RequestDownload never called"),
    ("10 AUTONOMOUS TRANSFER COMPLETE", "Single", "AutonomousTransferCompleteResponse",
     "never discarded (except BOOTSTRAP)", MET, [T_AUTO, U_TABLE8], ""),
    ("11 DU STATE CHANGE COMPLETE", "Single", "DUStateChangeCompleteResponse",
     "never discarded (except BOOTSTRAP)", NA, [], "SMM not offered"),
    ("12 AUTONOMOUS DU STATE CHANGE COMPLETE", "Single",
     "AutonomousDUStateChangeCompleteResponse", "never discarded (except BOOTSTRAP)", NA, [],
     "SMM not offered"),
    ("13 WAKEUP", "Single", "InformResponse", "retry until reboot; discarded on BOOTSTRAP", NA,
     [], "standby not offered; never produced"),
    ("M Reboot", "Multiple", "InformResponse", "never discarded (except BOOTSTRAP)", MET,
     [I_REBOOT, I_ROW8], "CommandKey kept across the reboot; queued in one "
     "transaction with forgetting it"),
    ("M ScheduleInform", "Multiple", "InformResponse", "never discarded (except BOOTSTRAP)", MET,
     [I_SCHED_TWO, I_SCHED_RESTART, I_ROW8], ""),
    ("M Download", "Multiple", "TransferCompleteResponse", "never discarded (except BOOTSTRAP)",
     MET, [T_WEB, T_FAULTS, U_TABLE8], "with the CommandKey; one per transfer"),
    ("M ScheduleDownload", "Multiple", "TransferCompleteResponse",
     "never discarded (except BOOTSTRAP)", MET, [T_SCHED, U_TABLE8], ""),
    ("M Upload", "Multiple", "TransferCompleteResponse", "never discarded (except BOOTSTRAP)",
     MET, [T_UPLOAD, U_TABLE8], ""),
    ("M ChangeDUState", "Multiple", "DUStateChangeCompleteResponse",
     "never discarded (except BOOTSTRAP)", NA, [], "SMM not offered"),
    ("M <vendor method> / X <vendor> <event>", "not specified", "vendor", "vendor", NA,
     [U_TABLE8], "none defined; a vendor code would get InformResponse / until reboot"),
]

GAPS = [
    ("R349", "proxier/main.c `hook_reboot` / `hook_factory_reset`",
     "The loop is broken as soon as this endpoint's session ends; with Virtual CWMP Devices "
     "the reboot SHOULD wait until every endpoint's session is over."),
    ("R074", "proxier/session/http.c `tls_ctx_setup`",
     "The daemon never waits for clock synchronisation (SHOULD). R075 is met by a heuristic: "
     "certificate dates are ignored only while the clock reads before 2026-01-01 "
     "(HTTP_CLOCK_FLOOR); a clock that is wrong but later (a stale RTC) is trusted and can "
     "refuse a valid ACS certificate. Waiting for NTP (or an [acs] setting naming a "
     "time-sync flag file) would close both."),
    ("R411", "proxier/transfer/transfer_windows.c `transfer_windows_next`",
     "\"3 When Idle\" means \"no CWMP session runs\": proxierd knows nothing of the "
     "subscriber's use, so a \"1 Firmware Upgrade Image\" scheduled When Idle is applied and "
     "reboots the gateway whenever no session runs, which is the interruption of service that "
     "mode forbids. Refuse firmware with When Idle (9003) or ask the platform (an "
     "[transfer] idle_command)."),
    ("R316, R389", "proxier/gateway/gateway.c (DeviceInfo.SoftwareVersion from [device] "
     "software_version)",
     "A firmware Download is reported successful in the first session after the reboot, but "
     "SoftwareVersion is the configured string (default: proxierd's own version), so it shows "
     "the new image only if the image ships a new configuration. The firmware_action contract "
     "(install, exit 0, let proxierd reboot) is documented; an action that reboots the box "
     "itself leaves the transfer \"applying\" and it is reported as 9010 after the restart "
     "although the image was installed."),
    ("R493, R484", "proxier/connreq/udp_cr.c `local_address`, `timer_cb`; "
     "proxier/gateway/gateway_schema.c",
     "Annex G: a change of the local address is only noticed through the next keep-alive "
     "(NATDetected compares with the address taken when STUN was configured). The "
     "UDPConnReq:1 profile's UDPConnectionRequestAddressNotificationLimit is not in the "
     "gateway schema."),
    ("Untested claims", "tests/",
     "Implemented but without a test: host-name check of a redirected TLS "
     "session (R073/R099)."),
    ("Untested transfer claims", "tests/integration/test_transfer.py",
     "A fault answering an AutonomousTransferComplete (R361: the same code path as the tested "
     "TransferComplete); the one-hour start limit (R333, R377, R378); a wrong FileSize (R330); "
     "a CancelTransfer matching several transfers (R418); an Upload that is delayed, restarted "
     "or refused for a full queue or userinfo (R372, R377, R380, R381); ScheduleDownload's "
     "9004/9010 and a scheduled firmware (R414, R416, R388); the times of an "
     "AutonomousTransferComplete (R363, R364)."),
]

# ---------------------------------------------------------------------------------------------


def parse_requirements(path):
    rows = []
    pat = re.compile(r"^\| (R\d{3}) \| (.*?) \| (\d+) \| (.*) \|$")
    with open(path, encoding="utf-8") as f:
        for line in f:
            mt = pat.match(line.rstrip("\n"))
            if mt:
                rows.append(dict(id=mt.group(1), section=mt.group(2).strip(),
                                 line=int(mt.group(3)), text=mt.group(4)))
    return rows


def clean_section(s):
    return s.replace("**", "").replace("*", "").strip()


def shorten(text, limit=100):
    t = re.sub(r"</?[a-z][^>]*>", " ", text)
    t = t.replace("|", "/").replace("\t", " ")
    t = re.sub(r"\s+", " ", t).strip()
    if len(t) <= limit:
        return t
    cut = t[:limit].rsplit(" ", 1)[0]
    return cut + " …"


def section_key(section):
    return section.split(" ", 1)[0]


def default_for(section):
    key = section_key(section)
    best = None
    for prefix, value in DEFAULTS.items():
        p = prefix.strip()
        exact = prefix.endswith(" ")
        ok = key == p if exact else (key == p or key.startswith(p if p.endswith(".") else p + ".")
                                     or key.startswith(p))
        if ok and (best is None or len(p) > len(best[0])):
            best = (p, value)
    return best[1] if best else None


class EvidenceError(Exception):
    pass


_cache = {}


def _read(rel):
    if rel not in _cache:
        path = os.path.join(ROOT, rel)
        with open(path, encoding="utf-8") as f:
            _cache[rel] = f.read()
    return _cache[rel]


def expand(item):
    """Evidence shorthand -> (markdown text, error or None)."""
    kind, rest = item.split(":", 1)
    if kind == "I":
        fname, name = rest.split(":", 1)
        cls, test = name.split("::")
        rel = f"tests/integration/test_{fname}.py"
        try:
            src = _read(rel)
        except FileNotFoundError:
            return f"`{rel}::{name}`", f"{rel} does not exist"
        m = re.search(rf"^class {re.escape(cls)}\b.*?(?=^class |\Z)", src, re.S | re.M)
        if not m or not re.search(rf"^\s+def {re.escape(test)}\(", m.group(0), re.M):
            return f"`{rel}::{name}`", f"{rel}: no {cls}.{test}"
        return f"`{rel}::{name}`", None
    if kind == "U":
        fname, test = rest.split(":", 1)
        rel = f"tests/unit/test_{fname}.c"
        try:
            src = _read(rel)
        except FileNotFoundError:
            return f"`{rel}::{test}`", f"{rel} does not exist"
        if not re.search(rf"^static void {re.escape(test)}\(", src, re.M):
            return f"`{rel}::{test}`", f"{rel}: no {test}"
        return f"`{rel}::{test}`", None
    if kind == "S":
        rel, func = rest.split(":", 1)
        try:
            src = _read(rel)
        except FileNotFoundError:
            return f"`{rel}` `{func}`", f"{rel} does not exist"
        if not re.search(rf"\b{re.escape(func)}\s*\(", src):
            return f"`{rel}` `{func}`", f"{rel}: no function {func}"
        return f"`{rel}` `{func}`", None
    raise EvidenceError(f"bad evidence shorthand {item!r}")


def render_evidence(items, errors):
    out = []
    for it in items:
        text, err = expand(it)
        if err:
            errors.append(err)
        out.append(text)
    return "<br>".join(out)


def decide(req):
    if req["id"] in ROWS:
        return ROWS[req["id"]]
    if req["id"] in ACS_SIDE:
        return (NA, [], ACS_SIDE[req["id"]])
    d = default_for(req["section"])
    if d is None:
        raise SystemExit(f"{req['id']} ({req['section']}): no mapping and no section default")
    return (d[0], [d[1]] if d[1] else [], d[2])


def plan_of(status):
    """"not yet (virtual devices)" -> "virtual devices"; a bare "not yet" has no plan."""
    return status[9:-1] if status != NOT_YET else "without a plan"


def base_status(status):
    return NOT_YET if status.startswith("not yet") else status


def render(reqs, spec_rel):
    errors = []
    decided = [(r, *decide(r)) for r in reqs]
    counts = Counter(base_status(s) for _, s, _, _ in decided)
    out = []
    w = out.append
    w("# TR-069 Amendment 5 conformance of proxierd\n")
    w("Generated by `scripts/conformance.py` from `" + spec_rel + "` (the 609 sentences of "
      "TR-069 Amendment 5 that bind a CPE, a CWMP endpoint, the CPE Proxier, a Virtual CWMP "
      "Device or a Proxied Device) and a hand-written mapping checked against the code and "
      "the tests. Edit the mapping in the script, not this file. The script fails if a cited "
      "test or function does not exist.\n")
    w("Status: **met** = implemented and shown by the named test; **met, untested** = "
      "implemented, no test shows it (the source is named); **partial** = what is missing is "
      "said; **not yet** = not done: planned (virtual devices: Annex J adapters) or without a "
      "plan yet (the row says what is missing); **n/a** = binds the ACS or another "
      "party, or an optional feature proxierd deliberately does not offer.\n")
    w("Test names: `tests/integration/test_X.py::Class::test` (Python, run by ctest as "
      "`integration/test_X`, every CPE message schema-validated and protocol-checked by the "
      "test ACS in `tests/acs/`), `tests/unit/test_X.c::test` (cmocka, ctest `unit/test_X`).\n")
    w("## Summary\n")
    w("| status | requirements |\n|---|---|")
    for s in STATUSES:
        w(f"| {s} | {counts.get(s, 0)} |")
    w(f"| **total** | **{len(reqs)}** |\n")
    ny = Counter(s for _, s, _, _ in decided if s.startswith("not yet"))
    w("Not yet: " + ", ".join(f"{plan_of(k)} {v}" for k, v in sorted(ny.items())) + ".\n")
    w("Contents: [requirements by section](#requirements-by-section) · "
      "[Table 5: RPC support](#table-5-rpc-support) · [Table 8: events](#table-8-events) · "
      "[Gaps found](#gaps-found)\n")

    w("## Requirements by section\n")
    groups = OrderedDict()
    for row in decided:
        groups.setdefault(clean_section(row[0]["section"]), []).append(row)
    for section, rows in groups.items():
        c = Counter(base_status(s) for _, s, _, _ in rows)
        summary = ", ".join(f"{s} {c[s]}" for s in STATUSES if c.get(s))
        w(f"### {section}\n")
        w(f"{summary}\n")
        w("| id | section | requirement | status | evidence |\n|---|---|---|---|---|")
        for req, status, evidence, note in rows:
            text = shorten(req["text"])
            evid = render_evidence(evidence, errors)
            cell = evid
            if note:
                cell = (evid + "<br>" if evid else "") + note.replace("|", "/")
            w(f"| {req['id']} | {section_key(req['section'])} (l.{req['line']}) | {text} | "
              f"{status} | {cell} |")
        w("")

    w("## Table 5: RPC support\n")
    w("CPE methods are the ACS's requests that proxierd answers (rpc.c `methods[]`; anything "
      "else gets fault 9000); \"CPE calls\" are the ACS methods the CPE calls.\n")
    w("| method | TR-069 for a CPE | status | evidence |\n|---|---|---|---|")
    for name, req, status, evidence, note in TABLE5:
        evid = render_evidence(evidence, errors)
        cell = (evid + "<br>" if evid and note else evid) + (note if note else "")
        w(f"| {name} | {req} | {status} | {cell} |")
    w("")

    w("## Table 8: events\n")
    w("Policies are data in `proxier/core/events.c` (`policies[]`), applied by "
      "`proxier/core/endpoint.c` and `queue.c` (queue, BOOTSTRAP and restart discards, one "
      "transaction per state change and its events, memory fallback) and "
      "`proxier/session/session.c` (confirmation, \"not retried\" discard). Events are kept "
      "durably in the cache (SQLite) and confirmed by the InformResponse unless noted.\n")
    w("| event code | cumulative | confirmed by | retry/discard policy | status | evidence |\n"
      "|---|---|---|---|---|---|")
    for code, cum, conf, policy, status, evidence, note in TABLE8:
        evid = render_evidence(evidence, errors)
        cell = (evid + "<br>" if evid and note else evid) + (note if note else "")
        w(f"| {code} | {cum} | {conf} | {policy} | {status} | {cell} |")
    w("")

    w("## Gaps found\n")
    w("Requirements we claim or come close to, where the code does not (fully) do it or no "
      "test shows it. Each names the place to change.\n")
    for i, (reqs_, where, what) in enumerate(GAPS, 1):
        w(f"{i}. **{reqs_}**: {where}. {what}")
    w("")
    return "\n".join(out), errors, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=os.path.join(SPEC, "spec", "requirements-cpe.md"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "conformance.md"))
    ap.add_argument("--check", action="store_true",
                    help="only check the mapping and the evidence, write nothing")
    args = ap.parse_args()
    reqs = parse_requirements(args.spec)
    if len(reqs) != 609:
        print(f"warning: {len(reqs)} requirements parsed, expected 609", file=sys.stderr)
    unknown = sorted(set(ROWS) - {r["id"] for r in reqs})
    if unknown:
        print("mapping names unknown ids: " + ", ".join(unknown), file=sys.stderr)
        return 1
    text, errors, counts = render(reqs, "shared/spec/requirements-cpe.md")
    for e in sorted(set(errors)):
        print("evidence missing: " + e, file=sys.stderr)
    if errors:
        return 1
    if not args.check:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    print(", ".join(f"{s}: {counts.get(s, 0)}" for s in STATUSES) + f" (total {len(reqs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
