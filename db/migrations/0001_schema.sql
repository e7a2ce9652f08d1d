-- 0001_schema: Momento's core schema, from docs/DATA_MODELS.md plus what the API needs.
--
-- Runs inside one transaction (the runner wraps it). Targets PostgreSQL 18 +
-- pgvector 0.8.5, and also works on PostgreSQL 15+ (ON DELETE SET NULL (col)
-- needs 15).
--
-- Account deletion = DELETE FROM users: everything a person owns cascades
-- away; accounting (payments) and moderation records (reports, support
-- tickets) are kept with their user references set to NULL.
--
-- Conventions: uuid PKs default gen_random_uuid() (core since PG 13, no
-- pgcrypto); created_at/updated_at are timestamptz NOT NULL DEFAULT now() and
-- the application sets updated_at = now() on UPDATE (no triggers).
-- Vector columns are plain `vector` with no dimension: a later migration fixes
-- the dimension and adds ANN indexes once the embedding model is chosen.
-- Every FK column gets an index (or is the leading column of one) so that
-- cascades from a user/event deletion don't scan whole tables.

CREATE EXTENSION IF NOT EXISTS vector;


-- ═════════════════════════ 1. Users & profiles ═════════════════════════

CREATE TABLE users (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- E.164 (normalised by the application); the sign-in identity.
    phone_number             text NOT NULL UNIQUE,
    email                    text,
    last_name                text,
    birth_date               date,
    is_verified              boolean NOT NULL DEFAULT false,
    status                   text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'suspended', 'verification_pending', 'banned')),
    active_role              text NOT NULL DEFAULT 'participant'
        CHECK (active_role IN ('participant', 'host')),
    user_number              bigserial NOT NULL UNIQUE,
    payment_customer_id      text,
    min_lead_time_days       integer NOT NULL DEFAULT 3
        CHECK (min_lead_time_days BETWEEN 0 AND 365),
    availability_preferences jsonb NOT NULL DEFAULT '{}'
        CHECK (jsonb_typeof(availability_preferences) = 'object'),
    distance_preference      integer NOT NULL DEFAULT 25
        CHECK (distance_preference BETWEEN 1 AND 500),
    -- NULL means "show all price levels" (see the data model), so no default.
    price_sensitivity        integer
        CHECK (price_sensitivity BETWEEN 1 AND 4),
    -- Private centre of the distance filter.
    home_latitude            double precision
        CHECK (home_latitude BETWEEN -90 AND 90),
    home_longitude           double precision
        CHECK (home_longitude BETWEEN -180 AND 180),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    -- Half a coordinate is useless to the distance filter.
    CONSTRAINT users_home_coordinates_both_or_neither
        CHECK ((home_latitude IS NULL) = (home_longitude IS NULL))
);

CREATE TABLE waitlist_users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    phone_number text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Internal only; never served by the API.
CREATE TABLE user_internal_metrics (
    user_id                        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- NULL until first computed.
    absentee_rating                double precision,
    contribution_score             double precision,
    internal_attractiveness_rating double precision,
    updated_at                     timestamptz NOT NULL DEFAULT now()
);

-- Internal only; never served by the API.
CREATE TABLE user_interest_vectors (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A row exists only once its vector is computed.
    vector          vector NOT NULL,
    -- Which model produced `vector`: vectors of different models don't compare.
    embedding_model text,
    -- e.g. 'positive_v1', 'negative_v1'
    vector_type     text NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, vector_type)
);

CREATE TABLE social_profiles (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                    uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    first_name                 text,
    preferred_name             text,
    -- FKs to profile_photos are added after that table (circular reference).
    current_photo_id           uuid,
    current_face_card_photo_id uuid,
    bio                        text,
    gender                     text NOT NULL
        CHECK (gender IN ('Woman', 'Man', 'Non-binary', 'Transgender Woman', 'Transgender Man',
                          'Genderqueer', 'Genderfluid', 'Agender')),
    pronouns                   text,
    -- Multi-select from the same list as gender. `<@` is false for an array
    -- holding a NULL element, so NULL elements are rejected too.
    interested_in              text[] NOT NULL
        CHECK (cardinality(interested_in) >= 1
               AND interested_in <@ ARRAY['Woman', 'Man', 'Non-binary', 'Transgender Woman',
                                          'Transgender Man', 'Genderqueer', 'Genderfluid',
                                          'Agender']::text[]),
    occupation                 text,
    location                   text,
    -- social_profiles ids. An array can't carry an FK: ids of deleted
    -- profiles may linger here, so readers must join/filter.
    liked_profiles             uuid[] NOT NULL DEFAULT '{}',
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);
-- "Discover Your Type": profiles whose gender is in my interested_in.
CREATE INDEX social_profiles_gender_idx ON social_profiles (gender);

