//! Pod networking the way a CNI bridge plugin sets it up, with `ip`: a per-cluster "node"
//! netns holding bridge `br0` (the gateway), and per pod a netns with `eth0` (a veth whose
//! peer is enslaved to the bridge), an IP from the cluster subnet, `lo` up, a default route.
//! Nothing touches the host's own namespace.

use std::io;
use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

use nix::sched::CloneFlags;
use tokio::process::Command;

/// Subnet of every cluster (each cluster's bridge lives in its own node netns, so clusters
/// do not clash even with the same subnet).
pub const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 244, 0, 1);
/// Prefix length.
pub const PREFIX: u8 = 16;

/// The IP of the pod with sequence number `n` (1-based).
pub fn pod_ip(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(GATEWAY) + n)
}

async fn ip(args: &[&str], batch: Option<String>) -> io::Result<()> {
    let mut cmd = Command::new("ip");
    cmd.args(args);
    if batch.is_some() {
        cmd.arg("-batch").arg("-");
        cmd.stdin(std::process::Stdio::piped());
    }
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn()?;
    if let Some(b) = batch {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin.write_all(b.as_bytes()).await?;
        drop(stdin);
    }
    let out = child.wait_with_output().await?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Create the node netns with its bridge.
pub async fn create_node(node: &str) -> io::Result<()> {
    ip(&["netns", "add", node], None).await?;
    let batch = format!(
        "link set lo up\nlink add br0 type bridge\naddr add {GATEWAY}/{PREFIX} dev br0\nlink set br0 up\n"
    );
    ip(&["-n", node], Some(batch)).await
}

/// Create a pod netns wired to the node's bridge through veth `vp<n>`/`eth0`.
pub async fn create_pod(node: &str, pod_ns: &str, n: u32, addr: Ipv4Addr) -> io::Result<()> {
    ip(&["netns", "add", pod_ns], None).await?;
    let host_if = format!("vp{n}");
    let node_batch = format!(
        "link add {host_if} type veth peer name eth0 netns {pod_ns}\nlink set {host_if} master br0 up\n"
    );
    ip(&["-n", node], Some(node_batch)).await?;
    let pod_batch = format!(
        "link set lo up\naddr add {addr}/{PREFIX} dev eth0\nlink set eth0 up\nroute add default via {GATEWAY}\n"
    );
    ip(&["-n", pod_ns], Some(pod_batch)).await
}

/// Delete a netns (its veth end goes with it).
pub async fn delete(name: &str) -> io::Result<()> {
    ip(&["netns", "del", name], None).await
}

/// Delete a netns synchronously (for Drop paths).
pub fn delete_blocking(name: &str) {
    let _ = std::process::Command::new("ip")
        .args(["netns", "del", name])
        .stderr(std::process::Stdio::null())
        .status();
}

/// Kill every process inside netns `name` (`ip netns pids`), then delete it.
pub fn purge_blocking(name: &str) {
    if let Ok(out) = std::process::Command::new("ip")
        .args(["netns", "pids", name])
        .output()
    {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
    delete_blocking(name);
}

/// The owning process id encoded in a netns name `ntc<pid>-…` (see [`crate::cluster`]).
pub fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix("ntc")?.split('-').next()?.parse().ok()
}

/// Remove namespaces (and their processes) left by test clusters whose process is gone,
/// e.g. killed before it could clean up.
pub fn sweep_stale_blocking() {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = owner_pid(&name)
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            purge_blocking(&name);
        }
    }
}

/// Dial 127.0.0.1:`port` inside netns `name`, as containerd's port-forward does: a fresh
/// thread enters the namespace and connects; the socket stays in that namespace.
pub async fn dial(name: &str, port: u16) -> io::Result<TcpStream> {
    let path = format!("/run/netns/{name}");
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let r = (|| {
            let f = std::fs::File::open(&path)?;
            nix::sched::setns(&f, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            let s = TcpStream::connect_timeout(
                &(Ipv4Addr::LOCALHOST, port).into(),
                Duration::from_secs(5),
            )?;
            s.set_nodelay(true)?;
            Ok(s)
        })();
        let _ = tx.send(r);
    });
    rx.await.map_err(|_| io::Error::other("dial thread died"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_from_name() {
        assert_eq!(owner_pid("ntc1234-0-node"), Some(1234));
        assert_eq!(owner_pid("ntc1234-2-17"), Some(1234));
        assert_eq!(owner_pid("cni-1234"), None);
    }

    #[test]
    fn pod_ips_follow_the_gateway() {
        assert_eq!(pod_ip(1), Ipv4Addr::new(10, 244, 0, 2));
        assert_eq!(pod_ip(300), Ipv4Addr::new(10, 244, 1, 45));
    }
}
