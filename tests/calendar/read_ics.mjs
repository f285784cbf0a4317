// Parse iCalendar files with Mozilla's ical.js (Thunderbird's parser) and print what a calendar client sees.
// Usage: node read_ics.mjs FILE [FROM_ISO UNTIL_ISO]  -> one JSON object per line per event (or occurrence).
import ICAL from 'ical.js';
import { readFileSync } from 'node:fs';

const [file, from, until] = process.argv.slice(2);
const root = new ICAL.Component(ICAL.parse(readFileSync(file, 'utf8')));
for (const tz of root.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
const method = root.getFirstPropertyValue('method');
for (const vevent of root.getAllSubcomponents('vevent')) {
  const event = new ICAL.Event(vevent);
  const base = {
    uid: event.uid, sequence: event.sequence, summary: event.summary, method,
    status: vevent.getFirstPropertyValue('status'), allDay: event.startDate.isDate,
    organizer: vevent.getFirstPropertyValue('organizer'),
    attendees: vevent.getAllProperties('attendee').map(p => p.getFirstValue()),
    rrule: vevent.getFirstPropertyValue('rrule')?.toString() ?? null,
    conference: vevent.getFirstPropertyValue('conference'), url: vevent.getFirstPropertyValue('url'),
    location: vevent.getFirstPropertyValue('location'), description: vevent.getFirstPropertyValue('description'),
  };
  if (from && event.isRecurring()) {
    const iterator = event.iterator();
    const stop = new Date(until);
    for (let next = iterator.next(); next; next = iterator.next()) {
      const occurrence = event.getOccurrenceDetails(next);
      const start = occurrence.startDate.toJSDate();
      if (start >= stop) break;
      if (start < new Date(from)) continue;
      const exdates = vevent.getAllProperties('exdate').flatMap(p => p.getValues()).map(v => v.toJSDate().getTime());
      if (exdates.includes(start.getTime())) continue;
      console.log(JSON.stringify({ ...base, startUTC: start.toISOString(), endUTC: occurrence.endDate.toJSDate().toISOString() }));
    }
  } else {
    const start = event.startDate.toJSDate();
    if (from && (start < new Date(from) || start >= new Date(until))) continue;
    console.log(JSON.stringify({
      ...base, startUTC: event.startDate.toJSDate().toISOString(), endUTC: event.endDate.toJSDate().toISOString(),
    }));
  }
}
