// Date-times as users write them and as IBM's identity API wants them: read strictly (a zone is required,
// a day the calendar lacks is refused), formatted as `yyyy-MM-ddTHH:mm+0000`.

/**
 * Reads a date-time: `yyyy-MM-ddTHH:mm[:ss[.fff]]` then `Z` or an offset `±hh[:]mm`. With `rfc3339`
 * the seconds and the offset's colon are required. Returns epoch milliseconds or what is wrong:
 * "unreadable", "no-zone" or a description of the impossible part ("2030-02-30 does not exist").
 */
export function readDateTime(value: string, format: "ibm" | "rfc3339" = "ibm"): { ms: number } | { problem: string } {
    const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$/.exec(value);
    if (!m) return { problem: "unreadable" };
    const [, y, mo, d, h, mi, sec, frac, zone] = m;
    if (format === "rfc3339" && (sec === undefined || (zone !== undefined && /^[+-]\d{4}$/.test(zone)))) return { problem: "unreadable" };
    if (zone === undefined) return { problem: "no-zone" };
    const year = Number(y),
        month = Number(mo),
        day = Number(d),
        hour = Number(h),
        minute = Number(mi),
        second = Number(sec ?? "0");
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const daysInMonth = month >= 1 && month <= 12 ? [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] : 0;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return { problem: `${y}-${mo}-${d} does not exist` };
    if (hour > 23 || minute > 59 || second > 59) return { problem: `${h}:${mi}${sec !== undefined ? `:${sec}` : ""} is not a time of day` };
    let offsetMinutes = 0;
    if (!/^[Zz]$/.test(zone)) {
        const oh = Number(zone.slice(1, 3));
        const om = Number(zone.slice(-2));
        if (oh > 23 || om > 59) return { problem: `${zone} is not a time zone offset` };
        offsetMinutes = (zone[0] === "-" ? -1 : 1) * (oh * 60 + om);
    }
    // Not Date.UTC(year, …): it reads years 0–99 as 1900–1999.
    const at = new Date(0);
    at.setUTCFullYear(year, month - 1, day);
    at.setUTCHours(hour, minute, second, frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
    return { ms: at.getTime() - offsetMinutes * 60_000 };
}

/** Parses IBM's `2030-01-31T12:00+0000` and ordinary ISO-8601 with a zone; returns epoch milliseconds. */
export function parseIbmDateTime(value: string): number | undefined {
    const r = readDateTime(value, "ibm");
    return "ms" in r ? r.ms : undefined;
}

/** Formats epoch milliseconds the way IBM's identity API expects: `2030-01-31T12:00+0000`. */
export function formatIbmDateTime(ms: number): string {
    return new Date(ms).toISOString().slice(0, 16) + "+0000";
}
