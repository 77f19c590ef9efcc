// Parse an .ics file with Mozilla's ical.js and print its events as JSON:
// [{uid, start, end, summary, description, categories, sequence, dtstamp, allDay}]
// Usage: node tests/node/parse.mjs FILE.ics
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const path = process.argv[2];
if (!path) {
  console.error("usage: node parse.mjs FILE.ics");
  process.exit(2);
}
const calendar = new ICAL.Component(ICAL.parse(readFileSync(path, "utf8")));
const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  const categories = vevent.getAllProperties("categories").flatMap((p) => p.getValues());
  return {
    uid: event.uid,
    start: event.startDate.toString(),
    end: event.endDate.toString(),
    allDay: event.startDate.isDate && event.endDate.isDate,
    summary: event.summary,
    description: event.description,
    categories,
    sequence: event.sequence,
    dtstamp: vevent.getFirstPropertyValue("dtstamp").toString(),
  };
});
const calendarProps = {
  name: calendar.getFirstPropertyValue("x-wr-calname"),
  refresh: String(calendar.getFirstPropertyValue("refresh-interval")),
  method: calendar.getFirstPropertyValue("method"),
};
process.stdout.write(JSON.stringify({ calendar: calendarProps, events }));
