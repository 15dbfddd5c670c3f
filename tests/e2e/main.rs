//! End-to-end tests: the real `kubectl-netem` binary against the project's test cluster
//! (an API server double whose pods are network namespaces running the real agent).
//!
//! Each needs root (pods are network namespaces); the list below says so, and netem-harness
//! runs, fails or skips them accordingly.

mod complete;
mod connection;
mod credentials;
mod delay;
mod ephemeral;
mod expose;
mod inject;
mod manifest;
mod proxy;
mod rules;
mod support;
mod terminal;
mod v2;

netem_harness::main! {
    [Root, Kubectl] async complete::kubectl_completes_subcommands_flags_and_cluster_names,
    [Root] async connection::kubeconfig_context_namespace_and_context_flag_like_kubectl,
    [Root] async connection::request_timeout_bounds_each_api_request,
    [Root] async credentials::kubectl_flags_override_the_kubeconfig,
    [Root] async credentials::no_credential_is_ever_printed,
    [Root] async proxy::https_proxy_no_proxy_and_proxy_url_like_kubectl,
    [Root] async delay::delay_reports_the_kernel_without_netem_per_pod,
    [Root] async delay::status_lists_every_agent_pod_and_clear_succeeds,
    [Root] async delay::status_json_shape_is_pinned,
    [Root] async delay::forbidden_portforward_is_named_per_pod,
    [Root] async delay::targets_without_the_agent_or_unknown_change_nothing,
    [Root] async delay::an_agent_that_does_not_listen_is_named,
    [Root] async delay::status_across_namespaces,
    [Root] async delay::after_inject_the_everyday_commands_reach_every_pod,
    [Root] async ephemeral::ephemeral_agents_join_running_pods_without_a_restart,
    [Root] async ephemeral::ephemeral_refusals_change_nothing,
    [Root] async rules::both_ways_reaches_both_sides_and_names_each_pod,
    [Root] async rules::clear_to_removes_one_rule_on_both_sides,
    [Root] async rules::destination_mistakes_change_nothing,
    [Root] async expose::exposed_agents_answer_on_the_pod_ip_and_default_ones_do_not,
    [Root] async inject::inject_rolls_pods_with_the_agent_and_eject_restores_the_spec,
    [Root] async inject::another_image_updates_the_agent_in_place_and_user_containers_stay,
    [Root] async inject::a_concurrent_writer_causes_a_retry_not_a_lost_update,
    [Root] async inject::two_racing_injects_leave_one_agent,
    [Root] async inject::refusals_write_nothing,
    [Root] async inject::host_network_components_are_refused,
    [Root] async inject::dry_run_prints_the_patch_and_writes_nothing,
    [Root] async inject::statefulset_fallback_without_the_crd,
    [Root] async inject::operator_managed_statefulsets_need_force,
    [Root] async inject::pdms_entries_each_get_the_agent,
    [Root] async inject::a_users_own_netem_agent_container_is_never_replaced_or_removed,
    [Root] async inject::an_unpullable_agent_image_is_named_and_eject_recovers_the_stuck_pod,
    [Root] async inject::a_crashing_agent_is_named_with_its_last_exit_and_eject_recovers,
    [Root, Kubectl] async manifest::injected_manifest_applied_has_the_agent_from_the_first_pod,
    [Root] async manifest::manifest_mistakes_write_nothing,
    [Root, Script] async terminal::inject_asks_on_a_terminal_and_obeys_the_answer,
    [Root] async v2::v2_inject_rolls_pods_with_the_agent_and_eject_restores_the_group_specs,
    [Root] async v2::v2_another_image_updates_the_agent_in_place_and_user_overlay_stays,
    [Root] async v2::v2_a_concurrent_writer_causes_a_retry_not_a_lost_update,
    [Root] async v2::v2_refusals_write_nothing,
    [Root] async v2::v2_host_network_groups_are_refused,
    [Root] async v2::v2_dry_run_prints_the_patches_and_writes_nothing,
    [Root] async v2::v2_everyday_commands_reach_the_groups_pods,
    [Root, Kubectl] async v2::v2_injected_manifest_applied_has_the_agent_from_the_first_pod,
    [Root] async v2::v2_ephemeral_agents_join_the_groups_pods_without_a_restart,
}