CREATE TABLE profile_photos (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    profile_id      uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    image_url       text NOT NULL,
    thumbnail_url   text,
    is_in_app_photo boolean NOT NULL DEFAULT false,
    -- Also the clock for the 12-month "Authentic" badge.
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Target of the composite FKs below.
    CONSTRAINT profile_photos_id_profile_id_key UNIQUE (id, profile_id)
);
CREATE INDEX profile_photos_profile_id_created_at_idx
    ON profile_photos (profile_id, created_at DESC);

-- The current photo / face card must be one of the profile's own photos,
-- hence composite FKs on (photo id, profile id). Deleting the photo clears
-- only the pointer column (SET NULL (col), PostgreSQL 15+), not social_profiles.id.
ALTER TABLE social_profiles
    ADD CONSTRAINT social_profiles_current_photo_fkey
        FOREIGN KEY (current_photo_id, id) REFERENCES profile_photos (id, profile_id)
        ON DELETE SET NULL (current_photo_id),
    ADD CONSTRAINT social_profiles_current_face_card_photo_fkey
        FOREIGN KEY (current_face_card_photo_id, id) REFERENCES profile_photos (id, profile_id)
        ON DELETE SET NULL (current_face_card_photo_id);
CREATE INDEX social_profiles_current_photo_id_idx
    ON social_profiles (current_photo_id) WHERE current_photo_id IS NOT NULL;
CREATE INDEX social_profiles_current_face_card_photo_id_idx
    ON social_profiles (current_face_card_photo_id) WHERE current_face_card_photo_id IS NOT NULL;


-- ═══════════════════════ Locations (needed by hosts) ═══════════════════════

CREATE TABLE locations (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name               text,
    address            text,
    latitude           double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude          double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    google_place_id    text,
    -- Locations are shared by hosts and stops, so they outlive their creator.
    created_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX locations_created_by_user_id_idx
    ON locations (created_by_user_id) WHERE created_by_user_id IS NOT NULL;
CREATE INDEX locations_google_place_id_idx
    ON locations (google_place_id) WHERE google_place_id IS NOT NULL;


CREATE TABLE host_profiles (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    host_type      text NOT NULL DEFAULT 'user' CHECK (host_type IN ('user', 'community')),
    host_name      text NOT NULL,
    host_bio       text,
    -- RESTRICT: a location in use by a host must not vanish under it.
    location_id    uuid REFERENCES locations (id) ON DELETE RESTRICT,
    -- NULL until the first rating; ratings are 1..5.
    average_rating double precision CHECK (average_rating BETWEEN 1 AND 5),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- A community host is a physical place.
    CONSTRAINT host_profiles_community_has_location
        CHECK (host_type <> 'community' OR location_id IS NOT NULL)
);
CREATE INDEX host_profiles_location_id_idx
    ON host_profiles (location_id) WHERE location_id IS NOT NULL;

CREATE TABLE host_photos (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    host_id    uuid NOT NULL REFERENCES host_profiles (id) ON DELETE CASCADE,
    image_url  text NOT NULL,
    photo_type text NOT NULL DEFAULT 'other'
        CHECK (photo_type IN ('logo', 'venue', 'promotional', 'other')),
    caption    text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX host_photos_host_id_idx ON host_photos (host_id);


-- ═════════════════════════════ 2. Interests ═════════════════════════════

CREATE TABLE interests (
    id              serial PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    -- Internal only. NULL until the embedding worker has run.
    vector          vector,
    embedding_model text
);
-- pg_trgm is not available in the embedded server, so no trigram index:
-- the catalog is small and `lower(name) LIKE '%q%'` scans it cheaply. This
-- index serves prefix search (`lower(name) LIKE 'q%'`) and ordering.
CREATE INDEX interests_lower_name_idx ON interests (lower(name) text_pattern_ops);

CREATE TABLE profile_interests (
    profile_id  uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    -- Removing an interest from the catalog removes it from profiles.
    interest_id integer NOT NULL REFERENCES interests (id) ON DELETE CASCADE,
    PRIMARY KEY (profile_id, interest_id)
);
CREATE INDEX profile_interests_interest_id_idx ON profile_interests (interest_id);


-- ═════════════════ 3/4. Events, itinerary, collaborators ═════════════════

CREATE TABLE events (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Deleting a host (or their account) deletes their events and, through
    -- the cascades below, everything hanging off them except payments.
    host_id              uuid NOT NULL REFERENCES host_profiles (id) ON DELETE CASCADE,
    title                text NOT NULL,
    description          text,
    -- Internal only. NULL until the embedding worker has run.
    event_vector         vector,
    embedding_model      text,
    status               text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'published', 'completed', 'cancelled')),
    min_attendees        integer CHECK (min_attendees >= 1),
    max_attendees        integer CHECK (max_attendees >= 1),
    age_min              integer CHECK (age_min >= 18),
    age_max              integer CHECK (age_max BETWEEN 18 AND 120),
    arrival_signpost     text,
    -- Cents; 0 = free (accepting confirms at once).
    confirmation_fee     integer NOT NULL DEFAULT 0 CHECK (confirmation_fee >= 0),
    -- e.g. {"range": "$$", "details": "for food"}; informational only.
    estimated_event_cost jsonb CHECK (jsonb_typeof(estimated_event_cost) = 'object'),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    published_at         timestamptz,
    cancelled_at         timestamptz,
    -- Per-event post counter: `UPDATE events SET last_post_seq = last_post_seq + 1
    -- ... RETURNING last_post_seq` allocates event_posts.seq gap-free under the row lock.
    last_post_seq        bigint NOT NULL DEFAULT 0 CHECK (last_post_seq >= 0),
    -- NULL on either side = not set yet (drafts); publish checks presence.
    CONSTRAINT events_attendees_min_le_max CHECK (min_attendees <= max_attendees),
    CONSTRAINT events_age_min_le_max CHECK (age_min <= age_max)
);
CREATE INDEX events_host_id_status_idx ON events (host_id, status);
-- The matching worker's working set: published events only.
CREATE INDEX events_published_idx ON events (status) WHERE status = 'published';

