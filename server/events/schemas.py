"""Request and response bodies of the host side of events."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from db.queries.events import EventStatus, ViewerRole
from db.queries.invitations import InvitationStatus
from server.hosts.schemas import HostSummary
from server.locations.schemas import Location
from server.profiles.schemas import PublicProfile

PriceRange = Literal["$", "$$", "$$$", "$$$$"]

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=5000)]
Attendees = Annotated[int, msgspec.Meta(ge=1, le=100)]
Age = Annotated[int, msgspec.Meta(ge=18, le=120)]
Signpost = Annotated[str, msgspec.Meta(max_length=1000)]
Fee = Annotated[int, msgspec.Meta(ge=0, le=100_000, description="Cents; 0 = free")]
# Not every name ZoneInfo(name) loads: the system's "localtime" link and
# tzdata's "Factory" placeholder are no place. The service checks the name
# (422 `invalid_timezone`); the document lists them.
TIME_ZONES = frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules", "Factory"})
TimeZone = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        description="IANA name, e.g. America/Chicago",
        extra_json_schema={"enum": sorted(TIME_ZONES)},
    ),
]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]
StopTitle = Annotated[str, msgspec.Meta(max_length=200)]
StopDescription = Annotated[str, msgspec.Meta(max_length=2000)]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]

MAX_STOPS = 10
MAX_COLLABORATORS = 20


class EstimatedCost(msgspec.Struct, forbid_unknown_fields=True):
    """What attendees should expect to spend at the event; informational only."""

    range: PriceRange
    details: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class StopIn(msgspec.Struct, forbid_unknown_fields=True):
    location_id: uuid.UUID
    start_time: AwareTime
    end_time: AwareTime
    title: StopTitle | None = None
    description: StopDescription | None = None


class CollaboratorIn(msgspec.Struct, forbid_unknown_fields=True):
    """A Momento user (`user_id`, or their `profile_id`) or a named outsider."""

    user_id: uuid.UUID | None = None
    profile_id: uuid.UUID | None = None
    first_name: PersonName | None = None
    last_name: PersonName | None = None
    role: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    phone_number: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None


class EventCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    description: Description | None = None
    min_attendees: Attendees | None = None
    max_attendees: Attendees | None = None
    age_min: Age | None = None
    age_max: Age | None = None
    arrival_signpost: Signpost | None = None
    confirmation_fee: Fee = 0
    estimated_event_cost: EstimatedCost | None = None
    timezone: TimeZone = "America/New_York"
    stops: Annotated[list[StopIn], msgspec.Meta(max_length=MAX_STOPS)] = msgspec.field(
        default_factory=list
    )
    collaborators: Annotated[list[CollaboratorIn], msgspec.Meta(max_length=MAX_COLLABORATORS)] = (
        msgspec.field(default_factory=list)
    )


class EventPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Fields left out stay; null clears the optional ones (drafts only)."""

    title: Title | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    min_attendees: Attendees | UnsetType | None = UNSET
    max_attendees: Attendees | UnsetType | None = UNSET
    age_min: Age | UnsetType | None = UNSET
    age_max: Age | UnsetType | None = UNSET
    arrival_signpost: Signpost | UnsetType | None = UNSET
    confirmation_fee: Fee | UnsetType = UNSET
    estimated_event_cost: EstimatedCost | UnsetType | None = UNSET
    timezone: TimeZone | UnsetType = UNSET


class Stop(msgspec.Struct):
    """`location_id` and `location` are null for invitees who have not confirmed."""

    id: uuid.UUID
    order: int
    title: str | None
    description: str | None
    start_time: datetime
    end_time: datetime
    location_id: uuid.UUID | None
    location: Location | None


class Collaborator(msgspec.Struct):
    """`user_id` and `phone_number` are shown to the host only (null for others)."""

    id: uuid.UUID
    profile_id: uuid.UUID | None
    first_name: str | None
    last_name: str | None
    role: str | None
    user_id: uuid.UUID | None
    phone_number: str | None
    created_at: datetime


class Event(msgspec.Struct):
    id: uuid.UUID
    status: EventStatus
    viewer_role: ViewerRole
    host_id: uuid.UUID
    host: HostSummary
    title: str
    description: str | None
    min_attendees: int | None
    max_attendees: int | None
    age_min: int | None
    age_max: int | None
    arrival_signpost: str | None
    confirmation_fee: int
    estimated_event_cost: EstimatedCost | None
    price_level: int | None
    timezone: str
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    cancelled_at: datetime | None
    completed_at: datetime | None
    cancel_reason: Literal["host", "too_few_attendees"] | None
    stops: list[Stop]
    collaborators: list[Collaborator]


class InvitationCounts(msgspec.Struct):
    sent: int = 0
    pending_payment: int = 0
    confirmed: int = 0
    declined: int = 0
    expired: int = 0
    payment_failed: int = 0
    cancelled: int = 0


class HostedEvent(msgspec.Struct):
    id: uuid.UUID
    host_id: uuid.UUID
    title: str
    status: EventStatus
    timezone: str
    starts_at: datetime | None
    ends_at: datetime | None
    min_attendees: int | None
    max_attendees: int | None
    confirmation_fee: int
    created_at: datetime
    published_at: datetime | None
    cancelled_at: datetime | None
    completed_at: datetime | None
    invitation_counts: InvitationCounts


class Invitation(msgspec.Struct):
    id: uuid.UUID
    event_id: uuid.UUID
    profile_id: uuid.UUID
    status: InvitationStatus
    decline_reason: str | None
    match_reason: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    responded_at: datetime | None
    profile: PublicProfile


class InvitationList(msgspec.Struct):
    items: list[Invitation]
    next_cursor: str | None
    counts: InvitationCounts
