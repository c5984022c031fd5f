//! The daily connect windows of a user JWT (`times`, in the zone named by
//! `times_location`): whether a user may log in now, and for how long.
//!
//! Each window is a start and an end, `H:MM:SS` or `HH:MM:SS`, taken on the
//! current day in the user's zone (the server's local zone when the JWT
//! names none). The user may connect while now is strictly after a window's
//! start and strictly before its end; a window whose start is after its end
//! runs over midnight (22:00:00 to 06:00:00 covers 05:00 and 23:30). When
//! several windows are open, the one that stays open longest counts. The
//! connection is cut when its window closes, as nats-server does.
//!
//! A JWT whose windows or zone cannot be read lets nobody in.
use std::time::Duration;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

use crate::jwt::TimeRange;

/// Whether `now` is inside one of `times` (in `location`): `Ok(None)` when
/// there are no windows (always allowed), `Ok(Some(d))` when allowed for
/// `d` more, `Err(reason)` when outside every window or unreadable.
pub(crate) fn connect_window(
    times: &[TimeRange],
    location: &str,
    now: Timestamp,
) -> Result<Option<Duration>, String> {
    if times.is_empty() {
        return Ok(None);
    }
    let zone = time_zone(location)?;
    let now = now.to_zoned(zone);
    let mut best: Option<SignedDuration> = None;
    for range in times {
        let start = on_day(&now, &range.start)?;
        let end = on_day(&now, &range.end)?;
        if let Some(left) = time_left(&start, &end, &now)? {
            if best.is_none_or(|b| left > b) {
                best = Some(left);
            }
        }
    }
    match best {
        Some(left) => Ok(Some(left.unsigned_abs())),
        None => Err("outside connect times".to_string()),
    }
}

/// The zone `location` names: an IANA name, `UTC`, or `Local` / empty for
/// the server's own.
fn time_zone(location: &str) -> Result<TimeZone, String> {
    if location.is_empty() || location == "Local" {
        return Ok(TimeZone::system());
    }
    TimeZone::get(location).map_err(|e| format!("times_location {location:?}: {e}"))
}

/// `clock` (`H:MM:SS`) on the day of `now`, in its zone.
fn on_day(now: &Zoned, clock: &str) -> Result<Zoned, String> {
    let time =
        parse_clock(clock).ok_or_else(|| format!("connect time {clock:?} is not HH:MM:SS"))?;
    now.with()
        .time(time)
        .build()
        .map_err(|e| format!("connect time {clock:?}: {e}"))
}

/// Reads `H:MM:SS` or `HH:MM:SS` (hours 0 to 23).
fn parse_clock(clock: &str) -> Option<Time> {
    let mut parts = clock.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || !(1..=2).contains(&h.len())
        || m.len() != 2
        || s.len() != 2
        || ![h, m, s]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (h, m, s) = (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?);
    Time::new(h, m, s, 0).ok()
}

/// How long `now` stays inside the window `start`..`end` (both on `now`'s
/// day), or `None` when it is outside.
fn time_left(start: &Zoned, end: &Zoned, now: &Zoned) -> Result<Option<SignedDuration>, String> {
    if start < now && end > now {
        return Ok(Some(now.duration_until(end)));
    }
    if start > end {
        // Over midnight: the early morning part ends today...
        if end > now {
            return Ok(Some(now.duration_until(end)));
        }
        // ...and the evening part ends tomorrow.
        let tomorrow = end
            .tomorrow()
            .map_err(|e| format!("connect time window end: {e}"))?;
        if start < now && &tomorrow > now {
            return Ok(Some(now.duration_until(&tomorrow)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: &str, end: &str) -> TimeRange {
        TimeRange {
            start: start.into(),
            end: end.into(),
        }
    }

    /// A UTC instant on 2026-12-07 at `clock`.
    fn utc(clock: &str) -> Timestamp {
        format!("2026-12-07T{clock}Z").parse().unwrap()
    }

    #[test]
    fn no_windows_always_allows() {
        assert_eq!(connect_window(&[], "UTC", utc("03:00:00")), Ok(None));
    }

    #[test]
    fn inside_a_day_window_gives_the_time_to_its_end() {
        let times = [window("11:00:00", "22:00:00")];
        assert_eq!(
            connect_window(&times, "UTC", utc("13:00:00")),
            Ok(Some(Duration::from_secs(9 * 3600)))
        );
        assert!(connect_window(&times, "UTC", utc("10:59:59")).is_err());
        // The bounds themselves are outside.
        assert!(connect_window(&times, "UTC", utc("11:00:00")).is_err());
        assert!(connect_window(&times, "UTC", utc("22:00:00")).is_err());
    }

    #[test]
    fn windows_over_midnight_cover_both_sides() {
        let times = [window("22:00:00", "06:00:00")];
        assert_eq!(
            connect_window(&times, "UTC", utc("05:00:00")),
            Ok(Some(Duration::from_secs(3600)))
        );
        assert_eq!(
            connect_window(&times, "UTC", utc("23:30:00")),
            Ok(Some(Duration::from_secs(6 * 3600 + 1800)))
        );
        assert!(connect_window(&times, "UTC", utc("12:00:00")).is_err());
    }

    #[test]
    fn the_longest_open_window_counts() {
        let times = [
            window("08:00:00", "10:00:00"),
            window("07:00:00", "12:00:00"),
        ];
        assert_eq!(
            connect_window(&times, "UTC", utc("09:00:00")),
            Ok(Some(Duration::from_secs(3 * 3600)))
        );
    }

    #[test]
    fn windows_are_read_in_the_users_zone() {
        // 13:00 UTC is 08:00 in New York in December (UTC-5).
        let times = [window("7:30:00", "09:00:00")];
        assert_eq!(
            connect_window(&times, "America/New_York", utc("13:00:00")),
            Ok(Some(Duration::from_secs(3600)))
        );
        assert!(connect_window(&times, "UTC", utc("13:00:00")).is_err());
    }

    #[test]
    fn unreadable_windows_or_zones_let_nobody_in() {
        let now = utc("12:00:00");
        for bad in [
            "25:00:00",
            "12:0:00",
            "noon",
            "12:00",
            "12:00:00:00",
            "+1:00:00",
        ] {
            let times = [window(bad, "23:00:00")];
            assert!(connect_window(&times, "UTC", now).is_err(), "{bad}");
        }
        let times = [window("00:00:00", "23:59:59")];
        assert!(connect_window(&times, "Mars/Olympus_Mons", now).is_err());
        assert!(connect_window(&times, "UTC", now).is_ok());
    }
}
