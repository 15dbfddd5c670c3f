use super::*;
use std::time::Duration;

fn saved() -> Saved {
    Saved {
        written_by: WRITER.into(),
        interface: "eth0".into(),
        ifindex: 2,
        handle: 0x4e45_0000,
        spec: NetemSpec {
            ttl: Some(Duration::from_secs(30)),
            ..NetemSpec::delay(Duration::from_millis(20))
        },
        set_at_ms: 1,
        expires_at_ms: Some(30_001),
        rules: Vec::new(),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netem-agent-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn not_ours(r: Result<impl std::fmt::Debug, StateError>) -> String {
    match r {
        Err(e @ StateError::NotOurs(_)) => e.to_string(),
        other => panic!("want NotOurs, got {other:?}"),
    }
}

#[test]
fn save_load_remove_round_trip() {
    let dir = scratch("state");
    let path = dir.join("sub/state.json");
    assert_eq!(load(&path).unwrap(), None);
    save(&path, &saved()).unwrap();
    assert_eq!(load(&path).unwrap(), Some(saved()));
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(r#""written_by": "netem-agent""#), "{text}");
    // Replacing our own file is fine, and leaves no temporary file behind.
    save(&path, &saved()).unwrap();
    assert_eq!(fs::read_dir(dir.join("sub")).unwrap().count(), 1);
    remove(&path).unwrap();
    remove(&path).unwrap();
    assert_eq!(load(&path).unwrap(), None);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_it_did_not_write_are_left_untouched() {
    let dir = scratch("foreign");
    let path = dir.join("state.json");
    let unmarked = serde_json::to_string(&saved())
        .unwrap()
        .replace(r#""written_by":"netem-agent","#, "");
    let other_writer = serde_json::to_string(&saved())
        .unwrap()
        .replace("\"netem-agent\"", "\"someone\"");
    let big = " ".repeat(MAX_SIZE as usize + 1);
    for (content, why) in [
        ("{not json".to_string(), "unreadable"),
        (unmarked, "missing field `written_by`"),
        (other_writer, "written by \"someone\""),
        (big, "bytes (over 65536)"),
    ] {
        fs::write(&path, &content).unwrap();
        assert!(not_ours(load(&path)).contains(why), "{why}");
        assert!(not_ours(remove(&path)).contains("left untouched"));
        assert!(not_ours(save(&path, &saved())).contains(why));
        assert_eq!(fs::read_to_string(&path).unwrap(), content, "{why}");
    }
    fs::remove_file(&path).unwrap();
    // A directory, and a symbolic link (even to a state file of ours).
    fs::create_dir(&path).unwrap();
    assert!(not_ours(load(&path)).contains("a directory"));
    assert!(not_ours(remove(&path)).contains("a directory"));
    assert!(path.is_dir());
    fs::remove_dir(&path).unwrap();
    let real = dir.join("real.json");
    save(&real, &saved()).unwrap();
    std::os::unix::fs::symlink(&real, &path).unwrap();
    assert!(not_ours(load(&path)).contains("symbolic link"));
    assert!(not_ours(save(&path, &saved())).contains("symbolic link"));
    assert!(not_ours(remove(&path)).contains("symbolic link"));
    assert!(
        fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // Only the file we created ourselves is there besides the link: no temporary left.
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 2);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fifo_is_neither_read_nor_removed() {
    let dir = scratch("fifo");
    let path = dir.join("state.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    // Returns at once (a blocking open would hang here: no writer ever comes).
    assert!(not_ours(load(&path)).contains("a FIFO"));
    assert!(not_ours(remove(&path)).contains("a FIFO"));
    assert!(not_ours(save(&path, &saved())).contains("a FIFO"));
    assert!(fs::symlink_metadata(&path).unwrap().file_type().is_fifo());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rules_round_trip_and_old_files_still_load() {
    let dir = scratch("rules");
    let path = dir.join("state.json");
    let mut with_rules = saved();
    with_rules.rules.push(SavedRule {
        id: "to-pod.basic-tikv-0".into(),
        band: 2,
        spec: serde_json::from_value(serde_json::json!({
            "to": {"cidrs": ["10.0.0.7/32", "fd00::7/128"], "ports": [20160]},
            "netem": {"delay": "20ms", "ttl": "1m"},
            "about": {"pods": {"basic-tikv-0": "10.0.0.7"}}
        }))
        .unwrap(),
        set_at_ms: 5,
        expires_at_ms: Some(60_005),
    });
    save(&path, &with_rules).unwrap();
    assert_eq!(load(&path).unwrap(), Some(with_rules));
    // A file written before rules existed has no "rules" field.
    let mut old = serde_json::to_value(saved()).unwrap();
    old.as_object_mut().unwrap().remove("rules");
    assert!(!old.to_string().contains("rules"));
    assert_eq!(parse(old.to_string().as_bytes()).unwrap(), saved());
    let _ = fs::remove_dir_all(&dir);
}
