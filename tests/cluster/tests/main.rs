//! The test cluster's integration tests, one binary: kube-rs and kubectl against the double,
//! and its port-forward into pod network namespaces. What each test needs of the machine is
//! listed here; netem-harness runs, fails or skips it accordingly.

mod common;
mod ephemeral;
mod kube_api;
mod kubectl;
mod portforward;
mod v2;

netem_harness::main! {
    [] async kube_api::kube_rs_patches_like_on_a_real_server,
    [] async kube_api::watch_streams_changes_from_a_resource_version,
    [] async ephemeral::kube_rs_adds_ephemeral_containers_within_the_real_rules,
    [Kubectl] async ephemeral::kubectl_debug_adds_an_ephemeral_container,
    [Root] async ephemeral::an_ephemeral_agent_answers_through_port_forward_and_is_never_restarted,
    [Root, Kubectl] async kubectl::kubectl_sees_a_cluster,
    [Root, Kubectl] async kubectl::kubectl_strategic_patch_on_a_statefulset_rolls_its_pods,
    [Kubectl] async kubectl::kubectl_create_apply_describe,
    [] async v2::kube_rs_patches_a_group_overlay_and_the_operator_rolls_one_pod_at_a_time,
    [Kubectl] async v2::kubectl_gets_v2_groups_by_name_short_name_and_category,
    [Root] async v2::pre_injected_v2_pods_run_the_real_agent,
    [Root] async portforward::forwards_into_the_pod_namespace_and_reports_like_a_kubelet,
    [Root] async portforward::the_real_agent_answers_through_port_forward,
    [Root] async portforward::an_agent_container_without_an_agent_binary_is_not_ready,
}
