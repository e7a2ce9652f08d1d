-- 0015_match_candidates: one narrow, geographically ordered row per person who
-- can be matched, holding everything the candidate query filters and scores on.
--
-- The candidate search used to read one row per candidate from six tables
-- (users, social_profiles, two vectors, metrics, plus probes), nearly all of
-- them random reads. match_candidates is the same data in one row, derived
-- from the source tables by the view match_candidates_computed (the one
-- definition of a row) and kept current by triggers on those tables, in the
-- transaction of every change, whatever code path makes it (docs/MATCHING.md,
-- "The candidate table").

-- distance_miles as in 0007, clamped with float8smaller instead of least():
-- least() is not a strict function, so PostgreSQL could not inline the old
-- body and called it as a function, ~3 us a row, most of a dense search.
CREATE OR REPLACE FUNCTION distance_miles(lat1 double precision, lng1 double precision,
                                          lat2 double precision, lng2 double precision)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 2 * 3958.7613 * asin(float8smaller(1.0, sqrt(
        sin(radians(lat2 - lat1) / 2) ^ 2
        + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lng2 - lng1) / 2) ^ 2)));

-- Bit of a (weekday, slot) of users.availability_preferences; NULL for a name
-- that is neither (server/matching/slots.py names them).
CREATE FUNCTION availability_slot_bit(weekday text, slot text)
    RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 1 << (2 * (array_position(ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
                                     weekday) - 1)
                 + array_position(ARRAY['day', 'night'], slot) - 1);

-- The slots a person marked "red" (not available), as bits. Written out
-- slot by slot (no subquery, not STRICT) so that PostgreSQL inlines it.
CREATE FUNCTION red_slots(prefs jsonb)
    RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN prefs -> 'mon' ->> 'day' = 'red' THEN availability_slot_bit('mon', 'day') ELSE 0 END
         | CASE WHEN prefs -> 'mon' ->> 'night' = 'red' THEN availability_slot_bit('mon', 'night') ELSE 0 END
         | CASE WHEN prefs -> 'tue' ->> 'day' = 'red' THEN availability_slot_bit('tue', 'day') ELSE 0 END
         | CASE WHEN prefs -> 'tue' ->> 'night' = 'red' THEN availability_slot_bit('tue', 'night') ELSE 0 END
         | CASE WHEN prefs -> 'wed' ->> 'day' = 'red' THEN availability_slot_bit('wed', 'day') ELSE 0 END
         | CASE WHEN prefs -> 'wed' ->> 'night' = 'red' THEN availability_slot_bit('wed', 'night') ELSE 0 END
         | CASE WHEN prefs -> 'thu' ->> 'day' = 'red' THEN availability_slot_bit('thu', 'day') ELSE 0 END
         | CASE WHEN prefs -> 'thu' ->> 'night' = 'red' THEN availability_slot_bit('thu', 'night') ELSE 0 END
         | CASE WHEN prefs -> 'fri' ->> 'day' = 'red' THEN availability_slot_bit('fri', 'day') ELSE 0 END
         | CASE WHEN prefs -> 'fri' ->> 'night' = 'red' THEN availability_slot_bit('fri', 'night') ELSE 0 END
         | CASE WHEN prefs -> 'sat' ->> 'day' = 'red' THEN availability_slot_bit('sat', 'day') ELSE 0 END
         | CASE WHEN prefs -> 'sat' ->> 'night' = 'red' THEN availability_slot_bit('sat', 'night') ELSE 0 END
         | CASE WHEN prefs -> 'sun' ->> 'day' = 'red' THEN availability_slot_bit('sun', 'day') ELSE 0 END
         | CASE WHEN prefs -> 'sun' ->> 'night' = 'red' THEN availability_slot_bit('sun', 'night') ELSE 0 END;

-- Sort key for the physical order: stripes of 0.1 degree of latitude (~7
-- miles), west to east within a stripe, so the people around one place sit on
-- a few runs of pages.
CREATE FUNCTION geo_key(lat double precision, lng double precision)
    RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN floor((lat + 90) * 10)::bigint * 10000000 + floor((lng + 180) * 10000)::bigint;

