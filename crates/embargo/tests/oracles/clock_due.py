"""An independent computation of policy clock due times, for the differential
test of `embargo policy simulate` (crates/embargo/tests/it/simulate.rs).

It shares no code or algorithm with embargo's calendar: business time is
found by walking real time minute by minute in UTC, converting each minute
to the policy's local wall clock with Python's `zoneinfo`, and crediting the
local minutes that fall inside business periods. The wall clock is the
measure (embargo's documented rule): when clocks go forward, the local
minutes jumped over are credited as the wall clock shows them passing; when
clocks go back, the repeated local time is credited once (nothing is
credited until the wall clock passes the latest time already credited). A
pause stops the walk; the walk restarts from the wall clock at the resume.
Calendar days are added to the local date at the same local time; a local
time that occurs twice means the first, one that never occurs means the
moment the clock jumps past it.

Reads a JSON list of scenarios on stdin; writes the list of due instants
(ISO 8601 UTC, or null) on stdout.
"""

import json
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)
UTC = timezone.utc


def parse_utc(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def wall(t, zone):
    """The local wall-clock time of instant t, without zone."""
    return t.astimezone(zone).replace(tzinfo=None)


def is_business_minute(local_minute, s):
    """Whether the local minute starting at local_minute is business time."""
    d = local_minute.date()
    if d.weekday() not in s["working_days"]:
        return False
    if d.isoformat() in s["holidays"]:
        return False
    if s["hours"] is None:
        return True
    opening, closing = s["hours"]
    hm = local_minute.strftime("%H:%M")
    return opening <= hm < closing


def credit(frm, to, s):
    """Business minutes of the local wall clock from frm to to (naive)."""
    n = 0
    m = frm
    while m < to:
        if is_business_minute(m, s):
            n += 1
        m += MINUTE
    return n


def business_due(s, zone, start, amount_minutes, pauses):
    """Walk real minutes from start, crediting business wall-clock minutes."""
    credited = 0
    t = start
    high = wall(t, zone)
    limit = start + timedelta(days=3 * 366)
    while t < limit:
        paused = next((p for p in pauses if p[0] <= t and (p[1] is None or t < p[1])), None)
        if paused is not None:
            if paused[1] is None:
                return None
            t = paused[1]
            high = wall(t, zone)
            continue
        nxt = t + MINUTE
        local = wall(nxt, zone)
        if local > high:
            gained = credit(high, local, s)
            if credited + gained >= amount_minutes:
                # Reached within this minute; when the wall clock jumped
                # forward past the due time, the jump is the due instant.
                return nxt
            credited += gained
            high = local
        t = nxt
    return None


def elapsed_due(start, remaining, pauses):
    """Elapsed time from start, stopped during the pauses."""
    t = start
    for a, b in sorted(pauses, key=lambda p: p[0]):
        if b is not None and b <= t:
            continue
        if a > t:
            if t + remaining <= a:
                return t + remaining
            remaining -= a - t
        if b is None:
            return None
        t = max(t, b)
    return t + remaining


def instant_of(local, zone):
    """The instant a local time names: the first when it occurs twice, the
    jump past it when it never occurs."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if wall(first, zone) == local:
        second = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
        return min(first, second) if wall(second, zone) == local else first
    # In a gap: the first minute whose wall clock is at or after local.
    t = (local - timedelta(hours=15)).replace(tzinfo=UTC)
    t = t.replace(second=0, microsecond=0)
    while wall(t, zone) < local:
        t += MINUTE
    return t


def add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return d.replace(year=year, month=month, day=min(d.day, last))


def due(s):
    zone = ZoneInfo(s["time_zone"])
    start = parse_utc(s["start"])
    pauses = [(parse_utc(a), parse_utc(b) if b else None) for a, b in s["pauses"]]
    unit, amount = s["unit"], s["amount"]
    if unit == "hours":
        return elapsed_due(start, timedelta(hours=amount), pauses)
    if unit in ("business_days", "business_hours"):
        if unit == "business_days":
            if s["hours"] is None:
                per_day = 24 * 60
            else:
                o, c = (datetime.strptime(x, "%H:%M") for x in s["hours"])
                per_day = int((c - o).total_seconds() // 60)
            minutes = amount * per_day
        else:
            minutes = amount * 60
        return business_due(s, zone, start, minutes, pauses)
    local = wall(start, zone)
    if unit == "days":
        return instant_of(local + timedelta(days=amount), zone)
    if unit == "months":
        return instant_of(add_months(local, amount), zone)
    raise ValueError(unit)


def main():
    scenarios = json.load(sys.stdin)
    out = []
    for s in scenarios:
        d = due(s)
        out.append(None if d is None else d.strftime("%Y-%m-%dT%H:%M:%SZ"))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
