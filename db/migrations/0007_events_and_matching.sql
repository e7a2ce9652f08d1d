-- Events get what their lifecycle and the matching worker need, and users get
-- an index that finds "everyone whose travel radius reaches this point".

-- ─────────────────────────────── Events ───────────────────────────────

ALTER TABLE events
    -- IANA zone of the event's place: the weekday and day/night slot that
    -- availability_preferences speak of are local, and stops are stored in UTC.
    ADD COLUMN timezone     text NOT NULL DEFAULT 'America/New_York',
    -- First stop's start and last stop's end, kept by the code that writes the
    -- stops (same transaction), so lists, overlap checks and the scheduled
    -- jobs need no aggregate over stops. NULL while there are no timed stops.
    ADD COLUMN starts_at    timestamptz,
    ADD COLUMN ends_at      timestamptz,
    -- estimated_event_cost.range "$".."$$$$" as the 1..4 level that
    -- users.price_sensitivity filters on; NULL (no range) passes every filter.
    ADD COLUMN price_level  smallint GENERATED ALWAYS AS (
        CASE estimated_event_cost ->> 'range'
            WHEN '$' THEN 1 WHEN '$$' THEN 2 WHEN '$$$' THEN 3 WHEN '$$$$' THEN 4
        END) STORED,
    ADD COLUMN completed_at timestamptz,
    ADD COLUMN cancel_reason text
        CHECK (cancel_reason IN ('host', 'too_few_attendees')),
    -- Matching bookkeeping (internal).
    ADD COLUMN match_waves  integer NOT NULL DEFAULT 0,
    ADD COLUMN last_wave_at timestamptz,
    ADD CONSTRAINT events_estimated_cost_range CHECK (
        estimated_event_cost IS NULL
        OR NOT estimated_event_cost ? 'range'
        OR estimated_event_cost ->> 'range' IN ('$', '$$', '$$$', '$$$$')),
    ADD CONSTRAINT events_span_order CHECK (ends_at > starts_at);

-- The scheduled jobs' working sets.
CREATE INDEX events_published_starts_at_idx ON events (starts_at) WHERE status = 'published';
CREATE INDEX events_published_ends_at_idx ON events (ends_at) WHERE status = 'published';
-- The host dashboard, newest first.
CREATE INDEX events_host_id_created_at_idx ON events (host_id, created_at DESC, id DESC);

-- ───────────────────────────── Invitations ─────────────────────────────

ALTER TABLE invitations
    -- Internal: which wave sent it and the ranking score it had then.
    ADD COLUMN wave        integer,
    ADD COLUMN match_score double precision;

-- "How often was this person invited lately" (ranking spreads invitations out).
CREATE INDEX invitations_profile_id_created_at_idx ON invitations (profile_id, created_at);

-- ───────────────────────── Geography for matching ─────────────────────────

-- Great-circle distance in statute miles (haversine; mean Earth radius).
CREATE FUNCTION distance_miles(lat1 double precision, lng1 double precision,
                               lat2 double precision, lng2 double precision)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 2 * 3958.7613 * asin(least(1.0, sqrt(
        sin(radians(lat2 - lat1) / 2) ^ 2
        + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lng2 - lng1) / 2) ^ 2)));

-- A lat/lng box (x = longitude, y = latitude) that contains every point within
-- `miles` of the centre. Deliberately a little too big: 69.0 miles per degree
-- is less than a degree of latitude, or of longitude at the equator, on the
-- sphere distance_miles() uses (69.093), and the longitude span is taken at
-- the box's edge nearest a pole. The exact distance_miles() check follows it.
-- Not for the antimeridian or the poles, where no user of a US-only product lives.
CREATE FUNCTION reach_box(lat double precision, lng double precision, miles integer)
    RETURNS box
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN box(
        point(lng - miles / (69.0 * greatest(cos(radians(least(abs(lat) + miles / 69.0, 89.0))), 0.01)),
              lat - miles / 69.0),
        point(lng + miles / (69.0 * greatest(cos(radians(least(abs(lat) + miles / 69.0, 89.0))), 0.01)),
              lat + miles / 69.0));

-- Each user's reach (home ± distance_preference) as a GiST-indexed box: a
-- candidate search asks "whose reach contains the first stop" and reads only
-- the users who can travel there, whatever each one's own radius.
CREATE INDEX users_reach_idx ON users
    USING gist (reach_box(home_latitude, home_longitude, distance_preference))
    WHERE status = 'active' AND home_latitude IS NOT NULL;