CREATE TABLE event_itinerary_stops (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id    uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    -- RESTRICT: a location in use by an itinerary must not vanish under it.
    location_id uuid NOT NULL REFERENCES locations (id) ON DELETE RESTRICT,
    "order"     integer NOT NULL CHECK ("order" >= 1),
    title       text,
    description text,
    start_time  timestamptz,
    end_time    timestamptz,
    CONSTRAINT event_itinerary_stops_end_after_start CHECK (end_time > start_time),
    -- DEFERRABLE (checked at end of statement, or of transaction after SET
    -- CONSTRAINTS ... DEFERRED) so stops can be renumbered in place, e.g.
    -- UPDATE ... SET "order" = "order" + 1. Consequence: it cannot be an
    -- ON CONFLICT arbiter.
    CONSTRAINT event_itinerary_stops_event_id_order_key UNIQUE (event_id, "order")
        DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX event_itinerary_stops_location_id_idx ON event_itinerary_stops (location_id);

CREATE TABLE event_collaborators (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id     uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    -- Set when the collaborator is a Momento user; their account deletion
    -- removes the collaboration.
    user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
    role         text,
    first_name   text,
    last_name    text,
    -- Visible to the host only.
    phone_number text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT event_collaborators_user_or_name
        CHECK (user_id IS NOT NULL OR first_name IS NOT NULL)
);
CREATE INDEX event_collaborators_event_id_idx ON event_collaborators (event_id);
CREATE INDEX event_collaborators_user_id_idx
    ON event_collaborators (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE invitations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id       uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    profile_id     uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    -- 'pending_payment' = accepted, seat held, waiting for Stripe.
    status         text NOT NULL DEFAULT 'sent'
        CHECK (status IN ('sent', 'pending_payment', 'confirmed', 'declined', 'expired',
                          'payment_failed', 'cancelled')),
    decline_reason text
        CHECK (decline_reason IN ('busy', 'not_interested', 'wants_variety', 'too_far',
                                  'too_expensive', 'other')),
    match_reason   text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    responded_at   timestamptz,
    UNIQUE (event_id, profile_id)
);
CREATE INDEX invitations_profile_id_status_idx ON invitations (profile_id, status);
CREATE INDEX invitations_event_id_status_idx ON invitations (event_id, status);
-- For the expiry sweeper: only open invitations can expire.
CREATE INDEX invitations_open_expires_at_idx
    ON invitations (expires_at) WHERE status IN ('sent', 'pending_payment');

CREATE TABLE attendance (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id               uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    profile_id             uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    status                 text NOT NULL
        CHECK (status IN ('attended', 'cancelled_late', 'no_show', 'check_in_abandoned')),
    check_in_latitude      double precision CHECK (check_in_latitude BETWEEN -90 AND 90),
    check_in_longitude     double precision CHECK (check_in_longitude BETWEEN -180 AND 180),
    -- The reporter's deletion must not erase the attendee's record.
    reported_by_profile_id uuid REFERENCES social_profiles (id) ON DELETE SET NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attendance_check_in_both_or_neither
        CHECK ((check_in_latitude IS NULL) = (check_in_longitude IS NULL)),
    UNIQUE (event_id, profile_id)
);
CREATE INDEX attendance_profile_id_idx ON attendance (profile_id);
CREATE INDEX attendance_reported_by_profile_id_idx
    ON attendance (reported_by_profile_id) WHERE reported_by_profile_id IS NOT NULL;


-- ═══════════════════════ 5. Feedback & messaging ═══════════════════════

CREATE TABLE ratings (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id           uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    rater_profile_id   uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    rated_host_id      uuid NOT NULL REFERENCES host_profiles (id) ON DELETE CASCADE,
    host_rating_value  integer NOT NULL CHECK (host_rating_value BETWEEN 1 AND 5),
    event_rating_value integer NOT NULL CHECK (event_rating_value BETWEEN 1 AND 5),
    comment            text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- One rating per attendee per event.
    UNIQUE (event_id, rater_profile_id)
);
CREATE INDEX ratings_rated_host_id_idx ON ratings (rated_host_id);
CREATE INDEX ratings_rater_profile_id_idx ON ratings (rater_profile_id);

CREATE TABLE attendee_kudos (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id            uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    giver_profile_id    uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    receiver_profile_id uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    -- From a fixed list kept in code.
    kudo                text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attendee_kudos_not_self CHECK (giver_profile_id <> receiver_profile_id),
    UNIQUE (event_id, giver_profile_id, receiver_profile_id, kudo)
);
CREATE INDEX attendee_kudos_receiver_profile_id_idx ON attendee_kudos (receiver_profile_id);
CREATE INDEX attendee_kudos_giver_profile_id_idx ON attendee_kudos (giver_profile_id);

CREATE TABLE event_posts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id   uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- May be blanked (NULL) once the post is soft-deleted.
    content    text,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Per-event sequence from events.last_post_seq; drives WebSocket replay.
    seq        bigint NOT NULL CHECK (seq >= 1),
    -- Client-chosen idempotency key (retries return the first post).
    client_id  uuid,
    -- Soft delete keeps the seq so replay has no holes.
    deleted_at timestamptz,
    CONSTRAINT event_posts_content_unless_deleted
        CHECK (content IS NOT NULL OR deleted_at IS NOT NULL),
    UNIQUE (event_id, seq),
    UNIQUE (user_id, client_id)
);

