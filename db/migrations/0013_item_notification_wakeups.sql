-- Wake the push worker for a new post or message only when nothing was
-- queued before it. A transaction that NOTIFYs takes a database-wide lock at
-- commit, so a NOTIFY per stored item made every post and message in the
-- database commit one after another; while rows wait, the worker is draining
-- the queue (it keeps taking until a round finds nothing) and needs no call.
-- The one miss (an item committing just after the worker's last empty round,
-- having seen that round's rows before they were deleted) waits for the
-- worker's idle poll, at most IDLE_POLL_SECONDS (workers/push/sender.py).

CREATE OR REPLACE FUNCTION queue_item_notification() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    queued bigint;
BEGIN
    INSERT INTO notification_sources (kind, item_id) VALUES (TG_ARGV[0], NEW.id)
        RETURNING id INTO queued;
    IF NOT EXISTS (SELECT 1 FROM notification_sources WHERE id < queued) THEN
        PERFORM pg_notify('momento_notifications', '');
    END IF;
    RETURN NULL;
END
$$;
