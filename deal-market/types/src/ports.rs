//! Free TCP ports for the local networks that tests and `cairn devnet`
//! start: picked before the processes that bind them are started, and
//! written into their configuration.
//!
//! Ports the OS hands out for port 0 come from the kernel's ephemeral
//! range, which is also where every outgoing connection's local port comes
//! from. Between the pick and the bind, a process dialing its peers (a
//! validator, a node polling the ledger) can be given that very port, and
//! the process it was picked for fails to start with "address in use".
//! So the ports are picked below the ephemeral range, where neither an
//! outgoing connection nor a port-0 listener can land.

use std::collections::BTreeSet;
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::ops::Range;
use std::sync::Mutex;

/// Ports this process has already handed out: a later call never repeats
/// one (it may not be bound yet).
static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// Where [`free_ports`] looks: the upper half of the room below the
/// kernel's ephemeral range, starting no lower than 10000. `None` where the
/// range is unknown (not Linux) or leaves too little room below it.
pub fn reserved_range() -> Option<Range<u16>> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let low: u16 = text.split_whitespace().next()?.parse().ok()?;
    let start = (low / 2).max(10_000);
    (low.checked_sub(start)? >= 1024).then_some(start..low)
}

/// `n` distinct ports that can be bound on `ip` now (TCP and UDP) and that this
/// process has not handed out before: below the ephemeral range where it
/// is known ([`reserved_range`]), else the OS's choice for port 0. The
/// search starts at a random point, so processes picking at the same time
/// rarely collide.
pub fn free_ports(ip: IpAddr, n: usize) -> std::io::Result<Vec<u16>> {
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Free for TCP and UDP: a node listens on both (QUIC) at one port.
    let bindable = |p: u16| TcpListener::bind((ip, p)).is_ok() && UdpSocket::bind((ip, p)).is_ok();
    let mut ports = Vec::with_capacity(n);
    if let Some(range) = reserved_range() {
        let len = u64::from(range.end - range.start);
        let seed = {
            use std::hash::{BuildHasher as _, Hasher as _};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(std::process::id());
            h.finish()
        };
        for k in 0..len {
            if ports.len() == n {
                break;
            }
            // The range in a seeded order: a prime stride visits every
            // port once unless the length is a multiple of it (then some
            // twice, and the fallback below fills what is missing).
            let offset = seed.wrapping_add(k.wrapping_mul(7919)) % len;
            let p = range.start + u16::try_from(offset).unwrap_or(0);
            if !given.contains(&p) && !ports.contains(&p) && bindable(p) {
                ports.push(p);
            }
        }
    }
    while ports.len() < n {
        let p = TcpListener::bind((ip, 0))?.local_addr()?.port();
        if !given.contains(&p) && !ports.contains(&p) {
            ports.push(p);
        }
    }
    given.extend(ports.iter().copied());
    Ok(ports)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn free_ports_are_distinct_bindable_new_and_outside_the_ephemeral_range() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let ports = free_ports(ip, 12).expect("free ports");
        let later = free_ports(ip, 12).expect("more free ports");
        let mut all: Vec<u16> = ports.iter().chain(&later).copied().collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(
            all.len(),
            24,
            "a port handed out twice: {ports:?} {later:?}"
        );
        // Each one can be listened on (the bind it was picked for).
        let held: Vec<_> = all
            .iter()
            .map(|p| TcpListener::bind((ip, *p)).expect("bind a picked port"))
            .collect();
        assert_eq!(held.len(), 24);
        if let Some(range) = reserved_range() {
            assert!(
                all.iter().all(|p| range.contains(p)),
                "{all:?} not all in {range:?}"
            );
            // An ephemeral port (what an outgoing connection gets) is never
            // among them.
            let eph = TcpListener::bind((ip, 0)).expect("bind port 0");
            let eph = eph.local_addr().expect("local addr").port();
            assert!(eph >= range.end, "ephemeral port {eph} below {range:?}");
        }
    }
}