CREATE TABLE conversations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Per-conversation message counter, allocated like events.last_post_seq.
    last_seq   bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);

CREATE TABLE conversation_participants (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    profile_id      uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    -- Read receipt / unread_count = conversations.last_seq - last_read_seq.
    last_read_seq   bigint NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    joined_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, profile_id)
);
CREATE INDEX conversation_participants_profile_id_idx ON conversation_participants (profile_id);

CREATE TABLE messages (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id   uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- A deleted account's messages go with it.
    sender_profile_id uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    content           text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    seq               bigint NOT NULL CHECK (seq >= 1),
    client_id         uuid,
    UNIQUE (conversation_id, seq),
    UNIQUE (sender_profile_id, client_id)
);


-- ═════════════════════ 6. Connections & memories ═════════════════════

CREATE TABLE connections (
    id                                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Owner of this Memory Book entry.
    user_profile_id                          uuid NOT NULL
        REFERENCES social_profiles (id) ON DELETE CASCADE,
    connected_profile_id                     uuid NOT NULL
        REFERENCES social_profiles (id) ON DELETE CASCADE,
    -- Where they FIRST met. The entry (and its private notes) outlives the event.
    event_id                                 uuid REFERENCES events (id) ON DELETE SET NULL,
    connected_profile_snapshot_name          text,
    connected_profile_snapshot_face_card_url text,
    was_photo_authentic                      boolean NOT NULL DEFAULT false,
    is_favorite                              boolean NOT NULL DEFAULT false,
    wants_to_connect_again                   boolean NOT NULL DEFAULT false,
    does_not_want_to_connect_again           boolean NOT NULL DEFAULT false,
    -- Owner only.
    private_notes                            text,
    created_at                               timestamptz NOT NULL DEFAULT now(),
    updated_at                               timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT connections_not_self CHECK (user_profile_id <> connected_profile_id),
    -- The two signals contradict each other.
    CONSTRAINT connections_again_signals_exclusive
        CHECK (NOT (wants_to_connect_again AND does_not_want_to_connect_again)),
    -- One Memory Book entry per person met (also serves lookups by owner).
    UNIQUE (user_profile_id, connected_profile_id)
);
CREATE INDEX connections_connected_profile_id_idx ON connections (connected_profile_id);
CREATE INDEX connections_event_id_idx ON connections (event_id) WHERE event_id IS NOT NULL;