-- Who can be matched at all (active, with a social profile, a home and a
-- birth date) and what the search needs of them. Of each kind of interest
-- vector the newest is kept with its type and model: the search compares it
-- only when both are the ones it ranks with, and otherwise reads the source
-- row (only while a new vector version is being rolled out).
CREATE VIEW match_candidates_computed AS
SELECT u.id AS user_id,
       sp.id AS profile_id,
       geo_key(u.home_latitude, u.home_longitude) AS geo_key,
       u.home_latitude,
       u.home_longitude,
       u.distance_preference,
       u.birth_date,
       coalesce(u.price_sensitivity, 4) AS price_sensitivity,
       red_slots(u.availability_preferences) AS red_slots,
       u.min_lead_time_days,
       sp.gender,
       sp.interested_in,
       m.absentee_rating,
       m.contribution_score,
       pv.vector_type AS positive_type,
       pv.embedding_model AS positive_model,
       nv.vector_type AS negative_type,
       nv.embedding_model AS negative_model,
       pv.vector AS positive,
       nv.vector AS negative
FROM users u
JOIN social_profiles sp ON sp.user_id = u.id
LEFT JOIN user_internal_metrics m ON m.user_id = u.id
LEFT JOIN LATERAL (
    SELECT v.vector_type, v.embedding_model, v.vector FROM user_interest_vectors v
    WHERE v.user_id = u.id AND v.vector_type LIKE 'positive\_%'
    ORDER BY v.updated_at DESC, v.vector_type DESC LIMIT 1
) pv ON true
LEFT JOIN LATERAL (
    SELECT v.vector_type, v.embedding_model, v.vector FROM user_interest_vectors v
    WHERE v.user_id = u.id AND v.vector_type LIKE 'negative\_%'
    ORDER BY v.updated_at DESC, v.vector_type DESC LIMIT 1
) nv ON true
WHERE u.status = 'active' AND u.home_latitude IS NOT NULL AND u.birth_date IS NOT NULL;

CREATE TABLE match_candidates AS SELECT * FROM match_candidates_computed WITH NO DATA;
ALTER TABLE match_candidates
    ADD PRIMARY KEY (user_id),
    ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    ALTER COLUMN profile_id SET NOT NULL,
    ALTER COLUMN geo_key SET NOT NULL,
    ALTER COLUMN home_latitude SET NOT NULL,
    ALTER COLUMN home_longitude SET NOT NULL,
    ALTER COLUMN distance_preference SET NOT NULL,
    ALTER COLUMN birth_date SET NOT NULL,
    ALTER COLUMN price_sensitivity SET NOT NULL,
    ALTER COLUMN red_slots SET NOT NULL,
    ALTER COLUMN min_lead_time_days SET NOT NULL,
    ALTER COLUMN gender SET NOT NULL,
    ALTER COLUMN interested_in SET NOT NULL,
    -- A row with both 384-dimension vectors is ~3.3 KB: keep it whole on its
    -- page (the default moves values out to TOAST above ~2 KB, a random read
    -- each). Rows of bigger vectors still go to TOAST when they must.
    SET (toast_tuple_target = 8160);

INSERT INTO match_candidates SELECT * FROM match_candidates_computed ORDER BY geo_key;

-- "Whose reach contains this stop", as users_reach_idx answered on users.
CREATE INDEX match_candidates_reach_idx ON match_candidates
    USING gist (reach_box(home_latitude, home_longitude, distance_preference));
-- The physical order: CLUSTER uses it (the recluster_match_candidates job).
CREATE INDEX match_candidates_geo_key_idx ON match_candidates (geo_key);
ALTER TABLE match_candidates CLUSTER ON match_candidates_geo_key_idx;

-- The search no longer reads users for candidates.
DROP INDEX users_reach_idx;

