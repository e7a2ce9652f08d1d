-- The in-app inbox, the delivery outbox, Expo push tickets and sent SMS.
--
-- `notify()` (server/notifications/notify.py) writes an inbox row and its
-- outbox row in the caller's transaction: a rolled-back change sends nothing,
-- a committed one is delivered by the push worker (workers/push/sender.py).

CREATE TABLE notifications (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text NOT NULL,
    category        text NOT NULL
        CHECK (category IN ('invitations', 'payments', 'event_updates', 'event_reminders',
                            'event_posts', 'direct_messages', 'kudos', 'ratings')),
    title           text NOT NULL,
    body            text NOT NULL,
    data            jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Notifications with a key collapse: while one is unread, the next one
    -- of the same key updates it (new posts on one event, messages of one
    -- conversation) and counts how many it stands for.
    collapse_key    text,
    collapsed_count integer NOT NULL DEFAULT 1 CHECK (collapsed_count >= 1),
    -- Scheduled notifications (reminders, expiring invitations) carry one, so
    -- a job that runs twice writes one row.
    dedupe_key      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Last change (a collapse): the inbox is ordered by it.
    updated_at      timestamptz NOT NULL DEFAULT now(),
    read_at         timestamptz
);
CREATE INDEX notifications_user_id_updated_at_idx ON notifications (user_id, updated_at DESC, id DESC);
CREATE INDEX notifications_unread_user_id_idx ON notifications (user_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX notifications_unread_collapse_key_idx
    ON notifications (user_id, collapse_key) WHERE read_at IS NULL AND collapse_key IS NOT NULL;
CREATE UNIQUE INDEX notifications_dedupe_key_idx
    ON notifications (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

-- Notifications still to deliver (live frame, push, SMS). A worker claims a
-- row by moving `available_at` past a lease; it deletes the row once every
-- channel is done, or moves `available_at` to the next retry.
CREATE TABLE notification_deliveries (
    notification_id uuid PRIMARY KEY REFERENCES notifications (id) ON DELETE CASCADE,
    attempts        integer NOT NULL DEFAULT 0,
    available_at    timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_deliveries_available_at_idx ON notification_deliveries (available_at);

-- One per push message Expo accepted or refused; receipts are checked later.
CREATE TABLE push_tickets (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    notification_id    uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    token              text NOT NULL,
    -- Expo's receipt id; NULL when the ticket itself was an error.
    ticket_id          text,
    status             text NOT NULL CHECK (status IN ('ok', 'error')),
    error              text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    receipt_checked_at timestamptz,
    receipt_status     text CHECK (receipt_status IN ('ok', 'error')),
    receipt_error      text
);
CREATE INDEX push_tickets_unchecked_idx
    ON push_tickets (created_at) WHERE ticket_id IS NOT NULL AND receipt_checked_at IS NULL;
CREATE INDEX push_tickets_notification_id_idx ON push_tickets (notification_id);

-- SMS sent for notifications: at most one per notification, and the per-user daily cap.
CREATE TABLE notification_sms (
    notification_id uuid PRIMARY KEY REFERENCES notifications (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sent_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_sms_user_id_sent_at_idx ON notification_sms (user_id, sent_at);