CREATE TABLE user_social_links (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id                   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform                  text NOT NULL,
    -- Only web links: no javascript:, data: or other schemes reach other apps.
    url                       text NOT NULL CHECK (url ~* '^https?://'),
    is_public_on_host_profile boolean NOT NULL DEFAULT false,
    created_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_social_links_user_id_idx ON user_social_links (user_id);

CREATE TABLE social_connections (
    -- Kept as a stable handle for the API, though the PK is the triple below.
    id                  uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    sharer_profile_id   uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    receiver_profile_id uuid NOT NULL REFERENCES social_profiles (id) ON DELETE CASCADE,
    social_link_id      uuid NOT NULL REFERENCES user_social_links (id) ON DELETE CASCADE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT social_connections_not_self CHECK (sharer_profile_id <> receiver_profile_id),
    -- Each link is shared once per person.
    PRIMARY KEY (sharer_profile_id, receiver_profile_id, social_link_id)
);
CREATE INDEX social_connections_receiver_profile_id_idx
    ON social_connections (receiver_profile_id);
CREATE INDEX social_connections_social_link_id_idx ON social_connections (social_link_id);

CREATE TABLE event_photos (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    event_id         uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    uploader_user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    image_url        text NOT NULL,
    status           text NOT NULL DEFAULT 'visible'
        CHECK (status IN ('visible', 'hidden_by_host', 'pending_review')),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_photos_event_id_created_at_idx ON event_photos (event_id, created_at);
CREATE INDEX event_photos_uploader_user_id_idx ON event_photos (uploader_user_id);


-- ═════════════════════ 7. Monetization & blocking ═════════════════════

CREATE TABLE payments (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- SET NULL, not CASCADE: payment records are kept for accounting after
    -- the payer, the event or the invitation is deleted.
    user_id                  uuid REFERENCES users (id) ON DELETE SET NULL,
    event_id                 uuid REFERENCES events (id) ON DELETE SET NULL,
    invitation_id            uuid REFERENCES invitations (id) ON DELETE SET NULL,
    amount_in_cents          integer NOT NULL CHECK (amount_in_cents >= 0),
    -- Stripe's lowercase ISO 4217 code.
    currency                 text NOT NULL DEFAULT 'usd' CHECK (currency ~ '^[a-z]{3}$'),
    status                   text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled', 'refunded', 'disputed')),
    stripe_charge_id         text UNIQUE,
    stripe_payment_intent_id text UNIQUE,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_user_id_created_at_idx ON payments (user_id, created_at DESC);
-- For the sweeper that releases seats held by stale pending payments.
CREATE INDEX payments_pending_created_at_idx
    ON payments (status, created_at) WHERE status = 'pending';
CREATE INDEX payments_event_id_idx ON payments (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX payments_invitation_id_idx ON payments (invitation_id) WHERE invitation_id IS NOT NULL;

CREATE TABLE blocked_users (
    blocker_user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT blocked_users_not_self CHECK (blocker_user_id <> blocked_user_id),
    PRIMARY KEY (blocker_user_id, blocked_user_id)
);
-- "Did anyone block me?" (blocks are checked in both directions).
CREATE INDEX blocked_users_blocked_user_id_idx ON blocked_users (blocked_user_id);

CREATE TABLE reports (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- SET NULL: moderation history outlives the accounts and events involved.
    reporter_user_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    reported_user_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    category            text NOT NULL
        CHECK (category IN ('harassment', 'spam', 'inappropriate_content', 'fake_profile',
                            'safety_concern', 'no_show', 'other')),
    comments            text,
    status              text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'reviewing', 'resolved', 'dismissed')),
    event_id            uuid REFERENCES events (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    resolved_at         timestamptz,
    resolved_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    client_id           uuid,
    UNIQUE (reporter_user_id, client_id)
);
CREATE INDEX reports_status_created_at_idx ON reports (status, created_at);
CREATE INDEX reports_reported_user_id_idx ON reports (reported_user_id);
CREATE INDEX reports_event_id_idx ON reports (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX reports_resolved_by_user_id_idx
    ON reports (resolved_by_user_id) WHERE resolved_by_user_id IS NOT NULL;


-- ═════════════════════ 8. App support & moderation ═════════════════════

CREATE TABLE support_tickets (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- User-facing "#1001"; the sequence is restarted at 1001 below.
    ticket_number         bigserial NOT NULL UNIQUE,
    -- SET NULL: tickets are kept after the account is deleted.
    submitter_user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    reply_to_email        text,
    category              text NOT NULL
        CHECK (category IN ('technical_issue', 'payment_question', 'hosting_question',
                            'account_issue', 'safety', 'other')),
    body                  text NOT NULL,
    status                text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'open', 'resolved', 'closed')),
    associated_event_id   uuid REFERENCES events (id) ON DELETE SET NULL,
    associated_payment_id uuid REFERENCES payments (id) ON DELETE SET NULL,
    metadata              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    client_id             uuid,
    UNIQUE (submitter_user_id, client_id)
);
-- START too, so a bare `ALTER SEQUENCE ... RESTART` also goes back to 1001.
ALTER SEQUENCE support_tickets_ticket_number_seq START WITH 1001 RESTART WITH 1001;
CREATE INDEX support_tickets_submitter_user_id_created_at_idx
    ON support_tickets (submitter_user_id, created_at DESC);
CREATE INDEX support_tickets_status_created_at_idx ON support_tickets (status, created_at);
CREATE INDEX support_tickets_associated_event_id_idx
    ON support_tickets (associated_event_id) WHERE associated_event_id IS NOT NULL;
CREATE INDEX support_tickets_associated_payment_id_idx
    ON support_tickets (associated_payment_id) WHERE associated_payment_id IS NOT NULL;


-- ═══════════════════════════ 10. Notifications ═══════════════════════════

CREATE TABLE push_notification_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Expo push token. Globally unique: a device that changes hands is
    -- re-registered to the new user (upsert on token).
    token        text NOT NULL UNIQUE,
    platform     text NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
    device_id    text,
    -- false once Expo reports DeviceNotRegistered.
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX push_notification_tokens_active_user_id_idx
    ON push_notification_tokens (user_id) WHERE is_active;
-- Unfiltered one too, for the ON DELETE CASCADE from users (inactive rows included).
CREATE INDEX push_notification_tokens_user_id_idx ON push_notification_tokens (user_id);

-- Only overrides are stored; a missing (user_id, category) row means the
-- defaults, which live in code.
CREATE TABLE user_notification_settings (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category     text NOT NULL
        CHECK (category IN ('invitations', 'payments', 'event_updates', 'event_reminders',
                            'event_posts', 'direct_messages', 'kudos', 'ratings')),
    push_enabled boolean NOT NULL,
    sms_enabled  boolean NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, category)
);


-- ═════════════════════════ Auth & operations ═════════════════════════

-- Sign-in codes. Keyed by phone number, not user: the user may not exist yet.
CREATE TABLE otp_codes (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    phone_number text NOT NULL,
    -- Never the code itself. NULL when the SMS provider (Twilio Verify) keeps
    -- and checks the code; attempts and expiry are still counted here.
    code_hash    text,
    expires_at   timestamptz NOT NULL,
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    consumed_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- Latest code for a number, and the per-number send rate limit.
CREATE INDEX otp_codes_phone_number_created_at_idx ON otp_codes (phone_number, created_at DESC);

-- One per sign-in: a refresh-token family. Revoking the session (logout, or
-- reuse of a rotated refresh token) kills every token of the family.
CREATE TABLE auth_sessions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_refreshed_at timestamptz,
    revoked_at        timestamptz,
    revoked_reason    text,
    user_agent        text
);
CREATE INDEX auth_sessions_user_id_idx ON auth_sessions (user_id);

CREATE TABLE refresh_tokens (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    -- Never the token itself.
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- Set on rotation; presenting a used token again = theft, revoke the session.
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

CREATE TABLE staff_accounts (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'moderator', 'support')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Webhook idempotency: insert (ON CONFLICT DO NOTHING) in the same
-- transaction that applies the event; no row inserted = already applied.
CREATE TABLE processed_webhook_events (
    provider     text NOT NULL,
    event_id     text NOT NULL,
    event_type   text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);