-- Recompute one person's row from the source tables.
--
-- A transaction-scoped lock per person serialises refreshes: a second
-- transaction changing the same person waits until the first commits, and
-- its next statement (a new snapshot, in READ COMMITTED) then reads both
-- changes, so the row written last is computed from everything committed.
-- Under REPEATABLE READ the snapshot would stay old, hence the refusal.
CREATE FUNCTION refresh_match_candidate(person uuid)
    RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'match_candidates is kept only by READ COMMITTED transactions';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('match_candidate:' || person::text, 0));
    INSERT INTO match_candidates AS c SELECT * FROM match_candidates_computed WHERE user_id = person
    ON CONFLICT (user_id) DO UPDATE SET
        (profile_id, geo_key, home_latitude, home_longitude, distance_preference, birth_date,
         price_sensitivity, red_slots, min_lead_time_days, gender, interested_in,
         absentee_rating, contribution_score, positive_type, positive_model, negative_type,
         negative_model, positive, negative)
        = (EXCLUDED.profile_id, EXCLUDED.geo_key, EXCLUDED.home_latitude,
           EXCLUDED.home_longitude, EXCLUDED.distance_preference, EXCLUDED.birth_date,
           EXCLUDED.price_sensitivity, EXCLUDED.red_slots, EXCLUDED.min_lead_time_days,
           EXCLUDED.gender, EXCLUDED.interested_in, EXCLUDED.absentee_rating,
           EXCLUDED.contribution_score, EXCLUDED.positive_type, EXCLUDED.positive_model,
           EXCLUDED.negative_type, EXCLUDED.negative_model, EXCLUDED.positive,
           EXCLUDED.negative)
    -- An unchanged row is not rewritten.
    WHERE c IS DISTINCT FROM EXCLUDED;
    IF NOT EXISTS (SELECT 1 FROM match_candidates_computed WHERE user_id = person) THEN
        DELETE FROM match_candidates WHERE user_id = person;
    END IF;
END
$$;

-- For the tables that hold a user_id (a row moved to another person
-- refreshes both).
CREATE FUNCTION match_candidate_source_changed()
    RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM refresh_match_candidate(OLD.user_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.user_id <> OLD.user_id) THEN
        PERFORM refresh_match_candidate(NEW.user_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION match_candidate_user_changed()
    RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM refresh_match_candidate(NEW.id);
    RETURN NULL;
END
$$;

-- A deleted user's row goes by the foreign key's cascade.
CREATE TRIGGER users_match_candidate
    AFTER UPDATE OF status, birth_date, home_latitude, home_longitude, distance_preference,
                    price_sensitivity, availability_preferences, min_lead_time_days
    ON users FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.birth_date IS DISTINCT FROM NEW.birth_date
          OR OLD.home_latitude IS DISTINCT FROM NEW.home_latitude
          OR OLD.home_longitude IS DISTINCT FROM NEW.home_longitude
          OR OLD.distance_preference IS DISTINCT FROM NEW.distance_preference
          OR OLD.price_sensitivity IS DISTINCT FROM NEW.price_sensitivity
          OR OLD.availability_preferences IS DISTINCT FROM NEW.availability_preferences
          OR OLD.min_lead_time_days IS DISTINCT FROM NEW.min_lead_time_days)
    EXECUTE FUNCTION match_candidate_user_changed();
CREATE TRIGGER social_profiles_match_candidate
    AFTER INSERT OR DELETE OR UPDATE OF id, user_id, gender, interested_in ON social_profiles
    FOR EACH ROW EXECUTE FUNCTION match_candidate_source_changed();
CREATE TRIGGER user_interest_vectors_match_candidate
    AFTER INSERT OR UPDATE OR DELETE ON user_interest_vectors
    FOR EACH ROW EXECUTE FUNCTION match_candidate_source_changed();
CREATE TRIGGER user_internal_metrics_match_candidate
    AFTER INSERT OR DELETE OR UPDATE OF user_id, absentee_rating, contribution_score
    ON user_internal_metrics
    FOR EACH ROW EXECUTE FUNCTION match_candidate_source_changed();

-- A place held at another event overlapping this one keeps a person out: the
-- search reads the events that end after this one starts.
CREATE INDEX events_holding_ends_at_idx ON events (ends_at)
    WHERE status IN ('published', 'completed');
