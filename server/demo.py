"""Demo data for a development database: people, hosts, photos, interests, likes.

`python -m server demo-data` (or `make demo`). Everything goes through the same
service functions the API uses, so the demo data obeys every rule the API
does. Demo people have fictional numbers (+1 202 555 01xx, a range reserved for
fiction), so the data is easy to spot; with AUTH_TEST_PHONE_PREFIX=+1202555
and a test code you can sign in as any of them.
"""

from __future__ import annotations

import io
import random
from datetime import date

import asyncpg
import msgspec
from PIL import Image, ImageDraw

from db.queries import users as users_q
from db.queries.profiles import Gender
from server.accounts import service as accounts
from server.accounts.schemas import AvailabilityPreferences, MePatch
from server.hosts import service as hosts
from server.hosts.schemas import HostProfileIn, HostType
from server.interests import service as interests
from server.locations import service as locations
from server.locations.schemas import LocationCreate
from server.pagination import PageParams
from server.photos import service as photos
from server.profiles import service as profiles
from server.profiles.schemas import SocialProfileIn, SocialProfilePatch
from server.storage import Storage

PHONE_PREFIX = "+1202555"
FIRST_DEMO_NUMBER = 100
MAX_PEOPLE = 90  # 0100..0189: people; 0190..0199: hosts

FIRST_NAMES = [
    "Ava", "Ben", "Chloe", "Diego", "Elena", "Farah", "Gabe", "Hana", "Isaac", "Jade",
    "Kofi", "Lena", "Marco", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara",
    "Umar", "Vera", "Wes", "Xia", "Yusuf", "Zoe",
]  # fmt: skip
OCCUPATIONS = [
    "Nurse", "Architect", "Teacher", "Software engineer", "Chef", "Photographer",
    "Paralegal", "Barista", "Product designer", "Physical therapist", "Musician",
]  # fmt: skip
NEIGHBOURHOODS = [
    "Brooklyn, NY", "Astoria, NY", "Harlem, NY", "Jersey City, NJ", "Williamsburg, NY",
    "Park Slope, NY", "Long Island City, NY", "Hoboken, NJ",
]  # fmt: skip
BIOS = [
    "Always up for a long walk and a good bookshop.",
    "Weekend hiker, weekday spreadsheet wrangler.",
    "Trying every dumpling spot in the city, one at a time.",
    "Board game collector looking for people to lose to.",
    "Vintage film nerd; will talk about Hitchcock for hours.",
    "New in town and saying yes to things.",
]
HOSTS: list[tuple[HostType, str, str, str | None]] = [
    ("community", "The Winslow", "Neighbourhood bar with trivia on Tuesdays.", "243 E 14th St"),
    ("user", "Sunday Strollers", "Easy walks through the city's hidden corners.", None),
    ("user", "Table for Six", "Small dinners with people you haven't met yet.", None),
]
GENDERS: list[Gender] = ["Woman", "Man", "Non-binary"]
COLOURS = [(231, 111, 81), (42, 157, 143), (233, 196, 106), (38, 70, 83), (244, 162, 97)]


class DemoSummary(msgspec.Struct):
    people: int
    hosts: int
    photos: int
    likes: int
    already_present: bool = False


def _picture(initial: str, colour: tuple[int, int, int], size: int = 512) -> bytes:
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((size // 4, size // 4, 3 * size // 4, 3 * size // 4), fill=(250, 250, 250))
    draw.text((size // 2 - 6, size // 2 - 8), initial, fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _availability(rng: random.Random) -> AvailabilityPreferences:
    return {
        day: {"day": rng.choice(["green", "yellow"]), "night": rng.choice(["green", "red"])}
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }


async def fill_demo_data(
    conn: asyncpg.Connection, storage: Storage, max_photo_bytes: int, people: int = 24
) -> DemoSummary:
    """Create `people` demo people and a few hosts; nothing if they exist already."""
    people = max(1, min(people, MAX_PEOPLE))
    rng = random.Random(2026)  # the same demo every time
    first_phone = f"{PHONE_PREFIX}{FIRST_DEMO_NUMBER:04d}"
    if await users_q.user_id_by_phone(conn, first_phone) is not None:
        return DemoSummary(people=0, hosts=0, photos=0, likes=0, already_present=True)

    catalog = await interests.search_interests(conn, None, PageParams(limit=100, cursor=None))
    interest_ids = [i.id for i in catalog.items]
    person_ids = []
    profile_ids = []
    photo_count = 0
    for n in range(people):
        user_id, _ = await users_q.get_or_create_by_phone(
            conn, f"{PHONE_PREFIX}{FIRST_DEMO_NUMBER + n:04d}"
        )
        await accounts.update_me(
            conn,
            user_id,
            MePatch(
                birth_date=date(1985 + n % 15, 1 + n % 12, 1 + n % 28),
                home_latitude=40.70 + rng.uniform(-0.08, 0.08),
                home_longitude=-73.95 + rng.uniform(-0.08, 0.08),
                availability_preferences=_availability(rng),
                price_sensitivity=rng.randint(1, 4),
            ),
            date.today(),
        )
        gender = GENDERS[n % len(GENDERS)]
        interested_in = rng.sample(GENDERS, k=rng.randint(1, 2))
        name = FIRST_NAMES[n % len(FIRST_NAMES)]
        profile, _ = await profiles.put_profile(
            conn,
            user_id,
            SocialProfileIn(
                gender=gender,
                interested_in=interested_in,
                first_name=name,
                bio=rng.choice(BIOS),
                occupation=rng.choice(OCCUPATIONS),
                location=rng.choice(NEIGHBOURHOODS),
            ),
        )
        await interests.replace_my_interests(conn, user_id, rng.sample(interest_ids, k=5))
        photo = await photos.add_profile_photo(
            conn,
            storage,
            user_id,
            _picture(name[0], rng.choice(COLOURS)),
            is_in_app_photo=True,
            max_bytes=max_photo_bytes,
        )
        photo_count += 1
        await profiles.patch_profile(
            conn,
            user_id,
            SocialProfilePatch(current_photo_id=photo.id, current_face_card_photo_id=photo.id),
        )
        person_ids.append(user_id)
        profile_ids.append(profile.id)

    for n, (host_type, host_name, bio, address) in enumerate(HOSTS):
        user_id, _ = await users_q.get_or_create_by_phone(
            conn, f"{PHONE_PREFIX}{FIRST_DEMO_NUMBER + MAX_PEOPLE + n:04d}"
        )
        location_id = None
        if address is not None:
            place = LocationCreate(
                latitude=40.7326, longitude=-73.9857, name=host_name, address=address
            )
            location_id = (await locations.create_location(conn, user_id, place)).id
        await hosts.put_host(
            conn,
            user_id,
            HostProfileIn(
                host_name=host_name, host_type=host_type, host_bio=bio, location_id=location_id
            ),
        )
        await photos.add_host_photo(
            conn,
            storage,
            user_id,
            _picture(host_name[0], COLOURS[n % len(COLOURS)]),
            photo_type="logo",
            caption=f"{host_name} logo",
            max_bytes=max_photo_bytes,
        )
        photo_count += 1

    likes = 0
    for user_id, own_profile in zip(person_ids, profile_ids, strict=True):
        for liked in rng.sample(profile_ids, k=min(3, len(profile_ids))):
            if liked != own_profile:
                await profiles.like(conn, user_id, liked)
                likes += 1
    return DemoSummary(people=people, hosts=len(HOSTS), photos=photo_count, likes=likes)
