-- After the event: check-in, attendance precedence, the attendance window's
-- close, gallery thumbnails (docs/API_NOTES.md "After the event").

-- Who decided an attendance row, for the precedence rule: a geo check-in, the
-- host or a collaborator, another attendee, the system's close of attendance
-- (no_show, check_in_abandoned) or the cancel route (cancelled_late).
ALTER TABLE attendance
    ADD COLUMN source text NOT NULL DEFAULT 'system'
        CHECK (source IN ('check_in', 'host', 'attendee', 'system', 'cancellation')),
    ADD COLUMN check_in_accuracy_meters double precision
        CHECK (check_in_accuracy_meters >= 0),
    -- The stop whose window held the check-in.
    ADD COLUMN check_in_stop_id uuid
        REFERENCES event_itinerary_stops (id) ON DELETE SET NULL;
UPDATE attendance SET source = 'cancellation' WHERE status = 'cancelled_late';
UPDATE attendance SET source = 'check_in' WHERE check_in_latitude IS NOT NULL;
CREATE INDEX attendance_check_in_stop_id_idx
    ON attendance (check_in_stop_id) WHERE check_in_stop_id IS NOT NULL;
-- Who attended an event (Memory Book, conversations, ratings, kudos).
CREATE INDEX attendance_event_id_attended_idx
    ON attendance (event_id) WHERE status = 'attended';

-- Check-ins refused as too far. Whoever tried and never checked in ends as
-- 'check_in_abandoned' rather than 'no_show' when attendance closes.
CREATE TABLE check_in_attempts (
    event_id        uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    profile_id      uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    attempts        integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    -- The nearest refused attempt, in metres from the stop.
    nearest_meters  double precision NOT NULL CHECK (nearest_meters >= 0),
    last_attempt_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, profile_id)
);
CREATE INDEX check_in_attempts_profile_id_idx ON check_in_attempts (profile_id);

-- Set once the attendance report window has closed and the rest of the
-- confirmed invitees were marked; a rerun of the job skips the event.
ALTER TABLE events ADD COLUMN attendance_closed_at timestamptz;
CREATE INDEX events_attendance_open_idx
    ON events (ends_at) WHERE status = 'completed' AND attendance_closed_at IS NULL;

-- Gallery photos get a thumbnail like profile photos (both storage keys).
ALTER TABLE event_photos ADD COLUMN thumbnail_url text;
CREATE INDEX event_photos_event_id_uploader_user_id_idx
    ON event_photos (event_id, uploader_user_id);
