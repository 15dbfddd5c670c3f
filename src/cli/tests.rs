use super::*;
use clap::CommandFactory;

#[test]
fn definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn version_is_printed_for_the_plugin_and_its_subcommands() {
    for args in [
        &["kubectl-netem", "--version"][..],
        &["kubectl-netem", "delay", "-V"],
    ] {
        let err = Cli::try_parse_from(args).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::DisplayVersion);
        assert!(err.to_string().contains(env!("CARGO_PKG_VERSION")), "{err}");
    }
}

#[test]
fn help_states_the_fault_grace_period_it_has() {
    // Doc comments cannot name the constant; this keeps the two from drifting apart.
    let secs = crate::rollout::FAULT_GRACE.as_secs();
    let mut cmd = Cli::command();
    let inject = cmd.find_subcommand_mut("inject").unwrap();
    let help = inject.render_long_help().to_string();
    assert!(help.contains(&format!("about {secs} seconds")), "{help}");
    assert!(help.contains(&format!("for {secs}s")), "{help}");
}

#[test]
fn delay_takes_targets_then_duration() {
    let cli = Cli::try_parse_from([
        "kubectl-netem",
        "delay",
        "basic-pd-0",
        "pod/basic-pd-1",
        "20ms",
    ])
    .unwrap();
    let Command::Delay(d) = cli.command else {
        panic!("not delay")
    };
    assert_eq!(d.targets.len(), 2);
    assert_eq!(d.delay, Duration::from_millis(20));
}

#[test]
fn netem_values_are_checked_while_parsing() {
    let parse = |extra: &[&str]| {
        let mut args = vec!["kubectl-netem", "delay", "basic-pd-0", "20ms"];
        args.extend_from_slice(extra);
        Cli::try_parse_from(args)
    };
    assert!(parse(&["--loss", "1%", "--rate", "1mbit", "--for", "10m"]).is_ok());
    for bad in [
        &["--loss", "101%"][..],
        &["--jitter", "5"],
        &["--rate", "fast"],
        &["--for", "soon"],
        &["--pod-timeout", "0s"],
    ] {
        let err = parse(bad).unwrap_err().to_string();
        assert!(err.contains(bad[1]), "{bad:?}: {err}");
    }
    let err = Cli::try_parse_from(["kubectl-netem", "delay", "basic-pd-0", "20"]).unwrap_err();
    assert!(err.to_string().contains("missing unit"), "{err}");
}

#[test]
fn destinations_arrive_typed() {
    let cli = Cli::try_parse_from([
        "kubectl-netem",
        "delay",
        "basic-tidb-0",
        "20ms",
        "--to",
        "basic-tikv-0,tc/basic",
        "--to",
        "sts/web",
        "--to-cidr",
        "10.0.0.0/16,fd00::/64",
        "--to-port",
        "20160",
        "--direction",
        "both",
    ])
    .unwrap();
    let Command::Delay(d) = cli.command else {
        panic!("not delay")
    };
    assert_eq!(d.targets, [Target::Pod("basic-tidb-0".into())]);
    assert_eq!(
        d.to.to,
        [
            Target::Pod("basic-tikv-0".into()),
            Target::TidbCluster("basic".into()),
            Target::StatefulSet("web".into())
        ]
    );
    assert_eq!(d.to.to_cidr[1].to_string(), "fd00::/64");
    assert_eq!(d.to.to_port, [20160]);
    assert_eq!(d.direction, Direction::Both);
    let parse = |extra: &[&str]| {
        let mut args = vec!["kubectl-netem", "delay", "basic-pd-0", "20ms"];
        args.extend_from_slice(extra);
        Cli::try_parse_from(args)
    };
    for (bad, why) in [
        (&["--to-cidr", "10.0.0.1/16"][..], "host bits"),
        (&["--to-port", "0"], "--to-port"),
        (&["--to", "deployment/web"], "unknown kind"),
        (&["--direction", "sideways"], "--direction"),
    ] {
        let err = parse(bad).unwrap_err().to_string();
        assert!(err.contains(why), "{bad:?}: {err}");
    }
    let cli = Cli::try_parse_from([
        "kubectl-netem",
        "partition",
        "basic-tikv-0",
        "--from",
        "tc/basic",
        "--from-component",
        "pd,tidb",
        "--one-way",
    ])
    .unwrap();
    let Command::Partition(p) = cli.command else {
        panic!("not partition")
    };
    let to = ToArgs::from(&p.from);
    assert_eq!(to.to, [Target::TidbCluster("basic".into())]);
    assert_eq!(to.to_component, ["pd", "tidb"]);
    assert!(p.one_way);
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    /// Every flag that takes a parsed value, with the command it belongs to.
    const FLAGS: &[(&[&str], &str)] = &[
        (&["delay", "basic-pd-0", "20ms"], "--loss"),
        (&["delay", "basic-pd-0", "20ms"], "--duplicate"),
        (&["delay", "basic-pd-0", "20ms"], "--corrupt"),
        (&["delay", "basic-pd-0", "20ms"], "--reorder"),
        (&["delay", "basic-pd-0", "20ms"], "--correlation"),
        (&["delay", "basic-pd-0", "20ms"], "--rate"),
        (&["delay", "basic-pd-0", "20ms"], "--jitter"),
        (&["delay", "basic-pd-0", "20ms"], "--for"),
        (&["delay", "basic-pd-0", "20ms"], "--limit"),
        (&["delay", "basic-pd-0", "20ms"], "--distribution"),
        (&["delay", "basic-pd-0", "20ms"], "--pod-timeout"),
        (&["delay", "basic-pd-0", "20ms"], "--parallel"),
        (&["delay", "basic-pd-0", "20ms"], "--to"),
        (&["delay", "basic-pd-0", "20ms"], "--to-cidr"),
        (&["delay", "basic-pd-0", "20ms"], "--to-port"),
        (&["delay", "basic-pd-0", "20ms"], "--direction"),
        (&["partition", "basic-pd-0"], "--from-cidr"),
        (&["clear", "basic-pd-0"], "--to"),
        (&["status"], "--request-timeout"),
        (&["inject", "tc/basic"], "--image"),
        (&["inject", "tc/basic"], "--timeout"),
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any value for any flag (and as the delay or the target) parses or is refused
        /// by clap: never a panic, and the reason is on the error's first line.
        #[test]
        fn any_flag_value_parses_or_is_refused(
            flag in 0..FLAGS.len(),
            value in prop_oneof![
                any::<String>(),
                "[0-9.+-]{0,24}(ns|us|ms|s|m|h|%|bit|kbit|mbit|gbit|bps|kbps|mbps)?",
            ],
        ) {
            let (command, name) = FLAGS[flag];
            let mut args = vec!["kubectl-netem"];
            args.extend_from_slice(command);
            let with_equals = format!("{name}={value}");
            args.push(&with_equals);
            if let Err(e) = Cli::try_parse_from(&args) {
                let first = e.to_string().lines().next().unwrap_or_default().to_string();
                prop_assert!(first.starts_with("error:"), "{first}");
            }
            // The positional delay and target, too.
            let _ = Cli::try_parse_from(["kubectl-netem", "delay", "basic-pd-0", value.as_str()]);
            let _ = Cli::try_parse_from(["kubectl-netem", "delay", value.as_str(), "20ms"]);
            let _ = Cli::try_parse_from(["kubectl-netem", "eject", value.as_str()]);
        }
    }
}
