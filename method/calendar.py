"""Meetings and review dates as iCalendar (RFC 5545), through the icalendar package. An event
says only that there is an Avhopp meeting or review and links to the case page, which asks
for a login: a synced phone calendar must not carry names or case content."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from method.selectors import CalendarEvent


def agreement_calendar(events: Iterable[CalendarEvent], *, base_url: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Avhopp//Metodstöd//SV")
    calendar.add("version", "2.0")
    stamp = timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    host = base_url.split("//", 1)[-1].split("/", 1)[0] or "avhopp"
    for item in events:
        event = Event()
        event.add("uid", f"{item.uid}@{host}")
        event.add("dtstamp", stamp)
        event.add("summary", item.summary)
        if item.at is None:
            event.add("dtstart", item.day)
        else:
            event.add("dtstart", datetime.combine(item.day, item.at, tzinfo=zone))
        event.add("url", urljoin(base_url, item.path))
        event.add("class", "CONFIDENTIAL")
        calendar.add_component(event)
    return calendar.to_ical()
