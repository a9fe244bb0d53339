// The browser's time zone, for pages that show times in it (the history charts): its IANA name where the browser
// knows it, and the offset from UTC now (minutes east), for a server that does not know the name.
export function timeZone() {
    return {
        name: Intl.DateTimeFormat().resolvedOptions().timeZone ?? null,
        offsetMinutes: -new Date().getTimezoneOffset(),
    };
}
